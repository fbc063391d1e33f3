// CalendarPort for local mode: a session's event is its iCalendar UID, and invitations travel as Muster's own mail; it sends nothing and reads no mailbox.
import { createHash } from 'node:crypto';
import type { ChecklistItem } from '../../domain/types.js';
import type { AttendeeResponse, BusyInterval, CalendarPort, EventRef, Person, SessionEvent } from '../../ports/index.js';
import { buildSessionInvite } from './ics.js';

export const ICS_PROVIDER = 'local-ics';
export const UID_DOMAIN = 'muster.local';

/** The UID of a session's calendar object: derived from its create key, so it is the same for every learner and every update of one generation. */
export function uidForCreateKey(createKey: string): string {
  return `${createHash('sha256').update(createKey, 'utf8').digest('hex').slice(0, 32)}@${UID_DOMAIN}`;
}

function toRef(ev: SessionEvent): EventRef {
  return { provider: ICS_PROVIDER, externalId: uidForCreateKey(ev.createKey), joinUrl: ev.onlineUrl };
}

/** The invitation (REQUEST) or cancellation (CANCEL) of a session for one learner, as iCalendar text for the mail's text/calendar part. */
export function toSessionInvite(ev: SessionEvent, attendee: Person, method: 'REQUEST' | 'CANCEL', dtstamp: Date | string): string {
  return buildSessionInvite({
    method,
    uid: uidForCreateKey(ev.createKey),
    sequence: ev.sequence,
    dtstamp,
    start: ev.start,
    end: ev.end,
    summary: ev.subject,
    description: ev.bodyText,
    location: ev.location,
    url: ev.onlineUrl,
    organizer: ev.organizer,
    attendee,
  });
}

/** Creates the local calendar: ensure/update only name the event; the application mails buildSessionInvite output to each learner. */
export function createIcsCalendar(): CalendarPort {
  return {
    provider: ICS_PROVIDER,
    invitesByMail: true,
    async ensureEvent(ev: SessionEvent): Promise<EventRef> {
      return toRef(ev);
    },
    async updateEvent(_ref: EventRef, ev: SessionEvent): Promise<EventRef> {
      // The UID never changes within a generation; a new generation has a new create key and so a new event.
      return toRef(ev);
    },
    async cancelEvent(): Promise<void> {
      // Nothing to call: the cancellation reaches learners as METHOD:CANCEL mails sent by the application.
    },
    async readResponses(): Promise<AttendeeResponse[]> {
      // Answers arrive through signed RSVP links, not through a calendar service.
      return [];
    },
    async freeBusy(): Promise<Map<string, BusyInterval[]>> {
      return new Map();
    },
    async readiness(): Promise<ChecklistItem[]> {
      return [];
    },
  };
}
