// Fakes of the Apps Script services the Muster add-on uses (SpreadsheetApp, HtmlService, UrlFetchApp, ScriptApp, PropertiesService), shaped after the Apps Script reference and strict where Apps Script is strict; they run inside the sandbox worker and must not reach the network themselves (UrlFetchApp goes through the injected synchronous fetch).
import vm from 'node:vm';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export type AuthModeName = 'NONE' | 'CUSTOM_FUNCTION' | 'LIMITED' | 'FULL';
export type CellValue = string | number | boolean | null;

export interface SheetSpec {
  name: string;
  /** Row-major cell values, the header row first. */
  rows: CellValue[][];
}

export interface FetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  followRedirects: boolean;
}
export interface FetchReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Set when no HTTP answer came (connection refused, DNS…). */
  networkError?: string;
}

export interface MenuItemRecord {
  caption?: string;
  functionName?: string;
  separator?: true;
}
export interface FetchRecord {
  url: string;
  method: string;
  /** Whether the Authorization header carried exactly the identity token ScriptApp handed out. */
  authorization: 'identity-token' | 'other' | 'none';
  contentType: string | null;
  payload: unknown;
  status: number | null;
}
export interface SandboxEvents {
  /** Every service method the script called, in order, as "Service.method". */
  touches: string[];
  menus: Array<{ items: MenuItemRecord[]; addedToUi: boolean }>;
  sidebars: Array<{ title: string; html: string }>;
  toasts: Array<{ message: string; title: string }>;
  fetches: FetchRecord[];
  logs: string[];
}

export function emptyEvents(): SandboxEvents {
  return { touches: [], menus: [], sidebars: [], toasts: [], fetches: [], logs: [] };
}

export interface FakeEnvironment {
  buildDir: string;
  sheets: SheetSpec[];
  activeSheet: string | null;
  /** A1 ranges selected on the active sheet, in selection order. */
  selection: string[];
  documentProperties: Record<string, string>;
  identityToken: string | null;
  authMode: AuthModeName;
  events: SandboxEvents;
  fetchSync: (req: FetchRequest) => FetchReply;
}

/** What Apps Script lets an add-on do in AuthMode.NONE: build its menu, nothing else. */
const ALLOWED_IN_NONE = new Set(['SpreadsheetApp.getUi', 'Ui.createAddonMenu', 'Menu.addItem', 'Menu.addSeparator', 'Menu.addSubMenu', 'Menu.addToUi']);

const CURRENT_ONLY = 'https://www.googleapis.com/auth/spreadsheets.currentonly';
const ALL_SPREADSHEETS = 'https://www.googleapis.com/auth/spreadsheets';

function appsScriptError(message: string): Error {
  const err = new Error(message);
  err.name = 'Exception';
  return err;
}

function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}
function columnLetters(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

function displayValue(v: CellValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v);
}

