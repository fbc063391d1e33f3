// Hostile names, notes and addresses stay inert text in the Google Sheet and the Excel workbook, checked in the emulators' stored cells after real syncs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import type { ExtendedValue, Spreadsheet } from '../emulators/google/sheets.js';
import { startGraphEmulator, type GraphEmulator } from '../emulators/graph/index.js';
import { writeNumberFormat, writeValue, type Cell as XlCell, type Workbook } from '../emulators/graph/workbook.js';
import { ALL_TABS } from '../../src/domain/records.js';
import { startTestService, type TestService } from '../support/service.js';
import { startGoogleService } from '../support/google-service.js';
import { PAYLOADS, expectedEntries, expectedFromApi, isHostile, renameHostileLearners, seedHostileProgram, signOffSome, type Expected } from './hostile-records.js';

const CODE = 'INJECT2';

/** One stored cell of a tab, with the header of its column. */
interface Stored<C> {
  tab: string;
  ref: string;
  column: string;
  cell: C;
}

// ---------- Google Sheets: entered and effective values ----------

interface SheetCell {
  entered?: ExtendedValue;
  effective?: ExtendedValue;
}

function sheetCells(ss: Spreadsheet, tab: string): Array<Stored<SheetCell>> {
  const sheet = ss.sheets.find((s) => s.properties.title === tab);
  if (!sheet) throw new Error(`no ${tab} tab in the Sheet`);
  const header = (sheet.rows[0]?.cells ?? []).map((c) => c?.entered?.stringValue ?? '');
  const out: Array<Stored<SheetCell>> = [];
  sheet.rows.forEach((row, r) =>
    row.cells.forEach((cell, c) => {
      if (r > 0 && cell?.entered) out.push({ tab, ref: `${String.fromCharCode(65 + c)}${r + 1}`, column: header[c] ?? '', cell });
    }),
  );
  return out;
}

/** Why a Sheet cell is not inert text, or null: a formula, or an effective value other than what was entered. */
function sheetProblem(cell: SheetCell): string | null {
  const e = cell.entered ?? {};
  if (e.formulaValue !== undefined) return `formula ${JSON.stringify(e.formulaValue)}`;
  if (e.stringValue !== undefined && cell.effective?.stringValue !== e.stringValue) return `entered ${JSON.stringify(e.stringValue)} but shows ${JSON.stringify(cell.effective)}`;
  return null;
}

// ---------- Excel through Graph: formulas and number formats ----------

function workbookCells(wb: Workbook, tab: string): Array<Stored<XlCell>> {
  const ws = wb.sheets.find((s) => s.name === tab);
  if (!ws) throw new Error(`no ${tab} worksheet in the workbook`);
  const header = new Map<number, string>();
  for (const [k, cell] of ws.cells) {
    const [r, c] = k.split(',').map(Number) as [number, number];
    if (r === 0) header.set(c, String(cell.value));
  }
  const out: Array<Stored<XlCell>> = [];
  for (const [k, cell] of ws.cells) {
    const [r, c] = k.split(',').map(Number) as [number, number];
    if (r > 0 && (cell.value !== '' || cell.formula !== null)) out.push({ tab, ref: `${String.fromCharCode(65 + c)}${r + 1}`, column: header.get(c) ?? '', cell });
  }
  return out;
}

/**
 * Why an Excel cell is not inert text, or null. Besides a stored formula: text starting with = + - @ (or a tab or CR)
 * must sit in a text-formatted cell, since Excel itself parses + - @ as formulas too (the emulator only parses =).
 */
function excelProblem(cell: XlCell): string | null {
  if (cell.formula !== null) return `formula ${JSON.stringify(cell.formula)}`;
  if (typeof cell.value === 'string' && isHostile(cell.value) && cell.numberFormat !== '@') return `${JSON.stringify(cell.value)} in a ${cell.numberFormat} cell, not text-formatted`;
  return null;
}

// ---------- the shared checks ----------

function checkStored<C>(cells: Array<Stored<C>>, expected: Expected, problem: (c: C) => string | null, text: (c: C) => unknown): void {
  const problems = cells.map((s) => ({ at: `${s.tab}!${s.ref} (${s.column})`, why: problem(s.cell) })).filter((p) => p.why !== null);
  expect(problems).toEqual([]);
  const entries = expectedEntries(expected);
  // Every tab the hostile values reach is in the expectation, and each value sits there as exactly its text.
  expect(new Set(entries.map((e) => e.tab))).toEqual(new Set(['Roster', 'Sessions', 'Attendance', 'Completion', 'Managers', 'Questions', 'Checklist']));
  const missing = entries.filter((e) => !cells.some((s) => s.tab === e.tab && s.column === e.column && text(s.cell) === e.text && problem(s.cell) === null));
  expect(missing).toEqual([]);
  // Every starter and the script element reached at least one cell.
  const texts = cells.map((s) => text(s.cell)).filter((t): t is string => typeof t === 'string');
  for (const start of ['=', '+', '-', '@']) expect(texts.some((t) => t.startsWith(start)), `a cell starting with ${start}`).toBe(true);
  expect(texts.some((t) => t.includes('<script>')), 'a cell holding <script>').toBe(true);
}

