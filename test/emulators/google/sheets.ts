// Sheets v4 behaviour of the emulator: grids of cells (entered vs effective values, formats), row developer metadata that moves with its row, protections and rules; it evaluates only a toy subset of formulas.
import { badRequest, notFound, type Handler } from './common.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Sheets resources are discovery-shaped JSON, checked before they get here */

export interface ExtendedValue {
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
  formulaValue?: string;
  errorValue?: { type: string; message: string };
}

interface SCell {
  entered?: ExtendedValue;
  effective?: ExtendedValue;
  format?: Record<string, any>;
  validation?: Record<string, any>;
}

export interface DevMeta {
  metadataId: number;
  metadataKey: string;
  metadataValue?: string;
  visibility: string;
  locationType: 'ROW' | 'COLUMN' | 'SHEET' | 'SPREADSHEET';
  sheetId?: number;
}

interface SRow {
  cells: Array<SCell | undefined>;
  meta: DevMeta[];
}

interface SSheet {
  properties: { sheetId: number; title: string; index: number; sheetType: 'GRID'; gridProperties: { rowCount: number; columnCount: number; frozenRowCount?: number; frozenColumnCount?: number } };
  rows: SRow[];
  columnMeta: DevMeta[][];
  meta: DevMeta[];
  protectedRanges: any[];
  conditionalFormats: any[];
  filterViews: any[];
}

export interface Spreadsheet {
  spreadsheetId: string;
  properties: { title: string; locale: string; timeZone: string; autoRecalc: string };
  sheets: SSheet[];
  meta: DevMeta[];
  nextId: number;
}

interface Box {
  sheet: SSheet;
  r0: number;
  r1: number; // exclusive
  c0: number;
  c1: number; // exclusive
  /** Whether the end was given explicitly (writes may not exceed it). */
  bounded: { rows: boolean; cols: boolean };
}

const DAY_MS = 86_400_000;
const SERIAL_EPOCH = Date.UTC(1899, 11, 30);

export function dateToSerial(iso: string): number {
  return (Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso) - SERIAL_EPOCH) / DAY_MS;
}

export function serialToIso(serial: number): string {
  return new Date(SERIAL_EPOCH + Math.round(serial * DAY_MS)).toISOString();
}

export function columnLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const m = (n - 1) % 26;
    s = String.fromCharCode(65 + m) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function quoteSheet(title: string): string {
  return /^[A-Za-z0-9_]+$/.test(title) ? title : `'${title.replace(/'/g, "''")}'`;
}

function a1(sheet: SSheet, r0: number, c0: number, r1: number, c1: number): string {
  return `${quoteSheet(sheet.properties.title)}!${columnLetter(c0)}${r0 + 1}:${columnLetter(c1 - 1)}${r1}`;
}

function newRow(): SRow {
  return { cells: [], meta: [] };
}

function newSheet(sheetId: number, title: string, index: number, rows = 1000, cols = 26): SSheet {
  return {
    properties: { sheetId, title, index, sheetType: 'GRID', gridProperties: { rowCount: rows, columnCount: cols } },
    rows: Array.from({ length: rows }, newRow),
    columnMeta: Array.from({ length: cols }, () => []),
    meta: [],
    protectedRanges: [],
    conditionalFormats: [],
    filterViews: [],
  };
}

function cellHasValue(c: SCell | undefined): boolean {
  return c?.entered !== undefined;
}

// ---------- formulas and formatting ----------

function evaluateFormula(formula: string): ExtendedValue {
  const body = formula.slice(1).trim();
  const link = /^HYPERLINK\(\s*"([^"]*)"\s*(?:,\s*"([^"]*)"\s*)?\)$/i.exec(body);
  if (link) return { stringValue: link[2] ?? link[1]! };
  const text = /^"([^"]*)"$/.exec(body);
  if (text) return { stringValue: text[1]! };
  if (/^[-+*/().\d\s]+$/.test(body)) {
    try {
      const n = Function(`"use strict"; return (${body});`)() as unknown;
      if (typeof n === 'number' && Number.isFinite(n)) return { numberValue: n };
      return { errorValue: { type: 'DIVIDE_BY_ZERO', message: 'Function DIVIDE parameter 2 cannot be zero.' } };
    } catch {
      return { errorValue: { type: 'ERROR', message: 'Formula parse error.' } };
    }
  }
  const fn = /^([A-Z][A-Z0-9.]*)\(/i.exec(body);
  if (fn) return { errorValue: { type: 'NAME', message: `Unknown function: '${fn[1]!.toLowerCase()}'.` } };
  return { errorValue: { type: 'ERROR', message: 'Formula parse error.' } };
}

function parseUserEntered(s: string): { value: ExtendedValue; format?: Record<string, any> } {
  if (s.startsWith("'")) return { value: { stringValue: s.slice(1) } };
  if (s.startsWith('=')) return { value: { formulaValue: s } };
  if (/^-?\d+(\.\d+)?$/.test(s.trim())) return { value: { numberValue: Number(s) } };
  if (/^(true|false)$/i.test(s.trim())) return { value: { boolValue: s.trim().toUpperCase() === 'TRUE' } };
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s.trim());
  if (iso || us) {
    const d = iso ? `${iso[1]}-${iso[2]}-${iso[3]}` : `${us![3]}-${us![1]!.padStart(2, '0')}-${us![2]!.padStart(2, '0')}`;
    if (!Number.isNaN(Date.parse(d))) return { value: { numberValue: dateToSerial(d) }, format: { numberFormat: { type: 'DATE', pattern: 'yyyy-mm-dd' } } };
  }
  return { value: { stringValue: s } };
}

function errorText(e: { type: string }): string {
  return ({ NAME: '#NAME?', DIVIDE_BY_ZERO: '#DIV/0!', VALUE: '#VALUE!', REF: '#REF!', N_A: '#N/A', NUM: '#NUM!', NULL_VALUE: '#NULL!' } as Record<string, string>)[e.type] ?? '#ERROR!';
}

