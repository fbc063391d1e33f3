// Program and session use cases: create, change, move, cancel and clone; each write is audited and queues the calendar and mail work it implies.
import { randomUUID } from 'node:crypto';
import { MusterError, type ErrorDetail } from '../domain/errors.js';
import { cloneProgram, DEFAULT_POLICY, sessionProblems, toUtcInstant } from '../domain/program.js';
import type { Program, Session } from '../domain/types.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import type { ProgramInput, SessionInput } from './schemas.js';
import { programPatch, sessionPatch } from './schemas.js';
import type { z } from 'zod';
import { enqueueEventSync, enqueueRecordsSync, replanSessionJobs, enqueueSessionNotices } from './jobs.js';

export async function getProgramOrThrow(ctx: AppContext, tenantId: string, idOrCode: string): Promise<Program> {
  const p = await ctx.store.findProgram(tenantId, idOrCode);
  if (!p) throw new MusterError('NOT_FOUND', `There is no program ${idOrCode}`);
  return p;
}

export async function getSessionOrThrow(ctx: AppContext, tenantId: string, id: string): Promise<Session> {
  const s = await ctx.store.getSession(tenantId, id);
  if (!s) throw new MusterError('NOT_FOUND', `There is no session ${id}`);
  return s;
}

function toSession(tenantId: string, programId: string, input: SessionInput, index: number | null): Session {
  const prefix = index === null ? '' : `sessions.${index}.`;
  const details: ErrorDetail[] = [];
  let start = input.start;
  let end = input.end;
  try {
    start = toUtcInstant(input.start, input.zone, `${prefix}start`);
    end = toUtcInstant(input.end, input.zone, `${prefix}end`);
  } catch (err) {
    if (err instanceof MusterError) details.push(...err.details);
    else throw err;
  }
  const session: Session = {
    id: randomUUID(),
    tenantId,
    programId,
    label: input.label,
    start,
    end,
    zone: input.zone,
    room: input.room,
    roomEmail: input.roomEmail,
    onlineUrl: input.onlineUrl,
    backupPlan: input.backupPlan,
    instructors: input.instructors,
    capacity: input.capacity,
    status: 'scheduled',
    generation: 1,
    sequence: 0,
  };
  if (details.length === 0) details.push(...sessionProblems(session, prefix));
  if (details.length > 0) throw new MusterError('VALIDATION_FAILED', `The session "${input.label}" is not valid: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`, { details });
  return session;
}

/** Checks a program's own records file against the tenant's provider (a Google Sheet id, an Excel item on a known drive); no request is made. */
async function checkRecordsSheet(ctx: AppContext, tenantId: string, code: string, recordsSheet: string | null | undefined): Promise<void> {
  if (!recordsSheet) return;
  (await ctx.providersFor(tenantId)).recordsFor(code, recordsSheet);
}

export async function createProgram(ctx: AppContext, actor: Actor, input: ProgramInput): Promise<{ program: Program; sessions: Session[] }> {
  const now = nowIso(ctx);
  if (await ctx.store.findProgram(actor.tenantId, input.code)) {
    throw new MusterError('CONFLICT', `A program with code ${input.code} already exists`, { details: [{ field: 'code', message: 'already used by another program' }] });
  }
  await checkRecordsSheet(ctx, actor.tenantId, input.code, input.recordsSheet);
  const program: Program = {
    id: randomUUID(),
    tenantId: actor.tenantId,
    name: input.name,
    code: input.code,
    owner: input.owner,
    audience: input.audience,
    agenda: input.agenda,
    materials: input.materials,
    reviewWindowDays: input.reviewWindowDays,
    assessmentName: input.assessmentName,
    policy: { ...DEFAULT_POLICY, ...input.policy },
    owners: { missedSessions: null, lateCompletions: null, questions: null, improvements: null, ...input.owners },
    showScoresToManagers: input.showScoresToManagers,
    enrollmentPath: input.enrollmentPath,
    recordsSheet: input.recordsSheet ?? null,
    rosterApproved: false,
    status: 'draft',
    clonedFrom: null,
    createdAt: now,
  };
  const sessions = input.sessions.map((s, i) => toSession(actor.tenantId, program.id, s, i));
  await ctx.store.tx(async (st) => {
    await st.insertProgram(program);
    for (const s of sessions) await st.insertSession(s, now);
    await st.audit({ ...actor, action: 'program.create', entity: 'program', entityId: program.id, detail: { code: program.code, sessions: sessions.length } }, now);
  });
  return { program, sessions };
}

