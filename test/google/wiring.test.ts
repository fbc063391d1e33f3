// The Google provider set as the composition root builds it from configuration: a key file on disk, the emulator's endpoints, and one real call through each port.
import { describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { TABS } from '../../src/domain/records.js';
import { buildGoogleProviderSet } from '../../src/providers/google/wiring.js';
import { ADMIN, COORDINATOR, expectNoViolations, googleWorld, memoryLogger } from './helpers.js';

describe('Google wiring', () => {
  test('when MUSTER_PROVIDER=google is configured with a key file, then the provider set talks to the configured endpoints', async () => {
    const { emulator, key, spreadsheetId } = await googleWorld();
    const dir = mkdtempSync(join(tmpdir(), 'muster-google-'));
    try {
      const keyFile = join(dir, 'key.json');
      writeFileSync(keyFile, JSON.stringify(key));
      const config = loadConfig({
        MUSTER_PROVIDER: 'google',
        MUSTER_DATA_DIR: dir,
        GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile,
        GOOGLE_IMPERSONATE: COORDINATOR,
        GOOGLE_DIRECTORY_SUBJECT: ADMIN,
        GOOGLE_SPREADSHEET_ID: spreadsheetId,
        GOOGLE_API_ROOT_URL: emulator.rootUrl,
        GOOGLE_TOKEN_URL: emulator.tokenUrl,
      });
      const set = await buildGoogleProviderSet(config, memoryLogger(), { perMinute: 60, perDay: 2000, recipientsPerDay: 10_000 });
      expect(set.sender.email).toBe(COORDINATOR);
      expect(set.renderInvitation).toBeNull();
      await set.recordsFor('SEC101').ensureTabs([TABS.roster]);
      expect(emulator.state.spreadsheet(spreadsheetId).tabs()).toContain('Roster');
      emulator.state.addUser({ email: 'lea@acme.example', managerEmail: 'boss@acme.example' });
      expect(await set.directory!.managerOf('lea@acme.example')).toBe('boss@acme.example');
      emulator.state.addBounce(COORDINATOR, { recipient: 'gone@acme.example' });
      expect(await set.undeliverable!()).toEqual(['gone@acme.example']);
      expectNoViolations(emulator);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
