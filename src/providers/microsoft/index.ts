// Builds Muster's Microsoft 365 providers for one tenant from a plain config; the composition root calls it and nothing here reads process.env.
import { MusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';
import { DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_BASE_URL, GRAPH_DELEGATED_WORKBOOK_SCOPES } from './constants.js';
import { GraphAuth } from './graph-auth.js';
import { GraphCalendar } from './graph-calendar.js';
import { type GraphClientOptions, MusterGraphClient } from './graph-client.js';
import { GraphDirectory, readUndeliverableAddresses } from './graph-directory.js';
import { GraphMailer } from './graph-mailer.js';
import { GraphRecords, type RecordsProgram } from './graph-records.js';

export { GraphAuth, parseAdminConsentReturn, toAuthError, type AdminConsentResult } from './graph-auth.js';
export { GraphCalendar, MICROSOFT_PROVIDER, toGraphEvent, transactionIdFor } from './graph-calendar.js';
export { MusterGraphClient, toMusterError, parseRetryAfter, type RetryMode, type BatchItem, type BatchItemResult } from './graph-client.js';
export { GraphDirectory, readUndeliverableAddresses } from './graph-directory.js';
export { GraphMailer, MESSAGE_KEY_PROPERTY_ID, toGraphMessage } from './graph-mailer.js';
export { GraphRecords, HOLDER_SHEET, type RecordsProgram } from './graph-records.js';
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
  /** Overrides SENT_COPY_FINDABLE_AFTER_MS: how long a send that cannot be found is still taken as possibly sent. */
  sentCopyFindableAfterMs?: number;
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
  /** The configured workbook, not bound to a program; null when no workbook is configured. */
  records: GraphRecords | null;
  /** A program's records workbook (its own, an item id or driveId/itemId, else the configured one); null when it has neither. */
  recordsFor: (workbook?: string | null, program?: RecordsProgram) => GraphRecords | null;
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
  const mailer = new GraphMailer({ client, organizer: cfg.organizer, logger, ...(cfg.sentCopyFindableAfterMs === undefined ? {} : { findableAfterMs: cfg.sentCopyFindableAfterMs }) });
  const directory = new GraphDirectory({ client, logger });
  let workbookClient: MusterGraphClient | undefined;
  const workbooks = () =>
    (workbookClient ??= cfg.appOnlyWorkbook
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
        }));
  const built = new Map<string, GraphRecords>();
  /**
   * The records store of a workbook for a program, built once per pair: `workbook` is an item id on the configured
   * drive or driveId/itemId; without one, the configured workbook, or null when none is configured (a local .xlsx then).
   * With a program it marks the workbook as that program's and refuses one another program holds.
   */
  const recordsFor = (workbook?: string | null, program?: RecordsProgram): GraphRecords | null => {
    const at = workbookOf(workbook, cfg.workbook);
    if (!at) return null;
    const cacheKey = `${at.driveId}/${at.itemId}\u0000${program?.id ?? ''}`;
    let records = built.get(cacheKey);
    if (!records) {
      records = new GraphRecords({ client: workbooks(), driveId: at.driveId, itemId: at.itemId, logger, ...(program ? { program } : {}) });
      built.set(cacheKey, records);
    }
    return records;
  };
  return {
    calendar,
    mailer,
    directory,
    records: recordsFor(),
    recordsFor,
    auth,
    client,
    readUndeliverable: (sinceIso?: string) => readUndeliverableAddresses(client, cfg.organizer, { logger, ...(sinceIso ? { sinceIso } : {}) }),
  };
}

/** Where a program's workbook is: driveId/itemId, an item id on the configured drive, or the configured workbook. */
function workbookOf(workbook: string | null | undefined, configured: { driveId: string; itemId: string } | undefined): { driveId: string; itemId: string } | null {
  if (!workbook) return configured ?? null;
  const [first, second, ...rest] = workbook.split('/');
  if (rest.length === 0 && first && second) return { driveId: first, itemId: second };
  if (rest.length === 0 && first && !second && configured) return { driveId: configured.driveId, itemId: first };
  throw new MusterError('VALIDATION_FAILED', `recordsSheet '${workbook}' does not say where the workbook is: give driveId/itemId${configured ? ', or an item id on the configured drive' : ' (MS_WORKBOOK_DRIVE_ID is not set, so a bare item id has no drive)'}.`, {
    details: [{ field: 'recordsSheet', message: configured ? 'use itemId or driveId/itemId' : 'use driveId/itemId' }],
  });
}
