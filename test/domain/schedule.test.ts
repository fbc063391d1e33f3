import { describe, expect, it } from 'vitest';
import {
  applyQuietHours,
  completionStatus,
  followUpFor,
  jobKey,
  nextDigestAt,
  planCompletionJobs,
  planDigestJob,
  planSessionJobs,
  reminderInstant,
  rescheduleForMove,
} from '../../src/domain/schedule.js';
import { localDateTime } from '../../src/domain/time.js';
import { makeCompletion, makeEnrollment, makeLearner, makeProgram, makeSession } from './fixtures.js';

const EARLY = new Date('2026-01-15T12:00:00.000Z');

describe('reminderInstant', () => {
  it('when a session is the morning after the spring change, then its 1-day reminder is at the same local hour (23 hours ahead)', () => {
    // Sunday 29 March 2026 09:00 CEST; clocks went forward at 02:00 that night.
    const at = reminderInstant('2026-03-29T07:00:00.000Z', 'Europe/Berlin', 1440);
    expect(at).toBe('2026-03-28T08:00:00.000Z');
    expect(localDateTime(at, 'Europe/Berlin')).toMatchObject({ date: '2026-03-28', time: '09:00' });
  });

  it('when a session is the morning after the autumn change, then its 1-day reminder is at the same local hour (25 hours ahead)', () => {
    const at = reminderInstant('2026-10-25T08:00:00.000Z', 'Europe/Berlin', 1440);
    expect(at).toBe('2026-10-24T07:00:00.000Z');
    expect(localDateTime(at, 'Europe/Berlin').time).toBe('09:00');
  });

  it('when the offset is not whole days, then it is an exact duration even across the change', () => {
    // Sunday 29 March 03:30 CEST = 01:30Z; 90 minutes before is 00:00Z = 01:00 CET.
    expect(reminderInstant('2026-03-29T01:30:00.000Z', 'Europe/Berlin', 90)).toBe('2026-03-29T00:00:00.000Z');
    expect(reminderInstant('2026-03-03T08:00:00.000Z', 'Europe/Berlin', 60)).toBe('2026-03-03T07:00:00.000Z');
  });

  it('when a 7-day reminder crosses the change, then it is still 09:00 local', () => {
    const at = reminderInstant('2026-04-02T07:00:00.000Z', 'Europe/Berlin', 7 * 1440);
    expect(localDateTime(at, 'Europe/Berlin')).toMatchObject({ date: '2026-03-26', time: '09:00' });
  });

  it('when an offset is negative, then it is refused', () => {
    expect(() => reminderInstant('2026-03-03T08:00:00.000Z', 'Europe/Berlin', -5)).toThrow(/offset/);
  });
});

describe('applyQuietHours', () => {
  const session0730 = '2026-03-03T06:30:00.000Z'; // 07:30 CET
  const oneHourBefore = '2026-03-03T05:30:00.000Z'; // 06:30 CET

  it('when a 1-hour reminder for a 07:30 session falls in 22:00-07:00 quiet hours, then it is skipped with a reason', () => {
    const r = applyQuietHours(oneHourBefore, 'Europe/Berlin', { start: '22:00', end: '07:00' }, session0730, 60);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/quiet hours.*21:59/);
  });

  it('when the move keeps the lead at most doubled, then the reminder goes at the last minute before quiet hours', () => {
    const r = applyQuietHours(oneHourBefore, 'Europe/Berlin', { start: '06:00', end: '07:00' }, session0730, 60);
    expect(r).toEqual({ ok: true, runAt: '2026-03-03T04:59:00.000Z', moved: true });
    expect(localDateTime('2026-03-03T04:59:00.000Z', 'Europe/Berlin').time).toBe('05:59');
  });

  it('when the send time is outside quiet hours, then it is unchanged', () => {
    const r = applyQuietHours('2026-03-02T06:30:00.000Z', 'Europe/Berlin', { start: '22:00', end: '07:00' }, session0730, 1440);
    expect(r).toEqual({ ok: true, runAt: '2026-03-02T06:30:00.000Z', moved: false });
  });

  it('when quiet hours wrap midnight and the send time is before midnight, then it moves to the minute before they began', () => {
    // Session 08:00 CET on 4 March, 10-hour reminder at 22:00 CET on 3 March; quiet from 21:30.
    const r = applyQuietHours('2026-03-03T21:00:00.000Z', 'Europe/Berlin', { start: '21:30', end: '07:00' }, '2026-03-04T07:00:00.000Z', 600);
    expect(r).toEqual({ ok: true, runAt: '2026-03-03T20:29:00.000Z', moved: true });
  });

  it("when quiet hours are read in the learner's zone, then a Tokyo learner's afternoon is not quiet", () => {
    const r = applyQuietHours(oneHourBefore, 'Asia/Tokyo', { start: '22:00', end: '07:00' }, session0730, 60);
    expect(r).toEqual({ ok: true, runAt: oneHourBefore, moved: false });
  });

  it('when the send time is at or after the session start, then it is skipped', () => {
    const r = applyQuietHours(session0730, 'Europe/Berlin', null, session0730, 0);
    expect(r.ok).toBe(false);
  });
});

