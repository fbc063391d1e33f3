// Turns Muster's configuration into the Microsoft 365 provider set the use cases see; read only by the composition root.
import { readFileSync } from 'node:fs';
import type { ProviderSet, SendLimits } from '../../app/context.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../ports/index.js';
import { createXlsxRecords } from '../local/xlsx-records.js';
import { createMicrosoftProviders } from './index.js';

export function buildMicrosoftProviderSet(config: Config, logger: Logger, limits: SendLimits): ProviderSet {
  const ms = createMicrosoftProviders(
    {
      tenantId: config.MS_TENANT_ID!,
      clientId: config.MS_CLIENT_ID!,
      ...(config.MS_CLIENT_SECRET ? { clientSecret: config.MS_CLIENT_SECRET } : {}),
      ...(config.MS_CERTIFICATE_FILE ? { certificatePem: readFileSync(config.MS_CERTIFICATE_FILE, 'utf8') } : {}),
      ...(config.MS_CERTIFICATE_THUMBPRINT ? { certificateThumbprint: config.MS_CERTIFICATE_THUMBPRINT } : {}),
      ...(config.MS_PRIVATE_KEY_FILE ? { privateKeyPem: readFileSync(config.MS_PRIVATE_KEY_FILE, 'utf8') } : {}),
      organizer: config.MS_ORGANIZER!,
      authorityHost: config.MS_AUTHORITY_HOST,
      graphBaseUrl: config.GRAPH_BASE_URL,
      addinId: config.MS_ADDIN_ID,
      ...(config.MS_WORKBOOK_DRIVE_ID && config.MS_WORKBOOK_ITEM_ID ? { workbook: { driveId: config.MS_WORKBOOK_DRIVE_ID, itemId: config.MS_WORKBOOK_ITEM_ID } } : {}),
      appOnlyWorkbook: config.MS_APP_ONLY_WORKBOOK,
      sentCopyFindableAfterMs: config.MS_SENT_COPY_FINDABLE_AFTER_MS,
    },
    { logger },
  );
  return {
    calendar: ms.calendar,
    mailer: ms.mailer,
    directory: ms.directory,
    // A program's own workbook, else the configured one (either holds one program's tabs, marked there); without
    // either the records stay in a local .xlsx per program next to the data.
    recordsFor: (code, recordsSheet, programId) => ms.recordsFor(recordsSheet, programId ? { id: programId, code } : undefined) ?? createXlsxRecords(`${config.recordsDir}/${code}.xlsx`),
    sender: { email: config.MS_ORGANIZER!, name: 'Training coordination' },
    limits,
    renderInvitation: null,
    undeliverable: () => ms.readUndeliverable(),
  };
}
