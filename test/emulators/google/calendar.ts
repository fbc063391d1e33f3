// Calendar v3 behaviour of the emulator: events with client ids, Meet conferences, invitations and free/busy per user; it trusts that bodies were already checked against discovery.
import { createHash, randomBytes } from 'node:crypto';
import { ApiError, badRequest, notFound, type CallContext, type Handler, queryInt } from './common.js';

export interface InvitationRecord {
  calendarId: string;
  eventId: string;
  email: string;
  kind: 'invite' | 'update' | 'cancel';
  at: number;
}

interface StoredEvent {
  resource: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- an Event resource as discovery describes it
  conferencePendingReads: number;
}

const EVENT_ID = /^[a-v0-9]{5,1024}$/;

export class CalendarState {
  readonly calendars = new Map<string, Map<string, StoredEvent>>();
  readonly invitations: InvitationRecord[] = [];
  /** Extra busy blocks per address, for people and rooms whose calendars live elsewhere. */
  readonly busy = new Map<string, Array<{ start: string; end: string }>>();
  /** How many reads a new Meet conference answers "pending" before it succeeds. */
  meetPendingReads = 1;

  calendar(id: string): Map<string, StoredEvent> {
    const key = id.toLowerCase();
    let cal = this.calendars.get(key);
    if (!cal) {
      cal = new Map();
      this.calendars.set(key, cal);
    }
    return cal;
  }

  events(calendarId: string): Array<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return [...this.calendar(calendarId).values()].map((e) => structuredClone(e.resource));
  }

  findEvent(eventId: string): { calendarId: string; stored: StoredEvent } | undefined {
    for (const [calendarId, cal] of this.calendars) {
      const stored = cal.get(eventId);
      if (stored) return { calendarId, stored };
    }
    return undefined;
  }

  setResponse(eventId: string, email: string, status: 'needsAction' | 'declined' | 'tentative' | 'accepted'): void {
    const found = this.findEvent(eventId);
    if (!found) throw new Error(`no event ${eventId}`);
    const attendee = (found.stored.resource.attendees ?? []).find((a: { email: string }) => a.email.toLowerCase() === email.toLowerCase());
    if (!attendee) throw new Error(`${email} is not an attendee of ${eventId}`);
    attendee.responseStatus = status;
  }
}

function calendarOf(ctx: CallContext): string {
  const id = ctx.pathParams.calendarId ?? 'primary';
  return (id === 'primary' ? ctx.user : id).toLowerCase();
}

function meetCode(requestId: string): string {
  const h = createHash('sha256').update(requestId).digest();
  const letters = [...h.subarray(0, 10)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
  return `${letters.slice(0, 3)}-${letters.slice(3, 7)}-${letters.slice(7, 10)}`;
}

function conferenceView(stored: StoredEvent): void {
  const cd = stored.resource.conferenceData;
  if (!cd?.createRequest) return;
  if (stored.conferencePendingReads > 0) {
    cd.createRequest.status = { statusCode: 'pending' };
    delete cd.entryPoints;
    delete cd.conferenceId;
    delete cd.conferenceSolution;
    delete stored.resource.hangoutLink;
    return;
  }
  const code = meetCode(cd.createRequest.requestId);
  cd.createRequest.status = { statusCode: 'success' };
  cd.conferenceId = code;
  cd.conferenceSolution = { key: { type: 'hangoutsMeet' }, name: 'Google Meet', iconUri: 'https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png' };
  cd.entryPoints = [{ entryPointType: 'video', uri: `https://meet.google.com/${code}`, label: `meet.google.com/${code}` }];
  stored.resource.hangoutLink = `https://meet.google.com/${code}`;
}

function respond(stored: StoredEvent): { body: unknown } {
  conferenceView(stored);
  return { body: structuredClone(stored.resource) };
}

function recordInvites(state: CalendarState, ctx: CallContext, calendarId: string, ev: Record<string, any>, kind: InvitationRecord['kind'], only?: Set<string>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const mode = ctx.query.get('sendUpdates') ?? (ctx.query.get('sendNotifications') === 'true' ? 'all' : 'none');
  if (mode === 'none') return;
  const domain = calendarId.split('@')[1];
  for (const a of (ev.attendees ?? []) as Array<{ email: string; resource?: boolean; organizer?: boolean }>) {
    if (a.resource || a.organizer || a.email.toLowerCase() === calendarId) continue;
    if (only && !only.has(a.email.toLowerCase())) continue;
    if (mode === 'externalOnly' && a.email.toLowerCase().endsWith(`@${domain}`)) continue;
    state.invitations.push({ calendarId, eventId: ev.id, email: a.email.toLowerCase(), kind, at: ctx.now });
  }
}

function normaliseAttendees(attendees: Array<Record<string, any>> | undefined, previous: Array<Record<string, any>> | undefined, organizer: string): Array<Record<string, any>> | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!attendees) return undefined;
  return attendees.map((a) => {
    const email = String(a.email ?? '').toLowerCase();
    if (!email) throw badRequest('Missing attendee email.', 'required');
    const before = previous?.find((p) => p.email === email);
    const out: Record<string, unknown> = { ...a, email };
    out.responseStatus = a.responseStatus ?? before?.responseStatus ?? (a.resource ? 'accepted' : 'needsAction');
    if (email === organizer) {
      out.organizer = true;
      out.self = true;
    }
    return out;
  });
}

