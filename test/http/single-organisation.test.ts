// A Microsoft install serves one organisation's mailbox: another consented tenant's work stops with a reason, never runs on that mailbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';

describe('one organisation per Microsoft install', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({
      seedDemo: false,
      env: { MUSTER_PROVIDER: 'microsoft', MS_TENANT_ID: '11111111-1111-4111-8111-111111111111', MS_CLIENT_ID: 'c', MS_CLIENT_SECRET: 's', MS_ORGANIZER: 'training@contoso.com', GRAPH_BASE_URL: 'https://127.0.0.1:9', MS_AUTHORITY_HOST: 'https://127.0.0.1:9' },
    });
  });
  afterAll(async () => svc?.close());

  it('when another consented tenant asks for its providers, then Muster refuses with a reason instead of using this organisation\'s mailbox', async () => {
    const { ctx, store } = svc.service.runtime;
    await store.ensureTenant('other', 'Other org', 'microsoft', new Date().toISOString());
    await store.updateTenant('other', { external_id: '22222222-2222-4222-8222-222222222222', consent_state: 'granted' });
    await expect(ctx.providersFor('other')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(ctx.providersFor('default')).resolves.toMatchObject({ sender: { email: 'training@contoso.com' } });
  });
});
