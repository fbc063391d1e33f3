// RecordsPort on one program's Google Sheet: tabs with frozen headers, protections, validation and formats; rows identified by row developer metadata, a sync read in one request and written in one or two; it does not merge, the use cases do.
import { createHash } from 'node:crypto';
import type { sheets_v4 } from 'googleapis';
import { MusterError } from '../../domain/errors.js';
import { COL, TAB } from '../../domain/records.js';
import type { Cell, RecordRow, RecordsPort, TabSpec } from '../../ports/index.js';
import { isRetryable, toMusterError, withRetry, type RetryDeps } from './google-errors.js';

/** The developer metadata key every Muster row carries; its value is the row's key. */
export const MUSTER_KEY = 'musterKey';

/** Spreadsheet developer metadata naming the one program whose tabs the spreadsheet holds: its id, and its code for messages. */
export const MUSTER_PROGRAM = 'musterProgram';
export const MUSTER_PROGRAM_CODE = 'musterProgramCode';
/** Fixed ids for those two: a second program's claim meanwhile fails its whole batchUpdate (the id is taken) instead of adding a second holder. */
const PROGRAM_METADATA_IDS = { id: 1_299_543_924, code: 1_299_543_925 } as const;

/** The program a records store writes for (and marks its spreadsheet with). */
export interface RecordsProgram {
  id: string;
  code: string;
}

/** Status columns people edit, with the values data validation offers. */
export const VALIDATED_COLUMNS: Record<string, Record<string, string[]>> = {
  [TAB.attendance]: { Attendance: ['present', 'late', 'excused', 'absent'] },
};

/** The Completion tab's Status value that conditional formatting highlights. */
export const OVERDUE = { tab: TAB.completion, column: 'Status', text: 'Overdue' } as const;

/** Date columns that hold a time of day as well. */
export const DATE_TIME_COLUMNS = new Set(['Start', 'End', 'Sent At']);
const DATE_FORMAT = { type: 'DATE', pattern: 'yyyy-mm-dd' };
const DATE_TIME_FORMAT = { type: 'DATE_TIME', pattern: 'yyyy-mm-dd hh:mm' };
const INITIAL_ROWS = 1000;
const DAY_MS = 86_400_000;
const SERIAL_EPOCH = Date.UTC(1899, 11, 30);

export function toSerial(isoDateOrDateTime: string): number {
  const ms = Date.parse(isoDateOrDateTime.length === 10 ? `${isoDateOrDateTime}T00:00:00Z` : isoDateOrDateTime);
  if (Number.isNaN(ms)) throw new MusterError('VALIDATION_FAILED', `Not a date: ${isoDateOrDateTime}`);
  return (ms - SERIAL_EPOCH) / DAY_MS;
}

export function fromSerial(serial: number, withTime: boolean): string {
  const iso = new Date(SERIAL_EPOCH + Math.round(serial * DAY_MS)).toISOString();
  return withTime ? iso : iso.slice(0, 10);
}

/** A stable sheetId for a tab title, so one batchUpdate can create a tab and format it. */
export function sheetIdForTab(title: string): number {
  return createHash('sha256').update(title).digest().readUInt32BE(0) % 2_000_000_000;
}

function quoteTab(title: string): string {
  return `'${title.replace(/'/g, "''")}'`;
}

interface GridRow {
  rowIndex: number;
  key: string | null;
  cells: Record<string, Cell>;
}

interface Grid {
  sheetId: number;
  /** Column index of each header, as the sheet has them now (people may move columns). */
  columns: Map<string, number>;
  rows: GridRow[];
  /** One past the last row holding data or a key (at least 1, below the header). */
  end: number;
}

function cellToValue(cell: Cell, column: string, dateColumns: Set<string>): unknown {
  if (cell === null) return '';
  if (typeof cell === 'object') return toSerial(cell.date);
  if (typeof cell === 'string' && dateColumns.has(column) && /^\d{4}-\d{2}-\d{2}/.test(cell)) return toSerial(cell);
  return cell;
}

function cellToExtended(cell: Cell, column: string, dateColumns: Set<string>): sheets_v4.Schema$CellData {
  const v = cellToValue(cell, column, dateColumns);
  const out: sheets_v4.Schema$CellData = {};
  if (typeof v === 'number') out.userEnteredValue = { numberValue: v };
  else if (typeof v === 'boolean') out.userEnteredValue = { boolValue: v };
  else if (v !== '') out.userEnteredValue = { stringValue: String(v) }; // stringValue is never parsed: the RAW of updateCells
  if (dateColumns.has(column)) out.userEnteredFormat = { numberFormat: DATE_TIME_COLUMNS.has(column) ? DATE_TIME_FORMAT : DATE_FORMAT };
  return out;
}

