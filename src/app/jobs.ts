// The durable job queue's producers and its runner: what must happen when, run at most once per key, retried by the vendor's word.
import { randomUUID } from 'node:crypto';
import { isMusterError, MusterError } from '../domain/errors.js';
import { completionDueAt, followUpFor, planCompletionJobs, planDigestJob, planSessionJobs, rescheduleForMove, type PlannedJob } from '../domain/schedule.js';
import type { Enrollment, Learner, Program, Session } from '../domain/types.js';
import type { NewJob, JobRow } from '../store/store.js';
import type { AppContext, ProviderSet } from './context.js';
import { nowIso } from './context.js';
import { composeLearnerMessage, composeManagerMessage } from './compose.js';
import { deliver, prepareDelivery, recordDelivery, type Delivery, type DeliveryResult, type PreparedSend } from './messaging.js';
import type { SendOutcome } from '../ports/index.js';
import { cancelSessionEvent, ensureSessionEvent, toSessionEvent, updateSessionEvent } from './events.js';
import { syncRecords } from './records-sync.js';

/** Kinds a learner receives before a session; when several are due at once only the latest is sent. */
const BEFORE_SESSION = new Set(['reminder', 'prerequisite', 'catch-up']);
const MAX_ATTEMPTS = 8;

export interface RunSummary {
  ran: number;
  sent: number;
  skipped: number;
  deferred: number;
  failed: number;
  unknown: number;
}

const toNewJob = (p: PlannedJob, programId: string): NewJob => ({
  key: p.key,
  kind: p.kind,
  programId,
  sessionId: p.sessionId,
  learnerId: p.learnerId,
  runAt: p.runAt,
  payload: { offsetMinutes: p.offsetMinutes, ...(p.managerEmail ? { managerEmail: p.managerEmail } : {}), ...(p.note ? { note: p.note } : {}) },
});

// ---- producers ---------------------------------------------------------------------------------

/** One pending calendar sync per session is enough: it reads the latest state when it runs. */
export async function enqueueEventSync(ctx: AppContext, program: Program, session: Session, opts: { cancelMessage?: string } = {}): Promise<void> {
  const now = nowIso(ctx);
  if (!opts.cancelMessage) {
    if (await ctx.store.hasPendingJob(session.tenantId, 'event-sync', { sessionId: session.id })) return;
  }
  await ctx.store.addJobs(session.tenantId, [
    {
      key: opts.cancelMessage ? `event-cancel:${session.id}:${session.generation}` : `event-sync:${session.id}:${randomUUID()}`,
      kind: opts.cancelMessage ? 'event-cancel' : 'event-sync',
      programId: program.id,
      sessionId: session.id,
      learnerId: null,
      runAt: now,
      payload: opts.cancelMessage ? { message: opts.cancelMessage, generation: session.generation } : {},
    },
  ], now);
  ctx.kickWorker();
}

export async function enqueueRecordsSync(ctx: AppContext, program: Program): Promise<void> {
  if (await ctx.store.hasPendingJob(program.tenantId, 'records-sync', { programId: program.id })) return;
  const now = nowIso(ctx);
  await ctx.store.addJobs(program.tenantId, [{ key: `records-sync:${program.id}:${randomUUID()}`, kind: 'records-sync', programId: program.id, sessionId: null, learnerId: null, runAt: now, payload: {} }], now);
  ctx.kickWorker();
}

