// Roster use cases: import people (bad rows reported and kept), enroll with waitlists, cancel and promote, decide on declines.
import { randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { MusterError } from '../domain/errors.js';
import { checkRosterRows, type RosterRowInput } from '../domain/roster.js';
import { placeEnrollment, promoteAfterCancellation } from '../domain/waitlist.js';
import type { Enrollment, Learner, Program, Session } from '../domain/types.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { getProgramOrThrow, getSessionOrThrow } from './programs.js';
import { enqueueEventSync, enqueueRecordsSync, scheduleEnrollment } from './jobs.js';

export interface ImportResult {
  imported: number;
  enrolled: number;
  waitlisted: number;
  rejected: Array<{ row: number; reasons: Array<{ field: string; message: string; row?: number }>; values: Record<string, string> }>;
}

/** Reads a roster CSV (header row first). Row numbers are the file's own: the header is row 1. */
export function parseRosterCsv(text: string): RosterRowInput[] {
  let records: string[][];
  try {
    records = parseCsv(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: false, trim: false }) as string[][];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new MusterError('VALIDATION_FAILED', `The CSV could not be read${line ? ` at row ${line}` : ''}: ${(err as Error).message}`, {
      details: [{ field: 'csv', message: (err as Error).message, ...(line ? { row: line } : {}) }],
      cause: err,
    });
  }
  const [header, ...rows] = records;
  if (!header || header.every((h) => h.trim() === '')) throw new MusterError('VALIDATION_FAILED', 'The CSV has no header row', { details: [{ field: 'csv', message: 'the first row must name the columns (Email, Name, ...)', row: 1 }] });
  const out: RosterRowInput[] = [];
  rows.forEach((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return;
    const values: Record<string, string> = {};
    header.forEach((h, j) => {
      values[h] = cells[j] ?? '';
    });
    out.push({ row: i + 2, values });
  });
  return out;
}

function sessionMatcher(sessions: Session[]): (ref: string) => Session | undefined {
  return (ref) => {
    const r = ref.trim().toLowerCase();
    return sessions.find((s) => s.id === ref.trim() || s.label.toLowerCase() === r);
  };
}

/**
 * Imports roster rows into a program: every valid row upserts the learner and enrolls them (in the sessions the row
 * names, or every scheduled session); every bad row is stored for correction with its row number and reasons.
 */
export async function importRoster(ctx: AppContext, actor: Actor, programId: string, rows: RosterRowInput[], source: 'csv' | 'json' | 'sheet'): Promise<ImportResult> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const sessions = (await ctx.store.listSessions(actor.tenantId, program.id)).filter((s) => s.status === 'scheduled');
  const match = sessionMatcher(sessions);
  const check = checkRosterRows(rows, { defaultZone: sessions[0]?.zone ?? null, knownSessions: (ref) => !!match(ref) });
  const now = nowIso(ctx);
  const result: ImportResult = { imported: 0, enrolled: 0, waitlisted: 0, rejected: check.rejected.map((r) => ({ row: r.row, reasons: r.reasons, values: r.values })) };
  for (const { entry } of check.valid) {
    const learner = await ctx.store.upsertLearner(
      { tenantId: actor.tenantId, email: entry.email, name: entry.name, managerEmail: entry.managerEmail, zone: entry.zone, department: entry.department, language: entry.language, undeliverable: false },
      now,
    );
    result.imported++;
    const targets = entry.session ? entry.session.split(';').map((r) => match(r)).filter((s): s is Session => !!s) : sessions;
    for (const s of targets) {
      const e = await enrollLearnerInSession(ctx, actor, program, s, learner, { audit: false });
      if (e.created) {
        if (e.enrollment.status === 'enrolled') result.enrolled++;
        else result.waitlisted++;
      }
    }
  }
  await ctx.store.tx(async (st) => {
    await st.insertRosterRejects(
      actor.tenantId,
      check.rejected.map((r) => ({ id: randomUUID(), programId: program.id, source, rowNumber: r.row, data: r.values, reasons: r.reasons, createdAt: now })),
    );
    await st.audit({ ...actor, action: 'roster.import', entity: 'program', entityId: program.id, detail: { source, imported: result.imported, rejected: result.rejected.length } }, now);
  });
  if (program.status === 'launched') await enqueueRecordsSync(ctx, program);
  return result;
}