function formatSerial(serial: number, pattern: string): string {
  const d = new Date(SERIAL_EPOCH + Math.round(serial * DAY_MS));
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return pattern
    .replace(/yyyy/g, String(d.getUTCFullYear()))
    .replace(/hh/g, pad(d.getUTCHours()))
    .replace(/mm:ss/g, `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`)
    .replace(/:mm/g, `:${pad(d.getUTCMinutes())}`)
    .replace(/mm/g, pad(d.getUTCMonth() + 1))
    .replace(/dd/g, pad(d.getUTCDate()));
}

function formatted(c: SCell | undefined): string {
  const v = c?.effective;
  if (!v) return '';
  if (v.errorValue) return errorText(v.errorValue);
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'TRUE' : 'FALSE';
  if (v.numberValue !== undefined) {
    const nf = c?.format?.numberFormat;
    if (nf && (nf.type === 'DATE' || nf.type === 'DATE_TIME' || nf.type === 'TIME')) {
      return formatSerial(v.numberValue, nf.pattern ?? (nf.type === 'DATE' ? 'yyyy-mm-dd' : 'yyyy-mm-dd hh:mm:ss'));
    }
    if (nf?.pattern && /^0(\.0+)?$/.test(nf.pattern)) return v.numberValue.toFixed((nf.pattern.split('.')[1] ?? '').length);
    return String(v.numberValue);
  }
  return '';
}

function setEntered(cell: SCell, value: ExtendedValue | undefined): void {
  if (value === undefined) {
    delete cell.entered;
    delete cell.effective;
    return;
  }
  cell.entered = value;
  cell.effective = value.formulaValue !== undefined ? evaluateFormula(value.formulaValue) : value;
}

function rendered(c: SCell | undefined, render: string, dateRender: string): unknown {
  if (!cellHasValue(c)) return '';
  if (render === 'FORMATTED_VALUE') return formatted(c);
  if (render === 'FORMULA' && c!.entered!.formulaValue !== undefined) return c!.entered!.formulaValue;
  const v = c!.effective!;
  if (v.errorValue) return errorText(v.errorValue);
  if (v.numberValue !== undefined) {
    const t = c?.format?.numberFormat?.type;
    if (dateRender === 'FORMATTED_STRING' && (t === 'DATE' || t === 'DATE_TIME' || t === 'TIME')) return formatted(c);
    return v.numberValue;
  }
  return v.stringValue ?? v.boolValue ?? '';
}

// ---------- the state ----------

export class SheetsState {
  readonly spreadsheets = new Map<string, Spreadsheet>();
  private seq = 0;

  create(title = 'Untitled spreadsheet', id?: string): Spreadsheet {
    this.seq += 1;
    const spreadsheetId = id ?? `ss${this.seq}${'x'.repeat(20)}`.slice(0, 24);
    const ss: Spreadsheet = {
      spreadsheetId,
      properties: { title, locale: 'en_US', timeZone: 'Etc/GMT', autoRecalc: 'ON_CHANGE' },
      sheets: [newSheet(0, 'Sheet1', 0)],
      meta: [],
      nextId: 1_000,
    };
    this.spreadsheets.set(spreadsheetId, ss);
    return ss;
  }

  get(id: string): Spreadsheet {
    const ss = this.spreadsheets.get(id);
    if (!ss) throw notFound('Requested entity was not found.');
    return ss;
  }

  sheetByTitle(ss: Spreadsheet, title: string): SSheet {
    const s = ss.sheets.find((x) => x.properties.title === title);
    if (!s) throw badRequest(`Unable to parse range: ${title}`);
    return s;
  }

  sheetById(ss: Spreadsheet, sheetId: number | undefined): SSheet {
    const s = ss.sheets.find((x) => x.properties.sheetId === (sheetId ?? 0));
    if (!s) throw badRequest(`No grid with id: ${sheetId ?? 0}`);
    return s;
  }

  /** Parses "Tab!A1:C5", "'My tab'!A:C", "Tab", "A1:B2" into a clipped box. */
  parseRange(ss: Spreadsheet, range: string): Box {
    let title: string | undefined;
    let ref = range;
    if (range.startsWith("'")) {
      const end = range.indexOf("'!", 1);
      const whole = range.endsWith("'") && end === -1;
      title = (whole ? range.slice(1, -1) : range.slice(1, end)).replace(/''/g, "'");
      ref = whole ? '' : range.slice(end + 2);
    } else if (range.includes('!')) {
      const i = range.lastIndexOf('!');
      title = range.slice(0, i);
      ref = range.slice(i + 1);
    } else if (ss.sheets.some((s) => s.properties.title === range)) {
      title = range;
      ref = '';
    }
    const sheet = title === undefined ? ss.sheets[0]! : this.sheetByTitle(ss, title);
    const rows = sheet.properties.gridProperties.rowCount;
    const cols = sheet.properties.gridProperties.columnCount;
    if (ref === '') return { sheet, r0: 0, r1: rows, c0: 0, c1: cols, bounded: { rows: false, cols: false } };
    const m = /^([A-Za-z]*)(\d*)(?::([A-Za-z]*)(\d*))?$/.exec(ref);
    if (!m || (m[1] === '' && m[2] === '')) throw badRequest(`Unable to parse range: ${range}`);
    const [, ca, ra, cb, rb] = m;
    const single = m[3] === undefined && m[4] === undefined;
    const c0 = ca ? columnIndex(ca) : 0;
    const r0 = ra ? Number(ra) - 1 : 0;
    let c1 = single ? (ca ? c0 + 1 : cols) : cb ? columnIndex(cb) + 1 : cols;
    let r1 = single ? (ra ? r0 + 1 : rows) : rb ? Number(rb) : rows;
    // A single cell is only an anchor: writes may extend from it.
    const bounded = { rows: single ? false : !!rb, cols: single ? false : !!cb };
    if (single && ra && !ca) c1 = cols;
    if (single && ca && !ra) r1 = rows;
    return { sheet, r0, r1: Math.max(r1, r0 + 1), c0, c1: Math.max(c1, c0 + 1), bounded };
  }

