// RecordsPort over one local .xlsx workbook (exceljs): keyed upserts and deletes, text kept as text and dates as dates, writes serialized and atomic; it never evaluates what people typed.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type ExcelJS from 'exceljs';

// exceljs takes seconds to import on a small machine: load it when a workbook is first touched, not at start-up.
let excelModule: typeof ExcelJS | null = null;
async function excel(): Promise<typeof ExcelJS> {
  excelModule ??= (await import('exceljs')).default;
  return excelModule;
}
/** The loaded module, for code that runs only after a workbook was loaded or created. */
function loadedExcel(): typeof ExcelJS {
  if (!excelModule) throw new MusterError('INTERNAL', 'exceljs used before it was loaded');
  return excelModule;
}
import { MusterError } from '../../domain/errors.js';
import { COL } from '../../domain/records.js';
import type { Cell, RecordRow, RecordsPort, TabSpec } from '../../ports/index.js';

export const XLSX_PROVIDER = 'xlsx';

/** Number formats: '@' keeps a cell text (Excel never evaluates it), dates show as ISO dates. */
export const FMT = { text: '@', date: 'yyyy-mm-dd', dateTime: 'yyyy-mm-dd hh:mm' } as const;

const HEADER_ROW = 1;
const FIRST_DATA_ROW = 2;

type ColumnKind = 'text' | 'date' | 'other';

interface Cached {
  stamp: string;
  workbook: ExcelJS.Workbook;
}

/** One promise chain per file path, shared by every RecordsPort of this process, so writes to one workbook never interleave. */
const queues = new Map<string, Promise<void>>();
/** The workbook as last written by this process, reused while the file on disk is unchanged (same mtime, size and inode). */
const cache = new Map<string, Cached>();
/** Workbooks kept in memory at once (most recently used); a large workbook costs hundreds of megabytes. */
const CACHE_LIMIT = 3;

