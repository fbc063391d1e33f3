// Two programs on Excel workbooks through Graph: each with its own workbook keeps its own rows; a second program without one is refused the configured workbook (which holds the first) and the first's rows stay as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../emulators/graph/index.js';
import { HOLDER_SHEET } from '../../src/providers/microsoft/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { TABS } from '../../src/domain/records.js';
import { startRig } from './helpers.js';

const ORGANIZER = 'training@contoso.com';
const DRIVE = 'b!records-drive';
const CONFIGURED = '01CONFIGURED';
const OPS2_ITEM = '01OPS2ITEM';
const OTHER_DRIVE = 'b!other-drive';
const OPS3_ITEM = '01OPS3ITEM';

describe('two programs on Excel workbooks', () => {
  let em: GraphEmulator;
  let svc: TestService;
  const ids: Record<string, string> = {};

  const emails = (driveId: string, itemId: string) => {
    const rows = em.state.cells(driveId, itemId, 'Roster', 'A1:L20');
    const at = rows[0]!.indexOf('Email');
    return rows.slice(1).map((r) => String(r[at])).filter(Boolean).sort();
  };
  const holderOf = (driveId: string, itemId: string) => em.state.cells(driveId, itemId, HOLDER_SHEET, 'A1:B2');
  /** $batch HTTP requests a call made to workbooks, and what they held. */
  async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; batches: number }> {
    const before = em.counters().batches;
    const result = await fn();
    const after = em.counters().batches;
    const batches = Object.entries(after).filter(([k]) => k.includes('/workbook')).reduce((n, [k, v]) => n + v - (before[k] ?? 0), 0);
    return { result, batches };
  }

  async function program(code: string, domain: string, extra: Record<string, unknown> = {}): Promise<void> {
    const sessions = [{ label: 'Day 1', start: '2027-09-06T09:00', end: '2027-09-06T12:00', zone: 'Europe/Berlin', room: 'Room 4.01', instructors: ['ines@contoso.com'], capacity: 50 }];
    const created = await svc.api('POST', '/api/programs', { name: `${code} Basics`, code, owner: ORGANIZER, sessions, ...extra });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ids[code] = (created.body.program as { id: string }).id;
    const rows = ['Email,Name,Manager Email,Time Zone'];
    for (let i = 1; i <= 3; i++) rows.push(`${code.toLowerCase()}.learner${i}@${domain},Learner ${i},boss@${domain},Europe/Berlin`);
    expect((await svc.api('POST', `/api/programs/${code}/roster`, rows.join('\n'))).body.imported).toBe(3);
  }

  beforeAll(async () => {
    em = await startGraphEmulator();
    em.state.addUser({ mail: ORGANIZER, displayName: 'Training Team' });
    for (const [drive, item] of [[DRIVE, CONFIGURED], [DRIVE, OPS2_ITEM], [OTHER_DRIVE, OPS3_ITEM]] as const) em.state.addWorkbook(drive, item);
    svc = await startTestService({
      seedDemo: false,
      env: {
        MUSTER_PROVIDER: 'microsoft',
        MS_TENANT_ID: em.tenantId,
        MS_CLIENT_ID: em.clientId,
        MS_CLIENT_SECRET: em.clientSecret,
        MS_ORGANIZER: ORGANIZER,
        MS_AUTHORITY_HOST: em.authorityHost,
        GRAPH_BASE_URL: em.baseUrl,
        MS_WORKBOOK_DRIVE_ID: DRIVE,
        MS_WORKBOOK_ITEM_ID: CONFIGURED,
        MS_APP_ONLY_WORKBOOK: 'true',
      },
    });
    await program('OPS1', 'one.example');
    // An item id alone is on the configured drive.
    await program('OPS2', 'two.example', { recordsSheet: OPS2_ITEM });
    await program('OPS3', 'three.example');
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await em?.close();
  });

  it('when two programs each sync, then the configured workbook holds the first (its Muster tab says so) and the second its own, and syncing again keeps both', async () => {
    const first = await counted(() => svc.api('POST', '/api/programs/OPS1/sync'));
    expect(first.result.status, JSON.stringify(first.result.body)).toBe(200);
    // One read, one $batch adding the 8 tabs and the Muster tab, and the writes: 8 tabs x (header format + values, rows
    // format + values) and the marker's 2 = 34 items, two $batches of at most 20. The marker costs no request of its own.
    expect(first.batches).toBe(4);
    expect((await svc.api('POST', '/api/programs/OPS2/sync')).status).toBe(200);
    expect((await svc.api('POST', '/api/programs/OPS1/sync')).status).toBe(200);
    expect(emails(DRIVE, CONFIGURED)).toEqual(['ops1.learner1@one.example', 'ops1.learner2@one.example', 'ops1.learner3@one.example']);
    expect(emails(DRIVE, OPS2_ITEM)).toEqual(['ops2.learner1@two.example', 'ops2.learner2@two.example', 'ops2.learner3@two.example']);
    expect(holderOf(DRIVE, CONFIGURED)).toEqual([['Program', 'OPS1'], ['Program id', ids.OPS1]]);
    expect(holderOf(DRIVE, OPS2_ITEM)).toEqual([['Program', 'OPS2'], ['Program id', ids.OPS2]]);
    // Steady state: the marker is read in the same $batch as the tabs and not written again.
    const steady = await counted(() => svc.api('POST', '/api/programs/OPS1/sync'));
    expect(steady.result.status).toBe(200);
    expect(steady.batches).toBe(1);
    expect(em.violations()).toEqual([]);
  });

  it('when a third program without a workbook of its own syncs, then it is refused naming both programs and the fix, and the first program\'s rows are untouched', async () => {
    const before = em.state.cells(DRIVE, CONFIGURED, 'Roster', 'A1:L20');
    const r = await counted(() => svc.api('POST', '/api/programs/OPS3/sync'));
    expect(r.result.status).toBe(409);
    expect(r.result.body.error.code).toBe('CONFLICT');
    expect(r.result.body.error.message).toContain('holds the records of program OPS1');
    expect(r.result.body.error.message).toContain('Give OPS3 its own workbook: PATCH recordsSheet');
    // Only the read: refused before any write.
    expect(r.batches).toBe(1);
    expect(em.state.cells(DRIVE, CONFIGURED, 'Roster', 'A1:L20')).toEqual(before);
    expect(holderOf(DRIVE, CONFIGURED)[1]).toEqual(['Program id', ids.OPS1]);
  });

  it('when the third program is given a workbook on another drive (driveId/itemId), then its sync goes there; a bare item id with no drive is refused naming the field', async () => {
    const before = em.state.cells(DRIVE, CONFIGURED, 'Roster', 'A1:L20');
    const bad = await svc.api('PATCH', '/api/programs/OPS3', { recordsSheet: 'https://contoso.sharepoint.com/:x:/r/sites/t/book.xlsx' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'recordsSheet' })] });
    const patched = await svc.api('PATCH', '/api/programs/OPS3', { recordsSheet: `${OTHER_DRIVE}/${OPS3_ITEM}` });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect((await svc.api('GET', '/api/programs/OPS3')).body.recordsSheet).toBe(`${OTHER_DRIVE}/${OPS3_ITEM}`);
    expect((await svc.api('POST', '/api/programs/OPS3/sync')).status).toBe(200);
    expect(emails(OTHER_DRIVE, OPS3_ITEM)).toEqual(['ops3.learner1@three.example', 'ops3.learner2@three.example', 'ops3.learner3@three.example']);
    expect(holderOf(OTHER_DRIVE, OPS3_ITEM)[0]).toEqual(['Program', 'OPS3']);
    expect(em.state.cells(DRIVE, CONFIGURED, 'Roster', 'A1:L20')).toEqual(before);
    expect(em.violations()).toEqual([]);
  });
});

