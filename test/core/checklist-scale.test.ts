// The launch checklist on programs of thousands of learners, on SQLite and PostgreSQL: the indexed reads give exactly the items the whole-roster reads gave before.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { programChecklist } from '../../src/app/checklist.js';
import type { AppContext } from '../../src/app/context.js';
import { computeChecklist } from '../../src/domain/checklist.js';
import { MusterError } from '../../src/domain/errors.js';
import { DEFAULT_POLICY } from '../../src/domain/program.js';
import type { JobKind } from '../../src/domain/schedule.js';
import type { ChecklistItem, Enrollment, Learner, Program, Session } from '../../src/domain/types.js';
import type { BusyInterval } from '../../src/ports/index.js';
import { Store } from '../../src/store/store.js';
import { createTestDatabase, pgUnavailableReason, type TestDatabase } from '../support/pg.js';

const SCHEDULE_KINDS = new Set(['reminder', 'prerequisite', 'catch-up', 'follow-up', 'completion-due', 'overdue-escalation', 'recertify', 'digest']);

/** The checklist as it was computed before it read from indexes (every list loaded whole), kept here as the oracle. */
async function checklistBefore(ctx: AppContext, program: Program, opts: { withProviders: boolean }): Promise<ChecklistItem[]> {
  const t = program.tenantId;
  const now = ctx.clock.now();
  const providers = await ctx.providersFor(t);
  const sessions = await ctx.store.listSessions(t, program.id);
  const enrollments = await ctx.store.listEnrollments(t, { programId: program.id });
  const learners = await ctx.store.learnersForProgram(t, program.id);
  const otherSessions: Session[] = [];
  const otherEnrollments: Enrollment[] = [];
  for (const p of await ctx.store.listPrograms(t)) {
    if (p.id === program.id || p.status === 'archived') continue;
    otherSessions.push(...(await ctx.store.listSessions(t, p.id)));
    otherEnrollments.push(...(await ctx.store.listEnrollments(t, { programId: p.id })));
  }
  const pending = program.status === 'launched' ? await ctx.store.listJobs(t, { programId: program.id, status: ['pending', 'done', 'running'] }) : [];
  const scheduledJobKinds = program.status === 'launched' ? [...new Set(pending.map((j) => j.kind).filter((k) => SCHEDULE_KINDS.has(k)))] as JobKind[] : undefined;

  const sentToday = await ctx.store.countSends(providers.sender.email, new Date(now.getTime() - 24 * 3600_000).toISOString());
  const dailyUsedFraction = Math.max(sentToday / providers.limits.perDay, sentToday / providers.limits.recipientsPerDay);

  const providerItems: ChecklistItem[] = [];
  let busy: Record<string, BusyInterval[]> | undefined;
  if (opts.withProviders) {
    try {
      providerItems.push(...(await providers.calendar.readiness()));
      const scheduled = sessions.filter((s) => s.status === 'scheduled');
      const instructors = [...new Set(scheduled.flatMap((s) => s.instructors))];
      if (instructors.length > 0 && scheduled.length > 0) {
        const from = scheduled[0]!.start;
        const to = scheduled[scheduled.length - 1]!.end;
        const map = await providers.calendar.freeBusy(instructors, from, to);
        // Busy time that is this program's own event is not a conflict.
        busy = Object.fromEntries([...map].map(([email, intervals]) => [email, intervals.filter((i) => !scheduled.some((s) => s.start === i.start && s.end === i.end))]));
      }
    } catch (err) {
      if (!(err instanceof MusterError)) throw err;
      providerItems.push({ id: 'provider.reachable', area: 'provider', status: err.code === 'PROVIDER_AUTH_FAILED' ? 'blocking' : 'warning', reason: `Muster could not check the calendar: ${err.message}`, owner: program.owner, signedOff: null });
    }
  }
  const tenant = await ctx.store.getTenant(t);
  if (tenant && tenant.consent_state === 'failed') {
    providerItems.push({ id: 'provider.credentials', area: 'provider', status: 'blocking', reason: `Muster's access to ${tenant.provider === 'google' ? 'Google Workspace' : 'Microsoft 365'} stopped working (consent revoked or credentials expired); jobs are paused until an admin fixes it`, owner: program.owner, signedOff: null });
  }
  if (!providers.directory && providers.calendar.provider === 'google') {
    providerItems.push({ id: 'provider.directory', area: 'provider', status: 'warning', reason: 'No directory administrator is configured: managers come from the roster\'s Manager Email column and enrolling a whole group is off', owner: program.owner, signedOff: null });
  }
  if (providers.calendar.provider === 'microsoft') {
    // Exchange Online caps an event at 500 attendees: such a session must be split before it can be one meeting.
    for (const s of sessions.filter((x) => x.status === 'scheduled')) {
      const seats = enrollments.filter((e) => e.sessionId === s.id && e.status === 'enrolled').length + s.instructors.length + (s.roomEmail ? 1 : 0);
      if (seats > 500) {
        providerItems.push({ id: `sessions.${s.id}.attendee-limit`, area: 'sessions', status: 'blocking', reason: `Session '${s.label}' has ${seats} attendees; an Outlook meeting holds at most 500. Split it into smaller sessions (lower its capacity and add a session).`, owner: program.owner, signedOff: null });
      }
    }
  }
  const messages = await ctx.store.listMessages(t, { programId: program.id, status: ['unknown', 'failed'] });
  const unknown = messages.filter((m) => m.status === 'unknown');
  if (unknown.length > 0) {
    providerItems.push({ id: 'sending.unknown', area: 'sending', status: 'warning', reason: `${unknown.length} message(s) may or may not have arrived (the mail server did not confirm); Muster did not resend them: ${unknown.slice(0, 5).map((m) => `${m.kind} to ${m.recipient}`).join(', ')}`, owner: program.owner, signedOff: null });
  }
  const failedMail = messages.filter((m) => m.status === 'failed');
  if (failedMail.length > 0) {
    providerItems.push({ id: 'sending.failed', area: 'sending', status: 'warning', reason: `${failedMail.length} message(s) could not be sent: ${failedMail.slice(0, 3).map((m) => `${m.kind} to ${m.recipient} (${m.error ?? 'rejected'})`).join('; ')}`, owner: program.owner, signedOff: null });
  }
  const failedJobs = program.status === 'launched' ? await ctx.store.listJobs(t, { programId: program.id, status: ['failed'] }) : [];
  if (failedJobs.length > 0) {
    providerItems.push({ id: 'schedule.failed', area: 'schedule', status: 'blocking', reason: `${failedJobs.length} scheduled task(s) failed: ${failedJobs.slice(0, 3).map((j) => `${j.kind} (${j.last_error ?? 'error'})`).join('; ')}`, owner: program.owner, signedOff: null });
  }
  const conflicts = await ctx.store.getBaseline(t, program.id, '#conflicts');
  if (conflicts.size > 0) {
    providerItems.push({ id: 'records.conflicts', area: 'provider', status: 'warning', reason: `${conflicts.size} cell(s) in the records were edited by hand where Muster also writes; they were kept, not overwritten: ${[...conflicts.values()].slice(0, 3).map((c) => `${c.tab} ${c.column} "${c.theirs}"`).join(', ')}`, owner: program.owner, signedOff: null });
  }
  const undeliverable = learners.filter((l) => l.undeliverable);
  if (undeliverable.length > 0) {
    providerItems.push({ id: 'roster.undeliverable', area: 'roster', status: 'warning', reason: `Mail to ${undeliverable.length} learner(s) bounced: ${undeliverable.slice(0, 5).map((l) => l.email).join(', ')}`, owner: program.owner, signedOff: null });
  }
  const rejects = await ctx.store.listRosterRejects(t, program.id);
  if (rejects.length > 0) {
    providerItems.push({ id: 'roster.rejected-rows', area: 'roster', status: 'warning', reason: `${rejects.length} roster row(s) were not imported and wait for correction: ${rejects.slice(0, 3).map((r) => `row ${r.rowNumber} (${r.reasons.map((x) => x.message).join(', ')})`).join('; ')}`, owner: program.owner, signedOff: null });
  }
  if (program.showScoresToManagers && providers.calendar.provider === 'google') {
    providerItems.push({ id: 'records.scores-visible', area: 'provider', status: 'warning', reason: 'The shared Sheet shows assessment scores to everyone who can open it; filter views do not hide rows', owner: program.owner, signedOff: null });
  }

  const items = computeChecklist(
    {
      program,
      sessions,
      learners,
      enrollments,
      signoffs: await ctx.store.listSignoffs(t, program.id),
      ...(scheduledJobKinds ? { scheduledJobKinds } : {}),
      ...(busy ? { busy } : {}),
      otherSessions,
      otherEnrollments,
      observedNames: { mailSubjects: (await ctx.store.listMessages(t, { programId: program.id })).slice(-50).map((m) => ({ key: m.key, subject: m.subject })) },
      mailboxes: [{ mailbox: providers.sender.email, dailyUsedFraction }],
      providerItems,
      improvementNotes: await ctx.store.listImprovementNotes(t, program.id),
    },
    now,
  );
  // Subjects that kept their canonical name are not worth a line each.
  return items.filter((i) => !(i.id.startsWith('naming.mail.') && i.status === 'ok'));
}