function remember(file: string, stamp: string, workbook: ExcelJS.Workbook): void {
  cache.delete(file);
  cache.set(file, { stamp, workbook });
  while (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
}

function serialized<T>(file: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const run = previous.then(work);
  // The next caller waits for this one whether it succeeded or not; the failure itself goes to this caller through `run`.
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

function stampOf(s: { mtimeMs: number; size: number; ino: number }): string {
  return `${s.mtimeMs}:${s.size}:${s.ino}`;
}

async function statOrNull(file: string): Promise<{ mtimeMs: number; size: number; ino: number } | null> {
  try {
    return await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function unreadable(file: string, cause: unknown): MusterError {
  return new MusterError('PROVIDER_UNAVAILABLE', `The records workbook ${basename(file)} could not be read as an .xlsx file; restore it or move it aside.`, { cause });
}

async function loadWorkbook(file: string): Promise<ExcelJS.Workbook> {
  const s = await statOrNull(file);
  if (s === null) {
    cache.delete(file);
    return new (await excel()).Workbook();
  }
  const hit = cache.get(file);
  if (hit && hit.stamp === stampOf(s)) return hit.workbook;
  cache.delete(file);
  const workbook = new (await excel()).Workbook();
  try {
    await workbook.xlsx.readFile(file);
  } catch (err) {
    throw unreadable(file, err);
  }
  return workbook;
}

/** A cell's value as exceljs must write it: shared formulas are written as plain formulas. */
function copyValue(cell: ExcelJS.Cell): ExcelJS.CellValue {
  if (cell.type === loadedExcel().ValueType.Formula) {
    const formula = cell.formula;
    return formula ? ({ formula, result: cell.result } as ExcelJS.CellFormulaValue) : ((cell.result ?? null) as ExcelJS.CellValue);
  }
  return cell.value;
}

/**
 * Writes every worksheet to a temporary file with exceljs's streaming writer (about twice as fast as the
 * in-memory writer on large sheets), then renames it over the workbook. Rows in `skip` are left out.
 */
async function writeWorkbook(workbook: ExcelJS.Workbook, file: string, skip: Map<string, Set<number>>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const writer = new (await excel()).stream.xlsx.WorkbookWriter({ filename: tmp, useStyles: true, useSharedStrings: false });
    for (const ws of workbook.worksheets) {
      const skipped = skip.get(ws.name) ?? new Set<number>();
      const out = writer.addWorksheet(ws.name, {
        views: ws.views,
        properties: ws.properties,
        pageSetup: ws.pageSetup,
        state: ws.state,
        ...(ws.autoFilter ? { autoFilter: ws.autoFilter } : {}),
      } as Partial<ExcelJS.AddWorksheetOptions>);
      const columns = ws.columns ?? [];
      if (columns.length > 0) {
        out.columns = columns.map((c) => ({ width: c.width, hidden: c.hidden, style: c.style })) as Array<Partial<ExcelJS.Column>>;
      }
      if (skipped.size === 0) {
        for (const range of (ws.model as { merges?: string[] }).merges ?? []) out.mergeCells(range);
      }
      let removed = 0;
      ws.eachRow({ includeEmpty: true }, (row, n) => {
        if (skipped.has(n)) {
          removed += 1;
          return;
        }
        const target = out.getRow(n - removed);
        if (row.height) target.height = row.height;
        if (row.hidden) target.hidden = true;
        row.eachCell({ includeEmpty: false }, (cell, col) => {
          const o = target.getCell(col);
          o.value = copyValue(cell);
          o.style = cell.style;
        });
        target.commit();
      });
      out.commit();
    }
    await writer.commit();
    await rename(tmp, file);
  } catch (err) {
    const leftover = await unlink(tmp).then(
      () => false,
      (cleanupErr: unknown) => (cleanupErr as NodeJS.ErrnoException).code !== 'ENOENT',
    );
    const note = leftover ? ` A temporary file ${basename(tmp)} was left beside it and can be deleted.` : '';
    if (err instanceof MusterError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new MusterError(
      'PROVIDER_UNAVAILABLE',
      (code === 'EBUSY' || code === 'EPERM' || code === 'EACCES'
        ? `The records workbook ${basename(file)} could not be replaced (${code}); close it in Excel and try again.`
        : `The records workbook ${basename(file)} could not be written (${code}).`) + note,
      { cause: err },
    );
  }
}

function kindOf(spec: TabSpec, header: string): ColumnKind {
  if (header === COL.key || spec.textColumns.includes(header)) return 'text';
  if (spec.dateColumns.includes(header)) return 'date';
  return 'other';
}

const WIDE = /question|reason|note|subject|agenda/i;
const MEDIUM = /email|name|session|program|instructors|link|room|owner|signed/i;

/** A sensible column width in characters for a header. */
export function widthFor(spec: TabSpec, header: string): number {
  if (spec.dateColumns.includes(header)) return 18;
  if (WIDE.test(header)) return 48;
  if (MEDIUM.test(header)) return 30;
  if (header === COL.key) return 26;
  return Math.max(header.length + 4, 12);
}

function headerMap(ws: ExcelJS.Worksheet): Map<string, number> {
  const map = new Map<string, number>();
  ws.getRow(HEADER_ROW).eachCell({ includeEmpty: false }, (cell, col) => {
    const name = cellText(cell.value).trim();
    if (name && !map.has(name)) map.set(name, col);
  });
  return map;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A Date read from a cell (Excel keeps wall time, no zone): 'yyyy-mm-dd' at midnight, else 'yyyy-mm-ddTHH:mm:ss'. */
function dateCell(d: Date): Cell {
  const day = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0) return { date: day };
  return { date: `${day}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` };
}

/** The text a person sees in a cell, whatever exceljs made of it. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) {
    const c = dateCell(value);
    return typeof c === 'object' && c !== null ? c.date : '';
  }
  if ('richText' in value) return value.richText.map((r) => r.text).join('');
  if ('hyperlink' in value) return cellText(value.text as ExcelJS.CellValue);
  if ('error' in value) return String(value.error);
  if ('formula' in value || 'sharedFormula' in value) return cellText((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
  return '';
}

function readCell(value: ExcelJS.CellValue, kind: ColumnKind): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && !(value instanceof Date) && ('formula' in value || 'sharedFormula' in value)) {
    return readCell(((value as ExcelJS.CellFormulaValue).result ?? null) as ExcelJS.CellValue, kind);
  }
  if (kind === 'text') {
    const text = cellText(value);
    return text === '' ? null : text;
  }
  if (value instanceof Date) return dateCell(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value === '' ? null : value;
  const text = cellText(value);
  return text === '' ? null : text;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses a date cell: 'yyyy-mm-dd' or a date-time. Without an offset the time is kept as the wall time given;
 * with 'Z' or an offset it is shown as UTC wall time (pass local wall time to show a session in its own zone).
 */
function toExcelDate(text: string, field: string): { date: Date; withTime: boolean } {
  const m = ISO_DATE.exec(text.trim());
  if (!m) {
    throw new MusterError('VALIDATION_FAILED', 'A date cell needs an ISO 8601 date or date-time.', { details: [{ field, message: `"${text}" is not an ISO 8601 date.` }] });
  }
  const [, y, mo, d, h, mi, s, zone] = m;
  let date: Date;
  if (zone) {
    date = new Date(text.trim().replace(' ', 'T'));
  } else {
    date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)));
  }
  if (Number.isNaN(date.getTime())) {
    throw new MusterError('VALIDATION_FAILED', 'A date cell holds an impossible date.', { details: [{ field, message: `"${text}" is not a real date.` }] });
  }
  return { date, withTime: h !== undefined };
}

function writeCell(cell: ExcelJS.Cell, value: Cell, kind: ColumnKind, field: string): void {
  if (kind === 'text') {
    cell.numFmt = FMT.text;
    // A plain string value: exceljs writes it as a string, never as a formula, whatever it starts with.
    cell.value = value === null ? null : typeof value === 'object' ? value.date : String(value);
    return;
  }
  if (kind === 'date') {
    if (value === null) {
      cell.value = null;
      return;
    }
    if (typeof value === 'object' || typeof value === 'string') {
      const { date, withTime } = toExcelDate(typeof value === 'object' ? value.date : value, field);
      cell.numFmt = withTime ? FMT.dateTime : FMT.date;
      cell.value = date;
      return;
    }
    throw new MusterError('VALIDATION_FAILED', 'A date cell needs a date.', { details: [{ field, message: `${String(value)} is not a date.` }] });
  }
  if (value !== null && typeof value === 'object') {
    const { date, withTime } = toExcelDate(value.date, field);
    cell.numFmt = withTime ? FMT.dateTime : FMT.date;
    cell.value = date;
    return;
  }
  // Numbers and booleans stay typed; a string in a non-text column is still written as a string, not a formula.
  cell.value = value;
}

function styleHeader(ws: ExcelJS.Worksheet, spec: TabSpec, headers: Map<string, number>): void {
  const row = ws.getRow(HEADER_ROW);
  for (const [name, col] of headers) {
    const cell = row.getCell(col);
    cell.numFmt = FMT.text;
    cell.font = { bold: true };
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF7' } };
    const column = ws.getColumn(col);
    if (!column.width) column.width = widthFor(spec, name);
    const kind = kindOf(spec, name);
    if (kind === 'text') column.numFmt = FMT.text;
    if (kind === 'date') column.numFmt = FMT.date;
  }
  ws.views = [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }];
  ws.autoFilter = { from: { row: HEADER_ROW, column: 1 }, to: { row: HEADER_ROW, column: Math.max(...headers.values()) } };
}

