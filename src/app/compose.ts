// Turns a program, session and learner into the words of one message (templates, local times, signed RSVP links); sends nothing.
import { completionStatus } from '../domain/schedule.js';
import { describeLead, learnerVars, programVars, renderMessage, sessionVars, type MessageKind, type TemplateOverrides, type TemplateVars } from '../domain/templates.js';
import { formatLocal } from '../domain/time.js';
import type { Enrollment, Learner, Program, Session } from '../domain/types.js';
import { signRsvpToken } from '../providers/local/rsvp-token.js';
import type { AppContext, ProviderSet } from './context.js';

export async function templateOverrides(ctx: AppContext, program: Program): Promise<TemplateOverrides> {
  const rows = await ctx.store.listTemplates(program.tenantId, program.id);
  const out: TemplateOverrides = {};
  for (const r of rows) (out[r.kind as MessageKind] ??= {})[r.language] = r.body;
  return out;
}

/** Signed Accept / Tentative / Decline links for one enrollment, valid until a day after the session ends. */
export function rsvpLinks(ctx: AppContext, enrollment: Enrollment, session: Session): { acceptUrl: string; tentativeUrl: string; declineUrl: string } {
  const exp = Math.floor(Date.parse(session.end) / 1000) + 24 * 3600;
  const link = (response: 'accepted' | 'tentative' | 'declined') =>
    `${ctx.publicUrl}/rsvp/${signRsvpToken({ tenantId: enrollment.tenantId, enrollmentId: enrollment.id, response, exp }, ctx.rsvpSecret)}`;
  return { acceptUrl: link('accepted'), tentativeUrl: link('tentative'), declineUrl: link('declined') };
}

export interface LearnerMessageInput {
  kind: string;
  program: Program;
  session: Session | null;
  learner: Learner;
  enrollment: Enrollment | null;
  extra: Record<string, unknown>;
}

/**
 * The session's online link: the coordinator's own, else the Teams or Meet link the calendar created for the session's
 * event (recorded with the event), so reminders and follow-ups carry the same link as the invitation.
 */
export async function onlineLinkOf(ctx: AppContext, session: Session): Promise<string | null> {
  if (session.onlineUrl) return session.onlineUrl;
  const row = await ctx.store.getSessionEvent(session.tenantId, session.id, session.generation);
  return row?.join_url ?? null;
}

export async function composeLearnerMessage(ctx: AppContext, providers: ProviderSet, input: LearnerMessageInput): Promise<{ subject: string; text: string; html: string }> {
  const { program, session, learner, enrollment } = input;
  const lang = learner.language || 'en';
  const vars: TemplateVars = {
    ...programVars(program),
    ...learnerVars(learner),
    coordinatorName: providers.sender.name,
    coordinatorEmail: providers.sender.email,
  };
  if (session) Object.assign(vars, sessionVars({ ...session, onlineUrl: await onlineLinkOf(ctx, session) }, learner.zone, lang));
  const kind = input.kind as MessageKind;
  const offset = input.extra.offsetMinutes;
  if (typeof offset === 'number') vars.lead = describeLead(offset, lang);
  else if (kind === 'reminder' && session) vars.lead = `on ${formatLocal(session.start, learner.zone, lang)}`;
  // Invitations and reminders carry RSVP links wherever Muster, not a vendor calendar, collects the answers.
  if (session && enrollment && providers.calendar.invitesByMail && ['invite', 'reminder', 'catch-up', 'session-moved', 'waitlist-promoted', 'nudge'].includes(kind)) {
    Object.assign(vars, rsvpLinks(ctx, enrollment, session));
  }
  if (typeof input.extra.dueAt === 'string') vars.dueDate = formatLocal(input.extra.dueAt, learner.zone, lang);
  if (typeof input.extra.message === 'string' && input.extra.message) vars.message = input.extra.message;
  const offer = input.extra.offer as Session | null | undefined;
  if (offer) {
    vars.nextSessionLabel = offer.label;
    vars.nextSessionTime = formatLocal(offer.start, learner.zone, lang);
  }
  const renderKind: MessageKind = kind === 'nudge' ? 'nudge' : kind;
  return renderMessage(renderKind, lang, vars, await templateOverrides(ctx, program));
}

export async function composeManagerMessage(
  ctx: AppContext,
  providers: ProviderSet,
  input: { kind: 'digest' | 'escalation'; program: Program; managerEmail: string; learners: Learner[] },
): Promise<{ subject: string; text: string; html: string }> {
  const { program, learners } = input;
  const now = ctx.clock.now();
  const completions = new Map((await ctx.store.listCompletions(program.tenantId, program.id)).map((c) => [c.learnerId, c]));
  const zone = learners[0]?.zone ?? 'UTC';
  const vars: TemplateVars = { ...programVars(program), coordinatorName: providers.sender.name, coordinatorEmail: providers.sender.email };
  if (input.kind === 'escalation') {
    const l = learners[0]!;
    Object.assign(vars, learnerVars(l));
    const c = completions.get(l.id);
    vars.dueDate = c?.dueAt ? formatLocal(c.dueAt, zone, 'en') : 'the due date';
  } else {
    const lines: string[] = [];
    for (const l of learners) {
      const status = completionStatus(completions.get(l.id) ?? null, now, program.policy.recertifyAfterDays);
      const enrollments = await ctx.store.listEnrollments(program.tenantId, { programId: program.id, learnerId: l.id });
      const attended = enrollments.filter((e) => e.attendance === 'present' || e.attendance === 'late').length;
      lines.push(`- ${l.name} (${l.email}): ${status.replace('-', ' ')}, attended ${attended} of ${enrollments.filter((e) => e.status === 'enrolled').length} sessions`);
    }
    vars.digest = lines.join('\n');
  }
  return renderMessage(input.kind, 'en', vars, await templateOverrides(ctx, program));
}

/** The calendar event's own body (one per session, not per learner): times in the session's zone. */
export function renderEventBody(ctx: AppContext, program: Program, session: Session): { text: string; html: string } {
  const vars: TemplateVars = { ...programVars(program), ...sessionVars(session, session.zone, 'en'), learnerName: 'everyone' };
  const r = renderMessage('invite', 'en', vars);
  return { text: r.text, html: r.html };
}
