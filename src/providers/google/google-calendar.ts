// CalendarPort on Google Calendar: one event per session inserted under a client id derived from its create key (a 409 finds an earlier attempt's), Meet links, invites sent by Google; it never stores anything and never creates twice.
import { createHash } from 'node:crypto';
import type { calendar_v3 } from 'googleapis';
import type { ChecklistItem, Rsvp } from '../../domain/types.js';
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { AttendeeResponse, BusyInterval, CalendarPort, EventRef, SessionEvent } from '../../ports/index.js';
import { toMusterError, withRetry, type RetryDeps } from './google-errors.js';

export const GOOGLE_PROVIDER = 'google';
const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';
/** freebusy.query accepts at most 50 calendars per call (calendarExpansionMax). */
const FREEBUSY_BATCH = 50;

function base32hex(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

/** The Google event id for a create key: base32hex of the key itself (5..1024 chars), or of its SHA-256 when it would not fit. */
export function eventIdForKey(createKey: string): string {
  const direct = base32hex(Buffer.from(createKey, 'utf8'));
  if (direct.length >= 5 && direct.length <= 1024) return direct;
  return base32hex(createHash('sha256').update(createKey).digest());
}

/** The conference requestId for a create key: stable, so a repeated create request is ignored by Google. */
export function conferenceRequestIdForKey(createKey: string): string {
  return createHash('sha256').update(`meet:${createKey}`).digest('hex').slice(0, 32);
}

export function toGoogleEvent(ev: SessionEvent): calendar_v3.Schema$Event {
  const attendees: calendar_v3.Schema$EventAttendee[] = ev.attendees.map((a) => ({ email: a.email, displayName: a.name, optional: false }));
  if (ev.roomEmail) attendees.push({ email: ev.roomEmail, resource: true });
  const description = ev.onlineUrl ? `${ev.bodyHtml}<p>${escapeHtml(ev.onlineUrl)}</p>` : ev.bodyHtml;
  return {
    summary: ev.subject,
    description,
    location: ev.location ?? undefined,
    start: { dateTime: ev.start, timeZone: ev.zone },
    end: { dateTime: ev.end, timeZone: ev.zone },
    attendees,
    guestsCanSeeOtherGuests: false,
    guestsCanInviteOthers: false,
    extendedProperties: { private: { musterTenant: ev.tenantId, musterSession: ev.sessionId, musterCreateKey: ev.createKey } },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function fromGoogleResponse(status: string | null | undefined): Rsvp {
  switch (status) {
    case 'accepted':
      return 'accepted';
    case 'tentative':
      return 'tentative';
    case 'declined':
      return 'declined';
    default:
      return 'none';
  }
}

const instant = (t: calendar_v3.Schema$EventDateTime | undefined): number => Date.parse(t?.dateTime ?? t?.date ?? '');

/** Whether an existing event differs from the session in what attendees see: title, time, place or who is invited. */
function differs(existing: calendar_v3.Schema$Event, wanted: calendar_v3.Schema$Event): boolean {
  if ((existing.summary ?? '') !== (wanted.summary ?? '') || (existing.location ?? '') !== (wanted.location ?? '')) return true;
  if (instant(existing.start) !== instant(wanted.start) || instant(existing.end) !== instant(wanted.end)) return true;
  if ((existing.start?.timeZone ?? null) !== (wanted.start?.timeZone ?? null)) return true;
  const want = new Set((wanted.attendees ?? []).map((a) => a.email!.toLowerCase()));
  const have = (existing.attendees ?? []).filter((a) => !a.organizer || want.has(a.email!.toLowerCase())).map((a) => a.email!.toLowerCase());
  return have.length !== want.size || have.some((e) => !want.has(e));
}

function joinUrlOf(event: calendar_v3.Schema$Event): string | null {
  if (event.conferenceData?.createRequest?.status?.statusCode === 'pending') return null;
  const video = event.conferenceData?.entryPoints?.find((e) => e.entryPointType === 'video')?.uri;
  return video ?? event.hangoutLink ?? null;
}

export interface GoogleCalendarOptions {
  calendar: calendar_v3.Calendar;
  /** The coordinator's calendar (their address); events are created there and Google sends the invites. */
  calendarId: string;
  retry: RetryDeps;
  /** How many times a pending Meet conference is re-read before giving up for now (default 6). */
  meetPollAttempts?: number;
}

export class GoogleCalendar implements CalendarPort {
  readonly provider = GOOGLE_PROVIDER;
  readonly invitesByMail = false;
  private readonly cal: calendar_v3.Calendar;
  private readonly calendarId: string;
  private readonly retry: RetryDeps;
  private readonly meetPollAttempts: number;

  constructor(opts: GoogleCalendarOptions) {
    this.cal = opts.calendar;
    this.calendarId = opts.calendarId;
    this.retry = opts.retry;
    this.meetPollAttempts = opts.meetPollAttempts ?? 6;
  }

  /**
   * Inserts under the client id derived from the create key, so the insert is its own lookup: no read before it, even
   * when an earlier attempt may have created the event (`mayExist` changes nothing here). A 409 means an earlier attempt
   * did: that event is read and brought in line with the session (restored if it was deleted).
   */
  async ensureEvent(ev: SessionEvent, _opts?: { mayExist?: boolean }): Promise<EventRef> {
    const id = eventIdForKey(ev.createKey);
    const { event, existed } = await this.insertOnce(id, ev);
    const current = existed ? await this.converge(event, ev) : event;
    return this.refFor(await this.awaitConference(current, ev));
  }

  async updateEvent(ref: EventRef, ev: SessionEvent): Promise<EventRef> {
    const event = await this.patch(ref.externalId, toGoogleEvent(ev), 'all');
    return this.refFor(await this.awaitConference(event, ev));
  }

  async cancelEvent(ref: EventRef, ev: SessionEvent, message: string): Promise<void> {
    const current = await this.getEvent(ref.externalId);
    if (!current || current.status === 'cancelled') return;
    // Google's delete carries no message: put it into the description first, quietly, then delete with notifications.
    await this.patch(ref.externalId, { description: `<p>${escapeHtml(message)}</p>${toGoogleEvent(ev).description ?? ''}` }, 'none');
    try {
      await withRetry('calendar.events.delete', () => this.cal.events.delete({ calendarId: this.calendarId, eventId: ref.externalId, sendUpdates: 'all' }), this.retry);
    } catch (err) {
      const e = toMusterError(err);
      if (e.code === 'NOT_FOUND') return; // 410: already deleted
      if (e.code === 'OUTCOME_UNKNOWN' || e.code === 'PROVIDER_UNAVAILABLE') {
        const after = await this.getEvent(ref.externalId);
        if (after?.status === 'cancelled') return;
      }
      throw e;
    }
  }

  async readResponses(ref: EventRef): Promise<AttendeeResponse[]> {
    const event = await this.getEvent(ref.externalId);
    if (!event) throw new MusterError('NOT_FOUND', 'The session\'s calendar event no longer exists.');
    return (event.attendees ?? [])
      .filter((a) => !a.resource && !a.organizer && a.email)
      .map((a) => ({ email: a.email!.toLowerCase(), rsvp: fromGoogleResponse(a.responseStatus) }));
  }

  async freeBusy(emails: string[], from: string, to: string): Promise<Map<string, BusyInterval[]>> {
    const out = new Map<string, BusyInterval[]>();
    for (let i = 0; i < emails.length; i += FREEBUSY_BATCH) {
      const chunk = emails.slice(i, i + FREEBUSY_BATCH);
      const res = await withRetry('calendar.freebusy.query', () => this.cal.freebusy.query({ requestBody: { timeMin: from, timeMax: to, items: chunk.map((id) => ({ id })) } }), this.retry);
      for (const email of chunk) {
        const entry = res.data.calendars?.[email];
        out.set(email, (entry?.busy ?? []).map((b) => ({ start: new Date(b.start!).toISOString(), end: new Date(b.end!).toISOString() })));
      }
    }
    return out;
  }

  async readiness(): Promise<ChecklistItem[]> {
    try {
      await withRetry('calendar.events.list', () => this.cal.events.list({ calendarId: this.calendarId, maxResults: 1 }), this.retry);
      return [{ id: 'google-calendar-access', area: 'provider', status: 'ok', reason: `Muster can create events on ${this.calendarId}'s calendar.`, owner: null, signedOff: null }];
    } catch (err) {
      const e = toMusterError(err);
      return [{ id: 'google-calendar-access', area: 'provider', status: 'blocking', reason: `Muster cannot use ${this.calendarId}'s calendar: ${e.message}`, owner: null, signedOff: null }];
    }
  }

  private refFor(event: calendar_v3.Schema$Event): EventRef {
    return { provider: GOOGLE_PROVIDER, externalId: event.id!, joinUrl: joinUrlOf(event) };
  }

  private async getEvent(id: string): Promise<calendar_v3.Schema$Event | null> {
    try {
      const res = await withRetry('calendar.events.get', () => this.cal.events.get({ calendarId: this.calendarId, eventId: id }), this.retry);
      return res.data;
    } catch (err) {
      if (isMusterError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  private async patch(id: string, body: calendar_v3.Schema$Event, sendUpdates: 'all' | 'none'): Promise<calendar_v3.Schema$Event> {
    const call = () => this.cal.events.patch({ calendarId: this.calendarId, eventId: id, sendUpdates, conferenceDataVersion: 1, requestBody: body });
    try {
      return (await withRetry('calendar.events.patch', call, this.retry)).data;
    } catch (err) {
      // The same patch is idempotent: after a dropped connection, applying it again is safe.
      if (isMusterError(err, 'OUTCOME_UNKNOWN')) return (await withRetry('calendar.events.patch', call, this.retry)).data;
      throw err;
    }
  }

  /** An event an earlier attempt created, patched to the session as it is now when it was deleted or differs. */
  private async converge(existing: calendar_v3.Schema$Event, ev: SessionEvent): Promise<calendar_v3.Schema$Event> {
    const wanted = toGoogleEvent(ev);
    const cancelled = existing.status === 'cancelled';
    if (!cancelled && !differs(existing, wanted)) return existing;
    this.retry.logger.info('google.calendar.converge', { session: ev.sessionId, restored: cancelled });
    return this.patch(existing.id!, { ...wanted, ...(cancelled ? { status: 'confirmed' } : {}) }, 'all');
  }

  /** Inserts under the client id; a 409, or an unknown outcome settled by get(id), means the event exists (`existed`). */
  private async insertOnce(id: string, ev: SessionEvent): Promise<{ event: calendar_v3.Schema$Event; existed: boolean }> {
    const body: calendar_v3.Schema$Event = { ...toGoogleEvent(ev), id };
    if (ev.wantOnlineMeeting && !ev.onlineUrl) {
      body.conferenceData = { createRequest: { requestId: conferenceRequestIdForKey(ev.createKey), conferenceSolutionKey: { type: 'hangoutsMeet' } } };
    }
    const insert = () => this.cal.events.insert({ calendarId: this.calendarId, sendUpdates: 'all', conferenceDataVersion: 1, requestBody: body });
    for (let attempt = 1; ; attempt++) {
      try {
        return { event: (await withRetry('calendar.events.insert', insert, this.retry)).data, existed: false };
      } catch (err) {
        const e = toMusterError(err);
        if (e.code === 'CONFLICT') {
          const existing = await this.getEvent(id);
          if (existing) return { event: existing, existed: true };
          throw e;
        }
        if (e.code !== 'OUTCOME_UNKNOWN' || attempt >= 3) throw e;
        const existing = await this.getEvent(id);
        if (existing) return { event: existing, existed: true };
        // Not there: the insert never landed, and the client id makes trying again safe.
      }
    }
  }

  /** Re-reads a pending Meet conference until Google reports success, so only a working link is recorded. */
  private async awaitConference(event: calendar_v3.Schema$Event, ev: SessionEvent): Promise<calendar_v3.Schema$Event> {
    let current = event;
    for (let i = 0; i < this.meetPollAttempts && current.conferenceData?.createRequest?.status?.statusCode === 'pending'; i++) {
      await this.retry.sleep(Math.min(8_000, 500 * 2 ** i));
      current = (await this.getEvent(current.id!)) ?? current;
    }
    const status = current.conferenceData?.createRequest?.status?.statusCode;
    if (status === 'failure') this.retry.logger.warn('google.meet.failed', { session: ev.sessionId });
    return current;
  }
}
