// Plain domain records for the domain tests: one program, its sessions, learners and enrollments, overridable per test.
import type { Completion, Enrollment, Learner, Program, Session } from '../../src/domain/types.js';

export function makeProgram(over: Partial<Program> = {}): Program {
  return {
    id: 'p1',
    tenantId: 't1',
    name: 'Security Basics',
    code: 'SEC101',
    owner: 'coord@example.com',
    audience: 'All staff in Berlin',
    agenda: 'Phishing, passwords, VPN',
    materials: [
      { title: 'VPN guide', kind: 'prerequisite', link: 'https://intra.example.com/vpn', owner: 'it@example.com', lastReviewed: '2026-02-01' },
      { title: 'Slides', kind: 'material', link: 'https://intra.example.com/slides', owner: 'trainer@example.com', lastReviewed: '2026-02-15' },
    ],
    reviewWindowDays: 90,
    assessmentName: null,
    policy: {
      offsetsMinutes: [10080, 1440, 60],
      prerequisiteMinutes: 4320,
      followUpMinutes: 60,
      completionDueDays: 14,
      escalateAfterDays: 3,
      recertifyAfterDays: 365,
      recertifyNoticeDays: 30,
      digest: { weekday: 1, hour: 8 },
      quietHours: null,
    },
    owners: { missedSessions: 'coord@example.com', lateCompletions: 'coord@example.com', questions: 'coord@example.com', improvements: 'coord@example.com' },
    showScoresToManagers: false,
    enrollmentPath: 'https://intra.example.com/enroll/sec101',
    rosterApproved: true,
    status: 'draft',
    clonedFrom: null,
    createdAt: '2026-01-05T10:00:00.000Z',
    ...over,
  };
}

export function makeSession(over: Partial<Session> = {}): Session {
  return {
    id: 's1',
    tenantId: 't1',
    programId: 'p1',
    label: 'Cohort A',
    // Tuesday 3 March 2026, 09:00-12:00 in Berlin (CET, UTC+1).
    start: '2026-03-03T08:00:00.000Z',
    end: '2026-03-03T11:00:00.000Z',
    zone: 'Europe/Berlin',
    room: 'Room 4.01',
    roomEmail: null,
    onlineUrl: null,
    backupPlan: 'Move to the Teams link in the invite',
    instructors: ['trainer@example.com'],
    capacity: 20,
    status: 'scheduled',
    generation: 1,
    sequence: 0,
    ...over,
  };
}

export function makeLearner(over: Partial<Learner> = {}): Learner {
  return {
    id: 'l1',
    tenantId: 't1',
    email: 'anna.berg@example.com',
    name: 'Anna Berg',
    managerEmail: 'boss@example.com',
    zone: 'Europe/Berlin',
    department: 'Finance',
    language: 'en',
    undeliverable: false,
    ...over,
  };
}

export function makeEnrollment(over: Partial<Enrollment> = {}): Enrollment {
  return {
    id: 'e1',
    tenantId: 't1',
    programId: 'p1',
    sessionId: 's1',
    learnerId: 'l1',
    status: 'enrolled',
    waitPosition: null,
    rsvp: 'none',
    attendance: null,
    enrolledAt: '2026-01-10T09:00:00.000Z',
    ...over,
  };
}

export function makeCompletion(over: Partial<Completion> = {}): Completion {
  return { tenantId: 't1', programId: 'p1', learnerId: 'l1', completedAt: null, score: null, dueAt: null, ...over };
}
