// An in-memory Excel workbook for the emulator: worksheets, cells with number formats, A1 addresses and a tiny formula evaluator; no HTTP here.

export type CellValue = string | number | boolean;

export interface Cell {
  value: CellValue;
  /** The formula text when the cell holds a formula ('=...'), else null. */
  formula: string | null;
  numberFormat: string;
}

export interface Worksheet {
  id: string;
  name: string;
  position: number;
  cells: Map<string, Cell>;
}

export interface Workbook {
  driveId: string;
  itemId: string;
  sheets: Worksheet[];
}

export interface RangeAddress {
  row: number;
  col: number;
  rows: number;
  cols: number;
}

const TEXT_FORMAT = '@';

export function columnName(col: number): string {
  let n = col + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** Parses 'A1', 'A1:C3', 'Sheet1!A1:C3' or whole columns/rows like 'A:C'; returns null if it is not an address. */
export function parseAddress(address: string): RangeAddress | null {
  const bare = address.includes('!') ? address.slice(address.lastIndexOf('!') + 1) : address;
  const m = /^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$/.exec(bare.trim());
  if (!m) return null;
  const c1 = columnIndex(m[1] ?? 'A');
  const r1 = Number(m[2]) - 1;
  const c2 = m[3] ? columnIndex(m[3]) : c1;
  const r2 = m[4] ? Number(m[4]) - 1 : r1;
  if (r1 < 0 || r2 < r1 || c2 < c1) return null;
  return { row: r1, col: c1, rows: r2 - r1 + 1, cols: c2 - c1 + 1 };
}

export function formatAddress(sheet: string, r: RangeAddress): string {
  const start = `${columnName(r.col)}${r.row + 1}`;
  const end = `${columnName(r.col + r.cols - 1)}${r.row + r.rows}`;
  const quoted = /^[A-Za-z0-9_]+$/.test(sheet) ? sheet : `'${sheet.replace(/'/g, "''")}'`;
  return r.rows === 1 && r.cols === 1 ? `${quoted}!${start}` : `${quoted}!${start}:${end}`;
}

const key = (r: number, c: number): string => `${r},${c}`;

export function getCell(ws: Worksheet, r: number, c: number): Cell {
  return ws.cells.get(key(r, c)) ?? { value: '', formula: null, numberFormat: 'General' };
}

/** Evaluates the few formulas the tests need; anything else is Excel's #NAME?. */
export function evaluateFormula(formula: string): CellValue {
  const body = formula.slice(1).trim();
  const hyperlink = /^HYPERLINK\(\s*"([^"]*)"\s*(?:,\s*"([^"]*)"\s*)?\)$/i.exec(body);
  if (hyperlink) return hyperlink[2] ?? hyperlink[1] ?? '';
  if (/^[\d\s+\-*/().]+$/.test(body)) {
    const tokens = body.match(/\d+(?:\.\d+)?|[+\-*/()]/g) ?? [];
    let i = 0;
    const expr = (): number => {
      let v = term();
      while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + term() : v - term();
      return v;
    };
    const term = (): number => {
      let v = factor();
      while (tokens[i] === '*' || tokens[i] === '/') v = tokens[i++] === '*' ? v * factor() : v / factor();
      return v;
    };
    const factor = (): number => {
      const t = tokens[i++];
      if (t === '(') {
        const v = expr();
        i++;
        return v;
      }
      if (t === '-') return -factor();
      return Number(t);
    };
    const v = expr();
    return Number.isFinite(v) ? v : '#DIV/0!';
  }
  return '#NAME?';
}

/** Writes one value as Excel would: '=...' becomes a formula unless the cell is text-formatted; text cells keep text. */
export function writeValue(ws: Worksheet, r: number, c: number, v: unknown): void {
  const cell = { ...getCell(ws, r, c) };
  if (v === null || v === undefined) {
    // JSON null in a values array leaves the cell as it is (Graph semantics).
    return;
  }
  const isText = cell.numberFormat === TEXT_FORMAT;
  if (typeof v === 'string' && v.startsWith('=') && !isText && v.length > 1) {
    cell.formula = v;
    cell.value = evaluateFormula(v);
  } else if (isText) {
    cell.formula = null;
    cell.value = typeof v === 'string' ? v : String(v);
  } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    cell.formula = null;
    cell.value = v;
  } else {
    throw new Error(`unsupported cell value at ${columnName(c)}${r + 1}`);
  }
  ws.cells.set(key(r, c), cell);
}

export function writeNumberFormat(ws: Worksheet, r: number, c: number, fmt: string): void {
  const cell = { ...getCell(ws, r, c), numberFormat: fmt };
  ws.cells.set(key(r, c), cell);
}

/** The smallest range holding every non-empty cell (A1 when the sheet is empty). */
export function usedRange(ws: Worksheet, valuesOnly: boolean): RangeAddress {
  let maxR = -1;
  let maxC = -1;
  let minR = Number.MAX_SAFE_INTEGER;
  let minC = Number.MAX_SAFE_INTEGER;
  for (const [k, cell] of ws.cells) {
    const hasValue = cell.value !== '' || cell.formula !== null;
    if (!hasValue && (valuesOnly || cell.numberFormat === 'General')) continue;
    const [r, c] = k.split(',').map(Number) as [number, number];
    maxR = Math.max(maxR, r);
    maxC = Math.max(maxC, c);
    minR = Math.min(minR, r);
    minC = Math.min(minC, c);
  }
  if (maxR < 0) return { row: 0, col: 0, rows: 1, cols: 1 };
  return { row: minR, col: minC, rows: maxR - minR + 1, cols: maxC - minC + 1 };
}

/** Deletes a range and shifts the cells below it up (or to its right, left), as Excel's Range.delete does. */
export function deleteRange(ws: Worksheet, r: RangeAddress, shift: 'Up' | 'Left'): void {
  const moved = new Map<string, Cell>();
  for (const [k, cell] of ws.cells) {
    const [row, col] = k.split(',').map(Number) as [number, number];
    const inRows = row >= r.row && row < r.row + r.rows;
    const inCols = col >= r.col && col < r.col + r.cols;
    if (inRows && inCols) continue;
    if (shift === 'Up' && inCols && row >= r.row + r.rows) moved.set(key(row - r.rows, col), cell);
    else if (shift === 'Left' && inRows && col >= r.col + r.cols) moved.set(key(row, col - r.cols), cell);
    else moved.set(k, cell);
  }
  ws.cells.clear();
  for (const [k, cell] of moved) ws.cells.set(k, cell);
}
