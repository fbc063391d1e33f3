// The Google Workspace emulator's HTTP server: OAuth JWT-bearer tokens, strict discovery checks, quotas, faults and counters around the per-API handlers; it never reaches the network.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { ApiError, EmulatorClock, seededRandom, type CallContext, type Handler } from './common.js';
import { checkQuery, checkRequestBody, checkResponseBody, matchRoute, methodScopes, type ApiName, type RouteMatch } from './discovery.js';
import { CalendarState, calendarHandlers, type InvitationRecord } from './calendar.js';
import { GmailState, gmailHandlers } from './gmail.js';
import { DirectoryState, directoryHandlers } from './directory.js';
import { SheetsState, columnLetter, isSheetsRead, sheetsHandlers } from './sheets.js';

export { dateToSerial, serialToIso } from './sheets.js';
export type { InvitationRecord } from './calendar.js';

export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface Quotas {
  calendarPerMinute: number;
  sheetsReadsPerMinute: number;
  sheetsWritesPerMinute: number;
  gmailUnitsPerMinute: number;
  gmailMessagesPerDay: number;
}

/** LIMITS.md: Calendar 600/min/user; Sheets 60 reads and 60 writes/min/user; Gmail 6,000 units/min/user (2026 page); 2,000 messages/day (Workspace). */
export const DEFAULT_QUOTAS: Quotas = {
  calendarPerMinute: 600,
  sheetsReadsPerMinute: 60,
  sheetsWritesPerMinute: 60,
  gmailUnitsPerMinute: 6_000,
  gmailMessagesPerDay: 2_000,
};

const GMAIL_UNITS: Record<string, number> = { 'gmail.users.messages.send': 100, 'gmail.users.messages.list': 5, 'gmail.users.messages.get': 5 };

export interface GoogleEmulatorOptions {
  /** Simulated time: quotas refill and conferences age only when `clock.advance(ms)` is called. */
  simulatedClock?: boolean;
  startTime?: number;
  quotas?: Partial<Quotas>;
  /** Reads of a new Meet conference that answer "pending" before "success" (default 1). */
  meetPendingReads?: number;
}

export type FaultKind = '429' | '403-rate' | '403-user-rate' | '500' | '503' | 'slow' | 'drop' | 'drop-after-work';

export interface FaultRule {
  /** A method id ('calendar.events.insert') or prefix ('gmail.', 'sheets.spreadsheets.values'); all methods when absent. */
  method?: string;
  kind: FaultKind;
  /** How many matching calls it hits (default 1). */
  times?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
}

export interface Violation {
  kind: 'query' | 'body' | 'scope' | 'route' | 'response' | 'unsupported';
  methodId: string;
  message: string;
}

export interface UserCounters {
  requests: number;
  units: number;
  byMethod: Record<string, number>;
}

export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

interface RegisteredKey {
  publicKey: string;
  clientId: string;
  delegatedScopes: Set<string> | undefined;
}

interface IssuedToken {
  user: string;
  delegated: boolean;
  scopes: string[];
  expiresAt: number;
}

