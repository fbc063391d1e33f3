// Read models for the add-ins: what the Outlook compose flow puts on a meeting, and a session's state for the read pane.
import { inviteSubject } from '../domain/naming.js';
import { formatLocal } from '../domain/time.js';
import type { AppContext } from './context.js';
import { onlineLinkOf, renderEventBody } from './compose.js';
import { getProgramOrThrow, getSessionOrThrow } from './programs.js';

export async function inviteDraft(ctx: AppContext, tenantId: string, sessionId: string) {
  const session = await getSessionOrThrow(ctx, tenantId, sessionId);
  const program = await getProgramOrThrow(ctx, tenantId, session.programId);
  const enrolled = await ctx.store.listEnrollments(tenantId, { sessionId, status: 'enrolled' });
  const attendees = [];
  for (const e of enrolled) {
    const l = await ctx.store.getLearner(tenantId, e.learnerId);
    if (l) attendees.push({ email: l.email, name: l.name });
  }
  for (const i of session.instructors) attendees.push({ email: i, name: i });
  const localTimeText = `${formatLocal(session.start, session.zone, 'en')} – ${formatLocal(session.end, session.zone, 'en')}`;
  const body = renderEventBody(ctx, program, session);
  return {
    sessionId: session.id,
    programId: program.id,
    subject: inviteSubject(program, session),
    start: session.start,
    end: session.end,
    zone: session.zone,
    localTimeText,
    location: session.room ?? session.onlineUrl ?? '',
    onlineUrl: session.onlineUrl,
    bodyHtml: body.html,
    attendees,
  };
}

export async function sessionState(ctx: AppContext, tenantId: string, sessionId: string) {
  const session = await getSessionOrThrow(ctx, tenantId, sessionId);
  const program = await getProgramOrThrow(ctx, tenantId, session.programId);
  const enrollments = (await ctx.store.listEnrollments(tenantId, { sessionId })).filter((e) => e.status !== 'cancelled');
  const counts = { enrolled: 0, waitlisted: 0, accepted: 0, tentative: 0, declined: 0, noResponse: 0, present: 0, late: 0, excused: 0, absent: 0 };
  const prerequisites = program.materials.filter((m) => m.kind === 'prerequisite').map((m) => m.title);
  const learners = [];
  for (const e of enrollments) {
    const l = await ctx.store.getLearner(tenantId, e.learnerId);
    if (!l) continue;
    if (e.status === 'waitlisted') counts.waitlisted++;
    else {
      counts.enrolled++;
      if (e.rsvp === 'none') counts.noResponse++;
      else counts[e.rsvp]++;
      if (e.attendance) counts[e.attendance]++;
    }
    // Prerequisites are confirmed by the learner accepting after the prerequisite reminder; until then they count as missing.
    const missingPrerequisites = e.rsvp === 'accepted' ? [] : prerequisites;
    learners.push({ enrollmentId: e.id, learnerId: l.id, email: l.email, name: l.name, rsvp: e.rsvp, attendance: e.attendance, status: e.status, waitPosition: e.waitPosition, missingPrerequisites });
  }
  // The pane shows the link learners were sent: the coordinator's own or the one the calendar created.
  return { session: { ...session, onlineUrl: await onlineLinkOf(ctx, session) }, program: { id: program.id, name: program.name, code: program.code, status: program.status }, counts, learners };
}