describe('planSessionJobs', () => {
  const program = makeProgram();
  const session = makeSession();
  const learner = makeLearner();
  const enrollment = makeEnrollment();

  it('when a learner enrolls early, then every reminder, the prerequisite reminder and the follow-up are planned with unique keys', () => {
    const { jobs, skipped } = planSessionJobs({ program, session, learner, enrollment, now: EARLY });
    expect(skipped).toEqual([]);
    expect(jobs.map((j) => [j.kind, j.runAt])).toEqual([
      ['reminder', '2026-02-24T08:00:00.000Z'],
      ['prerequisite', '2026-02-28T08:00:00.000Z'],
      ['reminder', '2026-03-02T08:00:00.000Z'],
      ['reminder', '2026-03-03T07:00:00.000Z'],
      ['follow-up', '2026-03-03T12:00:00.000Z'],
    ]);
    expect(jobs.map((j) => j.key)).toContain('reminder:l1:s1:1440');
    expect(new Set(jobs.map((j) => j.key)).size).toBe(jobs.length);
  });

  it('when a learner enrolls after two steps have passed, then those collapse into one catch-up at now and the rest stay', () => {
    const now = '2026-03-01T10:00:00.000Z';
    const { jobs } = planSessionJobs({ program, session, learner, enrollment, now });
    const catchUps = jobs.filter((j) => j.kind === 'catch-up');
    expect(catchUps).toHaveLength(1);
    expect(catchUps[0]).toMatchObject({ runAt: now, key: jobKey('catch-up', 'l1', 's1', null) });
    expect(catchUps[0]!.note!.split(',').sort()).toEqual(['prerequisite:l1:s1:4320', 'reminder:l1:s1:10080']);
    expect(jobs.filter((j) => j.kind === 'reminder').map((j) => j.offsetMinutes)).toEqual([1440, 60]);
  });

  it('when the session has already started, then no reminder or catch-up is planned and the skips are logged', () => {
    const { jobs, skipped } = planSessionJobs({ program, session, learner, enrollment, now: '2026-03-03T09:00:00.000Z' });
    expect(jobs.map((j) => j.kind)).toEqual(['follow-up']);
    expect(skipped.every((s) => /already started/.test(s.reason))).toBe(true);
    expect(skipped).toHaveLength(4);
  });

  it('when the learner is waitlisted, then nothing is planned', () => {
    const r = planSessionJobs({ program, session, learner, enrollment: makeEnrollment({ status: 'waitlisted', waitPosition: 1 }), now: EARLY });
    expect(r.jobs).toEqual([]);
  });

  it('when the program has no prerequisite materials, then no prerequisite reminder is planned', () => {
    const p = makeProgram({ materials: [{ title: 'Slides', kind: 'material', link: 'x', owner: 'o', lastReviewed: '2026-01-01' }] });
    const { jobs } = planSessionJobs({ program: p, session, learner, enrollment, now: EARLY });
    expect(jobs.some((j) => j.kind === 'prerequisite')).toBe(false);
  });

  it('when quiet hours hit the 1-hour reminder of a 07:30 session, then it is skipped and logged while the others are kept', () => {
    const p = makeProgram({ policy: { ...program.policy, quietHours: { start: '22:00', end: '07:00' } } });
    const s = makeSession({ start: '2026-03-03T06:30:00.000Z', end: '2026-03-03T09:00:00.000Z' });
    const { jobs, skipped } = planSessionJobs({ program: p, session: s, learner, enrollment, now: EARLY });
    expect(skipped).toEqual([{ key: 'reminder:l1:s1:60', kind: 'reminder', reason: expect.stringMatching(/quiet hours/) }]);
    expect(jobs.filter((j) => j.kind === 'reminder').map((j) => j.offsetMinutes)).toEqual([10080, 1440]);
  });

  it('when the follow-up would land in quiet hours, then it waits for them to end', () => {
    const p = makeProgram({ policy: { ...program.policy, quietHours: { start: '20:00', end: '07:00' } } });
    const s = makeSession({ start: '2026-03-03T16:00:00.000Z', end: '2026-03-03T19:00:00.000Z' }); // ends 20:00 CET
    const { jobs } = planSessionJobs({ program: p, session: s, learner, enrollment, now: EARLY });
    expect(jobs.find((j) => j.kind === 'follow-up')!.runAt).toBe('2026-03-04T06:00:00.000Z');
  });
});

