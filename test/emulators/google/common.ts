// Shared pieces of the Google emulator: Google's error body, the request context handlers receive, the clock and a seeded RNG; no API behaviour lives here.
import type { ApiName } from './discovery.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'FAILED_PRECONDITION',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** An error answered the way Google answers: `{"error":{"code","message","errors":[{domain,reason,message}],"status"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
    readonly headers: Record<string, string> = {},
    readonly location?: string,
  ) {
    super(message);
  }

  toBody(): unknown {
    const item: Record<string, string> = { message: this.message, domain: this.domain, reason: this.reason };
    if (this.location) {
      item.location = this.location;
      item.locationType = 'parameter';
    }
    return { error: { code: this.status, message: this.message, errors: [item], status: STATUS_TEXT[this.status] ?? 'UNKNOWN' } };
  }
}

export function badRequest(message: string, reason = 'invalid'): ApiError {
  return new ApiError(400, reason, message);
}

export function notFound(message = 'Not Found'): ApiError {
  return new ApiError(404, 'notFound', message);
}

/** What a handler receives about one authenticated call. */
export interface CallContext {
  api: ApiName;
  methodId: string;
  pathParams: Record<string, string>;
  query: URLSearchParams;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked against the discovery schema before handlers see it
  /** The impersonated user (JWT `sub`), lower-case; the service account's own email without a subject. */
  user: string;
  /** Whether a subject was given (domain-wide delegation) rather than the bare service account. */
  delegated: boolean;
  scopes: string[];
  now: number;
}

export interface HandlerResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: CallContext) => HandlerResult | Promise<HandlerResult>;

/** The emulator's clock: real time, or simulated time that moves only when a test advances it. */
export class EmulatorClock {
  private offset = 0;
  private frozenAt: number | undefined;

  constructor(simulated: boolean, start?: number) {
    if (simulated) this.frozenAt = start ?? Date.now();
  }

  get simulated(): boolean {
    return this.frozenAt !== undefined;
  }

  now(): number {
    return this.frozenAt !== undefined ? this.frozenAt + this.offset : Date.now() + this.offset;
  }

  /** Moves time forward (both modes): quotas refill, pending Meet conferences age. */
  advance(ms: number): void {
    this.offset += ms;
  }
}

/** mulberry32: small, seeded, good enough to make fault injection repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  return v === null ? undefined : Number(v);
}

export function queryBool(q: URLSearchParams, name: string): boolean {
  return q.get(name) === 'true';
}
