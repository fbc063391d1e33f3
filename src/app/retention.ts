// Retention: expires message-log entries after the retention period and deletes offboarded tenants after their grace period; it sends nothing and touches no provider.
import type { TenantRow } from '../store/store.js';
import type { AppContext } from './context.js';
import { nowIso } from './context.js';

const DAY_MS = 24 * 3600_000;

/** Consent states after which a tenant is offboarded: the admin revoked consent, or the add-in was removed. */
export const OFFBOARDING_STATES: ReadonlySet<string> = new Set(['revoked', 'uninstalled']);

export interface RetentionPolicy {
  /** MUSTER_MESSAGE_RETENTION_DAYS: message-log entries created longer ago are deleted. */
  messageRetentionDays: number;
  /** MUSTER_TENANT_GRACE_DAYS: an offboarded tenant's data is deleted this long after offboarding. */
  tenantGraceDays: number;
}

export interface RetentionResult {
  messagesDeleted: number;
  /** Tenants newly marked offboarded in this run. */
  tenantsOffboarded: string[];
  /** Tenants whose data was deleted in this run. */
  tenantsDeleted: string[];
}

/** Marks a tenant offboarded now (consent revoked or uninstalled); its data goes after the grace period. Idempotent. */
export async function offboardTenant(ctx: AppContext, tenantId: string, consentState: 'revoked' | 'uninstalled'): Promise<TenantRow | undefined> {
  const t = await ctx.store.getTenant(tenantId);
  if (!t) return undefined;
  await ctx.store.updateTenant(tenantId, { consent_state: consentState, offboarded_at: t.offboarded_at ?? nowIso(ctx) });
  ctx.logger.info('tenant.offboarded', { tenantId, consentState });
  return ctx.store.getTenant(tenantId);
}

/** Consent given again within the grace period: the tenant is kept. */
export async function restoreTenant(ctx: AppContext, tenantId: string): Promise<void> {
  await ctx.store.updateTenant(tenantId, { consent_state: 'granted', offboarded_at: null });
}

/** One retention pass (the worker calls it daily): expire old message-log rows, offboard, delete after grace. */
export async function purgeExpired(ctx: AppContext, policy: RetentionPolicy): Promise<RetentionResult> {
  const now = ctx.clock.now().getTime();
  const messagesDeleted = await ctx.store.deleteMessagesBefore(new Date(now - policy.messageRetentionDays * DAY_MS).toISOString());
  const tenantsOffboarded: string[] = [];
  const tenantsDeleted: string[] = [];
  for (const t of await ctx.store.listTenants()) {
    let offboardedAt = t.offboarded_at;
    if (!offboardedAt && OFFBOARDING_STATES.has(t.consent_state)) {
      offboardedAt = nowIso(ctx);
      await ctx.store.updateTenant(t.id, { offboarded_at: offboardedAt });
      tenantsOffboarded.push(t.id);
    }
    if (offboardedAt && Date.parse(offboardedAt) + policy.tenantGraceDays * DAY_MS <= now) {
      const rows = await ctx.store.deleteTenantData(t.id);
      tenantsDeleted.push(t.id);
      ctx.logger.info('tenant.deleted', { tenantId: t.id, rows });
    }
  }
  if (messagesDeleted > 0) ctx.logger.info('retention.messages_deleted', { count: messagesDeleted });
  return { messagesDeleted, tenantsOffboarded, tenantsDeleted };
}
