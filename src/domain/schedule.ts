// Reminder, follow-up, completion and digest policies as data: computes which jobs should run when, never runs, stores or sends them.
import { DateTime } from 'luxon';
import type { Completion, Enrollment, Learner, Program, QuietHours, Session } from './types.js';
import { MusterError } from './errors.js';
import { addLocalDays, addMinutes, assertValidZone, isValidZone, normalizeInstant, parseClockTime, parseInstant, toUtcIso } from './time.js';

export type JobKind = 'reminder' | 'prerequisite' | 'catch-up' | 'follow-up' | 'completion-due' | 'overdue-escalation' | 'recertify' | 'digest';

export interface PlannedJob {
  /** Unique per (kind, learner, scope, offset): the queue runs a key at most once. */
  key: string;
  kind: JobKind;
  /** UTC ISO instant. */
  runAt: string;
  learnerId: string | null;
  sessionId: string | null;
  offsetMinutes: number | null;
  /** The manager to write to (escalations and digests). */
  managerEmail?: string | null;
  /** Machine-readable detail: for a catch-up, the keys it stands in for, comma-separated. */
  note?: string;
}

export interface SkippedJob {
  key: string;
  kind: JobKind;
  reason: string;
}

export interface JobPlan {
  jobs: PlannedJob[];
  skipped: SkippedJob[];
}

const MINUTES_PER_DAY = 1440;

/** Days before a completion's due date that the learner is reminded. */
export const COMPLETION_DUE_NOTICE_DAYS = 2;

/**
 * The job key: `${kind}:${learnerId}:${scope}:${offset}`, where scope is the session id for session jobs,
 * `program-<id>` for completion jobs (`program-<id>@<completed date>` for recertification, one per completion cycle)
 * and `<managerEmail>@<program id>` for digests (the learner slot then holds the local digest date); a missing offset is "-".
 */
export function jobKey(kind: JobKind, learnerId: string | null, scope: string | null, offsetMinutes: number | null): string {
  return `${kind}:${learnerId ?? '-'}:${scope ?? '-'}:${offsetMinutes ?? '-'}`;
}

/**
 * When a reminder `offsetMinutes` before a session's start is due.
 * An offset that is a whole number of days (1440, 10080, ...) means the same local wall-clock time that many days
 * earlier in the session's zone: a 09:00 session gets its "1 day before" reminder at 09:00 the day before, even when
 * a daylight-saving change lies between (so that reminder is 23 or 25 hours ahead, not 24). If that local time does
 * not exist (it falls in the hour skipped by a spring-forward change) the next valid local time is used.
 * Any other offset (60, 90, 2880 + 30, ...) is an exact duration before the start.
 */
export function reminderInstant(sessionStartIso: string, sessionZone: string, offsetMinutes: number): string {
  if (!Number.isFinite(offsetMinutes) || offsetMinutes < 0) {
    throw new MusterError('VALIDATION_FAILED', `A reminder offset must be zero or more minutes, not ${offsetMinutes}`, {
      details: [{ field: 'policy.offsetsMinutes', message: 'must be a non-negative number of minutes' }],
    });
  }
  if (offsetMinutes > 0 && offsetMinutes % MINUTES_PER_DAY === 0) {
    assertValidZone(sessionZone, 'session.zone');
    return addLocalDays(sessionStartIso, sessionZone, -offsetMinutes / MINUTES_PER_DAY);
  }
  return addMinutes(sessionStartIso, -offsetMinutes);
}

interface QuietWindow {
  startMin: number;
  endMin: number;
}

function quietWindow(quiet: QuietHours | null | undefined): QuietWindow | null {
  if (!quiet) return null;
  const startMin = parseClockTime(quiet.start, 'policy.quietHours.start');
  const endMin = parseClockTime(quiet.end, 'policy.quietHours.end');
  return startMin === endMin ? null : { startMin, endMin };
}

/** If `local` lies in quiet hours, the local start and end of that quiet period; otherwise null. */
function quietPeriodAround(local: DateTime, w: QuietWindow): { start: DateTime; end: DateTime } | null {
  const m = local.hour * 60 + local.minute;
  const day = local.startOf('day');
  const at = (d: DateTime, min: number) => d.set({ hour: Math.floor(min / 60), minute: min % 60, second: 0, millisecond: 0 });
  if (w.startMin < w.endMin) {
    if (m < w.startMin || m >= w.endMin) return null;
    return { start: at(day, w.startMin), end: at(day, w.endMin) };
  }
  // The window wraps midnight, e.g. 22:00-07:00.
  if (m >= w.startMin) return { start: at(day, w.startMin), end: at(day.plus({ days: 1 }), w.endMin) };
  if (m < w.endMin) return { start: at(day.minus({ days: 1 }), w.startMin), end: at(day, w.endMin) };
  return null;
}

