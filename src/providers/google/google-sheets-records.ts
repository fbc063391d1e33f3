// RecordsPort on one shared Google Sheet: tabs with frozen headers, protections, validation and formats; rows found by row developer metadata (never by position) and written in as few requests as possible; it does not merge, the use cases do.
import { createHash } from 'node:crypto';
import type { sheets_v4 } from 'googleapis';
import { MusterError } from '../../domain/errors.js';
import { COL, TAB } from '../../domain/records.js';
import type { Cell, RecordRow, RecordsPort, TabSpec } from '../../ports/index.js';
import { isRetryable, toMusterError, withRetry, type RetryDeps } from './google-errors.js';

/** The developer metadata key every Muster row carries; its value is the row's key. */
export const MUSTER_KEY = 'musterKey';

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
}

export class GoogleSheetsRecords implements RecordsPort {
  readonly provider = 'google';
  private readonly api: sheets_v4.Sheets;
  private readonly spreadsheetId: string;
  private readonly owner: string;
  private readonly retry: RetryDeps;

  constructor(opts: GoogleSheetsRecordsOptions) {
    this.api = opts.sheets;
    this.spreadsheetId = opts.spreadsheetId;
    this.owner = opts.owner;
    this.retry = opts.retry;
  }

  async ensureTabs(tabs: TabSpec[]): Promise<void> {
    const res = await withRetry('sheets.spreadsheets.get', () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, fields: 'sheets.properties(sheetId,title)' }), this.retry);
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
    const res = await withRetry(
      'sheets.spreadsheets.get',
      () => this.api.spreadsheets.get({ spreadsheetId: this.spreadsheetId, ranges: [quoteTab(tab.name)], fields: 'sheets(properties(sheetId,title),filterViews(title))' }),
      this.retry,
    );
    const sheet = res.data.sheets?.find((x) => x.properties?.title === tab.name);
    if (!sheet) return;
    const columnIndex = tab.headers.indexOf(column);
    if (columnIndex < 0) return;
    const titles = new Set((sheet.filterViews ?? []).map((f) => f.title));
    const requests: sheets_v4.Schema$Request[] = people
      .filter((p) => !titles.has(personViewTitle(p)))
      .map((p) => ({
        addFilterView: {
          filter: {
            title: personViewTitle(p),
            range: { sheetId: sheet.properties!.sheetId! },
            filterSpecs: [{ columnIndex, filterCriteria: { condition: { type: 'TEXT_EQ', values: [{ userEnteredValue: p }] } } }],
          },
        },
      }));
    if (requests.length > 0) await this.batchUpdate(requests);
  }

  async readTab(tab: TabSpec): Promise<RecordRow[]> {
    const grid = await this.readGrid(tab);
    // A row a person typed has no key yet: its content fingerprint lets a later upsert find and claim it, even after a sort.
    return grid ? grid.rows.map((r) => (r.key === null ? { key: null, cells: r.cells, anchor: `cells:${fingerprint(r.cells)}` } : { key: r.key, cells: r.cells })) : [];
  }

  async upsertRows(tab: TabSpec, rows: RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    let grid = await this.readGrid(tab);
    if (!grid) {
      await this.ensureTabs([tab]);
      grid = await this.readGrid(tab);
      if (!grid) throw new MusterError('INTERNAL', `The ${tab.name} tab could not be created.`);
    }
    const dates = new Set(tab.dateColumns);
    const byKey = new Map(grid.rows.filter((r) => r.key !== null).map((r) => [r.key!, r]));
    const updates: RecordRow[] = [];
    let inserts: RecordRow[] = [];
    const claims: Array<{ row: RecordRow; at: GridRow }> = [];
    const unkeyed = grid.rows.filter((r) => r.key === null);
    for (const row of rows) {
      const current = row.key === null ? undefined : byKey.get(row.key);
      const anchored = !current && row.anchor?.startsWith('cells:') ? unkeyed.find((r) => `cells:${fingerprint(r.cells)}` === row.anchor && !claims.some((c) => c.at === r)) : undefined;
      if (anchored) claims.push({ row, at: anchored });
      else if (!current) inserts.push(row);
      else if (Object.entries(row.cells).some(([col, v]) => JSON.stringify(current.cells[col] ?? null) !== JSON.stringify(v))) updates.push(row);
    }
    if (updates.length > 0) {
      const missing = await this.writeByKey(tab, grid, updates, dates);
      inserts = inserts.concat(missing);
    }
    if (claims.length > 0) await this.claimRows(grid, claims, dates);
    if (inserts.length > 0) await this.insertRows(tab, grid, inserts, dates);
  }

  /** Tags rows people typed with their new keys and writes Muster's cells into them, keeping what the person typed elsewhere. */
  private async claimRows(grid: Grid, claims: Array<{ row: RecordRow; at: GridRow }>, dates: Set<string>): Promise<void> {
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
      requests.push({
        createDeveloperMetadata: {
          developerMetadata: {
            metadataKey: MUSTER_KEY,
            metadataValue: row.key!,
            location: { dimensionRange: { sheetId: grid.sheetId, dimension: 'ROWS', startIndex: at.rowIndex, endIndex: at.rowIndex + 1 } },
            visibility: 'DOCUMENT',
          },
        },
      });
    }
    await this.batchUpdate(requests);
  }

  async deleteRows(tab: TabSpec, keys: string[]): Promise<void> {
    const grid = await this.readGrid(tab);
    if (!grid || keys.length === 0) return;
    const doomed = new Set(keys);
    const indices = grid.rows.filter((r) => r.key !== null && doomed.has(r.key)).map((r) => r.rowIndex).sort((a, b) => b - a);
    if (indices.length === 0) return;
    // Bottom-up, so earlier deletions do not shift the later ones; all in one write.
    await this.batchUpdate(indices.map((i) => ({ deleteDimension: { range: { sheetId: grid.sheetId, dimension: 'ROWS', startIndex: i, endIndex: i + 1 } } })));
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

  /** One read of the tab's values and row metadata together, so positions and keys come from the same moment. */
  private async readGrid(tab: TabSpec): Promise<Grid | undefined> {
    let res: { data: sheets_v4.Schema$Spreadsheet };
    try {
      res = await withRetry(
        'sheets.spreadsheets.get',
        () =>
          this.api.spreadsheets.get({
            spreadsheetId: this.spreadsheetId,
            ranges: [quoteTab(tab.name)],
            includeGridData: true,
            fields: 'sheets(properties(sheetId,title),data(startRow,rowData(values(effectiveValue,formattedValue,userEnteredFormat.numberFormat)),rowMetadata(developerMetadata(metadataKey,metadataValue))))',
          }),
        this.retry,
      );
    } catch (err) {
      const e = toMusterError(err);
      if (e.code === 'PROVIDER_REJECTED' && /Unable to parse range/i.test(e.message)) return undefined;
      throw e;
    }
    const sheet = res.data.sheets?.find((s) => s.properties?.title === tab.name);
    if (!sheet) return undefined;
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

  /** Writes existing rows through their developer metadata, so a sort since the read cannot misdirect them; returns rows whose key vanished. */
  private async writeByKey(tab: TabSpec, grid: Grid, rows: RecordRow[], dates: Set<string>): Promise<RecordRow[]> {
    const data: sheets_v4.Schema$DataFilterValueRange[] = rows.map((row) => ({
      dataFilter: {
        developerMetadataLookup: {
          metadataKey: MUSTER_KEY,
          metadataValue: row.key!,
          locationType: 'ROW',
          metadataLocation: { sheetId: grid.sheetId },
          locationMatchingStrategy: 'INTERSECTING_LOCATION',
        },
      },
      majorDimension: 'ROWS',
      values: [this.rowValues(grid, row, dates)],
    }));
    // Idempotent (same values into the same keyed rows), so throttling and dropped connections may be retried.
    const call = () => this.api.spreadsheets.values.batchUpdateByDataFilter({ spreadsheetId: this.spreadsheetId, requestBody: { valueInputOption: 'RAW', data } });
    let res;
    try {
      res = await withRetry('sheets.values.batchUpdateByDataFilter', call, this.retry);
    } catch (err) {
      if (toMusterError(err).code !== 'OUTCOME_UNKNOWN') throw toMusterError(err);
      res = await withRetry('sheets.values.batchUpdateByDataFilter', call, this.retry);
    }
    const responses = res.data.responses ?? [];
    const missing = rows.filter((_, i) => !responses[i]?.updatedRange);
    if (missing.length) this.retry.logger.warn('sheets.rows.missing', { tab: tab.name, count: missing.length });
    return missing;
  }

  /** Appends rows and tags each with its key in the same atomic batchUpdate (insert, write, tag), so no untagged row is ever left behind. */
  private async insertRows(tab: TabSpec, grid: Grid, rows: RecordRow[], dates: Set<string>): Promise<void> {
    let pending = rows;
    let at = grid.end;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const requests = this.insertRequests(grid, at, pending, dates);
      try {
        await this.api.spreadsheets.batchUpdate({ spreadsheetId: this.spreadsheetId, requestBody: { requests } });
        return;
      } catch (raw) {
        const err = toMusterError(raw);
        const unknown = err.code === 'OUTCOME_UNKNOWN' || err.code === 'PROVIDER_UNAVAILABLE';
        if ((!isRetryable(err) && !unknown) || attempt >= 5) throw err;
        const wait = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : Math.min(32_000, 500 * 2 ** (attempt - 1) * (0.5 + this.retry.random() / 2));
        this.retry.logger.warn('google.retry', { op: 'sheets.batchUpdate.insert', attempt, code: err.code, waitMs: wait });
        await this.retry.sleep(wait);
        // Not idempotent: find out which keys landed before trying again with the rest.
        const now = await this.readGrid(tab);
        if (!now) throw err;
        const present = new Set(now.rows.map((r) => r.key));
        pending = pending.filter((r) => r.key === null || !present.has(r.key));
        at = now.end;
        grid = now;
      }
    }
  }

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
      if (row.key === null) return;
      requests.push({
        createDeveloperMetadata: {
          developerMetadata: {
            metadataKey: MUSTER_KEY,
            metadataValue: row.key,
            location: { dimensionRange: { sheetId: grid.sheetId, dimension: 'ROWS', startIndex: at + i, endIndex: at + i + 1 } },
            visibility: 'DOCUMENT',
          },
        },
      });
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
