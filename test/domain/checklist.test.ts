import { describe, expect, it } from 'vitest';
import { assertLaunchable, checklistSummary, computeChecklist, overlappingSessions, type ChecklistInput } from '../../src/domain/checklist.js';
import { isMusterError, type MusterError } from '../../src/domain/errors.js';
import type { ChecklistItem } from '../../src/domain/types.js';
import { makeEnrollment, makeLearner, makeProgram, makeSession } from './fixtures.js';

const NOW = '2026-02-20T09:00:00.000Z';

function goodInput(over: Partial<ChecklistInput> = {}): ChecklistInput {
  return {
    program: makeProgram(),
    sessions: [makeSession(), makeSession({ id: 's2', label: 'Cohort B', start: '2026-03-05T08:00:00.000Z', end: '2026-03-05T11:00:00.000Z' })],
    learners: [makeLearner(), makeLearner({ id: 'l2', email: 'ben.ode@example.com', name: 'Ben Ode' })],
    enrollments: [makeEnrollment(), makeEnrollment({ id: 'e2', learnerId: 'l2', sessionId: 's2' })],
    people: { 'trainer@example.com': 'Tom Trainer' },
    ...over,
  };
}

function byId(items: ChecklistItem[]): Record<string, ChecklistItem> {
  return Object.fromEntries(items.map((i) => [i.id, i]));
}