export type QuietHoursResult = { ok: true; runAt: string; moved: boolean } | { ok: false; reason: string };

/**
 * Keeps a before-session reminder out of the learner's quiet hours (local, may wrap midnight).
 * A send time inside quiet hours moves EARLIER, to the last allowed minute before those quiet hours began, but only
 * if the move is no longer than the offset itself (the reminder's lead at most doubles); otherwise it is skipped with
 * a reason. The result is never later than the original and never at or after the session's start.
 */
export function applyQuietHours(
  sendAtIso: string,
  learnerZone: string,
  quiet: QuietHours | null,
  sessionStartIso: string,
  offsetMinutes: number,
): QuietHoursResult {
  const sendAt = parseInstant(sendAtIso, 'sendAt');
  const sessionStart = parseInstant(sessionStartIso, 'session.start');
  if (sendAt >= sessionStart) return { ok: false, reason: 'the send time is not before the session starts' };
  const w = quietWindow(quiet);
  if (!w) return { ok: true, runAt: toUtcIso(sendAt), moved: false };
  const zone = isValidZone(learnerZone) ? learnerZone : 'UTC';
  const period = quietPeriodAround(sendAt.setZone(zone), w);
  if (!period) return { ok: true, runAt: toUtcIso(sendAt), moved: false };
  const moved = period.start.minus({ minutes: 1 }).toUTC();
  const moveMinutes = sendAt.diff(moved, 'minutes').minutes;
  // A quiet period that begins inside a daylight-saving gap has no clean minute before it; skip rather than send in quiet hours.
  if (moveMinutes > offsetMinutes || quietPeriodAround(moved.setZone(zone), w)) {
    return {
      ok: false,
      reason: `falls in quiet hours (${quiet!.start}-${quiet!.end} ${zone}); sending it at ${moved.setZone(zone).toFormat('HH:mm')} instead would more than double its lead`,
    };
  }
  return { ok: true, runAt: toUtcIso(moved), moved: true };
}

/**
 * For messages after a session (follow-ups, completion, escalation, recertification): a send time inside quiet hours
 * moves LATER, to the end of those quiet hours; nothing is waiting on it, so later is harmless.
 */
export function deferPastQuietHours(sendAtIso: string, zone: string, quiet: QuietHours | null): string {
  const sendAt = parseInstant(sendAtIso, 'sendAt');
  const w = quietWindow(quiet);
  if (!w) return toUtcIso(sendAt);
  const period = quietPeriodAround(sendAt.setZone(isValidZone(zone) ? zone : 'UTC'), w);
  return toUtcIso(period ? period.end : sendAt);
}

function hasPrerequisites(program: Program): boolean {
  return program.materials.some((m) => m.kind === 'prerequisite' || m.kind === 'access');
}

export interface SessionPlanInput {
  program: Program;
  session: Session;
  learner: Learner;
  enrollment: Enrollment;
  /** The planning instant (the injected clock). */
  now: Date | string;
  /** Include the prerequisite reminder (default true); pass false for a learner's later sessions in the program. */
  includePrerequisite?: boolean;
}

/**
 * The jobs one enrolled learner needs for one session: a reminder per policy offset, the prerequisite reminder
 * (when the program has prerequisite or access materials) and the follow-up after the session ends.
 * Before-session steps whose time has already passed, while the session has not started, collapse into ONE
 * 'catch-up' job at `now` (a late enrollment gets one message, not several); it is not held back by quiet hours,
 * since the invite goes out at the same moment. Waitlisted or cancelled enrollments and cancelled sessions get nothing.
 */