/** Enrolls a learner in a session, or puts them on its waitlist when it is full; idempotent per (session, learner). */
export async function enrollLearnerInSession(
  ctx: AppContext,
  actor: Actor,
  program: Program,
  session: Session,
  learner: Learner,
  opts: { audit?: boolean } = {},
): Promise<{ enrollment: Enrollment; created: boolean }> {
  const now = nowIso(ctx);
  const existing = (await ctx.store.listEnrollments(actor.tenantId, { sessionId: session.id, learnerId: learner.id }))[0];
  if (existing && existing.status !== 'cancelled') return { enrollment: existing, created: false };
  const active = (await ctx.store.listEnrollments(actor.tenantId, { sessionId: session.id })).filter((e) => e.status !== 'cancelled');
  const place = placeEnrollment(active, session.capacity);
  let enrollment: Enrollment;
  if (existing) {
    await ctx.store.updateEnrollment(actor.tenantId, existing.id, { status: place.status, waitPosition: place.waitPosition, rsvp: 'none', attendance: null }, now);
    enrollment = { ...existing, status: place.status, waitPosition: place.waitPosition, rsvp: 'none', attendance: null };
  } else {
    const inserted = await ctx.store.insertEnrollment({
      id: randomUUID(),
      tenantId: actor.tenantId,
      programId: program.id,
      sessionId: session.id,
      learnerId: learner.id,
      status: place.status,
      waitPosition: place.waitPosition,
      rsvp: 'none',
      attendance: null,
      enrolledAt: now,
    });
    enrollment = inserted.enrollment;
    if (!inserted.created) return inserted;
  }
  if (opts.audit !== false) {
    await ctx.store.audit({ ...actor, action: 'enrollment.create', entity: 'enrollment', entityId: enrollment.id, detail: { sessionId: session.id, status: enrollment.status } }, now);
  }
  if (program.status === 'launched' && enrollment.status === 'enrolled') {
    await scheduleEnrollment(ctx, program, session, learner, enrollment);
    const providers = await ctx.providersFor(actor.tenantId);
    if (!providers.calendar.invitesByMail) await enqueueEventSync(ctx, program, session);
  }
  return { enrollment, created: true };
}

export async function enrollByEmail(ctx: AppContext, actor: Actor, programId: string, email: string, sessionId: string): Promise<Enrollment> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const session = await getSessionOrThrow(ctx, actor.tenantId, sessionId);
  if (session.programId !== program.id) throw new MusterError('NOT_FOUND', `There is no session ${sessionId} in ${program.code}`);
  const learner = await ctx.store.learnerByEmail(actor.tenantId, email);
  if (!learner) throw new MusterError('NOT_FOUND', `${email} is not on the roster yet; import them first`, { details: [{ field: 'email', message: 'not on the roster' }] });
  const r = await enrollLearnerInSession(ctx, actor, program, session, learner);
  if (program.status === 'launched') await enqueueRecordsSync(ctx, program);
  return r.enrollment;
}

/** Cancels an enrollment; the next learner on the waitlist takes the seat and gets the invite. */
export async function cancelEnrollment(ctx: AppContext, actor: Actor, enrollmentId: string, reason: string): Promise<{ cancelled: Enrollment; promoted: Enrollment[] }> {
  const e = await ctx.store.getEnrollment(actor.tenantId, enrollmentId);
  if (!e) throw new MusterError('NOT_FOUND', `There is no enrollment ${enrollmentId}`);
  const program = await getProgramOrThrow(ctx, actor.tenantId, e.programId);
  const session = await getSessionOrThrow(ctx, actor.tenantId, e.sessionId);
  const now = nowIso(ctx);
  if (e.status === 'cancelled') return { cancelled: e, promoted: [] };
  const promotedIds: string[] = [];
  await ctx.store.tx(async (st) => {
    await st.updateEnrollment(actor.tenantId, e.id, { status: 'cancelled', waitPosition: null }, now);
    await st.cancelPendingJobs(actor.tenantId, { sessionId: e.sessionId, learnerId: e.learnerId }, 'the enrollment was cancelled', now);
    const all = await st.listEnrollments(actor.tenantId, { sessionId: e.sessionId });
    for (const p of promoteAfterCancellation(all, session.capacity)) {
      await st.updateEnrollment(actor.tenantId, p.id, { status: 'enrolled', waitPosition: null }, now);
      promotedIds.push(p.id);
    }
    await st.audit({ ...actor, action: 'enrollment.cancel', entity: 'enrollment', entityId: e.id, detail: { reason, promoted: promotedIds } }, now);
  });
  const promoted: Enrollment[] = [];
  for (const id of promotedIds) {
    const p = (await ctx.store.getEnrollment(actor.tenantId, id))!;
    promoted.push(p);
    const learner = await ctx.store.getLearner(actor.tenantId, p.learnerId);
    if (learner) await scheduleEnrollment(ctx, program, session, learner, p, { promoted: true });
  }
  if (program.status === 'launched') {
    const providers = await ctx.providersFor(actor.tenantId);
    if (!providers.calendar.invitesByMail) await enqueueEventSync(ctx, program, session);
    await enqueueRecordsSync(ctx, program);
  }
  return { cancelled: { ...e, status: 'cancelled' }, promoted };
}

/** A declined RSVP is shown, never acted on silently: the coordinator keeps the seat or frees it with this one action. */
export async function decideOnDecline(ctx: AppContext, actor: Actor, enrollmentId: string, decision: 'keep' | 'cancel'): Promise<Enrollment> {
  const e = await ctx.store.getEnrollment(actor.tenantId, enrollmentId);
  if (!e) throw new MusterError('NOT_FOUND', `There is no enrollment ${enrollmentId}`);
  if (decision === 'cancel') return (await cancelEnrollment(ctx, actor, enrollmentId, 'declined the invitation')).cancelled;
  await ctx.store.audit({ ...actor, action: 'enrollment.keep-after-decline', entity: 'enrollment', entityId: e.id }, nowIso(ctx));
  return e;
}
