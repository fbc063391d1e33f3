// Builds Muster's Microsoft 365 providers for one tenant from a plain config; the composition root calls it and nothing here reads process.env.
import { MusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';
import { DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_BASE_URL, GRAPH_DELEGATED_WORKBOOK_SCOPES } from './constants.js';
import { GraphAuth } from './graph-auth.js';
import { GraphCalendar } from './graph-calendar.js';
import { type GraphClientOptions, MusterGraphClient } from './graph-client.js';
import { GraphDirectory, readUndeliverableAddresses } from './graph-directory.js';
import { GraphMailer } from './graph-mailer.js';
import { GraphRecords } from './graph-records.js';

export { GraphAuth, parseAdminConsentReturn, toAuthError, type AdminConsentResult } from './graph-auth.js';
export { GraphCalendar, MICROSOFT_PROVIDER, toGraphEvent, transactionIdFor } from './graph-calendar.js';
export { MusterGraphClient, toMusterError, parseRetryAfter, type RetryMode, type BatchItem, type BatchItemResult } from './graph-client.js';
export { GraphDirectory, readUndeliverableAddresses } from './graph-directory.js';
export { GraphMailer, MESSAGE_KEY_PROPERTY_ID, toGraphMessage } from './graph-mailer.js';
export { GraphRecords } from './graph-records.js';
export { CREATE_KEY_PROPERTY_ID, addinPropertyId } from './constants.js';

export interface MicrosoftConfig {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  certificatePem?: string;
  certificateThumbprint?: string;
  privateKeyPem?: string;
  /** The mailbox that owns the events and sends the mail (MS_ORGANIZER). */
  organizer: string;
  /** MS_AUTHORITY_HOST, default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** GRAPH_BASE_URL (origin, no /v1.0), default https://graph.microsoft.com. */
  graphBaseUrl?: string;
  /** The Outlook add-in's manifest id (for adopting meetings sent from Outlook); null turns adoption off. */
  addinId: string | null;
  workbook?: { driveId: string; itemId: string };
  /** Use the app-only token for the workbook (not documented as supported by Microsoft; off by default). */
  appOnlyWorkbook: boolean;
}

export interface MicrosoftDeps {
  logger: Logger;
  /** The signed-in coordinator's Muster API token, for on-behalf-of workbook access; null when nobody is signed in. */
  coordinatorToken?: () => Promise<string | null>;
  /** Test and benchmark hooks for the Graph client (sleep, backoff); production leaves them alone. */
  clientTuning?: Partial<Omit<GraphClientOptions, 'getToken' | 'logger' | 'baseUrl'>>;
}

export interface MicrosoftProviders {
  calendar: GraphCalendar;
  mailer: GraphMailer;
  directory: GraphDirectory;
  /** null when no workbook is configured. */
  records: GraphRecords | null;
  auth: GraphAuth;
  /** The app-only Graph client (for readers such as readUndeliverableAddresses). */
  client: MusterGraphClient;
  /** Addresses non-delivery reports in the organizer's inbox name. */
  readUndeliverable: (sinceIso?: string) => Promise<string[]>;
}

export function createMicrosoftProviders(cfg: MicrosoftConfig, deps: MicrosoftDeps): MicrosoftProviders {
  if (!cfg.tenantId || !cfg.clientId || !cfg.organizer) {
    throw new MusterError('CONFIG_INVALID', 'Microsoft 365 needs a tenant id, a client id and an organizer mailbox.');
  }
  const logger = deps.logger;
  const auth = new GraphAuth({
    authorityHost: cfg.authorityHost ?? DEFAULT_AUTHORITY_HOST,
    logger,
    credential: {
      clientId: cfg.clientId,
      ...(cfg.clientSecret ? { clientSecret: cfg.clientSecret } : {}),
      ...(cfg.certificatePem ? { certificatePem: cfg.certificatePem } : {}),
      ...(cfg.certificateThumbprint ? { certificateThumbprint: cfg.certificateThumbprint } : {}),
      ...(cfg.privateKeyPem ? { privateKeyPem: cfg.privateKeyPem } : {}),
    },
  });
  const baseUrl = cfg.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL;
  const client = new MusterGraphClient({ ...(deps.clientTuning ?? {}), baseUrl, logger, getToken: () => auth.appToken(cfg.tenantId) });
  const calendar = new GraphCalendar({
    client,
    organizer: cfg.organizer,
    addinId: cfg.addinId,
    logger,
    checkCredentials: async () => {
      await auth.appToken(cfg.tenantId);
    },
  });
  const mailer = new GraphMailer({ client, organizer: cfg.organizer, logger });
  const directory = new GraphDirectory({ client, logger });
  let records: GraphRecords | null = null;
  if (cfg.workbook) {
    const workbookClient = cfg.appOnlyWorkbook
      ? client
      : new MusterGraphClient({
          ...(deps.clientTuning ?? {}),
          baseUrl,
          logger,
          getToken: async () => {
            const userToken = deps.coordinatorToken ? await deps.coordinatorToken() : null;
            if (!userToken) {
              throw new MusterError('PROVIDER_AUTH_FAILED', 'The Excel records workbook is written with the coordinator\'s own access: a coordinator must be signed in (or an administrator enables app-only workbook access).');
            }
            return auth.onBehalfOf(cfg.tenantId, userToken, GRAPH_DELEGATED_WORKBOOK_SCOPES);
          },
        });
    records = new GraphRecords({ client: workbookClient, driveId: cfg.workbook.driveId, itemId: cfg.workbook.itemId, logger });
  }
  return {
    calendar,
    mailer,
    directory,
    records,
    auth,
    client,
    readUndeliverable: (sinceIso?: string) => readUndeliverableAddresses(client, cfg.organizer, { logger, ...(sinceIso ? { sinceIso } : {}) }),
  };
}