/** Per-learner notices about a session change (moved, cancelled); the calendar update carries the new time. */
export async function enqueueSessionNotices(ctx: AppContext, program: Program, session: Session, kind: 'session-moved' | 'session-cancelled', opts: { includeWaitlisted?: boolean; message?: string } = {}): Promise<void> {
  const providers = await ctx.providersFor(session.tenantId);
  const enrollments = await ctx.store.listEnrollments(session.tenantId, { sessionId: session.id });
  const now = nowIso(ctx);
  const jobs: NewJob[] = [];
  for (const e of enrollments) {
    const enrolled = e.status === 'enrolled';
    const waiting = e.status === 'waitlisted';
    // A vendor calendar tells attendees itself; Muster writes to those it does not reach (the waitlist) and, locally, to all.
    const tell = providers.calendar.invitesByMail ? enrolled || (waiting && opts.includeWaitlisted) : waiting && opts.includeWaitlisted;
    if (!tell) continue;
    jobs.push({
      key: `${kind}:${e.learnerId}:${session.id}:${session.generation}:${session.sequence}`,
      kind,
      programId: program.id,
      sessionId: session.id,
      learnerId: e.learnerId,
      runAt: now,
      payload: { message: opts.message ?? '', waitlisted: waiting },
    });
  }
  if ((await ctx.store.addJobs(session.tenantId, jobs, now)) > 0) ctx.kickWorker();
}

/** Plans an enrolled learner's invite, reminders and follow-up for one session, and their completion jobs. */
export async function scheduleEnrollment(ctx: AppContext, program: Program, session: Session, learner: Learner, enrollment: Enrollment, opts: { promoted?: boolean } = {}): Promise<number> {
  if (program.status !== 'launched' || enrollment.status !== 'enrolled' || session.status !== 'scheduled') return 0;
  const providers = await ctx.providersFor(program.tenantId);
  const now = ctx.clock.now();
  const jobs: NewJob[] = [];
  if (providers.calendar.invitesByMail) {
    jobs.push({ key: `invite:${learner.id}:${session.id}:${session.generation}`, kind: opts.promoted ? 'waitlist-promoted' : 'invite', programId: program.id, sessionId: session.id, learnerId: learner.id, runAt: now.toISOString(), payload: {} });
  } else if (opts.promoted) {
    jobs.push({ key: `waitlist-promoted:${learner.id}:${session.id}:${session.generation}`, kind: 'waitlist-promoted', programId: program.id, sessionId: session.id, learnerId: learner.id, runAt: now.toISOString(), payload: {} });
  }
  const sessions = await ctx.store.listSessions(program.tenantId, program.id);
  const mine = await ctx.store.listEnrollments(program.tenantId, { programId: program.id, learnerId: learner.id, status: 'enrolled' });
  const mySessions = sessions.filter((s) => s.status === 'scheduled' && mine.some((e) => e.sessionId === s.id));
  const first = mySessions[0];
  const plan = planSessionJobs({ program, session, learner, enrollment, now, includePrerequisite: !first || first.id === session.id });
  jobs.push(...plan.jobs.map((j) => toNewJob(j, program.id)));
  for (const s of plan.skipped) ctx.logger.info('job.skipped', { key: s.key, reason: s.reason });
  const last = mySessions[mySessions.length - 1] ?? session;
  const completions = await ctx.store.listCompletions(program.tenantId, program.id);
  let completion = completions.find((c) => c.learnerId === learner.id) ?? null;
  const due = completionDueAt(program, learner, last.end, null);
  if (!completion?.completedAt && due && completion?.dueAt !== due) {
    // Completion is tracked from enrollment on: the due date follows the learner's last session.
    completion = { tenantId: program.tenantId, programId: program.id, learnerId: learner.id, completedAt: null, score: completion?.score ?? null, dueAt: due };
    await ctx.store.upsertCompletion(completion, now.toISOString());
  }
  const cplan = planCompletionJobs({ program, learner, lastSessionEnd: last.end, completion, now });
  jobs.push(...cplan.jobs.map((j) => toNewJob(j, program.id)));
  const added = await ctx.store.addJobs(program.tenantId, jobs, now.toISOString());
  if (added > 0) ctx.kickWorker();
  return added;
}

