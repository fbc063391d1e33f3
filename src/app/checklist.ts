// Gathers a program's state for the launch checklist (store, budgets, provider readiness) and records sign-offs.
import { computeChecklist, overlappingSessions } from '../domain/checklist.js';
import { MusterError } from '../domain/errors.js';
import type { JobKind } from '../domain/schedule.js';
import type { ChecklistItem, Program, Session } from '../domain/types.js';
import type { BusyInterval } from '../ports/index.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { getProgramOrThrow } from './programs.js';

const SCHEDULE_KINDS = ['reminder', 'prerequisite', 'catch-up', 'follow-up', 'completion-due', 'overdue-escalation', 'recertify', 'digest'];

/**
 * The program's checklist. Reads are narrow and indexed (counts, the flagged learners, the first few of each problem), so
 * the cost follows the sessions and the problems, not the roster. `withProviders` also asks the calendar for readiness
 * and the instructors' free/busy (launch does; the sidebar's and pane's GET does not, so no provider call is on its path).
 */
export async function programChecklist(ctx: AppContext, program: Program, opts: { withProviders: boolean }): Promise<ChecklistItem[]> {
  const t = program.tenantId;
  const now = ctx.clock.now();
  const providers = await ctx.providersFor(t);
  const sessions = await ctx.store.listSessions(t, program.id);
  const otherSessions: Session[] = [];
  const programOrder = [program.id];
  for (const p of await ctx.store.listPrograms(t)) {
    if (p.id === program.id || p.status === 'archived') continue;
    programOrder.push(p.id);
    otherSessions.push(...(await ctx.store.listSessions(t, p.id)));
  }
  const overlap = overlappingSessions(sessions, otherSessions.filter((s) => s.programId !== program.id));
  const facts = await ctx.store.checklistRoster(t, program.id, {
    instructors: [...new Set(sessions.flatMap((s) => s.instructors))],
    overlapMine: overlap.mine,
    overlapAny: overlap.any,
    programOrder,
  });
  // Every counter in one round trip; the lists behind a counter are read only when it is not zero.
  const counts = await ctx.store.checklistCounts(t, program.id, {
    mailbox: providers.sender.email,
    since: new Date(now.getTime() - 24 * 3600_000).toISOString(),
    jobKinds: program.status === 'launched' ? SCHEDULE_KINDS : [],
    jobStatuses: ['pending', 'done', 'running'],
  });
  const scheduledJobKinds = program.status === 'launched' ? (counts.jobKinds as JobKind[]) : undefined;

  const sentToday = counts.sends;
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
  const tenant = counts.tenant;
  if (tenant && tenant.consentState === 'failed') {
    providerItems.push({ id: 'provider.credentials', area: 'provider', status: 'blocking', reason: `Muster's access to ${tenant.provider === 'google' ? 'Google Workspace' : 'Microsoft 365'} stopped working (consent revoked or credentials expired); jobs are paused until an admin fixes it`, owner: program.owner, signedOff: null });
  }
  if (!providers.directory && providers.calendar.provider === 'google') {
    providerItems.push({ id: 'provider.directory', area: 'provider', status: 'warning', reason: 'No directory administrator is configured: managers come from the roster\'s Manager Email column and enrolling a whole group is off', owner: program.owner, signedOff: null });
  }
  if (providers.calendar.provider === 'microsoft') {
    // Exchange Online caps an event at 500 attendees: such a session must be split before it can be one meeting.
    for (const s of sessions.filter((x) => x.status === 'scheduled')) {
      const seats = (facts.seats[s.id]?.enrolled ?? 0) + s.instructors.length + (s.roomEmail ? 1 : 0);
      if (seats > 500) {
        providerItems.push({ id: `sessions.${s.id}.attendee-limit`, area: 'sessions', status: 'blocking', reason: `Session '${s.label}' has ${seats} attendees; an Outlook meeting holds at most 500. Split it into smaller sessions (lower its capacity and add a session).`, owner: program.owner, signedOff: null });
      }
    }
  }
  const unknown = { count: counts.unknownMessages, first: counts.unknownMessages > 0 ? await ctx.store.programMessagesWithStatus(t, program.id, 'unknown', 5) : [] };
  if (unknown.count > 0) {
    providerItems.push({ id: 'sending.unknown', area: 'sending', status: 'warning', reason: `${unknown.count} message(s) may or may not have arrived (the mail server did not confirm); Muster did not resend them: ${unknown.first.map((m) => `${m.kind} to ${m.recipient}`).join(', ')}`, owner: program.owner, signedOff: null });
  }
  const failedMail = { count: counts.failedMessages, first: counts.failedMessages > 0 ? await ctx.store.programMessagesWithStatus(t, program.id, 'failed', 3) : [] };
  if (failedMail.count > 0) {
    providerItems.push({ id: 'sending.failed', area: 'sending', status: 'warning', reason: `${failedMail.count} message(s) could not be sent: ${failedMail.first.map((m) => `${m.kind} to ${m.recipient} (${m.error ?? 'rejected'})`).join('; ')}`, owner: program.owner, signedOff: null });
  }
  const failedJobs = program.status === 'launched' ? { count: counts.failedJobs, first: counts.failedJobs > 0 ? await ctx.store.programJobsWithStatus(t, program.id, 'failed', 3) : [] } : { count: 0, first: [] };
  if (failedJobs.count > 0) {
    providerItems.push({ id: 'schedule.failed', area: 'schedule', status: 'blocking', reason: `${failedJobs.count} scheduled task(s) failed: ${failedJobs.first.map((j) => `${j.kind} (${j.last_error ?? 'error'})`).join('; ')}`, owner: program.owner, signedOff: null });
  }
  const conflicts = counts.has.conflicts ? await ctx.store.getBaseline(t, program.id, '#conflicts') : new Map<string, Record<string, unknown>>();
  if (conflicts.size > 0) {
    providerItems.push({ id: 'records.conflicts', area: 'provider', status: 'warning', reason: `${conflicts.size} cell(s) in the records were edited by hand where Muster also writes; they were kept, not overwritten: ${[...conflicts.values()].slice(0, 3).map((c) => `${c.tab} ${c.column} "${c.theirs}"`).join(', ')}`, owner: program.owner, signedOff: null });
  }
  const undeliverable = facts.bouncedAnyStatus;
  if (undeliverable.count > 0) {
    providerItems.push({ id: 'roster.undeliverable', area: 'roster', status: 'warning', reason: `Mail to ${undeliverable.count} learner(s) bounced: ${undeliverable.emails.join(', ')}`, owner: program.owner, signedOff: null });
  }
  const rejectCount = counts.rosterRejects;
  if (rejectCount > 0) {
    const rejects = await ctx.store.listRosterRejects(t, program.id, 3);
    providerItems.push({ id: 'roster.rejected-rows', area: 'roster', status: 'warning', reason: `${rejectCount} roster row(s) were not imported and wait for correction: ${rejects.map((r) => `row ${r.rowNumber} (${r.reasons.map((x) => x.message).join(', ')})`).join('; ')}`, owner: program.owner, signedOff: null });
  }
  if (program.showScoresToManagers && providers.calendar.provider === 'google') {
    providerItems.push({ id: 'records.scores-visible', area: 'provider', status: 'warning', reason: 'The shared Sheet shows assessment scores to everyone who can open it; filter views do not hide rows', owner: program.owner, signedOff: null });
  }

  const items = computeChecklist(
    {
      program,
      sessions,
      facts,
      signoffs: counts.has.signoffs ? await ctx.store.listSignoffs(t, program.id) : {},
      ...(scheduledJobKinds ? { scheduledJobKinds } : {}),
      ...(busy ? { busy } : {}),
      otherSessions,
      observedNames: { mailSubjects: counts.has.messages ? await ctx.store.recentMessageSubjects(t, program.id, 50) : [] },
      mailboxes: [{ mailbox: providers.sender.email, dailyUsedFraction }],
      providerItems,
      improvementNotes: counts.has.notes ? await ctx.store.listImprovementNotes(t, program.id) : [],
    },
    now,
  );
  // Subjects that kept their canonical name are not worth a line each.
  return items.filter((i) => !(i.id.startsWith('naming.mail.') && i.status === 'ok'));
}

export async function signOff(ctx: AppContext, actor: Actor, programId: string, itemId: string, note: string): Promise<ChecklistItem> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const items = await programChecklist(ctx, program, { withProviders: false });
  const item = items.find((i) => i.id === itemId);
  if (!item) throw new MusterError('NOT_FOUND', `The checklist of ${program.code} has no item ${itemId}`);
  const now = nowIso(ctx);
  await ctx.store.putSignoff(actor.tenantId, program.id, itemId, actor.actor, note, now);
  await ctx.store.audit({ ...actor, action: 'checklist.signoff', entity: 'program', entityId: program.id, detail: { itemId, note } }, now);
  return { ...item, signedOff: { by: actor.actor, note, at: now } };
}