function fromCellData(cd: sheets_v4.Schema$CellData | undefined, column: string, dateColumns: Set<string>): Cell {
  const v = cd?.effectiveValue;
  if (!v) return null;
  if (v.errorValue) return cd?.formattedValue ?? '#ERROR!';
  if (v.numberValue !== undefined && v.numberValue !== null) {
    const t = cd?.userEnteredFormat?.numberFormat?.type;
    if (dateColumns.has(column) || t === 'DATE' || t === 'DATE_TIME') return { date: fromSerial(v.numberValue, DATE_TIME_COLUMNS.has(column) || t === 'DATE_TIME') };
    return v.numberValue;
  }
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return v.stringValue ?? null;
}

export interface GoogleSheetsRecordsOptions {
  sheets: sheets_v4.Sheets;
  spreadsheetId: string;
  /** The coordinator Muster acts as: the only editor of the header rows. */
  owner: string;
  retry: RetryDeps;
  /** The program this store writes for: marks the spreadsheet as its own on the first write and refuses one marked for another. */
  program?: RecordsProgram;
}

type Change = { tab: TabSpec; upserts: RecordRow[]; deletes: string[] };

/** What one read saw: each sheet's id and saved views, the grids of the tabs asked for, and the program the spreadsheet holds. */
interface Snapshot {
  sheets: Map<string, { sheetId: number; views: Set<string> }>;
  grids: Map<string, Grid>;
  holder: RecordsProgram | null;
}

/** Saved views asked for while a read is open: added by the next applyChanges, in its one write. */
interface PendingViews {
  tab: TabSpec;
  column: string;
  people: string[];
}

/** One tab's share of a write: created or not, rows updated by key, rows claimed, inserted and deleted by position. */
interface TabPlan {
  tab: TabSpec;
  grid: Grid;
  create: boolean;
  updates: RecordRow[];
  claims: Array<{ row: RecordRow; at: GridRow }>;
  inserts: RecordRow[];
  /** Row indexes, bottom-up. */
  deletes: number[];
}

/**
 * Sheets refuses a request body over 10,485,760 bytes ("Request payload size exceeds the limit"): a larger write goes
 * in several requests of at most this many bytes, each whole groups of requests.
 */
const MAX_REQUEST_BYTES = 9_000_000;
/** Rows appended by one insert-write-tag group, at most. */
const INSERT_BLOCK = 500;

