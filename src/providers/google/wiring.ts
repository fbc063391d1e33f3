// Turns Muster's configuration into the Google Workspace provider set the use cases see; read only by the composition root.
import { readFileSync } from 'node:fs';
import type { ProviderSet, SendLimits } from '../../app/context.js';
import type { Config } from '../../config.js';
import { MusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';
import { createGoogleProviders } from './index.js';

export function buildGoogleProviderSet(config: Config, logger: Logger, limits: SendLimits): ProviderSet {
  let key: unknown;
  try {
    key = JSON.parse(readFileSync(config.GOOGLE_SERVICE_ACCOUNT_KEY_FILE!, 'utf8'));
  } catch (err) {
    throw new MusterError('CONFIG_INVALID', `GOOGLE_SERVICE_ACCOUNT_KEY_FILE could not be read as a service account key (${(err as Error).message})`, {
      details: [{ field: 'GOOGLE_SERVICE_ACCOUNT_KEY_FILE', message: 'not a readable JSON key file' }],
    });
  }
  const g = createGoogleProviders(
    {
      serviceAccountKey: key,
      impersonate: config.GOOGLE_IMPERSONATE!,
      ...(config.GOOGLE_DIRECTORY_SUBJECT ? { directorySubject: config.GOOGLE_DIRECTORY_SUBJECT } : {}),
      spreadsheetId: config.GOOGLE_SPREADSHEET_ID!,
      ...(config.GOOGLE_API_ROOT_URL ? { rootUrl: config.GOOGLE_API_ROOT_URL } : {}),
      tokenUrl: config.GOOGLE_TOKEN_URL,
    },
    { logger },
  );
  return {
    calendar: g.calendar,
    mailer: g.mailer,
    directory: config.GOOGLE_DIRECTORY_SUBJECT ? g.directory : null,
    // One shared Sheet holds the records (one Sheet per program: set GOOGLE_SPREADSHEET_ID per deployment).
    recordsFor: () => g.records,
    sender: { email: config.GOOGLE_IMPERSONATE!, name: 'Training coordination' },
    limits,
    renderInvitation: null,
  };
}
