// RecordsPort on one program's Excel workbook through Graph's workbook API: tabs with headers, rows upserted by key, text columns formatted as text before values land, the workbook marked as the program's; it never appends blindly and never evaluates what people typed.
import { MusterError } from '../../domain/errors.js';
import type { Cell, Logger, RecordRow, RecordsPort, TabSpec } from '../../ports/index.js';
import { type BatchItem, type BatchItemResult, type MusterGraphClient, query } from './graph-client.js';
import { MICROSOFT_PROVIDER } from './graph-calendar.js';

export const KEY_HEADER = 'Key';
const TEXT_FORMAT = '@';
const DATE_FORMAT = 'yyyy-mm-dd';
const DATETIME_FORMAT = 'yyyy-mm-dd hh:mm';
const GENERAL_FORMAT = 'General';
const MS_PER_DAY = 86_400_000;
const EXCEL_EPOCH_OFFSET_DAYS = 25_569;

/**
 * The worksheet naming the one program whose tabs the workbook holds: A1:B2 = Program, its code; Program id, its id.
 * Graph's workbook API has no document-level metadata, so it is a small tab of its own; adding it is the claim (a second
 * add of the same name is refused), and it is read in the same $batch as the tabs.
 */
export const HOLDER_SHEET = 'Muster';
const HOLDER_RANGE = 'A1:B2';

/** The program a records store writes for (and marks its workbook with). */
export interface RecordsProgram {
  id: string;
  code: string;
}

export interface GraphRecordsOptions {
  client: MusterGraphClient;
  driveId: string;
  itemId: string;
  logger: Logger;
  /** The program this store writes for: marks the workbook as its own on the first write and refuses one marked for another. */
  program?: RecordsProgram;
}

interface RangeBody {
  address?: string;
  rowIndex?: number;
  values?: Array<Array<string | number | boolean>>;
}

export function columnLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** An ISO date or date-time as an Excel serial number (UTC). */
export function toExcelSerial(iso: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(ms)) throw new MusterError('VALIDATION_FAILED', `'${iso}' is not a date.`);
  return ms / MS_PER_DAY + EXCEL_EPOCH_OFFSET_DAYS;
}

export function fromExcelSerial(serial: number): string {
  const iso = new Date(Math.round((serial - EXCEL_EPOCH_OFFSET_DAYS) * MS_PER_DAY)).toISOString();
  return Number.isInteger(serial) ? iso.slice(0, 10) : iso;
}

function formatFor(tab: TabSpec, header: string, cell: Cell | undefined): string {
  if (tab.textColumns.includes(header)) return TEXT_FORMAT;
  if (tab.dateColumns.includes(header)) {
    const d = cell !== null && typeof cell === 'object' ? cell.date : null;
    return d !== null && /^\d{4}-\d{2}-\d{2}$/.test(d) ? DATE_FORMAT : DATETIME_FORMAT;
  }
  return GENERAL_FORMAT;
}

function toExcelValue(tab: TabSpec, header: string, cell: Cell | undefined): string | number | boolean {
  if (cell === undefined || cell === null) return '';
  if (typeof cell === 'object') return toExcelSerial(cell.date);
  if (tab.textColumns.includes(header)) return String(cell);
  return cell;
}

function fromExcelValue(tab: TabSpec, header: string, v: string | number | boolean | undefined): Cell {
  if (v === undefined || v === '') return null;
  if (tab.dateColumns.includes(header) && typeof v === 'number') return { date: fromExcelSerial(v) };
  if (tab.textColumns.includes(header)) return String(v);
  return v;
}

export class GraphRecords implements RecordsPort {
  readonly provider = MICROSOFT_PROVIDER;

  /** The last readTabs, taken (once) by the next applyChanges instead of a second read. */
  private open: WorkbookRead | undefined;

  constructor(private readonly o: GraphRecordsOptions) {}

  private get base(): string {
    return `/drives/${encodeURIComponent(this.o.driveId)}/items/${encodeURIComponent(this.o.itemId)}/workbook`;
  }

  private sheetPath(name: string): string {
    return `${this.base}/worksheets/${encodeURIComponent(name)}`;
  }

  private rangePath(name: string, address: string): string {
    return `${this.sheetPath(name)}/range(address='${address}')`;
  }