/** After a move: unsent reminders get their new times; sent ones are history. */
export async function replanSessionJobs(ctx: AppContext, program: Program, session: Session): Promise<void> {
  const now = ctx.clock.now();
  const enrollments = await ctx.store.listEnrollments(program.tenantId, { sessionId: session.id, status: 'enrolled' });
  const pendingRows = await ctx.store.listJobs(program.tenantId, { sessionId: session.id, status: ['pending'] });
  for (const e of enrollments) {
    const learner = await ctx.store.getLearner(program.tenantId, e.learnerId);
    if (!learner) continue;
    const mine = pendingRows.filter((j) => j.learner_id === learner.id && (BEFORE_SESSION.has(j.kind) || j.kind === 'follow-up'));
    const pending: PlannedJob[] = mine.map((j) => ({ key: j.key, kind: j.kind as PlannedJob['kind'], runAt: j.run_at, learnerId: j.learner_id, sessionId: j.session_id, offsetMinutes: (JSON.parse(j.payload) as { offsetMinutes: number | null }).offsetMinutes }));
    const plan = planSessionJobs({ program, session, learner, enrollment: e, now });
    const result = rescheduleForMove(pending, plan);
    for (const r of result.reschedule) {
      const row = mine.find((j) => j.key === r.key);
      if (row) await ctx.store.rescheduleJob(program.tenantId, row.id, r.runAt, now.toISOString());
    }
    for (const d of result.drop) {
      const row = mine.find((j) => j.key === d.key);
      if (row) await ctx.store.skipPendingJob(program.tenantId, row.id, d.reason, now.toISOString());
    }
  }
}

/** Everything a launch sets in motion: events, invitations, reminders, completion tracking, digests, records. */
export async function scheduleLaunch(ctx: AppContext, program: Program): Promise<number> {
  let added = 0;
  const sessions = (await ctx.store.listSessions(program.tenantId, program.id)).filter((s) => s.status === 'scheduled');
  for (const s of sessions) await enqueueEventSync(ctx, program, s);
  const enrollments = await ctx.store.listEnrollments(program.tenantId, { programId: program.id, status: 'enrolled' });
  const learners = new Map((await ctx.store.learnersForProgram(program.tenantId, program.id)).map((l) => [l.id, l]));
  for (const e of enrollments) {
    const s = sessions.find((x) => x.id === e.sessionId);
    const l = learners.get(e.learnerId);
    if (s && l) added += await scheduleEnrollment(ctx, program, s, l, e);
  }
  added += await scheduleDigests(ctx, program, [...learners.values()]);
  await enqueueRecordsSync(ctx, program);
  return added;
}

async function scheduleDigests(ctx: AppContext, program: Program, learners: Learner[]): Promise<number> {
  const digest = program.policy.digest;
  if (!digest) return 0;
  const now = nowIso(ctx);
  const managers = new Map<string, string>();
  for (const l of learners) if (l.managerEmail && !managers.has(l.managerEmail)) managers.set(l.managerEmail, l.zone);
  const jobs: NewJob[] = [];
  for (const [email, zone] of managers) {
    const planned = planDigestJob({ program, managerEmail: email, managerZone: zone, now });
    if (planned) jobs.push({ ...toNewJob(planned, program.id), payload: { managerEmail: email, zone } });
  }
  return ctx.store.addJobs(program.tenantId, jobs, now);
}

// ---- the runner --------------------------------------------------------------------------------

/** Kinds that send no mail: a mail group is flushed before one runs, so they keep their order relative to the mail around them. */
const NO_MAIL = new Set(['records-sync', 'event-sync', 'event-cancel']);

/**
 * The sends of one claimed batch of jobs for a mailer that can send several in one round trip (Graph: 20 per $batch).
 * Each job is prepared on its own (ledger, settle, budget, claim) in claim order; a prepared send waits here, and the
 * group goes out when it holds `batchSize` sends, before a job that sends no mail, before a job of another mailer and at
 * the end of the claimed batch. The same jobs therefore always make the same round trips. Each job is finished once,
 * after its send's outcome is recorded.
 */