/** Creates the tab if missing and appends any header the tab lacks; returns the header map. */
function ensureTab(workbook: ExcelJS.Workbook, spec: TabSpec): { ws: ExcelJS.Worksheet; headers: Map<string, number>; changed: boolean } {
  let ws = workbook.getWorksheet(spec.name);
  let changed = false;
  if (!ws) {
    ws = workbook.addWorksheet(spec.name);
    changed = true;
  }
  const headers = headerMap(ws);
  let next = Math.max(0, ...headers.values()) + 1;
  for (const name of spec.headers) {
    if (headers.has(name)) continue;
    ws.getRow(HEADER_ROW).getCell(next).value = name;
    headers.set(name, next);
    next += 1;
    changed = true;
  }
  if (!headers.has(COL.key)) {
    throw new MusterError('VALIDATION_FAILED', `The tab ${spec.name} needs a ${COL.key} column.`, { details: [{ field: 'headers', message: `No ${COL.key} header.` }] });
  }
  if (changed) styleHeader(ws, spec, headers);
  return { ws, headers, changed };
}

/** Maps each non-empty Key to its row number (the first occurrence wins; later duplicates are left alone). */
function keyIndex(ws: ExcelJS.Worksheet, keyCol: number): Map<string, number> {
  const index = new Map<string, number>();
  const last = ws.rowCount;
  for (let n = FIRST_DATA_ROW; n <= last; n += 1) {
    const key = cellText(ws.getRow(n).getCell(keyCol).value).trim();
    if (key && !index.has(key)) index.set(key, n);
  }
  return index;
}