function assertTimes(ev: Record<string, any>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!ev.start || !ev.end) throw badRequest('Missing time.', 'required');
  const s = Date.parse(ev.start.dateTime ?? ev.start.date);
  const e = Date.parse(ev.end.dateTime ?? ev.end.date);
  if (Number.isNaN(s) || Number.isNaN(e)) throw badRequest('Invalid start or end time.');
  if (e < s) throw new ApiError(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar');
}

function applyConference(state: CalendarState, ctx: CallContext, stored: StoredEvent, requested: Record<string, any> | undefined): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (requested === undefined) return;
  if (queryInt(ctx.query, 'conferenceDataVersion') !== 1) {
    // Version 0 ignores conferenceData in the body.
    return;
  }
  const req = requested?.createRequest;
  if (req) {
    if (!ctx.delegated) throw badRequest('Invalid conference type value.');
    const type = req.conferenceSolutionKey?.type;
    if (type !== undefined && type !== 'hangoutsMeet') throw badRequest('Invalid conference type value.');
    const previous = stored.resource.conferenceData?.createRequest?.requestId;
    if (previous === req.requestId) return; // a repeated requestId is ignored
    if (!req.requestId) throw badRequest('Missing conference request id.', 'required');
    stored.resource.conferenceData = { createRequest: { requestId: req.requestId, conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'pending' } } };
    stored.conferencePendingReads = state.meetPendingReads;
  } else {
    stored.resource.conferenceData = requested;
  }
}

