// Tests the .xlsx records provider by opening what it writes with exceljs: tabs and headers, keyed upserts in place, text that stays text, real dates, deletes and serialized writes.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { ALL_TABS, TABS } from '../../src/domain/records.js';
import type { RecordRow } from '../../src/ports/index.js';
import { createXlsxRecords } from '../../src/providers/local/xlsx-records.js';
import { tempDir } from './helpers.js';

async function openBook(file: string): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  return wb;
}

function column(ws: ExcelJS.Worksheet, header: string): number {
  let found = 0;
  ws.getRow(1).eachCell((c, n) => {
    if (c.value === header) found = n;
  });
  if (!found) throw new Error(`no column ${header}`);
  return found;
}

function rosterRow(key: string, email: string, name: string, extra: Partial<Record<string, string | null>> = {}): RecordRow {
  return {
    key,
    cells: { Email: email, Name: name, 'Manager Email': 'max@example.org', 'Time Zone': 'Europe/Berlin', Department: 'Ops', Language: 'de', Session: 'Cohort A', Status: 'enrolled', ...extra },
  };
}

describe('xlsx records', () => {
  let dir: { path: string; remove(): Promise<void> };
  let file: string;
  beforeEach(async () => {
    dir = await tempDir('xlsx');
    file = join(dir.path, 'records', 'SEC101.xlsx');
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('when tabs are ensured, then every tab exists with its headers in a bold, frozen, filterable first row and sensible widths', async () => {
    const records = createXlsxRecords(file);
    await records.ensureTabs(ALL_TABS);
    const wb = await openBook(file);
    expect(wb.worksheets.map((w) => w.name)).toEqual(ALL_TABS.map((t) => t.name));
    for (const spec of ALL_TABS) {
      const ws = wb.getWorksheet(spec.name)!;
      const headers = (ws.getRow(1).values as unknown[]).slice(1);
      expect(headers).toEqual(spec.headers);
      expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      expect(ws.autoFilter).toBeTruthy();
      for (let c = 1; c <= spec.headers.length; c += 1) expect(ws.getColumn(c).width).toBeGreaterThanOrEqual(10);
    }
    expect(wb.getWorksheet('Roster')!.getColumn(column(wb.getWorksheet('Roster')!, 'Email')).width).toBeGreaterThan(
      wb.getWorksheet('Roster')!.getColumn(column(wb.getWorksheet('Roster')!, 'Status')).width!,
    );
  });

  it('when rows are upserted again, then existing keys are updated in place and only new keys are appended', async () => {
    const records = createXlsxRecords(file);
    await records.ensureTabs([TABS.roster]);
    await records.upsertRows(TABS.roster, [rosterRow('l1', 'a@example.org', 'Ada'), rosterRow('l2', 'b@example.org', 'Ben'), rosterRow('l3', 'c@example.org', 'Cy')]);
    await records.upsertRows(TABS.roster, [rosterRow('l2', 'b@example.org', 'Ben Updated', { Status: 'cancelled' }), rosterRow('l4', 'd@example.org', 'Dee')]);

    const ws = (await openBook(file)).getWorksheet('Roster')!;
    const keyCol = column(ws, 'Key');
    const nameCol = column(ws, 'Name');
    const keys = [2, 3, 4, 5, 6].map((n) => ws.getRow(n).getCell(keyCol).value);
    expect(keys).toEqual(['l1', 'l2', 'l3', 'l4', null]);
    expect(ws.getRow(3).getCell(nameCol).value).toBe('Ben Updated');
    expect(ws.getRow(3).getCell(column(ws, 'Status')).value).toBe('cancelled');

    const rows = await records.readTab(TABS.roster);
    expect(rows.map((r) => r.key)).toEqual(['l1', 'l2', 'l3', 'l4']);
    expect(rows[1]!.cells.Name).toBe('Ben Updated');
  });

  it('when a learner is named like a formula, then the cell is text-formatted text and no formula is stored', async () => {
    const records = createXlsxRecords(file);
    const evil = '=HYPERLINK("http://evil.example","click")';
    await records.upsertRows(TABS.roster, [rosterRow('l1', 'a@example.org', evil, { Department: '+1-555', Language: '@SUM(A1)' })]);
    const ws = (await openBook(file)).getWorksheet('Roster')!;
    for (const header of ['Name', 'Department', 'Language']) {
      const cell = ws.getRow(2).getCell(column(ws, header));
      expect(cell.type).toBe(ExcelJS.ValueType.String);
      expect(cell.formula).toBeUndefined();
      expect(cell.numFmt).toBe('@');
    }
    expect(ws.getRow(2).getCell(column(ws, 'Name')).value).toBe(evil);
    expect((await records.readTab(TABS.roster))[0]!.cells.Name).toBe(evil);
  });

  it('when dates are written, then they are real Excel dates with a date format and read back as the same dates', async () => {
    const records = createXlsxRecords(file);
    await records.upsertRows(TABS.completion, [
      { key: 'c1', cells: { Email: 'a@example.org', Name: 'Ada', Status: 'Completed', 'Completed On': { date: '2026-03-30' }, Due: { date: '2026-04-15' }, Score: 87 } },
    ]);
    await records.upsertRows(TABS.sessions, [
      { key: 's1', cells: { Program: 'Security 101', Session: 'Day 1', Start: { date: '2026-03-30T09:15' }, End: { date: '2026-03-30T11:00' }, Capacity: 20 } },
    ]);
    const wb = await openBook(file);
    const completion = wb.getWorksheet('Completion')!;
    const done = completion.getRow(2).getCell(column(completion, 'Completed On'));
    expect(done.type).toBe(ExcelJS.ValueType.Date);
    expect((done.value as Date).toISOString()).toBe('2026-03-30T00:00:00.000Z');
    expect(done.numFmt).toBe('yyyy-mm-dd');
    expect(completion.getRow(2).getCell(column(completion, 'Score')).value).toBe(87);
    const sessions = wb.getWorksheet('Sessions')!;
    const start = sessions.getRow(2).getCell(column(sessions, 'Start'));
    expect(start.type).toBe(ExcelJS.ValueType.Date);
    expect(start.numFmt).toBe('yyyy-mm-dd hh:mm');
    expect((start.value as Date).toISOString()).toBe('2026-03-30T09:15:00.000Z');

    const [row] = await records.readTab(TABS.completion);
    expect(row!.cells['Completed On']).toEqual({ date: '2026-03-30' });
    expect(row!.cells.Expires).toBeNull();
    expect((await records.readTab(TABS.sessions))[0]!.cells.Start).toEqual({ date: '2026-03-30T09:15:00' });
  });

  it('when a person adds a row without a key and edits an editable cell, then readTab shows both and an upsert keeps them', async () => {
    const records = createXlsxRecords(file);
    await records.upsertRows(TABS.attendance, [
      { key: 'a1', cells: { 'Session ID': 's1', Session: 'Day 1', Date: { date: '2026-03-30' }, Email: 'a@example.org', Name: 'Ada', RSVP: 'accepted', Enrollment: 'enrolled' } },
    ]);
    // A person opens the workbook, marks Ada present and adds a walk-in at the bottom.
    const wb = await openBook(file);
    const ws = wb.getWorksheet('Attendance')!;
    ws.getRow(2).getCell(column(ws, 'Attendance')).value = 'present';
    ws.getRow(3).getCell(column(ws, 'Email')).value = 'walkin@example.org';
    ws.getRow(3).getCell(column(ws, 'Name')).value = 'Walk In';
    await wb.xlsx.writeFile(file);

    const rows = await records.readTab(TABS.attendance);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.cells.Attendance).toBe('present');
    expect(rows[1]).toMatchObject({ key: null, cells: { Email: 'walkin@example.org', Name: 'Walk In' } });

    await records.upsertRows(TABS.attendance, [
      { key: 'a1', cells: { RSVP: 'declined' } },
      { key: 'a2', cells: { Email: 'b@example.org', Name: 'Ben' } },
    ]);
    const after = await records.readTab(TABS.attendance);
    expect(after.map((r) => r.key)).toEqual(['a1', null, 'a2']);
    expect(after[0]!.cells).toMatchObject({ RSVP: 'declined', Attendance: 'present', Name: 'Ada' });
  });

  it('when keys are deleted, then only those rows go and the rest keep their order', async () => {
    const records = createXlsxRecords(file);
    await records.upsertRows(TABS.roster, ['l1', 'l2', 'l3', 'l4', 'l5'].map((k) => rosterRow(k, `${k}@example.org`, k.toUpperCase())));
    await records.deleteRows(TABS.roster, ['l2', 'l4', 'missing']);
    const rows = await records.readTab(TABS.roster);
    expect(rows.map((r) => r.key)).toEqual(['l1', 'l3', 'l5']);
    expect(rows.map((r) => r.cells.Name)).toEqual(['L1', 'L3', 'L5']);
    await records.upsertRows(TABS.roster, [rosterRow('l6', 'l6@example.org', 'L6')]);
    expect((await records.readTab(TABS.roster)).map((r) => r.key)).toEqual(['l1', 'l3', 'l5', 'l6']);
  });

  it('when a sync applies every tab\'s changes at once, then the workbook is written once: missing tabs made, rows updated, a person\'s row claimed, keys deleted', async () => {
    const records = createXlsxRecords(file);
    await records.upsertRows(TABS.roster, ['l1', 'l2', 'l3'].map((k) => rosterRow(k, `${k}@example.org`, k.toUpperCase())));
    const wb = await openBook(file);
    const ws = wb.getWorksheet('Roster')!;
    ws.getRow(5).getCell(column(ws, 'Email')).value = 'typed@example.org';
    await wb.xlsx.writeFile(file);
    const read = await records.readTabs!([TABS.roster, TABS.completion]);
    const typed = read.get('Roster')!.find((r) => r.key === null)!;
    expect(read.get('Completion')).toEqual([]);
    const commits = vi.spyOn(ExcelJS.stream.xlsx.WorkbookWriter.prototype, 'commit');
    try {
      await records.applyChanges!([
        { tab: TABS.roster, upserts: [{ key: 'l1', cells: { Status: 'cancelled' } }, { key: 'l9', cells: { Name: 'Typed' }, anchor: typed.anchor! }], deletes: ['l2'] },
        { tab: TABS.completion, upserts: [{ key: 'l1', cells: { Email: 'l1@example.org', Status: 'Overdue', Due: { date: '2026-04-01' } } }], deletes: [] },
      ]);
      expect(commits).toHaveBeenCalledTimes(1);
    } finally {
      commits.mockRestore();
    }
    const after = await records.readTabs!([TABS.roster, TABS.completion]);
    expect(after.get('Roster')!.map((r) => [r.key, r.cells.Email, r.cells.Status])).toEqual([
      ['l1', 'l1@example.org', 'cancelled'],
      ['l3', 'l3@example.org', 'enrolled'],
      ['l9', 'typed@example.org', null],
    ]);
    expect(after.get('Completion')).toEqual([{ key: 'l1', cells: expect.objectContaining({ Status: 'Overdue', Due: { date: '2026-04-01' } }) }]);
  });

  it('when one tab\'s change is invalid, then applyChanges writes nothing at all', async () => {
    const records = createXlsxRecords(file);
    await records.upsertRows(TABS.roster, [rosterRow('l1', 'l1@example.org', 'L1')]);
    const bad = records.applyChanges!([
      { tab: TABS.roster, upserts: [{ key: 'l1', cells: { Status: 'cancelled' } }], deletes: [] },
      { tab: TABS.completion, upserts: [{ key: 'l1', cells: { Nope: 'x' } }], deletes: [] },
    ]);
    await expect(bad).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await records.readTab(TABS.roster))[0]!.cells.Status).toBe('enrolled');
    expect((await openBook(file)).getWorksheet('Completion')).toBeUndefined();
  });

  it('when many upserts race from two ports on one file, then every row lands and no temporary file is left', async () => {
    const a = createXlsxRecords(file);
    const b = createXlsxRecords(file);
    await a.ensureTabs([TABS.roster]);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).upsertRows(TABS.roster, [rosterRow(`k${i}`, `k${i}@example.org`, `N${i}`)])),
    );
    const rows = await b.readTab(TABS.roster);
    expect(rows.map((r) => r.key).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}`).sort());
    expect((await readdir(join(dir.path, 'records'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('when ensureTabs runs on a workbook with data, then the data stays and a header missing from an older layout is added', async () => {
    const records = createXlsxRecords(file);
    const older = { ...TABS.roster, headers: TABS.roster.headers.filter((h) => h !== 'Language') };
    await records.ensureTabs([older]);
    const { Language: _notInOlderLayout, ...cells } = rosterRow('l1', 'a@example.org', 'Ada').cells;
    await records.upsertRows(older, [{ key: 'l1', cells }]);
    await records.ensureTabs(ALL_TABS);
    const rows = await records.readTab(TABS.roster);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cells).toMatchObject({ Name: 'Ada', Language: null });
    const ws = (await openBook(file)).getWorksheet('Roster')!;
    expect(column(ws, 'Language')).toBe(TABS.roster.headers.length);
  });

  it('when a row names a column the tab does not have, then the upsert fails with VALIDATION_FAILED and the file is untouched', async () => {
    const records = createXlsxRecords(file);
    await records.upsertRows(TABS.roster, [rosterRow('l1', 'a@example.org', 'Ada')]);
    await expect(records.upsertRows(TABS.roster, [{ key: 'l2', cells: { Shoe: '42' } }])).rejects.toSatisfy((e) => isMusterError(e, 'VALIDATION_FAILED'));
    await expect(records.upsertRows(TABS.roster, [{ key: null, cells: { Name: 'x' } }])).rejects.toSatisfy((e) => isMusterError(e, 'VALIDATION_FAILED'));
    expect((await records.readTab(TABS.roster)).map((r) => r.key)).toEqual(['l1']);
  });

  it('when the workbook file is not an .xlsx, then reading fails with a sentence naming the file', async () => {
    await mkdir(join(dir.path, 'records'), { recursive: true });
    await writeFile(file, 'this is not a zip');
    const records = createXlsxRecords(file);
    await expect(records.readTab(TABS.roster)).rejects.toThrow(/SEC101\.xlsx could not be read/);
  });

  it('when the workbook does not exist yet, then readTab returns no rows and creates nothing', async () => {
    const records = createXlsxRecords(file);
    expect(await records.readTab(TABS.roster)).toEqual([]);
    await expect(readdir(join(dir.path, 'records'))).rejects.toThrow();
  });
});
