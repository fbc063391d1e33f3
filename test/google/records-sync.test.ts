// Records syncs into the shared Google Sheet counted at the emulator: a first sync and a steady-state sync are one Sheets read and one write each, and people's edits still come in or stay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { isSheetsRead } from '../emulators/google/sheets.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import { startTestService, type TestService } from '../support/service.js';

const COORDINATOR = 'coord@acme.example';

describe('records sync request counts on Google Sheets', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  let spreadsheetId: string;

  /** Runs one sync and counts the Sheets requests it made, by kind. */
  async function countedSync(): Promise<{ body: Record<string, unknown>; reads: string[]; writes: string[] }> {
    const from = emulator.calls().length;
    const sync = await svc.api('POST', '/api/programs/OPS1/sync');
    expect(sync.status, JSON.stringify(sync.body)).toBe(200);
    const sheets = emulator.calls().slice(from).filter((c) => c.methodId.startsWith('sheets.'));
    return { body: sync.body, reads: sheets.filter((c) => isSheetsRead(c.methodId)).map((c) => c.methodId), writes: sheets.filter((c) => !isSheetsRead(c.methodId)).map((c) => c.methodId) };
  }

  const column = (tab: string, header: string) => String.fromCharCode(65 + emulator.state.spreadsheet(spreadsheetId).values(tab)[0]!.indexOf(header));
  const rowOf = (tab: string, email: string) => emulator.state.spreadsheet(spreadsheetId).values(tab).findIndex((r) => r.includes(email)) + 1;

  beforeAll(async () => {
    emulator = await startGoogleEmulator({ simulatedClock: true, startTime: Date.parse('2027-04-01T08:00:00Z') });
    emulator.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
    const key = emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES });
    spreadsheetId = emulator.state.createSpreadsheet('Muster records');
    const dir = mkdtempSync(join(tmpdir(), 'muster-google-sync-'));
    const keyFile = join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(key));
    svc = await startTestService({
      seedDemo: false,
      env: { MUSTER_PROVIDER: 'google', GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile, GOOGLE_IMPERSONATE: COORDINATOR, GOOGLE_SPREADSHEET_ID: spreadsheetId, GOOGLE_API_ROOT_URL: emulator.rootUrl, GOOGLE_TOKEN_URL: emulator.tokenUrl },
    });
    svc.service.runtime.ctx.clock = { now: () => new Date(emulator.clock.now()) };
    const sessions = [1, 2].map((n) => ({ label: `Day ${n}`, start: `2027-05-1${n}T09:00`, end: `2027-05-1${n}T12:00`, zone: 'Europe/Berlin', room: 'Room Ada', instructors: ['ines@acme.example'], capacity: 50 }));
    expect((await svc.api('POST', '/api/programs', { name: 'Ops Basics', code: 'OPS1', owner: COORDINATOR, sessions })).status).toBe(201);
    const rows = ['Email,Name,Manager Email,Time Zone,Department'];
    for (let i = 1; i <= 12; i++) rows.push(`learner${i}@acme.example,Learner ${i},boss${i % 2}@acme.example,Europe/Berlin,Ops`);
    expect((await svc.api('POST', '/api/programs/OPS1/roster', rows.join('\n'))).body.imported).toBe(12);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
  });

  it('when the first sync meets an empty Sheet, then one read and one write make every tab, its rows and each manager\'s saved views', async () => {
    const r = await countedSync();
    expect(r.reads).toEqual(['sheets.spreadsheets.get']);
    expect(r.writes).toEqual(['sheets.spreadsheets.batchUpdate']);
    const sheet = emulator.state.spreadsheet(spreadsheetId);
    expect(sheet.tabs()).toEqual(expect.arrayContaining(['Roster', 'Sessions', 'Attendance', 'Completion', 'Managers', 'Questions', 'Checklist', 'Messages']));
    expect(sheet.values('Roster')).toHaveLength(13);
    expect(sheet.rowMetadata('Roster').filter(Boolean)).toHaveLength(12);
    for (const tab of ['Attendance', 'Completion']) {
      expect(((sheet.sheet(tab).filterViews ?? []) as Array<{ title: string }>).map((v) => v.title).sort()).toEqual(['Muster: boss0@acme.example', 'Muster: boss1@acme.example']);
    }
  });

  it('when people edit cells between syncs, then the next sync is exactly one read and one write, takes the Department in and keeps the Completion edit as a conflict', async () => {
    emulator.state.sortSheet(spreadsheetId, 'Roster', { column: 'Name', descending: true });
    emulator.state.setCellAsUser(spreadsheetId, 'Roster', `${column('Roster', 'Department')}${rowOf('Roster', 'learner3@acme.example')}`, 'Finance');
    emulator.state.setCellAsUser(spreadsheetId, 'Completion', `${column('Completion', 'Status')}${rowOf('Completion', 'learner5@acme.example')}`, 'Done (paper form)');
    const r = await countedSync();
    expect(r.reads).toEqual(['sheets.spreadsheets.get']);
    expect(r.writes).toHaveLength(1);
    expect(r.body).toMatchObject({ imported: 1, conflicts: [expect.objectContaining({ tab: 'Completion', column: 'Status', theirs: 'Done (paper form)' })] });
    const completion = emulator.state.spreadsheet(spreadsheetId).values('Completion');
    const h = completion[0]!;
    expect(completion.find((row) => row[h.indexOf('Email')] === 'learner3@acme.example')![h.indexOf('Department')]).toBe('Finance');
    expect(completion.find((row) => row[h.indexOf('Email')] === 'learner5@acme.example')![h.indexOf('Status')]).toBe('Done (paper form)');
  });

  it('when nothing changed since, then a sync only reads', async () => {
    // The first one after a conflict adds the Checklist's line about it.
    expect((await countedSync()).writes).toEqual(['sheets.spreadsheets.batchUpdate']);
    const r = await countedSync();
    expect(r.reads).toEqual(['sheets.spreadsheets.get']);
    expect(r.writes).toEqual([]);
    expect(r.body.conflicts).toHaveLength(1);
  });

  it('when a manager types a learner into the Roster and sorts, then the sync claims that row (a second read finds it right before writing) in at most two writes', async () => {
    const roster = emulator.state.spreadsheet(spreadsheetId).values('Roster');
    const h = roster[0]!;
    emulator.state.insertRowsAsUser(spreadsheetId, 'Roster', 3, [h.map((col) => ({ Email: 'walkin@acme.example', Name: 'Walk In', 'Manager Email': 'boss1@acme.example', 'Time Zone': 'Europe/Berlin', Session: 'Day 2' })[col] ?? '')]);
    // The sort lands just after the sync's first read has been answered, while Muster merges.
    emulator.beforeNext('sheets.spreadsheets.get', () => void setTimeout(() => emulator.state.sortSheet(spreadsheetId, 'Roster', { column: 'Email', descending: false }), 0));
    const from = emulator.calls().length;
    const done = await svc.api('POST', '/api/programs/OPS1/sync');
    expect(done.status).toBe(200);
    const sheets = emulator.calls().slice(from).filter((c) => c.methodId.startsWith('sheets.'));
    expect(sheets.filter((c) => isSheetsRead(c.methodId)).length).toBeLessThanOrEqual(2);
    expect(sheets.filter((c) => !isSheetsRead(c.methodId)).length).toBeLessThanOrEqual(2);
    expect(done.body.imported).toBe(1);
    const after = emulator.state.spreadsheet(spreadsheetId);
    const values = after.values('Roster');
    const walkins = values.map((r, i) => [r, i] as const).filter(([r]) => r[h.indexOf('Email')] === 'walkin@acme.example');
    expect(walkins).toHaveLength(1);
    const learners = (await svc.api('GET', '/api/programs/OPS1/roster')).body.learners as Array<{ id: string; email: string }>;
    expect(after.rowMetadata('Roster')[walkins[0]![1]]).toBe(learners.find((l) => l.email === 'walkin@acme.example')!.id);
    expect(new Set(after.rowMetadata('Roster').filter(Boolean)).size).toBe(13);
    expect(emulator.violations()).toEqual([]);
  });
});