function rowIsEmpty(row: ExcelJS.Row, headers: Map<string, number>): boolean {
  for (const col of headers.values()) {
    if (cellText(row.getCell(col).value).trim() !== '') return false;
  }
  return true;
}

/** The last row holding anything under a header; rows a person only formatted do not count. */
/** The row an anchor from readTab points at, if it is still a person's row without a key. */
function claimableRow(ws: ExcelJS.Worksheet, keyCol: number, headers: Map<string, number>, anchor: string | undefined): number | undefined {
  const m = /^row:(\d+)$/.exec(anchor ?? '');
  if (!m) return undefined;
  const n = Number(m[1]);
  const row = ws.getRow(n);
  if (n < FIRST_DATA_ROW || rowIsEmpty(row, headers) || cellText(row.getCell(keyCol).value).trim() !== '') return undefined;
  return n;
}

function lastUsedRow(ws: ExcelJS.Worksheet, headers: Map<string, number>): number {
  let n = ws.rowCount;
  while (n >= FIRST_DATA_ROW && rowIsEmpty(ws.getRow(n), headers)) n -= 1;
  return Math.max(n, HEADER_ROW);
}

function assertRows(spec: TabSpec, rows: RecordRow[]): void {
  rows.forEach((row, i) => {
    if (!row.key) {
      throw new MusterError('VALIDATION_FAILED', `Rows written to ${spec.name} need a key.`, { details: [{ field: `rows.${i}.key`, message: 'The key is empty.' }] });
    }
    for (const header of Object.keys(row.cells)) {
      if (header === COL.key) continue;
      if (!spec.headers.includes(header)) {
        throw new MusterError('VALIDATION_FAILED', `${header} is not a column of the ${spec.name} tab.`, {
          details: [{ field: `rows.${i}.cells.${header}`, message: 'Unknown column.' }],
        });
      }
    }
  });
}

/** A tab's rows as people left them; a row a person added has no key yet, and its row number lets a later upsert claim it in place. */
function readRows(workbook: ExcelJS.Workbook, spec: TabSpec): RecordRow[] {
  const ws = workbook.getWorksheet(spec.name);
  if (!ws) return [];
  const headers = headerMap(ws);
  const keyCol = headers.get(COL.key);
  const rows: RecordRow[] = [];
  const last = ws.rowCount;
  for (let n = FIRST_DATA_ROW; n <= last; n += 1) {
    const row = ws.getRow(n);
    if (rowIsEmpty(row, headers)) continue;
    const key = keyCol === undefined ? '' : cellText(row.getCell(keyCol).value).trim();
    const cells: Record<string, Cell> = {};
    for (const header of spec.headers) {
      if (header === COL.key) continue;
      const col = headers.get(header);
      cells[header] = col === undefined ? null : readCell(row.getCell(col).value, kindOf(spec, header));
    }
    rows.push(key === '' ? { key: null, cells, anchor: `row:${n}` } : { key, cells });
  }
  return rows;
}

/** Writes rows by key into a tab that exists (claiming a person's row by its anchor, else appending); whether anything was written. */
function upsertInto(wb: ExcelJS.Workbook, spec: TabSpec, rows: RecordRow[]): boolean {
  if (rows.length === 0) return false;
  const ws = wb.getWorksheet(spec.name)!;
  const headers = headerMap(ws);
  const keyCol = headers.get(COL.key)!;
  const index = keyIndex(ws, keyCol);
  let next = lastUsedRow(ws, headers) + 1;
  for (const [i, r] of rows.entries()) {
    const key = r.key!;
    let n = index.get(key);
    const claimed = n === undefined ? claimableRow(ws, keyCol, headers, r.anchor) : undefined;
    if (claimed !== undefined) {
      n = claimed;
      index.set(key, n);
      writeCell(ws.getRow(n).getCell(keyCol), key, 'text', `rows.${i}.key`);
    }
    if (n === undefined) {
      n = next;
      next += 1;
      index.set(key, n);
      writeCell(ws.getRow(n).getCell(keyCol), key, 'text', `rows.${i}.key`);
    }
    const row = ws.getRow(n);
    for (const [header, value] of Object.entries(r.cells)) {
      if (header === COL.key) continue;
      writeCell(row.getCell(headers.get(header)!), value, kindOf(spec, header), `rows.${i}.cells.${header}`);
    }
  }
  return true;
}

