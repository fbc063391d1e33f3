// A local Entra key set for tests: serves a JWKS on 127.0.0.1 and mints v2.0 access tokens for any tenant id; it reaches no network.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const API_CLIENT_ID = '6f1c7b0e-3d7a-4c59-9a53-2f0d1e6b8c41';

export interface LocalEntra {
  /** MS_AUTHORITY_HOST for the service (tokens' issuer is `${authorityHost}/${tid}/v2.0`). */
  authorityHost: string;
  /** MS_JWKS_URL for the service. */
  jwksUrl: string;
  /** A valid access token of a user in tenant `tid`. */
  token(tid: string, user?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalEntra(): Promise<LocalEntra> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'scale-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/common/discovery/v2.0/keys') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const authorityHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key: CryptoKey = privateKey;
  return {
    authorityHost,
    jwksUrl: `${authorityHost}/common/discovery/v2.0/keys`,
    async token(tid, user = 'coordinator') {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ aud: API_CLIENT_ID, iss: `${authorityHost}/${tid}/v2.0`, tid, ver: '2.0', oid: `oid-${user}-${tid}`, sub: `sub-${user}`, preferred_username: `${user}@${tid.slice(0, 8)}.example`, name: user, scp: 'access_as_user' })
        .setProtectedHeader({ alg: 'RS256', kid: 'scale-key', typ: 'JWT' })
        .setIssuedAt(now - 60)
        .setNotBefore(now - 60)
        .setExpirationTime(now + 3600)
        .sign(key);
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
