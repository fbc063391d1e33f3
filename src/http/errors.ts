// The one place error codes become HTTP statuses and JSON bodies; unexpected errors are logged and answered without detail.
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { MusterError, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../ports/index.js';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  LAUNCH_BLOCKED: 422,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  PROVIDER_THROTTLED: 503,
  PROVIDER_UNAVAILABLE: 503,
  PROVIDER_REJECTED: 502,
  PROVIDER_AUTH_FAILED: 502,
  OUTCOME_UNKNOWN: 502,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
};

export function fromZod(err: ZodError, what = 'The request'): MusterError {
  const details = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
  return new MusterError('VALIDATION_FAILED', `${what} is not valid: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`, { details });
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let e: MusterError;
    if (err instanceof MusterError) e = err;
    else if (err instanceof ZodError) e = fromZod(err);
    else if (err && typeof err === 'object' && 'type' in err && (err as { type: string }).type === 'entity.too.large') e = new MusterError('LIMIT_EXCEEDED', 'The request body is larger than this service accepts');
    else if (err && typeof err === 'object' && 'type' in err && (err as { type: string }).type === 'entity.parse.failed') e = new MusterError('VALIDATION_FAILED', 'The request body is not valid JSON', { details: [{ field: '(body)', message: 'not valid JSON' }] });
    else {
      logger.error('http.unexpected', { method: req.method, route: req.route?.path ?? 'unmatched', message: err instanceof Error ? err.message : String(err) });
      e = new MusterError('INTERNAL', 'Something went wrong inside Muster; the error was logged');
    }
    const status = err && typeof err === 'object' && (err as { type?: string }).type === 'entity.too.large' ? 413 : STATUS[e.code];
    if (e.retryAfterSeconds) res.setHeader('Retry-After', String(Math.ceil(e.retryAfterSeconds)));
    res.status(status).json({ error: { code: e.code, message: e.message, details: e.details } });
  };
}