export function calendarHandlers(state: CalendarState, newEtag: () => string): Record<string, Handler> {
  const stamp = (ev: Record<string, any>, now: number): void => { // eslint-disable-line @typescript-eslint/no-explicit-any
    ev.updated = new Date(now).toISOString();
    ev.etag = newEtag();
  };

  const getStored = (ctx: CallContext): { calendarId: string; stored: StoredEvent } => {
    const calendarId = calendarOf(ctx);
    const stored = state.calendar(calendarId).get(ctx.pathParams.eventId!);
    if (!stored) throw notFound('Not Found');
    return { calendarId, stored };
  };

  return {
    'calendar.events.insert': (ctx) => {
      const calendarId = calendarOf(ctx);
      const cal = state.calendar(calendarId);
      const body = ctx.body ?? {};
      const id: string = body.id ?? randomBytes(13).toString('hex');
      if (body.id !== undefined && !EVENT_ID.test(body.id)) throw badRequest('Invalid resource id value.');
      if (cal.has(id)) throw new ApiError(409, 'duplicate', 'The requested identifier already exists.');
      assertTimes(body);
      const { conferenceData, ...rest } = body;
      const resource: Record<string, any> = { // eslint-disable-line @typescript-eslint/no-explicit-any
        kind: 'calendar#event',
        ...rest,
        id,
        status: body.status ?? 'confirmed',
        htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`,
        created: new Date(ctx.now).toISOString(),
        iCalUID: `${id}@google.com`,
        sequence: body.sequence ?? 0,
        creator: { email: ctx.user, self: ctx.user === calendarId },
        organizer: { email: calendarId, self: true },
        reminders: body.reminders ?? { useDefault: true },
        eventType: body.eventType ?? 'default',
      };
      resource.attendees = normaliseAttendees(body.attendees, undefined, calendarId);
      if (resource.attendees === undefined) delete resource.attendees;
      const stored: StoredEvent = { resource, conferencePendingReads: 0 };
      applyConference(state, ctx, stored, conferenceData);
      stamp(resource, ctx.now);
      cal.set(id, stored);
      recordInvites(state, ctx, calendarId, resource, 'invite');
      return respond(stored);
    },

    'calendar.events.get': (ctx) => {
      const { stored } = getStored(ctx);
      const out = respond(stored);
      if (stored.conferencePendingReads > 0) stored.conferencePendingReads -= 1;
      return out;
    },

    'calendar.events.patch': (ctx) => patchOrUpdate(ctx, false),
    'calendar.events.update': (ctx) => patchOrUpdate(ctx, true),

    'calendar.events.delete': (ctx) => {
      const { calendarId, stored } = getStored(ctx);
      if (stored.resource.status === 'cancelled') throw new ApiError(410, 'deleted', 'Resource has been deleted');
      stored.resource.status = 'cancelled';
      stamp(stored.resource, ctx.now);
      recordInvites(state, ctx, calendarId, stored.resource, 'cancel');
      return { status: 204 };
    },

    'calendar.events.list': (ctx) => {
      const calendarId = calendarOf(ctx);
      const showDeleted = ctx.query.get('showDeleted') === 'true';
      const timeMin = ctx.query.get('timeMin');
      const timeMax = ctx.query.get('timeMax');
      const props = ctx.query.getAll('privateExtendedProperty');
      const max = queryInt(ctx.query, 'maxResults') ?? 250;
      const start = Number(ctx.query.get('pageToken') ?? 0);
      const all = [...state.calendar(calendarId).values()].filter((s) => {
        const r = s.resource;
        if (!showDeleted && r.status === 'cancelled') return false;
        if (timeMin && Date.parse(r.end?.dateTime ?? r.end?.date) <= Date.parse(timeMin)) return false;
        if (timeMax && Date.parse(r.start?.dateTime ?? r.start?.date) >= Date.parse(timeMax)) return false;
        for (const p of props) {
          const [k, v] = p.split('=');
          if (r.extendedProperties?.private?.[k!] !== v) return false;
        }
        return true;
      });
      const page = all.slice(start, start + max).map((s) => respond(s).body);
      const body: Record<string, unknown> = { kind: 'calendar#events', summary: calendarId, updated: new Date(ctx.now).toISOString(), items: page, etag: newEtag() };
      if (start + max < all.length) body.nextPageToken = String(start + max);
      return { body };
    },

    'calendar.freebusy.query': (ctx) => {
      const { timeMin, timeMax, items } = ctx.body as { timeMin: string; timeMax: string; items?: Array<{ id: string }> };
      if (!timeMin || !timeMax) throw badRequest('Missing timeMin or timeMax.', 'required');
      const from = Date.parse(timeMin);
      const to = Date.parse(timeMax);
      if (to <= from) throw new ApiError(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar');
      const calendars: Record<string, unknown> = {};
      for (const { id } of items ?? []) {
        const email = id.toLowerCase();
        const busy: Array<{ start: string; end: string }> = [];
        for (const [calId, cal] of state.calendars) {
          for (const s of cal.values()) {
            const r = s.resource;
            if (r.status === 'cancelled' || r.transparency === 'transparent') continue;
            const mine = calId === email || (r.attendees ?? []).some((a: { email: string; responseStatus?: string }) => a.email === email && a.responseStatus !== 'declined');
            if (!mine) continue;
            const s0 = Date.parse(r.start.dateTime ?? r.start.date);
            const e0 = Date.parse(r.end.dateTime ?? r.end.date);
            if (e0 > from && s0 < to) busy.push({ start: new Date(Math.max(s0, from)).toISOString(), end: new Date(Math.min(e0, to)).toISOString() });
          }
        }
        for (const b of state.busy.get(email) ?? []) {
          if (Date.parse(b.end) > from && Date.parse(b.start) < to) busy.push({ ...b });
        }
        busy.sort((a, b) => a.start.localeCompare(b.start));
        calendars[id] = { busy };
      }
      return { body: { kind: 'calendar#freeBusy', timeMin, timeMax, calendars } };
    },
  };

  function patchOrUpdate(ctx: CallContext, replace: boolean): { body: unknown } {
    const { calendarId, stored } = getStored(ctx);
    const body = ctx.body ?? {};
    if (body.id !== undefined && body.id !== stored.resource.id) throw badRequest('Invalid resource id value.');
    const before = stored.resource;
    const { conferenceData, ...rest } = body;
    const keep = ['kind', 'id', 'htmlLink', 'created', 'iCalUID', 'creator', 'organizer', 'etag', 'updated', 'conferenceData', 'hangoutLink', 'eventType'];
    const next: Record<string, any> = replace // eslint-disable-line @typescript-eslint/no-explicit-any
      ? { ...Object.fromEntries(keep.filter((k) => k in before).map((k) => [k, before[k]])), ...rest }
      : { ...before, ...rest };
    if (body.sequence !== undefined && body.sequence < before.sequence) {
      throw badRequest('Invalid sequence value. The specified sequence number is below the current sequence number of the resource.');
    }
    if (body.attendees !== undefined) next.attendees = normaliseAttendees(body.attendees, before.attendees, calendarId);
    assertTimes(next);
    const timeChanged = JSON.stringify([before.start, before.end]) !== JSON.stringify([next.start, next.end]);
    if (body.sequence === undefined && timeChanged) next.sequence = (before.sequence ?? 0) + 1;
    if (body.status === undefined) next.status = before.status;
    const previousEmails = new Set((before.attendees ?? []).map((a: { email: string }) => a.email));
    stored.resource = next;
    applyConference(state, ctx, stored, conferenceData);
    stamp(next, ctx.now);
    const restored = before.status === 'cancelled' && next.status === 'confirmed';
    if (next.status === 'cancelled' && before.status !== 'cancelled') recordInvites(state, ctx, calendarId, next, 'cancel');
    else if (restored || timeChanged) recordInvites(state, ctx, calendarId, next, restored ? 'invite' : 'update');
    else {
      const added = new Set<string>((next.attendees ?? []).map((a: { email: string }) => a.email).filter((e: string) => !previousEmails.has(e)));
      if (added.size > 0) recordInvites(state, ctx, calendarId, next, 'invite', added);
    }
    return respond(stored);
  }
}
