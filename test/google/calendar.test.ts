// Google Calendar provider against the emulator: one event per session even under dropped connections and 409s (no lookup before an insert), Meet links only after success, invites sent by Google.
import { describe, expect, test } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import type { SessionEvent } from '../../src/ports/index.js';
import { eventIdForKey } from '../../src/providers/google/google-calendar.js';
import { COORDINATOR, callsOf, expectNoViolations, googleWorld } from './helpers.js';

function session(overrides: Partial<SessionEvent> = {}): SessionEvent {
  return {
    tenantId: 't1',
    sessionId: 's1',
    createKey: 't1:s1:1',
    subject: 'SEC101 Security basics: Cohort A',
    bodyHtml: '<p>Bring your laptop.</p>',
    bodyText: 'Bring your laptop.',
    start: '2026-03-10T09:00:00.000Z',
    end: '2026-03-10T11:00:00.000Z',
    zone: 'Europe/Berlin',
    location: 'Room Ada',
    roomEmail: 'room-ada@resource.acme.example',
    onlineUrl: null,
    wantOnlineMeeting: true,
    organizer: { email: COORDINATOR, name: 'Casey' },
    attendees: [
      { email: 'lea@acme.example', name: 'Lea', role: 'learner' },
      { email: 'max@acme.example', name: 'Max', role: 'learner' },
      { email: 'ina@acme.example', name: 'Ina', role: 'instructor' },
    ],
    sequence: 0,
    ...overrides,
  };
}