describe('two programs claiming one workbook at the same moment', () => {
  it('when both read the unmarked workbook and then write, then the second finds the Muster tab taken, is refused naming the first, and writes no row', async () => {
    const rig = await startRig({}, { workbook: { driveId: DRIVE, itemId: CONFIGURED } });
    try {
      rig.em.state.addWorkbook(DRIVE, CONFIGURED);
      const a = rig.providers.recordsFor(null, { id: 'prog-a', code: 'AAA1' })!;
      const b = rig.providers.recordsFor(null, { id: 'prog-b', code: 'BBB1' })!;
      const row = (key: string, email: string) => ({ key, cells: { Email: email, Name: email } });
      await a.readTabs([TABS.roster]);
      await b.readTabs([TABS.roster]);
      await b.applyChanges([{ tab: TABS.roster, upserts: [row('b1', 'b@two.example')], deletes: [] }]);
      await expect(a.applyChanges([{ tab: TABS.roster, upserts: [row('a1', 'a@one.example')], deletes: [] }])).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('holds the records of program BBB1; AAA1 cannot share it'),
      });
      const cells = rig.em.state.cells(DRIVE, CONFIGURED, 'Roster', 'A1:L5').flat();
      expect(cells).toContain('b@two.example');
      expect(cells).not.toContain('a@one.example');
      expect(rig.em.state.cells(DRIVE, CONFIGURED, HOLDER_SHEET, 'A1:B2')).toEqual([['Program', 'BBB1'], ['Program id', 'prog-b']]);
      expect(rig.em.violations()).toEqual([]);
    } finally {
      await rig.em.close();
    }
  });
});
