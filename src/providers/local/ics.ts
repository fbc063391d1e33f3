// Builds RFC 5545 iCalendar text for one learner's session invitation and for a program's public feed; it sends nothing and never puts learner data into a feed.
import { MusterError } from '../../domain/errors.js';
import type { Person } from '../../ports/index.js';

export const ICS_PRODID = '-//Muster//Muster training coordination//EN';

const CRLF = '\r\n';
/** RFC 5545 section 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break. */
const MAX_LINE_OCTETS = 75;

export interface SessionInviteOptions {
  method: 'REQUEST' | 'CANCEL';
  /** One UID per session (the same for every learner and every update of that session). */
  uid: string;
  /** RFC 5545 SEQUENCE: raised on every change learners must see. */
  sequence: number;
  /** When this iCalendar object was created (DTSTAMP). */
  dtstamp: Date | string;
  /** UTC instants, ISO 8601. */
  start: string;
  end: string;
  summary: string;
  description: string;
  location: string | null;
  /** A link for the session (online meeting or the session's page); null for none. */
  url: string | null;
  organizer: Person;
  /** The one learner this invitation is for. */
  attendee: Person;
}

export interface FeedSession {
  uid: string;
  sequence: number;
  start: string;
  end: string;
  summary: string;
  description: string;
  location: string | null;
  url: string | null;
  status: 'scheduled' | 'cancelled';
}

export interface ProgramFeedOptions {
  /** Shown by calendar clients as the subscribed calendar's name (X-WR-CALNAME). */
  calendarName: string;
  dtstamp: Date | string;
  sessions: FeedSession[];
  /** The coordinator who organizes the sessions; never a learner. */
  organizer?: Person | null;
  /** How often clients should refresh, in minutes (REFRESH-INTERVAL and X-PUBLISHED-TTL). */
  refreshMinutes?: number;
}

/** Escapes a TEXT value (RFC 5545 section 3.3.11): backslash, semicolon, comma and line breaks. */
export function escapeText(value: string): string {
  return stripControls(value.replace(/\r\n?/g, '\n'))
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\n/g, '\\n');
}