/** Splits rows to append into blocks small enough that each one's requests fit well inside one request body. */
function blocks(rows: RecordRow[]): RecordRow[][] {
  const out: RecordRow[][] = [];
  let current: RecordRow[] = [];
  let size = 0;
  for (const row of rows) {
    // The row's CellData and key tag: its cells' JSON, about 60 bytes of wrapping per cell, and 300 for the tag.
    const bytes = Buffer.byteLength(JSON.stringify(row.cells)) + 60 * Object.keys(row.cells).length + 300;
    if (current.length > 0 && (current.length >= INSERT_BLOCK || size + bytes > MAX_REQUEST_BYTES / 2)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Packs groups, in order, into as few lists as keep each under MAX_REQUEST_BYTES of JSON. */
function pack<T>(groups: T[][]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const g of groups) {
    const bytes = Buffer.byteLength(JSON.stringify(g));
    if (current.length > 0 && size + bytes > MAX_REQUEST_BYTES) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(...g);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const HOLDER_FIELDS = 'developerMetadata(metadataKey,metadataValue)';
const READ_FIELDS = HOLDER_FIELDS + ',sheets(properties(sheetId,title),filterViews(title),data(startRow,rowData(values(effectiveValue,formattedValue,userEnteredFormat.numberFormat)),rowMetadata(developerMetadata(metadataKey,metadataValue))))';

/**
 * A sync is one read (readTabs: one spreadsheets.get of every tab's cells, row keys and saved views) and one or two
 * writes (applyChanges): changed rows go by key through one values.batchUpdateByDataFilter (a person's sort cannot
 * misdirect them), and everything else (missing tabs with their formatting, claims of people's rows, appends, deletes,
 * saved views) goes in one spreadsheets.batchUpdate, split only where it would pass Sheets' 10 MiB request limit.
 * Claims and deletes find rows by position, so when there are any the tabs are read again just before writing.
 * ensurePersonViews called between readTabs and applyChanges only queues its views for that write.
 */
export class GoogleSheetsRecords implements RecordsPort {
  readonly provider = 'google';
  private readonly api: sheets_v4.Sheets;
  private readonly spreadsheetId: string;
  private readonly owner: string;
  private readonly retry: RetryDeps;
  private readonly program: RecordsProgram | undefined;
  /** The last readTabs, taken (once) by the next applyChanges instead of a second read. */
  private open: Snapshot | undefined;
  private pendingViews: PendingViews[] = [];
  /** Tab titles the spreadsheet had at the last whole read: when every wanted tab is among them, a read asks for just those. */
  private known = new Set<string>();

  constructor(opts: GoogleSheetsRecordsOptions) {
    this.api = opts.sheets;
    this.spreadsheetId = opts.spreadsheetId;
    this.owner = opts.owner;
    this.retry = opts.retry;
    this.program = opts.program;
  }

  async ensureTabs(tabs: TabSpec[]): Promise<void> {
    const res = await withRetry('sheets.spreadsheets.get', () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, fields: `${HOLDER_FIELDS},sheets.properties(sheetId,title)` }), this.retry);
    this.assertHolds(holderOf(res.data));
    const existing = res.data.sheets ?? [];
    const titles = new Set(existing.map((s) => s.properties?.title));
    const ids = new Set(existing.map((s) => s.properties?.sheetId));
    const requests: sheets_v4.Schema$Request[] = [];
    for (const tab of tabs) {
      if (titles.has(tab.name)) continue;
      let sheetId = sheetIdForTab(tab.name);
      while (ids.has(sheetId)) sheetId += 1;
      ids.add(sheetId);
      requests.push(...this.tabRequests(tab, sheetId));
    }
    if (requests.length === 0) return;
    // One write for every missing tab. Retried only on throttling: the addSheet would refuse a second copy anyway.
    await this.batchUpdate(requests);
  }

  async ensurePersonViews(tab: TabSpec, column: string, people: string[]): Promise<void> {
    if (people.length === 0) return;
    if (this.open) {
      this.pendingViews.push({ tab, column, people });
      return;
    }
    const res = await withRetry(
      'sheets.spreadsheets.get',
      () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, ranges: [quoteTab(tab.name)], fields: 'sheets(properties(sheetId,title),filterViews(title))' }),
      this.retry,
    );
    const sheet = res.data.sheets?.find((x) => x.properties?.title === tab.name);
    if (!sheet) return;
    const titles = new Set((sheet.filterViews ?? []).map((f) => f.title ?? ''));
    const requests = viewRequests(sheet.properties!.sheetId!, tab.headers.indexOf(column), people, titles);
    if (requests.length > 0) await this.batchUpdate(requests);
  }

  async readTab(tab: TabSpec): Promise<RecordRow[]> {
    return rowsOf((await this.read([tab])).grids.get(tab.name));
  }

  async readTabs(tabs: TabSpec[]): Promise<Map<string, RecordRow[]>> {
    const snap = await this.read(tabs);
    this.open = snap;
    return new Map(tabs.map((t) => [t.name, rowsOf(snap.grids.get(t.name))]));
  }

  async applyChanges(changes: Change[]): Promise<void> {
    const earlier = this.open;
    const views = this.pendingViews;
    this.open = undefined;
    this.pendingViews = [];
    await this.apply(changes, earlier ?? (await this.read(changes.map((c) => c.tab))), views, earlier !== undefined);
  }

  async upsertRows(tab: TabSpec, rows: RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.apply([{ tab, upserts: rows, deletes: [] }], await this.read([tab]), [], false);
  }

  async deleteRows(tab: TabSpec, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const snap = await this.read([tab]);
    if (!snap.grids.has(tab.name)) return;
    await this.apply([{ tab, upserts: [], deletes: keys }], snap, [], false);
  }

  /**
   * Writes the changes against what `snap` saw. Claims and deletes find rows by position: when the snapshot is from an
   * earlier read (readTabs, before the merge), those tabs are read again first. A batch whose outcome is unknown is
   * rebuilt from a fresh read, so nothing lands twice.
   */
  private async apply(changes: Change[], snap: Snapshot, views: PendingViews[], earlier: boolean): Promise<void> {
    let plans = this.plan(changes, snap);
    const positional = plans.filter((p) => !p.create && (p.claims.length > 0 || p.deletes.length > 0)).map((p) => p.tab);
    if (earlier && positional.length > 0) {
      const again = await this.read(positional);
      for (const [name, grid] of again.grids) snap.grids.set(name, grid);
      plans = this.plan(changes, snap);
    }
    // Chunks of the current plan already applied (a plan too big for one request goes in several, each self-contained).
    let sent = 0;
    for (let attempt = 1; ; ) {
      const updates = plans.filter((p) => p.updates.length > 0);
      if (updates.length > 0) {
        const missing = await this.writeByKey(updates);
        for (const p of plans) p.inserts.push(...(missing.get(p.tab.name) ?? []));
      }
      const claim = this.program && !snap.holder ? [claimRequests(this.program)] : [];
      const chunks = pack([...claim, ...this.requests(plans, snap, views)]);
      try {
        for (; sent < chunks.length; sent++) await this.api.spreadsheets.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: { requests: chunks[sent]! } });
        for (const p of plans) if (p.create) this.known.add(p.tab.name);
        return;
      } catch (raw) {
        const err = toMusterError(raw);
        // Refused while claiming the spreadsheet: another program may have claimed it meanwhile (its metadata id is taken).
        if (claim.length > 0 && sent === 0 && err.code === 'PROVIDER_REJECTED') this.assertHolds(await this.readHolder());
        const unknown = err.code === 'OUTCOME_UNKNOWN' || err.code === 'PROVIDER_UNAVAILABLE';
        if ((!isRetryable(err) && !unknown) || attempt >= 5) throw err;
        const wait = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : Math.min(32_000, 500 * 2 ** (attempt - 1) * (0.5 + this.retry.random() / 2));
        this.retry.logger.warn('google.retry', { op: 'sheets.batchUpdate.records', attempt, code: err.code, waitMs: wait });
        attempt++;
        await this.retry.sleep(wait);
        // The updates by key already landed.
        for (const p of plans) p.updates = [];
        // Throttled: certainly not applied, so the same chunk again. Otherwise not idempotent as sent: find out what landed and send only the rest.
        if (err.code === 'PROVIDER_THROTTLED') continue;
        snap = await this.read(changes.map((c) => c.tab));
        plans = this.plan(changes, snap);
        sent = 0;
      }
    }
  }

  /** Sorts each row into an update (its key is in the tab), a claim (its anchor finds a person's row) or an append. */
  private plan(changes: Change[], snap: Snapshot): TabPlan[] {
    const ids = new Set([...snap.sheets.values()].map((s) => s.sheetId));
    return changes.map(({ tab, upserts, deletes }) => {
      let grid = snap.grids.get(tab.name);
      const create = !grid;
      if (!grid) {
        let sheetId = sheetIdForTab(tab.name);
        while (ids.has(sheetId)) sheetId += 1;
        ids.add(sheetId);
        grid = { sheetId, columns: new Map(tab.headers.map((h, i) => [h, i])), rows: [], end: 1 };
      }
      const plan: TabPlan = { tab, grid, create, updates: [], claims: [], inserts: [], deletes: [] };
      const byKey = new Map(grid.rows.filter((r) => r.key !== null).map((r) => [r.key!, r]));
      const unkeyed = grid.rows.filter((r) => r.key === null);
      for (const row of upserts) {
        const current = row.key === null ? undefined : byKey.get(row.key);
        const anchored = !current && row.anchor?.startsWith('cells:') ? unkeyed.find((r) => `cells:${fingerprint(r.cells)}` === row.anchor && !plan.claims.some((c) => c.at === r)) : undefined;
        if (anchored) plan.claims.push({ row, at: anchored });
        else if (!current) plan.inserts.push(row);
        else if (Object.entries(row.cells).some(([col, v]) => grid!.columns.has(col) && JSON.stringify(current.cells[col] ?? null) !== JSON.stringify(v))) plan.updates.push(row);
      }
      const doomed = new Set(deletes);
      plan.deletes = grid.rows.filter((r) => r.key !== null && doomed.has(r.key)).map((r) => r.rowIndex).sort((a, b) => b - a);
      return plan;
    });
  }

  /**
   * The batchUpdate's requests in self-contained groups, in order: new tabs first, then per tab each claim, appends at
   * the end in blocks, and deletes from the bottom up (appends lie below them); saved views last.
   */
  private requests(plans: TabPlan[], snap: Snapshot, views: PendingViews[]): sheets_v4.Schema$Request[][] {
    const groups: sheets_v4.Schema$Request[][] = [];
    for (const p of plans) if (p.create) groups.push(this.tabRequests(p.tab, p.grid.sheetId));
    for (const p of plans) {
      const dates = new Set(p.tab.dateColumns);
      for (const claim of p.claims) groups.push(this.claimRequests(p.grid, [claim], dates));
      let at = p.grid.end;
      for (const block of blocks(p.inserts)) {
        groups.push(this.insertRequests(p.grid, at, block, dates));
        at += block.length;
      }
      for (const i of p.deletes) groups.push([{ deleteDimension: { range: { sheetId: p.grid.sheetId, dimension: 'ROWS', startIndex: i, endIndex: i + 1 } } }]);
    }
    const seen = new Map<string, Set<string>>();
    for (const v of views) {
      const plan = plans.find((p) => p.tab.name === v.tab.name);
      const sheet = snap.sheets.get(v.tab.name);
      const sheetId = plan?.grid.sheetId ?? sheet?.sheetId;
      if (sheetId === undefined) continue;
      const titles = seen.get(v.tab.name) ?? new Set(sheet?.views ?? []);
      seen.set(v.tab.name, titles);
      const column = plan?.grid.columns.get(v.column) ?? v.tab.headers.indexOf(v.column);
      const requests = viewRequests(sheetId, column, v.people, titles);
      if (requests.length > 0) groups.push(requests);
    }
    return groups;
  }

  /** Tags rows people typed with their new keys and writes Muster's cells into them, keeping what the person typed elsewhere. */
  private claimRequests(grid: Grid, claims: Array<{ row: RecordRow; at: GridRow }>, dates: Set<string>): sheets_v4.Schema$Request[] {
    const width = Math.max(0, ...grid.columns.values()) + 1;
    const byIndex = new Map([...grid.columns].map(([name, i]) => [i, name]));
    const requests: sheets_v4.Schema$Request[] = [];
    for (const { row, at } of claims) {
      requests.push({
        updateCells: {
          start: { sheetId: grid.sheetId, rowIndex: at.rowIndex, columnIndex: 0 },
          fields: 'userEnteredValue,userEnteredFormat.numberFormat',
          rows: [
            {
              values: Array.from({ length: width }, (_, c) => {
                const name = byIndex.get(c);
                if (name === undefined) return {};
                const cell = name === COL.key ? row.key : name in row.cells ? (row.cells[name] ?? null) : (at.cells[name] ?? null);
                return cellToExtended(cell, name, dates);
              }),
            },
          ],
        },
      });
      requests.push(keyTag(grid.sheetId, at.rowIndex, row.key!));
    }
    return requests;
  }

  /** Header, frozen row, date formats, protections, validation and the Overdue rule for one new tab. */
  private tabRequests(tab: TabSpec, sheetId: number): sheets_v4.Schema$Request[] {
    const width = tab.headers.length;
    const requests: sheets_v4.Schema$Request[] = [
      { addSheet: { properties: { sheetId, title: tab.name, gridProperties: { rowCount: INITIAL_ROWS, columnCount: width, frozenRowCount: 1 } } } },
      {
        updateCells: {
          start: { sheetId, rowIndex: 0, columnIndex: 0 },
          rows: [{ values: tab.headers.map((h) => ({ userEnteredValue: { stringValue: h }, userEnteredFormat: { textFormat: { bold: true } } })) }],
          fields: 'userEnteredValue,userEnteredFormat.textFormat.bold',
        },
      },
      {
        addProtectedRange: {
          protectedRange: { range: { sheetId, startRowIndex: 0, endRowIndex: 1 }, description: 'Muster: header row', warningOnly: false, editors: { users: [this.owner] } },
        },
      },
    ];
    tab.dateColumns.forEach((col) => {
      const c = tab.headers.indexOf(col);
      if (c === -1) return;
      requests.push({
        repeatCell: {
          range: { sheetId, startRowIndex: 1, startColumnIndex: c, endColumnIndex: c + 1 },
          cell: { userEnteredFormat: { numberFormat: DATE_TIME_COLUMNS.has(col) ? DATE_TIME_FORMAT : DATE_FORMAT } },
          fields: 'userEnteredFormat.numberFormat',
        },
      });
    });
    // Columns only Muster writes: a warning before anyone edits them (a hard lock would also block managers from sorting the tab).
    for (const [start, end] of runs(tab.headers.map((h) => !tab.editableColumns.includes(h)))) {
      requests.push({
        addProtectedRange: {
          protectedRange: { range: { sheetId, startRowIndex: 1, startColumnIndex: start, endColumnIndex: end }, description: `Muster: ${tab.headers.slice(start, end).join(', ')} (written by Muster)`, warningOnly: true },
        },
      });
    }
    for (const [col, values] of Object.entries(VALIDATED_COLUMNS[tab.name] ?? {})) {
      const c = tab.headers.indexOf(col);
      if (c === -1) continue;
      requests.push({
        setDataValidation: {
          range: { sheetId, startRowIndex: 1, startColumnIndex: c, endColumnIndex: c + 1 },
          rule: { condition: { type: 'ONE_OF_LIST', values: values.map((v) => ({ userEnteredValue: v })) }, strict: true, showCustomUi: true },
        },
      });
    }
    if (tab.name === OVERDUE.tab && tab.headers.includes(OVERDUE.column)) {
      const c = tab.headers.indexOf(OVERDUE.column);
      requests.push({
        addConditionalFormatRule: {
          index: 0,
          rule: {
            ranges: [{ sheetId, startRowIndex: 1, startColumnIndex: 0, endColumnIndex: width }],
            booleanRule: {
              condition: { type: 'CUSTOM_FORMULA', values: [{ userEnteredValue: `=$${colLetter(c)}2="${OVERDUE.text}"` }] },
              format: { backgroundColor: { red: 0.98, green: 0.82, blue: 0.82 }, textFormat: { bold: true } },
            },
          },
        },
      });
    }
    return requests;
  }

  /**
   * One spreadsheets.get of the tabs' cells and row keys together (so positions and keys come from the same moment),
   * with every sheet's saved views. Asks for just these tabs when all are known to exist; otherwise reads the whole
   * spreadsheet, since asking for a missing tab fails the whole request.
   */
  private async read(tabs: TabSpec[]): Promise<Snapshot> {
    const names = tabs.map((t) => t.name);
    const narrow = names.length > 0 && names.every((n) => this.known.has(n));
    const get = (ranges: string[] | undefined) =>
      withRetry('sheets.spreadsheets.get', () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, ...(ranges ? { ranges } : {}), includeGridData: true, fields: READ_FIELDS }), this.retry);
    let res: { data: sheets_v4.Schema$Spreadsheet };
    try {
      res = await get(narrow ? names.map(quoteTab) : undefined);
    } catch (err) {
      const e = toMusterError(err);
      // A tab renamed or deleted by a person since the last read: read the whole spreadsheet instead.
      if (!(narrow && e.code === 'PROVIDER_REJECTED' && /Unable to parse range/i.test(e.message))) throw e;
      res = await get(undefined);
    }
    const sheets = new Map<string, { sheetId: number; views: Set<string> }>();
    for (const s of res.data.sheets ?? []) {
      if (s.properties?.title == null || s.properties.sheetId == null) continue;
      sheets.set(s.properties.title, { sheetId: s.properties.sheetId, views: new Set((s.filterViews ?? []).map((f) => f.title ?? '')) });
    }
    const holder = holderOf(res.data);
    this.assertHolds(holder);
    if (!narrow || sheets.size < names.length) this.known = new Set(sheets.keys());
    const grids = new Map<string, Grid>();
    for (const tab of tabs) {
      const sheet = res.data.sheets?.find((s) => s.properties?.title === tab.name);
      if (sheet) grids.set(tab.name, parseGrid(sheet, tab));
    }
    return { sheets, grids, holder };
  }

  /** The program the spreadsheet holds, read alone (only after a refused claim). */
  private async readHolder(): Promise<RecordsProgram | null> {
    const res = await withRetry('sheets.spreadsheets.get', () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, fields: HOLDER_FIELDS }), this.retry);
    return holderOf(res.data);
  }

  /** Refuses a spreadsheet that holds another program's tabs: writing there would overwrite that program's rows. */
  private assertHolds(holder: RecordsProgram | null): void {
    if (!this.program || !holder || holder.id === this.program.id) return;
    const mine = this.program.code;
    throw new MusterError(
      'CONFLICT',
      `The Google Sheet ${this.spreadsheetId} holds the records of program ${holder.code}; ${mine} cannot share it (its tabs would overwrite ${holder.code}'s rows). Give ${mine} its own Sheet: PATCH recordsSheet on ${mine} with a new Sheet's address, shared with the coordinator.`,
      { details: [{ field: 'recordsSheet', message: `the Sheet holds program ${holder.code}` }] },
    );
  }

  private rowValues(grid: Grid, row: RecordRow, dates: Set<string>): unknown[] {
    const width = Math.max(0, ...grid.columns.values()) + 1;
    const values: unknown[] = Array.from({ length: width }, () => null); // null leaves a cell as it is
    for (const [col, cell] of Object.entries(row.cells)) {
      const c = grid.columns.get(col);
      if (c !== undefined) values[c] = cellToValue(cell, col, dates);
    }
    const keyColumn = grid.columns.get(COL.key);
    if (keyColumn !== undefined) values[keyColumn] = row.key ?? null;
    return values;
  }

  /**
   * Writes existing rows of every tab through their developer metadata, in one request, so a sort since the read
   * cannot misdirect them (RAW: never evaluated); returns, by tab, the rows whose key vanished meanwhile.
   */
  private async writeByKey(plans: TabPlan[]): Promise<Map<string, RecordRow[]>> {
    const targets = plans.flatMap((p) => p.updates.map((row) => ({ plan: p, row })));
    const data: sheets_v4.Schema$DataFilterValueRange[] = targets.map(({ plan, row }) => ({
      dataFilter: {
        developerMetadataLookup: {
          metadataKey: MUSTER_KEY,
          metadataValue: row.key!,
          locationType: 'ROW',
          metadataLocation: { sheetId: plan.grid.sheetId },
          locationMatchingStrategy: 'INTERSECTING_LOCATION',
        },
      },
      majorDimension: 'ROWS',
      values: [this.rowValues(plan.grid, row, new Set(plan.tab.dateColumns))],
    }));
    const responses: sheets_v4.Schema$UpdateValuesByDataFilterResponse[] = [];
    for (const part of pack(data.map((d) => [d]))) {
      // Idempotent (same values into the same keyed rows), so throttling and dropped connections may be retried.
      const call = () => this.api.spreadsheets.values.batchUpdateByDataFilter({ spreadsheetId: this.spreadsheetId, requestBody: { valueInputOption: 'RAW', data: part } });
      let res;
      try {
        res = await withRetry('sheets.values.batchUpdateByDataFilter', call, this.retry);
      } catch (err) {
        if (toMusterError(err).code !== 'OUTCOME_UNKNOWN') throw toMusterError(err);
        res = await withRetry('sheets.values.batchUpdateByDataFilter', call, this.retry);
      }
      responses.push(...Array.from({ length: part.length }, (_, i) => res.data.responses?.[i] ?? {}));
    }
    const missing = new Map<string, RecordRow[]>();
    targets.forEach(({ plan, row }, i) => {
      if (responses[i]?.updatedRange) return;
      missing.set(plan.tab.name, [...(missing.get(plan.tab.name) ?? []), row]);
    });
    for (const [tab, rows] of missing) this.retry.logger.warn('sheets.rows.missing', { tab, count: rows.length });
    return missing;
  }

  /** Appends rows at `at` and tags each with its key in the same batch (insert, write, tag), so no untagged row is ever left behind. */
  private insertRequests(grid: Grid, at: number, rows: RecordRow[], dates: Set<string>): sheets_v4.Schema$Request[] {
    const width = Math.max(0, ...grid.columns.values()) + 1;
    const byIndex = new Map([...grid.columns].map(([name, i]) => [i, name]));
    const requests: sheets_v4.Schema$Request[] = [
      { insertDimension: { range: { sheetId: grid.sheetId, dimension: 'ROWS', startIndex: at, endIndex: at + rows.length }, inheritFromBefore: at > 1 } },
      {
        updateCells: {
          start: { sheetId: grid.sheetId, rowIndex: at, columnIndex: 0 },
          fields: 'userEnteredValue,userEnteredFormat.numberFormat',
          rows: rows.map((row) => ({
            values: Array.from({ length: width }, (_, c) => {
              const name = byIndex.get(c);
              if (name === undefined) return {};
              const cell = name === COL.key ? row.key : (row.cells[name] ?? null);
              return cellToExtended(cell, name, dates);
            }),
          })),
        },
      },
    ];
    rows.forEach((row, i) => {
      if (row.key !== null) requests.push(keyTag(grid.sheetId, at + i, row.key));
    });
    return requests;
  }

  private async batchUpdate(requests: sheets_v4.Schema$Request[]): Promise<void> {
    const call = () => this.api.spreadsheets.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: { requests } });
    for (let attempt = 1; ; attempt++) {
      try {
        await call();
        return;
      } catch (raw) {
        const err = toMusterError(raw);
        // Only throttling means "certainly not applied"; anything else is surfaced for the caller to settle.
        if (err.code !== 'PROVIDER_THROTTLED' || !isRetryable(err) || attempt >= 5) throw err;
        const wait = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : Math.min(32_000, 500 * 2 ** (attempt - 1) * (0.5 + this.retry.random() / 2));
        await this.retry.sleep(wait);
      }
    }
  }
}