  async ensureTabs(tabs: TabSpec[]): Promise<void> {
    const existing = await this.o.client.get<{ value: Array<{ name: string }> }>(`${this.base}/worksheets${query({ $select: 'name' })}`);
    const names = new Set(existing.value.map((w) => w.name.toLowerCase()));
    for (const tab of tabs) {
      if (!names.has(tab.name.toLowerCase())) {
        await this.o.client.request('POST', `${this.base}/worksheets/add`, { name: tab.name }, { retry: 'never' });
        this.o.logger.info('graph.records.tab_created', { tab: tab.name });
      }
      const headers = await this.readHeaders(tab);
      if (headers.length === 0) {
        const last = columnLetter(tab.headers.length - 1);
        await this.writeRow(tab.name, `A1:${last}1`, tab.headers.map(() => TEXT_FORMAT), tab.headers);
      } else if (headers.join('\u0000') !== tab.headers.join('\u0000')) {
        this.o.logger.warn('graph.records.headers_differ', { tab: tab.name });
      }
    }
  }

  private async writeRow(sheet: string, address: string, formats: string[], values: Array<string | number | boolean>): Promise<void> {
    await this.o.client.request('PATCH', this.rangePath(sheet, address), { numberFormat: [formats] }, { retry: 'idempotent' });
    await this.o.client.request('PATCH', this.rangePath(sheet, address), { values: [values] }, { retry: 'idempotent' });
  }

  private async readHeaders(tab: TabSpec): Promise<string[]> {
    const r = await this.o.client.get<RangeBody>(`${this.rangePath(tab.name, `A1:${columnLetter(Math.max(tab.headers.length, 1) - 1)}1`)}${query({ $select: 'values' })}`);
    const row = (r.values?.[0] ?? []).map((v) => String(v));
    return row.every((v) => v === '') ? [] : row;
  }

  /**
   * Each tab's used range, all in one $batch (up to 19 tabs a request), with the holder tab when this store writes for
   * a program; a missing worksheet reads as missing. A workbook another program holds is refused here, before any write.
   */
  private async readStates(tabs: TabSpec[]): Promise<WorkbookRead> {
    const items: BatchItem[] = tabs.map((tab, i) => ({ id: String(i + 1), method: 'GET', url: `${this.sheetPath(tab.name)}/usedRange(valuesOnly=true)${query({ $select: 'address,rowIndex,values' })}` }));
    if (this.o.program) items.push(this.holderItem(String(tabs.length + 1)));
    const results = await this.o.client.batch(items, { retry: 'idempotent' });
    const states = new Map<string, TabState>();
    tabs.forEach((tab, i) => {
      const r = results[i]!;
      if (r.error) {
        if (r.status === 404) return void states.set(tab.name, { exists: false, headers: [], rows: [] });
        throw r.error;
      }
      states.set(tab.name, parseUsed(tab, (r.body ?? {}) as RangeBody));
    });
    const holder = this.o.program ? this.holderOf(results[tabs.length]!) : { sheet: true, program: null };
    this.assertHolds(holder.program);
    return { states, holder };
  }

  private holderItem(id: string): BatchItem {
    return { id, method: 'GET', url: `${this.rangePath(HOLDER_SHEET, HOLDER_RANGE)}${query({ $select: 'values' })}` };
  }

  private holderOf(r: BatchItemResult): WorkbookRead['holder'] {
    if (r.error) {
      if (r.status === 404) return { sheet: false, program: null };
      throw r.error;
    }
    const values = ((r.body ?? {}) as RangeBody).values ?? [];
    const code = String(values[0]?.[1] ?? '');
    const id = String(values[1]?.[1] ?? '');
    return { sheet: true, program: id ? { id, code: code || id } : null };
  }

  /** Refuses a workbook that holds another program's tabs: writing there would overwrite that program's rows. */
  private assertHolds(holder: RecordsProgram | null): void {
    const mine = this.o.program;
    if (!mine || !holder || holder.id === mine.id) return;
    throw new MusterError(
      'CONFLICT',
      `The Excel workbook ${this.o.itemId} holds the records of program ${holder.code}; ${mine.code} cannot share it (its tabs would overwrite ${holder.code}'s rows). Give ${mine.code} its own workbook: PATCH recordsSheet on ${mine.code} with a new workbook's item id, shared with the coordinator.`,
      { details: [{ field: 'recordsSheet', message: `the workbook holds program ${holder.code}` }] },
    );
  }

  async readTab(tab: TabSpec): Promise<RecordRow[]> {
    return ((await this.readStates([tab])).states.get(tab.name)?.rows ?? []).map((r) => r.row);
  }

