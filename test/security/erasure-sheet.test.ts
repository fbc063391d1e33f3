// Erasing a learner in Google Workspace mode leaves no trace of their address or name in the shared Sheet: every tab's cells, its row metadata and its filter views, checked in the Sheets emulator's stored state after the next sync.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { type TestService } from '../support/service.js';
import { startGoogleService } from '../support/google-service.js';
import { daySessions, numberedRosterCsv } from '../support/program-fixtures.js';

const DOMAIN = 'acme.example';
const EMAIL = `learner3@${DOMAIN}`;
const NAME = 'Learner 3';

describe('erasing a learner from the Google Sheet (Sheets emulator)', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  let spreadsheetId: string;
  const dir = mkdtempSync(join(tmpdir(), 'muster-erase-g-'));

  beforeAll(async () => {
    emulator = await startGoogleEmulator({ quotas: { sheetsReadsPerMinute: 10_000, sheetsWritesPerMinute: 10_000 } });
    emulator.state.addUser({ email: `coord@${DOMAIN}`, name: 'Casey Coordinator' });
    spreadsheetId = emulator.state.createSpreadsheet('Muster records');
    svc = await startGoogleService(emulator, { coordinator: `coord@${DOMAIN}`, spreadsheetId, dir });
    const venue = { room: 'Room 1', roomEmail: `room1@${DOMAIN}`, backupPlan: 'Room 2', instructor: `ines@${DOMAIN}` };
    const created = await svc.api('POST', '/api/programs', { name: 'Erase Course', code: 'ERASEG', owner: `coord@${DOMAIN}`, sessions: daySessions(2, 6, venue, 20) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const imported = await svc.api('POST', '/api/programs/ERASEG/roster', numberedRosterCsv(6, DOMAIN, { sessions: 2 }), { 'content-type': 'text/csv' });
    expect(imported.body.imported, JSON.stringify(imported.body)).toBe(6);
    const synced = await svc.api('POST', '/api/programs/ERASEG/sync');
    expect(synced.status, JSON.stringify(synced.body)).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everything the Sheet holds as text: cells (entered and shown), row and sheet developer metadata, filter views. */
  const sheetText = (): string => JSON.stringify(emulator.state.sheets.get(spreadsheetId), (_k, v: unknown) => (v instanceof Map ? [...v] : v));
  const mentions = (s: string) => s.toLowerCase().includes(EMAIL) || s.includes(NAME);

  it('when the learner is erased and the records sync, then no tab, metadata or view of the Sheet holds their address or name, and the others stay', async () => {
    expect(mentions(sheetText())).toBe(true);
    const erased = await svc.api('POST', `/api/learners/${encodeURIComponent(EMAIL)}/erase`);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    await svc.runDue();
    const synced = await svc.api('POST', '/api/programs/ERASEG/sync');
    expect(synced.status, JSON.stringify(synced.body)).toBe(200);
    const text = sheetText();
    expect(text.toLowerCase().includes(EMAIL)).toBe(false);
    expect(text.includes(NAME)).toBe(false);
    expect(text.includes(`learner4@${DOMAIN}`)).toBe(true);
    expect(emulator.violations()).toEqual([]);
  }, 120_000);
});