export async function updateProgram(ctx: AppContext, actor: Actor, programId: string, patch: z.infer<typeof programPatch>): Promise<Program> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  await checkRecordsSheet(ctx, actor.tenantId, program.code, patch.recordsSheet);
  const now = nowIso(ctx);
  const next: Program = {
    ...program,
    ...Object.fromEntries(Object.entries(patch).filter(([k, v]) => v !== undefined && k !== 'policy' && k !== 'owners')),
    policy: { ...program.policy, ...(patch.policy ?? {}) },
    owners: { ...program.owners, ...(patch.owners ?? {}) },
  } as Program;
  await ctx.store.tx(async (st) => {
    await st.updateProgram(next, now);
    await st.audit({ ...actor, action: 'program.update', entity: 'program', entityId: program.id, detail: { fields: Object.keys(patch) } }, now);
  });
  if (next.status === 'launched') await enqueueRecordsSync(ctx, next);
  return next;
}

export async function addSession(ctx: AppContext, actor: Actor, programId: string, input: SessionInput): Promise<Session> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const session = toSession(actor.tenantId, program.id, input, null);
  const now = nowIso(ctx);
  await ctx.store.tx(async (st) => {
    await st.insertSession(session, now);
    await st.audit({ ...actor, action: 'session.create', entity: 'session', entityId: session.id, detail: { programId: program.id } }, now);
  });
  if (program.status === 'launched') {
    await enqueueEventSync(ctx, program, session);
    await enqueueRecordsSync(ctx, program);
  }
  return session;
}

/**
 * Changes a session. A new time raises SEQUENCE, patches the one event, reschedules only unsent reminders and gives
 * each learner one "session moved" notice (on the local provider it is the calendar update itself).
 */
export async function updateSession(ctx: AppContext, actor: Actor, sessionId: string, patch: z.infer<typeof sessionPatch>): Promise<Session> {
  const session = await getSessionOrThrow(ctx, actor.tenantId, sessionId);
  if (session.status === 'cancelled') throw new MusterError('CONFLICT', 'This session is cancelled; schedule it again before changing it');
  const program = await getProgramOrThrow(ctx, actor.tenantId, session.programId);
  const zone = patch.zone ?? session.zone;
  const start = patch.start ? toUtcInstant(patch.start, zone, 'start') : session.start;
  const end = patch.end ? toUtcInstant(patch.end, zone, 'end') : session.end;
  const next: Session = {
    ...session,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    start,
    end,
    zone,
  } as Session;
  const problems = sessionProblems(next);
  if (problems.length > 0) throw new MusterError('VALIDATION_FAILED', `The session is not valid: ${problems.map((d) => `${d.field} ${d.message}`).join('; ')}`, { details: problems });
  const moved = next.start !== session.start || next.end !== session.end;
  const visible = moved || next.room !== session.room || next.onlineUrl !== session.onlineUrl || next.label !== session.label || next.roomEmail !== session.roomEmail;
  if (visible) next.sequence = session.sequence + 1;
  const now = nowIso(ctx);
  await ctx.store.tx(async (st) => {
    await st.updateSession(next, now);
    await st.audit({ ...actor, action: moved ? 'session.move' : 'session.update', entity: 'session', entityId: session.id, detail: { from: session.start, to: next.start, fields: Object.keys(patch) } }, now);
  });
  if (program.status === 'launched') {
    if (moved) await replanSessionJobs(ctx, program, next);
    if (visible) {
      await enqueueEventSync(ctx, program, next);
      if (moved) await enqueueSessionNotices(ctx, program, next, 'session-moved');
    }
    await enqueueRecordsSync(ctx, program);
  }
  return next;
}