describe('launch checklist', () => {
  it('when everything is in place, then every item is ok and the program may launch', () => {
    const items = computeChecklist(goodInput(), NOW);
    expect(items.filter((i) => i.status !== 'ok')).toEqual([]);
    expect(assertLaunchable(items)).toEqual({ forced: false, overridden: [] });
    const ids = items.map((i) => i.id);
    for (const id of ['roster.approved', 'roster.learner-fields', 'sessions.s1.fields', 'sessions.s1.capacity', 'sessions.instructor-conflicts', 'sessions.learner-conflicts', 'materials.0', 'materials.1', 'schedule.reminders', 'schedule.follow-ups', 'schedule.completion', 'schedule.manager-reports', 'owners.missedSessions']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('when the roster is not approved, then roster.approved blocks', () => {
    const i = byId(computeChecklist(goodInput({ program: makeProgram({ rosterApproved: false }) }), NOW));
    expect(i['roster.approved']).toMatchObject({ status: 'blocking', reason: 'The learner list has not been approved yet', owner: 'coord@example.com' });
  });

  it('when there is no enrollment path or audience, then those items warn', () => {
    const i = byId(computeChecklist(goodInput({ program: makeProgram({ enrollmentPath: null, audience: ' ' }) }), NOW));
    expect(i['roster.enrollment-path']!.status).toBe('warning');
    expect(i['roster.audience']!.status).toBe('warning');
  });

  it('when learners lack a zone or a manager, then the learner-fields item names them', () => {
    const learners = [makeLearner({ zone: 'Berlin' }), makeLearner({ id: 'l2', email: 'ben.ode@example.com', name: 'Ben Ode', managerEmail: null })];
    const i = byId(computeChecklist(goodInput({ learners }), NOW));
    expect(i['roster.learner-fields']).toMatchObject({ status: 'blocking', reason: 'Anna Berg has no valid time zone; Ben Ode has no manager on record' });
    const onlyManager = byId(computeChecklist(goodInput({ learners: [makeLearner(), learners[1]!] }), NOW));
    expect(onlyManager['roster.learner-fields']!.status).toBe('warning');
  });

  it('when nobody is enrolled, then roster.learners warns', () => {
    expect(byId(computeChecklist(goodInput({ enrollments: [] }), NOW))['roster.learners']!.status).toBe('warning');
  });

  it('when a session has no backup plan or room, then its fields item says so in plain words', () => {
    const sessions = [makeSession({ backupPlan: null }), makeSession({ id: 's2', label: 'Cohort B', start: '2026-03-05T08:00:00.000Z', end: '2026-03-05T11:00:00.000Z', room: null, instructors: [] })];
    const i = byId(computeChecklist(goodInput({ sessions }), NOW));
    expect(i['sessions.s1.fields']).toMatchObject({ status: 'blocking', reason: "Session 'Cohort A' has no backup plan" });
    expect(i['sessions.s2.fields']!.reason).toBe("Session 'Cohort B' has no room or online link and no instructor");
  });

  it('when no session is scheduled, then sessions.present blocks', () => {
    expect(byId(computeChecklist(goodInput({ sessions: [makeSession({ status: 'cancelled' })] }), NOW))['sessions.present']!.status).toBe('blocking');
  });

  it('when a session has more learners than seats, then its capacity item blocks', () => {
    const enrollments = [makeEnrollment(), makeEnrollment({ id: 'e3', learnerId: 'l2' }), makeEnrollment({ id: 'e4', learnerId: 'l3' })];
    const i = byId(computeChecklist(goodInput({ sessions: [makeSession({ capacity: 2 })], enrollments }), NOW));
    expect(i['sessions.s1.capacity']).toMatchObject({ status: 'blocking', reason: "Session 'Cohort A' has 3 learners for 2 seats" });
  });

  it('when an instructor teaches two overlapping sessions, then the conflict names them and the day', () => {
    const other = makeSession({ id: 'x1', programId: 'p2', label: 'Phishing drill', start: '2026-03-03T10:00:00.000Z', end: '2026-03-03T12:00:00.000Z' });
    const i = byId(computeChecklist(goodInput({ otherSessions: [other] }), NOW));
    expect(i['sessions.instructor-conflicts']).toMatchObject({
      status: 'blocking',
      reason: "Tom Trainer is in two sessions at once on 3 March ('Cohort A' and 'Phishing drill')",
    });
  });

  it("when an instructor's calendar is busy during a session, then it is a conflict, but their own session event is not", () => {
    const own = { start: '2026-03-03T08:00:00.000Z', end: '2026-03-03T11:00:00.000Z' };
    const clean = byId(computeChecklist(goodInput({ busy: { 'Trainer@example.com': [own] } }), NOW));
    expect(clean['sessions.instructor-conflicts']!.status).toBe('ok');
    const busy = byId(computeChecklist(goodInput({ busy: { 'trainer@example.com': [own, { start: '2026-03-05T09:30:00.000Z', end: '2026-03-05T10:00:00.000Z' }] } }), NOW));
    expect(busy['sessions.instructor-conflicts']!.reason).toBe("Tom Trainer is busy in their calendar during session 'Cohort B' on 5 March");
  });

  it('when a learner is enrolled in two sessions at once, then the learner conflict names them', () => {
    const other = makeSession({ id: 'x1', programId: 'p2', label: 'Excel basics', instructors: ['x@example.com'], start: '2026-03-03T09:00:00.000Z', end: '2026-03-03T10:00:00.000Z' });
    const otherEnrollments = [makeEnrollment({ id: 'o1', programId: 'p2', sessionId: 'x1', learnerId: 'l1' })];
    const i = byId(computeChecklist(goodInput({ otherSessions: [other], otherEnrollments }), NOW));
    expect(i['sessions.learner-conflicts']).toMatchObject({ status: 'blocking', reason: "Anna Berg is in two sessions at once on 3 March ('Cohort A' and 'Excel basics')" });
    // A waitlisted place in the other session is no clash.
    const waiting = byId(computeChecklist(goodInput({ otherSessions: [other], otherEnrollments: [{ ...otherEnrollments[0]!, status: 'waitlisted' }] }), NOW));
    expect(waiting['sessions.learner-conflicts']!.status).toBe('ok');
  });

  it('when a material has no link, no owner or an old review, then its item says what is missing', () => {
    const program = makeProgram({
      materials: [
        { title: 'VPN guide', kind: 'prerequisite', link: null, owner: 'it@example.com', lastReviewed: '2026-02-01' },
        { title: 'Slides', kind: 'material', link: 'https://x', owner: null, lastReviewed: '2025-06-01' },
      ],
    });
    const i = byId(computeChecklist(goodInput({ program }), NOW));
    expect(i['materials.0']).toMatchObject({ status: 'blocking', reason: "'VPN guide' has no link", owner: 'it@example.com' });
    expect(i['materials.1']).toMatchObject({ status: 'warning', reason: "'Slides' has no owner and was last reviewed on 2025-06-01, more than 90 days ago" });
  });

  it('when reminder, follow-up, completion and digest policies are off, then each schedule item warns', () => {
    const base = makeProgram();
    const program = makeProgram({ policy: { ...base.policy, offsetsMinutes: [], followUpMinutes: null, completionDueDays: null, digest: null, prerequisiteMinutes: null } });
    const i = byId(computeChecklist(goodInput({ program }), NOW));
    for (const id of ['schedule.reminders', 'schedule.follow-ups', 'schedule.completion', 'schedule.manager-reports', 'schedule.prerequisites']) expect(i[id]!.status).toBe('warning');
  });

  it('when a launched program has no reminder jobs queued, then schedule.reminders blocks', () => {
    const program = makeProgram({ status: 'launched' });
    const i = byId(computeChecklist(goodInput({ program, scheduledJobKinds: ['follow-up'] }), NOW));
    expect(i['schedule.reminders']!.status).toBe('blocking');
    expect(i['schedule.follow-ups']!.status).toBe('ok');
    const ok = byId(computeChecklist(goodInput({ program, scheduledJobKinds: ['reminder', 'follow-up'] }), NOW));
    expect(ok['schedule.reminders']!.reason).toBe('Reminders go out 7 days, 1 day and 1 hour before each session');
  });

  it('when nobody owns missed sessions or questions, then the owner items block and warn', () => {
    const program = makeProgram({ owners: { missedSessions: null, lateCompletions: 'c@example.com', questions: null, improvements: 'c@example.com' } });
    const i = byId(computeChecklist(goodInput({ program }), NOW));
    expect(i['owners.missedSessions']).toMatchObject({ status: 'blocking', reason: 'Nobody owns missed sessions' });
    expect(i['owners.questions']!.status).toBe('warning');
    expect(i['owners.lateCompletions']!.status).toBe('ok');
  });

  it('when an improvement note is open, then it shows with its owner', () => {
    const note = { id: 'n1', tenantId: 't1', programId: 'p1', groupKey: 'q:guide-vpn', text: '7 learners asked where the VPN guide is', owner: 'it@example.com', status: 'open' as const, learners: 7, createdAt: NOW };
    const i = byId(computeChecklist(goodInput({ improvementNotes: [note, { ...note, id: 'n2', groupKey: 'q:old', status: 'closed' }] }), NOW));
    expect(i['notes.q:guide-vpn']).toMatchObject({ status: 'warning', reason: '7 learners asked where the VPN guide is', owner: 'it@example.com' });
    expect(i['notes.q:old']).toBeUndefined();
  });

  it('when an invite subject was edited by hand, then a naming item warns', () => {
    const i = byId(computeChecklist(goodInput({ observedNames: { inviteSubjects: [{ sessionId: 's1', subject: 'security thing' }] } }), NOW));
    expect(i['naming.invite.s1']!.status).toBe('warning');
  });

  it('when a mailbox has used 90% of its daily budget, then a blocking item names the mailbox', () => {
    const i = byId(computeChecklist(goodInput({ mailboxes: [{ mailbox: 'training@example.com', dailyUsedFraction: 0.9 }, { mailbox: 'other@example.com', dailyUsedFraction: 0.5 }] }), NOW));
    expect(i['sending.training@example.com']).toMatchObject({ status: 'blocking', reason: 'The mailbox training@example.com has used 90% of its daily sending budget' });
    expect(i['sending.other@example.com']!.status).toBe('ok');
  });

  it('when a provider reports readiness items, then they pass through', () => {
    const p: ChecklistItem = { id: 'provider.microsoft.teams', area: 'provider', status: 'warning', reason: 'This mailbox cannot create Teams meetings', owner: null, signedOff: null };
    expect(byId(computeChecklist(goodInput({ providerItems: [p] }), NOW))['provider.microsoft.teams']).toEqual(p);
  });

  it('when a blocking item is signed off, then it stays visible, keeps its reason and sign-off, and counts as ok', () => {
    const signoffs = { 'sessions.s1.fields': { by: 'coord@example.com', note: 'Backup is the Teams link', at: NOW } };
    const items = computeChecklist(goodInput({ sessions: [makeSession({ backupPlan: null })], signoffs }), NOW);
    expect(byId(items)['sessions.s1.fields']).toMatchObject({ status: 'ok', reason: "Session 'Cohort A' has no backup plan", signedOff: signoffs['sessions.s1.fields'] });
    expect(() => assertLaunchable(items)).not.toThrow();
    expect(checklistSummary(items).signedOff).toBe(1);
  });
});

describe('assertLaunchable', () => {
  const items = computeChecklist(goodInput({ program: makeProgram({ rosterApproved: false }), sessions: [makeSession({ backupPlan: null })] }), NOW);

  it('when items block, then launching fails with LAUNCH_BLOCKED listing each reason', () => {
    try {
      assertLaunchable(items);
      expect.unreachable();
    } catch (err) {
      expect(isMusterError(err, 'LAUNCH_BLOCKED')).toBe(true);
      expect((err as MusterError).details.map((d) => d.field)).toEqual(['roster.approved', 'sessions.s1.fields']);
      expect((err as Error).message).toContain("Session 'Cohort A' has no backup plan");
    }
  });

  it('when forced without a reason, then it is refused; with a reason, then the overridden items are returned for the log', () => {
    expect(() => assertLaunchable(items, true, '  ')).toThrow(/needs a reason/);
    const d = assertLaunchable(items, true, 'Director approved, backup arranged by phone');
    expect(d.forced).toBe(true);
    expect(d.overridden.map((i) => i.id)).toEqual(['roster.approved', 'sessions.s1.fields']);
  });
});

describe('sessions that could double-book a learner', () => {
  it('when sessions of this and other programs overlap in many ways, then exactly the overlapping ones are named, as a pairwise comparison finds them', () => {
    const at = (h: number) => new Date(Date.UTC(2026, 2, 2) + h * 1800_000).toISOString();
    const mine = Array.from({ length: 40 }, (_, i) => makeSession({ id: `m${i}`, start: at((i * 7) % 50), end: at(((i * 7) % 50) + 1 + (i % 4)), status: i % 13 === 5 ? 'cancelled' : 'scheduled' }));
    const theirs = Array.from({ length: 30 }, (_, i) => makeSession({ id: `t${i}`, programId: 'p2', start: at((i * 11) % 60), end: at(((i * 11) % 60) + 1 + (i % 3)) }));
    const live = (s: typeof mine) => s.filter((x) => x.status === 'scheduled');
    const ms = (iso: string) => Date.parse(iso);
    const expectM = new Set<string>();
    const expectAny = new Set<string>();
    for (const x of live(mine)) {
      for (const y of [...live(mine), ...theirs]) {
        if (x.id !== y.id && ms(x.start) < ms(y.end) && ms(y.start) < ms(x.end)) {
          expectM.add(x.id);
          expectAny.add(y.id);
        }
      }
    }
    const got = overlappingSessions(mine, theirs);
    expect(expectM.size).toBeGreaterThan(5);
    expect(new Set(got.mine)).toEqual(expectM);
    expect(new Set(got.any)).toEqual(expectAny);
  });
});
