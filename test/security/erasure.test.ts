// Erasing a learner leaves no trace of their address or name in any table, the records workbook, the outbox or the logs.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { pgUnavailableReason } from '../support/pg.js';
import { launchProgram, startRig, workbookText, type Rig } from './service-rig.js';

const pgSkip = await pgUnavailableReason();
const EMAIL = 'zelda.quux@example.com';
const NAME = 'Zelda Quuxington';

async function storeText(store: Store): Promise<string> {
  const parts: string[] = [];
  for (const table of [...Store.TENANT_TABLES, 'tenants'] as const) {
    const rows = await store.db.selectFrom(table).selectAll().execute();
    parts.push(JSON.stringify(rows));
  }
  return parts.join('\n');
}

describe(`erasing a learner${pgSkip ? ` (SQLite: ${pgSkip})` : ' (PostgreSQL)'}`, () => {
  let rig: Rig;
  let programId: string;

  beforeAll(async () => {
    rig = await startRig({ postgres: !pgSkip });
    const learners = [
      { Email: EMAIL, Name: NAME, 'Manager Email': 'boss@example.com', Session: 'First' },
      ...Array.from({ length: 5 }, (_, i) => ({ Email: `keep${i}@example.com`, Name: `Keeper ${i}`, 'Manager Email': 'boss@example.com', Session: 'First' })),
    ];
    const p = await launchProgram(rig, 'ERASE1', learners);
    programId = p.programId;
    await rig.runDue();
    // A day before the session: reminders go out.
    rig.clock.set(new Date(Date.parse(p.sessions[0]!.start) - 86_400_000 + 60_000));
    await rig.runDue();
    await rig.api('post', `/api/programs/${programId}/questions`, { text: `Can ${NAME} bring a laptop?`, learnerEmail: EMAIL });
    await rig.api('post', `/api/programs/${programId}/completions`, { entries: [{ email: EMAIL, completedAt: '2030-01-01', score: 77 }] });
    const sync = await rig.api('post', `/api/programs/${programId}/sync`);
    expect(sync.status, sync.text).toBe(200);
  });
  afterAll(async () => rig?.close());

  it('when the learner is erased, then the store, the records workbook, the outbox and the logs hold neither their address nor their name', async () => {
    const workbook = join(rig.runtime.config.recordsDir, 'ERASE1.xlsx');
    const mentions = (s: string) => s.toLowerCase().includes(EMAIL) || s.includes(NAME);
    // Before: they are everywhere, so the checks below can fail.
    expect(mentions(await storeText(rig.runtime.store))).toBe(true);
    expect((await workbookText(workbook)).some(mentions)).toBe(true);
    expect(rig.outbox().filter((m) => mentions(m.raw)).length).toBeGreaterThanOrEqual(2);

    const erased = await rig.api('post', `/api/learners/${encodeURIComponent(EMAIL)}/erase`);
    expect(erased.status, erased.text).toBe(200);
    expect(erased.json.pseudonym).toMatch(/^learner-[0-9a-f]{16}$/);
    await rig.runDue();

    expect(mentions(await storeText(rig.runtime.store))).toBe(false);
    expect((await workbookText(workbook)).filter(mentions)).toEqual([]);
    expect(rig.outbox().filter((m) => mentions(m.raw)).map((m) => m.file)).toEqual([]);
    expect(rig.logLines.filter(mentions)).toEqual([]);
    // The others are untouched, and the audit log keeps a pseudonymous entry.
    expect((await workbookText(workbook)).some((c) => c.includes('keep3@example.com'))).toBe(true);
    const audit = await rig.api('get', `/api/programs/${programId}/audit`);
    expect(audit.status).toBe(200);
    expect((await rig.runtime.store.listAudit('default')).some((a) => a.action === 'learner.erase' && a.entityId === erased.json.pseudonym)).toBe(true);
    expect((await rig.api('get', `/api/learners/${encodeURIComponent(EMAIL)}/export`)).status).toBe(404);
  });
});