describe('rescheduleForMove', () => {
  const program = makeProgram();
  const learner = makeLearner();
  const enrollment = makeEnrollment();

  it('when a session moves a week later, then unsent jobs get new times and none are added', () => {
    const now = '2026-02-25T12:00:00.000Z';
    const before = planSessionJobs({ program, session: makeSession(), learner, enrollment, now: EARLY });
    // The 7-day reminder (24 Feb) has been sent; the rest is pending.
    const pending = before.jobs.filter((j) => j.runAt > now);
    const moved = makeSession({ start: '2026-03-10T08:00:00.000Z', end: '2026-03-10T11:00:00.000Z' });
    const replanned = planSessionJobs({ program, session: moved, learner, enrollment, now });
    const r = rescheduleForMove(pending, replanned);
    expect(r.drop).toEqual([]);
    expect(r.reschedule.map((x) => [x.key, x.runAt])).toEqual([
      ['prerequisite:l1:s1:4320', '2026-03-07T08:00:00.000Z'],
      ['reminder:l1:s1:1440', '2026-03-09T08:00:00.000Z'],
      ['reminder:l1:s1:60', '2026-03-10T07:00:00.000Z'],
      ['follow-up:l1:s1:60', '2026-03-10T12:00:00.000Z'],
    ]);
    // The new 7-day reminder time (3 March) lies ahead, but it was sent already, so nothing re-adds it.
    expect(r.reschedule.some((x) => x.key === 'reminder:l1:s1:10080')).toBe(false);
  });

  it('when a session moves earlier so that some pending steps are now past, then those are dropped, not caught up', () => {
    const now = '2026-02-20T12:00:00.000Z';
    const pending = planSessionJobs({ program, session: makeSession(), learner, enrollment, now: EARLY }).jobs;
    const moved = makeSession({ start: '2026-02-23T08:00:00.000Z', end: '2026-02-23T11:00:00.000Z' });
    const r = rescheduleForMove(pending, planSessionJobs({ program, session: moved, learner, enrollment, now }));
    expect(r.drop.map((d) => d.key).sort()).toEqual(['prerequisite:l1:s1:4320', 'reminder:l1:s1:10080']);
    expect(r.reschedule.map((x) => x.key)).toEqual(['reminder:l1:s1:1440', 'reminder:l1:s1:60', 'follow-up:l1:s1:60']);
  });

  it('when a late enrollee\'s catch-up is still unsent and the session moves later, then the catch-up stays and nothing is added', () => {
    const pending = planSessionJobs({ program, session: makeSession(), learner, enrollment, now: '2026-03-01T10:00:00.000Z' }).jobs;
    const moved = makeSession({ start: '2026-03-20T08:00:00.000Z', end: '2026-03-20T11:00:00.000Z' });
    const r = rescheduleForMove(pending, planSessionJobs({ program, session: moved, learner, enrollment, now: '2026-03-01T10:05:00.000Z' }));
    expect(r.unchanged).toEqual(['catch-up:l1:s1:-']);
    expect(r.reschedule.map((x) => x.key)).toEqual(['reminder:l1:s1:1440', 'reminder:l1:s1:60', 'follow-up:l1:s1:60']);
    expect(r.drop).toEqual([]);
  });

  it('when the time does not change, then the job is reported unchanged', () => {
    const plan = planSessionJobs({ program, session: makeSession(), learner, enrollment, now: EARLY });
    const r = rescheduleForMove(plan.jobs, plan);
    expect(r.unchanged).toHaveLength(plan.jobs.length);
    expect(r.reschedule).toEqual([]);
  });
});

