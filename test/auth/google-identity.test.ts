// Drives the Google identity-token verifier against a local JWKS server with keys made here; it must not reach Google.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { createGoogleIdentityVerifier } from '../../src/http/auth/google-identity.js';
import { isMusterError, MusterError } from '../../src/domain/errors.js';
import { makeSigningKey, startLocalGoogleIdp, TEST_CLIENT_ID, TEST_DOMAIN, type LocalGoogleIdp, type SigningKey } from '../appsscript/google-idp.js';

const MUSTER_TENANT = 'tenant-school';
let idp: LocalGoogleIdp;
let stranger: SigningKey;

beforeAll(async () => {
  idp = await startLocalGoogleIdp();
  stranger = await makeSigningKey('key-never-published');
});
afterAll(async () => {
  await idp.close();
});

function makeVerifier(jwksCooldownSec = 0) {
  const tenantForDomain = vi.fn(async (hd: string) => (hd === TEST_DOMAIN ? MUSTER_TENANT : null));
  const verify = createGoogleIdentityVerifier({ clientId: TEST_CLIENT_ID, jwksUrl: idp.jwksUrl, tenantForDomain, clockToleranceSec: 30, jwksCooldownSec });
  return { verify, tenantForDomain };
}

async function rejection(p: Promise<unknown>): Promise<MusterError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isMusterError(err)) throw new Error(`expected a MusterError, got ${String(err)}`);
  return err;
}

describe('Google identity tokens from the Sheets add-on', () => {
  it('when the token is valid, then the principal carries the tenant installed for its domain, the subject and the email', async () => {
    const { verify, tenantForDomain } = makeVerifier();
    const principal = await verify(await idp.mint());
    expect(principal).toEqual({ tenantId: MUSTER_TENANT, subject: '110169484474386276334', email: 'casey.coordinator@school.example', name: null, surface: 'sheets' });
    expect(tenantForDomain).toHaveBeenCalledWith(TEST_DOMAIN);
  });

  it('when the issuer is spelled without https, then the token is still accepted', async () => {
    const { verify } = makeVerifier();
    await expect(verify(await idp.mint({ iss: 'accounts.google.com' }))).resolves.toMatchObject({ tenantId: MUSTER_TENANT });
  });

  const rejected: Array<[string, () => Promise<string>, RegExp]> = [
    ['the audience is another client', () => idp.mint({ aud: '999-other.apps.googleusercontent.com' }), /another application/],
    ['the issuer is not Google', () => idp.mint({ iss: 'https://accounts.evil.example' }), /not issued by Google/],
    ['the token has expired', () => idp.mint({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['the signing key is not published', () => idp.mint({}, stranger), /key Google does not publish/],
    ['the email is not verified', () => idp.mint({ email_verified: false }), /not verified/],
    ['email_verified is the string "true"', () => idp.mint({ email_verified: 'true' }), /not verified/],
    ['there is no hd claim (a personal account)', () => idp.mint({ hd: undefined }), /Google Workspace accounts only/],
    ['the domain has not installed Muster', () => idp.mint({ hd: 'elsewhere.example' }), /not installed for the Google Workspace domain elsewhere\.example/],
    ['the token is signed with HS256', () => new SignJWT({ ...{ iss: 'https://accounts.google.com', aud: TEST_CLIENT_ID, sub: '1', email_verified: true, hd: TEST_DOMAIN } }).setProtectedHeader({ alg: 'HS256', kid: 'google-key-1' }).setIssuedAt().setExpirationTime('1h').sign(new Uint8Array(32)), /accepted algorithm/],
    ['the token is not a JWT', async () => 'not-a-token', /malformed/],
  ];
  for (const [when, make, sentence] of rejected) {
    it(`when ${when}, then it is rejected as UNAUTHENTICATED with a sentence that does not contain the token`, async () => {
      const { verify } = makeVerifier();
      const token = await make();
      const err = await rejection(verify(token));
      expect(err.code).toBe('UNAUTHENTICATED');
      expect(err.message).toMatch(sentence);
      expect(err.message).not.toContain(token);
    });
  }

  it('when the domain is missing or not installed, then the error names the hd field so the add-on can tell the coordinator to ask the admin', async () => {
    const { verify, tenantForDomain } = makeVerifier();
    const notInstalled = await rejection(verify(await idp.mint({ hd: 'elsewhere.example' })));
    expect(notInstalled.details).toEqual([expect.objectContaining({ field: 'hd' })]);
    const expiredErr = await rejection(verify(await idp.mint({ exp: Math.floor(Date.now() / 1000) - 3600 })));
    expect(expiredErr.details).toEqual([]);
    expect(tenantForDomain).toHaveBeenCalledTimes(1);
  });

  it('when a token fails verification, then the tenant lookup is never consulted', async () => {
    const { verify, tenantForDomain } = makeVerifier();
    await rejection(verify(await idp.mint({ aud: 'someone-else' })));
    await rejection(verify(await idp.mint({}, stranger)));
    expect(tenantForDomain).not.toHaveBeenCalled();
  });

  it('when Google rotates its keys, then the cached key set is refetched for the unknown kid and the new token is accepted', async () => {
    const { verify } = makeVerifier(0);
    const before = idp.fetches();
    await verify(await idp.mint());
    await verify(await idp.mint());
    expect(idp.fetches() - before).toBe(1);

    const rotated = await makeSigningKey('google-key-2');
    const original = idp.published;
    idp.published = [rotated, ...original];
    try {
      await expect(verify(await idp.mint({}, rotated))).resolves.toMatchObject({ tenantId: MUSTER_TENANT });
      expect(idp.fetches() - before).toBe(2);
    } finally {
      idp.published = original;
    }
  });

  it('when no client id is configured, then building the verifier fails with CONFIG_INVALID', () => {
    expect(() => createGoogleIdentityVerifier({ clientId: '', tenantForDomain: async () => null })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