export function planSessionJobs(input: SessionPlanInput): JobPlan {
  const { program, session, learner, enrollment } = input;
  const now = parseInstant(normalizeInstant(input.now, 'now'));
  const policy = program.policy;
  const jobs: PlannedJob[] = [];
  const skipped: SkippedJob[] = [];
  if (session.status === 'cancelled' || enrollment.status !== 'enrolled') return { jobs, skipped };
  const start = parseInstant(session.start, 'session.start');
  const end = parseInstant(session.end, 'session.end');
  const lid = learner.id;
  const sid = session.id;

  const steps: Array<{ kind: 'reminder' | 'prerequisite'; offset: number }> = [];
  for (const offset of [...new Set(policy.offsetsMinutes)].sort((a, b) => b - a)) steps.push({ kind: 'reminder', offset });
  if ((input.includePrerequisite ?? true) && policy.prerequisiteMinutes != null && hasPrerequisites(program)) {
    steps.push({ kind: 'prerequisite', offset: policy.prerequisiteMinutes });
  }

  const past: string[] = [];
  if (now < start) {
    for (const step of steps) {
      const key = jobKey(step.kind, lid, sid, step.offset);
      const due = reminderInstant(session.start, session.zone, step.offset);
      if (parseInstant(due) <= now) {
        past.push(key);
        continue;
      }
      const q = applyQuietHours(due, learner.zone, policy.quietHours, session.start, step.offset);
      if (!q.ok) {
        skipped.push({ key, kind: step.kind, reason: q.reason });
        continue;
      }
      if (parseInstant(q.runAt) <= now) {
        // Moving it out of quiet hours put it in the past: it is as good as past.
        past.push(key);
        continue;
      }
      jobs.push({ key, kind: step.kind, runAt: q.runAt, learnerId: lid, sessionId: sid, offsetMinutes: step.offset });
    }
    if (past.length > 0) {
      jobs.push({ key: jobKey('catch-up', lid, sid, null), kind: 'catch-up', runAt: toUtcIso(now), learnerId: lid, sessionId: sid, offsetMinutes: null, note: past.join(',') });
    }
  } else {
    for (const step of steps) skipped.push({ key: jobKey(step.kind, lid, sid, step.offset), kind: step.kind, reason: 'the session has already started' });
  }

  if (policy.followUpMinutes != null) {
    const key = jobKey('follow-up', lid, sid, policy.followUpMinutes);
    const at = deferPastQuietHours(toUtcIso(end.plus({ minutes: policy.followUpMinutes })), learner.zone, policy.quietHours);
    if (parseInstant(at) <= now) skipped.push({ key, kind: 'follow-up', reason: 'the follow-up time has already passed' });
    else jobs.push({ key, kind: 'follow-up', runAt: at, learnerId: lid, sessionId: sid, offsetMinutes: policy.followUpMinutes });
  }
  return { jobs: jobs.sort(byRunAt), skipped };
}