  gridBox(ss: Spreadsheet, g: any): Box {
    const sheet = this.sheetById(ss, g.sheetId);
    const gp = sheet.properties.gridProperties;
    return {
      sheet,
      r0: g.startRowIndex ?? 0,
      r1: g.endRowIndex ?? gp.rowCount,
      c0: g.startColumnIndex ?? 0,
      c1: g.endColumnIndex ?? gp.columnCount,
      bounded: { rows: g.endRowIndex !== undefined, cols: g.endColumnIndex !== undefined },
    };
  }

  private ensureGrid(sheet: SSheet, rows: number, cols: number): void {
    const gp = sheet.properties.gridProperties;
    while (sheet.rows.length < rows) sheet.rows.push(newRow());
    while (sheet.columnMeta.length < cols) sheet.columnMeta.push([]);
    gp.rowCount = Math.max(gp.rowCount, rows);
    gp.columnCount = Math.max(gp.columnCount, cols);
  }

  cell(sheet: SSheet, r: number, c: number): SCell {
    this.ensureGrid(sheet, r + 1, c + 1);
    const row = sheet.rows[r]!;
    let cell = row.cells[c];
    if (!cell) {
      cell = {};
      row.cells[c] = cell;
    }
    return cell;
  }

  /** Writes a 2-D block of values at the box's top-left corner; null skips a cell, '' clears it. */
  writeValues(box: Box, values: unknown[][], input: string, majorDimension = 'ROWS'): { range: string; rows: number; cols: number; cells: number } {
    const grid = majorDimension === 'COLUMNS' ? transpose(values) : values;
    const height = grid.length;
    const width = Math.max(0, ...grid.map((r) => r.length));
    if (box.bounded.rows && height > box.r1 - box.r0) throw badRequest(`Requested writing within range [${a1(box.sheet, box.r0, box.c0, box.r1, box.c1)}], but tried writing to row [${box.r0 + height}]`);
    if (box.bounded.cols && width > box.c1 - box.c0) throw badRequest(`Requested writing within range [${a1(box.sheet, box.r0, box.c0, box.r1, box.c1)}], but tried writing to column [${columnLetter(box.c0 + width - 1)}]`);
    let cells = 0;
    grid.forEach((rowValues, i) => {
      rowValues.forEach((v, j) => {
        if (v === null || v === undefined) return;
        const cell = this.cell(box.sheet, box.r0 + i, box.c0 + j);
        cells += 1;
        if (v === '') return setEntered(cell, undefined);
        if (typeof v === 'number') return setEntered(cell, { numberValue: v });
        if (typeof v === 'boolean') return setEntered(cell, { boolValue: v });
        if (typeof v !== 'string') throw badRequest(`Invalid values[${i}][${j}]: ${JSON.stringify(v)}`);
        if (input === 'RAW') return setEntered(cell, { stringValue: v });
        const parsed = parseUserEntered(v);
        setEntered(cell, parsed.value);
        if (parsed.format && !cell.format?.numberFormat) cell.format = { ...cell.format, ...parsed.format };
      });
    });
    const range = height === 0 || width === 0 ? `${quoteSheet(box.sheet.properties.title)}!${columnLetter(box.c0)}${box.r0 + 1}` : a1(box.sheet, box.r0, box.c0, box.r0 + height, box.c0 + width);
    return { range, rows: height, cols: width, cells };
  }

  readValues(box: Box, render = 'FORMATTED_VALUE', dateRender = 'SERIAL_NUMBER', majorDimension = 'ROWS'): { range: string; values?: unknown[][] } {
    const gp = box.sheet.properties.gridProperties;
    const r1 = Math.min(box.r1, gp.rowCount);
    const c1 = Math.min(box.c1, gp.columnCount);
    const out: unknown[][] = [];
    for (let r = box.r0; r < r1; r++) {
      const row: unknown[] = [];
      for (let c = box.c0; c < c1; c++) row.push(rendered(box.sheet.rows[r]?.cells[c], render, dateRender));
      while (row.length > 0 && row[row.length - 1] === '') row.pop();
      out.push(row);
    }
    while (out.length > 0 && out[out.length - 1]!.length === 0) out.pop();
    const range = a1(box.sheet, box.r0, box.c0, r1, c1);
    const values = majorDimension === 'COLUMNS' ? transpose(out) : out;
    return values.length === 0 ? { range } : { range, values };
  }

  rowIndexOf(sheet: SSheet, meta: DevMeta): number[] {
    const out: number[] = [];
    sheet.rows.forEach((r, i) => {
      if (r.meta.includes(meta)) out.push(i);
    });
    return out;
  }

  metaLocation(ss: Spreadsheet, meta: DevMeta): any {
    if (meta.locationType === 'SPREADSHEET') return { locationType: 'SPREADSHEET', spreadsheet: true };
    const sheet = this.sheetById(ss, meta.sheetId);
    if (meta.locationType === 'SHEET') return { locationType: 'SHEET', sheetId: meta.sheetId };
    if (meta.locationType === 'ROW') {
      const idx = this.rowIndexOf(sheet, meta);
      return { locationType: 'ROW', dimensionRange: { sheetId: meta.sheetId, dimension: 'ROWS', startIndex: Math.min(...idx), endIndex: Math.max(...idx) + 1 } };
    }
    const cols: number[] = [];
    sheet.columnMeta.forEach((m, i) => m.includes(meta) && cols.push(i));
    return { locationType: 'COLUMN', dimensionRange: { sheetId: meta.sheetId, dimension: 'COLUMNS', startIndex: Math.min(...cols), endIndex: Math.max(...cols) + 1 } };
  }

  toDeveloperMetadata(ss: Spreadsheet, meta: DevMeta): any {
    const out: any = { metadataId: meta.metadataId, metadataKey: meta.metadataKey, location: this.metaLocation(ss, meta), visibility: meta.visibility };
    if (meta.metadataValue !== undefined) out.metadataValue = meta.metadataValue;
    return out;
  }

  allMeta(ss: Spreadsheet): DevMeta[] {
    const set = new Set<DevMeta>(ss.meta);
    for (const s of ss.sheets) {
      s.meta.forEach((m) => set.add(m));
      s.rows.forEach((r) => r.meta.forEach((m) => set.add(m)));
      s.columnMeta.forEach((c) => c.forEach((m) => set.add(m)));
    }
    return [...set];
  }

