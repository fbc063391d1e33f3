// The one Graph client Muster's Microsoft providers use: the SDK with a middleware chain that retries only what is safe, caps per-mailbox concurrency and translates every Graph failure into a MusterError; it knows no calendar or mail semantics.
import { AuthenticationHandler, Client, GraphError, HTTPMessageHandler, type Context, type Middleware, type MiddlewareOptions } from '@microsoft/microsoft-graph-client';
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';
import { DEFAULT_GRAPH_BASE_URL, GRAPH_LIMITS } from './constants.js';

/**
 * idempotent: safe to repeat (GET, PATCH to the same state): retried on 429/503/504 and dropped connections.
 * keyed: a create protected by a key the caller looks up (event with transactionId): retried on 429/503 only;
 *        a 504 or a dropped connection is OUTCOME_UNKNOWN for the caller to settle.
 * never: sends: no retry at all; 504 or a dropped connection is OUTCOME_UNKNOWN.
 */
export type RetryMode = 'idempotent' | 'keyed' | 'never';

export interface GraphCallOptions {
  /** The mailbox the call is for: at most 4 calls per mailbox run at once. */
  mailbox?: string;
  retry?: RetryMode;
  headers?: Record<string, string>;
}

export interface GraphClientOptions {
  baseUrl?: string;
  getToken: () => Promise<string>;
  logger: Logger;
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails with PROVIDER_THROTTLED (default 120 s). */
  maxRetryAfterMs?: number;
  maxConcurrentPerMailbox?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface BatchItem {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Path after /v1.0, e.g. /users/a@b.c/events. */
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Ids of items in the same batch that must succeed first. */
  dependsOn?: string[];
}

export interface BatchItemResult {
  id: string;
  status: number;
  body: unknown;
  error: MusterError | null;
}

/** Per-request settings carried to the middleware (keyed by this class, as the SDK's MiddlewareControl does). */
class MusterRequestOptions implements MiddlewareOptions {
  failure: MusterError | null = null;
  constructor(
    readonly retry: RetryMode,
    readonly mailbox: string | null,
    readonly what: string,
  ) {}
}

/** A counting semaphore per mailbox. */
class MailboxLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();
  constructor(private readonly max: number) {}

