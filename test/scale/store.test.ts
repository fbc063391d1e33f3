// One store suite, the same assertions against SQLite and PostgreSQL: every Store method, numbers as numbers, conflicts, transactions, leases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enrollment, Learner, Program, Session } from '../../src/domain/types.js';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider } from '../../src/store/migrations.js';
import { Store, type NewJob } from '../../src/store/store.js';
import { createTestDatabase, pgUnavailableReason, type TestDatabase } from '../support/pg.js';

const T = 'tenant-a';
const U = 'tenant-b';
const NOW = '2030-03-01T08:00:00.000Z';
const later = (min: number) => new Date(Date.parse(NOW) + min * 60_000).toISOString();

function program(id: string, tenantId = T, code = id.toUpperCase()): Program {
  return {
    id, tenantId, name: `Program ${id}`, code, owner: 'o@example.com', audience: 'all', agenda: 'a', materials: [], reviewWindowDays: 180,
    assessmentName: null, showScoresToManagers: false, enrollmentPath: null, rosterApproved: false, status: 'draft', clonedFrom: null, createdAt: NOW,
    owners: { missedSessions: null, lateCompletions: null, questions: null, improvements: null },
    policy: { offsetsMinutes: [1440], prerequisiteMinutes: null, followUpMinutes: null, completionDueDays: null, escalateAfterDays: 0, recertifyAfterDays: null, recertifyNoticeDays: 30, digest: null, quietHours: null },
  };
}
function session(id: string, programId: string, start: string, tenantId = T): Session {
  return { id, tenantId, programId, label: id, start, end: later(60 * 24 * 40), zone: 'Europe/Berlin', room: null, roomEmail: null, onlineUrl: null, backupPlan: null, instructors: [], capacity: 3, status: 'scheduled', generation: 0, sequence: 0 };
}
const job = (key: string, runAt: string, extra: Partial<NewJob> = {}): NewJob => ({ key, kind: 'reminder', programId: 'p1', sessionId: 's1', learnerId: null, runAt, payload: { offsetMinutes: 60 }, ...extra });

const pgSkip = await pgUnavailableReason();
const backends: Array<{ name: string; skip: string | null }> = [
  { name: 'sqlite', skip: null },
  { name: 'postgres', skip: pgSkip },
];

