// The admin-consent flow: the redirect to the tenant's consent page, and the callback that records the tenant only with a genuine state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';

describe('admin consent', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ seedDemo: false, env: { MS_CLIENT_ID: '11111111-2222-3333-4444-555555555555', MS_AUTHORITY_HOST: 'https://login.example.test' } });
  });
  afterAll(async () => svc?.close());

  it('when an admin starts consent, then Muster redirects to the adminconsent page with its client id, callback and a signed state', async () => {
    const res = await fetch(`${svc.url}/admin/consent`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe('https://login.example.test/organizations/adminconsent');
    expect(to.searchParams.get('client_id')).toBe('11111111-2222-3333-4444-555555555555');
    expect(to.searchParams.get('redirect_uri')).toBe(`${svc.url}/admin/consent/callback`);
    expect(to.searchParams.get('state')).toMatch(/^[\w-]+\.[\w-]+$/);
  });

  it('when the admin returns with consent, then the tenant is recorded as consented; a forged state records nothing', async () => {
    const tid = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const forged = await fetch(`${svc.url}/admin/consent/callback?tenant=${tid}&admin_consent=True&state=abc.def`);
    expect(forged.status).toBe(400);
    expect(await svc.service.runtime.store.tenantByExternalId(tid)).toBeUndefined();

    const start = await fetch(`${svc.url}/admin/consent`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const ok = await fetch(`${svc.url}/admin/consent/callback?tenant=${tid}&admin_consent=True&state=${encodeURIComponent(state)}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('allowed in your organisation');
    const t = await svc.service.runtime.store.tenantByExternalId(tid);
    expect(t).toMatchObject({ consent_state: 'granted', provider: 'microsoft' });
  });

  it('when the admin declines, then nothing is granted and the page says so', async () => {
    const start = await fetch(`${svc.url}/admin/consent`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await fetch(`${svc.url}/admin/consent/callback?error=access_denied&error_description=The+admin+declined&state=${encodeURIComponent(state)}`);
    expect(await res.text()).toContain('Consent was not granted');
  });
});
