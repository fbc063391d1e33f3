// The Microsoft admin-consent flow: sends an admin to their tenant's consent page and records the tenant and its answer on return.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { AppContext } from '../app/context.js';
import { escapeHtml } from '../domain/templates.js';
import { parseAdminConsentReturn } from '../providers/microsoft/graph-auth.js';

export interface ConsentRouterOptions {
  ctx: AppContext;
  clientId: string;
  authorityHost: string;
  /** Signs the state parameter so a forged callback cannot register a tenant. */
  secret: string;
}

function sign(secret: string, nonce: string): string {
  return `${nonce}.${createHmac('sha256', secret).update(`consent:${nonce}`).digest('base64url')}`;
}

function verify(secret: string, state: string | null): boolean {
  if (!state) return false;
  const [nonce] = state.split('.');
  if (!nonce) return false;
  const expected = Buffer.from(sign(secret, nonce));
  const given = Buffer.from(state);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function page(title: string, text: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}@media (prefers-color-scheme:dark){body{background:#1b1b1b;color:#eee}}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`;
}

export function createConsentRouter(opts: ConsentRouterOptions): express.Router {
  const router = express.Router();
  const redirectUri = () => `${opts.ctx.publicUrl}/admin/consent/callback`;

  router.get('/admin/consent', (req, res) => {
    const tenant = typeof req.query.tenant === 'string' && /^[A-Za-z0-9.-]{1,100}$/.test(req.query.tenant) ? req.query.tenant : 'organizations';
    const url = new URL(`${opts.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/adminconsent`);
    url.searchParams.set('client_id', opts.clientId);
    url.searchParams.set('redirect_uri', redirectUri());
    url.searchParams.set('state', sign(opts.secret, randomBytes(16).toString('base64url')));
    res.redirect(302, url.toString());
  });

  router.get('/admin/consent/callback', async (req, res) => {
    const result = parseAdminConsentReturn(new URLSearchParams(req.url.split('?')[1] ?? ''));
    if (!verify(opts.secret, result.state)) {
      res.status(400).type('html').send(page('This consent link is not valid', 'Start again from the Muster admin consent link.'));
      return;
    }
    const now = opts.ctx.clock.now().toISOString();
    if (!result.ok) {
      opts.ctx.logger.warn('consent.refused', { error: result.error });
      res.status(200).type('html').send(page('Consent was not granted', `${result.description || result.error}. Muster has no access to your organisation.`));
      return;
    }
    const store = opts.ctx.store;
    const existing = await store.tenantByExternalId(result.tenantId);
    const id = existing?.id ?? result.tenantId;
    await store.ensureTenant(id, result.tenantId, 'microsoft', now);
    await store.updateTenant(id, { external_id: result.tenantId, consent_state: 'granted', offboarded_at: null, provider: 'microsoft' });
    await store.audit({ tenantId: id, actor: 'tenant-admin', surface: 'console', action: 'tenant.consent', entity: 'tenant', entityId: id }, now);
    res.status(200).type('html').send(page('Muster is allowed in your organisation', 'Coordinators can now use Muster from Outlook. You can withdraw consent at any time in Entra ID (Enterprise applications).'));
  });
  return router;
}