describe.each(backends)('Store on $name', ({ name, skip }) => {
  let store: Store;
  let db: TestDatabase | null = null;
  let dir: string;

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'muster-store-'));
    if (name === 'postgres') {
      db = await createTestDatabase();
      store = await Store.open(db.url);
    } else {
      store = await Store.open(`sqlite:${join(dir, 'muster.sqlite')}`);
    }
  });
  afterAll(async () => {
    if (skip) return;
    await store.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const test = skip ? it.skip : it;
  if (skip) it.skip(`(skipped: ${skip})`, () => {});

  test('when opened twice, then migrations are not run again and data survives', async () => {
    await store.ensureTenant(T, 'A', 'local', NOW);
    const url = name === 'postgres' ? db!.url : `sqlite:${join(dir, 'muster.sqlite')}`;
    const again = await Store.open(url);
    expect((await again.getTenant(T))?.name).toBe('A');
    await again.close();
  });

  test('when tenants are ensured and updated, then the first write wins and external ids resolve', async () => {
    const t = await store.ensureTenant(T, 'A', 'local', NOW);
    expect(t.consent_state).toBe('granted');
    expect((await store.ensureTenant(T, 'other name', 'microsoft', NOW)).name).toBe('A');
    const u = await store.ensureTenant(U, 'B', 'microsoft', NOW);
    expect(u.consent_state).toBe('pending');
    await store.updateTenant(U, { external_id: 'tid-b', consent_state: 'granted' });
    expect((await store.tenantByExternalId('tid-b'))?.id).toBe(U);
    expect((await store.listTenants()).map((x) => x.id)).toEqual([T, U]);
  });

  test('when programs and sessions are written, then they read back per tenant, by id or code, in order', async () => {
    await store.insertProgram(program('p1'));
    await store.insertProgram(program('p2'));
    await store.insertProgram(program('p1', U, 'OTHER'));
    const p = (await store.getProgram(T, 'p1'))!;
    await store.updateProgram({ ...p, status: 'launched' }, later(1));
    expect((await store.getProgram(T, 'p1'))?.status).toBe('launched');
    expect((await store.findProgram(T, 'P2'))?.id).toBe('p2');
    expect(await store.findProgram(U, 'P2')).toBeUndefined();
    expect((await store.listPrograms(T)).map((x) => x.id)).toEqual(['p1', 'p2']);
    await expect(store.insertProgram(program('p3', T, 'P1'))).rejects.toThrow();

    await store.insertSession(session('s2', 'p1', later(60 * 48)), NOW);
    await store.insertSession(session('s1', 'p1', later(60 * 24)), NOW);
    await store.insertSession(session('sx', 'p2', later(60 * 12)), NOW);
    const s1 = (await store.getSession(T, 's1'))!;
    await store.updateSession({ ...s1, capacity: 5, sequence: 1 }, later(1));
    expect((await store.getSession(T, 's1'))?.capacity).toBe(5);
    expect((await store.listSessions(T, 'p1')).map((s) => s.id)).toEqual(['s1', 's2']);
    expect((await store.listSessions(T)).map((s) => s.id)).toEqual(['sx', 's1', 's2']);
    expect(await store.getSession(U, 's1')).toBeUndefined();
  });

  test('when learners are upserted by email, then one row per address keeps its id, and enrollments are once per session', async () => {
    const base: Omit<Learner, 'id'> = { tenantId: T, email: 'Ana.Berg@Example.com', name: 'Ana Berg', managerEmail: null, zone: 'Europe/Berlin', department: null, language: 'en', undeliverable: false };
    const a = await store.upsertLearner(base, NOW);
    const again = await store.upsertLearner({ ...base, email: 'ana.berg@example.com', name: 'Ana B.' }, later(1));
    expect(again.id).toBe(a.id);
    expect((await store.learnerByEmail(T, 'ANA.BERG@example.com'))?.name).toBe('Ana B.');
    const same = await Promise.all([1, 2, 3].map((i) => store.upsertLearner({ ...base, email: 'race@example.com', name: `Race ${i}` }, NOW)));
    expect(new Set(same.map((l) => l.id)).size).toBe(1);
    await store.updateLearner({ ...again, undeliverable: true }, later(2));
    expect((await store.getLearner(T, a.id))?.undeliverable).toBe(true);

    const e: Enrollment = { id: 'e1', tenantId: T, programId: 'p1', sessionId: 's1', learnerId: a.id, status: 'waitlisted', waitPosition: 2, rsvp: 'none', attendance: null, enrolledAt: NOW };
    const first = await store.insertEnrollment(e);
    expect(first.created).toBe(true);
    const dup = await store.insertEnrollment({ ...e, id: 'e2' });
    expect(dup.created).toBe(false);
    expect(dup.enrollment.id).toBe('e1');
    expect(dup.enrollment.waitPosition).toBe(2);
    expect(typeof dup.enrollment.waitPosition).toBe('number');
    await store.updateEnrollment(T, 'e1', { status: 'enrolled', waitPosition: null, rsvp: 'accepted', attendance: 'present' }, later(3));
    expect(await store.getEnrollment(T, 'e1')).toMatchObject({ status: 'enrolled', waitPosition: null, rsvp: 'accepted', attendance: 'present' });
    expect((await store.listEnrollments(T, { programId: 'p1', status: 'enrolled' })).map((x) => x.id)).toEqual(['e1']);
    expect(await store.listEnrollments(U, { programId: 'p1' })).toEqual([]);
    expect((await store.learnersForProgram(T, 'p1')).map((l) => l.email)).toEqual(['ana.berg@example.com']);
  });

  test('when completions, rejects, questions, notes, sign-offs, templates and feed tokens are stored, then numbers come back as numbers', async () => {
    const a = (await store.learnerByEmail(T, 'ana.berg@example.com'))!;
    await store.upsertCompletion({ tenantId: T, programId: 'p1', learnerId: a.id, completedAt: null, score: null, dueAt: later(100) }, NOW);
    await store.upsertCompletion({ tenantId: T, programId: 'p1', learnerId: a.id, completedAt: later(5), score: 87.123456, dueAt: later(100) }, later(5));
    const [c] = await store.listCompletions(T, 'p1');
    expect(c).toEqual({ tenantId: T, programId: 'p1', learnerId: a.id, completedAt: later(5), score: 87.123456, dueAt: later(100) });

    await store.insertRosterRejects(T, [{ id: 'r1', programId: 'p1', source: 'csv', rowNumber: 7, data: { Email: 'x' }, reasons: [{ field: 'Email', message: 'bad' }], createdAt: NOW }]);
    const [r] = await store.listRosterRejects(T, 'p1');
    expect(r).toMatchObject({ id: 'r1', rowNumber: 7, data: { Email: 'x' } });
    expect(typeof r!.rowNumber).toBe('number');
    await store.resolveRosterReject(T, 'r1', later(1));
    expect(await store.listRosterRejects(T, 'p1')).toEqual([]);

    await store.insertQuestion({ id: 'q1', tenantId: T, programId: 'p1', learnerEmail: a.email, text: 'Is there parking?', createdAt: NOW });
    expect((await store.listQuestions(T, 'p1'))[0]?.text).toBe('Is there parking?');
    const note = { id: 'n1', tenantId: T, programId: 'p1', groupKey: 'parking', text: 'Parking', owner: null, status: 'open' as const, learners: 2, createdAt: NOW };
    await store.upsertImprovementNote(note);
    await store.upsertImprovementNote({ ...note, id: 'n2', learners: 3, text: 'Parking!' });
    expect(await store.listImprovementNotes(T, 'p1')).toEqual([{ ...note, learners: 3, text: 'Parking!' }]);

    await store.putSignoff(T, 'p1', 'roster.approved', 'x@example.com', 'ok', NOW);
    await store.putSignoff(T, 'p1', 'roster.approved', 'y@example.com', 'ok again', later(1));
    expect(await store.listSignoffs(T, 'p1')).toEqual({ 'roster.approved': { by: 'y@example.com', note: 'ok again', at: later(1) } });
    await store.putTemplate(T, 'p1', 'reminder', 'en', 'S', 'B', NOW);
    await store.putTemplate(T, 'p1', 'reminder', 'en', 'S2', 'B2', NOW);
    expect(await store.listTemplates(T, 'p1')).toEqual([{ kind: 'reminder', language: 'en', subject: 'S2', body: 'B2' }]);

    await store.putFeedToken(T, 'p1', 'h1', NOW);
    await store.putFeedToken(T, 'p1', 'h2', later(1));
    expect(await store.feedByTokenHash('h1')).toBeUndefined();
    expect(await store.feedByTokenHash('h2')).toEqual({ tenantId: T, programId: 'p1' });
  });

  test('when session events, baselines and audit entries are written, then upserts replace and reads are per tenant', async () => {
    const row = { tenant_id: T, session_id: 's1', generation: 0, create_key: 'k', provider: 'local', external_id: null, join_url: null, state: 'creating', updated_at: NOW };
    await store.putSessionEvent(row);
    await store.putSessionEvent({ ...row, external_id: 'ev-1', state: 'created', updated_at: later(1) });
    const ev = (await store.getSessionEvent(T, 's1', 0))!;
    expect(ev).toMatchObject({ external_id: 'ev-1', state: 'created', generation: 0 });
    expect(typeof ev.generation).toBe('number');
    expect(await store.listSessionEvents(T, [])).toEqual([]);
    expect((await store.listSessionEvents(T, ['s1', 's2'])).length).toBe(1);
    expect(await store.listSessionEvents(U, ['s1'])).toEqual([]);

    const rows = new Map(Array.from({ length: 450 }, (_, i) => [`row-${i}`, { Email: `l${i}@example.com`, n: i }]));
    await store.replaceBaseline(T, 'p1', 'Roster', rows);
    await store.replaceBaseline(T, 'p1', 'Roster', new Map([...rows].slice(0, 300)));
    const base = await store.getBaseline(T, 'p1', 'Roster');
    expect(base.size).toBe(300);
    expect(base.get('row-7')).toEqual({ Email: 'l7@example.com', n: 7 });

    await store.audit({ tenantId: T, actor: 'a', surface: 'api', action: 'x.one', entity: 'program', entityId: 'p1', detail: { n: 1 } }, NOW);
    await store.audit({ tenantId: T, actor: 'a', surface: 'api', action: 'x.two', entity: 'program', entityId: 'p1' }, later(1));
    expect((await store.listAudit(T)).map((a) => a.action)).toEqual(['x.two', 'x.one']);
    expect((await store.listAudit(T))[1]!.detail).toEqual({ n: 1 });
    expect(await store.listAudit(U)).toEqual([]);
  });

  test('when the roster is read in pages of any size, then every learner with an enrollment comes once, in email order, with all their enrollments and their completion', async () => {
    const P = 'page-prog';
    await store.ensureTenant(T, 'A', 'local', NOW);
    await store.insertProgram(program(P));
    const sessions = Array.from({ length: 12 }, (_, i) => session(`pg-s${i}`, P, later(i)));
    for (const s of sessions) await store.insertSession(s, NOW);
    // Learner i has i % 4 enrollments, except one with all 12 (more than a small page's rows); a third have a completion.
    const expected: Array<{ email: string; sessions: string[]; completed: string | null }> = [];
    for (let i = 0; i < 23; i++) {
      const l = await store.upsertLearner({ tenantId: T, email: `pager${String(i).padStart(2, '0')}@example.com`, name: `Pager ${i}`, managerEmail: null, zone: 'Europe/Berlin', department: null, language: 'en', undeliverable: false }, NOW);
      const count = i === 7 ? 12 : i % 4;
      const mine = sessions.slice(0, count).map((s) => s.id);
      for (const [k, sid] of mine.entries()) {
        await store.insertEnrollment({ id: `pg-e${i}-${k}`, tenantId: T, programId: P, sessionId: sid, learnerId: l.id, status: 'enrolled', waitPosition: null, rsvp: 'none', attendance: null, enrolledAt: later(k) });
      }
      const completed = i % 3 === 0 && count > 0 ? later(100 + i) : null;
      if (completed) await store.upsertCompletion({ tenantId: T, programId: P, learnerId: l.id, completedAt: completed, score: null, dueAt: null }, NOW);
      if (count > 0) expected.push({ email: l.email, sessions: mine, completed });
    }
    for (const limit of [1, 2, 3, 5, 1000]) {
      const seen: typeof expected = [];
      let after: string | null = null;
      for (let guard = 0; guard < 100; guard++) {
        const page = await store.programRosterPage(T, P, after, limit);
        seen.push(...page.map((r) => ({ email: r.learner.email, sessions: r.enrollments.map((e) => e.sessionId), completed: r.completion?.completedAt ?? null })));
        if (page.length < limit) break;
        after = page[page.length - 1]!.key;
      }
      expect(seen, `pages of ${limit}`).toEqual(expected);
    }
  });

  test('when a transaction throws, then none of its writes remain; when it returns, all of them do', async () => {
    await expect(
      store.tx(async (s) => {
        await s.insertProgram(program('tx1'));
        await s.tx(async (inner) => inner.insertProgram(program('tx2')));
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(await store.getProgram(T, 'tx1')).toBeUndefined();
    expect(await store.getProgram(T, 'tx2')).toBeUndefined();
    await store.tx(async (s) => s.insertProgram(program('tx3')));
    expect((await store.getProgram(T, 'tx3'))?.id).toBe('tx3');
  });

  test('when jobs are added twice by key, then each key is queued once and the count of new ones is exact', async () => {
    const many = Array.from({ length: 450 }, (_, i) => job(`bulk:${String(i).padStart(4, '0')}`, later(-10)));
    expect(await store.addJobs(T, many, NOW)).toBe(450);
    expect(await store.addJobs(T, [...many.slice(0, 10), job('bulk:new', later(-10))], NOW)).toBe(1);
    expect(await store.countJobs(T, 'pending')).toBe(451);
    expect(await store.countJobs(null, 'pending')).toBe(451);
    expect(typeof (await store.countJobs(T, 'pending'))).toBe('number');
  });

  test('when two workers claim at once, then no job is leased twice; an expired lease is taken again and the old owner cannot finish it', async () => {
    const [a, b] = await Promise.all([store.claimDueJobs(NOW, 'w-a', later(5), 300), store.claimDueJobs(NOW, 'w-b', later(5), 300)]);
    const ids = [...a, ...b].map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(451);
    expect(a.every((j) => j.status === 'running' && j.lease_owner === 'w-a' && j.attempts === 1)).toBe(true);
    expect(await store.claimDueJobs(NOW, 'w-c', later(5), 10)).toEqual([]);

    await store.heartbeat('w-a', later(30));
    const stolen = await store.claimDueJobs(later(10), 'w-c', later(15), 1000);
    expect(stolen.length).toBe(b.length);
    expect(stolen.every((j) => j.attempts === 2 && j.lease_owner === 'w-c')).toBe(true);

    const victim = stolen[0]!;
    await store.finishJob(T, victim.id, 'w-b', 'done', later(11));
    expect((await store.listJobs(T, { status: ['running'] })).some((j) => j.id === victim.id)).toBe(true);
    await store.finishJob(T, victim.id, 'w-c', 'pending', later(11), { runAt: later(20), error: 'retry' });
    const back = (await store.listJobs(T, { status: ['pending'] })).find((j) => j.id === victim.id)!;
    expect(back).toMatchObject({ run_at: later(20), last_error: 'retry', lease_owner: null });
    for (const j of [...a, ...stolen.slice(1)]) await store.finishJob(T, j.id, j.lease_owner === 'w-a' ? 'w-a' : 'w-c', 'done', later(12));
    expect(await store.countJobs(T, 'done')).toBe(450);
  });

  test('when pending jobs are rescheduled, skipped or cancelled, then only pending ones change and the filters select', async () => {
    await store.addJobs(T, [job('f:1', later(100), { learnerId: 'L1', kind: 'follow-up' }), job('f:2', later(100), { learnerId: 'L2' }), job('f:3', later(100), { learnerId: 'L2', sessionId: 's2' })], NOW);
    const [f1] = await store.listJobs(T, { kind: 'follow-up' });
    await store.rescheduleJob(T, f1!.id, later(200), NOW);
    expect((await store.listJobs(T, { learnerId: 'L1' }))[0]!.run_at).toBe(later(200));
    await store.skipPendingJob(T, f1!.id, 'moved away', NOW);
    expect((await store.listJobs(T, { learnerId: 'L1' }))[0]).toMatchObject({ status: 'skipped', last_error: 'moved away' });
    expect(await store.cancelPendingJobs(T, { learnerId: 'L2', sessionId: 's1' }, 'gone', NOW)).toBe(1);
    expect(await store.cancelPendingJobs(T, { programId: 'p1', kinds: ['reminder'] }, 'gone', NOW)).toBe(2);
    expect((await store.listJobs(T, { sessionId: 's2' }))[0]!.status).toBe('skipped');
  });

  test('when a message is reserved twice and updated, then the ledger has one row, the mailbox history counts sends, and old rows can be deleted', async () => {
    const row = { tenant_id: T, id: 'm1', key: 'reminder:1', program_id: 'p1', session_id: 's1', learner_id: 'L1', kind: 'reminder', recipient: 'ana.berg@example.com', subject: 'S', provider: 'local', mailbox: 'box@example.com', message_id: '<m1@x>', created_at: NOW };
    const first = await store.reserveMessage(row);
    const second = await store.reserveMessage({ ...row, id: 'm1-again', subject: 'changed' });
    expect(second).toEqual(first);
    expect(first).toMatchObject({ status: 'pending', attempts: 0, sent_at: null });
    expect(typeof first.attempts).toBe('number');
    await store.updateMessage(T, 'reminder:1', { status: 'sent', attempts: 1, sent_at: later(1), provider_id: 'pid' });
    await store.reserveMessage({ ...row, id: 'm2', key: 'reminder:2', created_at: later(-60 * 24 * 400) });
    await store.updateMessage(T, 'reminder:2', { status: 'unknown', sent_at: later(2) });
    expect(await store.mailboxHistory('box@example.com', NOW)).toEqual([{ at: later(1), recipients: 1 }, { at: later(2), recipients: 1 }]);
    expect((await store.listMessages(T, { programId: 'p1', status: ['sent'] })).map((m) => m.key)).toEqual(['reminder:1']);
    expect((await store.listMessages(T, { learnerId: 'L1', sessionId: 's1' })).length).toBe(2);
    expect(await store.deleteMessagesBefore(later(-60 * 24 * 365))).toBe(1);
    expect((await store.getMessage(T, 'reminder:1'))?.attempts).toBe(1);
  });

  test('when a learner is erased, then no row of the store names them', async () => {
    const a = (await store.learnerByEmail(T, 'ana.berg@example.com'))!;
    await store.insertRosterRejects(T, [{ id: 'r2', programId: 'p1', source: 'csv', rowNumber: 3, data: { Email: 'ana.berg@example.com', Name: 'Ana B.' }, reasons: [], createdAt: NOW }]);
    await store.replaceBaseline(T, 'p1', 'Attendance', new Map([[a.id, { Email: a.email }], ['other', { Email: 'x@example.com' }]]));
    await store.eraseLearnerRows(T, a.id, a.email, a.name);
    expect(await store.getLearner(T, a.id)).toBeUndefined();
    expect(await store.listEnrollments(T, { learnerId: a.id })).toEqual([]);
    expect((await store.listQuestions(T, 'p1')).length).toBe(0);
    expect((await store.listMessages(T, { learnerId: a.id })).length).toBe(0);
    expect([...(await store.getBaseline(T, 'p1', 'Attendance')).keys()]).toEqual(['other']);
    expect(await store.listCompletions(T, 'p1')).toEqual([]);
    await store.deleteLearner(T, (await store.learnerByEmail(T, 'race@example.com'))!.id);
    expect(await store.learnerByEmail(T, 'race@example.com')).toBeUndefined();
  });
});

describe.each(backends)('Upgrading a store with learners to migration 004 on $name', ({ name, skip }) => {
  const test = skip ? it.skip : it;
  if (skip) it.skip(`(skipped: ${skip})`, () => {});

  test('when a store at migration 003 holds learners and enrollments, then opening it flags the learners and, on SQLite, counts seats and learners as the enrollments say', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muster-upgrade-'));
    const db = name === 'postgres' ? await createTestDatabase() : null;
    const url = db ? db.url : `sqlite:${join(dir, 'muster.sqlite')}`;
    try {
      const k = new Kysely<any>({ dialect: db ? new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }) : new SqliteDialect({ database: new BetterSqlite3(join(dir, 'muster.sqlite')) }) });
      const migrator = new Migrator({ db: k, provider: migrationProvider(db ? 'postgres' : 'sqlite'), migrationTableName: 'muster_migrations', migrationLockTableName: 'muster_migrations_lock' });
      expect((await migrator.migrateTo('003_jobs_kind_index')).error).toBeUndefined();
      const learners: Learner[] = Array.from({ length: 1500 }, (_, i) => ({
        id: `l${i}`, tenantId: T, email: `p${i}@example.com`, name: `P ${i}`, managerEmail: i % 3 ? 'm@example.com' : null, zone: i % 500 === 3 ? 'Nowhere' : 'Europe/Berlin', department: null, language: 'en', undeliverable: false,
      }));
      for (let i = 0; i < learners.length; i += 300) {
        await k.insertInto('learners').values(learners.slice(i, i + 300).map((l) => ({ tenant_id: T, id: l.id, email: l.email, data: JSON.stringify(l), updated_at: NOW }))).execute();
        await k.insertInto('enrollments').values(learners.slice(i, i + 300).map((l, j) => ({ tenant_id: T, id: `e${i + j}`, program_id: 'p1', session_id: `s${(i + j) % 3}`, learner_id: l.id, status: (i + j) % 10 === 0 ? 'cancelled' : (i + j) % 7 === 0 ? 'waitlisted' : 'enrolled', wait_position: null, rsvp: 'none', attendance: null, enrolled_at: NOW, updated_at: NOW }))).execute();
      }
      await k.destroy();

      const store = await Store.open(url);
      try {
        const flags = await store.db.selectFrom('learners').select(['id', 'flags']).where('tenant_id', '=', T).execute();
        expect(flags).toHaveLength(1500);
        const expected = new Map(learners.map((l) => [l.id, (l.managerEmail ? 0 : 4) | (l.zone === 'Nowhere' ? 2 : 0)]));
        expect(Object.fromEntries(flags.map((f) => [f.id, Number(f.flags)]))).toEqual(Object.fromEntries(expected));
        const facts = await store.checklistRoster(T, 'p1', { instructors: [], overlapMine: [], overlapAny: [], programOrder: ['p1'] });
        const all = await store.listEnrollments(T, { programId: 'p1' });
        expect(facts.activeLearners).toBe(all.filter((e) => e.status !== 'cancelled').length);
        for (const sid of ['s0', 's1', 's2']) {
          expect(facts.seats[sid]).toEqual({ enrolled: all.filter((e) => e.sessionId === sid && e.status === 'enrolled').length, waitlisted: all.filter((e) => e.sessionId === sid && e.status === 'waitlisted').length });
        }
        expect(facts.fields.manager.count).toBe(learners.filter((l, i) => !l.managerEmail && i % 10 !== 0).length);
        expect(facts.fields.zone).toEqual({ count: 3, names: ['P 1003', 'P 3', 'P 503'] });
      } finally {
        await store.close();
      }
    } finally {
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