const NOW = new Date('2031-01-06T08:00:00.000Z');
const day = (d: number, h = 9) => new Date(Date.UTC(2031, 0, 20 + d, h)).toISOString();
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function program(id: string, tenantId: string, over: Partial<Program> = {}): Program {
  return {
    id, tenantId, name: `Program ${id}`, code: id.toUpperCase(), owner: 'owner@example.com', audience: 'Everyone', agenda: 'a', materials: [], reviewWindowDays: 180, assessmentName: null,
    policy: { ...DEFAULT_POLICY }, owners: { missedSessions: null, lateCompletions: null, questions: null, improvements: null }, showScoresToManagers: false, enrollmentPath: null,
    rosterApproved: true, status: 'launched', clonedFrom: null, createdAt: NOW.toISOString(), ...over,
  };
}

function session(id: string, p: Program, start: string, over: Partial<Session> = {}): Session {
  return {
    id, tenantId: p.tenantId, programId: p.id, label: `Cohort ${id}`, start, end: new Date(Date.parse(start) + 2 * 3600_000).toISOString(), zone: 'Europe/Berlin', room: 'Room 1', roomEmail: null,
    onlineUrl: null, backupPlan: 'Room 2', instructors: [], capacity: 70, status: 'scheduled', generation: 1, sequence: 0, ...over,
  };
}

