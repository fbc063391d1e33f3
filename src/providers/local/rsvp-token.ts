// Signs and verifies the Accept / Tentative / Decline links of local invitations (HMAC-SHA256); it records no answer and never logs a token.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MusterError } from '../../domain/errors.js';

export type RsvpResponse = 'accepted' | 'tentative' | 'declined';

export const RSVP_RESPONSES: readonly RsvpResponse[] = ['accepted', 'tentative', 'declined'];

export interface RsvpTokenPayload {
  tenantId: string;
  enrollmentId: string;
  response: RsvpResponse;
  /** Expiry, Unix seconds. */
  exp: number;
}

/** Shortest secret accepted: 16 bytes' worth of characters, so a weak key cannot slip in by accident. */
export const MIN_RSVP_SECRET_LENGTH = 16;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function assertRsvpSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < MIN_RSVP_SECRET_LENGTH) {
    throw new MusterError('CONFIG_INVALID', `The RSVP link secret must be at least ${MIN_RSVP_SECRET_LENGTH} characters long.`);
  }
}

function signature(encodedPayload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(encodedPayload, 'utf8').digest();
}

function refused(reason: string): MusterError {
  return new MusterError('UNAUTHENTICATED', reason);
}

/** Returns `<base64url JSON payload>.<base64url HMAC-SHA256>` for an RSVP link. */
export function signRsvpToken(payload: RsvpTokenPayload, secret: string): string {
  assertRsvpSecret(secret);
  if (!payload.tenantId || !payload.enrollmentId || !RSVP_RESPONSES.includes(payload.response) || !Number.isInteger(payload.exp)) {
    throw new MusterError('VALIDATION_FAILED', 'An RSVP link needs a tenant, an enrollment, a response and a whole-second expiry.');
  }
  const body = JSON.stringify({ tenantId: payload.tenantId, enrollmentId: payload.enrollmentId, response: payload.response, exp: payload.exp });
  const encoded = Buffer.from(body, 'utf8').toString('base64url');
  return `${encoded}.${signature(encoded, secret).toString('base64url')}`;
}

function parsePayload(json: unknown): RsvpTokenPayload | null {
  if (typeof json !== 'object' || json === null) return null;
  const p = json as Record<string, unknown>;
  if (typeof p.tenantId !== 'string' || p.tenantId === '') return null;
  if (typeof p.enrollmentId !== 'string' || p.enrollmentId === '') return null;
  if (typeof p.response !== 'string' || !RSVP_RESPONSES.includes(p.response as RsvpResponse)) return null;
  if (typeof p.exp !== 'number' || !Number.isInteger(p.exp)) return null;
  return { tenantId: p.tenantId, enrollmentId: p.enrollmentId, response: p.response as RsvpResponse, exp: p.exp };
}

/** Checks the signature (constant time) and the expiry; throws MusterError 'UNAUTHENTICATED' for a tampered, malformed or expired link. */
export function verifyRsvpToken(token: string, secret: string, nowSeconds: number): RsvpTokenPayload {
  assertRsvpSecret(secret);
  const parts = typeof token === 'string' ? token.split('.') : [];
  const [encoded, sig] = parts;
  if (parts.length !== 2 || !encoded || !sig || !BASE64URL.test(encoded) || !BASE64URL.test(sig)) {
    throw refused('This answer link is incomplete or damaged; open the link from the invitation again.');
  }
  const expected = signature(encoded, secret);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refused('This answer link has been changed or was not issued by Muster.');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new MusterError('UNAUTHENTICATED', 'This answer link is damaged; open the link from the invitation again.', { cause });
  }
  const payload = parsePayload(json);
  if (!payload) throw refused('This answer link is damaged; open the link from the invitation again.');
  if (payload.exp <= nowSeconds) {
    throw refused('This answer link has expired; use the link in the latest invitation or reminder.');
  }
  return payload;
}