  lookupMeta(ss: Spreadsheet, lookup: any): DevMeta[] {
    return this.allMeta(ss).filter((m) => {
      if (lookup.metadataId !== undefined && Number(lookup.metadataId) !== m.metadataId) return false;
      if (lookup.metadataKey !== undefined && lookup.metadataKey !== m.metadataKey) return false;
      if (lookup.metadataValue !== undefined && lookup.metadataValue !== m.metadataValue) return false;
      if (lookup.visibility !== undefined && lookup.visibility !== m.visibility) return false;
      if (lookup.locationType !== undefined && lookup.locationType !== m.locationType) return false;
      const loc = lookup.metadataLocation;
      if (loc) {
        const intersecting = lookup.locationMatchingStrategy === 'INTERSECTING_LOCATION';
        if (loc.spreadsheet) {
          if (!intersecting && m.locationType !== 'SPREADSHEET') return false;
        } else if (loc.sheetId !== undefined) {
          if (m.sheetId !== loc.sheetId) return false;
          if (!intersecting && m.locationType !== 'SHEET') return false;
        } else if (loc.dimensionRange) {
          const here = this.metaLocation(ss, m).dimensionRange;
          const want = loc.dimensionRange;
          if (!here || here.sheetId !== want.sheetId || here.dimension !== want.dimension) return false;
          if (intersecting ? here.endIndex <= want.startIndex || here.startIndex >= want.endIndex : here.startIndex !== want.startIndex || here.endIndex !== want.endIndex) return false;
        }
      }
      return true;
    });
  }

  /** The boxes a DataFilter selects: an A1 range, a grid range, or the locations of matching developer metadata. */
  filterBoxes(ss: Spreadsheet, filter: any): Box[] {
    if (filter.a1Range) return [this.parseRange(ss, filter.a1Range)];
    if (filter.gridRange) return [this.gridBox(ss, filter.gridRange)];
    if (filter.developerMetadataLookup) {
      const boxes: Box[] = [];
      for (const m of this.lookupMeta(ss, filter.developerMetadataLookup)) {
        if (m.locationType === 'SPREADSHEET') continue;
        const sheet = this.sheetById(ss, m.sheetId);
        const gp = sheet.properties.gridProperties;
        const loc = this.metaLocation(ss, m);
        if (m.locationType === 'SHEET') boxes.push({ sheet, r0: 0, r1: gp.rowCount, c0: 0, c1: gp.columnCount, bounded: { rows: true, cols: true } });
        else if (m.locationType === 'ROW') boxes.push({ sheet, r0: loc.dimensionRange.startIndex, r1: loc.dimensionRange.endIndex, c0: 0, c1: gp.columnCount, bounded: { rows: true, cols: true } });
        else boxes.push({ sheet, r0: 0, r1: gp.rowCount, c0: loc.dimensionRange.startIndex, c1: loc.dimensionRange.endIndex, bounded: { rows: true, cols: true } });
      }
      return boxes;
    }
    throw badRequest('Invalid dataFilter: no filter set.');
  }

  cellData(c: SCell | undefined): any {
    if (!c) return {};
    const out: any = {};
    if (c.entered) {
      out.userEnteredValue = { ...c.entered };
      out.effectiveValue = { ...c.effective };
      out.formattedValue = formatted(c);
    }
    if (c.format) out.userEnteredFormat = structuredClone(c.format);
    if (c.validation) out.dataValidation = structuredClone(c.validation);
    return out;
  }

  sheetResource(ss: Spreadsheet, sheet: SSheet, boxes: Box[] | undefined, includeGridData: boolean): any {
    const out: any = { properties: structuredClone(sheet.properties) };
    if (sheet.protectedRanges.length) out.protectedRanges = structuredClone(sheet.protectedRanges);
    if (sheet.conditionalFormats.length) out.conditionalFormats = structuredClone(sheet.conditionalFormats);
    if (sheet.filterViews.length) out.filterViews = structuredClone(sheet.filterViews);
    if (sheet.meta.length) out.developerMetadata = sheet.meta.map((m) => this.toDeveloperMetadata(ss, m));
    if (includeGridData) {
      const gp = sheet.properties.gridProperties;
      const mine = boxes?.filter((b) => b.sheet === sheet) ?? [{ sheet, r0: 0, r1: gp.rowCount, c0: 0, c1: gp.columnCount, bounded: { rows: false, cols: false } }];
      out.data = mine.map((b) => {
        const r1 = Math.min(b.r1, gp.rowCount);
        const c1 = Math.min(b.c1, gp.columnCount);
        const rowData: any[] = [];
        const rowMetadata: any[] = [];
        for (let r = b.r0; r < r1; r++) {
          const values: any[] = [];
          for (let c = b.c0; c < c1; c++) values.push(this.cellData(sheet.rows[r]!.cells[c]));
          while (values.length > 0 && Object.keys(values[values.length - 1]).length === 0) values.pop();
          rowData.push(values.length ? { values } : {});
          const rm: any = { pixelSize: 21 };
          if (sheet.rows[r]!.meta.length) rm.developerMetadata = sheet.rows[r]!.meta.map((m) => this.toDeveloperMetadata(ss, m));
          rowMetadata.push(rm);
        }
        while (rowData.length > 0 && Object.keys(rowData[rowData.length - 1]).length === 0) rowData.pop();
        const g: any = { rowMetadata, columnMetadata: Array.from({ length: c1 - b.c0 }, () => ({ pixelSize: 100 })) };
        if (b.r0) g.startRow = b.r0;
        if (b.c0) g.startColumn = b.c0;
        if (rowData.length) g.rowData = rowData;
        return g;
      });
    }
    return out;
  }

  /** Whether a person (not in a protection's editors) may change cells in the box. */
  assertEditableBy(box: Box, person: string): void {
    for (const p of box.sheet.protectedRanges) {
      if (p.warningOnly) continue;
      if ((p.editors?.users ?? []).map((u: string) => u.toLowerCase()).includes(person.toLowerCase())) continue;
      const g = p.range ?? {};
      const pr0 = g.startRowIndex ?? 0;
      const pr1 = g.endRowIndex ?? Infinity;
      const pc0 = g.startColumnIndex ?? 0;
      const pc1 = g.endColumnIndex ?? Infinity;
      if (box.r0 < pr1 && box.r1 > pr0 && box.c0 < pc1 && box.c1 > pc0) {
        throw new Error(`You are trying to edit a protected cell or object (${p.description ?? 'protected range'}).`);
      }
    }
  }

