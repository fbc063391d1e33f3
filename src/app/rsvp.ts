// RSVP without a vendor: a signed link records the learner's answer in the roster; a declined answer waits for the coordinator's decision.
import { verifyRsvpToken } from '../providers/local/rsvp-token.js';
import { MusterError } from '../domain/errors.js';
import type { Rsvp } from '../domain/types.js';
import type { AppContext } from './context.js';
import { nowIso } from './context.js';
import { enqueueRecordsSync } from './jobs.js';

export async function recordRsvp(ctx: AppContext, token: string): Promise<{ response: Rsvp; sessionLabel: string; programName: string; start: string; zone: string }> {
  const payload = verifyRsvpToken(token, ctx.rsvpSecret, Math.floor(ctx.clock.now().getTime() / 1000));
  const e = await ctx.store.getEnrollment(payload.tenantId, payload.enrollmentId);
  if (!e || e.status === 'cancelled') throw new MusterError('NOT_FOUND', 'This enrollment no longer exists; your coordinator has changed it.');
  const session = await ctx.store.getSession(e.tenantId, e.sessionId);
  const program = await ctx.store.getProgram(e.tenantId, e.programId);
  if (!session || !program) throw new MusterError('NOT_FOUND', 'This session no longer exists.');
  const now = nowIso(ctx);
  if (e.rsvp !== payload.response) {
    await ctx.store.updateEnrollment(e.tenantId, e.id, { rsvp: payload.response }, now);
    await ctx.store.audit({ tenantId: e.tenantId, actor: `learner:${e.learnerId}`, surface: 'rsvp', action: 'rsvp.record', entity: 'enrollment', entityId: e.id, detail: { response: payload.response } }, now);
    if (program.status === 'launched') await enqueueRecordsSync(ctx, program);
  }
  return { response: payload.response, sessionLabel: session.label, programName: program.name, start: session.start, zone: session.zone };
}

/** Reads attendees' answers from a vendor calendar into the roster (Graph and Google; the local calendar has none to read). */
export async function pullResponses(ctx: AppContext, tenantId: string, programId: string): Promise<number> {
  const providers = await ctx.providersFor(tenantId);
  if (providers.calendar.invitesByMail) return 0;
  const { storedEventRef } = await import('./events.js');
  let changed = 0;
  const now = nowIso(ctx);
  for (const s of await ctx.store.listSessions(tenantId, programId)) {
    if (s.status !== 'scheduled') continue;
    const ref = await storedEventRef(ctx, s);
    if (!ref) continue;
    const answers = new Map((await providers.calendar.readResponses(ref)).map((a) => [a.email.toLowerCase(), a.rsvp]));
    for (const e of await ctx.store.listEnrollments(tenantId, { sessionId: s.id })) {
      const l = await ctx.store.getLearner(tenantId, e.learnerId);
      const r = l ? answers.get(l.email) : undefined;
      if (r && r !== e.rsvp) {
        await ctx.store.updateEnrollment(tenantId, e.id, { rsvp: r }, now);
        changed++;
      }
    }
  }
  return changed;
}
