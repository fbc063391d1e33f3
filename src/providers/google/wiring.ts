// Turns Muster's validated configuration into the Google provider set the composition root asks for; it reads the key file once and holds no other state.
import { readFileSync } from 'node:fs';
import type { Config } from '../../config.js';
import type { ProviderSet, SendLimits } from '../../app/context.js';
import { MusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';
import { createGoogleProviders } from './index.js';

function readKeyFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new MusterError('CONFIG_INVALID', 'GOOGLE_SERVICE_ACCOUNT_KEY_FILE could not be read as a JSON key file.', {
      cause: err,
      details: [{ field: 'GOOGLE_SERVICE_ACCOUNT_KEY_FILE', message: 'unreadable or not JSON' }],
    });
  }
}

export async function buildGoogleProviderSet(config: Config, logger: Logger, limits: SendLimits): Promise<ProviderSet> {
  const providers = createGoogleProviders(
    {
      serviceAccountKey: readKeyFile(config.GOOGLE_SERVICE_ACCOUNT_KEY_FILE ?? ''),
      impersonate: config.GOOGLE_IMPERSONATE ?? '',
      directorySubject: config.GOOGLE_DIRECTORY_SUBJECT || undefined,
      spreadsheetId: config.GOOGLE_SPREADSHEET_ID ?? '',
      rootUrl: config.GOOGLE_API_ROOT_URL,
      tokenUrl: config.GOOGLE_TOKEN_URL,
    },
    { logger },
  );
  return {
    calendar: providers.calendar,
    mailer: providers.mailer,
    directory: config.GOOGLE_DIRECTORY_SUBJECT ? providers.directory : null,
    // A program's own Sheet, else the configured one; either holds one program's tabs (marked there, refused to a second).
    recordsFor: (code, recordsSheet, programId) => providers.recordsFor(recordsSheet, programId ? { id: programId, code } : undefined),
    sender: { email: config.GOOGLE_IMPERSONATE ?? '', name: 'Training coordination' },
    limits,
    renderInvitation: null,
    undeliverable: () => providers.mailer.readBounces(),
  };
}