class MailGroup {
  private entries: Array<{ job: JobRow; providers: ProviderSet; send: PreparedSend }> = [];

  constructor(
    private readonly ctx: AppContext,
    private readonly summary: RunSummary,
  ) {}

  /** Sends waiting in this group from the same mailbox: the budget counts them as sent. */
  inFlight(providers: ProviderSet): number {
    const mailbox = providers.sender.email.toLowerCase();
    return this.entries.filter((e) => e.providers.sender.email.toLowerCase() === mailbox).length;
  }

  async add(job: JobRow, providers: ProviderSet, send: PreparedSend): Promise<void> {
    if (this.entries.length > 0 && this.entries[0]!.providers.mailer !== providers.mailer) await this.flush();
    this.entries.push({ job, providers, send });
  }

  get full(): boolean {
    const first = this.entries[0];
    return !!first && this.entries.length >= Math.max(1, first.providers.mailer.batchSize ?? 1);
  }

  /** One round trip for every waiting send, then each job's outcome, in order. */
  async flush(): Promise<void> {
    const entries = this.entries.splice(0);
    if (entries.length === 0) return;
    const mailer = entries[0]!.providers.mailer;
    let outcomes: SendOutcome[];
    try {
      outcomes = await mailer.sendBatch!(entries.map((e) => e.send.msg));
      if (outcomes.length !== entries.length) throw new MusterError('INTERNAL', `sendBatch answered ${outcomes.length} outcomes for ${entries.length} messages.`);
    } catch (err) {
      // Nothing is known about these sends: each is unknown, settled by lookup before any resend.
      const reason = err instanceof Error ? err.message : String(err);
      this.ctx.logger.error('mail.batch_failed', { messages: entries.length, message: reason });
      outcomes = entries.map(() => ({ status: 'unknown', providerId: null, reason }));
    }
    for (const [i, e] of entries.entries()) {
      await finishJob(this.ctx, e.job, this.summary, async () => fromDelivery(await recordDelivery(this.ctx, e.providers, e.send, outcomes[i]!)));
    }
  }
}

/** Runs every job due as of the clock's now, batch by batch, until none is left (or `maxJobs` ran). */
export async function runDue(ctx: AppContext, opts: { tenantId?: string; maxJobs?: number; onProgress?: (s: RunSummary) => void } = {}): Promise<RunSummary> {
  const summary: RunSummary = { ran: 0, sent: 0, skipped: 0, deferred: 0, failed: 0, unknown: 0 };
  const max = opts.maxJobs ?? Number.POSITIVE_INFINITY;
  const group = new MailGroup(ctx, summary);
  for (;;) {
    const now = ctx.clock.now();
    const batch = await ctx.store.claimDueJobs(now.toISOString(), ctx.workerId, new Date(now.getTime() + ctx.jobLeaseMs).toISOString(), Math.min(50, max - summary.ran), opts.tenantId);
    if (batch.length === 0) break;
    for (const job of batch) {
      if (NO_MAIL.has(job.kind)) await group.flush();
      await finishJob(ctx, job, summary, () => handle(ctx, job, group));
      summary.ran++;
      if (group.full) await group.flush();
    }
    await group.flush();
    opts.onProgress?.(summary);
    if (summary.ran >= max) break;
  }
  return summary;
}