async function scenario(svc: TestService, domain: string, check: (expected: Expected) => void): Promise<void> {
  await seedHostileProgram(svc, CODE, domain);
  const first = await svc.api('POST', `/api/programs/${CODE}/sync`);
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  check(await expectedFromApi(svc, CODE));
  // Rows that already exist are rewritten by another request path than new rows: rename people and sign off more.
  await renameHostileLearners(svc, CODE, domain);
  expect(await signOffSome(svc, CODE, 3)).toBeGreaterThan(0);
  const second = await svc.api('POST', `/api/programs/${CODE}/sync`);
  expect(second.status, JSON.stringify(second.body)).toBe(200);
  expect(second.body.written).toBeGreaterThan(0);
  expect(second.body.conflicts).toEqual([]);
  check(await expectedFromApi(svc, CODE));
}

describe('hostile text in the Google Sheet (Sheets emulator)', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  let spreadsheetId: string;
  const dir = mkdtempSync(join(tmpdir(), 'muster-inject-g-'));

  beforeAll(async () => {
    // Quotas are not this test's subject: two syncs of eight tabs read more than 60 times a minute.
    emulator = await startGoogleEmulator({ quotas: { sheetsReadsPerMinute: 10_000, sheetsWritesPerMinute: 10_000 } });
    emulator.state.addUser({ email: 'coord@acme.example', name: 'Casey Coordinator' });
    spreadsheetId = emulator.state.createSpreadsheet('Muster records');
    svc = await startGoogleService(emulator, { coordinator: 'coord@acme.example', spreadsheetId, dir });
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the same text is typed into the emulator as USER_ENTERED, then it is evaluated, and as RAW it is not (the check can fail)', () => {
    const scratch = emulator.state.createSpreadsheet('scratch');
    const ss = emulator.state.sheets.get(scratch);
    PAYLOADS.forEach((text, i) => {
      emulator.state.sheets.writeValues(emulator.state.sheets.parseRange(ss, `Sheet1!A${i + 2}`), [[text]], 'USER_ENTERED');
      emulator.state.sheets.writeValues(emulator.state.sheets.parseRange(ss, `Sheet1!B${i + 2}`), [[text]], 'RAW');
    });
    const cells = sheetCells(ss, 'Sheet1');
    const flagged = cells.filter((s) => sheetProblem(s.cell) !== null).map((s) => s.ref);
    expect(flagged).toEqual(['A2', 'A3']);
    expect(cells.find((s) => s.ref === 'A2')!.cell.effective).toEqual({ stringValue: 'x' });
    expect(cells.find((s) => s.ref === 'A3')!.cell.effective).toEqual({ numberValue: 2 });
  });

  it('when a program full of hostile text is synced twice, then every cell of every tab is entered as a string and shows exactly that string', async () => {
    await scenario(svc, 'acme.example', (expected) => {
      const ss = emulator.state.sheets.get(spreadsheetId);
      const cells = ALL_TABS.flatMap((t) => sheetCells(ss, t.name));
      checkStored(cells, expected, sheetProblem, (c) => c.entered?.stringValue);
    });
    expect(emulator.violations()).toEqual([]);
  }, 120_000);
});

describe('hostile text in the Excel workbook (Graph emulator)', () => {
  const DRIVE = 'b!drive';
  const ITEM = '01RECORDS';
  let em: GraphEmulator;
  let svc: TestService;

  beforeAll(async () => {
    em = await startGraphEmulator();
    em.state.addUser({ mail: 'training@contoso.com', displayName: 'Training Team' });
    em.state.addWorkbook(DRIVE, ITEM, ['Sheet1']);
    svc = await startTestService({
      seedDemo: false,
      env: {
        MUSTER_PROVIDER: 'microsoft',
        MS_TENANT_ID: em.tenantId,
        MS_CLIENT_ID: em.clientId,
        MS_CLIENT_SECRET: em.clientSecret,
        MS_ORGANIZER: 'training@contoso.com',
        MS_AUTHORITY_HOST: em.authorityHost,
        GRAPH_BASE_URL: em.baseUrl,
        MS_WORKBOOK_DRIVE_ID: DRIVE,
        MS_WORKBOOK_ITEM_ID: ITEM,
        MS_APP_ONLY_WORKBOOK: 'true',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await em?.close();
  });

  it('when the same text lands in a General cell of the emulator it becomes a formula or is flagged, and in a text cell it is not (the check can fail)', () => {
    const wb = em.state.addWorkbook(DRIVE, '01SCRATCH', ['Sheet1']);
    const ws = wb.sheets[0]!;
    PAYLOADS.forEach((text, i) => {
      writeValue(ws, 0, i, `H${i}`);
      writeValue(ws, 1, i, text);
      writeNumberFormat(ws, 2, i, '@');
      writeValue(ws, 2, i, text);
    });
    const cells = workbookCells(wb, 'Sheet1');
    const flagged = cells.filter((s) => excelProblem(s.cell) !== null).map((s) => s.ref);
    expect(flagged).toEqual(PAYLOADS.map((_, i) => `${String.fromCharCode(65 + i)}2`).filter((_, i) => isHostile(PAYLOADS[i]!)));
    expect(cells.find((s) => s.ref === 'B2')!.cell).toMatchObject({ formula: '=1+1', value: 2 });
    expect(cells.find((s) => s.ref === 'B3')!.cell).toMatchObject({ formula: null, value: '=1+1', numberFormat: '@' });
  });

  it('when a program full of hostile text is synced twice, then every cell of every worksheet is a text-formatted string, never a formula', async () => {
    await scenario(svc, 'contoso.com', (expected) => {
      const wb = em.state.workbook(DRIVE, ITEM)!;
      const cells = ALL_TABS.flatMap((t) => workbookCells(wb, t.name));
      checkStored(cells, expected, excelProblem, (c) => c.value);
    });
    expect(em.violations()).toEqual([]);
  }, 120_000);
});
