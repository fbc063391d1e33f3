// The one place Google API failures become MusterErrors, plus the backoff helper for keyed or idempotent calls; it never logs response bodies and never retries by itself.
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';

/** A MusterError from Google that may also say "stop sending from this mailbox for now". */
export class GoogleProviderError extends MusterError {
  /** True for a daily or sending limit: pause the mailbox and show a blocking checklist item. */
  readonly pauseMailbox: boolean;
  readonly httpStatus: number | undefined;
  readonly reason: string | undefined;

  constructor(code: MusterError['code'], message: string, opts: { cause?: unknown; retryAfterSeconds?: number; pauseMailbox?: boolean; httpStatus?: number; reason?: string }) {
    super(code, message, {
      cause: opts.cause,
      retryAfterSeconds: opts.retryAfterSeconds,
      details: opts.reason ? [{ field: 'google.reason', message: opts.reason }, ...(opts.pauseMailbox ? [{ field: 'mailbox', message: 'paused' }] : [])] : [],
    });
    this.name = 'GoogleProviderError';
    this.pauseMailbox = opts.pauseMailbox ?? false;
    this.httpStatus = opts.httpStatus;
    this.reason = opts.reason;
  }
}

interface GaxiosLike {
  status?: number;
  code?: string | number;
  message?: string;
  config?: { method?: string };
  response?: { status?: number; headers?: unknown; data?: unknown };
  cause?: unknown;
}

const RETRYABLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const DAILY_REASONS = new Set(['dailyLimitExceeded', 'quotaExceeded', 'dailyLimitExceededUnreg']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED', 'EAI_AGAIN']);

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

function retryAfterSeconds(headers: unknown): number | undefined {
  const v = header(headers, 'retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function networkCode(err: GaxiosLike): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as GaxiosLike).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (e instanceof TypeError && /fetch failed|terminated|other side closed/i.test(e.message)) return 'UND_ERR_SOCKET';
    e = (e as GaxiosLike).cause;
  }
  if (/socket hang up|other side closed|fetch failed|terminated/i.test(err.message ?? '')) return 'UND_ERR_SOCKET';
  return undefined;
}

/** Translates any failure of a Google call into a MusterError (mapping only; no I/O). */
export function toMusterError(err: unknown): MusterError {
  if (isMusterError(err)) return err;
  const e = (err ?? {}) as GaxiosLike;
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
  const method = (e.config?.method ?? 'GET').toUpperCase();
  if (status === undefined) {
    const code = networkCode(e);
    if (code) {
      if (method === 'POST' || method === 'PATCH') {
        return new GoogleProviderError('OUTCOME_UNKNOWN', `The connection to Google dropped during a ${method}; it may or may not have taken effect.`, { cause: err, reason: code });
      }
      return new GoogleProviderError('PROVIDER_UNAVAILABLE', `Google could not be reached (${code}).`, { cause: err, reason: code });
    }
    return new MusterError('INTERNAL', 'An unexpected error occurred while calling Google.', { cause: err });
  }
  const data = e.response?.data as { error?: unknown; error_description?: string } | undefined;
  // The OAuth token endpoint answers {error: 'unauthorized_client', error_description}.
  if (typeof data?.error === 'string') {
    return new GoogleProviderError('PROVIDER_AUTH_FAILED', `Google refused Muster's credentials (${data.error}): check the domain-wide delegation entry and its scopes.`, { cause: err, httpStatus: status, reason: data.error });
  }
  const body = data?.error as { message?: string; errors?: Array<{ reason?: string; message?: string }> } | undefined;
  const reason = body?.errors?.[0]?.reason;
  const message = body?.message ?? e.message ?? 'Google error';
  const retryAfter = retryAfterSeconds(e.response?.headers);
  const sendingLimit = /mail sending|sending limit/i.test(message);
  const opts = { cause: err, httpStatus: status, reason, retryAfterSeconds: retryAfter };
  if (sendingLimit || (reason !== undefined && DAILY_REASONS.has(reason))) {
    return new GoogleProviderError('PROVIDER_THROTTLED', `Google's daily or sending limit was reached: ${message}`, { ...opts, pauseMailbox: true });
  }
  if (status === 429 || (status === 403 && reason !== undefined && RETRYABLE_REASONS.has(reason))) {
    return new GoogleProviderError('PROVIDER_THROTTLED', `Google asked Muster to slow down (${reason ?? status}).`, opts);
  }
  if (status === 401) return new GoogleProviderError('PROVIDER_AUTH_FAILED', `Google did not accept Muster's access token: ${message}`, opts);
  if (status === 403) return new GoogleProviderError('PROVIDER_REJECTED', `Google refused the request (${reason ?? 'forbidden'}): ${message}`, opts);
  if (status === 404 || status === 410) return new GoogleProviderError('NOT_FOUND', `Google has no such item: ${message}`, opts);
  if (status === 409) return new GoogleProviderError('CONFLICT', `Google says it already exists: ${message}`, opts);
  if (status >= 500) return new GoogleProviderError('PROVIDER_UNAVAILABLE', `Google is unavailable (${status}).`, opts);
  return new GoogleProviderError('PROVIDER_REJECTED', `Google rejected the request (${status} ${reason ?? ''}): ${message}`, opts);
}

/** The single translation point: throws the MusterError for any Google failure. */
export function handleGoogleError(err: unknown): never {
  throw toMusterError(err);
}

/** Whether waiting and trying the same keyed/idempotent call again can help. */
export function isRetryable(err: MusterError): boolean {
  if (err instanceof GoogleProviderError && err.pauseMailbox) return false;
  return err.code === 'PROVIDER_THROTTLED' || err.code === 'PROVIDER_UNAVAILABLE';
}

export function pausesMailbox(err: unknown): boolean {
  return err instanceof GoogleProviderError && err.pauseMailbox;
}

export interface RetryDeps {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  logger: Logger;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseMs: 500, capMs: 32_000 };

/**
 * Runs a keyed or idempotent Google call, waiting and trying again on throttling and outages:
 * Retry-After when Google sends it, otherwise capped exponential backoff with full jitter.
 * Never wrap a call that could duplicate an effect (messages.send, an insert without a client id).
 */
export async function withRetry<T>(op: string, fn: () => Promise<T>, deps: RetryDeps, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      const err = toMusterError(raw);
      if (!isRetryable(err) || attempt >= policy.maxAttempts) throw err;
      const backoff = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
      const waitMs = err.retryAfterSeconds !== undefined ? Math.min(policy.capMs, err.retryAfterSeconds * 1000) : Math.round(backoff * (0.5 + deps.random() / 2));
      deps.logger.warn('google.retry', { op, attempt, code: err.code, reason: err instanceof GoogleProviderError ? err.reason : undefined, waitMs });
      await deps.sleep(waitMs);
    }
  }
}
