// Keeps each session's one calendar event in step with the store: create once by key, patch on change, cancel; never a second event.
import { eventCreateKey } from '../domain/program.js';
import { inviteSubject } from '../domain/naming.js';
import type { Learner, Program, Session } from '../domain/types.js';
import type { EventRef, SessionEvent } from '../ports/index.js';
import type { SessionEventRow } from '../store/store.js';
import type { AppContext, ProviderSet } from './context.js';
import { nowIso } from './context.js';
import { renderEventBody } from './compose.js';

/** The calendar's view of a session: subject from the canonical name, learners and instructors as attendees. */
export function toSessionEvent(ctx: AppContext, providers: ProviderSet, program: Program, session: Session, learners: Learner[]): SessionEvent {
  const body = renderEventBody(ctx, program, session);
  return {
    tenantId: session.tenantId,
    sessionId: session.id,
    createKey: eventCreateKey(session.tenantId, session.id, session.generation),
    subject: inviteSubject(program, session),
    bodyHtml: body.html,
    bodyText: body.text,
    start: session.start,
    end: session.end,
    zone: session.zone,
    location: session.room,
    roomEmail: session.roomEmail,
    onlineUrl: session.onlineUrl,
    wantOnlineMeeting: session.onlineUrl === null,
    organizer: providers.sender,
    attendees: [
      ...learners.map((l) => ({ email: l.email, name: l.name, role: 'learner' as const })),
      ...session.instructors.map((email) => ({ email, name: email, role: 'instructor' as const })),
    ],
    sequence: session.sequence,
  };
}

function refOf(row: SessionEventRow | undefined): EventRef | null {
  if (!row || !row.external_id || (row.state !== 'created' && row.state !== 'adopted')) return null;
  return { provider: row.provider, externalId: row.external_id, joinUrl: row.join_url };
}

export async function storedEventRef(ctx: AppContext, session: Session): Promise<EventRef | null> {
  return refOf(await ctx.store.getSessionEvent(session.tenantId, session.id, session.generation));
}

/**
 * Makes sure the session has its event. The create key is stored before the call; when a row for it was already there
 * (a crash, an unknown outcome or a retry: an earlier attempt may have reached the provider), the provider is told
 * the event may exist and finds it by that key before creating anything. A first attempt creates straight away. A
 * meeting the coordinator already sent from Outlook with the add-in is adopted instead of created.
 */
export async function ensureSessionEvent(ctx: AppContext, providers: ProviderSet, program: Program, session: Session, learners: Learner[]): Promise<EventRef> {
  const before = await ctx.store.getSessionEvent(session.tenantId, session.id, session.generation);
  const existing = refOf(before);
  if (existing) return existing;
  const mayExist = before !== undefined;
  const ev = toSessionEvent(ctx, providers, program, session, learners);
  const { calendar } = providers;
  await ctx.store.putSessionEvent({
    tenant_id: session.tenantId,
    session_id: session.id,
    generation: session.generation,
    create_key: ev.createKey,
    provider: calendar.provider,
    external_id: null,
    join_url: null,
    state: 'creating',
    updated_at: nowIso(ctx),
  });
  if (calendar.findAdoptable) {
    const adopted = await calendar.findAdoptable(ev);
    if (adopted) {
      await recordRef(ctx, session, ev.createKey, adopted, 'adopted');
      ctx.logger.info('calendar.adopted', { sessionId: session.id, provider: calendar.provider });
      // The coordinator's meeting may lack learners who enrolled later: bring its attendees up to date.
      const updated = await calendar.updateEvent(adopted, ev);
      await recordRef(ctx, session, ev.createKey, updated, 'adopted');
      return updated;
    }
  }
  const ref = await calendar.ensureEvent(ev, { mayExist });
  await recordRef(ctx, session, ev.createKey, ref, 'created');
  return ref;
}

export async function updateSessionEvent(ctx: AppContext, providers: ProviderSet, program: Program, session: Session, learners: Learner[]): Promise<EventRef | null> {
  const ref = await storedEventRef(ctx, session);
  if (!ref) return null;
  const ev = toSessionEvent(ctx, providers, program, session, learners);
  const updated = await providers.calendar.updateEvent(ref, ev);
  const row = await ctx.store.getSessionEvent(session.tenantId, session.id, session.generation);
  await recordRef(ctx, session, ev.createKey, updated, (row?.state as 'created' | 'adopted') ?? 'created');
  return updated;
}

export async function cancelSessionEvent(ctx: AppContext, providers: ProviderSet, program: Program, session: Session, learners: Learner[], message: string): Promise<void> {
  const ref = await storedEventRef(ctx, session);
  if (!ref) return;
  const ev = toSessionEvent(ctx, providers, program, session, learners);
  await providers.calendar.cancelEvent(ref, ev, message);
  await ctx.store.putSessionEvent({
    tenant_id: session.tenantId,
    session_id: session.id,
    generation: session.generation,
    create_key: ev.createKey,
    provider: ref.provider,
    external_id: ref.externalId,
    join_url: ref.joinUrl,
    state: 'cancelled',
    updated_at: nowIso(ctx),
  });
}

async function recordRef(ctx: AppContext, session: Session, createKey: string, ref: EventRef, state: 'created' | 'adopted'): Promise<void> {
  await ctx.store.putSessionEvent({
    tenant_id: session.tenantId,
    session_id: session.id,
    generation: session.generation,
    create_key: createKey,
    provider: ref.provider,
    external_id: ref.externalId,
    join_url: ref.joinUrl,
    state,
    updated_at: nowIso(ctx),
  });
}