  /** Every tab in one $batch of range reads; kept for the next applyChanges, which then reads nothing again. */
  async readTabs(tabs: TabSpec[]): Promise<Map<string, RecordRow[]>> {
    const read = await this.readStates(tabs);
    this.open = read;
    return new Map(tabs.map((t) => [t.name, (read.states.get(t.name)?.rows ?? []).map((r) => r.row)]));
  }

  async upsertRows(tab: TabSpec, rows: RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.apply([{ tab, upserts: rows, deletes: [] }], await this.readStates([tab]));
  }

  async deleteRows(tab: TabSpec, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const read = await this.readStates([tab]);
    if (!read.states.get(tab.name)?.exists) return;
    await this.apply([{ tab, upserts: [], deletes: keys }], read);
  }

  /**
   * Every tab's changes against the last readTabs (or a fresh read): missing worksheets added in one $batch, then
   * headers and rows written as runs of consecutive rows (format first, then values, one chain of $batch items), then
   * deletes from the bottom up. Tab additions and deletes are never retried blindly; the writes are idempotent. A
   * workbook not yet marked gets its holder tab in the tab additions and its marker first in the write chain.
   */
  async applyChanges(changes: Array<{ tab: TabSpec; upserts: RecordRow[]; deletes: string[] }>): Promise<void> {
    const read = this.open ?? (await this.readStates(changes.map((c) => c.tab)));
    this.open = undefined;
    await this.apply(changes, read);
  }

  private async apply(changes: Array<{ tab: TabSpec; upserts: RecordRow[]; deletes: string[] }>, read: WorkbookRead): Promise<void> {
    const states = read.states;
    for (const c of changes) for (const row of c.upserts) if (row.key === null) throw new MusterError('VALIDATION_FAILED', `Muster only writes keyed rows to ${c.tab.name}.`);
    const claim = this.o.program && !read.holder.program ? this.o.program : null;
    const missing = changes.filter((c) => !states.get(c.tab.name)?.exists).map((c) => c.tab.name);
    if (claim && !read.holder.sheet) missing.push(HOLDER_SHEET);
    if (missing.length > 0) {
      const added = await this.o.client.batch(
        missing.map((name, i) => ({ id: String(i + 1), method: 'POST', url: `${this.base}/worksheets/add`, body: { name } })),
        { retry: 'never' },
      );
      for (const [i, r] of added.entries()) {
        // Added meanwhile by someone else: as good as added here; but a holder tab added meanwhile may name another program.
        if (r.error && r.status !== 409) throw r.error;
        if (r.error && missing[i] === HOLDER_SHEET) {
          const again = await this.o.client.batch([this.holderItem('1')], { retry: 'idempotent' });
          this.assertHolds(this.holderOf(again[0]!).program);
        }
        this.o.logger.info('graph.records.tab_created', { tab: missing[i]! });
      }
    }
    const writes: BatchItem[] = [];
    const patch = (sheet: string, address: string, body: unknown): void => {
      const id = String(writes.length + 1);
      writes.push({ id, method: 'PATCH', url: this.rangePath(sheet, address), body, ...(writes.length > 0 ? { dependsOn: [String(writes.length)] } : {}) });
    };
    if (claim) {
      // First in the chain: nothing below lands unless the workbook is marked as this program's.
      patch(HOLDER_SHEET, HOLDER_RANGE, { numberFormat: [[TEXT_FORMAT, TEXT_FORMAT], [TEXT_FORMAT, TEXT_FORMAT]] });
      patch(HOLDER_SHEET, HOLDER_RANGE, { values: [['Program', claim.code], ['Program id', claim.id]] });
    }
    const deletes: Array<{ sheet: string; address: string }> = [];
    for (const { tab, upserts, deletes: keys } of changes) {
      const state = states.get(tab.name) ?? { exists: false, headers: [], rows: [] };
      const headers = state.headers.length > 0 ? state.headers : tab.headers;
      const last = columnLetter(headers.length - 1);
      if (state.headers.length === 0) {
        patch(tab.name, `A1:${last}1`, { numberFormat: [headers.map(() => TEXT_FORMAT)] });
        patch(tab.name, `A1:${last}1`, { values: [headers] });
      } else if (state.headers.join('\u0000') !== tab.headers.join('\u0000')) {
        this.o.logger.warn('graph.records.headers_differ', { tab: tab.name });
      }
      const byKey = new Map(state.rows.filter((r) => r.row.key !== null).map((r) => [r.row.key as string, r.sheetRow]));
      let nextRow = Math.max(1, ...state.rows.map((r) => r.sheetRow)) + 1;
      const placed = upserts.map((row) => {
        const at = byKey.get(row.key!);
        const sheetRow = at ?? nextRow++;
        byKey.set(row.key!, sheetRow);
        return { sheetRow, row, fresh: at === undefined };
      });
      placed.sort((x, y) => x.sheetRow - y.sheetRow);
      // Consecutive rows share one range: one format write and one value write each.
      for (let i = 0; i < placed.length; ) {
        let j = i + 1;
        while (j < placed.length && placed[j]!.sheetRow === placed[j - 1]!.sheetRow + 1) j++;
        const run = placed.slice(i, j);
        const address = `A${run[0]!.sheetRow}:${last}${run[run.length - 1]!.sheetRow}`;
        // A cell Muster leaves out of an existing row (a person's kept edit) is sent as null: Graph leaves it alone.
        const cellsOf = (p: (typeof run)[number]): Record<string, Cell> => ({ ...p.row.cells, [KEY_HEADER]: p.row.key });
        const keep = (p: (typeof run)[number], h: string) => !p.fresh && !(h in p.row.cells) && h !== KEY_HEADER;
        patch(tab.name, address, { numberFormat: run.map((p) => headers.map((h) => (keep(p, h) ? null : formatFor(tab, h, cellsOf(p)[h])))) });
        patch(tab.name, address, { values: run.map((p) => headers.map((h) => (keep(p, h) ? null : toExcelValue(tab, h, cellsOf(p)[h])))) });
        i = j;
      }
      const doomed = new Set(keys);
      for (const r of state.rows) if (r.row.key !== null && doomed.has(r.row.key)) deletes.push({ sheet: tab.name, address: `A${r.sheetRow}:${last}${r.sheetRow}` });
    }
    if (writes.length > 0) {
      const results = await this.o.client.batch(writes, { retry: 'idempotent' });
      const failed = results.find((r) => r.error !== null);
      if (failed?.error) throw failed.error;
    }
    if (deletes.length > 0) {
      // Bottom-up within each tab, each after the one before: every delete shifts the rows below it.
      const ordered = deletes.sort((x, y) => (x.sheet === y.sheet ? rowOf(y.address) - rowOf(x.address) : x.sheet < y.sheet ? -1 : 1));
      const items: BatchItem[] = ordered.map((d, i) => ({ id: String(i + 1), method: 'POST', url: `${this.rangePath(d.sheet, d.address)}/delete`, body: { shift: 'Up' }, ...(i > 0 ? { dependsOn: [String(i)] } : {}) }));
      const results = await this.o.client.batch(items, { retry: 'never' });
      const failed = results.find((r) => r.error !== null);
      if (failed?.error) throw failed.error;
    }
  }
}

