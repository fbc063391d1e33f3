// Muster's error type: a stable code, a sentence for people, optional field-level details; only src/http maps codes to status.

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'LAUNCH_BLOCKED'
  | 'LIMIT_EXCEEDED'
  | 'RATE_LIMITED'
  | 'PROVIDER_THROTTLED'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_REJECTED'
  | 'PROVIDER_AUTH_FAILED'
  | 'OUTCOME_UNKNOWN'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

export interface ErrorDetail {
  /** Dotted path of the field, e.g. "sessions.0.zone" or "email". */
  field: string;
  message: string;
  /** 1-based data row for CSV and sheet input (the header is row 1, so data starts at 2). */
  row?: number;
}

export class MusterError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  /** Seconds a caller should wait before trying again, when the cause said so. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { details?: ErrorDetail[]; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MusterError';
    this.code = code;
    this.details = opts.details ?? [];
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export function isMusterError(err: unknown, code?: ErrorCode): err is MusterError {
  return err instanceof MusterError && (code === undefined || err.code === code);
}
