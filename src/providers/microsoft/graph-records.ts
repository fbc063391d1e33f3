// RecordsPort on an Excel workbook through Graph's workbook API: tabs with headers, rows upserted by key, text columns formatted as text before values land; it never appends blindly and never evaluates what people typed.
import { MusterError } from '../../domain/errors.js';
import type { Cell, Logger, RecordRow, RecordsPort, TabSpec } from '../../ports/index.js';
import { type BatchItem, type MusterGraphClient, query } from './graph-client.js';
import { MICROSOFT_PROVIDER } from './graph-calendar.js';

export const KEY_HEADER = 'Key';
const TEXT_FORMAT = '@';
const DATE_FORMAT = 'yyyy-mm-dd';
const DATETIME_FORMAT = 'yyyy-mm-dd hh:mm';
const GENERAL_FORMAT = 'General';
const MS_PER_DAY = 86_400_000;
const EXCEL_EPOCH_OFFSET_DAYS = 25_569;

export interface GraphRecordsOptions {
  client: MusterGraphClient;
  driveId: string;
  itemId: string;
  logger: Logger;
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

  private async usedValues(tab: TabSpec): Promise<{ rowIndex: number; values: Array<Array<string | number | boolean>> }> {
    const r = await this.o.client.get<RangeBody>(`${this.sheetPath(tab.name)}/usedRange(valuesOnly=true)${query({ $select: 'address,rowIndex,values' })}`);
    return { rowIndex: r.rowIndex ?? 0, values: r.values ?? [] };
  }

  private async readHeaders(tab: TabSpec): Promise<string[]> {
    const r = await this.o.client.get<RangeBody>(`${this.rangePath(tab.name, `A1:${columnLetter(Math.max(tab.headers.length, 1) - 1)}1`)}${query({ $select: 'values' })}`);
    const row = (r.values?.[0] ?? []).map((v) => String(v));
    return row.every((v) => v === '') ? [] : row;
  }

  /** The sheet's rows with their 1-based sheet row numbers; rows keyed by the Key column. */
  private async readSheet(tab: TabSpec): Promise<{ headers: string[]; rows: Array<{ sheetRow: number; row: RecordRow }> }> {
    const { rowIndex, values } = await this.usedValues(tab);
    if (rowIndex !== 0 || values.length === 0) return { headers: tab.headers, rows: [] };
    const headers = (values[0] ?? []).map((v) => String(v));
    const rows = values.slice(1).flatMap((line, i) => {
      if (line.every((v) => v === '')) return [];
      const cells: Record<string, Cell> = {};
      headers.forEach((h, j) => {
        if (h !== '') cells[h] = fromExcelValue(tab, h, line[j]);
      });
      const key = cells[KEY_HEADER];
      return [{ sheetRow: i + 2, row: { key: typeof key === 'string' && key !== '' ? key : null, cells } }];
    });
    return { headers: headers.some((h) => h !== '') ? headers : tab.headers, rows };
  }

  async readTab(tab: TabSpec): Promise<RecordRow[]> {
    return (await this.readSheet(tab)).rows.map((r) => r.row);
  }

  async upsertRows(tab: TabSpec, rows: RecordRow[]): Promise<void> {
    const { headers, rows: current } = await this.readSheet(tab);
    const byKey = new Map(current.filter((r) => r.row.key !== null).map((r) => [r.row.key as string, r.sheetRow]));
    let nextRow = Math.max(1, ...current.map((r) => r.sheetRow)) + 1;
    const last = columnLetter(headers.length - 1);
    const items: BatchItem[] = [];
    for (const row of rows) {
      if (row.key === null) throw new MusterError('VALIDATION_FAILED', `Muster only writes keyed rows to ${tab.name}.`);
      const cells: Record<string, Cell> = { ...row.cells, [KEY_HEADER]: row.key };
      const sheetRow = byKey.get(row.key) ?? nextRow++;
      byKey.set(row.key, sheetRow);
      const address = `A${sheetRow}:${last}${sheetRow}`;
      const url = `/drives/${encodeURIComponent(this.o.driveId)}/items/${encodeURIComponent(this.o.itemId)}/workbook/worksheets/${encodeURIComponent(tab.name)}/range(address='${address}')`;
      const n = items.length;
      // Text format first, so a value such as =HYPERLINK(...) lands as text and is never evaluated.
      items.push({ id: String(n + 1), method: 'PATCH', url, body: { numberFormat: [headers.map((h) => formatFor(tab, h, cells[h]))] } });
      items.push({ id: String(n + 2), method: 'PATCH', url, body: { values: [headers.map((h) => toExcelValue(tab, h, cells[h]))] }, dependsOn: [String(n + 1)] });
    }
    const results = await this.o.client.batch(items, { retry: 'idempotent' });
    const failedItem = results.find((r) => r.error !== null);
    if (failedItem?.error) throw failedItem.error;
  }

  async deleteRows(tab: TabSpec, keys: string[]): Promise<void> {
    const { headers, rows } = await this.readSheet(tab);
    const wanted = new Set(keys);
    const doomed = rows.filter((r) => r.row.key !== null && wanted.has(r.row.key)).map((r) => r.sheetRow).sort((a, b) => b - a);
    const last = columnLetter(headers.length - 1);
    // Bottom-up, one at a time: each delete shifts the rows below it.
    for (const sheetRow of doomed) {
      await this.o.client.request('POST', `${this.rangePath(tab.name, `A${sheetRow}:${last}${sheetRow}`)}/delete`, { shift: 'Up' }, { retry: 'never' });
    }
  }
}
