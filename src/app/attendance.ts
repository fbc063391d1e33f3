// Attendance and completion use cases: mark who came, record who completed; the records and /reports follow from the store.
import { MusterError, type ErrorDetail } from '../domain/errors.js';
import type { Attendance, Completion } from '../domain/types.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { getProgramOrThrow, getSessionOrThrow } from './programs.js';
import { enqueueRecordsSync } from './jobs.js';

export interface AttendanceEntry {
  sessionId: string;
  email: string;
  attendance: Attendance;
}

/** Marks attendance for learners of a program's sessions; an entry that matches no enrollment is reported with its index, not skipped silently. */
export async function markAttendance(ctx: AppContext, actor: Actor, programId: string, entries: AttendanceEntry[]): Promise<{ updated: number }> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const now = nowIso(ctx);
  const problems: ErrorDetail[] = [];
  const updates: Array<{ id: string; attendance: Attendance }> = [];
  for (const [i, e] of entries.entries()) {
    // One indexed read per entry: the session, and the learner's enrollment in it if any.
    const found = await ctx.store.sessionEnrollmentByEmail(actor.tenantId, e.sessionId, e.email);
    if (!found || found.session.programId !== program.id) {
      problems.push({ field: `entries.${i}.sessionId`, message: `no session ${e.sessionId} in ${program.code}` });
      continue;
    }
    const { session, enrollment } = found;
    if (!enrollment || enrollment.status === 'cancelled') {
      problems.push({ field: `entries.${i}.email`, message: `${e.email} is not enrolled in ${session.label}` });
      continue;
    }
    updates.push({ id: enrollment.id, attendance: e.attendance });
  }
  if (problems.length > 0) throw new MusterError('VALIDATION_FAILED', `Attendance was not recorded: ${problems.map((p) => p.message).join('; ')}`, { details: problems });
  await ctx.store.tx(async (st) => {
    for (const u of updates) {
      await st.updateEnrollment(actor.tenantId, u.id, { attendance: u.attendance }, now);
      await st.audit({ ...actor, action: 'attendance.mark', entity: 'enrollment', entityId: u.id, detail: { attendance: u.attendance } }, now);
    }
  });
  await enqueueRecordsSync(ctx, program);
  return { updated: updates.length };
}

export async function markSessionAttendance(ctx: AppContext, actor: Actor, sessionId: string, entries: Array<{ email: string; attendance: Attendance }>): Promise<{ updated: number }> {
  const session = await getSessionOrThrow(ctx, actor.tenantId, sessionId);
  return markAttendance(ctx, actor, session.programId, entries.map((e) => ({ ...e, sessionId })));
}

/** Records completion (with an optional assessment score); a null completedAt clears it. */
export async function recordCompletion(ctx: AppContext, actor: Actor, programId: string, entries: Array<{ email: string; completedAt: string | null; score: number | null }>): Promise<{ updated: number }> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const now = nowIso(ctx);
  const problems: ErrorDetail[] = [];
  const existing = new Map((await ctx.store.listCompletions(actor.tenantId, program.id)).map((c) => [c.learnerId, c]));
  const rows: Completion[] = [];
  for (const [i, e] of entries.entries()) {
    const learner = await ctx.store.learnerByEmail(actor.tenantId, e.email);
    if (!learner) {
      problems.push({ field: `entries.${i}.email`, message: `${e.email} is not on the roster` });
      continue;
    }
    const completedAt = e.completedAt ? new Date(e.completedAt.length === 10 ? `${e.completedAt}T12:00:00Z` : e.completedAt).toISOString() : null;
    rows.push({ tenantId: actor.tenantId, programId: program.id, learnerId: learner.id, completedAt, score: e.score, dueAt: existing.get(learner.id)?.dueAt ?? null });
  }
  if (problems.length > 0) throw new MusterError('VALIDATION_FAILED', `Completion was not recorded: ${problems.map((p) => p.message).join('; ')}`, { details: problems });
  await ctx.store.tx(async (st) => {
    for (const r of rows) {
      await st.upsertCompletion(r, now);
      if (r.completedAt) await st.cancelPendingJobs(actor.tenantId, { programId: program.id, learnerId: r.learnerId, kinds: ['completion-due', 'overdue-escalation'] }, 'completed', now);
      await st.audit({ ...actor, action: 'completion.record', entity: 'learner', entityId: r.learnerId, detail: { completedAt: r.completedAt, scored: r.score !== null } }, now);
    }
  });
  if (program.policy.recertifyAfterDays != null && program.status === 'launched') {
    const { planCompletionJobs } = await import('../domain/schedule.js');
    for (const r of rows) {
      const learner = (await ctx.store.getLearner(actor.tenantId, r.learnerId))!;
      const plan = planCompletionJobs({ program, learner, lastSessionEnd: null, completion: r, now });
      await ctx.store.addJobs(actor.tenantId, plan.jobs.map((j) => ({ key: j.key, kind: j.kind, programId: program.id, sessionId: null, learnerId: j.learnerId, runAt: j.runAt, payload: { offsetMinutes: j.offsetMinutes } })), now);
    }
  }
  await enqueueRecordsSync(ctx, program);
  return { updated: rows.length };
}
