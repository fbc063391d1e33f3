// GraphAuth and MusterGraphClient against the emulator: secret and certificate credentials, on-behalf-of, consent URL, credential failures, Retry-After, per-mailbox limits and $batch item retries.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { generate } from 'selfsigned';
import { isMusterError } from '../../src/domain/errors.js';
import { GraphAuth, MusterGraphClient, createMicrosoftProviders, parseAdminConsentReturn, parseRetryAfter } from '../../src/providers/microsoft/index.js';
import { ORGANIZER, type Rig, captureLogger, startRig } from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterEach(() => {
  rig.em.faults.clear();
});

afterAll(async () => {
  try {
    expect(rig.em.violations()).toEqual([]);
  } finally {
    await rig.em.close();
  }
});

describe('auth', () => {
  it('when the app token is asked for twice, then msal serves the second from its cache', async () => {
    const auth = new GraphAuth({ authorityHost: rig.em.authorityHost, logger: captureLogger(), credential: { clientId: rig.em.clientId, clientSecret: rig.em.clientSecret } });
    const before = rig.em.identity.tokenRequests.length;
    const a = await auth.appToken(rig.em.tenantId);
    const b = await auth.appToken(rig.em.tenantId);
    expect(b).toBe(a);
    expect(rig.em.identity.tokenRequests.length - before).toBe(1);
  });

  it('when the app signs in with a certificate, then the emulator verifies the assertion and Graph accepts the token', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const cert = await generate([{ name: 'commonName', value: 'muster-app' }], { keyPair: { privateKey, publicKey }, algorithm: 'sha256' });
    const clientId = '33333333-3333-4333-8333-333333333333';
    rig.em.identity.registerApp({ clientId, certificatePem: cert.cert });
    const providers = createMicrosoftProviders(
      { ...rig.config, clientId, clientSecret: undefined, certificatePem: cert.cert, privateKeyPem: privateKey },
      { logger: captureLogger() },
    );
    const items = await providers.calendar.readiness();
    expect(items[0]).toMatchObject({ status: 'ok' });
    expect(rig.em.identity.tokenRequests.at(-1)).toMatchObject({ clientId, credential: 'certificate' });
  });

  it('when a coordinator token is exchanged on-behalf-of, then a delegated Graph token for that user comes back', async () => {
    const auth = new GraphAuth({ authorityHost: rig.em.authorityHost, logger: captureLogger(), credential: { clientId: rig.em.clientId, clientSecret: rig.em.clientSecret } });
    const userToken = await rig.em.identity.issueUserToken({ upn: ORGANIZER });
    const token = await auth.onBehalfOf(rig.em.tenantId, userToken, ['https://graph.microsoft.com/Files.ReadWrite']);
    const claims = await rig.em.identity.verifyGraphToken(token);
    expect(claims).toMatchObject({ idtyp: 'user', upn: ORGANIZER, scp: 'Files.ReadWrite' });
  });

  it('when the admin consent URL is built and the answer parsed, then the tenant and state come back', async () => {
    const auth = new GraphAuth({ authorityHost: rig.em.authorityHost, logger: captureLogger(), credential: { clientId: rig.em.clientId, clientSecret: rig.em.clientSecret } });
    const url = auth.adminConsentUrl({ redirectUri: 'https://muster.example/admin/consent/return', state: 'st-1' });
    expect(url).toBe(`${rig.em.authorityHost}/organizations/adminconsent?client_id=${rig.em.clientId}&redirect_uri=https%3A%2F%2Fmuster.example%2Fadmin%2Fconsent%2Freturn&state=st-1`);
    const res = await fetch(url, { redirect: 'manual' });
    const back = new URL(res.headers.get('location') ?? '');
    expect(parseAdminConsentReturn(back.searchParams)).toEqual({ ok: true, tenantId: rig.em.tenantId, state: 'st-1' });
    expect(parseAdminConsentReturn({ error: 'access_denied', error_description: 'declined', state: 'x' })).toMatchObject({ ok: false, error: 'access_denied' });
  });

  it('when consent is revoked or the secret expired, then readiness shows a blocking credentials item that says why', async () => {
    const clientId = '44444444-4444-4444-8444-444444444444';
    rig.em.identity.registerApp({ clientId, secret: 'other-secret' });
    const fresh = () => createMicrosoftProviders({ ...rig.config, clientId, clientSecret: 'other-secret' }, { logger: captureLogger() });
    rig.em.identity.revokeConsent(rig.em.tenantId, clientId);
    const [revoked] = await fresh().calendar.readiness();
    expect(revoked).toMatchObject({ id: 'microsoft.credentials', status: 'blocking' });
    expect(revoked?.reason).toMatch(/consent/);
    rig.em.identity.grantConsent(rig.em.tenantId, clientId);
    rig.em.identity.expireSecrets(clientId);
    const [expired] = await fresh().calendar.readiness();
    expect(expired).toMatchObject({ id: 'microsoft.credentials', status: 'blocking' });
    expect(expired?.reason).toMatch(/secret has expired/);
  });
});