  sortRows(box: Box, specs: Array<{ dimensionIndex?: number; sortOrder?: string }>): void {
    const slice = box.sheet.rows.slice(box.r0, box.r1);
    const key = (row: SRow, c: number): unknown => {
      const v = row.cells[c]?.effective;
      return v?.numberValue ?? v?.stringValue?.toLowerCase() ?? (v?.boolValue === undefined ? undefined : Number(v.boolValue));
    };
    slice.sort((a, b) => {
      for (const s of specs) {
        const c = s.dimensionIndex ?? 0;
        const ka = key(a, c);
        const kb = key(b, c);
        if (ka === kb) continue;
        if (ka === undefined) return 1; // blanks last in both orders
        if (kb === undefined) return -1;
        const typeOrder = (x: unknown): number => (typeof x === 'number' ? 0 : 1);
        let cmp = typeOrder(ka) - typeOrder(kb);
        if (cmp === 0) cmp = (ka as number | string) < (kb as number | string) ? -1 : 1;
        return s.sortOrder === 'DESCENDING' ? -cmp : cmp;
      }
      return 0;
    });
    box.sheet.rows.splice(box.r0, slice.length, ...slice);
  }

  insertRows(sheet: SSheet, start: number, count: number, inheritFromBefore: boolean): void {
    if (start > sheet.rows.length) throw badRequest(`Invalid requests: insertDimension startIndex ${start} is beyond the grid`);
    const template = inheritFromBefore ? sheet.rows[start - 1] : sheet.rows[start];
    const fresh = Array.from({ length: count }, () => {
      const r = newRow();
      template?.cells.forEach((c, i) => {
        if (c?.format || c?.validation) r.cells[i] = { format: structuredClone(c.format), validation: structuredClone(c.validation) };
      });
      return r;
    });
    sheet.rows.splice(start, 0, ...fresh);
    sheet.properties.gridProperties.rowCount += count;
    for (const p of sheet.protectedRanges) shiftForInsert(p.range, start, count);
    for (const f of sheet.conditionalFormats) (f.ranges ?? []).forEach((g: any) => shiftForInsert(g, start, count));
  }

  deleteRows(sheet: SSheet, start: number, end: number): void {
    sheet.rows.splice(start, end - start);
    sheet.properties.gridProperties.rowCount -= end - start;
    for (const p of sheet.protectedRanges) shiftForDelete(p.range, start, end);
    for (const f of sheet.conditionalFormats) (f.ranges ?? []).forEach((g: any) => shiftForDelete(g, start, end));
  }

  newSheet(ss: Spreadsheet, props: any): SSheet {
    const sheetId = props.sheetId ?? ss.nextId++;
    if (ss.sheets.some((s) => s.properties.sheetId === sheetId)) throw badRequest(`Invalid requests[0].addSheet: A sheet with id ${sheetId} already exists.`);
    const title = props.title ?? `Sheet${ss.sheets.length + 1}`;
    if (ss.sheets.some((s) => s.properties.title.toLowerCase() === String(title).toLowerCase())) {
      throw badRequest(`Invalid requests[0].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`);
    }
    const gp = props.gridProperties ?? {};
    const sheet = newSheet(sheetId, title, props.index ?? ss.sheets.length, gp.rowCount ?? 1000, gp.columnCount ?? 26);
    if (gp.frozenRowCount) sheet.properties.gridProperties.frozenRowCount = gp.frozenRowCount;
    if (gp.frozenColumnCount) sheet.properties.gridProperties.frozenColumnCount = gp.frozenColumnCount;
    ss.sheets.splice(sheet.properties.index, 0, sheet);
    ss.sheets.forEach((s, i) => (s.properties.index = i));
    return sheet;
  }
}

/** Rows inserted at `at` push a range's later edges down; a range ending exactly at `at` does not grow. */
function shiftForInsert(g: any, at: number, n: number): void {
  if (!g) return;
  if (g.startRowIndex !== undefined && g.startRowIndex >= at) g.startRowIndex += n;
  if (g.endRowIndex !== undefined && g.endRowIndex > at) g.endRowIndex += n;
}

/** Rows [start, end) removed: edges after them move up, edges inside them close onto `start`. */
function shiftForDelete(g: any, start: number, end: number): void {
  if (!g) return;
  const move = (i: number): number => (i >= end ? i - (end - start) : i > start ? start : i);
  if (g.startRowIndex !== undefined) g.startRowIndex = move(g.startRowIndex);
  if (g.endRowIndex !== undefined) g.endRowIndex = move(g.endRowIndex);
}

function transpose(values: unknown[][]): unknown[][] {
  const width = Math.max(0, ...values.map((r) => r.length));
  return Array.from({ length: width }, (_, j) => values.map((r) => r[j] ?? ''));
}

/** Copies the dotted paths named by a field mask from source into target ("*" copies everything). */
function applyFieldMask(target: any, source: any, fields: string): void {
  if (!fields) throw badRequest('At least one field must be updated, but none was specified.');
  if (fields.trim() === '*') {
    Object.assign(target, structuredClone(source));
    return;
  }
  for (const path of fields.split(',').map((f) => f.trim())) {
    const parts = path.split('.');
    let t = target;
    let s = source;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      t[p] ??= {};
      t = t[p];
      s = s?.[p];
    }
    const last = parts[parts.length - 1]!;
    if (s?.[last] === undefined) delete t[last];
    else t[last] = structuredClone(s[last]);
  }
}

/** Methods the Sheets quota counts as read requests (LIMITS.md: any method that retrieves data); every other method is a write request. */
const SHEETS_READ = new Set([
  'sheets.spreadsheets.get',
  'sheets.spreadsheets.getByDataFilter',
  'sheets.spreadsheets.values.get',
  'sheets.spreadsheets.values.batchGet',
  'sheets.spreadsheets.values.batchGetByDataFilter',
  'sheets.spreadsheets.developerMetadata.get',
  'sheets.spreadsheets.developerMetadata.search',
]);
export function isSheetsRead(methodId: string): boolean {
  return SHEETS_READ.has(methodId);
}

