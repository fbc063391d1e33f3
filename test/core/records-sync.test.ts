// The records workbook as people use it: rows added by hand are imported or kept with a reason, hand edits are never overwritten silently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { join } from 'node:path';
import { startTestService, type TestService } from '../support/service.js';
import { workbookRows } from '../support/xlsx.js';

async function edit(file: string, change: (wb: ExcelJS.Workbook) => void): Promise<void> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  change(wb);
  await wb.xlsx.writeFile(file);
}


describe('records sync on the local workbook', () => {
  let svc: TestService;
  let file: string;

  beforeAll(async () => {
    svc = await startTestService();
    file = join(svc.dataDir, 'records', 'SEC101.xlsx');
    await svc.api('POST', '/api/programs/SEC101/sync');
  });
  afterAll(async () => svc?.close());

  it('when a manager adds two learners and edits a Completion cell, then the valid one is imported, the other keeps its reason, and the edit is a conflict, not overwritten', async () => {
    const before = await workbookRows(file, 'Roster');
    await edit(file, (wb) => {
      const roster = wb.getWorksheet('Roster')!;
      const headers = (roster.getRow(1).values as unknown[]).slice(1).map(String);
      const col = (h: string) => headers.indexOf(h) + 1;
      const add = (values: Record<string, string>) => {
        const r = roster.getRow(roster.rowCount + 1);
        for (const [h, v] of Object.entries(values)) r.getCell(col(h)).value = v;
        r.commit();
      };
      add({ Email: 'nina.new@example.com', Name: 'Nina New', 'Manager Email': 'lena.vogel@example.com', 'Time Zone': 'Europe/Vienna', Session: 'Cohort B' });
      add({ Email: '', Name: 'No Address', 'Manager Email': 'lena.vogel@example.com', 'Time Zone': 'Europe/Vienna' });
      const completion = wb.getWorksheet('Completion')!;
      const ch = (completion.getRow(1).values as unknown[]).slice(1).map(String);
      completion.getRow(2).getCell(ch.indexOf('Status') + 1).value = 'Completed (told me in person)';
      completion.getRow(2).commit();
    });
    const sync = await svc.api('POST', '/api/programs/SEC101/sync');
    expect(sync.status).toBe(200);
    expect(sync.body.imported).toBe(1);
    expect(sync.body.rejected).toBe(1);
    expect(sync.body.conflicts).toHaveLength(1);
    expect(sync.body.conflicts[0]).toMatchObject({ tab: 'Completion', column: 'Status', theirs: 'Completed (told me in person)' });

    const roster = await svc.api('GET', '/api/programs/SEC101/roster');
    const nina = roster.body.learners.find((l: { email: string }) => l.email === 'nina.new@example.com');
    expect(nina).toBeTruthy();
    expect(nina.enrollments).toHaveLength(1);

    const after = await workbookRows(file, 'Roster');
    // No duplicate row: the row Nina's manager typed became her keyed row.
    expect(after.filter((r) => r.Email === 'nina.new@example.com')).toHaveLength(1);
    expect(after.find((r) => r.Email === 'nina.new@example.com')!.Key).toBe(nina.id);
    const noAddress = after.find((r) => r.Name === 'No Address')!;
    expect(String(noAddress.Status)).toContain('missing email');
    expect(after).toHaveLength(before.length + 2);

    const completion = await workbookRows(file, 'Completion');
    expect(completion[0]!.Status).toBe('Completed (told me in person)');

    // A second sync changes nothing further and still reports the kept edit.
    const again = await svc.api('POST', '/api/programs/SEC101/sync');
    expect(again.body.imported).toBe(0);
    expect((await workbookRows(file, 'Completion'))[0]!.Status).toBe('Completed (told me in person)');
    const checklist = await svc.api('GET', '/api/programs/SEC101/checklist');
    expect(checklist.body.items.map((i: { id: string }) => i.id)).toContain('records.conflicts');
  });

  it('when a coordinator types an attendance into the Attendance tab, then Muster takes it in', async () => {
    const att = await workbookRows(file, 'Attendance');
    const target = att.find((r) => !r.Attendance)!;
    await edit(file, (wb) => {
      const ws = wb.getWorksheet('Attendance')!;
      const headers = (ws.getRow(1).values as unknown[]).slice(1).map(String);
      ws.eachRow((row, n) => {
        if (n > 1 && row.getCell(headers.indexOf('Key') + 1).value === target.Key) {
          row.getCell(headers.indexOf('Attendance') + 1).value = 'late';
          row.commit();
        }
      });
    });
    const sync = await svc.api('POST', '/api/programs/SEC101/sync');
    expect(sync.body.conflicts.filter((c: { tab: string }) => c.tab === 'Attendance')).toHaveLength(0);
    const state = await svc.api('GET', `/api/sessions/${target['Session ID']}/state`);
    expect(state.body.learners.find((l: { email: string }) => l.email === target.Email).attendance).toBe('late');
  });
});