function htmlEscape(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Compiles an HtmlService template: <? code ?>, <?= escaped ?>, <?!= raw ?>. */
export function compileTemplate(source: string): string {
  let code = 'var __out = [];\n';
  let last = 0;
  const scriptlet = /<\?(!=|=)?([\s\S]*?)\?>/g;
  for (let m = scriptlet.exec(source); m !== null; m = scriptlet.exec(source)) {
    code += `__out.push(${JSON.stringify(source.slice(last, m.index))});\n`;
    const body = m[2] ?? '';
    if (m[1] === '=') code += `__out.push(__escape(${body}));\n`;
    else if (m[1] === '!=') code += `__out.push(__raw(${body}));\n`;
    else code += `${body}\n`;
    last = m.index + m[0].length;
  }
  code += `__out.push(${JSON.stringify(source.slice(last))});\nreturn __out.join('');`;
  return code;
}

/** Builds the global objects the script sees; `context` is the vm context the script runs in (templates evaluate there). */
export function createAppsScriptGlobals(env: FakeEnvironment, getContext: () => vm.Context): Record<string, unknown> {
  const touch = (name: string): void => {
    env.events.touches.push(name);
    if (env.authMode === 'NONE' && !ALLOWED_IN_NONE.has(name)) {
      throw appsScriptError(`You do not have permission to call ${name} in AuthMode.NONE. The add-on must not use it before the user authorizes it.`);
    }
  };

  const AuthMode = Object.freeze(
    Object.fromEntries(
      (['NONE', 'CUSTOM_FUNCTION', 'LIMITED', 'FULL'] as const).map((n) => [n, Object.freeze({ name: () => n, toString: () => n, toJSON: () => n })]),
    ),
  ) as Record<AuthModeName, object>;

  const manifestPath = join(env.buildDir, 'appsscript.json');
  const manifest = (existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {}) as { urlFetchWhitelist?: string[]; oauthScopes?: string[] };
  const scopes = manifest.oauthScopes ?? [];

  // ---------- SpreadsheetApp ----------
  interface SheetState {
    name: string;
    cells: CellValue[][];
    maxRows: number;
    maxColumns: number;
  }
  // Rebuilt whenever the sandbox is given another Sheet.
  let sheetsFor: SheetSpec[] | null = null;
  let sheetStates: SheetState[] = [];
  const allSheets = (): SheetState[] => {
    if (sheetsFor !== env.sheets) {
      sheetsFor = env.sheets;
      sheetStates = env.sheets.map((s) => ({
        name: s.name,
        cells: s.rows.map((r) => [...r]),
        maxRows: Math.max(1000, s.rows.length),
        maxColumns: Math.max(26, ...s.rows.map((r) => r.length)),
      }));
    }
    return sheetStates;
  };

  const makeRange = (sheet: SheetState, row: number, column: number, numRows: number, numColumns: number): object => {
    const read = (display: boolean): unknown[][] => {
      const out: unknown[][] = [];
      for (let r = 0; r < numRows; r += 1) {
        const src = sheet.cells[row - 1 + r] ?? [];
        const line: unknown[] = [];
        for (let c = 0; c < numColumns; c += 1) {
          const v = src[column - 1 + c];
          line.push(display ? displayValue(v) : v === null || v === undefined ? '' : v);
        }
        out.push(line);
      }
      return out;
    };
    const range = {
      getRow: () => (touch('Range.getRow'), row),
      getColumn: () => (touch('Range.getColumn'), column),
      getNumRows: () => (touch('Range.getNumRows'), numRows),
      getNumColumns: () => (touch('Range.getNumColumns'), numColumns),
      getLastRow: () => (touch('Range.getLastRow'), row + numRows - 1),
      getLastColumn: () => (touch('Range.getLastColumn'), column + numColumns - 1),
      getSheet: () => (touch('Range.getSheet'), makeSheet(sheet)),
      getA1Notation: () => {
        touch('Range.getA1Notation');
        const a = `${columnLetters(column)}${row}`;
        return numRows === 1 && numColumns === 1 ? a : `${a}:${columnLetters(column + numColumns - 1)}${row + numRows - 1}`;
      },
      getValues: () => (touch('Range.getValues'), read(false)),
      getDisplayValues: () => (touch('Range.getDisplayValues'), read(true)),
      getValue: () => (touch('Range.getValue'), read(false)[0]?.[0]),
      getDisplayValue: () => (touch('Range.getDisplayValue'), read(true)[0]?.[0]),
    };
    return range;
  };

  const rangeFromA1 = (sheet: SheetState, a1: string): object => {
    const ref = a1.includes('!') ? a1.slice(a1.indexOf('!') + 1) : a1;
    const [from, to = from] = ref.toUpperCase().split(':') as [string, string?];
    const cell = /^([A-Z]*)([0-9]*)$/;
    const f = cell.exec(from);
    const t = cell.exec(to ?? from);
    if (!f || !t || (!f[1] && !f[2])) throw appsScriptError(`Range not found: ${a1}`);
    const c1 = f[1] ? columnNumber(f[1]) : 1;
    const c2 = t[1] ? columnNumber(t[1]) : sheet.maxColumns;
    const r1 = f[2] ? Number(f[2]) : 1;
    const r2 = t[2] ? Number(t[2]) : sheet.maxRows;
    return checkedRange(sheet, Math.min(r1, r2), Math.min(c1, c2), Math.abs(r2 - r1) + 1, Math.abs(c2 - c1) + 1);
  };

  const checkedRange = (sheet: SheetState, row: number, column: number, numRows: number, numColumns: number): object => {
    for (const [v, what] of [
      [row, 'row'],
      [column, 'column'],
      [numRows, 'number of rows'],
      [numColumns, 'number of columns'],
    ] as const) {
      if (!Number.isInteger(v)) throw appsScriptError(`Cannot convert ${String(v)} to int (${what}).`);
    }
    if (numRows < 1) throw appsScriptError('The number of rows in the range must be at least 1.');
    if (numColumns < 1) throw appsScriptError('The number of columns in the range must be at least 1.');
    if (row < 1 || column < 1 || row + numRows - 1 > sheet.maxRows || column + numColumns - 1 > sheet.maxColumns) {
      throw appsScriptError('The coordinates of the range are outside the dimensions of the sheet.');
    }
    return makeRange(sheet, row, column, numRows, numColumns);
  };

  const lastRowOf = (sheet: SheetState): number => {
    for (let r = sheet.cells.length; r > 0; r -= 1) if ((sheet.cells[r - 1] ?? []).some((v) => v !== null && v !== '')) return r;
    return 0;
  };
  const lastColumnOf = (sheet: SheetState): number => {
    let last = 0;
    for (const line of sheet.cells) for (let c = line.length; c > last; c -= 1) if (line[c - 1] !== null && line[c - 1] !== '') last = c;
    return last;
  };

  const makeSheet = (sheet: SheetState): object => ({
    getName: () => (touch('Sheet.getName'), sheet.name),
    getLastRow: () => (touch('Sheet.getLastRow'), lastRowOf(sheet)),
    getLastColumn: () => (touch('Sheet.getLastColumn'), lastColumnOf(sheet)),
    getMaxRows: () => (touch('Sheet.getMaxRows'), sheet.maxRows),
    getMaxColumns: () => (touch('Sheet.getMaxColumns'), sheet.maxColumns),
    getDataRange: () => (touch('Sheet.getDataRange'), checkedRange(sheet, 1, 1, Math.max(1, lastRowOf(sheet)), Math.max(1, lastColumnOf(sheet)))),
    getRange: (...args: unknown[]) => {
      touch('Sheet.getRange');
      if (typeof args[0] === 'string') return rangeFromA1(sheet, args[0]);
      const [row, column, numRows = 1, numColumns = 1] = args as number[];
      return checkedRange(sheet, row as number, column as number, numRows, numColumns);
    },
  });

  const activeSheetState = (): SheetState | null => allSheets().find((s) => s.name === env.activeSheet) ?? allSheets()[0] ?? null;
  const selectedRanges = (): object[] => {
    const sheet = activeSheetState();
    return sheet ? env.selection.map((a1) => rangeFromA1(sheet, a1)) : [];
  };
  const activeRange = (): object | null => selectedRanges().at(-1) ?? null;
  const activeRangeList = (): object | null => {
    const ranges = selectedRanges();
    return ranges.length === 0 ? null : { getRanges: () => (touch('RangeList.getRanges'), ranges) };
  };

  const menuOf = (record: { items: MenuItemRecord[]; addedToUi: boolean }): object => {
    const menu = {
      addItem: (caption: string, functionName: string) => {
        touch('Menu.addItem');
        record.items.push({ caption, functionName });
        return menu;
      },
      addSeparator: () => {
        touch('Menu.addSeparator');
        record.items.push({ separator: true });
        return menu;
      },
      addToUi: () => {
        touch('Menu.addToUi');
        record.addedToUi = true;
      },
    };
    return menu;
  };

  const ui = {
    createAddonMenu: () => {
      touch('Ui.createAddonMenu');
      const record = { items: [] as MenuItemRecord[], addedToUi: false };
      env.events.menus.push(record);
      return menuOf(record);
    },
    showSidebar: (output: { getContent(): string; getTitle(): string }) => {
      touch('Ui.showSidebar');
      env.events.sidebars.push({ title: output.getTitle(), html: output.getContent() });
    },
  };

  const spreadsheet = {
    getId: () => (touch('Spreadsheet.getId'), 'fake-spreadsheet-id'),
    getName: () => (touch('Spreadsheet.getName'), 'Training records'),
    getSheets: () => (touch('Spreadsheet.getSheets'), allSheets().map(makeSheet)),
    getSheetByName: (name: string) => {
      touch('Spreadsheet.getSheetByName');
      const s = allSheets().find((x) => x.name === name);
      return s ? makeSheet(s) : null;
    },
    getActiveSheet: () => {
      touch('Spreadsheet.getActiveSheet');
      const s = activeSheetState();
      return s ? makeSheet(s) : null;
    },
    getActiveRange: () => (touch('Spreadsheet.getActiveRange'), activeRange()),
    getActiveRangeList: () => (touch('Spreadsheet.getActiveRangeList'), activeRangeList()),
    toast: (message: string, title = '') => {
      touch('Spreadsheet.toast');
      env.events.toasts.push({ message: String(message), title: String(title) });
    },
  };

  const SpreadsheetApp = {
    getUi: () => (touch('SpreadsheetApp.getUi'), ui),
    getActiveSpreadsheet: () => (touch('SpreadsheetApp.getActiveSpreadsheet'), spreadsheet),
    getActiveSheet: () => (touch('SpreadsheetApp.getActiveSheet'), spreadsheet.getActiveSheet()),
    getActiveRange: () => (touch('SpreadsheetApp.getActiveRange'), activeRange()),
    getActiveRangeList: () => {
      touch('SpreadsheetApp.getActiveRangeList');
      // Reported (qiita.com/ttsukagoshi, Google issue tracker) though not in the reference: under spreadsheets.currentonly only
      // Spreadsheet.getActiveRangeList() works; the SpreadsheetApp shortcut fails with a permission error.
      if (scopes.includes(CURRENT_ONLY) && !scopes.includes(ALL_SPREADSHEETS)) throw appsScriptError('You do not have permission to perform that action.');
      return activeRangeList();
    },
  };

  // ---------- HtmlService ----------
  const readHtmlFile = (name: string): string => {
    const file = join(env.buildDir, `${name}.html`);
    if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) throw appsScriptError(`No HTML file named ${name} was found.`);
    return readFileSync(file, 'utf8');
  };
  const htmlOutput = (content: string): object => {
    let title = '';
    const output = {
      getContent: () => content,
      getTitle: () => title,
      setTitle: (t: string) => {
        touch('HtmlOutput.setTitle');
        title = String(t);
        return output;
      },
      setWidth: () => output,
      setHeight: () => output,
    };
    return output;
  };
  const HtmlService = {
    createHtmlOutputFromFile: (name: string) => (touch('HtmlService.createHtmlOutputFromFile'), htmlOutput(readHtmlFile(name))),
    createHtmlOutput: (html = '') => (touch('HtmlService.createHtmlOutput'), htmlOutput(String(html))),
    createTemplateFromFile: (name: string) => {
      touch('HtmlService.createTemplateFromFile');
      const source = readHtmlFile(name);
      const template: Record<string, unknown> = {};
      Object.defineProperties(template, {
        getRawContent: { value: () => source },
        getCode: { value: () => compileTemplate(source) },
        evaluate: {
          value: () => {
            touch('HtmlTemplate.evaluate');
            const vars: Record<string, unknown> = { ...template, __escape: htmlEscape, __raw: (v: unknown) => (v === null || v === undefined ? '' : String(v)) };
            const render = vm.runInContext(`(function (__vars) { with (__vars) { ${compileTemplate(source)} } })`, getContext(), { filename: `${name}.html` }) as (v: object) => string;
            return htmlOutput(render(vars));
          },
        },
      });
      return template;
    },
  };

  // ---------- PropertiesService ----------
  const documentProperties = {
    getProperty: (key: string) => (touch('Properties.getProperty'), Object.hasOwn(env.documentProperties, key) ? (env.documentProperties[key] as string) : null),
    setProperty: (key: string, value: string) => {
      touch('Properties.setProperty');
      env.documentProperties[String(key)] = String(value);
      return documentProperties;
    },
    deleteProperty: (key: string) => {
      touch('Properties.deleteProperty');
      delete env.documentProperties[String(key)];
      return documentProperties;
    },
    getProperties: () => (touch('Properties.getProperties'), { ...env.documentProperties }),
    getKeys: () => (touch('Properties.getKeys'), Object.keys(env.documentProperties)),
  };
  const PropertiesService = {
    getDocumentProperties: () => (touch('PropertiesService.getDocumentProperties'), documentProperties),
    getScriptProperties: () => {
      touch('PropertiesService.getScriptProperties');
      throw new Error('Sandbox: the Muster add-on must never use script properties; nothing tenant-wide may live in the script.');
    },
    getUserProperties: () => {
      touch('PropertiesService.getUserProperties');
      throw new Error('Sandbox: the Muster add-on keeps no user properties; only the Sheet\'s program choice, in document properties.');
    },
  };

  // ---------- ScriptApp ----------
  const ScriptApp = {
    AuthMode,
    getIdentityToken: () => (touch('ScriptApp.getIdentityToken'), env.identityToken),
  };

  // ---------- UrlFetchApp ----------
  const allowlist: string[] | null = manifest.urlFetchWhitelist ?? null;

  interface FetchParams {
    method?: string;
    headers?: Record<string, string>;
    payload?: string | Record<string, string>;
    contentType?: string;
    muteHttpExceptions?: boolean;
    followRedirects?: boolean;
  }
  const UrlFetchApp = {
    fetch: (url: string, params: FetchParams = {}) => {
      touch('UrlFetchApp.fetch');
      const target = String(url);
      if (!/^https?:\/\//i.test(target)) throw appsScriptError(`Invalid argument: ${target}`);
      if (allowlist !== null && !allowlist.some((prefix) => target.startsWith(prefix))) {
        throw appsScriptError(`UrlFetch to ${target} is not allowed by the manifest's urlFetchWhitelist.`);
      }
      const method = String(params.method ?? 'get').toUpperCase();
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(params.headers ?? {})) headers[k] = String(v);
      let body: string | null = null;
      if (params.payload !== undefined && params.payload !== null) {
        if (typeof params.payload === 'string') body = params.payload;
        else body = Object.entries(params.payload).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
        headers['Content-Type'] = params.contentType ?? 'application/x-www-form-urlencoded';
      }
      headers['User-Agent'] = 'Mozilla/5.0 (compatible; Google-Apps-Script; beanserver; +https://script.google.com; id: sandbox)';

      const auth = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
      const record: FetchRecord = {
        url: target,
        method,
        authorization: auth === undefined ? 'none' : env.identityToken !== null && auth === `Bearer ${env.identityToken}` ? 'identity-token' : 'other',
        contentType: params.contentType ?? null,
        payload: body !== null && (params.contentType ?? '').startsWith('application/json') ? (JSON.parse(body) as unknown) : body,
        status: null,
      };
      env.events.fetches.push(record);

      const reply = env.fetchSync({ url: target, method, headers, body, followRedirects: params.followRedirects !== false });
      if (reply.networkError !== undefined || reply.status === undefined) {
        throw appsScriptError(`Address unavailable: ${target}`);
      }
      const status = reply.status;
      const text = reply.body ?? '';
      const responseHeaders = reply.headers ?? {};
      record.status = status;
      if (status >= 400 && params.muteHttpExceptions !== true) {
        throw appsScriptError(`Request failed for ${target.split('/').slice(0, 3).join('/')} returned code ${status}. Truncated server response: ${text.slice(0, 100)} (use muteHttpExceptions option to examine full response)`);
      }
      return {
        getResponseCode: () => status,
        getContentText: () => text,
        getHeaders: () => ({ ...responseHeaders }),
        getAllHeaders: () => ({ ...responseHeaders }),
      };
    },
  };

  const sandboxConsole = {
    log: (...a: unknown[]) => env.events.logs.push(a.map(String).join(' ')),
    info: (...a: unknown[]) => env.events.logs.push(a.map(String).join(' ')),
    warn: (...a: unknown[]) => env.events.logs.push(a.map(String).join(' ')),
    error: (...a: unknown[]) => env.events.logs.push(a.map(String).join(' ')),
  };

  return { SpreadsheetApp, HtmlService, PropertiesService, ScriptApp, UrlFetchApp, console: sandboxConsole };
}