function byRunAt(a: PlannedJob, b: PlannedJob): number {
  return a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export type FollowUpVariant = 'present' | 'absent' | 'unmarked';

/**
 * Which follow-up a learner gets when the follow-up job runs: present (or late) gets thanks plus the next step;
 * absent or excused gets an offer of the earliest later session of the program with a free seat; unmarked attendance
 * means the coordinator has not recorded it yet (the runner should log that and not guess).
 */
export function followUpFor(
  enrollment: Pick<Enrollment, 'attendance'>,
  session: Pick<Session, 'start'>,
  candidates: Array<{ session: Session; freeSeats: number }>,
): { variant: FollowUpVariant; offer: Session | null } {
  const a = enrollment.attendance;
  if (a === 'present' || a === 'late') return { variant: 'present', offer: null };
  if (a === null) return { variant: 'unmarked', offer: null };
  const offer = candidates
    .filter((c) => c.freeSeats > 0 && c.session.status === 'scheduled' && c.session.start > session.start)
    .sort((x, y) => (x.session.start < y.session.start ? -1 : x.session.start > y.session.start ? 1 : 0))[0];
  return { variant: 'absent', offer: offer?.session ?? null };
}

export interface CompletionPlanInput {
  program: Program;
  learner: Learner;
  /** End of the learner's last session in the program (UTC ISO); null when they have none. */
  lastSessionEnd: string | null;
  completion: Completion | null;
  now: Date | string;
}

/** The due date: the stored one, else completionDueDays after the last session (same local time, learner's zone). */
export function completionDueAt(program: Program, learner: Learner, lastSessionEnd: string | null, completion: Completion | null): string | null {
  if (completion?.dueAt) return normalizeInstant(completion.dueAt, 'completion.dueAt');
  if (program.policy.completionDueDays == null || lastSessionEnd == null) return null;
  return addLocalDays(lastSessionEnd, isValidZone(learner.zone) ? learner.zone : 'UTC', program.policy.completionDueDays);
}

/**
 * Completion jobs for one learner in one program: a completion-due reminder COMPLETION_DUE_NOTICE_DAYS before the
 * due date (at `now` if that moment has passed but the due date has not), the overdue escalation to the learner's
 * manager escalateAfterDays after the due date, and, once completed, the recertification reminder
 * recertifyNoticeDays before the completion expires. The runner must re-check completionStatus before sending
 * a completion-due or escalation message: completing in the meantime makes them moot.
 */
export function planCompletionJobs(input: CompletionPlanInput): JobPlan {
  const { program, learner, completion } = input;
  const now = parseInstant(normalizeInstant(input.now, 'now'));
  const policy = program.policy;
  const zone = isValidZone(learner.zone) ? learner.zone : 'UTC';
  const scope = `program-${program.id}`;
  const jobs: PlannedJob[] = [];
  const skipped: SkippedJob[] = [];
  const base = { learnerId: learner.id, sessionId: null };

  if (completion?.completedAt) {
    if (policy.recertifyAfterDays != null) {
      const completedAt = normalizeInstant(completion.completedAt, 'completion.completedAt');
      const offset = policy.recertifyNoticeDays * MINUTES_PER_DAY;
      const key = jobKey('recertify', learner.id, `${scope}@${completedAt.slice(0, 10)}`, offset);
      const at = deferPastQuietHours(addLocalDays(completedAt, zone, policy.recertifyAfterDays - policy.recertifyNoticeDays), zone, policy.quietHours);
      if (parseInstant(at) <= now) skipped.push({ key, kind: 'recertify', reason: 'the recertification notice date has already passed' });
      else jobs.push({ key, kind: 'recertify', runAt: at, offsetMinutes: offset, ...base });
    }
    return { jobs, skipped };
  }

  const due = completionDueAt(program, learner, input.lastSessionEnd, completion);
  if (due === null) return { jobs, skipped };
  const dueDt = parseInstant(due);

  const dueOffset = COMPLETION_DUE_NOTICE_DAYS * MINUTES_PER_DAY;
  const dueKey = jobKey('completion-due', learner.id, scope, dueOffset);
  if (dueDt <= now) {
    skipped.push({ key: dueKey, kind: 'completion-due', reason: 'the due date has already passed' });
  } else {
    let at = deferPastQuietHours(addLocalDays(due, zone, -COMPLETION_DUE_NOTICE_DAYS), zone, policy.quietHours);
    if (parseInstant(at) <= now) at = toUtcIso(now);
    jobs.push({ key: dueKey, kind: 'completion-due', runAt: at, offsetMinutes: dueOffset, ...base });
  }

  const escOffset = policy.escalateAfterDays * MINUTES_PER_DAY;
  const escKey = jobKey('overdue-escalation', learner.id, scope, escOffset);
  const escAt = deferPastQuietHours(addLocalDays(due, zone, policy.escalateAfterDays), zone, policy.quietHours);
  if (!learner.managerEmail) {
    skipped.push({ key: escKey, kind: 'overdue-escalation', reason: `${learner.name} has no manager on record` });
  } else if (parseInstant(escAt) <= now) {
    skipped.push({ key: escKey, kind: 'overdue-escalation', reason: 'the escalation date has already passed' });
  } else {
    jobs.push({ key: escKey, kind: 'overdue-escalation', runAt: escAt, offsetMinutes: escOffset, managerEmail: learner.managerEmail, ...base });
  }
  return { jobs: jobs.sort(byRunAt), skipped };
}

/** The next weekly digest moment strictly after `now`: ISO `weekday` (1 = Monday) at `hour`:00 local in the manager's zone. */
export function nextDigestAt(nowIso: string, managerZone: string, weekday: number, hour: number): string {
  if (!Number.isInteger(weekday) || weekday < 1 || weekday > 7 || !Number.isInteger(hour) || hour < 0 || hour > 23) {
    throw new MusterError('VALIDATION_FAILED', 'A digest needs a weekday from 1 (Monday) to 7 and an hour from 0 to 23', {
      details: [{ field: 'policy.digest', message: 'weekday 1-7, hour 0-23' }],
    });
  }
  const now = parseInstant(nowIso, 'now');
  const zone = isValidZone(managerZone) ? managerZone : 'UTC';
  let day = now.setZone(zone).startOf('day');
  for (let i = 0; i < 8; i++, day = day.plus({ days: 1 })) {
    if (day.weekday !== weekday) continue;
    const at = day.set({ hour, minute: 0, second: 0, millisecond: 0 });
    if (at > now) return toUtcIso(at);
  }
  throw new MusterError('INTERNAL', 'no digest time found within a week');
}

/** The next digest job for one manager of one program; the key holds the local date so each week's digest runs once. */
export function planDigestJob(input: { program: Program; managerEmail: string; managerZone: string; now: Date | string }): PlannedJob | null {
  const d = input.program.policy.digest;
  if (!d) return null;
  const runAt = nextDigestAt(normalizeInstant(input.now, 'now'), input.managerZone, d.weekday, d.hour);
  const zone = isValidZone(input.managerZone) ? input.managerZone : 'UTC';
  const localDate = parseInstant(runAt).setZone(zone).toFormat('yyyy-MM-dd');
  const email = input.managerEmail.toLowerCase();
  return {
    key: jobKey('digest', localDate, `${email}@${input.program.id}`, null),
    kind: 'digest',
    runAt,
    learnerId: null,
    sessionId: null,
    offsetMinutes: null,
    managerEmail: email,
  };
}

export interface RescheduleResult {
  /** Pending jobs that keep their key and get a new time. */
  reschedule: Array<{ key: string; from: string; runAt: string }>;
  /** Pending jobs whose time did not change. */
  unchanged: string[];
  /** Pending jobs that must not run any more, with the reason to log. */
  drop: Array<{ key: string; reason: string }>;
}

/**
 * After a session moves: `pending` are its unsent jobs, `replanned` the plan for the new time (planSessionJobs with
 * the current `now`). A pending job takes its replanned time; one whose new time has passed or that quiet hours now
 * skip is dropped. Nothing is added: jobs already sent are not passed in and must not run twice, and a catch-up in
 * the replanned set is ignored because each learner gets one "session moved" notice instead.
 */
export function rescheduleForMove(pending: PlannedJob[], replanned: JobPlan | PlannedJob[]): RescheduleResult {
  const plan: JobPlan = Array.isArray(replanned) ? { jobs: replanned, skipped: [] } : replanned;
  const next = new Map(plan.jobs.map((j) => [j.key, j]));
  const skippedWhy = new Map(plan.skipped.map((s) => [s.key, s.reason]));
  const result: RescheduleResult = { reschedule: [], unchanged: [], drop: [] };
  const sessionsAhead = new Set(plan.jobs.filter((j) => j.kind === 'reminder' || j.kind === 'prerequisite' || j.kind === 'catch-up').map((j) => j.sessionId));
  for (const job of pending) {
    if (job.kind === 'catch-up') {
      // An unsent catch-up stands in for steps that will not be planned again: it still goes while the session lies ahead.
      if (sessionsAhead.has(job.sessionId)) result.unchanged.push(job.key);
      else result.drop.push({ key: job.key, reason: 'the session has already started' });
      continue;
    }
    const n = next.get(job.key);
    if (n && n.kind !== 'catch-up') {
      if (n.runAt === normalizeInstant(job.runAt)) result.unchanged.push(job.key);
      else result.reschedule.push({ key: job.key, from: job.runAt, runAt: n.runAt });
    } else {
      result.drop.push({ key: job.key, reason: skippedWhy.get(job.key) ?? 'its new time has already passed' });
    }
  }
  return result;
}

export type CompletionStatus = 'completed' | 'overdue' | 'in-progress' | 'not-started' | 'expired';

/**
 * A learner's completion as managers see it: completed (expired once recertifyAfterDays have passed since),
 * overdue after the due date, in progress while a due date is set, not started otherwise.
 */
export function completionStatus(completion: Completion | null, now: Date | string, recertifyAfterDays: number | null = null): CompletionStatus {
  const n = parseInstant(normalizeInstant(now, 'now'));
  if (!completion) return 'not-started';
  if (completion.completedAt) {
    if (recertifyAfterDays != null && parseInstant(completion.completedAt).plus({ days: recertifyAfterDays }) <= n) return 'expired';
    return 'completed';
  }
  if (completion.dueAt) return parseInstant(completion.dueAt) <= n ? 'overdue' : 'in-progress';
  return 'not-started';
}

/** When a completion expires (UTC ISO), or null without recertification. */
export function completionExpiresAt(completion: Completion | null, recertifyAfterDays: number | null): string | null {
  if (!completion?.completedAt || recertifyAfterDays == null) return null;
  return toUtcIso(parseInstant(completion.completedAt).plus({ days: recertifyAfterDays }));
}
