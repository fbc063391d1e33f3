// Two programs on Google Sheets: each with its own Sheet keeps its own rows; a second program without one is refused the configured Sheet (which holds the first) and the first's rows stay as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { isSheetsRead } from '../emulators/google/sheets.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import { MUSTER_PROGRAM, MUSTER_PROGRAM_CODE } from '../../src/providers/google/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { TABS } from '../../src/domain/records.js';
import { googleWorld } from './helpers.js';

const COORDINATOR = 'coord@acme.example';

describe('two programs on Google Sheets', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  let configured: string;
  let ops2Sheet: string;
  let ops3Sheet: string;
  const ids: Record<string, string> = {};

  const emails = (spreadsheetId: string) => {
    const values = emulator.state.spreadsheet(spreadsheetId).values('Roster');
    const at = values[0]!.indexOf('Email');
    return values.slice(1).map((r) => r[at]).sort();
  };
  const holderOf = (spreadsheetId: string) => Object.fromEntries(emulator.state.sheets.get(spreadsheetId).meta.map((m) => [m.metadataKey, m.metadataValue]));

  async function program(code: string, domain: string, extra: Record<string, unknown> = {}): Promise<void> {
    const sessions = [{ label: 'Day 1', start: '2027-05-11T09:00', end: '2027-05-11T12:00', zone: 'Europe/Berlin', room: 'Room Ada', instructors: ['ines@acme.example'], capacity: 50 }];
    const created = await svc.api('POST', '/api/programs', { name: `${code} Basics`, code, owner: COORDINATOR, sessions, ...extra });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ids[code] = (created.body.program as { id: string }).id;
    const rows = ['Email,Name,Manager Email,Time Zone'];
    for (let i = 1; i <= 3; i++) rows.push(`${code.toLowerCase()}.learner${i}@${domain},Learner ${i},boss@${domain},Europe/Berlin`);
    expect((await svc.api('POST', `/api/programs/${code}/roster`, rows.join('\n'))).body.imported).toBe(3);
  }

  beforeAll(async () => {
    emulator = await startGoogleEmulator({ simulatedClock: true, startTime: Date.parse('2027-04-01T08:00:00Z') });
    emulator.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
    const key = emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES });
    configured = emulator.state.createSpreadsheet('Muster records');
    ops2Sheet = emulator.state.createSpreadsheet('OPS2 records');
    ops3Sheet = emulator.state.createSpreadsheet('OPS3 records');
    const dir = mkdtempSync(join(tmpdir(), 'muster-google-two-'));
    const keyFile = join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(key));
    svc = await startTestService({
      seedDemo: false,
      env: { MUSTER_PROVIDER: 'google', GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile, GOOGLE_IMPERSONATE: COORDINATOR, GOOGLE_SPREADSHEET_ID: configured, GOOGLE_API_ROOT_URL: emulator.rootUrl, GOOGLE_TOKEN_URL: emulator.tokenUrl },
    });
    svc.service.runtime.ctx.clock = { now: () => new Date(emulator.clock.now()) };
    await program('OPS1', 'one.example');
    // Given as the address a coordinator copies from the browser: stored as the id.
    await program('OPS2', 'two.example', { recordsSheet: `https://docs.google.com/spreadsheets/d/${ops2Sheet}/edit#gid=0` });
    await program('OPS3', 'three.example');
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
  });

  it('when a program is given its Sheet by address, then it stores and shows the id; an address that is no Sheet is refused naming the field', async () => {
    expect((await svc.api('GET', '/api/programs/OPS2')).body.recordsSheet).toBe(ops2Sheet);
    expect((await svc.api('GET', '/api/programs/OPS1')).body.recordsSheet).toBeNull();
    for (const bad of ['https://example.com/sheet', 'not an id', 'b!drive123/01ITEM1234']) {
      const r = await svc.api('PATCH', '/api/programs/OPS3', { recordsSheet: bad });
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'recordsSheet' })] });
    }
    expect((await svc.api('GET', '/api/programs/OPS3')).body.recordsSheet).toBeNull();
    // The next cohort is another program: it does not inherit the template's Sheet.
    const clone = await svc.api('POST', '/api/programs/OPS2/clone', { code: 'OPS2B' });
    expect(clone.status, JSON.stringify(clone.body)).toBe(201);
    expect(clone.body.recordsSheet).toBeNull();
  });

  it('when two programs each sync, then the configured Sheet holds the first (marked as its own in the same one read and one write) and the second its own, and syncing again keeps both', async () => {
    const from = emulator.calls().length;
    expect((await svc.api('POST', '/api/programs/OPS1/sync')).status).toBe(200);
    const sheets = emulator.calls().slice(from).filter((c) => c.methodId.startsWith('sheets.'));
    expect(sheets.filter((c) => isSheetsRead(c.methodId)).map((c) => c.methodId)).toEqual(['sheets.spreadsheets.get']);
    expect(sheets.filter((c) => !isSheetsRead(c.methodId)).map((c) => c.methodId)).toEqual(['sheets.spreadsheets.batchUpdate']);
    expect((await svc.api('POST', '/api/programs/OPS2/sync')).status).toBe(200);
    expect((await svc.api('POST', '/api/programs/OPS1/sync')).status).toBe(200);
    expect(emails(configured)).toEqual(['ops1.learner1@one.example', 'ops1.learner2@one.example', 'ops1.learner3@one.example']);
    expect(emails(ops2Sheet)).toEqual(['ops2.learner1@two.example', 'ops2.learner2@two.example', 'ops2.learner3@two.example']);
    expect(holderOf(configured)).toEqual({ [MUSTER_PROGRAM]: ids.OPS1, [MUSTER_PROGRAM_CODE]: 'OPS1' });
    expect(holderOf(ops2Sheet)).toEqual({ [MUSTER_PROGRAM]: ids.OPS2, [MUSTER_PROGRAM_CODE]: 'OPS2' });
    expect(emulator.state.sheets.get(configured).meta.every((m) => m.locationType === 'SPREADSHEET')).toBe(true);
    // Steady state: the marker is read with the tabs and never written again.
    const steady = emulator.calls().length;
    expect((await svc.api('POST', '/api/programs/OPS1/sync')).status).toBe(200);
    expect(emulator.calls().slice(steady).filter((c) => c.methodId.startsWith('sheets.')).map((c) => c.methodId)).toEqual(['sheets.spreadsheets.get']);
    expect(emulator.violations()).toEqual([]);
  });

  it('when a third program without a Sheet of its own syncs, then it is refused naming both programs and the fix, nothing is written, and its failed job shows on its checklist', async () => {
    const before = emulator.state.spreadsheet(configured).values('Roster');
    const from = emulator.calls().length;
    const r = await svc.api('POST', '/api/programs/OPS3/sync');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CONFLICT');
    expect(r.body.error.message).toContain('holds the records of program OPS1');
    expect(r.body.error.message).toContain('Give OPS3 its own Sheet: PATCH recordsSheet');
    expect(emulator.calls().slice(from).filter((c) => c.methodId.startsWith('sheets.') && !isSheetsRead(c.methodId))).toEqual([]);
    expect(emulator.state.spreadsheet(configured).values('Roster')).toEqual(before);

    // The same sync as a launched program's job: it fails (not retried) and its checklist shows it as blocking.
    expect((await svc.api('POST', '/api/programs/OPS3/launch', { force: true, reason: 'owners not set in this test' })).status).toBe(200);
    await svc.runDue();
    const items = (await svc.api('GET', '/api/programs/OPS3/checklist')).body.items as Array<{ id: string; status: string; reason: string }>;
    const failed = items.find((i) => i.id === 'schedule.failed');
    expect(failed?.status).toBe('blocking');
    expect(failed?.reason).toContain('records-sync (CONFLICT: The Google Sheet');
    expect(failed?.reason).toContain('Give OPS3 its own Sheet');
    expect(emulator.state.spreadsheet(configured).values('Roster')).toEqual(before);
    expect(emails(configured)).toEqual(['ops1.learner1@one.example', 'ops1.learner2@one.example', 'ops1.learner3@one.example']);
  });

  it('when the third program is given its own Sheet, then its sync goes there and the first program\'s Sheet is untouched', async () => {
    const before = emulator.state.spreadsheet(configured).values('Roster');
    const patched = await svc.api('PATCH', '/api/programs/OPS3', { recordsSheet: ops3Sheet });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.recordsSheet).toBe(ops3Sheet);
    expect((await svc.api('POST', '/api/programs/OPS3/sync')).status).toBe(200);
    expect(emails(ops3Sheet)).toEqual(['ops3.learner1@three.example', 'ops3.learner2@three.example', 'ops3.learner3@three.example']);
    expect(holderOf(ops3Sheet)[MUSTER_PROGRAM]).toBe(ids.OPS3);
    expect(emulator.state.spreadsheet(configured).values('Roster')).toEqual(before);
    // The failure is fixed, so the failed sync no longer blocks OPS3's checklist.
    const items = (await svc.api('GET', '/api/programs/OPS3/checklist')).body.items as Array<{ id: string }>;
    expect(items.map((i) => i.id)).not.toContain('schedule.failed');
    // And OPS2 pointed at OPS1's Sheet is refused there too: a Sheet holds one program, whichever way it was named.
    expect((await svc.api('PATCH', '/api/programs/OPS2', { recordsSheet: configured })).status).toBe(200);
    const refused = await svc.api('POST', '/api/programs/OPS2/sync');
    expect(refused.body.error?.message).toContain('holds the records of program OPS1');
    expect(emulator.state.spreadsheet(configured).values('Roster')).toEqual(before);
    expect(emulator.violations()).toEqual([]);
  });
});

