// Google Sheets records against the emulator: formatted tabs, text from people stays text, dates are dates, and keyed writes land on the right row even after a manager sorts.
import { describe, expect, test } from 'vitest';
import { TABS, ALL_TABS } from '../../src/domain/records.js';
import type { RecordRow } from '../../src/ports/index.js';
import { COORDINATOR, callsOf, expectNoViolations, googleWorld } from './helpers.js';

const attendanceRow = (n: number, name: string, extra: Partial<RecordRow['cells']> = {}): RecordRow => ({
  key: `s1:l${n}`,
  cells: { 'Session ID': 's1', Session: 'Cohort A', Date: { date: '2026-03-10' }, Email: `l${n}@acme.example`, Name: name, 'Manager Email': 'boss@acme.example', RSVP: 'none', Attendance: null, Enrollment: 'enrolled', ...extra },
});

describe('Google Sheets records', () => {
  test('when tabs are ensured, then each has a frozen bold header, protections, validation and the Overdue rule, made in one write', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.ensureTabs(ALL_TABS);
    const view = emulator.state.spreadsheet(spreadsheetId);
    for (const tab of ALL_TABS) expect(view.tabs()).toContain(tab.name);
    expect(callsOf(emulator, 'sheets.spreadsheets.batchUpdate')).toBe(1);
    const attendance = view.sheet('Attendance');
    expect(attendance.properties.gridProperties.frozenRowCount).toBe(1);
    expect(view.values('Attendance')[0]).toEqual(TABS.attendance.headers);
    expect(view.cell('Attendance', 'A1').userEnteredFormat.textFormat.bold).toBe(true);
    const hard = attendance.protectedRanges.filter((p: { warningOnly?: boolean }) => !p.warningOnly);
    expect(hard).toHaveLength(1);
    expect(hard[0].editors.users).toEqual([COORDINATOR]);
    expect(attendance.protectedRanges.length).toBeGreaterThan(1);
    expect(view.cell('Attendance', 'I2').dataValidation.condition.values.map((v: { userEnteredValue: string }) => v.userEnteredValue)).toEqual(['present', 'late', 'excused', 'absent']);
    expect(JSON.stringify(view.sheet('Completion').conditionalFormats)).toContain('Overdue');
    await providers.records.ensureTabs(ALL_TABS); // already there: no second write
    expect(callsOf(emulator, 'sheets.spreadsheets.batchUpdate')).toBe(1);
    expectNoViolations(emulator);
  });

  test('when a learner is named =HYPERLINK("http://x","y"), then the sheet keeps and returns exactly that text', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    const name = '=HYPERLINK("http://x","y")';
    await providers.records.upsertRows(TABS.roster, [{ key: 'l1', cells: { Email: 'l1@acme.example', Name: name, Status: 'ok' } }]);
    const rows = await providers.records.readTab(TABS.roster);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cells.Name).toBe(name);
    expect(emulator.state.spreadsheet(spreadsheetId).cell('Roster', 'C2').effectiveValue).toEqual({ stringValue: name });
    // Contrast: the same text typed by a person (USER_ENTERED) would have become a formula.
    emulator.state.setCellAsUser(spreadsheetId, 'Roster', 'C3', name);
    expect(emulator.state.spreadsheet(spreadsheetId).values('Roster')[2]![2]).toBe('y');
    expectNoViolations(emulator);
  });

  test('when dates are written, then they are serial numbers with a date format and read back as dates', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.ensureTabs([TABS.completion]);
    await providers.records.upsertRows(TABS.completion, [{ key: 'l1', cells: { Email: 'l1@acme.example', Status: 'Overdue', Due: { date: '2026-04-01' }, Score: 87 } }]);
    const cell = emulator.state.spreadsheet(spreadsheetId).cell('Completion', 'H2');
    expect(cell.effectiveValue.numberValue).toBe(46113);
    expect(cell.userEnteredFormat.numberFormat.type).toBe('DATE');
    expect(emulator.state.spreadsheet(spreadsheetId).values('Completion')[1]![7]).toBe('2026-04-01');
    const [row] = await providers.records.readTab(TABS.completion);
    expect(row!.cells.Due).toEqual({ date: '2026-04-01' });
    expect(row!.cells.Score).toBe(87);
    expectNoViolations(emulator);
  });

  test('when a manager sorts the Attendance tab between Muster’s read and its write, then the upsert by key still changes the right row', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.ensureTabs([TABS.attendance]);
    await providers.records.upsertRows(TABS.attendance, [attendanceRow(1, 'Anna'), attendanceRow(2, 'Bert'), attendanceRow(3, 'Cleo')]);
    emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Name', descending: true });
    // And a second sort lands exactly between upsertRows' read and its keyed write.
    emulator.beforeNext('sheets.spreadsheets.values.batchUpdateByDataFilter', () => emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Email', descending: false }));
    emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Name', descending: true });
    await providers.records.upsertRows(TABS.attendance, [attendanceRow(1, 'Anna', { Attendance: 'present' })]);
    const values = emulator.state.spreadsheet(spreadsheetId).values('Attendance');
    const anna = values.find((r) => r[5] === 'Anna')!;
    expect(anna[8]).toBe('present');
    expect(values.filter((r) => r[8] === 'present')).toHaveLength(1);
    const keys = emulator.state.spreadsheet(spreadsheetId).rowMetadata('Attendance');
    expect(keys[values.indexOf(anna)]).toBe('s1:l1');
    const rows = await providers.records.readTab(TABS.attendance);
    expect(rows.find((r) => r.key === 's1:l1')!.cells.Attendance).toBe('present');
    expect(rows.find((r) => r.key === 's1:l2')!.cells.Attendance).toBeNull();
    expectNoViolations(emulator);
  });

  test('when a manager inserts rows above Muster’s rows, then keys still find their rows and the hand-added row reads back without a key', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.upsertRows(TABS.roster, [{ key: 'l1', cells: { Email: 'l1@acme.example', Name: 'Anna' } }]);
    emulator.state.insertRowsAsUser(spreadsheetId, 'Roster', 2, [['', 'new@acme.example', 'Neu']]);
    await providers.records.upsertRows(TABS.roster, [{ key: 'l1', cells: { Status: 'imported' } }]);
    const rows = await providers.records.readTab(TABS.roster);
    expect(rows).toEqual([
      expect.objectContaining({ key: null, cells: expect.objectContaining({ Email: 'new@acme.example', Name: 'Neu' }) }),
      expect.objectContaining({ key: 'l1', cells: expect.objectContaining({ Name: 'Anna', Status: 'imported' }) }),
    ]);
    expectNoViolations(emulator);
  });

  test('when sixty learners are upserted, then it takes one read and at most two writes, each row tagged with its key', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.ensureTabs([TABS.attendance]);
    const before = emulator.calls().length;
    const rows = Array.from({ length: 60 }, (_, i) => attendanceRow(i + 1, `Learner ${i + 1}`));
    await providers.records.upsertRows(TABS.attendance, rows);
    await providers.records.upsertRows(TABS.attendance, rows.map((r, i) => (i % 2 ? { ...r, cells: { ...r.cells, RSVP: 'accepted' } } : r)));
    const calls = emulator.calls().slice(before);
    expect(calls.filter((c) => c.methodId === 'sheets.spreadsheets.get')).toHaveLength(2);
    expect(calls.filter((c) => c.methodId !== 'sheets.spreadsheets.get')).toHaveLength(2);
    const keys = emulator.state.spreadsheet(spreadsheetId).rowMetadata('Attendance').filter(Boolean);
    expect(new Set(keys).size).toBe(60);
    const read = await providers.records.readTab(TABS.attendance);
    expect(read.filter((r) => r.cells.RSVP === 'accepted')).toHaveLength(30);
    expectNoViolations(emulator);
  });

  test('when the append batch is dropped after Sheets applied it, then the retry adds no duplicate rows', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.ensureTabs([TABS.roster]);
    emulator.faults.inject({ method: 'sheets.spreadsheets.batchUpdate', kind: 'drop-after-work' });
    await providers.records.upsertRows(TABS.roster, [{ key: 'l1', cells: { Email: 'l1@acme.example' } }, { key: 'l2', cells: { Email: 'l2@acme.example' } }]);
    const keys = emulator.state.spreadsheet(spreadsheetId).rowMetadata('Roster').filter(Boolean);
    expect(keys.sort()).toEqual(['l1', 'l2']);
    expectNoViolations(emulator);
  });

  test('when rows are deleted by key after a sort, then exactly those rows go', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.upsertRows(TABS.attendance, [attendanceRow(1, 'Anna'), attendanceRow(2, 'Bert'), attendanceRow(3, 'Cleo')]);
    emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Name', descending: true });
    await providers.records.deleteRows(TABS.attendance, ['s1:l1', 's1:l3']);
    const rows = await providers.records.readTab(TABS.attendance);
    expect(rows.map((r) => [r.key, r.cells.Name])).toEqual([['s1:l2', 'Bert']]);
    expectNoViolations(emulator);
  });

  test('when a sync reads every tab and applies every change, then it is one get, one keyed values write and one batchUpdate, and a sort in between misdirects nothing', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.upsertRows(TABS.attendance, [attendanceRow(1, 'Anna'), attendanceRow(2, 'Bert'), attendanceRow(3, 'Cleo')]);
    emulator.state.insertRowsAsUser(spreadsheetId, 'Attendance', 5, [['', 's1', 'Cohort A', '', 'typed@acme.example', 'Dora']]);
    const before = emulator.calls().length;
    const read = await providers.records.readTabs!([TABS.attendance, TABS.messages]);
    expect(read.get('Messages')).toEqual([]);
    const typed = read.get('Attendance')!.find((r) => r.key === null)!;
    // A manager sorts after Muster's read: the claim and the delete find their rows again, the update goes by key.
    emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Name', descending: true });
    emulator.beforeNext('sheets.spreadsheets.values.batchUpdateByDataFilter', () => emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Email', descending: true }));
    await providers.records.applyChanges!([
      { tab: TABS.attendance, upserts: [attendanceRow(1, 'Anna', { Attendance: 'present' }), { key: 's1:l4', cells: { RSVP: 'none' }, anchor: typed.anchor! }, attendanceRow(5, 'Emil')], deletes: ['s1:l2'] },
      { tab: TABS.messages, upserts: [{ key: 'm1', cells: { 'Sent At': { date: '2026-03-02T08:00:00.000Z' }, 'Learner Email': 'l1@acme.example', Kind: 'invite', Subject: '=1+1' } }], deletes: [] },
    ]);
    const calls = emulator.calls().slice(before).map((c) => c.methodId);
    expect(calls).toEqual(['sheets.spreadsheets.get', 'sheets.spreadsheets.get', 'sheets.spreadsheets.values.batchUpdateByDataFilter', 'sheets.spreadsheets.batchUpdate']);
    const rows = await providers.records.readTab(TABS.attendance);
    expect(rows.map((r) => [r.key, r.cells.Name, r.cells.Attendance]).sort()).toEqual([
      ['s1:l1', 'Anna', 'present'],
      ['s1:l3', 'Cleo', null],
      ['s1:l4', 'Dora', null],
      ['s1:l5', 'Emil', null],
    ]);
    expect((await providers.records.readTab(TABS.messages))[0]!.cells).toMatchObject({ Subject: '=1+1', 'Sent At': { date: '2026-03-02T08:00:00.000Z' } });
    expectNoViolations(emulator);
  });

  test('when the one batchUpdate of a sync is dropped after Sheets applied it, then the retry reads again and adds nothing twice', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    await providers.records.readTabs!([TABS.roster]);
    await providers.records.ensurePersonViews!(TABS.roster, 'Manager Email', ['boss@acme.example']);
    emulator.faults.inject({ method: 'sheets.spreadsheets.batchUpdate', kind: 'drop-after-work' });
    await providers.records.applyChanges!([{ tab: TABS.roster, upserts: [{ key: 'l1', cells: { Email: 'l1@acme.example', 'Manager Email': 'boss@acme.example' } }, { key: 'l2', cells: { Email: 'l2@acme.example' } }], deletes: [] }]);
    const view = emulator.state.spreadsheet(spreadsheetId);
    expect(view.rowMetadata('Roster').filter(Boolean).sort()).toEqual(['l1', 'l2']);
    expect(view.tabs().filter((t) => t === 'Roster')).toHaveLength(1);
    expect(((view.sheet('Roster').filterViews ?? []) as Array<{ title: string }>).map((v) => v.title)).toEqual(['Muster: boss@acme.example']);
    expectNoViolations(emulator);
  });

  test('when one sync\'s rows would exceed the 10 MiB Sheets takes in one request, then they go in several batchUpdates, each whole and under it, and every row lands once', async () => {
    const { emulator, providers, spreadsheetId } = await googleWorld();
    const big = 'x'.repeat(250_000);
    const rows = Array.from({ length: 48 }, (_, i) => ({ key: `l${i}`, cells: { Email: `l${i}@acme.example`, Name: `${i}${big}` } }));
    await providers.records.readTabs!([TABS.roster]);
    const before = emulator.calls().length;
    // Rows are already in the tab when the second request comes: the first carried as many as fit, not just the tab.
    let landedBeforeSecond = -1;
    emulator.beforeNext('sheets.spreadsheets.batchUpdate', () =>
      emulator.beforeNext('sheets.spreadsheets.batchUpdate', () => (landedBeforeSecond = emulator.state.spreadsheet(spreadsheetId).rowMetadata('Roster').filter(Boolean).length)),
    );
    await providers.records.applyChanges!([{ tab: TABS.roster, upserts: rows, deletes: [] }]);
    const writes = emulator.calls().slice(before);
    expect(writes.map((c) => c.methodId)).toEqual(['sheets.spreadsheets.batchUpdate', 'sheets.spreadsheets.batchUpdate']);
    // 48 rows of about 250 kB: at most 9 MB (36 rows) in the first request, the rest in the second.
    expect(landedBeforeSecond).toBeGreaterThanOrEqual(24);
    expect(landedBeforeSecond).toBeLessThanOrEqual(36);
    const view = emulator.state.spreadsheet(spreadsheetId);
    expect(view.rowMetadata('Roster').filter(Boolean)).toEqual(rows.map((r) => r.key));
    expect(view.values('Roster').slice(1).map((r) => r[2]!.length)).toEqual(rows.map((r) => String(r.cells.Name).length));
    expectNoViolations(emulator);
  });

  test('when Sheets answers 429 for a write, then the write is retried after backing off', async () => {
    const { emulator, providers, sleeps } = await googleWorld();
    await providers.records.upsertRows(TABS.roster, [{ key: 'l1', cells: { Email: 'l1@acme.example' } }]);
    emulator.faults.inject({ method: 'sheets.spreadsheets.values.batchUpdateByDataFilter', kind: '429' });
    await providers.records.upsertRows(TABS.roster, [{ key: 'l1', cells: { Name: 'Anna' } }]);
    expect(sleeps.length).toBeGreaterThan(0);
    expect((await providers.records.readTab(TABS.roster))[0]!.cells.Name).toBe('Anna');
    expectNoViolations(emulator);
  });
});
