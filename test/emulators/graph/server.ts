// The emulator's HTTPS front: identity endpoints, bearer checks, $batch framing, per-mailbox concurrency, fault injection and counters around GraphRoutes; it holds no Graph semantics itself.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { loadTestTls } from '../tls/index.js';
import type { Fault, Faults } from './faults.js';
import { GraphRoutes, type GraphResponse, graphError, mailboxOf } from './graph-routes.js';
import { type Identity, IdentityError, type TokenClaims } from './identity.js';
import type { GraphState } from './state.js';

export interface Counters {
  requests: number;
  /** Graph requests per mailbox address (lower case), including $batch items. */
  perMailbox: Record<string, number>;
  /** Graph calls per endpoint template, e.g. 'POST /users/{id}/events', including $batch items. */
  perEndpoint: Record<string, number>;
  /** The part of perEndpoint that came as $batch items (those calls were not HTTP requests of their own). */
  batchItems: Record<string, number>;
  /** $batch HTTP requests, by the endpoint template of their first item (e.g. 'POST /users/{id}/sendMail'). */
  batches: Record<string, number>;
  /** Named counters: eventsCreated, eventsDeduplicated, messagesSent, messagesSent:<mailbox>, draftsCreated, throttled, faults... */
  named: Record<string, number>;
}

export interface ServerDeps {
  state: GraphState;
  identity: Identity;
  faults: Faults;
  routes: GraphRoutes;
  counters: Counters;
  maxConcurrentPerMailbox: number;
  maxBatchSize: number;
  /** Test-control endpoints under /_emulator/ (see control.ts). */
  control: (method: string, path: string, query: URLSearchParams, body: unknown) => GraphResponse;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 'POST /users/{id}/events/{id}/cancel' from a concrete path. */
export function endpointTemplate(method: string, path: string): string {
  const segs = path.split('?')[0]?.split('/') ?? [];
  const named = new Set(['users', 'groups', 'events', 'messages', 'mailFolders', 'drives', 'items', 'worksheets']);
  const out = segs.map((s, i) => (i > 0 && named.has(segs[i - 1] ?? '') ? '{id}' : s.replace(/\(.*\)$/, '(...)')));
  return `${method.toUpperCase()} ${out.join('/')}`;
}

function retryAfterHeader(f: Extract<Fault, { kind: 'status' }>): Record<string, string> {
  if (f.retryAfter === undefined) return {};
  return { 'Retry-After': f.retryAfter instanceof Date ? f.retryAfter.toUTCString() : String(f.retryAfter) };
}

function faultResponse(f: Extract<Fault, { kind: 'status' }>): GraphResponse {
  const code = f.code ?? (f.status === 429 ? 'TooManyRequests' : f.status === 503 ? 'ServiceUnavailable' : f.status === 504 ? 'GatewayTimeout' : 'InternalServerError');
  const message = f.status === 429 ? 'Too many requests. Please try again later.' : 'The service is temporarily unavailable.';
  return graphError(f.status, code, message, retryAfterHeader(f));
}

interface Dispatched {
  response: GraphResponse;
  /** Set when the connection must be destroyed instead of answered. */
  drop: boolean;
}

export class EmulatorServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly inFlight = new Map<string, number>();
  port = 0;

  constructor(private readonly deps: ServerDeps) {}