/**
 * Seeds program A (3,000 learners over 40 sessions, some waitlisted or cancelled, some with a bad email, zone or
 * manager or bounced mail, some stored before learners were flagged), program B whose sessions overlap A's with
 * learners in both, an archived program C that overlaps too, instructors who are learners, failed and unknown mail,
 * failed jobs, rejected rows and a sign-off.
 */
async function seed(store: Store, t: string): Promise<{ a: Program; active: number }> {
  const now = NOW.toISOString();
  const a = program('pa', t);
  const b = program('pb', t, { createdAt: new Date(NOW.getTime() + 1000).toISOString() });
  const c = program('pc', t, { status: 'archived' });
  for (const p of [a, b, c]) await store.insertProgram(p);
  const sa = Array.from({ length: 40 }, (_, i) => session(`a${i}`, a, day(Math.floor(i / 4), 8 + (i % 4) * 2), i % 9 === 0 || i === 4 ? { instructors: [`learner${i}@example.com`, 'Trainer@Example.com'] } : {}));
  sa.push(session('a-cancelled', a, day(1), { status: 'cancelled' }), session('a-past', a, new Date(NOW.getTime() - 86_400_000).toISOString()));
  const sb = [session('b0', b, day(0, 9), { instructors: ['learner0@example.com'] }), session('b1', b, day(1, 8), { instructors: ['LEARNER4@example.com'] }), session('b2', b, day(30))];
  const sc = [session('c0', c, day(0, 8))];
  for (const s of [...sa, ...sb, ...sc]) await store.insertSession(s, now);

  const learners: Learner[] = Array.from({ length: 3000 }, (_, i) => ({
    id: `L${String((i * 7919) % 3001).padStart(5, '0')}`, tenantId: t, email: i % 401 === 0 ? `bad address ${i}` : `learner${i}@example.com`, name: i % 777 === 0 ? '' : `Learner ${i}`,
    managerEmail: i % 50 === 0 ? null : `manager${i % 30}@example.com`, zone: i % 333 === 0 ? 'Mars/Base' : 'Europe/Berlin', department: null, language: 'en', undeliverable: i % 123 === 0,
  }));
  learners.push({ id: 'trainer', tenantId: t, email: 'trainer@example.com', name: 'Tina Trainer', managerEmail: 'm@example.com', zone: 'Europe/Berlin', department: null, language: 'en', undeliverable: false });
  // Most rows as the store writes them (flagged), every 11th as an older install left it (flags unknown).
  const flagged = learners.filter((_, i) => i % 11 !== 0).map((l) => Store.learnerRow(l, now));
  const unflagged = learners.filter((_, i) => i % 11 === 0).map((l) => ({ tenant_id: t, id: l.id, email: l.email, data: JSON.stringify(l), updated_at: now }));
  for (let i = 0; i < flagged.length; i += 400) await store.db.insertInto('learners').values(flagged.slice(i, i + 400)).execute();
  for (let i = 0; i < unflagged.length; i += 400) await store.db.insertInto('learners').values(unflagged.slice(i, i + 400)).execute();

  const enrollments: Enrollment[] = [];
  const at = (i: number) => new Date(NOW.getTime() - 86_400_000 + (i % 500) * 1000).toISOString();
  learners.forEach((l, i) => {
    const status = i % 61 === 0 ? 'waitlisted' : i % 89 === 0 ? 'cancelled' : 'enrolled';
    enrollments.push({ id: `ea${i}`, tenantId: t, programId: a.id, sessionId: sa[i % sa.length]!.id, learnerId: l.id, status, waitPosition: status === 'waitlisted' ? i : null, rsvp: 'none', attendance: null, enrolledAt: at(i) });
    if (i % 10 === 0 && i < 600) enrollments.push({ id: `eb${i}`, tenantId: t, programId: b.id, sessionId: sb[i % 20 === 0 ? 0 : 1]!.id, learnerId: l.id, status: 'enrolled', waitPosition: null, rsvp: 'none', attendance: null, enrolledAt: at(i + 7) });
    if (i % 13 === 0 && i < 300) enrollments.push({ id: `ec${i}`, tenantId: t, programId: c.id, sessionId: 'c0', learnerId: l.id, status: 'enrolled', waitPosition: null, rsvp: 'none', attendance: null, enrolledAt: at(i) });
  });
  const eRows = enrollments.map((e) => ({ tenant_id: t, id: e.id, program_id: e.programId, session_id: e.sessionId, learner_id: e.learnerId, status: e.status, wait_position: e.waitPosition, rsvp: e.rsvp, attendance: e.attendance, enrolled_at: e.enrolledAt, updated_at: now }));
  for (let i = 0; i < eRows.length; i += 400) await store.db.insertInto('enrollments').values(eRows.slice(i, i + 400)).execute();

  await store.addJobs(t, learners.slice(0, 300).map((l, i) => ({ key: `reminder:${l.id}:${i}`, kind: 'reminder', programId: a.id, sessionId: sa[i % 40]!.id, learnerId: l.id, runAt: day(0), payload: {} })), now);
  await store.addJobs(t, [{ key: 'fu:1', kind: 'follow-up', programId: a.id, sessionId: null, learnerId: null, runAt: day(2), payload: {} }], now);
  const failing = await store.addJobs(t, Array.from({ length: 6 }, (_, i) => ({ key: `digest:${i}`, kind: 'digest', programId: a.id, sessionId: null, learnerId: null, runAt: day(-10 + i), payload: {} })), now);
  expect(failing).toBe(6);
  for (const j of await store.listJobs(t, { programId: a.id, kind: 'digest' })) await store.db.updateTable('jobs').set({ status: 'failed', last_error: `quota ${j.key}` }).where('tenant_id', '=', t).where('id', '=', j.id).execute();

  for (let i = 0; i < 80; i++) {
    const status = i % 7 === 0 ? 'unknown' : i % 5 === 0 ? 'failed' : 'sent';
    await store.reserveMessage({ tenant_id: t, id: randomUUID(), key: `m${String(i).padStart(3, '0')}`, program_id: a.id, session_id: null, learner_id: null, kind: i % 2 ? 'reminder' : 'invite', recipient: `learner${i}@example.com`, subject: `Subject ${i}`, provider: 'local', mailbox: 'muster@localhost', message_id: `<m${i}@x>`, created_at: new Date(NOW.getTime() - 3600_000 + (i % 40) * 1000).toISOString() });
    await store.updateMessage(t, `m${String(i).padStart(3, '0')}`, { status, ...(status === 'failed' ? { error: `rejected ${i}` } : {}), ...(status !== 'failed' ? { sent_at: now } : {}) });
  }
  await store.insertRosterRejects(t, Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, programId: a.id, source: 'csv', rowNumber: 10 - i, data: { Email: `x${i}` }, reasons: [{ field: 'Email', message: `bad ${i}` }], createdAt: now })));
  await store.putSignoff(t, a.id, 'roster.learner-fields', 'owner@example.com', 'known', now);
  return { a, active: new Set(enrollments.filter((e) => e.programId === a.id && e.status !== 'cancelled').map((e) => e.learnerId)).size };
}