describe('two programs claiming one Sheet at the same moment', () => {
  it('when both read the unmarked Sheet and then write, then the second write is refused as a whole (the marker id is taken) and names the first program', async () => {
    const w = await googleWorld();
    const a = w.providers.recordsFor(w.spreadsheetId, { id: 'prog-a', code: 'AAA1' });
    const b = w.providers.recordsFor(w.spreadsheetId, { id: 'prog-b', code: 'BBB1' });
    const row = (key: string, email: string) => ({ key, cells: { Key: key, Email: email, Name: email } });
    await a.readTabs([TABS.roster]);
    await b.readTabs([TABS.roster]);
    await b.applyChanges([{ tab: TABS.roster, upserts: [row('b1', 'b@two.example')], deletes: [] }]);
    await expect(a.applyChanges([{ tab: TABS.roster, upserts: [row('a1', 'a@one.example')], deletes: [] }])).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('holds the records of program BBB1; AAA1 cannot share it'),
    });
    const roster = w.emulator.state.spreadsheet(w.spreadsheetId).values('Roster');
    expect(roster.flat()).toContain('b@two.example');
    expect(roster.flat()).not.toContain('a@one.example');
    // Only the first claim landed: the Sheet names one holder.
    expect(w.emulator.state.sheets.get(w.spreadsheetId).meta.map((m) => m.metadataValue).sort()).toEqual(['BBB1', 'prog-b']);
  });
});