  get origin(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<void> {
    const tls = loadTestTls();
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(graphError(500, 'InternalServerError', err instanceof Error ? err.message : String(err)).body));
        } else {
          res.destroy();
        }
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private count(name: string, n = 1): void {
    this.deps.counters.named[name] = (this.deps.counters.named[name] ?? 0) + n;
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private send(res: ServerResponse, r: GraphResponse): void {
    const headers: Record<string, string> = { 'request-id': crypto.randomUUID(), ...(r.headers ?? {}) };
    if (r.body !== undefined) headers['Content-Type'] = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';
    res.writeHead(r.status, headers);
    res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const raw = await this.readBody(req);
    if (url.pathname.startsWith('/_emulator/')) {
      let body: unknown;
      try {
        body = raw.trim() === '' ? undefined : JSON.parse(raw);
      } catch (err) {
        return this.send(res, graphError(400, 'BadRequest', `Unreadable JSON: ${err instanceof Error ? err.message : String(err)}`));
      }
      return this.send(res, this.deps.control(req.method ?? 'GET', url.pathname, url.searchParams, body));
    }
    this.deps.counters.requests++;
    if (url.pathname.startsWith('/v1.0/') || url.pathname === '/v1.0') {
      await this.onGraph(req, res, url, raw);
      return;
    }
    await this.onIdentity(req, res, url, raw);
  }

  // ---------- identity platform ----------

  private async onIdentity(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): Promise<void> {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    const segs = url.pathname.split('/').filter((s) => s !== '');
    const tenant = decodeURIComponent(segs[0] ?? '');
    const rest = segs.slice(1).join('/');
    const fault = this.deps.faults.pick({ method: req.method ?? 'GET', path: url.pathname, mailbox: null, mailboxAddress: null }, false);
    if (fault?.kind === 'status' && !fault.afterEffect) {
      json(fault.status, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred. Please try again.' }, retryAfterHeader(fault));
      return;
    }
    if (req.method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
      const cfg = this.deps.identity.openIdConfiguration(tenant);
      if (!cfg) return json(400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      return json(200, cfg);
    }
    if (req.method === 'GET' && rest === 'discovery/v2.0/keys') return json(200, await this.deps.identity.jwks());
    if (req.method === 'GET' && tenant === 'common' && rest === 'discovery/instance') {
      const host = url.host;
      return json(200, {
        tenant_discovery_endpoint: `${this.origin}/${url.searchParams.get('authorization_endpoint')?.split('/')[3] ?? 'common'}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
      try {
        const body = await this.deps.identity.token(tenant, new URLSearchParams(raw));
        this.count('tokensIssued');
        return json(200, body);
      } catch (err) {
        if (err instanceof IdentityError) return json(err.status, err.body);
        throw err;
      }
    }
    if (req.method === 'GET' && rest === 'adminconsent') {
      // The admin approves at once; the browser returns to redirect_uri with the tenant and state.
      const redirect = url.searchParams.get('redirect_uri');
      const clientId = url.searchParams.get('client_id') ?? '';
      if (!redirect) return json(400, { error: 'invalid_request', error_description: 'AADSTS900144: redirect_uri is required.' });
      const t = this.deps.identity.findTenant(tenant) ?? [...this.deps.identity.tenants.values()][0];
      const back = new URL(redirect);
      if (!t || !this.deps.identity.apps.has(clientId)) {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
      } else {
        this.deps.identity.grantConsent(t.id, clientId);
        back.searchParams.set('tenant', t.id);
        back.searchParams.set('admin_consent', 'True');
      }
      const state = url.searchParams.get('state');
      if (state !== null) back.searchParams.set('state', state);
      res.writeHead(302, { Location: back.toString() });
      res.end();
      return;
    }
    json(404, { error: 'not_found', error_description: `No identity endpoint ${req.method ?? ''} ${url.pathname}` });
  }

  // ---------- Graph ----------

  private async authenticate(req: IncomingMessage): Promise<TokenClaims | GraphResponse> {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const claims = await this.deps.identity.verifyGraphToken(auth.slice('Bearer '.length));
    if (!claims) return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience, signature or lifetime.');
    const tenant = this.deps.identity.findTenant(claims.tid);
    if (!tenant?.consented.has(claims.appid)) return graphError(401, 'InvalidAuthenticationToken', 'The application is not consented in this tenant.');
    return claims;
  }

  private mailboxKey(path: string, claims: TokenClaims): { id: string | null; address: string | null } {
    const raw = mailboxOf(path) ?? (path.startsWith('/me') ? (claims.oid ?? null) : null);
    if (!raw) return { id: null, address: null };
    const u = this.deps.state.findUser(raw);
    return { id: u?.id ?? raw.toLowerCase(), address: u?.mail.toLowerCase() ?? raw.toLowerCase() };
  }

  /**
   * Runs one Graph call (top level or a $batch item) through concurrency, faults and the routes. A $batch item cannot
   * lose its own connection: a drop fault on an item answers that item 504 GatewayTimeout (Graph's answer when the
   * workload behind it did not answer in time), after doing the work when the fault says afterEffect.
   */
  private async dispatch(method: string, pathAndQuery: string, headers: Record<string, string>, body: unknown, claims: TokenClaims, allowDrop: boolean): Promise<Dispatched> {
    const q = pathAndQuery.indexOf('?');
    const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : pathAndQuery.slice(q + 1));
    const mb = this.mailboxKey(path, claims);
    const endpoint = endpointTemplate(method, path);
    this.deps.counters.perEndpoint[endpoint] = (this.deps.counters.perEndpoint[endpoint] ?? 0) + 1;
    if (mb.address) this.deps.counters.perMailbox[mb.address] = (this.deps.counters.perMailbox[mb.address] ?? 0) + 1;
    if (mb.id) {
      const n = this.inFlight.get(mb.id) ?? 0;
      if (n >= this.deps.maxConcurrentPerMailbox) {
        this.count('throttled');
        return { drop: false, response: graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': '1' }) };
      }
      this.inFlight.set(mb.id, n + 1);
    }
    try {
      const fault = this.deps.faults.pick({ method, path, mailbox: mb.id, mailboxAddress: mb.address });
      if (fault) this.count('faults');
      if (fault?.kind === 'slow') await sleep(fault.ms);
      if (fault?.kind === 'status' && !fault.afterEffect) return { drop: false, response: faultResponse(fault) };
      if (fault?.kind === 'drop' && !fault.afterEffect) return allowDrop ? { drop: true, response: { status: 0 } } : { drop: false, response: faultResponse({ kind: 'status', status: 504 }) };
      const response = await this.deps.routes.handle({ method, path, query, headers, body, claims });
      if (fault?.kind === 'status' && fault.afterEffect) return { drop: false, response: faultResponse(fault) };
      if (fault?.kind === 'drop') return allowDrop ? { drop: true, response } : { drop: false, response: faultResponse({ kind: 'status', status: 504 }) };
      return { drop: false, response };
    } finally {
      if (mb.id) this.inFlight.set(mb.id, (this.inFlight.get(mb.id) ?? 1) - 1);
    }
  }

  private async onGraph(req: IncomingMessage, res: ServerResponse, url: URL, raw: string): Promise<void> {
    const auth = await this.authenticate(req);
    if (!('tid' in auth)) return this.send(res, auth);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    let body: unknown;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch (err) {
        return this.send(res, graphError(400, 'BadRequest', `Unable to read JSON request payload: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    const path = url.pathname.slice('/v1.0'.length) || '/';
    const method = req.method ?? 'GET';
    if (path === '/$batch' && method === 'POST') {
      const fault = this.deps.faults.pick({ method, path, mailbox: null, mailboxAddress: null });
      if (fault?.kind === 'status' && !fault.afterEffect) return this.send(res, faultResponse(fault));
      if (fault?.kind === 'drop' && !fault.afterEffect) return void res.socket?.destroy();
      if (fault?.kind === 'slow') await sleep(fault.ms);
      const result = await this.batch(body, auth);
      if (fault?.kind === 'drop') return void res.socket?.destroy();
      if (fault?.kind === 'status') return this.send(res, faultResponse(fault));
      return this.send(res, result);
    }
    const d = await this.dispatch(method, `${path}${url.search}`, headers, body, auth, true);
    if (d.drop) {
      this.count('dropped');
      res.socket?.destroy();
      return;
    }
    this.send(res, d.response);
  }

  private async batch(body: unknown, claims: TokenClaims): Promise<GraphResponse> {
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests)) return graphError(400, 'BadRequest', 'Invalid batch payload format.');
    if (requests.length > this.deps.maxBatchSize) return graphError(400, 'BadRequest', `Number of requests exceeds the limit of ${this.deps.maxBatchSize}.`);
    const items = requests as Array<{ id?: unknown; method?: unknown; url?: unknown; headers?: Record<string, string>; body?: unknown; dependsOn?: unknown }>;
    const ids = new Set<string>();
    for (const it of items) {
      if (typeof it.id !== 'string' || typeof it.method !== 'string' || typeof it.url !== 'string') return graphError(400, 'BadRequest', 'Each batch request needs string id, method and url.');
      if (ids.has(it.id)) return graphError(400, 'BadRequest', `Request id '${it.id}' is duplicated in the batch.`);
      ids.add(it.id);
      if (it.body !== undefined && !Object.keys(it.headers ?? {}).some((h) => h.toLowerCase() === 'content-type')) {
        return graphError(400, 'BadRequest', `Batch request '${it.id}' has a body but no Content-Type header.`);
      }
    }
    this.count('batches');
    const first = items[0];
    if (first) {
      const url = String(first.url).replace(/^\/v1\.0(?=\/)/, '');
      const template = endpointTemplate(String(first.method), (url.startsWith('/') ? url : `/${url}`).split('?')[0] ?? url);
      this.deps.counters.batches[template] = (this.deps.counters.batches[template] ?? 0) + 1;
    }
    const status = new Map<string, number>();
    const responses: Array<{ id: string; status: number; headers: Record<string, string>; body?: unknown }> = [];
    for (const it of items) {
      const id = it.id as string;
      const deps = Array.isArray(it.dependsOn) ? (it.dependsOn as string[]) : [];
      if (deps.some((dep) => (status.get(dep) ?? 424) >= 400)) {
        status.set(id, 424);
        responses.push({ id, status: 424, headers: { 'Content-Type': 'application/json' }, ...{ body: graphError(424, 'FailedDependency', 'The dependent request failed.').body } });
        continue;
      }
      let url = it.url as string;
      if (url.startsWith('/v1.0/')) url = url.slice('/v1.0'.length);
      if (!url.startsWith('/')) url = `/${url}`;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(it.headers ?? {})) headers[k.toLowerCase()] = v;
      const template = endpointTemplate(it.method as string, url.split('?')[0] ?? url);
      this.deps.counters.batchItems[template] = (this.deps.counters.batchItems[template] ?? 0) + 1;
      const d = await this.dispatch(it.method as string, url, headers, it.body, claims, false);
      status.set(id, d.response.status);
      const h: Record<string, string> = { ...(d.response.headers ?? {}) };
      if (d.response.body !== undefined) h['Content-Type'] = 'application/json';
      responses.push({ id, status: d.response.status, headers: h, ...(d.response.body === undefined ? {} : { body: d.response.body }) });
    }
    return { status: 200, body: { responses } };
  }
}