/** Quotes a parameter value when needed (RFC 5545 section 3.2); DQUOTE cannot appear inside and becomes an apostrophe. */
function paramValue(value: string): string {
  const clean = stripControls(value.replace(/[\r\n]+/g, ' ')).replace(/"/g, "'");
  return /[:;,]/.test(clean) ? `"${clean}"` : clean;
}

/** Keeps tab and newline, drops every other control character (not allowed in iCalendar values). */
function stripControls(value: string): string {
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** A URI value: no escaping, but never a line break or control character. */
function uriValue(value: string): string {
  const clean = value.trim();
  if (/[\u0000-\u001f\u007f\s]/.test(clean)) {
    throw new MusterError('VALIDATION_FAILED', 'A link in a calendar invitation cannot contain spaces or line breaks.', {
      details: [{ field: 'url', message: 'Remove the spaces or line breaks from the link.' }],
    });
  }
  return clean;
}

function mailtoValue(person: Person, field: string): string {
  const email = person.email.trim();
  if (!/^[^\s@:;,<>"]+@[^\s@:;,<>"]+$/.test(email)) {
    throw new MusterError('VALIDATION_FAILED', 'A calendar invitation needs a plain email address for the organizer and the learner.', {
      details: [{ field, message: `"${email}" is not a plain email address.` }],
    });
  }
  return `mailto:${email}`;
}

/** Folds one content line at 75 octets without splitting a UTF-8 character (RFC 5545 section 3.1). */
export function foldLine(line: string): string {
  if (Buffer.byteLength(line, 'utf8') <= MAX_LINE_OCTETS) return line;
  const parts: string[] = [];
  let current = '';
  let currentOctets = 0;
  // The first line may hold 75 octets; continuation lines start with a space, leaving 74.
  let limit = MAX_LINE_OCTETS;
  for (const ch of line) {
    const octets = Buffer.byteLength(ch, 'utf8');
    if (currentOctets + octets > limit) {
      parts.push(current);
      current = '';
      currentOctets = 0;
      limit = MAX_LINE_OCTETS - 1;
    }
    current += ch;
    currentOctets += octets;
  }
  parts.push(current);
  return parts.join(`${CRLF} `);
}

/** Formats an instant as an RFC 5545 UTC DATE-TIME (yyyymmddThhmmssZ). */
export function toIcsUtc(value: Date | string, field: string): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) {
    throw new MusterError('VALIDATION_FAILED', 'A calendar time is not a valid ISO 8601 instant.', {
      details: [{ field, message: `"${String(value)}" is not a valid instant.` }],
    });
  }
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function assertTimes(start: string, end: string): void {
  if (new Date(end).getTime() <= new Date(start).getTime()) {
    throw new MusterError('VALIDATION_FAILED', 'A session must end after it starts.', {
      details: [{ field: 'end', message: 'The end is not after the start.' }],
    });
  }
}

function assertUid(uid: string): void {
  if (!uid || /[\u0000-\u001f\u007f]/.test(uid)) {
    throw new MusterError('VALIDATION_FAILED', 'A calendar event needs a non-empty UID without control characters.', {
      details: [{ field: 'uid', message: 'The UID is empty or holds control characters.' }],
    });
  }
}

function assertSequence(sequence: number): void {
  if (!Number.isInteger(sequence) || sequence < 0) {
    throw new MusterError('VALIDATION_FAILED', 'A calendar SEQUENCE must be a whole number of 0 or more.', {
      details: [{ field: 'sequence', message: `${sequence} is not a whole number of 0 or more.` }],
    });
  }
}

function serialize(lines: string[]): string {
  return lines.map(foldLine).join(CRLF) + CRLF;
}

function organizerLine(person: Person): string {
  return `ORGANIZER;CN=${paramValue(person.name || person.email)}:${mailtoValue(person, 'organizer.email')}`;
}

/** Builds the invitation (METHOD:REQUEST) or cancellation (METHOD:CANCEL) of one session for one learner. */
export function buildSessionInvite(opts: SessionInviteOptions): string {
  assertUid(opts.uid);
  assertSequence(opts.sequence);
  assertTimes(opts.start, opts.end);
  const cancelled = opts.method === 'CANCEL';
  const lines = [
    'BEGIN:VCALENDAR',
    `PRODID:${ICS_PRODID}`,
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    `METHOD:${opts.method}`,
    'BEGIN:VEVENT',
    `UID:${opts.uid}`,
    `DTSTAMP:${toIcsUtc(opts.dtstamp, 'dtstamp')}`,
    `DTSTART:${toIcsUtc(opts.start, 'start')}`,
    `DTEND:${toIcsUtc(opts.end, 'end')}`,
    `SEQUENCE:${opts.sequence}`,
    `SUMMARY:${escapeText(opts.summary)}`,
    `DESCRIPTION:${escapeText(opts.description)}`,
  ];
  if (opts.location) lines.push(`LOCATION:${escapeText(opts.location)}`);
  if (opts.url) lines.push(`URL:${uriValue(opts.url)}`);
  lines.push(organizerLine(opts.organizer));
  lines.push(
    `ATTENDEE;CN=${paramValue(opts.attendee.name || opts.attendee.email)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;` +
      `PARTSTAT=NEEDS-ACTION;RSVP=TRUE:${mailtoValue(opts.attendee, 'attendee.email')}`,
  );
  lines.push(`STATUS:${cancelled ? 'CANCELLED' : 'CONFIRMED'}`);
  lines.push('TRANSP:OPAQUE');
  lines.push('END:VEVENT', 'END:VCALENDAR');
  return serialize(lines);
}

/** Builds a program's subscribable feed (METHOD:PUBLISH): every session, cancelled ones marked so, and no attendee or learner data. */
export function buildProgramFeed(opts: ProgramFeedOptions): string {
  const refresh = opts.refreshMinutes ?? 60;
  if (!Number.isInteger(refresh) || refresh < 1) {
    throw new MusterError('VALIDATION_FAILED', 'A feed refresh interval must be a whole number of minutes.', {
      details: [{ field: 'refreshMinutes', message: `${refresh} is not a whole number of minutes of at least 1.` }],
    });
  }
  const dtstamp = toIcsUtc(opts.dtstamp, 'dtstamp');
  const lines = [
    'BEGIN:VCALENDAR',
    `PRODID:${ICS_PRODID}`,
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(opts.calendarName)}`,
    `NAME:${escapeText(opts.calendarName)}`,
    `REFRESH-INTERVAL;VALUE=DURATION:PT${refresh}M`,
    `X-PUBLISHED-TTL:PT${refresh}M`,
  ];
  opts.sessions.forEach((s, i) => {
    assertUid(s.uid);
    assertSequence(s.sequence);
    assertTimes(s.start, s.end);
    lines.push(
      'BEGIN:VEVENT',
      `UID:${s.uid}`,
      `DTSTAMP:${dtstamp}`,
      `DTSTART:${toIcsUtc(s.start, `sessions.${i}.start`)}`,
      `DTEND:${toIcsUtc(s.end, `sessions.${i}.end`)}`,
      `SEQUENCE:${s.sequence}`,
      `SUMMARY:${escapeText(s.summary)}`,
      `DESCRIPTION:${escapeText(s.description)}`,
    );
    if (s.location) lines.push(`LOCATION:${escapeText(s.location)}`);
    if (s.url) lines.push(`URL:${uriValue(s.url)}`);
    if (opts.organizer) lines.push(organizerLine(opts.organizer));
    lines.push(`STATUS:${s.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`, 'TRANSP:OPAQUE', 'END:VEVENT');
  });
  lines.push('END:VCALENDAR');
  return serialize(lines);
}