export interface SpreadsheetView {
  tabs(): string[];
  /** Formatted values of a tab, trimmed like values.get. */
  values(tab: string): string[][];
  /** Per row (0-based, header included): the `metadataKey` metadata's value on that row, or null. */
  rowMetadata(tab: string, metadataKey?: string): Array<string | null>;
  /** The sheet resource (properties, protectedRanges, conditionalFormats, filterViews). */
  sheet(tab: string): any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** CellData for one cell, e.g. cell('Roster', 'C2'). */
  cell(tab: string, ref: string): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface GoogleEmulator {
  rootUrl: string;
  tokenUrl: string;
  clock: EmulatorClock;
  /** Registers a service account; keys share one RSA pair per process (fast) unless `freshKeyPair`. */
  createServiceAccountKey(opts?: { clientEmail?: string; delegatedScopes?: string[]; freshKeyPair?: boolean }): ServiceAccountKeyFile;
  state: {
    calendar: CalendarState;
    gmail: GmailState;
    sheets: SheetsState;
    directory: DirectoryState;
    events(calendarId: string): Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    invitationsSent(): InvitationRecord[];
    setResponse(eventId: string, email: string, status: 'needsAction' | 'declined' | 'tentative' | 'accepted'): void;
    addBusy(email: string, start: string, end: string): void;
    sentMessages(user: string): ReturnType<GmailState['sentMessages']>;
    addBounce(user: string, opts: { recipient: string; originalMessageId?: string }): void;
    createSpreadsheet(title?: string): string;
    spreadsheet(id: string): SpreadsheetView;
    /** Sorts a tab's data rows (below the frozen header) by one column, as a manager would in the UI. */
    sortSheet(spreadsheetId: string, tab: string, opts: { column: string | number; descending?: boolean; as?: string }): void;
    /** Inserts rows typed by a person at a 1-based row number (values parsed as USER_ENTERED). */
    insertRowsAsUser(spreadsheetId: string, tab: string, atRow: number, rows: string[][], as?: string): void;
    setCellAsUser(spreadsheetId: string, tab: string, ref: string, value: string, as?: string): void;
    addUser(u: { email: string; name?: string; managerEmail?: string; isAdmin?: boolean }): void;
    addGroup(g: { email: string; name?: string; members: string[] }): void;
    setAdmin(email: string, isAdmin: boolean): void;
  };
  faults: {
    inject(rule: FaultRule): void;
    /** Each call fails with probability `rate`, kinds drawn from `kinds`, from a seeded RNG. */
    random(opts: { rate: number; seed: number; kinds?: FaultKind[]; methods?: string[] }): void;
    clear(): void;
    injected(): Array<{ methodId: string; kind: FaultKind }>;
  };
  /** Runs `fn` once, just before the next call of `methodId` is handled (to stage a race, e.g. a sort before a write). */
  beforeNext(methodId: string, fn: () => void): void;
  violations(): Violation[];
  counters(): Record<string, Record<ApiName, UserCounters>>;
  /** Every call handled, in order (method id and user), for assertions on call counts. */
  calls(): Array<{ methodId: string; user: string; status: number }>;
  close(): Promise<void>;
}

let sharedKeyPair: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function verifyJwt(assertion: string, keys: Map<string, RegisteredKey>): { claims: Record<string, any>; key: RegisteredKey } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const parts = assertion.split('.');
  if (parts.length !== 3) throw new Error('malformed JWT');
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string };
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (header.alg !== 'RS256') throw new Error('unsupported alg');
  const key = keys.get(String(claims.iss).toLowerCase());
  if (!key) throw new Error('unknown issuer');
  const ok = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(key.publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) throw new Error('bad signature');
  return { claims, key };
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, { error, error_description: description });
}

