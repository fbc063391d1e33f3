// Drives the Entra v2.0 token verifier against a local JWKS server with keys made here; it must not reach the internet.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { createEntraVerifier } from '../../src/http/auth/entra.js';
import { isMusterError } from '../../src/domain/errors.js';

const CLIENT_ID = '6f1c7b0e-3d7a-4c59-9a53-2f0d1e6b8c41';
const TID = '9188040d-6c67-4c5b-b112-36a304b66dad';
const OTHER_TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const MUSTER_TENANT = 'tenant-contoso';

interface Key { kid: string; privateKey: CryptoKey; publicJwk: JWK; spki: string }

async function makeKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk, spki: await exportSPKI(publicKey) };
}

let server: Server;
let authorityHost: string;
let jwksUrl: string;
let published: Key[] = [];
let jwksFetches = 0;
let keyA: Key;
let keyB: Key;
let unpublished: Key;

beforeAll(async () => {
  [keyA, keyB, unpublished] = await Promise.all([makeKey('key-a'), makeKey('key-b'), makeKey('key-never-published')]);
  published = [keyA];
  server = createServer((req, res) => {
    if (req.url === '/common/discovery/v2.0/keys') {
      jwksFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  authorityHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  jwksUrl = `${authorityHost}/common/discovery/v2.0/keys`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

const nowSec = (): number => Math.floor(Date.now() / 1000);

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: CLIENT_ID,
    iss: `${authorityHost}/${TID}/v2.0`,
    tid: TID,
    ver: '2.0',
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    preferred_username: 'coordinator@contoso.example',
    name: 'Casey Coordinator',
    scp: 'access_as_user',
    iat: nowSec() - 60,
    nbf: nowSec() - 60,
    exp: nowSec() + 3600,
    ...over,
  };
}

async function sign(payload: Record<string, unknown>, key: Key = keyA, kid: string = key.kid): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key.privateKey);
}

function makeVerifier(tenantForTid = vi.fn(async (tid: string) => (tid === TID ? MUSTER_TENANT : null))) {
  const verify = createEntraVerifier({ clientId: CLIENT_ID, authorityHost, jwksUrl, tenantForTid, clockToleranceSec: 30, jwksCooldownSec: 0 });
  return { verify, tenantForTid };
}

async function expectRejected(token: string, tenantForTid: ReturnType<typeof vi.fn>, verify: (t: string) => Promise<unknown>, messagePart?: RegExp): Promise<void> {
  const err = await verify(token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isMusterError(err, 'UNAUTHENTICATED'), `expected UNAUTHENTICATED, got ${String(err)}`).toBe(true);
  const message = (err as Error).message;
  if (token.length > 0) expect(message).not.toContain(token);
  expect(message.length).toBeLessThan(120);
  if (messagePart) expect(message).toMatch(messagePart);
  expect(tenantForTid).not.toHaveBeenCalled();
}

describe('Entra v2.0 token verifier', () => {
  it('when a valid v2.0 token for the client id arrives, then the principal carries the consented Muster tenant', async () => {
    const { verify, tenantForTid } = makeVerifier();
    const principal = await verify(await sign(claims()));
    expect(principal).toEqual({
      tenantId: MUSTER_TENANT,
      subject: '00000000-0000-0000-66f3-3332eca7ea81',
      email: 'coordinator@contoso.example',
      name: 'Casey Coordinator',
      surface: 'outlook',
    });
    expect(tenantForTid).toHaveBeenCalledWith(TID);
  });

  it('when the audience is api://<clientId>, then the token is accepted too', async () => {
    const { verify } = makeVerifier();
    await expect(verify(await sign(claims({ aud: `api://${CLIENT_ID}` })))).resolves.toMatchObject({ tenantId: MUSTER_TENANT });
  });

  it('when the audience is another application, then 401 and no tenant lookup', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ aud: '00000003-0000-0000-c000-000000000000' })), tenantForTid, verify, /another application/);
  });

  it("when the issuer names a different tenant than the token's tid, then 401 and no tenant lookup", async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ iss: `${authorityHost}/${OTHER_TID}/v2.0` })), tenantForTid, verify, /issuer/);
  });

  it('when the issuer is the common endpoint instead of the tenant, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ iss: `${authorityHost}/common/v2.0` })), tenantForTid, verify, /issuer/);
  });

  it('when a v1.0 token arrives, then 401 and no tenant lookup', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ ver: '1.0', iss: `https://sts.windows.net/${TID}/` })), tenantForTid, verify, /v2\.0/);
  });

  it('when a v1.0 token claims the v2.0 issuer, then the ver claim still refuses it', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ ver: '1.0' })), tenantForTid, verify, /v2\.0/);
  });

  it('when the token has expired beyond the clock tolerance, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ iat: nowSec() - 7200, nbf: nowSec() - 7200, exp: nowSec() - 120 })), tenantForTid, verify, /expired/);
  });

  it('when the token is not valid yet, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims({ nbf: nowSec() + 600 })), tenantForTid, verify, /not valid yet/);
  });

  it('when the token has no exp, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    const { exp: _dropped, ...rest } = claims();
    await expectRejected(await sign(rest), tenantForTid, verify);
  });

  it('when the token is unsigned (alg none), then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(new UnsecuredJWT(claims()).encode(), tenantForTid, verify);
  });

  it('when the token is HS256-signed with the published public key as the secret, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: keyA.kid, typ: 'JWT' })
      .sign(new TextEncoder().encode(keyA.spki));
    await expectRejected(forged, tenantForTid, verify, /algorithm/);
  });

  it('when the token is signed by a key the platform does not publish, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims(), unpublished), tenantForTid, verify, /key/);
  });

  it("when the token names a published kid but another key signed it, then 401", async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected(await sign(claims(), unpublished, keyA.kid), tenantForTid, verify, /signature/);
  });

  it('when the token is garbage, then 401', async () => {
    const { verify, tenantForTid } = makeVerifier();
    await expectRejected('not.a.jwt', tenantForTid, verify);
    await expectRejected('', tenantForTid, verify);
  });

  it('when the tenant never consented, then 401 after exactly one tenant lookup', async () => {
    const { verify, tenantForTid } = makeVerifier();
    const token = await sign(claims({ tid: OTHER_TID, iss: `${authorityHost}/${OTHER_TID}/v2.0` }));
    const err = await verify(token).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMusterError(err, 'UNAUTHENTICATED')).toBe(true);
    expect((err as Error).message).toMatch(/consent/);
    expect(tenantForTid).toHaveBeenCalledTimes(1);
    expect(tenantForTid).toHaveBeenCalledWith(OTHER_TID);
  });

  it('when keys rotate, then the cached key set serves known kids and is fetched again only for an unknown kid', async () => {
    published = [keyA];
    const { verify } = makeVerifier();
    const before = jwksFetches;
    await verify(await sign(claims()));
    await verify(await sign(claims()));
    expect(jwksFetches - before).toBe(1);

    published = [keyA, keyB];
    await expect(verify(await sign(claims(), keyB))).resolves.toMatchObject({ tenantId: MUSTER_TENANT });
    expect(jwksFetches - before).toBe(2);
    await verify(await sign(claims(), keyB));
    expect(jwksFetches - before).toBe(2);
    published = [keyA];
  });
});