/** One read of the workbook: the tabs asked for, and whether the holder tab exists and which program it names. */
interface WorkbookRead {
  states: Map<string, TabState>;
  holder: { sheet: boolean; program: RecordsProgram | null };
}

interface TabState {
  exists: boolean;
  /** The header row as the sheet has it; empty when the tab has none yet. */
  headers: string[];
  /** Data rows with their 1-based sheet row numbers; keyed by the Key column. */
  rows: Array<{ sheetRow: number; row: RecordRow }>;
}

function rowOf(address: string): number {
  return Number(/^[A-Z]+(\d+)/.exec(address)?.[1] ?? 0);
}

/** A used range (values only) as a tab's header and rows; a range not starting at A1 holds no Muster rows. */
function parseUsed(tab: TabSpec, r: RangeBody): TabState {
  const values = r.values ?? [];
  if ((r.rowIndex ?? 0) !== 0 || values.length === 0) return { exists: true, headers: [], rows: [] };
  const headers = (values[0] ?? []).map((v) => String(v));
  const present = headers.some((h) => h !== '');
  const rows = values.slice(1).flatMap((line, i) => {
    if (line.every((v) => v === '')) return [];
    const cells: Record<string, Cell> = {};
    headers.forEach((h, j) => {
      if (h !== '') cells[h] = fromExcelValue(tab, h, line[j]);
    });
    const key = cells[KEY_HEADER];
    return [{ sheetRow: i + 2, row: { key: typeof key === 'string' && key !== '' ? key : null, cells } }];
  });
  return { exists: true, headers: present ? headers : [], rows };
}