/** The program a spreadsheet's developer metadata names as its holder, if any. */
function holderOf(ss: sheets_v4.Schema$Spreadsheet): RecordsProgram | null {
  const meta = ss.developerMetadata ?? [];
  const id = meta.find((m) => m.metadataKey === MUSTER_PROGRAM)?.metadataValue;
  if (!id) return null;
  return { id, code: meta.find((m) => m.metadataKey === MUSTER_PROGRAM_CODE)?.metadataValue ?? id };
}

/** Marks the spreadsheet as the program's, under fixed metadata ids so only one program's claim can ever land. */
function claimRequests(program: RecordsProgram): sheets_v4.Schema$Request[] {
  const meta = (metadataId: number, metadataKey: string, metadataValue: string): sheets_v4.Schema$Request => ({
    createDeveloperMetadata: { developerMetadata: { metadataId, metadataKey, metadataValue, location: { spreadsheet: true }, visibility: 'DOCUMENT' } },
  });
  return [meta(PROGRAM_METADATA_IDS.id, MUSTER_PROGRAM, program.id), meta(PROGRAM_METADATA_IDS.code, MUSTER_PROGRAM_CODE, program.code)];
}

/** Tags one row with Muster's key (developer metadata moves with its row through sorts and inserts). */
function keyTag(sheetId: number, rowIndex: number, key: string): sheets_v4.Schema$Request {
  return {
    createDeveloperMetadata: {
      developerMetadata: { metadataKey: MUSTER_KEY, metadataValue: key, location: { dimensionRange: { sheetId, dimension: 'ROWS', startIndex: rowIndex, endIndex: rowIndex + 1 } }, visibility: 'DOCUMENT' },
    },
  };
}

