// Picks the local providers for a data folder (ICS calendar, SMTP or .eml outbox, .xlsx records); it reads no environment and starts nothing in the background.
import { basename, join } from 'node:path';
import { MusterError } from '../../domain/errors.js';
import type { CalendarPort, Logger, MailerPort, RecordsPort } from '../../ports/index.js';
import { createIcsCalendar } from './ics-calendar.js';
import { createOutboxMailer } from './outbox-mailer.js';
import { createSmtpMailer } from './smtp-mailer.js';
import { createXlsxRecords } from './xlsx-records.js';

export { buildProgramFeed, buildSessionInvite } from './ics.js';
export { toSessionInvite, uidForCreateKey } from './ics-calendar.js';
export { signRsvpToken, verifyRsvpToken } from './rsvp-token.js';

export const OUTBOX_FOLDER = 'outbox';
export const RECORDS_FOLDER = 'records';

export interface LocalProvidersConfig {
  dataDir: string;
  /** smtp://user:pass@host:port or smtps://…; null or absent writes .eml files to the outbox instead. */
  smtpUrl?: string | null;
  logger: Logger;
}

export interface LocalProviders {
  calendar: CalendarPort;
  mailer: MailerPort;
  /** The records workbook `<dataDir>/records/<relativeName>` (".xlsx" added when missing). */
  recordsFor(relativeName: string): RecordsPort;
  /** Where .eml files go when there is no SMTP_URL (the folder exists once the first message is written). */
  outboxDir: string;
}

function assertWorkbookName(name: string): string {
  const withExt = name.toLowerCase().endsWith('.xlsx') ? name : `${name}.xlsx`;
  if (!name || basename(withExt) !== withExt || withExt.startsWith('.') || /[\\/:*?"<>|\u0000-\u001f]/.test(withExt)) {
    throw new MusterError('VALIDATION_FAILED', 'A records workbook name must be a plain file name inside the records folder.', {
      details: [{ field: 'relativeName', message: `"${name}" is not a plain file name.` }],
    });
  }
  return withExt;
}

export function createLocalProviders(cfg: LocalProvidersConfig): LocalProviders {
  const outboxDir = join(cfg.dataDir, OUTBOX_FOLDER);
  const recordsDir = join(cfg.dataDir, RECORDS_FOLDER);
  const mailer = cfg.smtpUrl ? createSmtpMailer(cfg.smtpUrl, cfg.logger) : createOutboxMailer(outboxDir, cfg.logger);
  const records = new Map<string, RecordsPort>();
  return {
    calendar: createIcsCalendar(),
    mailer,
    outboxDir,
    recordsFor(relativeName: string): RecordsPort {
      const name = assertWorkbookName(relativeName);
      let port = records.get(name);
      if (!port) {
        port = createXlsxRecords(join(recordsDir, name));
        records.set(name, port);
      }
      return port;
    },
  };
}
