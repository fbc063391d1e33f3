// A launch of 3 sessions for 60 learners through the Microsoft providers while 10% of Graph requests fail (429, 503, connections dropped after the work): exactly 3 events and one mail per learner.
import { afterEach, describe, expect, it } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import type { CalendarPort, EventRef, MailerPort, OutgoingMessage, SessionEvent } from '../../src/ports/index.js';
import type { Fault } from '../emulators/graph/index.js';
import { ORGANIZER, type Rig, sampleMessage, sampleSession, startRig } from './helpers.js';

const FAULTS: Fault[] = [
  { kind: 'status', status: 429, retryAfter: 1 },
  { kind: 'status', status: 503 },
  { kind: 'drop', afterEffect: true },
];

let rig: Rig | null = null;

afterEach(async () => {
  await rig?.em.close();
  rig = null;
});

/** What a job runner does with the calendar: retry retryable failures, never create twice. */
async function ensureWithRetries(calendar: CalendarPort, ev: SessionEvent): Promise<EventRef> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await calendar.ensureEvent(ev);
    } catch (err) {
      const retryable = isMusterError(err) && ['PROVIDER_THROTTLED', 'PROVIDER_UNAVAILABLE', 'OUTCOME_UNKNOWN'].includes(err.code);
      if (!retryable || attempt >= 20) throw err;
    }
  }
}

/** What a job runner does with mail: send, settle an unknown outcome, resend only what settle calls not-sent. */
async function sendExactlyOnce(mailer: MailerPort, msg: OutgoingMessage): Promise<void> {
  let previous: { providerId: string | null } | undefined;
  for (let attempt = 0; attempt < 30; attempt++) {
    const outcome = await mailer.send(msg, previous);
    if (outcome.status === 'sent') return;
    if (outcome.status === 'failed') {
      if (!outcome.retryable) throw outcome.error;
      continue;
    }
    previous = { providerId: outcome.providerId };
    const settled = await mailer.settle(msg, outcome.providerId);
    if (settled === 'sent') return;
  }
  throw new Error(`could not send ${msg.key}`);
}

async function launch(transactionIdWindowMs: number, seed: number): Promise<void> {
  rig = await startRig({ simulatedClock: true, transactionIdWindowMs, sendsPerMinute: 10_000 });
  const learners = Array.from({ length: 60 }, (_, i) => ({ email: `learner${i}@contoso.com`, name: `Learner ${i}`, role: 'learner' as const }));
  const sessions = [0, 1, 2].map((i) =>
    sampleSession({ sessionId: `launch-${seed}-${i}`, createKey: `t1/launch-${seed}-${i}/1`, start: `2030-04-0${i + 1}T08:00:00.000Z`, end: `2030-04-0${i + 1}T10:00:00.000Z`, attendees: learners.slice(i * 20, i * 20 + 20) }),
  );
  rig.em.faults.setRandom({ rate: 0.1, seed, faults: FAULTS });
  const refs = await Promise.all(sessions.map((s) => ensureWithRetries(rig!.providers.calendar, s)));
  await Promise.all(learners.map((l) => sendExactlyOnce(rig!.providers.mailer, sampleMessage({ key: `prereq/${l.email}`, subject: `Prerequisites for ${l.email}`, to: [{ email: l.email, name: l.name }] }))));
  rig.em.faults.setRandom(null);

  const events = rig.em.state.events(ORGANIZER).filter((e) => !e.isCancelled);
  expect(events).toHaveLength(3);
  expect(new Set(refs.map((r) => r.externalId))).toEqual(new Set(events.map((e) => e.id)));
  for (const e of events) {
    expect(e.joinUrl).not.toBeNull();
    expect(e.attendees.filter((a) => a.type === 'required')).toHaveLength(20);
    expect(e.attendees.filter((a) => a.type === 'resource')).toHaveLength(1);
  }
  const sent = rig.em.state.messagesSent(ORGANIZER);
  expect(sent).toHaveLength(60);
  expect(new Set(sent.map((m) => m.to[0])).size).toBe(60);
  expect(rig.em.faults.applied.length).toBeGreaterThan(5);
  expect(rig.em.violations()).toEqual([]);
}

describe('launch with 10% of Graph requests failing', () => {
  it('when the transactionId window is on, then exactly 3 events and one mail per learner', async () => {
    await launch(10 * 60 * 1000, 11);
  });

  it('when the transactionId window has passed (0), then the create-key lookup alone still gives exactly 3 events and one mail per learner', async () => {
    await launch(0, 23);
  });
});
