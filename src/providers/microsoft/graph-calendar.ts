// CalendarPort on Outlook calendars through Graph: one event per session created exactly once (looked up by its create key when an earlier attempt may exist), patched, cancelled, read back; it never touches the store.
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { ChecklistItem, Rsvp } from '../../domain/types.js';
import type { AttendeeResponse, BusyInterval, CalendarPort, EventRef, Logger, SessionEvent } from '../../ports/index.js';
import { CREATE_KEY_PROPERTY_ID, GRAPH_LIMITS, PREFER_UTC, TEAMS_PROVIDER, addinPropertyId } from './constants.js';
import { type MusterGraphClient, query } from './graph-client.js';

export const MICROSOFT_PROVIDER = 'microsoft';

export interface GraphCalendarOptions {
  client: MusterGraphClient;
  /** The mailbox that owns the events (MS_ORGANIZER). */
  organizer: string;
  /** The Outlook add-in's manifest id, for adopting meetings sent from Outlook; null turns adoption off. */
  addinId: string | null;
  logger: Logger;
  /** Throws a MusterError when the tenant's credentials fail (used by readiness). */
  checkCredentials: () => Promise<void>;
}

interface GraphEvent {
  id: string;
  isCancelled?: boolean;
  onlineMeeting?: { joinUrl?: string | null } | null;
  attendees?: Array<{ type?: string; emailAddress?: { address?: string }; status?: { response?: string } }>;
  singleValueExtendedProperties?: Array<{ id: string; value: string }>;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** OData string literal: single quotes doubled. */
function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A stable GUID-shaped transactionId derived from the create key (same key, same id). */
export function transactionIdFor(createKey: string): string {
  const h = createHash('sha256').update(`muster-event:${createKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function toZoned(isoUtc: string, zone: string): { dateTime: string; timeZone: string } {
  const dt = DateTime.fromISO(isoUtc, { zone: 'utc' }).setZone(zone);
  if (!dt.isValid) throw new MusterError('VALIDATION_FAILED', `The session's time zone '${zone}' is not a valid IANA zone.`, { details: [{ field: 'zone', message: 'invalid IANA zone' }] });
  return { dateTime: dt.toFormat("yyyy-MM-dd'T'HH:mm:ss"), timeZone: zone };
}

/** Required attendees (instructors, learners; each address once) and the room as a resource. */
function toGraphAttendees(ev: SessionEvent): Array<Record<string, unknown>> {
  const seen = new Set<string>([ev.organizer.email.toLowerCase()]);
  const out: Array<Record<string, unknown>> = [];
  const ordered = [...ev.attendees.filter((a) => a.role === 'instructor'), ...ev.attendees.filter((a) => a.role === 'learner')];
  for (const a of ordered) {
    const key = a.email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type: 'required', emailAddress: { address: a.email, name: a.name } });
  }
  if (ev.roomEmail && !seen.has(ev.roomEmail.toLowerCase())) {
    out.push({ type: 'resource', emailAddress: { address: ev.roomEmail, name: ev.location ?? ev.roomEmail } });
  }
  if (out.length > GRAPH_LIMITS.attendeesPerEvent) {
    throw new MusterError('LIMIT_EXCEEDED', `An Outlook meeting can have at most ${GRAPH_LIMITS.attendeesPerEvent} attendees; this session has ${out.length}. Split the session into smaller cohorts.`, {
      details: [{ field: 'attendees', message: `${out.length} > ${GRAPH_LIMITS.attendeesPerEvent}` }],
    });
  }
  return out;
}