describe('client', () => {
  const client = (waits: number[]) =>
    new MusterGraphClient({
      baseUrl: rig.em.baseUrl,
      logger: captureLogger(),
      getToken: () => rig.providers.auth.appToken(rig.em.tenantId),
      sleep: async (ms) => {
        waits.push(ms);
      },
      baseBackoffMs: 5,
    });

  it('when Retry-After is an HTTP date, then the client waits until then', async () => {
    const waits: number[] = [];
    rig.em.faults.inject({ match: { path: '/calendar' }, fault: { kind: 'status', status: 503, retryAfter: new Date(Date.now() + 20_000) } });
    await client(waits).get(`/users/${ORGANIZER}/calendar`, { mailbox: ORGANIZER });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(15_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
  });

  it('when a 503 has no Retry-After, then capped backoff is used, and a POST send is not retried at all', async () => {
    const waits: number[] = [];
    rig.em.faults.inject({ match: { path: '/calendar' }, times: 2, fault: { kind: 'status', status: 503 } });
    await client(waits).get(`/users/${ORGANIZER}/calendar`);
    expect(waits).toHaveLength(2);
    rig.em.faults.inject({ match: { path: '/sendMail' }, fault: { kind: 'status', status: 503 } });
    const err = await client(waits)
      .request('POST', `/users/${ORGANIZER}/sendMail`, { Message: { subject: 'x', toRecipients: [{ emailAddress: { address: 'a@contoso.com' } }] } }, { retry: 'never' })
      .catch((e: unknown) => e);
    expect(isMusterError(err, 'PROVIDER_UNAVAILABLE')).toBe(true);
    expect(waits).toHaveLength(2);
  });

  it('when 12 calls for one mailbox run at once against slow answers, then at most 4 are in flight and none is throttled', async () => {
    rig.em.faults.inject({ match: { path: '/calendar' }, times: 12, fault: { kind: 'slow', ms: 60 } });
    const before = rig.em.counters().named['throttled'] ?? 0;
    const c = client([]);
    await Promise.all(Array.from({ length: 12 }, () => c.get(`/users/${ORGANIZER}/calendar`, { mailbox: ORGANIZER })));
    expect((rig.em.counters().named['throttled'] ?? 0) - before).toBe(0);
  });

  it('when one $batch item is throttled, then only that item is sent again', async () => {
    const waits: number[] = [];
    rig.em.state.addUser({ mail: 'b1@contoso.com' });
    rig.em.state.addUser({ mail: 'b2@contoso.com' });
    rig.em.faults.inject({ match: { path: '/users/b2@contoso.com' }, fault: { kind: 'status', status: 429, retryAfter: 2 } });
    rig.em.resetCounters();
    const results = await client(waits).batch([
      { id: '1', method: 'GET', url: '/users/b1@contoso.com' },
      { id: '2', method: 'GET', url: '/users/b2@contoso.com' },
      { id: '3', method: 'GET', url: '/users/nobody@contoso.com' },
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 404]);
    expect(isMusterError(results[2]?.error, 'NOT_FOUND')).toBe(true);
    expect(waits).toEqual([2000]);
    expect(rig.em.counters().perMailbox).toEqual({ 'b1@contoso.com': 1, 'b2@contoso.com': 2, 'nobody@contoso.com': 1 });
  });
});