/** Cancels a session: the event is cancelled with a message, everyone enrolled or waiting is told, pending reminders stop. */
export async function cancelSession(ctx: AppContext, actor: Actor, sessionId: string, message: string): Promise<Session> {
  const session = await getSessionOrThrow(ctx, actor.tenantId, sessionId);
  if (session.status === 'cancelled') return session;
  const program = await getProgramOrThrow(ctx, actor.tenantId, session.programId);
  const now = nowIso(ctx);
  const next: Session = { ...session, status: 'cancelled', sequence: session.sequence + 1 };
  await ctx.store.tx(async (st) => {
    await st.updateSession(next, now);
    await st.cancelPendingJobs(actor.tenantId, { sessionId: session.id }, 'the session was cancelled', now);
    await st.audit({ ...actor, action: 'session.cancel', entity: 'session', entityId: session.id, detail: { message } }, now);
  });
  if (program.status === 'launched') {
    await enqueueEventSync(ctx, program, next, { cancelMessage: message || 'This session has been cancelled.' });
    await enqueueSessionNotices(ctx, program, next, 'session-cancelled', { includeWaitlisted: true, message });
    await enqueueRecordsSync(ctx, program);
  }
  return next;
}

/** Schedules a cancelled session again: a new generation, so a new event (the old one stays cancelled). */
export async function rescheduleSession(ctx: AppContext, actor: Actor, sessionId: string, patch: z.infer<typeof sessionPatch>): Promise<Session> {
  const session = await getSessionOrThrow(ctx, actor.tenantId, sessionId);
  if (session.status !== 'cancelled') return updateSession(ctx, actor, sessionId, patch);
  const program = await getProgramOrThrow(ctx, actor.tenantId, session.programId);
  const zone = patch.zone ?? session.zone;
  const next: Session = {
    ...session,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    start: patch.start ? toUtcInstant(patch.start, zone, 'start') : session.start,
    end: patch.end ? toUtcInstant(patch.end, zone, 'end') : session.end,
    zone,
    status: 'scheduled',
    generation: session.generation + 1,
    sequence: 0,
  } as Session;
  const now = nowIso(ctx);
  await ctx.store.tx(async (st) => {
    await st.updateSession(next, now);
    await st.audit({ ...actor, action: 'session.reschedule', entity: 'session', entityId: session.id, detail: { generation: next.generation } }, now);
  });
  if (program.status === 'launched') {
    await replanSessionJobs(ctx, program, next);
    await enqueueEventSync(ctx, program, next);
    await enqueueRecordsSync(ctx, program);
  }
  return next;
}

export async function cloneProgramUseCase(ctx: AppContext, actor: Actor, programId: string, next: { code: string; name?: string }): Promise<Program> {
  const template = await getProgramOrThrow(ctx, actor.tenantId, programId);
  if (await ctx.store.findProgram(actor.tenantId, next.code)) {
    throw new MusterError('CONFLICT', `A program with code ${next.code} already exists`, { details: [{ field: 'code', message: 'already used by another program' }] });
  }
  const now = nowIso(ctx);
  const notes = await ctx.store.listImprovementNotes(actor.tenantId, template.id);
  const cloned = cloneProgram(template, { id: randomUUID(), code: next.code, ...(next.name ? { name: next.name } : {}), now }, notes);
  // The next cohort is another program: its records go to the configured file until it is given its own.
  cloned.program.recordsSheet = null;
  await ctx.store.tx(async (st) => {
    await st.insertProgram(cloned.program);
    for (const n of cloned.notes) await st.upsertImprovementNote(n);
    for (const t of await st.listTemplates(actor.tenantId, template.id)) await st.putTemplate(actor.tenantId, cloned.program.id, t.kind, t.language, t.subject, t.body, now);
    await st.audit({ ...actor, action: 'program.clone', entity: 'program', entityId: cloned.program.id, detail: { from: template.id, notesCarried: cloned.notes.length } }, now);
  });
  return cloned.program;
}
