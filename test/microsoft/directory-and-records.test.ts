// GraphDirectory, the non-delivery report reader and GraphRecords (Excel) against the Graph emulator.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TABS } from '../../src/domain/records.js';
import type { TabSpec } from '../../src/ports/index.js';
import { isMusterError } from '../../src/domain/errors.js';
import { createMicrosoftProviders } from '../../src/providers/microsoft/index.js';
import { ORGANIZER, type Rig, captureLogger, startRig } from './helpers.js';
import { writeValue } from '../emulators/graph/workbook.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ pageSize: 2 }, { workbook: { driveId: 'b!drive', itemId: '01RECORDS' } });
  const s = rig.em.state;
  for (const m of ['boss@contoso.com', 'ann@contoso.com', 'ben@contoso.com', 'cat@contoso.com', 'dan@contoso.com', 'eve@contoso.com']) s.addUser({ mail: m });
  s.addOrgContact({ mail: 'external.boss@partner.example' });
  s.setManager('ann@contoso.com', 'boss@contoso.com');
  s.setManager('ben@contoso.com', 'external.boss@partner.example');
  s.addGroup({ mail: 'nested@contoso.com', members: ['dan@contoso.com', 'eve@contoso.com', 'ann@contoso.com'] });
  s.addGroup({ mail: 'cohort@contoso.com', members: ['ann@contoso.com', 'ben@contoso.com', 'cat@contoso.com', 'nested@contoso.com'] });
  s.addWorkbook('b!drive', '01RECORDS', ['Sheet1']);
});

afterEach(() => {
  rig.em.faults.clear();
});

afterAll(async () => {
  try {
    expect(rig.em.violations()).toEqual([]);
  } finally {
    await rig.em.close();
  }
});

describe('directory', () => {
  it('when a learner has a user manager, an org-contact manager, none, or is unknown, then the answers differ accordingly', async () => {
    const d = rig.providers.directory;
    expect(await d.managerOf('ann@contoso.com')).toBe('boss@contoso.com');
    expect(await d.managerOf('ben@contoso.com')).toBe('external.boss@partner.example');
    expect(await d.managerOf('cat@contoso.com')).toBeNull();
    expect(await d.managerOf('ghost@contoso.com')).toBeUndefined();
  });

  it('when a group nests another, then groupMembers pages through transitive members and lists each user once', async () => {
    const members = await rig.providers.directory.groupMembers('cohort@contoso.com');
    expect(members.map((m) => m.email).sort()).toEqual(['ann@contoso.com', 'ben@contoso.com', 'cat@contoso.com', 'dan@contoso.com', 'eve@contoso.com']);
  });

  it('when non-delivery reports sit in the organizer inbox, then their addresses are read back', async () => {
    rig.em.state.addNonDeliveryReport(ORGANIZER, { recipient: 'Gone.Learner@contoso.com', originalSubject: 'Reminder: Safety 101' });
    rig.em.state.addNonDeliveryReport(ORGANIZER, { recipient: 'typo@contso.com', originalSubject: 'Welcome' });
    expect((await rig.providers.readUndeliverable()).sort()).toEqual(['gone.learner@contoso.com', 'typo@contso.com']);
  });
});