const pgSkip = await pgUnavailableReason();
const backends = [
  { name: 'sqlite', skip: null as string | null },
  { name: 'postgres', skip: pgSkip },
];

describe.each(backends)('checklist of a program with thousands of learners on $name', ({ name, skip }) => {
  let rt: Runtime;
  let db: TestDatabase | null = null;
  let dir: string;
  let a: Program;
  let active: number;

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'muster-checklist-'));
    if (name === 'postgres') db = await createTestDatabase();
    const config = loadConfig({ MUSTER_DATA_DIR: dir, MUSTER_LOG_LEVEL: 'silent', MUSTER_WORKER: 'off', MUSTER_SEED_DEMO: 'false', ...(db ? { DATABASE_URL: db.url } : {}) });
    rt = await createRuntime(config, { logger: silent, clock: { now: () => new Date(NOW) } });
    ({ a, active } = await seed(rt.ctx.store, config.MUSTER_TENANT));
  }, 120_000);
  afterAll(async () => {
    if (skip) return;
    await rt?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const test = skip ? it.skip : it;
  if (skip) it.skip(`(skipped: ${skip})`, () => {});

  test('when the checklist is computed, then it has exactly the items, statuses, reasons, owners and sign-offs of the whole-roster computation', async () => {
    const before = await checklistBefore(rt.ctx, a, { withProviders: false });
    const after = await programChecklist(rt.ctx, a, { withProviders: false });
    expect(after).toEqual(before);
    const byId = Object.fromEntries(after.map((i) => [i.id, i]));
    // The data above is meant to exercise every roster-derived item, not to pass with empty lists.
    expect(active).toBeGreaterThan(2900);
    expect(byId['roster.learners']!.reason).toBe(`${active} learners are enrolled or waiting`);
    expect(byId['roster.learner-fields']).toMatchObject({ status: 'ok', signedOff: { by: 'owner@example.com' } });
    expect(byId['roster.learner-fields']!.reason).toMatch(/no valid email address; .* and \d+ more have no valid time zone; .* and \d+ more have no manager on record; Mail to .* bounced/);
    expect(byId['sessions.learner-conflicts']).toMatchObject({ status: 'blocking' });
    expect(byId['sessions.instructor-conflicts']!.reason).toContain('Learner 4 is in two sessions at once');
    expect(byId['sessions.a1.capacity']!.reason).toMatch(/^Session 'Cohort a1': \d+ of 70 seats taken, \d+ waiting$/);
    expect(byId['roster.undeliverable']!.reason).toMatch(/^Mail to 25 learner\(s\) bounced: /);
    expect(byId['sending.unknown']!.status).toBe('warning');
    expect(byId['sending.failed']!.reason).toMatch(/^\d+ message\(s\) could not be sent: /);
    expect(byId['schedule.failed']!.reason).toMatch(/^6 scheduled task\(s\) failed: digest \(quota digest:0\)/);
    expect(byId['roster.rejected-rows']!.reason).toMatch(/^5 roster row\(s\) were not imported/);
  });

  test('when learners change through the store, then their flags follow and the checklist still matches', async () => {
    const t = a.tenantId;
    const l = (await rt.ctx.store.learnerByEmail(t, 'learner50@example.com'))!;
    await rt.ctx.store.updateLearner({ ...l, managerEmail: 'boss@example.com', undeliverable: true }, NOW.toISOString());
    const fresh = await rt.ctx.store.upsertLearner({ tenantId: t, email: 'New.Person@Example.com', name: 'New Person', managerEmail: null, zone: 'Nowhere/Land', department: null, language: 'en', undeliverable: false }, NOW.toISOString());
    await rt.ctx.store.insertEnrollment({ id: 'e-new', tenantId: t, programId: a.id, sessionId: 'a3', learnerId: fresh.id, status: 'enrolled', waitPosition: null, rsvp: 'none', attendance: null, enrolledAt: NOW.toISOString() });
    const before = await checklistBefore(rt.ctx, a, { withProviders: false });
    expect(await programChecklist(rt.ctx, a, { withProviders: false })).toEqual(before);
    const flags = await rt.ctx.store.db.selectFrom('learners').select(['email', 'flags']).where('tenant_id', '=', t).where('email', 'in', ['learner50@example.com', 'new.person@example.com', 'learner1@example.com']).orderBy('email').execute();
    expect(flags.map((f) => [f.email, Number(f.flags)])).toEqual([['learner1@example.com', 0], ['learner50@example.com', 8], ['new.person@example.com', 6]]);
  });

  test('when enrollments are cancelled, moved, restored and erased, then seats and learners counted stay those of the enrollments themselves', async () => {
    const t = a.tenantId;
    const st = rt.ctx.store;
    const now = NOW.toISOString();
    const mine = await st.listEnrollments(t, { programId: a.id });
    for (const e of mine.slice(0, 40)) await st.updateEnrollment(t, e.id, { status: 'cancelled' }, now);
    for (const e of mine.slice(20, 30)) await st.updateEnrollment(t, e.id, { status: 'waitlisted', waitPosition: 1 }, now);
    for (const e of mine.filter((x) => x.status === 'waitlisted').slice(0, 5)) await st.updateEnrollment(t, e.id, { status: 'enrolled', waitPosition: null }, now);
    for (const e of mine.slice(100, 110)) await st.db.updateTable('enrollments').set({ session_id: 'a5' }).where('tenant_id', '=', t).where('id', '=', e.id).execute();
    for (const e of mine.slice(200, 203)) {
      const l = (await st.getLearner(t, e.learnerId))!;
      await st.eraseLearnerRows(t, l.id, l.email, l.name);
    }
    // A second enrollment for a learner already in the program counts one learner, not two.
    await st.insertEnrollment({ ...mine[300]!, id: 'e-second', sessionId: 'a7', enrolledAt: now });

    const all = await st.listEnrollments(t, { programId: a.id });
    const seats: Record<string, { enrolled: number; waitlisted: number }> = {};
    for (const e of all) {
      if (e.status === 'cancelled') continue;
      const x = (seats[e.sessionId] ??= { enrolled: 0, waitlisted: 0 });
      if (e.status === 'enrolled') x.enrolled++;
      else x.waitlisted++;
    }
    const facts = await st.checklistRoster(t, a.id, { instructors: [], overlapMine: [], overlapAny: [], programOrder: [a.id] });
    expect(facts.activeLearners).toBe(new Set(all.filter((e) => e.status !== 'cancelled').map((e) => e.learnerId)).size);
    expect(facts.seats).toEqual(seats);
    expect(await programChecklist(rt.ctx, a, { withProviders: false })).toEqual(await checklistBefore(rt.ctx, a, { withProviders: false }));
  });
});