describe('completion policies', () => {
  const program = makeProgram();
  const learner = makeLearner();

  it('when a learner has not completed, then a due reminder and a manager escalation are planned from the last session', () => {
    const { jobs } = planCompletionJobs({ program, learner, lastSessionEnd: '2026-03-03T11:00:00.000Z', completion: null, now: EARLY });
    expect(jobs.map((j) => [j.kind, j.runAt, j.managerEmail ?? null])).toEqual([
      ['completion-due', '2026-03-15T11:00:00.000Z', null],
      ['overdue-escalation', '2026-03-20T11:00:00.000Z', 'boss@example.com'],
    ]);
    expect(jobs[1]!.key).toBe('overdue-escalation:l1:program-p1:4320');
  });

  it('when the learner has no manager, then the escalation is skipped and logged', () => {
    const r = planCompletionJobs({ program, learner: makeLearner({ managerEmail: null }), lastSessionEnd: '2026-03-03T11:00:00.000Z', completion: null, now: EARLY });
    expect(r.skipped).toEqual([{ key: 'overdue-escalation:l1:program-p1:4320', kind: 'overdue-escalation', reason: 'Anna Berg has no manager on record' }]);
  });

  it('when a learner completed, then only the recertification reminder is planned, 30 days before expiry', () => {
    const completion = makeCompletion({ completedAt: '2026-03-05T10:00:00.000Z', dueAt: '2026-03-17T11:00:00.000Z' });
    const { jobs } = planCompletionJobs({ program, learner, lastSessionEnd: '2026-03-03T11:00:00.000Z', completion, now: EARLY });
    expect(jobs).toEqual([
      expect.objectContaining({ kind: 'recertify', runAt: '2027-02-03T10:00:00.000Z', key: 'recertify:l1:program-p1@2026-03-05:43200' }),
    ]);
  });

  it('when statuses are read at fixed instants, then each state appears', () => {
    const now = '2026-03-20T00:00:00.000Z';
    expect(completionStatus(null, now)).toBe('not-started');
    expect(completionStatus(makeCompletion({ dueAt: '2026-03-25T00:00:00.000Z' }), now)).toBe('in-progress');
    expect(completionStatus(makeCompletion({ dueAt: '2026-03-17T00:00:00.000Z' }), now)).toBe('overdue');
    expect(completionStatus(makeCompletion({ completedAt: '2026-03-10T00:00:00.000Z' }), now, 365)).toBe('completed');
    expect(completionStatus(makeCompletion({ completedAt: '2025-03-10T00:00:00.000Z' }), now, 365)).toBe('expired');
  });
});

describe('follow-up and digest', () => {
  it('when the learner was absent, then the follow-up offers the earliest later session with free seats', () => {
    const s = makeSession();
    const full = makeSession({ id: 's2', start: '2026-03-05T08:00:00.000Z' });
    const open = makeSession({ id: 's3', start: '2026-03-10T08:00:00.000Z' });
    const later = makeSession({ id: 's4', start: '2026-03-17T08:00:00.000Z' });
    const r = followUpFor(makeEnrollment({ attendance: 'absent' }), s, [
      { session: later, freeSeats: 5 },
      { session: full, freeSeats: 0 },
      { session: open, freeSeats: 2 },
    ]);
    expect(r).toEqual({ variant: 'absent', offer: open });
    expect(followUpFor(makeEnrollment({ attendance: 'late' }), s, []).variant).toBe('present');
    expect(followUpFor(makeEnrollment({ attendance: null }), s, []).variant).toBe('unmarked');
  });

  it('when the next Monday 08:00 digest is computed from a Monday 09:00, then it is the following Monday, in the manager zone', () => {
    // Monday 2 March 2026 09:00 CET.
    expect(nextDigestAt('2026-03-02T08:00:00.000Z', 'Europe/Berlin', 1, 8)).toBe('2026-03-09T07:00:00.000Z');
    // Monday 2 March 06:00 CET: later the same day.
    expect(nextDigestAt('2026-03-02T05:00:00.000Z', 'Europe/Berlin', 1, 8)).toBe('2026-03-02T07:00:00.000Z');
    // Across the spring change the local hour holds.
    expect(nextDigestAt('2026-03-24T12:00:00.000Z', 'Europe/Berlin', 1, 8)).toBe('2026-03-30T06:00:00.000Z');
  });

  it("when a digest job is planned, then its key holds the manager's local date", () => {
    const job = planDigestJob({ program: makeProgram(), managerEmail: 'Boss@Example.com', managerZone: 'Europe/Berlin', now: '2026-03-02T08:00:00.000Z' });
    expect(job).toMatchObject({ key: 'digest:2026-03-09:boss@example.com@p1:-', runAt: '2026-03-09T07:00:00.000Z', managerEmail: 'boss@example.com' });
  });
});

describe('quiet hours, for any send time', () => {
  it('when quiet hours apply, then a kept reminder is never later than planned, never at the session start, never in quiet hours, and its move is at most its offset', async () => {
    const fc = (await import('fast-check')).default;
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
        fc.constantFrom(30, 60, 120, 1440, 10080),
        fc.constantFrom(...zones),
        hhmm,
        hhmm,
        (startMs, offset, zone, qs, qe) => {
          const start = new Date(Math.floor(startMs / 60_000) * 60_000).toISOString();
          const sendAt = reminderInstant(start, 'Europe/Berlin', offset);
          const r = applyQuietHours(sendAt, zone, { start: qs, end: qe }, start, offset);
          if (!r.ok) return;
          expect(r.runAt <= sendAt).toBe(true);
          expect(r.runAt < start).toBe(true);
          expect(Date.parse(sendAt) - Date.parse(r.runAt)).toBeLessThanOrEqual(offset * 60_000);
          if (qs !== qe) {
            const t = localDateTime(r.runAt, zone).time;
            const inQuiet = qs < qe ? t >= qs && t < qe : t >= qs || t < qe;
            expect(inQuiet).toBe(false);
          }
        },
      ),
      { numRuns: 120, seed: 20260303 },
    );
  });
});