function requireInputOption(v: string | null | undefined): string {
  if (!v || v === 'INPUT_VALUE_OPTION_UNSPECIFIED') throw badRequest("'valueInputOption' is required but not specified");
  return v;
}

export function sheetsHandlers(state: SheetsState, onUnsupported: (what: string) => void): Record<string, Handler> {
  const updateRequest = (ss: Spreadsheet, req: any, i: number, actor: string): any => {
    const kinds = Object.keys(req).filter((k) => req[k] !== undefined && req[k] !== null);
    if (kinds.length !== 1) throw badRequest(`Invalid requests[${i}]: ${kinds.length === 0 ? 'No request set.' : 'More than one request set.'}`);
    const kind = kinds[0]!;
    const r = req[kind];
    switch (kind) {
      case 'addSheet': {
        const sheet = state.newSheet(ss, r.properties ?? {});
        return { addSheet: { properties: structuredClone(sheet.properties) } };
      }
      case 'deleteSheet': {
        const sheet = state.sheetById(ss, r.sheetId);
        ss.sheets.splice(ss.sheets.indexOf(sheet), 1);
        ss.sheets.forEach((s, k) => (s.properties.index = k));
        return {};
      }
      case 'updateSheetProperties': {
        const sheet = state.sheetById(ss, r.properties?.sheetId);
        applyFieldMask(sheet.properties, r.properties, r.fields);
        return {};
      }
      case 'updateSpreadsheetProperties':
        applyFieldMask(ss.properties, r.properties, r.fields);
        return {};
      case 'createDeveloperMetadata': {
        const dm = r.developerMetadata ?? {};
        if (!dm.metadataKey) throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: metadataKey is required`);
        if (!dm.visibility || dm.visibility === 'DEVELOPER_METADATA_VISIBILITY_UNSPECIFIED') throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: Developer metadata visibility must be specified`);
        const loc = dm.location ?? {};
        const meta: DevMeta = { metadataId: dm.metadataId ?? ss.nextId++, metadataKey: dm.metadataKey, metadataValue: dm.metadataValue, visibility: dm.visibility, locationType: 'SPREADSHEET' };
        if (state.allMeta(ss).some((m) => m.metadataId === meta.metadataId)) throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: metadataId ${meta.metadataId} already exists`);
        if (loc.dimensionRange) {
          const d = loc.dimensionRange;
          const sheet = state.sheetById(ss, d.sheetId);
          meta.sheetId = sheet.properties.sheetId;
          if (d.startIndex === undefined || d.endIndex === undefined || d.endIndex <= d.startIndex) throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: the dimension range must be bounded`);
          if (d.dimension === 'ROWS') {
            meta.locationType = 'ROW';
            if (d.endIndex > sheet.rows.length) throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: range beyond the grid`);
            for (let k = d.startIndex; k < d.endIndex; k++) sheet.rows[k]!.meta.push(meta);
          } else if (d.dimension === 'COLUMNS') {
            meta.locationType = 'COLUMN';
            for (let k = d.startIndex; k < d.endIndex; k++) sheet.columnMeta[k]!.push(meta);
          } else throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: dimension must be ROWS or COLUMNS`);
        } else if (loc.sheetId !== undefined) {
          const sheet = state.sheetById(ss, loc.sheetId);
          meta.locationType = 'SHEET';
          meta.sheetId = sheet.properties.sheetId;
          sheet.meta.push(meta);
        } else if (loc.spreadsheet) ss.meta.push(meta);
        else throw badRequest(`Invalid requests[${i}].createDeveloperMetadata: a location is required`);
        return { createDeveloperMetadata: { developerMetadata: state.toDeveloperMetadata(ss, meta) } };
      }
      case 'deleteDeveloperMetadata': {
        const doomed = new Set(state.lookupMeta(ss, r.dataFilter?.developerMetadataLookup ?? {}));
        const deleted = [...doomed].map((m) => state.toDeveloperMetadata(ss, m));
        ss.meta = ss.meta.filter((m) => !doomed.has(m));
        for (const s of ss.sheets) {
          s.meta = s.meta.filter((m) => !doomed.has(m));
          s.rows.forEach((row) => (row.meta = row.meta.filter((m) => !doomed.has(m))));
          s.columnMeta = s.columnMeta.map((c) => c.filter((m) => !doomed.has(m)));
        }
        return { deleteDeveloperMetadata: { deletedDeveloperMetadata: deleted } };
      }
      case 'insertDimension': {
        const d = r.range;
        const sheet = state.sheetById(ss, d.sheetId);
        if (r.inheritFromBefore && d.startIndex === 0) throw badRequest(`Invalid requests[${i}].insertDimension: Cannot inherit from before the first row or column.`);
        if (d.dimension === 'ROWS') state.insertRows(sheet, d.startIndex, d.endIndex - d.startIndex, !!r.inheritFromBefore);
        else {
          const n = d.endIndex - d.startIndex;
          sheet.rows.forEach((row) => row.cells.splice(d.startIndex, 0, ...Array<undefined>(n)));
          sheet.columnMeta.splice(d.startIndex, 0, ...Array.from({ length: n }, () => []));
          sheet.properties.gridProperties.columnCount += n;
        }
        return {};
      }
      case 'appendDimension': {
        const sheet = state.sheetById(ss, r.sheetId);
        if (r.dimension === 'ROWS') state.insertRows(sheet, sheet.rows.length, r.length, false);
        else {
          sheet.properties.gridProperties.columnCount += r.length;
          for (let k = 0; k < r.length; k++) sheet.columnMeta.push([]);
        }
        return {};
      }
      case 'deleteDimension': {
        const d = r.range;
        const sheet = state.sheetById(ss, d.sheetId);
        if (d.dimension === 'ROWS') state.deleteRows(sheet, d.startIndex, d.endIndex);
        else {
          sheet.rows.forEach((row) => row.cells.splice(d.startIndex, d.endIndex - d.startIndex));
          sheet.columnMeta.splice(d.startIndex, d.endIndex - d.startIndex);
          sheet.properties.gridProperties.columnCount -= d.endIndex - d.startIndex;
        }
        return {};
      }
      case 'sortRange': {
        const box = state.gridBox(ss, r.range);
        state.assertEditableBy(box, actor);
        state.sortRows(box, r.sortSpecs ?? []);
        return {};
      }
      case 'addProtectedRange': {
        const sheet = state.sheetById(ss, r.protectedRange?.range?.sheetId);
        const pr = { ...structuredClone(r.protectedRange), protectedRangeId: ss.nextId++ };
        pr.range = { sheetId: sheet.properties.sheetId, ...pr.range };
        pr.requestingUserCanEdit = true;
        if (!pr.warningOnly && !pr.editors) pr.editors = { users: [actor] };
        sheet.protectedRanges.push(pr);
        return { addProtectedRange: { protectedRange: structuredClone(pr) } };
      }
      case 'setDataValidation': {
        const box = state.gridBox(ss, r.range);
        for (let row = box.r0; row < Math.min(box.r1, box.sheet.rows.length); row++) {
          for (let c = box.c0; c < box.c1; c++) {
            const cell = state.cell(box.sheet, row, c);
            if (r.rule) cell.validation = structuredClone(r.rule);
            else delete cell.validation;
          }
        }
        return {};
      }
      case 'addConditionalFormatRule': {
        const sheetId = r.rule?.ranges?.[0]?.sheetId;
        const sheet = state.sheetById(ss, sheetId);
        sheet.conditionalFormats.splice(r.index ?? sheet.conditionalFormats.length, 0, structuredClone(r.rule));
        return {};
      }
      case 'addFilterView': {
        const sheet = state.sheetById(ss, r.filter?.range?.sheetId);
        const fv = { ...structuredClone(r.filter), filterViewId: r.filter?.filterViewId ?? ss.nextId++ };
        sheet.filterViews.push(fv);
        return { addFilterView: { filter: structuredClone(fv) } };
      }
      case 'repeatCell': {
        const box = state.gridBox(ss, r.range);
        const rows = Math.min(box.r1, box.sheet.rows.length);
        for (let row = box.r0; row < rows; row++) {
          for (let c = box.c0; c < box.c1; c++) writeCellData(state.cell(box.sheet, row, c), r.cell ?? {}, r.fields);
        }
        return {};
      }
      case 'updateCells': {
        const sheet = state.sheetById(ss, r.start?.sheetId ?? r.range?.sheetId);
        const r0 = r.start?.rowIndex ?? r.range?.startRowIndex ?? 0;
        const c0 = r.start?.columnIndex ?? r.range?.startColumnIndex ?? 0;
        // Sheets never grows a grid to fit updateCells: rows and columns must exist (insertDimension/appendDimension first).
        const gp = sheet.properties.gridProperties;
        const height = (r.rows ?? []).length;
        const width = Math.max(0, ...(r.rows ?? []).map((rd: any) => (rd.values ?? []).length));
        if (r0 + height > gp.rowCount || c0 + width > gp.columnCount) {
          throw badRequest(`Invalid requests[${i}].updateCells: Range (${quoteSheet(sheet.properties.title)}!${columnLetter(c0)}${r0 + 1}:${columnLetter(c0 + Math.max(width, 1) - 1)}${r0 + Math.max(height, 1)}) exceeds grid limits. Max rows: ${gp.rowCount}, max columns: ${gp.columnCount}`);
        }
        (r.rows ?? []).forEach((rowData: any, k: number) => {
          (rowData.values ?? []).forEach((cd: any, j: number) => writeCellData(state.cell(sheet, r0 + k, c0 + j), cd, r.fields));
        });
        return {};
      }
      case 'autoResizeDimensions':
      case 'updateDimensionProperties':
        return {};
      default:
        onUnsupported(`sheets.spreadsheets.batchUpdate ${kind}`);
        throw badRequest(`Invalid requests[${i}]: the emulator does not implement ${kind}`);
    }
  };

  return {
    'sheets.spreadsheets.create': (ctx) => {
      const ss = state.create(ctx.body?.properties?.title);
      return { body: spreadsheetResource(state, ss, undefined, false) };
    },

    'sheets.spreadsheets.get': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const ranges = ctx.query.getAll('ranges');
      const boxes = ranges.length ? ranges.map((r) => state.parseRange(ss, r)) : undefined;
      return { body: spreadsheetResource(state, ss, boxes, ctx.query.get('includeGridData') === 'true') };
    },

    'sheets.spreadsheets.batchUpdate': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      // All or nothing, as the real service applies a batch atomically.
      const backup = structuredCloneSpreadsheet(ss);
      try {
        const replies = (ctx.body?.requests ?? []).map((req: any, i: number) => updateRequest(ss, req, i, ctx.user));
        const body: any = { spreadsheetId: ss.spreadsheetId, replies };
        if (ctx.body?.includeSpreadsheetInResponse) body.updatedSpreadsheet = spreadsheetResource(state, ss, undefined, false);
        return { body };
      } catch (err) {
        Object.assign(ss, backup);
        throw err;
      }
    },

    'sheets.spreadsheets.values.get': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const box = state.parseRange(ss, ctx.pathParams.range!);
      const res = state.readValues(box, ctx.query.get('valueRenderOption') ?? 'FORMATTED_VALUE', ctx.query.get('dateTimeRenderOption') ?? 'SERIAL_NUMBER', ctx.query.get('majorDimension') ?? 'ROWS');
      return { body: { ...res, majorDimension: ctx.query.get('majorDimension') ?? 'ROWS' } };
    },

    'sheets.spreadsheets.values.batchGet': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const major = ctx.query.get('majorDimension') ?? 'ROWS';
      const valueRanges = ctx.query.getAll('ranges').map((r) => ({
        ...state.readValues(state.parseRange(ss, r), ctx.query.get('valueRenderOption') ?? 'FORMATTED_VALUE', ctx.query.get('dateTimeRenderOption') ?? 'SERIAL_NUMBER', major),
        majorDimension: major,
      }));
      return { body: { spreadsheetId: ss.spreadsheetId, valueRanges } };
    },

    'sheets.spreadsheets.values.update': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const input = requireInputOption(ctx.query.get('valueInputOption'));
      const w = state.writeValues(state.parseRange(ss, ctx.pathParams.range!), ctx.body?.values ?? [], input, ctx.body?.majorDimension);
      return { body: { spreadsheetId: ss.spreadsheetId, updatedRange: w.range, updatedRows: w.rows, updatedColumns: w.cols, updatedCells: w.cells } };
    },

    'sheets.spreadsheets.values.batchUpdate': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const input = requireInputOption(ctx.body?.valueInputOption);
      return { body: totals(ss, (ctx.body?.data ?? []).map((vr: any) => ({ w: state.writeValues(state.parseRange(ss, vr.range), vr.values ?? [], input, vr.majorDimension) }))) };
    },

    'sheets.spreadsheets.values.batchUpdateByDataFilter': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const input = requireInputOption(ctx.body?.valueInputOption);
      const results = (ctx.body?.data ?? []).map((d: any) => {
        const boxes = state.filterBoxes(ss, d.dataFilter ?? {});
        const writes = boxes.map((b) => state.writeValues(b, d.values ?? [], input, d.majorDimension));
        return { w: writes[0], extra: writes.slice(1), dataFilter: d.dataFilter };
      });
      return { body: totals(ss, results) };
    },

    'sheets.spreadsheets.values.append': (ctx) => {
      const ss = state.get(ctx.pathParams.spreadsheetId!);
      const input = requireInputOption(ctx.query.get('valueInputOption'));
      const box = state.parseRange(ss, ctx.pathParams.range!);
      let last = box.r0 - 1;
      const limit = Math.min(box.r1, box.sheet.rows.length);
      for (let r = box.r0; r < limit; r++) {
        for (let c = box.c0; c < box.c1; c++) if (cellHasValue(box.sheet.rows[r]!.cells[c])) last = r;
      }
      const at = last + 1;
      const values: unknown[][] = ctx.body?.values ?? [];
      if (ctx.query.get('insertDataOption') === 'INSERT_ROWS') state.insertRows(box.sheet, at, values.length, at > 0);
      const target: Box = { sheet: box.sheet, r0: at, r1: at + values.length, c0: box.c0, c1: box.c1, bounded: { rows: false, cols: false } };
      const w = state.writeValues(target, values, input, ctx.body?.majorDimension);
      const tableRange = last >= box.r0 ? a1(box.sheet, box.r0, box.c0, last + 1, box.c1) : undefined;
      const body: any = { spreadsheetId: ss.spreadsheetId, updates: { spreadsheetId: ss.spreadsheetId, updatedRange: w.range, updatedRows: w.rows, updatedColumns: w.cols, updatedCells: w.cells } };
      if (tableRange) body.tableRange = tableRange;
      return { body };
    },
  };
}

