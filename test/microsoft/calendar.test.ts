// GraphCalendar against the Graph emulator with the real msal-node and Graph SDK clients: exactly-once creates, Teams links, patches, cancels, RSVPs, adoption, free/busy and readiness.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { ADDIN_ID, ORGANIZER, type Rig, assertNoSecretsLogged, sampleSession, startRig } from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ simulatedClock: true });
  rig.em.state.addRoom({ mail: 'room401@contoso.com', displayName: 'Room 4.01' });
  for (const m of ['ines.instructor@contoso.com', 'lena.learner@contoso.com', 'lars.learner@contoso.com']) rig.em.state.addUser({ mail: m });
});

afterEach(() => {
  rig.em.faults.clear();
});

afterAll(async () => {
  try {
    expect(rig.em.counters().named['requestBodiesValidated']).toBeGreaterThan(0);
    expect(rig.em.violations()).toEqual([]);
    assertNoSecretsLogged(rig.logger, [rig.config.clientSecret ?? '']);
  } finally {
    await rig.em.close();
  }
});

const eventsFor = (sessionId: string) => rig.em.state.events(ORGANIZER).filter((e) => e.extendedProperties.some((p) => p.value.includes(sessionId)));

describe('ensureEvent', () => {
  it('when a session is created, then one event carries attendees, the room as a resource, the body and a Teams link', async () => {
    const ev = sampleSession();
    const ref = await rig.providers.calendar.ensureEvent(ev);
    const [stored, ...others] = eventsFor(ev.sessionId);
    expect(others).toHaveLength(0);
    expect(stored?.id).toBe(ref.externalId);
    expect(ref.joinUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);
    expect(stored?.attendees).toEqual([
      { email: 'ines.instructor@contoso.com', type: 'required', response: 'none' },
      { email: 'lena.learner@contoso.com', type: 'required', response: 'none' },
      { email: 'lars.learner@contoso.com', type: 'required', response: 'none' },
      { email: 'room401@contoso.com', type: 'resource', response: 'none' },
    ]);
    expect(stored?.start).toBe('2030-03-04T08:00:00.000Z');
    expect(stored?.bodyContent).toContain('fire exits &amp; first aid');
  });

  it('when it is called again for the same create key, then the existing event is returned and nothing is created', async () => {
    const ev = sampleSession();
    const a = await rig.providers.calendar.ensureEvent(ev);
    const b = await rig.providers.calendar.ensureEvent(ev, { mayExist: true });
    expect(b.externalId).toBe(a.externalId);
    expect(eventsFor(ev.sessionId)).toHaveLength(1);
  });

  it('when it is a first attempt, then the event is posted without a lookup; when an earlier attempt may exist, then it is looked up first and not posted', async () => {
    const ev = sampleSession();
    // Dedupe off, so only Muster's own lookup can keep a repeat from creating a second event.
    rig.em.settings.transactionIdWindowMs = 0;
    try {
      rig.em.resetCounters();
      const a = await rig.providers.calendar.ensureEvent(ev, { mayExist: false });
      const first = rig.em.counters().perEndpoint;
      expect(first['GET /users/{id}/events'] ?? 0).toBe(0);
      expect(first['POST /users/{id}/events']).toBe(1);
      rig.em.resetCounters();
      const b = await rig.providers.calendar.ensureEvent(ev, { mayExist: true });
      const retry = rig.em.counters().perEndpoint;
      expect(retry['GET /users/{id}/events']).toBe(1);
      expect(retry['POST /users/{id}/events'] ?? 0).toBe(0);
      expect(b.externalId).toBe(a.externalId);
      expect(b.joinUrl).toBe(a.joinUrl);
    } finally {
      rig.em.settings.transactionIdWindowMs = 10 * 60 * 1000;
    }
    expect(eventsFor(ev.sessionId)).toHaveLength(1);
  });

  it('when the connection drops after the event was created, then a retry finds it by its key: still one event', async () => {
    const ev = sampleSession();
    rig.em.faults.inject({ match: { method: 'POST', path: /\/events$/ }, fault: { kind: 'drop', afterEffect: true } });
    const ref = await rig.providers.calendar.ensureEvent(ev);
    expect(eventsFor(ev.sessionId)).toHaveLength(1);
    expect(eventsFor(ev.sessionId)[0]?.id).toBe(ref.externalId);
    expect(rig.logger.lines.some((l) => l.event === 'graph.calendar.create_unknown')).toBe(true);
  });

  it('when the transactionId window is off and a first create times out after the work (504), then the key lookup before posting again still keeps one event', async () => {
    const ev = sampleSession();
    rig.em.settings.transactionIdWindowMs = 0;
    try {
      rig.em.faults.inject({ match: { method: 'POST', path: /\/events$/ }, fault: { kind: 'status', status: 504, afterEffect: true } });
      await rig.providers.calendar.ensureEvent(ev, { mayExist: false });
      expect(rig.em.faults.pending()).toBe(0);
    } finally {
      rig.em.settings.transactionIdWindowMs = 10 * 60 * 1000;
    }
    expect(eventsFor(ev.sessionId)).toHaveLength(1);
  });

  it('when Graph throttles the create with 429 and Retry-After, then the client waits that long and creates once', async () => {
    const ev = sampleSession();
    rig.waits.length = 0;
    rig.em.faults.inject({ match: { method: 'POST', path: /\/events$/ }, fault: { kind: 'status', status: 429, retryAfter: 3 } });
    await rig.providers.calendar.ensureEvent(ev);
    expect(rig.waits).toContain(3000);
    expect(eventsFor(ev.sessionId)).toHaveLength(1);
  });

  it('when the mailbox may not create Teams meetings, then the create is a failure that says so', async () => {
    rig.em.state.setAllowedOnlineMeetingProviders(ORGANIZER, []);
    try {
      const err = await rig.providers.calendar.ensureEvent(sampleSession()).catch((e: unknown) => e);
      expect(isMusterError(err, 'PROVIDER_REJECTED')).toBe(true);
      expect((err as Error).message).toMatch(/Teams meetings are not enabled/);
    } finally {
      rig.em.state.setAllowedOnlineMeetingProviders(ORGANIZER, ['teamsForBusiness']);
    }
  });

  it('when a session has more than 500 attendees, then a clear LIMIT_EXCEEDED error and no request', async () => {
    const attendees = Array.from({ length: 501 }, (_, i) => ({ email: `l${i}@contoso.com`, name: `L ${i}`, role: 'learner' as const }));
    const err = await rig.providers.calendar.ensureEvent(sampleSession({ attendees, roomEmail: null })).catch((e: unknown) => e);
    expect(isMusterError(err, 'LIMIT_EXCEEDED')).toBe(true);
  });
});

