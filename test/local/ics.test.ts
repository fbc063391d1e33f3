// Tests the RFC 5545 builder by parsing its output with ical.js: invitations, cancellations, the program feed, folding, escaping and DST.
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { buildProgramFeed, buildSessionInvite, foldLine, type SessionInviteOptions } from '../../src/providers/local/ics.js';

function inviteOptions(overrides: Partial<SessionInviteOptions> = {}): SessionInviteOptions {
  return {
    method: 'REQUEST',
    uid: '3f2a9c@muster.local',
    sequence: 0,
    dtstamp: '2026-03-01T10:00:00Z',
    start: '2026-03-30T07:00:00Z',
    end: '2026-03-30T08:30:00Z',
    summary: 'Security 101: Cohort A, day 1',
    description: 'Bring your laptop.',
    location: 'Room 4.12',
    url: 'https://meet.example.org/s101',
    organizer: { name: 'Ina Coordinator', email: 'ina@example.org' },
    attendee: { name: 'Lea Learner', email: 'lea@example.org' },
    ...overrides,
  };
}

function parse(ics: string): ICAL.Component {
  return new ICAL.Component(ICAL.parse(ics));
}

function utcIso(t: ICAL.Time): string {
  return t.toJSDate().toISOString();
}

describe('session invitation', () => {
  it('when a session is invited, then ical.js reads a REQUEST with UID, DTSTAMP, DTSTART, ORGANIZER and one learner ATTENDEE asked to answer', () => {
    const ics = buildSessionInvite(inviteOptions());
    const vcal = parse(ics);
    expect(vcal.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(vcal.getFirstPropertyValue('version')).toBe('2.0');
    expect(vcal.getFirstPropertyValue('prodid')).toBeTruthy();
    const events = vcal.getAllSubcomponents('vevent');
    expect(events).toHaveLength(1);
    const ev = events[0]!;
    expect(ev.getFirstPropertyValue('uid')).toBe('3f2a9c@muster.local');
    expect(utcIso(ev.getFirstPropertyValue('dtstamp') as ICAL.Time)).toBe('2026-03-01T10:00:00.000Z');
    expect(utcIso(ev.getFirstPropertyValue('dtstart') as ICAL.Time)).toBe('2026-03-30T07:00:00.000Z');
    expect(utcIso(ev.getFirstPropertyValue('dtend') as ICAL.Time)).toBe('2026-03-30T08:30:00.000Z');
    expect(ev.getFirstPropertyValue('sequence')).toBe(0);
    expect(ev.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(ev.getFirstPropertyValue('location')).toBe('Room 4.12');
    expect(ev.getFirstPropertyValue('url')).toBe('https://meet.example.org/s101');
    const organizer = ev.getFirstProperty('organizer')!;
    expect(organizer.getFirstValue()).toBe('mailto:ina@example.org');
    expect(organizer.getParameter('cn')).toBe('Ina Coordinator');
    const attendees = ev.getAllProperties('attendee');
    expect(attendees).toHaveLength(1);
    expect(attendees[0]!.getFirstValue()).toBe('mailto:lea@example.org');
    expect(attendees[0]!.getParameter('role')).toBe('REQ-PARTICIPANT');
    expect(attendees[0]!.getParameter('partstat')).toBe('NEEDS-ACTION');
    expect(attendees[0]!.getParameter('rsvp')).toBe('TRUE');
    // UTC instants only: no TZID anywhere, so no VTIMEZONE is needed.
    expect(ics).not.toContain('TZID');
    expect(vcal.getAllSubcomponents('vtimezone')).toHaveLength(0);
  });

  it('when a session is cancelled, then the same UID comes as METHOD:CANCEL, STATUS:CANCELLED, with a higher SEQUENCE', () => {
    const original = parse(buildSessionInvite(inviteOptions({ sequence: 1 })));
    const cancel = parse(buildSessionInvite(inviteOptions({ method: 'CANCEL', sequence: 2 })));
    expect(cancel.getFirstPropertyValue('method')).toBe('CANCEL');
    const a = original.getFirstSubcomponent('vevent')!;
    const b = cancel.getFirstSubcomponent('vevent')!;
    expect(b.getFirstPropertyValue('uid')).toBe(a.getFirstPropertyValue('uid'));
    expect(b.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(Number(b.getFirstPropertyValue('sequence'))).toBeGreaterThan(Number(a.getFirstPropertyValue('sequence')));
    expect(b.getAllProperties('attendee')).toHaveLength(1);
  });

  it('when a session moves, then the update keeps the UID and carries the raised SEQUENCE and the new times', () => {
    const moved = parse(buildSessionInvite(inviteOptions({ sequence: 3, start: '2026-04-02T12:00:00Z', end: '2026-04-02T13:00:00Z' })));
    const ev = moved.getFirstSubcomponent('vevent')!;
    expect(ev.getFirstPropertyValue('uid')).toBe('3f2a9c@muster.local');
    expect(ev.getFirstPropertyValue('sequence')).toBe(3);
    expect(utcIso(ev.getFirstPropertyValue('dtstart') as ICAL.Time)).toBe('2026-04-02T12:00:00.000Z');
  });

  it.each([
    ['Europe/Berlin', '2026-03-27', '2026-03-30'],
    ['America/New_York', '2026-03-06', '2026-03-09'],
    ['Australia/Sydney', '2026-04-03', '2026-04-06'],
  ])('when sessions at 09:00 in %s fall before and after a DST change, then each DTSTART is 09:00 local', (zone, before, after) => {
    for (const day of [before, after]) {
      const local = DateTime.fromISO(`${day}T09:00`, { zone });
      const start = local.toUTC().toISO()!;
      const end = local.plus({ hours: 2 }).toUTC().toISO()!;
      const ev = parse(buildSessionInvite(inviteOptions({ start, end }))).getFirstSubcomponent('vevent')!;
      const dtstart = ev.getFirstPropertyValue('dtstart') as ICAL.Time;
      expect(dtstart.zone?.tzid).toBe('UTC');
      const shown = DateTime.fromJSDate(dtstart.toJSDate(), { zone });
      expect(shown.toFormat('yyyy-MM-dd HH:mm')).toBe(`${day} 09:00`);
    }
    // The UTC offsets differ across the change, so the instants are not simply a day apart.
    const offBefore = DateTime.fromISO(`${before}T09:00`, { zone }).offset;
    const offAfter = DateTime.fromISO(`${after}T09:00`, { zone }).offset;
    expect(offBefore).not.toBe(offAfter);
  });

  it('when text holds commas, semicolons, backslashes, line breaks and non-ASCII, then ical.js reads it back unchanged', () => {
    const summary = 'Sicherheit; Grundlagen, Teil 1 \\ Übung';
    const description = 'Line one, with comma;\nLine two: ä ö ü ß 日本語 — and a very long sentence that must certainly be folded across several content lines.';
    const ics = buildSessionInvite(inviteOptions({ summary, description, organizer: { name: 'Ina "The Boss", Coordinator', email: 'ina@example.org' } }));
    const ev = parse(ics).getFirstSubcomponent('vevent')!;
    expect(ev.getFirstPropertyValue('summary')).toBe(summary);
    expect(ev.getFirstPropertyValue('description')).toBe(description);
    expect(ev.getFirstProperty('organizer')!.getParameter('cn')).toBe("Ina 'The Boss', Coordinator");
  });

  it('when lines are long or multi-byte, then every line is at most 75 octets, ends in CRLF, and no UTF-8 character is split', () => {
    const ics = buildSessionInvite(inviteOptions({ description: 'ü'.repeat(200) + 'x'.repeat(77) + '日本語'.repeat(40) }));
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = ics.split('\r\n').slice(0, -1);
    for (const line of lines) {
      expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
      expect(line).not.toContain('\uFFFD');
    }
    expect(lines.filter((l) => l.startsWith(' ')).length).toBeGreaterThan(5);
    expect(foldLine('short')).toBe('short');
  });

  it('when the end is not after the start or an address is not plain, then building fails with VALIDATION_FAILED', () => {
    expect(() => buildSessionInvite(inviteOptions({ end: '2026-03-30T07:00:00Z' }))).toThrow(/end after it starts/);
    try {
      buildSessionInvite(inviteOptions({ attendee: { name: 'X', email: 'x@example.org\r\nATTENDEE:mailto:evil@example.org' } }));
      expect.unreachable();
    } catch (err) {
      expect(isMusterError(err, 'VALIDATION_FAILED')).toBe(true);
    }
    expect(() => buildSessionInvite(inviteOptions({ start: 'tomorrow' }))).toThrow(/not a valid ISO 8601/);
  });
});

describe('program feed', () => {
  it('when a program has scheduled and cancelled sessions, then the PUBLISH feed lists both, marks the cancelled one, and holds no attendee', () => {
    const ics = buildProgramFeed({
      calendarName: 'Security 101 (SEC101)',
      dtstamp: '2026-03-01T10:00:00Z',
      organizer: { name: 'Ina Coordinator', email: 'ina@example.org' },
      sessions: [
        { uid: 'a@muster.local', sequence: 0, start: '2026-03-30T07:00:00Z', end: '2026-03-30T09:00:00Z', summary: 'Security 101: day 1', description: 'Intro', location: 'Room 1', url: null, status: 'scheduled' },
        { uid: 'b@muster.local', sequence: 4, start: '2026-03-31T07:00:00Z', end: '2026-03-31T09:00:00Z', summary: 'Security 101: day 2', description: 'Labs', location: null, url: 'https://meet.example.org/x', status: 'cancelled' },
      ],
    });
    const vcal = parse(ics);
    expect(vcal.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(vcal.getFirstPropertyValue('x-wr-calname')).toBe('Security 101 (SEC101)');
    const events = vcal.getAllSubcomponents('vevent');
    expect(events.map((e) => [e.getFirstPropertyValue('uid'), e.getFirstPropertyValue('status')])).toEqual([
      ['a@muster.local', 'CONFIRMED'],
      ['b@muster.local', 'CANCELLED'],
    ]);
    expect(events[1]!.getFirstPropertyValue('sequence')).toBe(4);
    expect(ics).not.toMatch(/ATTENDEE/i);
    expect(ics).not.toContain('RSVP');
  });

  it('when a program has no sessions, then the feed is still a valid empty calendar', () => {
    const vcal = parse(buildProgramFeed({ calendarName: 'Empty', dtstamp: new Date('2026-03-01T00:00:00Z'), sessions: [] }));
    expect(vcal.getAllSubcomponents('vevent')).toHaveLength(0);
    expect(vcal.getFirstPropertyValue('x-wr-calname')).toBe('Empty');
  });
});