function totals(ss: Spreadsheet, results: Array<{ w: { range: string; rows: number; cols: number; cells: number } | undefined; extra?: Array<{ rows: number; cols: number; cells: number }>; dataFilter?: any }>): any {
  let rows = 0;
  let cols = 0;
  let cells = 0;
  const sheets = new Set<string>();
  const responses = results.map(({ w, extra, dataFilter }) => {
    for (const x of [w, ...(extra ?? [])]) {
      if (!x) continue;
      rows += x.rows;
      cols = Math.max(cols, x.cols);
      cells += x.cells;
    }
    // UpdateValuesByDataFilterResponse has no spreadsheetId; UpdateValuesResponse does.
    const out: any = dataFilter ? {} : { spreadsheetId: ss.spreadsheetId };
    if (w) {
      sheets.add(w.range.split('!')[0]!);
      Object.assign(out, { updatedRange: w.range, updatedRows: w.rows, updatedColumns: w.cols, updatedCells: w.cells });
    }
    if (dataFilter) out.dataFilter = dataFilter;
    return out;
  });
  const body: any = { spreadsheetId: ss.spreadsheetId, responses };
  if (cells > 0) Object.assign(body, { totalUpdatedRows: rows, totalUpdatedColumns: cols, totalUpdatedCells: cells, totalUpdatedSheets: sheets.size });
  return body;
}

