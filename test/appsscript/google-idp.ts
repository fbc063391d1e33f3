// A stand-in for Google's identity token issuer in tests: publishes a JWKS on 127.0.0.1 and mints RS256 identity tokens shaped like ScriptApp.getIdentityToken()'s; it never reaches Google.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export interface LocalGoogleIdp {
  /** URL of the published key set (what GOOGLE_ID_JWKS_URL points at). */
  jwksUrl: string;
  /** Keys currently published; replace to rotate. */
  published: SigningKey[];
  /** How many times the key set was fetched. */
  fetches(): number;
  /** Signs claims (defaults below, overridden by `claims`) with `key` (default: the first published key). */
  mint(claims?: Record<string, unknown>, key?: SigningKey): Promise<string>;
  close(): Promise<void>;
}

export const TEST_CLIENT_ID = '1234567890-muster0addon0test.apps.googleusercontent.com';
export const TEST_DOMAIN = 'school.example';

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Claims of an identity token Apps Script mints with the openid and userinfo.email scopes. */
export function identityClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'https://accounts.google.com',
    aud: TEST_CLIENT_ID,
    azp: TEST_CLIENT_ID,
    sub: '110169484474386276334',
    email: 'casey.coordinator@school.example',
    email_verified: true,
    hd: TEST_DOMAIN,
    iat: nowSec() - 30,
    exp: nowSec() + 3600,
    ...over,
  };
}

export async function startLocalGoogleIdp(): Promise<LocalGoogleIdp> {
  const first = await makeSigningKey('google-key-1');
  let fetches = 0;
  const idp = {
    jwksUrl: '',
    published: [first],
    fetches: () => fetches,
    async mint(claims: Record<string, unknown> = {}, key?: SigningKey): Promise<string> {
      const k = key ?? idp.published[0];
      if (!k) throw new Error('no signing key is published');
      return new SignJWT(identityClaims(claims)).setProtectedHeader({ alg: 'RS256', kid: k.kid, typ: 'JWT' }).sign(k.privateKey);
    },
    close: async (): Promise<void> => {
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/oauth2/v3/certs') {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
      res.end(JSON.stringify({ keys: idp.published.map((k) => k.publicJwk) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  idp.jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v3/certs`;
  return idp;
}