describe('records (Excel)', () => {
  const roster: TabSpec = TABS.roster;
  const sessions: TabSpec = TABS.sessions;

  it('when tabs are ensured, then missing worksheets get their headers and existing data is left alone', async () => {
    const records = rig.providers.records;
    if (!records) throw new Error('records not configured');
    await records.ensureTabs([roster, sessions]);
    await records.ensureTabs([roster, sessions]);
    expect(rig.em.state.sheetNames('b!drive', '01RECORDS')).toEqual(['Sheet1', 'Roster', 'Sessions']);
    expect(rig.em.state.cells('b!drive', '01RECORDS', 'Roster', 'A1:C1')).toEqual([['Key', 'Email', 'Name']]);
  });

  it('when a learner named like a formula is written, then the cell keeps the text and is formatted as text', async () => {
    const records = rig.providers.records;
    if (!records) throw new Error('records not configured');
    const evil = '=HYPERLINK("https://evil.example/x","Click me")';
    await records.upsertRows(roster, [
      { key: 'L1', cells: { Email: 'ann@contoso.com', Name: evil, Status: 'enrolled' } },
      { key: 'L2', cells: { Email: 'ben@contoso.com', Name: 'Ben', Status: 'enrolled' } },
    ]);
    const cell = rig.em.state.cell('b!drive', '01RECORDS', 'Roster', 'C2');
    expect(cell).toEqual({ value: evil, formula: null, numberFormat: '@' });
    const rows = await records.readTab(roster);
    expect(rows.find((r) => r.key === 'L1')?.cells['Name']).toBe(evil);
  });

  it('when rows are upserted again, then known keys update in place and only new keys are appended', async () => {
    const records = rig.providers.records;
    if (!records) throw new Error('records not configured');
    await records.upsertRows(roster, [
      { key: 'L2', cells: { Email: 'ben@contoso.com', Name: 'Ben Baker', Status: 'waitlisted' } },
      { key: 'L3', cells: { Email: 'cat@contoso.com', Name: 'Cat', Status: 'enrolled' } },
    ]);
    const rows = await records.readTab(roster);
    expect(rows.map((r) => r.key)).toEqual(['L1', 'L2', 'L3']);
    expect(rows.find((r) => r.key === 'L2')?.cells).toMatchObject({ Name: 'Ben Baker', Status: 'waitlisted' });
  });

  it('when a date column is written, then it is a real date that reads back as the same ISO value', async () => {
    const records = rig.providers.records;
    if (!records) throw new Error('records not configured');
    await records.upsertRows(sessions, [{ key: 'S1', cells: { Program: 'Safety 101', Start: { date: '2030-03-04T08:00:00.000Z' }, Capacity: 20 } }]);
    expect(typeof rig.em.state.cell('b!drive', '01RECORDS', 'Sessions', 'D2').value).toBe('number');
    const [row] = await records.readTab(sessions);
    expect(row?.cells['Start']).toEqual({ date: '2030-03-04T08:00:00.000Z' });
    expect(row?.cells['Capacity']).toBe(20);
  });

  it('when rows are deleted by key, then the rows below move up', async () => {
    const records = rig.providers.records;
    if (!records) throw new Error('records not configured');
    await records.deleteRows(roster, ['L2']);
    expect((await records.readTab(roster)).map((r) => r.key)).toEqual(['L1', 'L3']);
  });

  it('when a sync reads every tab and applies every change, then each is one $batch request (plus one per kind of change that cannot be retried blindly), and a kept edit is not written over', async () => {
    const records = rig.providers.records;
    if (!records?.readTabs || !records.applyChanges) throw new Error('records without batched reads and writes');
    const start = rig.em.counters().requests;
    const read = await records.readTabs([roster, sessions, TABS.messages]);
    expect(rig.em.counters().requests - start).toBe(1);
    expect(read.get('Roster')!.map((r) => r.key)).toEqual(['L1', 'L3']);
    expect(read.get('Messages')).toEqual([]);
    // A person's edit that the sync keeps: the write leaves that cell out.
    writeValue(rig.em.state.workbook('b!drive', '01RECORDS')!.sheets.find((w) => w.name === 'Roster')!, 1, 3, 'typed.boss@contoso.com');
    const before = rig.em.counters().requests;
    await records.applyChanges([
      { tab: roster, upserts: [{ key: 'L1', cells: { Status: 'cancelled' } }, { key: 'L3', cells: { Status: 'waitlisted' } }, { key: 'L4', cells: { Email: 'dan@contoso.com', Name: 'Dan' } }], deletes: [] },
      { tab: sessions, upserts: [], deletes: ['S1'] },
      { tab: TABS.messages, upserts: [{ key: 'M1', cells: { 'Learner Email': 'ann@contoso.com', Subject: '=1+1', 'Sent At': { date: '2030-03-01T09:00:00.000Z' } } }], deletes: [] },
    ]);
    // One $batch adds the Messages worksheet, one writes headers and rows, one deletes.
    expect(rig.em.counters().requests - before).toBe(3);
    const after = await records.readTabs([roster, sessions, TABS.messages]);
    expect(after.get('Roster')!.map((r) => [r.key, r.cells['Status']])).toEqual([['L1', 'cancelled'], ['L3', 'waitlisted'], ['L4', null]]);
    expect(after.get('Roster')![0]!.cells['Manager Email']).toBe('typed.boss@contoso.com');
    expect(after.get('Sessions')).toEqual([]);
    expect(after.get('Messages')![0]!.cells).toMatchObject({ Subject: '=1+1', 'Sent At': { date: '2030-03-01T09:00:00.000Z' } });
  });

  it('when the workbook is used with the coordinator delegated access, then on-behalf-of works, and without a signed-in coordinator it is refused', async () => {
    rig.em.state.addWorkbook('b!drive', '01DELEGATED', ['Sheet1']);
    const cfg = { ...rig.config, workbook: { driveId: 'b!drive', itemId: '01DELEGATED' }, appOnlyWorkbook: false };
    const signedIn = createMicrosoftProviders(cfg, { logger: captureLogger(), coordinatorToken: () => rig.em.identity.issueUserToken({ upn: ORGANIZER }) });
    await signedIn.records?.ensureTabs([TABS.questions]);
    expect(rig.em.state.sheetNames('b!drive', '01DELEGATED')).toContain('Questions');
    expect(rig.em.identity.tokenRequests.at(-1)?.grantType).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const nobody = createMicrosoftProviders(cfg, { logger: captureLogger(), coordinatorToken: async () => null });
    const err = await nobody.records?.ensureTabs([TABS.questions]).catch((e: unknown) => e);
    expect(isMusterError(err, 'PROVIDER_AUTH_FAILED')).toBe(true);
  });
});