/** A saved view per person not yet among `titles` (which it extends), filtering `columnIndex` to their address. */
function viewRequests(sheetId: number, columnIndex: number, people: string[], titles: Set<string>): sheets_v4.Schema$Request[] {
  if (columnIndex < 0) return [];
  const requests: sheets_v4.Schema$Request[] = [];
  for (const p of people) {
    const title = personViewTitle(p);
    if (titles.has(title)) continue;
    titles.add(title);
    requests.push({
      addFilterView: {
        filter: { title, range: { sheetId }, filterSpecs: [{ columnIndex, filterCriteria: { condition: { type: 'TEXT_EQ', values: [{ userEnteredValue: p }] } } }] },
      },
    });
  }
  return requests;
}

/** The rows a reader sees; a row a person typed has no key yet, and its content fingerprint lets a later upsert find and claim it, even after a sort. */
function rowsOf(grid: Grid | undefined): RecordRow[] {
  return grid ? grid.rows.map((r) => (r.key === null ? { key: null, cells: r.cells, anchor: `cells:${fingerprint(r.cells)}` } : { key: r.key, cells: r.cells })) : [];
}

/** A sheet's rows as read: header names by column, each data row's key (row developer metadata) and cells. */
function parseGrid(sheet: sheets_v4.Schema$Sheet, tab: TabSpec): Grid {
  const data = sheet.data?.[0];
  const start = data?.startRow ?? 0;
  const rowData = data?.rowData ?? [];
  const rowMeta = data?.rowMetadata ?? [];
  const header = (rowData[0 - start]?.values ?? []).map((cd) => cd.formattedValue ?? '');
  const columns = new Map<string, number>();
  header.forEach((h, i) => h && !columns.has(h) && columns.set(h, i));
  const dates = new Set(tab.dateColumns);
  const rows: GridRow[] = [];
  let end = 1;
  const total = Math.max(rowData.length, rowMeta.length);
  for (let i = 1 - start; i < total; i++) {
    const rowIndex = i + start;
    const key = rowMeta[i]?.developerMetadata?.find((m) => m.metadataKey === MUSTER_KEY)?.metadataValue ?? null;
    const values = rowData[i]?.values ?? [];
    const cells: Record<string, Cell> = {};
    let any = false;
    for (const [name, c] of columns) {
      const v = fromCellData(values[c], name, dates);
      cells[name] = v;
      if (v !== null) any = true;
    }
    if (!any && key === null) continue;
    rows.push({ rowIndex, key, cells });
    end = rowIndex + 1;
  }
  return { sheetId: sheet.properties!.sheetId!, columns, rows, end };
}

function runs(flags: boolean[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  flags.forEach((f, i) => {
    if (f && start === -1) start = i;
    if (!f && start !== -1) {
      out.push([start, i]);
      start = -1;
    }
  });
  if (start !== -1) out.push([start, flags.length]);
  return out;
}

function colLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const m = (n - 1) % 26;
    s = String.fromCharCode(65 + m) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** A short, stable fingerprint of a row's cells (how a person's unkeyed row is recognised again). */
function fingerprint(cells: Record<string, Cell>): string {
  const keys = Object.keys(cells).sort();
  return createHash('sha256').update(JSON.stringify(keys.map((k) => [k, cells[k] ?? null]))).digest('hex').slice(0, 16);
}

/** The title of a person's saved view (Sheets shows it under Data → Filter views). */
export function personViewTitle(person: string): string {
  return `Muster: ${person}`.slice(0, 100);
}