/** Runs a job's work and records its one outcome; a send waiting in a mail group is finished by the group instead. */
async function finishJob(ctx: AppContext, job: JobRow, summary: RunSummary, work: () => Promise<Outcome>): Promise<void> {
  const now = nowIso(ctx);
  try {
    const outcome = await work();
    if (outcome.status === 'queued') return;
    if (outcome.status === 'deferred') {
      summary.deferred++;
      await ctx.store.finishJob(job.tenant_id, job.id, ctx.workerId, 'pending', now, { runAt: outcome.until, error: outcome.reason });
      return;
    }
    if (outcome.status === 'skipped') {
      summary.skipped++;
      ctx.logger.info('job.skipped', { key: job.key, reason: outcome.reason });
      await ctx.store.finishJob(job.tenant_id, job.id, ctx.workerId, 'skipped', now, { error: outcome.reason });
      return;
    }
    if (outcome.status === 'unknown') summary.unknown++;
    else if (outcome.sent > 0) summary.sent += outcome.sent;
    await ctx.store.finishJob(job.tenant_id, job.id, ctx.workerId, 'done', now, outcome.status === 'unknown' ? { error: outcome.reason } : {});
    if (credentialsFailed.has(job.tenant_id)) await markCredentialsWorking(ctx, job.tenant_id);
  } catch (err) {
    if (isMusterError(err, 'PROVIDER_AUTH_FAILED')) await markCredentialsFailed(ctx, job.tenant_id, err.message);
    const retryable = isMusterError(err) && ['PROVIDER_THROTTLED', 'PROVIDER_UNAVAILABLE', 'OUTCOME_UNKNOWN', 'PROVIDER_AUTH_FAILED'].includes(err.code);
    const message = err instanceof Error ? `${isMusterError(err) ? err.code + ': ' : ''}${err.message}` : String(err);
    if (retryable && job.attempts < MAX_ATTEMPTS) {
      const wait = isMusterError(err) && err.retryAfterSeconds ? err.retryAfterSeconds * 1000 : Math.min(3600_000, 30_000 * 2 ** (job.attempts - 1)) * (0.75 + Math.random() * 0.5);
      summary.deferred++;
      ctx.logger.warn('job.retry', { key: job.key, kind: job.kind, attempt: job.attempts, code: isMusterError(err) ? err.code : 'INTERNAL' });
      await ctx.store.finishJob(job.tenant_id, job.id, ctx.workerId, 'pending', now, { runAt: new Date(ctx.clock.now().getTime() + wait).toISOString(), error: message });
      return;
    }
    summary.failed++;
    ctx.logger.error('job.failed', { key: job.key, kind: job.kind, code: isMusterError(err) ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
    await ctx.store.finishJob(job.tenant_id, job.id, ctx.workerId, 'failed', now, { error: message });
  }
}

/** Tenants whose provider credentials were refused in this process: a later success clears the checklist item. */
const credentialsFailed = new Set<string>();

/**
 * Consent revoked or a secret expired: the tenant's jobs back off (up to an hour between tries) and its checklists show
 * a blocking item naming the problem, instead of failing silently.
 */
async function markCredentialsFailed(ctx: AppContext, tenantId: string, reason: string): Promise<void> {
  credentialsFailed.add(tenantId);
  const t = await ctx.store.getTenant(tenantId);
  if (t && t.consent_state !== 'failed') {
    await ctx.store.updateTenant(tenantId, { consent_state: 'failed' });
    await ctx.store.audit({ tenantId, actor: 'worker', surface: 'system', action: 'tenant.credentials-failed', entity: 'tenant', entityId: tenantId, detail: { reason } }, nowIso(ctx));
    ctx.logger.error('tenant.credentials_failed', { tenantId, reason });
  }
}

async function markCredentialsWorking(ctx: AppContext, tenantId: string): Promise<void> {
  credentialsFailed.delete(tenantId);
  const t = await ctx.store.getTenant(tenantId);
  if (t && t.consent_state === 'failed') {
    await ctx.store.updateTenant(tenantId, { consent_state: 'granted' });
    ctx.logger.info('tenant.credentials_working', { tenantId });
  }
}

type Outcome = { status: 'queued' } | { status: 'done'; sent: number } | { status: 'skipped'; reason: string } | { status: 'deferred'; until: string; reason: string } | { status: 'unknown'; reason: string };

function fromDelivery(r: DeliveryResult): Outcome {
  switch (r.status) {
    case 'sent':
      return { status: 'done', sent: 1 };
    case 'already-sent':
      return { status: 'done', sent: 0 };
    case 'deferred':
      return { status: 'deferred', until: r.until, reason: r.reason };
    case 'unknown':
      return { status: 'unknown', reason: r.reason };
    case 'failed':
      // The provider's own code decides what the runner does next (back off, pause, mark credentials failed, give up).
      if (r.code === 'PROVIDER_AUTH_FAILED') throw new MusterError('PROVIDER_AUTH_FAILED', r.reason);
      if (r.retryable || r.pauseMailbox) throw new MusterError(r.pauseMailbox ? 'PROVIDER_THROTTLED' : 'PROVIDER_UNAVAILABLE', r.reason);
      throw new MusterError('PROVIDER_REJECTED', r.reason);
  }
}

/**
 * Delivers a job's message: through the runner's mail group when the tenant's mailer sends in batches (the job is then
 * finished by the group), else at once as `deliver` does.
 */
async function deliverFor(ctx: AppContext, providers: ProviderSet, job: JobRow, d: Delivery, group: MailGroup | null): Promise<Outcome> {
  if (!group || !providers.mailer.sendBatch) return fromDelivery(await deliver(ctx, providers, d));
  const p = await prepareDelivery(ctx, providers, d, { inFlight: group.inFlight(providers), recordAttemptStart: true });
  if (p.status === 'done') return fromDelivery(p.result);
  // An earlier attempt left a provider id to check first: that send goes alone.
  if (p.send.previous) return fromDelivery(await recordDelivery(ctx, providers, p.send, await providers.mailer.send(p.send.msg, p.send.previous)));
  await group.add(job, providers, p.send);
  return { status: 'queued' };
}

async function handle(ctx: AppContext, job: JobRow, group: MailGroup | null): Promise<Outcome> {
  const t = job.tenant_id;
  const payload = JSON.parse(job.payload) as Record<string, unknown>;
  const program = job.program_id ? await ctx.store.getProgram(t, job.program_id) : undefined;
  if (!program) return { status: 'skipped', reason: 'the program no longer exists' };
  const providers = await ctx.providersFor(t);

  if (job.kind === 'records-sync') {
    await syncRecords(ctx, providers, program);
    return { status: 'done', sent: 0 };
  }
  if (job.kind === 'digest') return handleDigest(ctx, providers, program, job, payload, group);

  const session = job.session_id ? await ctx.store.getSession(t, job.session_id) : undefined;
  if (job.kind === 'event-sync' || job.kind === 'event-cancel') {
    if (!session) return { status: 'skipped', reason: 'the session no longer exists' };
    const enrolled = await ctx.store.listEnrollments(t, { sessionId: session.id, status: 'enrolled' });
    const learners = (await Promise.all(enrolled.map((e) => ctx.store.getLearner(t, e.learnerId)))).filter((l): l is Learner => !!l);
    if (job.kind === 'event-cancel') {
      const gen = Number(payload.generation ?? session.generation);
      await cancelSessionEvent(ctx, providers, program, { ...session, generation: gen }, learners, String(payload.message ?? ''));
      return { status: 'done', sent: 0 };
    }
    if (session.status === 'cancelled') return { status: 'skipped', reason: 'the session was cancelled' };
    const existing = await updateSessionEvent(ctx, providers, program, session, learners);
    if (!existing) await ensureSessionEvent(ctx, providers, program, session, learners);
    await ctx.store.supersedeFailedJobs(t, { programId: program.id, sessionId: session.id, kind: 'event-sync' }, `superseded by the successful ${job.key}`, nowIso(ctx));
    return { status: 'done', sent: 0 };
  }

  const learner = job.learner_id ? await ctx.store.getLearner(t, job.learner_id) : undefined;
  if (!learner) return { status: 'skipped', reason: 'the learner is no longer on the roster' };
  if (learner.undeliverable) return { status: 'skipped', reason: `mail to ${learner.email} bounced before` };

  if (['completion-due', 'overdue-escalation', 'recertify'].includes(job.kind)) return handleCompletionJob(ctx, providers, program, learner, job, group);

  if (!session) return { status: 'skipped', reason: 'the session no longer exists' };
  const enrollment = (await ctx.store.listEnrollments(t, { sessionId: session.id, learnerId: learner.id }))[0];
  if (!enrollment) return { status: 'skipped', reason: 'the learner is not enrolled in this session' };

  if (job.kind === 'session-cancelled') {
    return sendToLearner(ctx, providers, job, program, session, learner, enrollment, 'session-cancelled', { message: String(payload.message ?? '') }, providers.renderInvitation ? 'CANCEL' : null, group);
  }
  if (enrollment.status !== 'enrolled') return { status: 'skipped', reason: `the enrollment is ${enrollment.status}` };
  if (session.status === 'cancelled') return { status: 'skipped', reason: 'the session was cancelled' };

  switch (job.kind) {
    case 'invite':
    case 'waitlist-promoted':
      return sendToLearner(ctx, providers, job, program, session, learner, enrollment, job.kind, {}, providers.renderInvitation ? 'REQUEST' : null, group);
    case 'session-moved':
      return sendToLearner(ctx, providers, job, program, session, learner, enrollment, 'session-moved', {}, providers.renderInvitation ? 'REQUEST' : null, group);
    case 'reminder':
    case 'prerequisite':
    case 'catch-up':
    case 'reminder-now':
    case 'nudge': {
      if (Date.parse(session.start) <= ctx.clock.now().getTime()) return { status: 'skipped', reason: 'the session has already started' };
      if (BEFORE_SESSION.has(job.kind) && (await supersededBy(ctx, job))) return { status: 'skipped', reason: 'a later reminder for this session is due at the same time; only that one is sent' };
      const kind = job.kind === 'reminder-now' ? 'reminder' : job.kind;
      return sendToLearner(ctx, providers, job, program, session, learner, enrollment, kind, { offsetMinutes: payload.offsetMinutes ?? null }, null, group);
    }
    case 'follow-up': {
      const sessions = await ctx.store.listSessions(t, program.id);
      const candidates = [];
      for (const s of sessions) {
        const taken = (await ctx.store.listEnrollments(t, { sessionId: s.id, status: 'enrolled' })).length;
        candidates.push({ session: s, freeSeats: s.capacity - taken });
      }
      const f = followUpFor(enrollment, session, candidates);
      if (f.variant === 'unmarked') {
        // Attendance is not recorded yet: ask again in a day rather than guess.
        return { status: 'deferred', until: new Date(ctx.clock.now().getTime() + 24 * 3600_000).toISOString(), reason: 'attendance is not marked yet' };
      }
      return sendToLearner(ctx, providers, job, program, session, learner, enrollment, f.variant === 'present' ? 'follow-up-present' : 'follow-up-absent', { offer: f.offer }, null, group);
    }
    default:
      return { status: 'skipped', reason: `no handler for job kind ${job.kind}` };
  }
}

async function supersededBy(ctx: AppContext, job: JobRow): Promise<boolean> {
  const now = nowIso(ctx);
  const siblings = await ctx.store.listJobs(job.tenant_id, { sessionId: job.session_id!, learnerId: job.learner_id!, status: ['pending', 'running'] });
  return siblings.some((s) => s.id !== job.id && BEFORE_SESSION.has(s.kind) && s.run_at <= now && (s.run_at > job.run_at || (s.run_at === job.run_at && s.key > job.key)));
}

async function sendToLearner(
  ctx: AppContext,
  providers: ProviderSet,
  job: JobRow,
  program: Program,
  session: Session,
  learner: Learner,
  enrollment: Enrollment,
  kind: string,
  extra: Record<string, unknown>,
  calendarMethod: 'REQUEST' | 'CANCEL' | null,
  group: MailGroup | null,
): Promise<Outcome> {
  const msg = await composeLearnerMessage(ctx, providers, { kind, program, session, learner, enrollment, extra });
  let calendar;
  if (calendarMethod && providers.renderInvitation) {
    const ev = toSessionEvent(ctx, providers, program, session, [learner]);
    calendar = { method: calendarMethod, ics: providers.renderInvitation(ev, { email: learner.email, name: learner.name }, calendarMethod, ctx.clock.now()) };
  }
  return deliverFor(ctx, providers, job, {
    tenantId: program.tenantId,
    key: job.key,
    kind,
    programId: program.id,
    sessionId: session.id,
    learnerId: learner.id,
    to: { email: learner.email, name: learner.name },
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    ...(calendar ? { calendar } : {}),
  }, group);
}

async function handleCompletionJob(ctx: AppContext, providers: ProviderSet, program: Program, learner: Learner, job: JobRow, group: MailGroup | null): Promise<Outcome> {
  const completions = await ctx.store.listCompletions(program.tenantId, program.id);
  const c = completions.find((x) => x.learnerId === learner.id) ?? null;
  if (job.kind !== 'recertify' && c?.completedAt) return { status: 'skipped', reason: 'the learner has completed the program' };
  const enrolled = await ctx.store.listEnrollments(program.tenantId, { programId: program.id, learnerId: learner.id, status: 'enrolled' });
  if (enrolled.length === 0) return { status: 'skipped', reason: 'the learner is no longer enrolled' };
  if (job.kind === 'overdue-escalation') {
    if (!learner.managerEmail) return { status: 'skipped', reason: `${learner.email} has no manager on the roster` };
    const msg = await composeManagerMessage(ctx, providers, { kind: 'escalation', program, managerEmail: learner.managerEmail, learners: [learner] });
    return deliverFor(ctx, providers, job, { tenantId: program.tenantId, key: job.key, kind: 'escalation', programId: program.id, sessionId: null, learnerId: learner.id, to: { email: learner.managerEmail, name: learner.managerEmail }, subject: msg.subject, text: msg.text, html: msg.html }, group);
  }
  const msg = await composeLearnerMessage(ctx, providers, { kind: job.kind, program, session: null, learner, enrollment: null, extra: { dueAt: c?.dueAt ?? null } });
  return deliverFor(ctx, providers, job, { tenantId: program.tenantId, key: job.key, kind: job.kind, programId: program.id, sessionId: null, learnerId: learner.id, to: { email: learner.email, name: learner.name }, subject: msg.subject, text: msg.text, html: msg.html }, group);
}

async function handleDigest(ctx: AppContext, providers: ProviderSet, program: Program, job: JobRow, payload: Record<string, unknown>, group: MailGroup | null): Promise<Outcome> {
  const managerEmail = String(payload.managerEmail);
  const learners = (await ctx.store.learnersForProgram(program.tenantId, program.id)).filter((l) => l.managerEmail === managerEmail);
  // The next week's digest is queued whatever happens to this one.
  const planned = planDigestJob({ program, managerEmail, managerZone: String(payload.zone ?? 'UTC'), now: new Date(Date.parse(job.run_at) + 60_000) });
  if (planned) await ctx.store.addJobs(program.tenantId, [{ ...toNewJob(planned, program.id), payload }], nowIso(ctx));
  if (learners.length === 0) return { status: 'skipped', reason: `${managerEmail} has no learners in this program now` };
  const msg = await composeManagerMessage(ctx, providers, { kind: 'digest', program, managerEmail, learners });
  return deliverFor(ctx, providers, job, { tenantId: program.tenantId, key: job.key, kind: 'digest', programId: program.id, sessionId: null, learnerId: null, to: { email: managerEmail, name: managerEmail }, subject: msg.subject, text: msg.text, html: msg.html }, group);
}
