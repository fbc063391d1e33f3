// Retention on SQLite and PostgreSQL: old message-log rows expire; an offboarded tenant's data is deleted only after its grace period.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import { offboardTenant, purgeExpired, restoreTenant } from '../../src/app/retention.js';
import { createLogger } from '../../src/logger.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, pgUnavailableReason, type TestDatabase } from '../support/pg.js';
import { makeProgram, makeSession, seedDueReminders } from './fixtures.js';

const pgSkip = await pgUnavailableReason();
const DAY = 86_400_000;
const POLICY = { messageRetentionDays: 30, tenantGraceDays: 7 };

async function rig(kind: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'muster-retention-'));
  const db: TestDatabase | null = kind === 'postgres' ? await createTestDatabase() : null;
  const store = await Store.open(db ? db.url : `sqlite:${join(dir, 'm.sqlite')}`);
  let now = new Date('2031-01-01T00:00:00.000Z');
  const ctx = { store, clock: { now: () => now }, logger: createLogger('silent') } as unknown as AppContext;
  return {
    store,
    ctx,
    at(d: Date) {
      now = d;
    },
    async close() {
      await store.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe.each([
  { kind: 'sqlite' as const, skip: null },
  { kind: 'postgres' as const, skip: pgSkip },
])('retention on $kind', ({ kind, skip }) => {
  it.skipIf(skip !== null)('when message-log rows pass the retention period, then they are deleted and newer ones stay', async () => {
    const r = await rig(kind);
    closers.push(r.close);
    const base = { tenant_id: 't', program_id: null, session_id: null, learner_id: null, kind: 'reminder', recipient: 'a@example.com', subject: 's', provider: 'outbox', mailbox: 'm@example.com', message_id: '<x@y>' };
    await r.store.reserveMessage({ ...base, id: 'old', key: 'old', created_at: new Date(Date.parse('2031-01-01T00:00:00Z') - 31 * DAY).toISOString() });
    await r.store.reserveMessage({ ...base, id: 'new', key: 'new', created_at: new Date(Date.parse('2031-01-01T00:00:00Z') - 29 * DAY).toISOString() });
    const res = await purgeExpired(r.ctx, POLICY);
    expect(res.messagesDeleted).toBe(1);
    expect((await r.store.listMessages('t')).map((m) => m.key)).toEqual(['new']);
  });

  it.skipIf(skip !== null)('when a tenant revokes consent, then its data stays through the grace period, is deleted after it, and other tenants keep theirs', async () => {
    const r = await rig(kind);
    closers.push(r.close);
    for (const t of ['gone', 'stays']) {
      const p = makeProgram(`p-${t}`, t);
      await seedDueReminders(r.store, p, [makeSession(`s-${t}`, p, new Date('2031-02-01T09:00:00Z'))], 5, new Date('2031-01-01T00:00:00Z'));
    }
    await r.store.updateTenant('gone', { consent_state: 'revoked' });
    const first = await purgeExpired(r.ctx, POLICY);
    expect(first.tenantsOffboarded).toEqual(['gone']);
    expect(first.tenantsDeleted).toEqual([]);
    r.at(new Date(Date.parse('2031-01-01T00:00:00Z') + 6 * DAY));
    expect((await purgeExpired(r.ctx, POLICY)).tenantsDeleted).toEqual([]);
    expect(await r.store.listPrograms('gone')).toHaveLength(1);
    r.at(new Date(Date.parse('2031-01-01T00:00:00Z') + 7 * DAY));
    expect((await purgeExpired(r.ctx, POLICY)).tenantsDeleted).toEqual(['gone']);
    for (const table of Store.TENANT_TABLES) {
      const rows = await r.store.db.selectFrom(table).select('tenant_id').where('tenant_id', '=', 'gone').execute();
      expect(rows, table).toEqual([]);
    }
    expect(await r.store.getTenant('gone')).toBeUndefined();
    expect(await r.store.listPrograms('stays')).toHaveLength(1);
    expect(await r.store.countJobs('stays', 'pending')).toBe(5);
  });

  it.skipIf(skip !== null)('when an uninstalled tenant consents again within the grace period, then nothing is deleted', async () => {
    const r = await rig(kind);
    closers.push(r.close);
    const p = makeProgram('p-back', 'back');
    await seedDueReminders(r.store, p, [makeSession('s-back', p, new Date('2031-02-01T09:00:00Z'))], 2, new Date('2031-01-01T00:00:00Z'));
    expect((await offboardTenant(r.ctx, 'back', 'uninstalled'))?.offboarded_at).toBe('2031-01-01T00:00:00.000Z');
    r.at(new Date(Date.parse('2031-01-01T00:00:00Z') + 3 * DAY));
    await restoreTenant(r.ctx, 'back');
    r.at(new Date(Date.parse('2031-01-01T00:00:00Z') + 30 * DAY));
    expect((await purgeExpired(r.ctx, POLICY)).tenantsDeleted).toEqual([]);
    expect(await r.store.listPrograms('back')).toHaveLength(1);
  });
});
