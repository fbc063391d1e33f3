// Builds Muster's Google providers (calendar, mailer, directory, records) from one validated config; the only place googleapis clients are constructed, and it reads no environment itself.
import { google } from 'googleapis';
import type { Logger } from '../../ports/index.js';
import { MusterError } from '../../domain/errors.js';
import { CLIENT_SCOPES, createJwtClient, parseServiceAccountKey } from './google-auth.js';
import { GoogleCalendar } from './google-calendar.js';
import { GmailMailer } from './gmail-mailer.js';
import { GoogleDirectory } from './google-directory.js';
import { GoogleSheetsRecords, type RecordsProgram } from './google-sheets-records.js';
import type { RetryDeps } from './google-errors.js';

export { SCOPES, CLIENT_SCOPES, DELEGATION_SCOPES } from './google-auth.js';
export { handleGoogleError, toMusterError, withRetry, isRetryable, pausesMailbox, GoogleProviderError } from './google-errors.js';
export { GoogleCalendar, eventIdForKey } from './google-calendar.js';
export { GmailMailer } from './gmail-mailer.js';
export { GoogleDirectory } from './google-directory.js';
export { GoogleSheetsRecords, MUSTER_KEY, MUSTER_PROGRAM, MUSTER_PROGRAM_CODE, type RecordsProgram } from './google-sheets-records.js';

export interface GoogleConfig {
  /** The parsed service account key file (GOOGLE_SERVICE_ACCOUNT_KEY_FILE). */
  serviceAccountKey: unknown;
  /** The coordinator's address Muster acts as (GOOGLE_IMPERSONATE). */
  impersonate: string;
  /** A Workspace admin with a read-only role, for Directory calls (GOOGLE_DIRECTORY_SUBJECT). */
  directorySubject?: string;
  /** The configured records spreadsheet (GOOGLE_SPREADSHEET_ID): programs without a Sheet of their own use it, one program only. */
  spreadsheetId: string;
  /** One root for every Google API client (GOOGLE_API_ROOT_URL); Google's own when absent. */
  rootUrl?: string;
  /** OAuth token endpoint (GOOGLE_TOKEN_URL); Google's own when absent. */
  tokenUrl?: string;
}

export interface GoogleDeps {
  logger: Logger;
  /** Waits between retries; tests pass one that advances a simulated clock. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export function createGoogleProviders(cfg: GoogleConfig, deps: GoogleDeps) {
  if (!cfg.impersonate) throw new MusterError('CONFIG_INVALID', 'GOOGLE_IMPERSONATE (the coordinator Muster acts as) is required.', { details: [{ field: 'GOOGLE_IMPERSONATE', message: 'required' }] });
  if (!cfg.spreadsheetId) throw new MusterError('CONFIG_INVALID', 'GOOGLE_SPREADSHEET_ID is required.', { details: [{ field: 'GOOGLE_SPREADSHEET_ID', message: 'required' }] });
  const key = parseServiceAccountKey(cfg.serviceAccountKey);
  const retry: RetryDeps = {
    logger: deps.logger,
    sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: deps.random ?? Math.random,
  };
  // gaxios retries GETs on its own; Muster's retry helper decides instead, so nothing is retried twice.
  const common = { rootUrl: cfg.rootUrl, retry: false } as const;
  const as = (subject: string, scopes: readonly string[]) => createJwtClient(key, subject, scopes, cfg.tokenUrl);

  const calendar = new GoogleCalendar({
    calendar: google.calendar({ version: 'v3', auth: as(cfg.impersonate, CLIENT_SCOPES.calendar), ...common }),
    calendarId: cfg.impersonate,
    retry,
  });
  const mailer = new GmailMailer({ gmail: google.gmail({ version: 'v1', auth: as(cfg.impersonate, CLIENT_SCOPES.gmail), ...common }), retry });
  const directory = new GoogleDirectory({
    directory: cfg.directorySubject ? google.admin({ version: 'directory_v1', auth: as(cfg.directorySubject, CLIENT_SCOPES.directory), ...common }) : undefined,
    retry,
  });
  const sheets = google.sheets({ version: 'v4', auth: as(cfg.impersonate, CLIENT_SCOPES.sheets), ...common });
  const built = new Map<string, GoogleSheetsRecords>();
  /**
   * The records store of a spreadsheet (the configured one when none is named) for a program, built once per pair; with a
   * program it marks the spreadsheet as that program's and refuses one another program holds.
   */
  const recordsFor = (spreadsheetId?: string | null, program?: RecordsProgram): GoogleSheetsRecords => {
    if (spreadsheetId && !GOOGLE_FILE_ID.test(spreadsheetId)) {
      throw new MusterError('VALIDATION_FAILED', `recordsSheet '${spreadsheetId}' is not a Google Sheet id: use the Sheet's address (https://docs.google.com/spreadsheets/d/…) or the id in it.`, { details: [{ field: 'recordsSheet', message: 'not a Google Sheet id' }] });
    }
    const id = spreadsheetId || cfg.spreadsheetId;
    const cacheKey = `${id}\u0000${program?.id ?? ''}`;
    let records = built.get(cacheKey);
    if (!records) {
      records = new GoogleSheetsRecords({ sheets, spreadsheetId: id, owner: cfg.impersonate, retry, ...(program ? { program } : {}) });
      built.set(cacheKey, records);
    }
    return records;
  };
  return { calendar, mailer, directory, records: recordsFor(), recordsFor };
}

/** What a Google Drive file id is made of. */
const GOOGLE_FILE_ID = /^[A-Za-z0-9_-]+$/;
