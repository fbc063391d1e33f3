// A launch of 3 sessions and 60 learners through the Google providers with 10% injected faults and a restart half-way: still 3 events, one mail per learner, no duplicate row.
import { describe, expect, test } from 'vitest';
import { ALL_TABS, TABS } from '../../src/domain/records.js';
import { isMusterError } from '../../src/domain/errors.js';
import type { OutgoingMessage, RecordRow, SessionEvent } from '../../src/ports/index.js';
import { createGoogleProviders } from '../../src/providers/google/index.js';
import { COORDINATOR, expectNoViolations, googleWorld, memoryLogger, type GoogleWorld } from './helpers.js';

const LEARNERS = Array.from({ length: 60 }, (_, i) => ({ email: `learner${i + 1}@acme.example`, name: `Learner ${i + 1}` }));
const SESSIONS = [1, 2, 3].map((n) => ({ id: `s${n}`, day: `2026-03-1${n}` }));

function sessionEvent(s: (typeof SESSIONS)[number]): SessionEvent {
  return {
    tenantId: 't1', sessionId: s.id, createKey: `t1:${s.id}:1`, subject: `SEC101 day ${s.id}`, bodyHtml: '<p>Agenda</p>', bodyText: 'Agenda',
    start: `${s.day}T09:00:00.000Z`, end: `${s.day}T12:00:00.000Z`, zone: 'Europe/Berlin', location: 'Room Ada', roomEmail: 'room-ada@resource.acme.example',
    onlineUrl: null, wantOnlineMeeting: true, organizer: { email: COORDINATOR, name: 'Casey' }, attendees: LEARNERS.map((l) => ({ ...l, role: 'learner' as const })), sequence: 0,
  };
}

function reminder(i: number): OutgoingMessage {
  const l = LEARNERS[i]!;
  return { tenantId: 't1', key: `t1:rem:${l.email}:s1:1d`, messageId: `<rem-${i + 1}.s1.t1@muster.acme.example>`, from: { email: COORDINATOR, name: 'Casey' }, to: [l], subject: 'SEC101 starts tomorrow', text: 'Tomorrow.', html: '<p>Tomorrow.</p>' };
}

/** What the job queue does: retry a job whose error is retryable, after waiting. */
async function asJob<T>(world: GoogleWorld, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = isMusterError(err) && ['PROVIDER_THROTTLED', 'PROVIDER_UNAVAILABLE', 'OUTCOME_UNKNOWN'].includes(err.code);
      if (!retryable || attempt > 20) throw err;
      world.emulator.clock.advance(30_000);
    }
  }
}

async function sendExactlyOnce(world: GoogleWorld, mailer: GoogleWorld['providers']['mailer'], msg: OutgoingMessage): Promise<void> {
  let previous: { providerId: string | null } | undefined;
  for (let attempt = 1; attempt <= 20; attempt++) {
    const outcome = await mailer.send(msg, previous);
    if (outcome.status === 'sent') return;
    if (outcome.status === 'unknown') previous = { providerId: outcome.providerId };
    else if (!outcome.retryable) throw outcome.error;
    world.emulator.clock.advance(30_000);
  }
  throw new Error(`could not send ${msg.key}`);
}

describe('Google launch under faults', () => {
  test('when 3 sessions and 60 learners launch with 10% faults and a restart half-way, then 3 events, one reminder each, and no duplicate rows', async () => {
    const world = await googleWorld({ meetPendingReads: 1 });
    const { emulator, spreadsheetId } = world;
    emulator.faults.random({ rate: 0.1, seed: 7, kinds: ['429', '403-rate', '500', '503', 'drop', 'drop-after-work'] });
    const restart = () =>
      createGoogleProviders(
        { serviceAccountKey: world.key, impersonate: COORDINATOR, spreadsheetId, rootUrl: emulator.rootUrl, tokenUrl: emulator.tokenUrl },
        { logger: memoryLogger(), sleep: async (ms) => emulator.clock.advance(ms), random: () => 0.5 },
      );
    let p = world.providers;
    await asJob(world, () => p.records.ensureTabs(ALL_TABS));
    const roster: RecordRow[] = LEARNERS.map((l) => ({ key: l.email, cells: { Email: l.email, Name: l.name, Status: 'enrolled' } }));
    for (const [i, s] of SESSIONS.entries()) {
      if (i === 1) p = restart(); // the process dies and comes back: nothing but the keys survive
      const ref = await asJob(world, () => p.calendar.ensureEvent(sessionEvent(s)));
      expect(ref.joinUrl).toMatch(/^https:\/\/meet\.google\.com\//);
      const attendance: RecordRow[] = LEARNERS.map((l) => ({ key: `${s.id}:${l.email}`, cells: { 'Session ID': s.id, Date: { date: s.day }, Email: l.email, Name: l.name, Enrollment: 'enrolled' } }));
      await asJob(world, () => p.records.upsertRows(TABS.attendance, attendance));
    }
    await asJob(world, () => p.records.upsertRows(TABS.roster, roster));
    for (let i = 0; i < LEARNERS.length; i++) {
      if (i === 30) p = restart();
      await sendExactlyOnce(world, p.mailer, reminder(i));
    }

    expect(emulator.faults.injected().length).toBeGreaterThanOrEqual(5);
    const events = emulator.state.events(COORDINATOR);
    expect(events).toHaveLength(3);
    for (const ev of events) {
      const invites = emulator.state.invitationsSent().filter((x) => x.eventId === ev.id && x.kind === 'invite');
      expect(invites).toHaveLength(60);
      expect(ev.attendees.filter((a: { resource?: boolean }) => a.resource)).toHaveLength(1);
    }
    const sent = emulator.state.sentMessages(COORDINATOR);
    expect(sent).toHaveLength(60);
    expect(new Set(sent.map((m) => m.messageId)).size).toBe(60);
    const view = emulator.state.spreadsheet(spreadsheetId);
    const rosterKeys = view.rowMetadata('Roster').filter(Boolean);
    const attendanceKeys = view.rowMetadata('Attendance').filter(Boolean);
    expect(rosterKeys).toHaveLength(60);
    expect(new Set(rosterKeys).size).toBe(60);
    expect(attendanceKeys).toHaveLength(180);
    expect(new Set(attendanceKeys).size).toBe(180);
    expect(view.values('Attendance')).toHaveLength(181);
    expectNoViolations(emulator);
  });
});