describe('Google calendar provider', () => {
  test('when a session is ensured, then one event exists with the room, a Meet link read after pending, and invites sent by Google', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 2 });
    const ref = await providers.calendar.ensureEvent(session());
    const events = emulator.state.events(COORDINATOR);
    expect(events).toHaveLength(1);
    expect(events[0]!.id).toBe(eventIdForKey('t1:s1:1'));
    expect(events[0]!.id).toMatch(/^[a-v0-9]{5,1024}$/);
    expect(ref.joinUrl).toMatch(/^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
    // No lookup before the insert (the client id makes the insert its own lookup), then re-reads while the Meet link is pending.
    expect(emulator.calls().find((c) => c.methodId.startsWith('calendar.'))?.methodId).toBe('calendar.events.insert');
    expect(callsOf(emulator, 'calendar.events.insert')).toBe(1);
    expect(callsOf(emulator, 'calendar.events.get')).toBe(3);
    expect(events[0]!.attendees).toContainEqual(expect.objectContaining({ email: 'room-ada@resource.acme.example', resource: true }));
    const invited = emulator.state.invitationsSent().map((i) => i.email).sort();
    expect(invited).toEqual(['ina@acme.example', 'lea@acme.example', 'max@acme.example']);
    expectNoViolations(emulator);
  });

  test('when the connection drops after Google created the event, then ensureEvent finds it by id and does not create another', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 0 });
    emulator.faults.inject({ method: 'calendar.events.insert', kind: 'drop-after-work' });
    const ref = await providers.calendar.ensureEvent(session());
    expect(emulator.state.events(COORDINATOR)).toHaveLength(1);
    expect(callsOf(emulator, 'calendar.events.insert')).toBe(1);
    expect(ref.externalId).toBe(eventIdForKey('t1:s1:1'));
    expect(ref.joinUrl).toContain('meet.google.com');
    expectNoViolations(emulator);
  });

  test('when the insert answers 409 because an earlier attempt took the id, then the provider reads that event and brings it up to date', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 0 });
    // An earlier attempt (another worker, or this one before a crash) created the event, with an older title and no attendees.
    emulator.beforeNext('calendar.events.insert', () => {
      emulator.state.calendar.calendar(COORDINATOR).set(eventIdForKey('t1:s1:1'), {
        resource: { kind: 'calendar#event', id: eventIdForKey('t1:s1:1'), status: 'confirmed', summary: 'x', start: { dateTime: '2026-03-10T09:00:00Z' }, end: { dateTime: '2026-03-10T11:00:00Z' } },
        conferencePendingReads: 0,
      });
    });
    const ref = await providers.calendar.ensureEvent(session());
    expect(ref.externalId).toBe(eventIdForKey('t1:s1:1'));
    expect(emulator.state.events(COORDINATOR)).toHaveLength(1);
    expect(emulator.calls().some((c) => c.methodId === 'calendar.events.insert' && c.status === 409)).toBe(true);
    const [ev] = emulator.state.events(COORDINATOR);
    expect(ev!.summary).toBe(session().subject);
    expect((ev!.attendees as Array<{ email: string }>).map((a) => a.email).sort()).toEqual(['ina@acme.example', 'lea@acme.example', 'max@acme.example', 'room-ada@resource.acme.example']);
    expect(emulator.state.invitationsSent().map((i) => i.email).sort()).toEqual(['ina@acme.example', 'lea@acme.example', 'max@acme.example']);
    expectNoViolations(emulator);
  });

  test('when an earlier attempt created the event and nothing changed since, then a retry costs one refused insert and one read, no patch', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 0 });
    const first = await providers.calendar.ensureEvent(session(), { mayExist: false });
    const before = emulator.calls().length;
    const again = await providers.calendar.ensureEvent(session(), { mayExist: true });
    expect(again).toEqual(first);
    expect(emulator.calls().slice(before).map((c) => `${c.methodId} ${c.status}`)).toEqual(['calendar.events.insert 409', 'calendar.events.get 200']);
    expect(emulator.state.events(COORDINATOR)).toHaveLength(1);
    expectNoViolations(emulator);
  });

  test('when Google answers 403 rateLimitExceeded, then the provider backs off and succeeds', async () => {
    const { emulator, providers, sleeps } = await googleWorld({ meetPendingReads: 0 });
    emulator.faults.inject({ method: 'calendar.events.insert', kind: '403-rate', times: 2 });
    await providers.calendar.ensureEvent(session({ wantOnlineMeeting: false }));
    expect(emulator.state.events(COORDINATOR)).toHaveLength(1);
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
    expect(sleeps[1]!).toBeGreaterThan(sleeps[0]!);
    expectNoViolations(emulator);
  });

  test('when Retry-After is sent with a 429, then the wait honours it', async () => {
    const { emulator, providers, sleeps } = await googleWorld({ meetPendingReads: 0 });
    emulator.faults.inject({ method: 'calendar.events.insert', kind: '429', retryAfterSeconds: 7 });
    await providers.calendar.ensureEvent(session({ wantOnlineMeeting: false }));
    expect(sleeps[0]).toBe(7000);
    expect(emulator.state.events(COORDINATOR)).toHaveLength(1);
    expectNoViolations(emulator);
  });

  test('when a session moves, is cancelled, and is reinstated, then the same event id is patched, deleted with notice, and confirmed again', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 0 });
    const ref = await providers.calendar.ensureEvent(session());
    await providers.calendar.updateEvent(ref, session({ start: '2026-03-11T09:00:00.000Z', end: '2026-03-11T11:00:00.000Z', attendees: [...session().attendees, { email: 'new@acme.example', name: 'New', role: 'learner' }] }));
    let [ev] = emulator.state.events(COORDINATOR);
    expect(ev!.start.dateTime).toBe('2026-03-11T09:00:00.000Z');
    expect(ev!.hangoutLink).toBe(ref.joinUrl);
    await providers.calendar.cancelEvent(ref, session(), 'The trainer is ill.');
    [ev] = emulator.state.events(COORDINATOR);
    expect(ev!.status).toBe('cancelled');
    expect(ev!.description).toContain('The trainer is ill.');
    expect(emulator.state.invitationsSent().filter((i) => i.kind === 'cancel').map((i) => i.email)).toContain('new@acme.example');
    await providers.calendar.cancelEvent(ref, session(), 'again'); // already cancelled: nothing to do
    const invitesBefore = emulator.state.invitationsSent().filter((i) => i.kind === 'invite').length;
    const again = await providers.calendar.ensureEvent(session(), { mayExist: true });
    expect(again.externalId).toBe(ref.externalId);
    expect(emulator.state.events(COORDINATOR)[0]!.status).toBe('confirmed');
    // Restored to the session as it is now (its original time and attendees), and everyone is invited again.
    expect(emulator.state.events(COORDINATOR)[0]!.start.dateTime).toBe('2026-03-10T09:00:00.000Z');
    expect(emulator.state.invitationsSent().filter((i) => i.kind === 'invite').length - invitesBefore).toBe(3);
    const next = await providers.calendar.ensureEvent(session({ createKey: 't1:s1:2' }));
    expect(next.externalId).not.toBe(ref.externalId);
    expect(emulator.state.events(COORDINATOR)).toHaveLength(2);
    expectNoViolations(emulator);
  });

  test('when attendees respond, then readResponses maps them and leaves out the room and organizer', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 0 });
    const ref = await providers.calendar.ensureEvent(session());
    emulator.state.setResponse(ref.externalId, 'lea@acme.example', 'accepted');
    emulator.state.setResponse(ref.externalId, 'max@acme.example', 'declined');
    const responses = await providers.calendar.readResponses(ref);
    expect(responses.sort((a, b) => a.email.localeCompare(b.email))).toEqual([
      { email: 'ina@acme.example', rsvp: 'none' },
      { email: 'lea@acme.example', rsvp: 'accepted' },
      { email: 'max@acme.example', rsvp: 'declined' },
    ]);
    expectNoViolations(emulator);
  });

  test('when free/busy is asked for people and a room, then their busy blocks come back', async () => {
    const { emulator, providers } = await googleWorld({ meetPendingReads: 0 });
    await providers.calendar.ensureEvent(session());
    emulator.state.addBusy('ina@acme.example', '2026-03-10T13:00:00.000Z', '2026-03-10T14:00:00.000Z');
    const busy = await providers.calendar.freeBusy(['ina@acme.example', 'room-ada@resource.acme.example', 'free@acme.example'], '2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z');
    expect(busy.get('ina@acme.example')).toEqual([
      { start: '2026-03-10T09:00:00.000Z', end: '2026-03-10T11:00:00.000Z' },
      { start: '2026-03-10T13:00:00.000Z', end: '2026-03-10T14:00:00.000Z' },
    ]);
    expect(busy.get('room-ada@resource.acme.example')).toHaveLength(1);
    expect(busy.get('free@acme.example')).toEqual([]);
    expectNoViolations(emulator);
  });

  test('when the delegation entry lacks a scope Muster asks for, then calls fail as PROVIDER_AUTH_FAILED and readiness blocks', async () => {
    const { emulator } = await googleWorld();
    const { createGoogleProviders } = await import('../../src/providers/google/index.js');
    const key = emulator.createServiceAccountKey({ delegatedScopes: ['https://www.googleapis.com/auth/calendar.events'] });
    const { calendar } = createGoogleProviders({ serviceAccountKey: key, impersonate: COORDINATOR, spreadsheetId: 'x', rootUrl: emulator.rootUrl, tokenUrl: emulator.tokenUrl }, { logger: { debug() {}, info() {}, warn() {}, error() {} }, sleep: async () => {} });
    const err = await calendar.ensureEvent(session()).catch((e: unknown) => e);
    expect(isMusterError(err, 'PROVIDER_AUTH_FAILED')).toBe(true);
    const items = await calendar.readiness();
    expect(items[0]!.status).toBe('blocking');
    expectNoViolations(emulator);
  });
});