/** The Graph event body for a session (without the create key and transactionId, which only creates carry). */
export function toGraphEvent(ev: SessionEvent): Record<string, unknown> {
  const online = ev.onlineUrl
    ? `<p>Join online: <a href="${escapeHtml(ev.onlineUrl)}">${escapeHtml(ev.onlineUrl)}</a></p>`
    : '';
  const content = ev.bodyHtml.trim() !== '' ? ev.bodyHtml : `<p>${escapeHtml(ev.bodyText).replace(/\n/g, '<br>')}</p>`;
  const wantsTeams = ev.wantOnlineMeeting && !ev.onlineUrl;
  const location = ev.location ?? (ev.roomEmail ? ev.roomEmail : null);
  return {
    subject: ev.subject,
    body: { contentType: 'html', content: `${content}${online}` },
    start: toZoned(ev.start, ev.zone),
    end: toZoned(ev.end, ev.zone),
    ...(location
      ? { location: { displayName: location, locationType: ev.roomEmail ? 'conferenceRoom' : 'default', ...(ev.roomEmail ? { locationEmailAddress: ev.roomEmail } : {}) } }
      : {}),
    attendees: toGraphAttendees(ev),
    responseRequested: true,
    allowNewTimeProposals: false,
    ...(wantsTeams ? { isOnlineMeeting: true, onlineMeetingProvider: TEAMS_PROVIDER } : {}),
  };
}

function fromGraphResponse(response: string | undefined): Rsvp {
  switch (response) {
    case 'accepted':
      return 'accepted';
    case 'tentativelyAccepted':
      return 'tentative';
    case 'declined':
      return 'declined';
    default:
      return 'none';
  }
}

export class GraphCalendar implements CalendarPort {
  readonly provider = MICROSOFT_PROVIDER;
  readonly invitesByMail = false;

  constructor(private readonly o: GraphCalendarOptions) {}

  private get base(): string {
    return `/users/${encodeURIComponent(this.o.organizer)}`;
  }

  private opts(retry: 'idempotent' | 'keyed' | 'never', headers?: Record<string, string>) {
    return { mailbox: this.o.organizer, retry, ...(headers ? { headers } : {}) };
  }

  private toRef(e: GraphEvent): EventRef {
    return { provider: MICROSOFT_PROVIDER, externalId: e.id, joinUrl: e.onlineMeeting?.joinUrl ?? null };
  }

  /** A created event without the Teams link it asked for is a failure (Graph answers 201 without it). */
  private assertJoinUrl(ev: SessionEvent, e: GraphEvent): EventRef {
    const ref = this.toRef(e);
    if (ev.wantOnlineMeeting && !ev.onlineUrl && !ref.joinUrl) {
      throw new MusterError(
        'PROVIDER_REJECTED',
        `The meeting for "${ev.subject}" was created without a Teams link: Teams meetings are not enabled for the organizer mailbox ${this.o.organizer}. An administrator must allow Teams (teamsForBusiness) as its online meeting provider, or the session needs its own online link.`,
        { details: [{ field: 'externalId', message: e.id }] },
      );
    }
    return ref;
  }