function writeCellData(cell: SCell, cd: any, fields: string): void {
  if (!fields) throw badRequest('At least one field must be updated, but none was specified.');
  const paths = fields.split(',').map((f) => f.trim());
  const all = paths.includes('*');
  if (all || paths.includes('userEnteredValue')) {
    const v = cd.userEnteredValue;
    setEntered(cell, v && Object.keys(v).length ? { ...v } : undefined);
  }
  const fmtPaths = all ? ['userEnteredFormat'] : paths.filter((p) => p.startsWith('userEnteredFormat'));
  if (fmtPaths.length) {
    const holder: any = { userEnteredFormat: cell.format ?? {} };
    applyFieldMask(holder, { userEnteredFormat: cd.userEnteredFormat ?? {} }, fmtPaths.join(','));
    cell.format = Object.keys(holder.userEnteredFormat).length ? holder.userEnteredFormat : undefined;
    if (!cell.format) delete cell.format;
  }
  if (all || paths.includes('dataValidation')) {
    if (cd.dataValidation) cell.validation = structuredClone(cd.dataValidation);
    else delete cell.validation;
  }
}

function structuredCloneSpreadsheet(ss: Spreadsheet): Spreadsheet {
  // structuredClone keeps shared DevMeta objects shared within the copy, so rows still point at the same metadata.
  return structuredClone(ss);
}

export function spreadsheetResource(state: SheetsState, ss: Spreadsheet, boxes: Box[] | undefined, includeGridData: boolean): any {
  const sheets = ss.sheets.filter((s) => !boxes || boxes.some((b) => b.sheet === s)).map((s) => state.sheetResource(ss, s, boxes, includeGridData));
  const out: any = { spreadsheetId: ss.spreadsheetId, properties: structuredClone(ss.properties), sheets, spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${ss.spreadsheetId}/edit` };
  if (ss.meta.length) out.developerMetadata = ss.meta.map((m) => state.toDeveloperMetadata(ss, m));
  return out;
}