/** The row numbers holding these keys (left out when the workbook is next written). */
function rowsToDelete(wb: ExcelJS.Workbook, spec: TabSpec, keys: string[]): Set<number> {
  const doomed = new Set<number>();
  const ws = wb.getWorksheet(spec.name);
  if (!ws || keys.length === 0) return doomed;
  const keyCol = headerMap(ws).get(COL.key);
  if (keyCol === undefined) return doomed;
  const wanted = new Set(keys);
  const last = ws.rowCount;
  for (let n = FIRST_DATA_ROW; n <= last; n += 1) {
    if (wanted.has(cellText(ws.getRow(n).getCell(keyCol).value).trim())) doomed.add(n);
  }
  return doomed;
}

/** Creates the RecordsPort for one .xlsx file (created on first write; its folder too). */
export function createXlsxRecords(filePath: string): RecordsPort {
  const file = filePath;

  /** Loads, lets `change` edit, writes atomically, and remembers the written workbook unless rows were left out. */
  async function mutate(change: (wb: ExcelJS.Workbook) => { dirty: boolean; skip?: Map<string, Set<number>> }): Promise<void> {
    const workbook = await loadWorkbook(file);
    // Whatever happens next, the in-memory copy may no longer match the file until it is written again.
    cache.delete(file);
    const { dirty, skip } = change(workbook);
    if (!dirty) {
      const s = await statOrNull(file);
      if (s) remember(file, stampOf(s), workbook);
      return;
    }
    await writeWorkbook(workbook, file, skip ?? new Map());
    if (!skip || skip.size === 0) {
      const s = await statOrNull(file);
      if (s) remember(file, stampOf(s), workbook);
    }
  }

  /** Loads the workbook (from the cache while the file is unchanged) and keeps it for the next caller. */
  async function loadRemembered(): Promise<ExcelJS.Workbook> {
    const workbook = await loadWorkbook(file);
    const s = await statOrNull(file);
    if (s) remember(file, stampOf(s), workbook);
    return workbook;
  }

  return {
    provider: XLSX_PROVIDER,

    ensureTabs(tabs: TabSpec[]): Promise<void> {
      return serialized(file, () =>
        mutate((wb) => {
          let dirty = false;
          for (const spec of tabs) dirty = ensureTab(wb, spec).changed || dirty;
          return { dirty };
        }),
      );
    },

    readTab(spec: TabSpec): Promise<RecordRow[]> {
      return serialized(file, async () => readRows(await loadRemembered(), spec));
    },

    /** Every tab from one load of the workbook. */
    readTabs(specs: TabSpec[]): Promise<Map<string, RecordRow[]>> {
      return serialized(file, async () => {
        const workbook = await loadRemembered();
        return new Map(specs.map((spec) => [spec.name, readRows(workbook, spec)]));
      });
    },

    async upsertRows(spec: TabSpec, rows: RecordRow[]): Promise<void> {
      assertRows(spec, rows);
      await serialized(file, () =>
        mutate((wb) => {
          const { changed } = ensureTab(wb, spec);
          return { dirty: upsertInto(wb, spec, rows) || changed };
        }),
      );
    },

    deleteRows(spec: TabSpec, keys: string[]): Promise<void> {
      return serialized(file, () =>
        mutate((wb) => {
          const doomed = rowsToDelete(wb, spec, keys);
          return doomed.size === 0 ? { dirty: false } : { dirty: true, skip: new Map([[spec.name, doomed]]) };
        }),
      );
    },

    /** Every tab's upserts and deletes (and any missing tab) in one load and one save. */
    async applyChanges(changes: Array<{ tab: TabSpec; upserts: RecordRow[]; deletes: string[] }>): Promise<void> {
      for (const c of changes) assertRows(c.tab, c.upserts);
      await serialized(file, () =>
        mutate((wb) => {
          let dirty = false;
          const skip = new Map<string, Set<number>>();
          for (const { tab, upserts, deletes } of changes) {
            dirty = ensureTab(wb, tab).changed || dirty;
            dirty = upsertInto(wb, tab, upserts) || dirty;
            const doomed = rowsToDelete(wb, tab, deletes);
            if (doomed.size > 0) {
              skip.set(tab.name, doomed);
              dirty = true;
            }
          }
          return { dirty, skip };
        }),
      );
    },
  };
}