  /** Finds the session's event by the create key written into it; null when there is none. */
  async findByCreateKey(createKey: string): Promise<GraphEvent | null> {
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq ${odataString(CREATE_KEY_PROPERTY_ID)} and ep/value eq ${odataString(createKey)})`;
    const page = await this.o.client.get<{ value: GraphEvent[] }>(
      `${this.base}/events${query({ $filter: filter, $select: 'id,subject,isCancelled,onlineMeeting', $top: 5 })}`,
      this.opts('idempotent', { Prefer: PREFER_UTC }),
    );
    if (page.value.length > 1) this.o.logger.warn('graph.calendar.duplicate_key', { count: page.value.length });
    return page.value[0] ?? null;
  }

  /**
   * Creates the session's event once. With `mayExist` (an earlier attempt may have reached Graph) it looks the event up
   * by its create key first; a first attempt posts straight away. Either way, after an unknown outcome it looks up
   * before posting again; transactionId is a second defence inside Graph's dedupe window.
   */
  async ensureEvent(ev: SessionEvent, opts: { mayExist?: boolean } = {}): Promise<EventRef> {
    const body = {
      ...toGraphEvent(ev),
      transactionId: transactionIdFor(ev.createKey),
      singleValueExtendedProperties: [{ id: CREATE_KEY_PROPERTY_ID, value: ev.createKey }],
    };
    let lastUnknown: MusterError | null = null;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (opts.mayExist || lastUnknown) {
        const existing = await this.findByCreateKey(ev.createKey);
        if (existing) return this.assertJoinUrl(ev, existing);
      }
      try {
        const created = await this.o.client.request<GraphEvent>('POST', `${this.base}/events`, body, this.opts('keyed'));
        this.o.logger.info('graph.calendar.created', { sessionId: ev.sessionId });
        return this.assertJoinUrl(ev, created);
      } catch (err) {
        if (!isMusterError(err, 'OUTCOME_UNKNOWN')) throw err;
        // The create may have happened: look it up by its key before trying again.
        lastUnknown = err;
        this.o.logger.warn('graph.calendar.create_unknown', { sessionId: ev.sessionId, attempt: attempt + 1 });
      }
    }
    throw lastUnknown ?? new MusterError('OUTCOME_UNKNOWN', `Could not confirm the meeting for "${ev.subject}".`);
  }

  async updateEvent(ref: EventRef, ev: SessionEvent): Promise<EventRef> {
    const patched = await this.o.client.request<GraphEvent>('PATCH', `${this.base}/events/${encodeURIComponent(ref.externalId)}`, toGraphEvent(ev), this.opts('idempotent'));
    return this.assertJoinUrl(ev, { ...patched, onlineMeeting: patched.onlineMeeting ?? (ref.joinUrl ? { joinUrl: ref.joinUrl } : null) });
  }

  async cancelEvent(ref: EventRef, ev: SessionEvent, message: string): Promise<void> {
    try {
      await this.o.client.request('POST', `${this.base}/events/${encodeURIComponent(ref.externalId)}/cancel`, { Comment: message }, this.opts('idempotent'));
    } catch (err) {
      if (isMusterError(err, 'NOT_FOUND')) {
        this.o.logger.warn('graph.calendar.cancel_missing', { sessionId: ev.sessionId });
        return;
      }
      throw err;
    }
  }

  async findAdoptable(ev: SessionEvent): Promise<EventRef | null> {
    if (!this.o.addinId) return null;
    const propId = addinPropertyId(this.o.addinId);
    const value = JSON.stringify({ musterSessionId: ev.sessionId });
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq ${odataString(propId)} and ep/value eq ${odataString(value)})`;
    const page = await this.o.client.get<{ value: GraphEvent[] }>(
      `${this.base}/events${query({ $filter: filter, $expand: `singleValueExtendedProperties($filter=id eq ${odataString(propId)})`, $select: 'id,isCancelled,onlineMeeting', $top: 5 })}`,
      this.opts('idempotent'),
    );
    const match = page.value.find((e) => {
      if (e.isCancelled) return false;
      const raw = e.singleValueExtendedProperties?.find((p) => p.id.toLowerCase() === propId.toLowerCase())?.value;
      try {
        return raw !== undefined && (JSON.parse(raw) as { musterSessionId?: unknown }).musterSessionId === ev.sessionId;
      } catch (err) {
        this.o.logger.warn('graph.calendar.addin_property_unreadable', { error: err instanceof Error ? err.name : 'unknown' });
        return false;
      }
    });
    return match ? this.toRef(match) : null;
  }

  async readResponses(ref: EventRef): Promise<AttendeeResponse[]> {
    const e = await this.o.client.get<GraphEvent>(`${this.base}/events/${encodeURIComponent(ref.externalId)}${query({ $select: 'attendees' })}`, this.opts('idempotent'));
    return (e.attendees ?? [])
      .filter((a) => a.type !== 'resource' && a.emailAddress?.address)
      .map((a) => ({ email: a.emailAddress?.address ?? '', rsvp: fromGraphResponse(a.status?.response) }));
  }

  async freeBusy(emails: string[], from: string, to: string): Promise<Map<string, BusyInterval[]>> {
    const out = new Map<string, BusyInterval[]>();
    const utc = (iso: string) => ({ dateTime: DateTime.fromISO(iso, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss"), timeZone: 'UTC' });
    for (let i = 0; i < emails.length; i += 20) {
      const chunk = emails.slice(i, i + 20);
      const res = await this.o.client.request<{ value: Array<{ scheduleId: string; error?: { message?: string }; scheduleItems?: Array<{ status?: string; start: { dateTime: string }; end: { dateTime: string } }> }> }>(
        'POST',
        `${this.base}/calendar/getSchedule`,
        { Schedules: chunk, StartTime: utc(from), EndTime: utc(to), AvailabilityViewInterval: 15 },
        this.opts('idempotent', { Prefer: PREFER_UTC }),
      );
      for (const s of res.value) {
        if (s.error) {
          this.o.logger.warn('graph.calendar.schedule_unavailable', { reason: s.error.message?.slice(0, 120) ?? 'unknown' });
          out.set(s.scheduleId, []);
          continue;
        }
        const busy = (s.scheduleItems ?? [])
          .filter((it) => it.status !== 'free' && it.status !== 'workingElsewhere')
          .map((it) => ({ start: DateTime.fromISO(it.start.dateTime, { zone: 'utc' }).toISO() ?? it.start.dateTime, end: DateTime.fromISO(it.end.dateTime, { zone: 'utc' }).toISO() ?? it.end.dateTime }));
        out.set(s.scheduleId, busy);
      }
    }
    return out;
  }

  async readiness(): Promise<ChecklistItem[]> {
    const item = (id: string, status: ChecklistItem['status'], reason: string): ChecklistItem => ({ id, area: 'provider', status, reason, owner: null, signedOff: null });
    try {
      await this.o.checkCredentials();
    } catch (err) {
      if (isMusterError(err, 'PROVIDER_AUTH_FAILED')) {
        return [item('microsoft.credentials', 'blocking', `${err.message} Muster has paused this tenant's invitations and reminders until this is fixed.`)];
      }
      if (isMusterError(err)) return [item('microsoft.credentials', 'warning', `Could not check the Microsoft 365 credentials: ${err.message}`)];
      throw err;
    }
    try {
      const cal = await this.o.client.get<{ allowedOnlineMeetingProviders?: string[] }>(`${this.base}/calendar${query({ $select: 'allowedOnlineMeetingProviders,defaultOnlineMeetingProvider' })}`, this.opts('idempotent'));
      const allowed = cal.allowedOnlineMeetingProviders ?? [];
      if (!allowed.includes(TEAMS_PROVIDER)) {
        return [
          item(
            'microsoft.teams',
            'blocking',
            `The organizer mailbox ${this.o.organizer} cannot create Teams meetings (its calendar allows: ${allowed.length > 0 ? allowed.join(', ') : 'none'}). Fix: an administrator assigns a Teams license to this mailbox and allows Teams (teamsForBusiness) as its online meeting provider, or each session gets its own online link.`,
          ),
        ];
      }
      return [item('microsoft.teams', 'ok', `The organizer mailbox ${this.o.organizer} can create Teams meetings.`)];
    } catch (err) {
      if (isMusterError(err, 'PROVIDER_AUTH_FAILED')) {
        return [item('microsoft.calendar_access', 'blocking', `Muster may not read the organizer mailbox ${this.o.organizer}'s calendar. Fix: grant Calendars.ReadWrite (or an Exchange RBAC for Applications role whose scope includes this mailbox).`)];
      }
      if (isMusterError(err, 'NOT_FOUND') || isMusterError(err, 'PROVIDER_REJECTED')) {
        return [item('microsoft.organizer', 'blocking', `The organizer mailbox ${this.o.organizer} was not found in the tenant. Fix: set MS_ORGANIZER to a licensed mailbox.`)];
      }
      if (isMusterError(err)) return [item('microsoft.teams', 'warning', `Could not check whether ${this.o.organizer} can create Teams meetings: ${err.message}`)];
      throw err;
    }
  }
}
