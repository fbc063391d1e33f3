// Starts Muster on Google Workspace against the Google emulator: a delegated service-account key written to `dir`, the coordinator impersonated, records in one Sheet.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoogleEmulator } from '../emulators/google/index.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import { startTestService, type TestService } from './service.js';

export async function startGoogleService(emulator: GoogleEmulator, o: { coordinator: string; spreadsheetId: string; dir: string }): Promise<TestService> {
  const keyFile = join(o.dir, 'key.json');
  writeFileSync(keyFile, JSON.stringify(emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES })));
  return startTestService({
    seedDemo: false,
    env: {
      MUSTER_PROVIDER: 'google',
      GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile,
      GOOGLE_IMPERSONATE: o.coordinator,
      GOOGLE_SPREADSHEET_ID: o.spreadsheetId,
      GOOGLE_API_ROOT_URL: emulator.rootUrl,
      GOOGLE_TOKEN_URL: emulator.tokenUrl,
    },
  });
}
