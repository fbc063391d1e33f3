// Tests the signed RSVP links: a genuine token verifies, and tampered, malformed, foreign or expired ones are refused.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { signRsvpToken, verifyRsvpToken, type RsvpTokenPayload } from '../../src/providers/local/rsvp-token.js';

const SECRET = 'a-test-secret-of-enough-length';
const NOW = 1_790_000_000;
const payload: RsvpTokenPayload = { tenantId: 'tenant-a', enrollmentId: 'enr-42', response: 'declined', exp: NOW + 3600 };

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isMusterError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('RSVP tokens', () => {
  it('when a signed token comes back before expiry, then it verifies to the same payload', () => {
    const token = signRsvpToken(payload, SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyRsvpToken(token, SECRET, NOW)).toEqual(payload);
  });

  it('when the payload is changed from declined to accepted, then the token is refused as UNAUTHENTICATED', () => {
    const token = signRsvpToken(payload, SECRET);
    const [, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, response: 'accepted' })).toString('base64url');
    const r = refusal(() => verifyRsvpToken(`${forged}.${sig}`, SECRET, NOW));
    expect(r.code).toBe('UNAUTHENTICATED');
    expect(r.message).toMatch(/changed|not issued/);
  });

  it('when one signature character is altered, then the token is refused', () => {
    const token = signRsvpToken(payload, SECRET);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const altered = token.slice(0, -2) + last + token.slice(-1);
    expect(refusal(() => verifyRsvpToken(altered, SECRET, NOW)).code).toBe('UNAUTHENTICATED');
  });

  it('when the token was signed with another secret, then it is refused', () => {
    const token = signRsvpToken(payload, 'another-secret-of-enough-length');
    expect(refusal(() => verifyRsvpToken(token, SECRET, NOW)).code).toBe('UNAUTHENTICATED');
  });

  it('when the token has expired, then it is refused with a sentence saying so', () => {
    const token = signRsvpToken(payload, SECRET);
    const r = refusal(() => verifyRsvpToken(token, SECRET, payload.exp));
    expect(r.code).toBe('UNAUTHENTICATED');
    expect(r.message).toMatch(/expired/);
    expect(verifyRsvpToken(token, SECRET, payload.exp - 1).enrollmentId).toBe('enr-42');
  });

  it.each(['', 'abc', 'a.b.c', 'not base64!.sig', '.', `${Buffer.from('not json').toString('base64url')}.x`])(
    'when the token is malformed (%j), then it is refused as UNAUTHENTICATED',
    (bad) => {
      expect(refusal(() => verifyRsvpToken(bad, SECRET, NOW)).code).toBe('UNAUTHENTICATED');
    },
  );

  it('when a correctly signed payload has the wrong shape, then it is refused', () => {
    const body = Buffer.from(JSON.stringify({ tenantId: 't', enrollmentId: 'e', response: 'maybe', exp: NOW + 10 })).toString('base64url');
    const sig = createHmac('sha256', SECRET).update(body).digest('base64url');
    expect(refusal(() => verifyRsvpToken(`${body}.${sig}`, SECRET, NOW)).code).toBe('UNAUTHENTICATED');
  });

  it('when the secret is too short, then signing fails as a configuration error', () => {
    expect(refusal(() => signRsvpToken(payload, 'short')).code).toBe('CONFIG_INVALID');
  });
});