describe('updates, cancellations and responses', () => {
  it('when a session moves, then the same event is patched with the new time', async () => {
    const ev = sampleSession();
    const ref = await rig.providers.calendar.ensureEvent(ev);
    const moved = { ...ev, start: '2030-03-05T08:00:00.000Z', end: '2030-03-05T09:30:00.000Z', sequence: 1 };
    const after = await rig.providers.calendar.updateEvent(ref, moved);
    expect(after.externalId).toBe(ref.externalId);
    expect(eventsFor(ev.sessionId)).toHaveLength(1);
    expect(rig.em.state.event(ref.externalId)?.start).toBe('2030-03-05T08:00:00.000Z');
  });

  it('when a session is cancelled, then the event is cancelled with the message', async () => {
    const ev = sampleSession();
    const ref = await rig.providers.calendar.ensureEvent(ev);
    await rig.providers.calendar.cancelEvent(ref, ev, 'The trainer is ill; a new date follows.');
    expect(rig.em.state.event(ref.externalId)).toMatchObject({ isCancelled: true, cancelComment: 'The trainer is ill; a new date follows.' });
  });

  it('when attendees answer in Outlook, then readResponses maps them and leaves the room out', async () => {
    const ev = sampleSession();
    const ref = await rig.providers.calendar.ensureEvent(ev);
    rig.em.state.setResponse(ref.externalId, 'lena.learner@contoso.com', 'accepted');
    rig.em.state.setResponse(ref.externalId, 'lars.learner@contoso.com', 'tentativelyAccepted');
    rig.em.state.setResponse(ref.externalId, 'room401@contoso.com', 'accepted');
    const responses = await rig.providers.calendar.readResponses(ref);
    expect(responses).toEqual([
      { email: 'ines.instructor@contoso.com', rsvp: 'none' },
      { email: 'lena.learner@contoso.com', rsvp: 'accepted' },
      { email: 'lars.learner@contoso.com', rsvp: 'tentative' },
    ]);
  });

  it('when the coordinator already sent the meeting from Outlook with the add-in, then findAdoptable returns it', async () => {
    const ev = sampleSession();
    const id = rig.em.state.createEventFromOutlook({ mailbox: ORGANIZER, addinId: ADDIN_ID, customProperties: { musterSessionId: ev.sessionId }, subject: ev.subject, start: ev.start, end: ev.end });
    const ref = await rig.providers.calendar.findAdoptable?.(ev);
    expect(ref?.externalId).toBe(id);
    expect(await rig.providers.calendar.findAdoptable?.(sampleSession())).toBeNull();
  });

  it('when an instructor is busy, then freeBusy reports the interval', async () => {
    rig.em.state.addBusy('ines.instructor@contoso.com', '2031-01-10T09:00:00Z', '2031-01-10T10:00:00Z');
    const busy = await rig.providers.calendar.freeBusy(['ines.instructor@contoso.com', 'lars.learner@contoso.com'], '2031-01-10T00:00:00Z', '2031-01-11T00:00:00Z');
    expect(busy.get('ines.instructor@contoso.com')).toEqual([{ start: '2031-01-10T09:00:00.000Z', end: '2031-01-10T10:00:00.000Z' }]);
    expect(busy.get('lars.learner@contoso.com')).toEqual([]);
  });
});

describe('readiness', () => {
  it('when the organizer mailbox allows Teams, then the Teams item is ok', async () => {
    const items = await rig.providers.calendar.readiness();
    expect(items).toEqual([expect.objectContaining({ id: 'microsoft.teams', status: 'ok' })]);
  });

  it('when the organizer mailbox does not allow Teams, then a blocking item names the fix', async () => {
    rig.em.state.setAllowedOnlineMeetingProviders(ORGANIZER, ['skypeForBusiness']);
    try {
      const [item] = await rig.providers.calendar.readiness();
      expect(item).toMatchObject({ id: 'microsoft.teams', status: 'blocking', area: 'provider' });
      expect(item?.reason).toMatch(/teamsForBusiness/);
      expect(item?.reason).toMatch(/administrator/);
    } finally {
      rig.em.state.setAllowedOnlineMeetingProviders(ORGANIZER, ['teamsForBusiness']);
    }
  });
});
