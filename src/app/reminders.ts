// Coordinator actions on reminders: preview who gets what, send a reminder now, nudge those who have not answered.
import { randomUUID } from 'node:crypto';
import { MusterError } from '../domain/errors.js';
import type { Session } from '../domain/types.js';
import type { NewJob } from '../store/store.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { composeLearnerMessage } from './compose.js';
import { getProgramOrThrow, getSessionOrThrow } from './programs.js';
import { runDue, type RunSummary } from './jobs.js';

export interface PreviewLine {
  to: string;
  name: string;
  kind: string;
  subject: string;
  sendAt: string;
  sessionId: string | null;
}

/** What Muster will send next for a program (or one session): pending jobs with the subject each learner will see. */
export async function previewReminders(ctx: AppContext, tenantId: string, programId: string, sessionId?: string, limit = 500): Promise<PreviewLine[]> {
  const program = await getProgramOrThrow(ctx, tenantId, programId);
  const providers = await ctx.providersFor(tenantId);
  const jobs = (await ctx.store.listJobs(tenantId, { programId: program.id, status: ['pending'], ...(sessionId ? { sessionId } : {}) })).filter((j) => j.learner_id);
  const out: PreviewLine[] = [];
  const sessions = new Map((await ctx.store.listSessions(tenantId, program.id)).map((s) => [s.id, s]));
  for (const j of jobs.slice(0, limit)) {
    const learner = await ctx.store.getLearner(tenantId, j.learner_id!);
    if (!learner) continue;
    const session = j.session_id ? sessions.get(j.session_id) ?? null : null;
    const enrollment = session ? (await ctx.store.listEnrollments(tenantId, { sessionId: session.id, learnerId: learner.id }))[0] ?? null : null;
    let subject = j.kind;
    try {
      const kind = j.kind === 'follow-up' ? 'follow-up-present' : j.kind === 'overdue-escalation' ? 'completion-due' : j.kind;
      subject = (await composeLearnerMessage(ctx, providers, { kind, program, session, learner, enrollment, extra: JSON.parse(j.payload) as Record<string, unknown> })).subject;
    } catch (err) {
      if (!(err instanceof MusterError)) throw err;
    }
    out.push({ to: j.kind === 'overdue-escalation' ? learner.managerEmail ?? '' : learner.email, name: learner.name, kind: j.kind, subject, sendAt: j.run_at, sessionId: j.session_id });
  }
  return out;
}

async function sendNowFor(ctx: AppContext, actor: Actor, sessions: Session[], kind: 'reminder-now' | 'nudge'): Promise<RunSummary> {
  const now = nowIso(ctx);
  const batch = randomUUID();
  let queued = 0;
  for (const session of sessions) {
    if (session.status !== 'scheduled') continue;
    const enrollments = await ctx.store.listEnrollments(actor.tenantId, { sessionId: session.id, status: 'enrolled' });
    const jobs: NewJob[] = enrollments
      .filter((e) => kind === 'reminder-now' || e.rsvp === 'none')
      .map((e) => ({ key: `${kind}:${e.learnerId}:${session.id}:${batch}`, kind, programId: session.programId, sessionId: session.id, learnerId: e.learnerId, runAt: now, payload: {} }));
    queued += await ctx.store.addJobs(actor.tenantId, jobs, now);
    await ctx.store.audit({ ...actor, action: kind === 'nudge' ? 'reminders.nudge' : 'reminders.send-now', entity: 'session', entityId: session.id, detail: { queued: jobs.length } }, now);
  }
  if (queued === 0) return { ran: 0, sent: 0, skipped: 0, deferred: 0, failed: 0, unknown: 0 };
  return runDue(ctx, { tenantId: actor.tenantId });
}

export async function sendRemindersNow(ctx: AppContext, actor: Actor, target: { programId?: string; sessionId?: string }): Promise<RunSummary> {
  if (target.sessionId) return sendNowFor(ctx, actor, [await getSessionOrThrow(ctx, actor.tenantId, target.sessionId)], 'reminder-now');
  const program = await getProgramOrThrow(ctx, actor.tenantId, target.programId!);
  if (program.status !== 'launched') throw new MusterError('CONFLICT', `${program.code} is not launched yet; launch it before sending reminders`);
  const upcoming = (await ctx.store.listSessions(actor.tenantId, program.id)).filter((s) => s.status === 'scheduled' && Date.parse(s.start) > ctx.clock.now().getTime());
  return sendNowFor(ctx, actor, upcoming.slice(0, 1), 'reminder-now');
}

export async function nudgeNonResponders(ctx: AppContext, actor: Actor, sessionId: string): Promise<RunSummary> {
  return sendNowFor(ctx, actor, [await getSessionOrThrow(ctx, actor.tenantId, sessionId)], 'nudge');
}