  async acquire(key: string): Promise<() => void> {
    const n = this.active.get(key) ?? 0;
    if (n < this.max) {
      this.active.set(key, n + 1);
    } else {
      await new Promise<void>((resolve) => {
        const q = this.waiting.get(key) ?? [];
        q.push(resolve);
        this.waiting.set(key, q);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(key)?.shift();
      if (next) next();
      else this.active.set(key, (this.active.get(key) ?? 1) - 1);
    };
  }
}

/** Seconds or an HTTP date, as milliseconds from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

/** The one place a Graph answer or a transport failure becomes a MusterError. */
export function toMusterError(input: { status: number | null; body: unknown; retryAfterMs: number | null; mode: RetryMode; what: string; cause?: unknown }): MusterError {
  const { status, mode, what } = input;
  const err = (input.body as GraphErrorBody | null)?.error;
  const graphCode = err?.code ?? null;
  const details = graphCode ? [{ field: 'graph.code', message: graphCode }] : [];
  const retryAfterSeconds = input.retryAfterMs === null ? undefined : Math.ceil(input.retryAfterMs / 1000);
  const opts = { details, cause: input.cause, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  if (status === null) {
    return mode === 'idempotent'
      ? new MusterError('PROVIDER_UNAVAILABLE', `Microsoft Graph could not be reached (${what}).`, opts)
      : new MusterError('OUTCOME_UNKNOWN', `The connection to Microsoft Graph dropped before an answer (${what}); it may or may not have been done.`, opts);
  }
  if (status === 401 || status === 403) return new MusterError('PROVIDER_AUTH_FAILED', `Microsoft Graph refused Muster's access (${what}): ${err?.message ?? `HTTP ${status}`}.`, opts);
  if (status === 429) {
    if (graphCode === 'ErrorSubmissionQuotaExceeded') return new MusterError('LIMIT_EXCEEDED', `The mailbox reached Exchange Online's daily sending limit (${what}).`, opts);
    return new MusterError('PROVIDER_THROTTLED', `Microsoft Graph is throttling Muster (${what}).`, opts);
  }
  if (status === 504 && mode !== 'idempotent') return new MusterError('OUTCOME_UNKNOWN', `Microsoft Graph timed out (${what}); it may or may not have been done.`, opts);
  if (status >= 500) return new MusterError('PROVIDER_UNAVAILABLE', `Microsoft Graph is unavailable (${what}, HTTP ${status}).`, opts);
  if (status === 404) return new MusterError('NOT_FOUND', `Microsoft Graph has no such item (${what}).`, opts);
  return new MusterError('PROVIDER_REJECTED', `Microsoft Graph rejected the request (${what}): ${err?.message ?? `HTTP ${status}`}.`, opts);
}

const RETRYABLE_STATUS = new Set([429, 503, 504]);

function clearAuthorization(context: Context): void {
  const headers = context.options?.headers as unknown;
  if (headers instanceof Headers) headers.delete('Authorization');
  else if (Array.isArray(headers)) {
    const kept = (headers as Array<[string, string]>).filter(([k]) => k.toLowerCase() !== 'authorization');
    headers.splice(0, headers.length, ...kept);
  } else if (headers && typeof headers === 'object') {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete (headers as Record<string, string>)[k];
  }
}

/** Retries, concurrency and error translation, in front of the SDK's auth and HTTP handlers. */
class MusterMiddleware implements Middleware {
  private next: Middleware | undefined;
  constructor(
    private readonly o: Required<Omit<GraphClientOptions, 'baseUrl' | 'getToken'>>,
    private readonly limiter: MailboxLimiter,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  private backoff(attempt: number): number {
    const cap = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** attempt);
    return Math.round(cap / 2 + (this.o.random() * cap) / 2);
  }

  private mayRetryStatus(mode: RetryMode, status: number): boolean {
    if (mode === 'never') return false;
    if (mode === 'keyed') return status === 429 || status === 503;
    return RETRYABLE_STATUS.has(status);
  }

  async execute(context: Context): Promise<void> {
    const next = this.next;
    if (!next) throw new MusterError('INTERNAL', 'Graph middleware chain is incomplete.');
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const opts = context.middlewareControl?.getMiddlewareOptions(MusterRequestOptions) as MusterRequestOptions | undefined;
    const mode: RetryMode = opts?.retry ?? (method === 'GET' ? 'idempotent' : 'never');
    const what = opts?.what ?? method;
    for (let attempt = 0; ; attempt++) {
      // The SDK's auth handler appends its header: drop the previous attempt's before trying again.
      if (attempt > 0) clearAuthorization(context);
      const release = opts?.mailbox ? await this.limiter.acquire(opts.mailbox.toLowerCase()) : () => undefined;
      let transportError: unknown = null;
      try {
        await next.execute(context);
      } catch (err) {
        transportError = err;
      } finally {
        release();
      }
      if (isMusterError(transportError)) {
        // No token (credentials refused, identity platform down): the request never left, so it is never "unknown".
        if (mode === 'idempotent' && transportError.code === 'PROVIDER_UNAVAILABLE' && attempt < this.o.maxRetries) {
          await this.o.sleep(this.backoff(attempt));
          continue;
        }
        if (opts) opts.failure = transportError;
        throw transportError;
      }
      if (transportError !== null) {
        if (mode === 'idempotent' && attempt < this.o.maxRetries) {
          const wait = this.backoff(attempt);
          this.o.logger.warn('graph.retry', { what, reason: 'connection', attempt: attempt + 1, waitMs: wait });
          await this.o.sleep(wait);
          continue;
        }
        const failure = toMusterError({ status: null, body: null, retryAfterMs: null, mode, what, cause: transportError });
        if (opts) opts.failure = failure;
        throw failure;
      }
      const res = context.response;
      if (!res || res.ok) return;
      const retryAfterMs = parseRetryAfter(res.headers.get('Retry-After'));
      if (this.mayRetryStatus(mode, res.status) && attempt < this.o.maxRetries && (retryAfterMs === null || retryAfterMs <= this.o.maxRetryAfterMs)) {
        const wait = retryAfterMs ?? this.backoff(attempt);
        this.o.logger.warn('graph.retry', { what, status: res.status, attempt: attempt + 1, waitMs: wait, retryAfter: retryAfterMs !== null });
        await res.body?.cancel();
        await this.o.sleep(wait);
        continue;
      }
      let body: unknown = null;
      try {
        body = await res.clone().json();
      } catch (err) {
        body = { error: { code: 'UnreadableBody', message: err instanceof Error ? err.message : 'unreadable error body' } };
      }
      if (opts) opts.failure = toMusterError({ status: res.status, body, retryAfterMs, mode, what });
      return;
    }
  }
}

/** Builds a query string whose values the SDK will pass through unchanged (it does not encode them itself). */
export function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export class MusterGraphClient {
  private readonly client: Client;
  private readonly o: Required<Omit<GraphClientOptions, 'baseUrl' | 'getToken'>>;

  constructor(opts: GraphClientOptions) {
    const baseUrl = (opts.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
    this.o = {
      logger: opts.logger,
      maxRetries: opts.maxRetries ?? 4,
      baseBackoffMs: opts.baseBackoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 30_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 120_000,
      maxConcurrentPerMailbox: opts.maxConcurrentPerMailbox ?? GRAPH_LIMITS.concurrentPerMailbox,
      sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      random: opts.random ?? Math.random,
    };
    const muster = new MusterMiddleware(this.o, new MailboxLimiter(this.o.maxConcurrentPerMailbox));
    const auth = new AuthenticationHandler({ getAccessToken: () => opts.getToken() });
    const http = new HTTPMessageHandler();
    this.client = Client.initWithMiddleware({
      baseUrl,
      defaultVersion: 'v1.0',
      // customHosts holds host names without the port, or the SDK silently sends no Authorization header.
      customHosts: new Set([new URL(baseUrl).hostname]),
      middleware: [muster, auth, http],
    });
  }

  /** Sends one request; resolves to the parsed body (undefined for 202/204) or throws a MusterError. */
  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts: GraphCallOptions = {}): Promise<T> {
    const what = `${method} ${path.split('?')[0]?.replace(/\/users\/[^/]+/, '/users/{mailbox}') ?? path}`;
    const o = new MusterRequestOptions(opts.retry ?? (method === 'GET' ? 'idempotent' : 'never'), opts.mailbox ?? null, what);
    let req = this.client.api(path).middlewareOptions([o]);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req = req.header(k, v);
    try {
      switch (method) {
        case 'GET':
          return (await req.get()) as T;
        case 'POST':
          return (await req.post(body ?? {})) as T;
        case 'PATCH':
          return (await req.patch(body)) as T;
        default:
          return (await req.delete()) as T;
      }
    } catch (err) {
      if (o.failure) throw o.failure;
      if (isMusterError(err)) throw err;
      if (err instanceof GraphError) throw toMusterError({ status: err.statusCode > 0 ? err.statusCode : null, body: null, retryAfterMs: null, mode: o.retry, what, cause: err });
      throw toMusterError({ status: null, body: null, retryAfterMs: null, mode: o.retry, what, cause: err });
    }
  }

  get<T>(path: string, opts?: GraphCallOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, opts);
  }

  /** Follows @odata.nextLink until the end; a failure part-way reports how many items were read. */
  async getAll<T>(path: string, opts?: GraphCallOptions): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    while (next) {
      let page: { value?: T[]; '@odata.nextLink'?: string };
      try {
        page = await this.get<{ value?: T[]; '@odata.nextLink'?: string }>(next, opts);
      } catch (err) {
        if (isMusterError(err) && out.length > 0) {
          throw new MusterError(err.code, `${err.message} (after ${out.length} items had been read)`, { cause: err, details: err.details, ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }) });
        }
        throw err;
      }
      out.push(...(page.value ?? []));
      next = page['@odata.nextLink'];
    }
    return out;
  }

  /**
   * Sends items in $batch requests of at most 20. Graph answers 200 while items fail one by one: each item's status
   * is checked, and only the failed items that `retry` allows are sent again (after the longest Retry-After).
   */
  async batch(items: BatchItem[], opts: GraphCallOptions = {}): Promise<BatchItemResult[]> {
    const mode = opts.retry ?? 'idempotent';
    const results = new Map<string, BatchItemResult>();
    let pending = [...items];
    for (let attempt = 0; pending.length > 0; attempt++) {
      const retryNext: BatchItem[] = [];
      let waitMs = 0;
      for (let i = 0; i < pending.length; i += GRAPH_LIMITS.batchSize) {
        const chunk = pending.slice(i, i + GRAPH_LIMITS.batchSize);
        const payload = {
          requests: chunk.map((it) => ({
            id: it.id,
            method: it.method,
            url: it.url,
            ...(it.body === undefined ? {} : { body: it.body, headers: { 'Content-Type': 'application/json', ...(it.headers ?? {}) } }),
            ...(it.body === undefined && it.headers ? { headers: it.headers } : {}),
            ...(it.dependsOn && it.dependsOn.some((d) => chunk.some((c) => c.id === d)) ? { dependsOn: it.dependsOn.filter((d) => chunk.some((c) => c.id === d)) } : {}),
          })),
        };
        const answer = await this.request<{ responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }> }>('POST', '/$batch', payload, { ...opts, retry: mode });
        for (const r of answer.responses) {
          const item = chunk.find((c) => c.id === r.id);
          if (!item) continue;
          if (r.status < 400) {
            results.set(r.id, { id: r.id, status: r.status, body: r.body ?? null, error: null });
            continue;
          }
          const headerValue = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1] ?? null;
          const retryAfterMs = parseRetryAfter(headerValue);
          // 424: a dependency failed; it is retried with that dependency when the dependency is retried.
          const retryable = mode === 'never' ? false : mode === 'keyed' ? r.status === 429 || r.status === 503 || r.status === 424 : RETRYABLE_STATUS.has(r.status) || r.status === 424;
          if (retryable && attempt < this.o.maxRetries && (retryAfterMs === null || retryAfterMs <= this.o.maxRetryAfterMs)) {
            retryNext.push(item);
            waitMs = Math.max(waitMs, retryAfterMs ?? Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** attempt));
            continue;
          }
          results.set(r.id, { id: r.id, status: r.status, body: r.body ?? null, error: toMusterError({ status: r.status, body: r.body ?? null, retryAfterMs, mode, what: `${item.method} batch item ${item.id}` }) });
        }
      }
      if (retryNext.length > 0) {
        this.o.logger.warn('graph.batch.retry', { items: retryNext.length, attempt: attempt + 1, waitMs });
        await this.o.sleep(waitMs);
      }
      pending = retryNext;
    }
    return items.map((it) => results.get(it.id) ?? { id: it.id, status: 0, body: null, error: new MusterError('INTERNAL', `No answer for batch item ${it.id}.`) });
  }
}