export async function startGoogleEmulator(opts: GoogleEmulatorOptions = {}): Promise<GoogleEmulator> {
  const clock = new EmulatorClock(opts.simulatedClock ?? false, opts.startTime);
  const quotas: Quotas = { ...DEFAULT_QUOTAS, ...opts.quotas };
  const calendar = new CalendarState();
  calendar.meetPendingReads = opts.meetPendingReads ?? 1;
  const gmail = new GmailState();
  const sheets = new SheetsState();
  const directory = new DirectoryState();
  const keys = new Map<string, RegisteredKey>();
  const tokens = new Map<string, IssuedToken>();
  const violations: Violation[] = [];
  const calls: Array<{ methodId: string; user: string; status: number }> = [];
  const counters: Record<string, Record<string, UserCounters>> = {};
  const windows = new Map<string, Array<{ at: number; units: number }>>();
  const faultRules: FaultRule[] = [];
  let randomFaults: { rate: number; rng: () => number; kinds: FaultKind[]; methods?: string[] } | undefined;
  const injectedLog: Array<{ methodId: string; kind: FaultKind }> = [];
  const hooks: Array<{ methodId: string; fn: () => void }> = [];
  let etagSeq = 0;
  const newEtag = (): string => `"${(++etagSeq).toString().padStart(16, '0')}"`;

  const handlers: Record<string, Handler> = {
    ...calendarHandlers(calendar, newEtag),
    ...gmailHandlers(gmail),
    ...directoryHandlers(directory),
    ...sheetsHandlers(sheets, (what) => violations.push({ kind: 'unsupported', methodId: 'sheets.spreadsheets.batchUpdate', message: what })),
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      violations.push({ kind: 'response', methodId: 'internal', message: `emulator crashed: ${String(err instanceof Error ? err.stack : err)}` });
      if (!res.headersSent) sendJson(res, 500, new ApiError(500, 'backendError', 'Internal error encountered.').toBody());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const tokenUrl = `${origin}/token`;

  function windowUse(key: string, windowMs: number, units: number, limit: number): boolean {
    const now = clock.now();
    const list = (windows.get(key) ?? []).filter((e) => e.at > now - windowMs);
    windows.set(key, list);
    const used = list.reduce((s, e) => s + e.units, 0);
    if (used + units > limit) return false;
    list.push({ at: now, units });
    return true;
  }

  function assertQuota(match: RouteMatch, user: string): void {
    const id = match.method.id;
    if (match.api === 'calendar') {
      if (!windowUse(`cal:${user}`, 60_000, 1, quotas.calendarPerMinute)) throw new ApiError(403, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits');
    } else if (match.api === 'sheets') {
      const read = isSheetsRead(id);
      const ok = read ? windowUse(`sr:${user}`, 60_000, 1, quotas.sheetsReadsPerMinute) : windowUse(`sw:${user}`, 60_000, 1, quotas.sheetsWritesPerMinute);
      if (!ok) {
        const what = read ? 'Read requests' : 'Write requests';
        throw new ApiError(429, 'rateLimitExceeded', `Quota exceeded for quota metric '${what}' and limit '${what} per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.`);
      }
    } else if (match.api === 'gmail') {
      if (id === 'gmail.users.messages.send') {
        const now = clock.now();
        const sentToday = (windows.get(`gd:${user}`) ?? []).filter((e) => e.at > now - 86_400_000).length;
        if (sentToday >= quotas.gmailMessagesPerDay) {
          // Gmail's documented answer to a sending limit: 429 "User-rate limit exceeded" "(Mail sending)" with a time to retry.
          const retry = new Date(now + 86_400_000).toISOString();
          throw new ApiError(429, 'rateLimitExceeded', `User-rate limit exceeded.  Retry after ${retry} (Mail sending)`, 'usageLimits');
        }
        windows.set(`gd:${user}`, [...(windows.get(`gd:${user}`) ?? []).filter((e) => e.at > now - 86_400_000), { at: now, units: 1 }]);
      }
      if (!windowUse(`gu:${user}`, 60_000, GMAIL_UNITS[id] ?? 5, quotas.gmailUnitsPerMinute)) throw new ApiError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits');
    }
  }

  function countCall(api: ApiName, user: string, methodId: string): void {
    const perUser = (counters[user] ??= {});
    const c = (perUser[api] ??= { requests: 0, units: 0, byMethod: {} });
    c.requests += 1;
    c.units += api === 'gmail' ? (GMAIL_UNITS[methodId] ?? 5) : 1;
    c.byMethod[methodId] = (c.byMethod[methodId] ?? 0) + 1;
  }

  function pickFault(methodId: string): FaultRule | undefined {
    const i = faultRules.findIndex((r) => !r.method || methodId.startsWith(r.method));
    if (i !== -1) {
      const rule = faultRules[i]!;
      rule.times = (rule.times ?? 1) - 1;
      if (rule.times <= 0) faultRules.splice(i, 1);
      return rule;
    }
    if (randomFaults && (!randomFaults.methods || randomFaults.methods.some((m) => methodId.startsWith(m)))) {
      if (randomFaults.rng() < randomFaults.rate) {
        const kind = randomFaults.kinds[Math.floor(randomFaults.rng() * randomFaults.kinds.length)]!;
        return { kind };
      }
    }
    return undefined;
  }

  function faultError(rule: FaultRule): ApiError | undefined {
    const headers: Record<string, string> = rule.retryAfterSeconds !== undefined ? { 'retry-after': String(rule.retryAfterSeconds) } : {};
    switch (rule.kind) {
      case '429':
        return new ApiError(429, 'rateLimitExceeded', 'Resource has been exhausted (e.g. check quota).', 'global', headers);
      case '403-rate':
        return new ApiError(403, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits', headers);
      case '403-user-rate':
        return new ApiError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits', headers);
      case '500':
        return new ApiError(500, 'backendError', 'Backend Error');
      case '503':
        return new ApiError(503, 'backendError', 'The service is currently unavailable.', 'global', headers);
      default:
        return undefined;
    }
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('grant_type') !== JWT_BEARER) return oauthError(res, 400, 'unsupported_grant_type', 'Invalid grant_type: ' + form.get('grant_type'));
    let claims: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    let key: RegisteredKey;
    try {
      ({ claims, key } = verifyJwt(form.get('assertion') ?? '', keys));
    } catch (err) {
      return oauthError(res, 400, 'invalid_grant', `Invalid JWT Signature. (${(err as Error).message})`);
    }
    const nowSec = Math.floor(Date.now() / 1000);
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE && claims.aud !== tokenUrl) return oauthError(res, 400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    if (typeof claims.exp !== 'number' || claims.exp < nowSec || claims.exp - (claims.iat ?? 0) > 3600) {
      return oauthError(res, 400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    const scopes = String(claims.scope ?? '').split(/\s+/).filter(Boolean);
    if (scopes.length === 0) return oauthError(res, 400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const delegated = typeof claims.sub === 'string' && claims.sub.length > 0;
    if (delegated && key.delegatedScopes && scopes.some((s) => !key.delegatedScopes!.has(s))) {
      return oauthError(res, 401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
    }
    const user = (delegated ? String(claims.sub) : String(claims.iss)).toLowerCase();
    const accessToken = `ya29.emu-${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { user, delegated, scopes, expiresAt: Date.now() + 3600_000 });
    sendJson(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/token' && req.method === 'POST') return handleToken(req, res);
    const match = matchRoute(req.method ?? 'GET', url.pathname);
    if (!match) {
      violations.push({ kind: 'route', methodId: `${req.method} ${url.pathname}`, message: 'no discovery method matches this path' });
      return sendJson(res, 404, new ApiError(404, 'notFound', `The requested URL ${url.pathname} was not found on this server.`).toBody());
    }
    const methodId = match.method.id;
    const rawBody = await readBody(req);
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const token = auth ? tokens.get(auth[1]!) : undefined;
    if (!token || token.expiresAt < Date.now()) {
      const e = new ApiError(401, 'authError', 'Invalid Credentials', 'global', { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' }, 'Authorization');
      return sendJson(res, 401, e.toBody(), e.headers);
    }
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      calls.push({ methodId, user: token.user, status });
      if (status === 204) {
        res.writeHead(204, headers);
        res.end();
        return;
      }
      sendJson(res, status, body, headers);
    };
    const fail = (e: ApiError): void => reply(e.status, e.toBody(), e.headers);

    const queryProblems = checkQuery(match, url.searchParams);
    if (queryProblems.length) {
      queryProblems.forEach((p) => violations.push({ kind: 'query', methodId, message: p.message }));
      return fail(new ApiError(400, 'invalidParameter', queryProblems[0]!.message, 'global', {}, queryProblems[0]!.location));
    }
    let body: unknown;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        violations.push({ kind: 'body', methodId, message: 'body is not JSON' });
        return fail(new ApiError(400, 'parseError', 'Invalid JSON payload received. Unexpected token.'));
      }
    }
    const bodyProblems = checkRequestBody(match, body);
    if (bodyProblems.length) {
      bodyProblems.forEach((p) => violations.push({ kind: 'body', methodId, message: p.message }));
      return fail(new ApiError(400, 'invalid', bodyProblems[0]!.message));
    }
    const allowed = methodScopes(match);
    if (!token.scopes.some((s) => allowed.includes(s))) {
      violations.push({ kind: 'scope', methodId, message: `token scopes [${token.scopes.join(' ')}] do not include any of [${allowed.join(' ')}]` });
      return fail(new ApiError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.'));
    }

    const fault = pickFault(methodId);
    if (fault) injectedLog.push({ methodId, kind: fault.kind });
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 200));
    if (fault?.kind === 'drop') {
      calls.push({ methodId, user: token.user, status: 0 });
      req.socket.destroy();
      return;
    }
    const injected = fault ? faultError(fault) : undefined;
    if (injected) return fail(injected);

    const ctx: CallContext = { api: match.api, methodId, pathParams: match.pathParams, query: url.searchParams, body, user: token.user, delegated: token.delegated, scopes: token.scopes, now: clock.now() };
    let result: { status?: number; body?: unknown; headers?: Record<string, string> };
    try {
      assertQuota(match, token.user);
      countCall(match.api, token.user, methodId);
      const hook = hooks.findIndex((h) => h.methodId === methodId);
      if (hook !== -1) hooks.splice(hook, 1)[0]!.fn();
      const handler = handlers[methodId];
      if (!handler) {
        violations.push({ kind: 'unsupported', methodId, message: 'the emulator does not implement this method' });
        throw new ApiError(501, 'notImplemented', `The emulator does not implement ${methodId}.`);
      }
      result = await handler(ctx);
    } catch (err) {
      if (err instanceof ApiError) return fail(err);
      throw err;
    }
    const responseProblems = checkResponseBody(match, result.body);
    responseProblems.forEach((p) => violations.push({ kind: 'response', methodId, message: p.message }));
    if (fault?.kind === 'drop-after-work') {
      calls.push({ methodId, user: token.user, status: 0 });
      req.socket.destroy();
      return;
    }
    reply(result.status ?? 200, result.body, result.headers);
  }

  const sheetView = (id: string): SpreadsheetView => {
    const ss = sheets.get(id);
    const tab = (title: string) => sheets.sheetByTitle(ss, title);
    return {
      tabs: () => ss.sheets.map((s) => s.properties.title),
      values: (title) => (sheets.readValues(sheets.parseRange(ss, title)).values ?? []) as string[][],
      rowMetadata: (title, metadataKey = 'musterKey') => tab(title).rows.map((r) => r.meta.find((m) => m.metadataKey === metadataKey)?.metadataValue ?? null),
      sheet: (title) => sheets.sheetResource(ss, tab(title), undefined, false),
      cell: (title, ref) => {
        const b = sheets.parseRange(ss, `${quote(title)}!${ref}`);
        return sheets.cellData(b.sheet.rows[b.r0]?.cells[b.c0]);
      },
    };
  };
  const quote = (t: string): string => `'${t.replace(/'/g, "''")}'`;

  return {
    rootUrl: `${origin}/`,
    tokenUrl,
    clock,
    createServiceAccountKey(o = {}) {
      const { privateKey, publicKey } = o.freshKeyPair ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : (sharedKeyPair ??= generateKeyPairSync('rsa', { modulusLength: 2048 }));
      const clientEmail = (o.clientEmail ?? `muster-${keys.size + 1}@muster-test.iam.gserviceaccount.com`).toLowerCase();
      const clientId = BigInt('0x' + createHash('sha1').update(clientEmail).digest('hex').slice(0, 16)).toString().slice(0, 21);
      keys.set(clientEmail, { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), clientId, delegatedScopes: o.delegatedScopes ? new Set(o.delegatedScopes) : undefined });
      return {
        type: 'service_account',
        project_id: 'muster-test',
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: clientEmail,
        client_id: clientId,
        token_uri: tokenUrl,
      };
    },
    state: {
      calendar,
      gmail,
      sheets,
      directory,
      events: (calendarId) => calendar.events(calendarId),
      invitationsSent: () => [...calendar.invitations],
      setResponse: (eventId, email, status) => calendar.setResponse(eventId, email, status),
      addBusy: (email, start, end) => {
        const key = email.toLowerCase();
        calendar.busy.set(key, [...(calendar.busy.get(key) ?? []), { start, end }]);
      },
      sentMessages: (user) => gmail.sentMessages(user),
      addBounce: (user, o) => void gmail.addBounce(user, { ...o, now: clock.now() }),
      createSpreadsheet: (title) => sheets.create(title).spreadsheetId,
      spreadsheet: sheetView,
      sortSheet(spreadsheetId, title, o) {
        const ss = sheets.get(spreadsheetId);
        const sheet = sheets.sheetByTitle(ss, title);
        const header = sheets.readValues(sheets.parseRange(ss, `${quote(title)}!1:1`)).values?.[0] ?? [];
        const col = typeof o.column === 'number' ? o.column : header.indexOf(o.column);
        if (col < 0) throw new Error(`no column ${String(o.column)} in ${title}`);
        const frozen = sheet.properties.gridProperties.frozenRowCount ?? 0;
        const box = { sheet, r0: frozen, r1: sheet.rows.length, c0: 0, c1: sheet.properties.gridProperties.columnCount, bounded: { rows: true, cols: true } };
        sheets.assertEditableBy(box, o.as ?? 'manager@people.example');
        sheets.sortRows(box, [{ dimensionIndex: col, sortOrder: o.descending ? 'DESCENDING' : 'ASCENDING' }]);
      },
      insertRowsAsUser(spreadsheetId, title, atRow, rows, as = 'manager@people.example') {
        const ss = sheets.get(spreadsheetId);
        const sheet = sheets.sheetByTitle(ss, title);
        sheets.insertRows(sheet, atRow - 1, rows.length, atRow > 1);
        const width = Math.max(1, ...rows.map((r) => r.length));
        const box = sheets.parseRange(ss, `${quote(title)}!A${atRow}:${columnLetter(width - 1)}${atRow + rows.length - 1}`);
        sheets.assertEditableBy(box, as);
        sheets.writeValues(box, rows, 'USER_ENTERED');
      },
      setCellAsUser(spreadsheetId, title, ref, value, as = 'manager@people.example') {
        const ss = sheets.get(spreadsheetId);
        const box = sheets.parseRange(ss, `${quote(title)}!${ref}`);
        sheets.assertEditableBy(box, as);
        sheets.writeValues(box, [[value]], 'USER_ENTERED');
      },
      addUser: (u) => directory.addUser(u),
      addGroup: (g) => directory.addGroup(g),
      setAdmin: (email, isAdmin) => directory.setAdmin(email, isAdmin),
    },
    faults: {
      inject: (rule) => void faultRules.push({ ...rule, times: rule.times ?? 1 }),
      random: (o) => {
        randomFaults = { rate: o.rate, rng: seededRandom(o.seed), kinds: o.kinds ?? ['429', '403-rate', '500', '503', 'drop', 'drop-after-work'], methods: o.methods };
      },
      clear: () => {
        faultRules.length = 0;
        randomFaults = undefined;
      },
      injected: () => [...injectedLog],
    },
    beforeNext: (methodId, fn) => void hooks.push({ methodId, fn }),
    violations: () => [...violations],
    counters: () => structuredClone(counters) as Record<string, Record<ApiName, UserCounters>>,
    calls: () => [...calls],
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
