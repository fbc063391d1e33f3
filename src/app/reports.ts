// The completion report: one read of a program's state turned into the figures /reports shows and the records tabs are written from.
import { completionExpiresAt, completionStatus, type CompletionStatus } from '../domain/schedule.js';
import type { Attendance, EnrollmentStatus, Learner, Program, Rsvp, Session } from '../domain/types.js';
import type { AppContext } from './context.js';
import { getProgramOrThrow } from './programs.js';

export interface ReportEnrollment {
  enrollmentId: string;
  sessionId: string;
  learnerId: string;
  status: EnrollmentStatus;
  rsvp: Rsvp;
  attendance: Attendance | null;
}

export interface ReportLearner {
  learner: Learner;
  enrollments: ReportEnrollment[];
  completion: { status: CompletionStatus; completedAt: string | null; dueAt: string | null; score: number | null; expiresAt: string | null };
}

export interface ReportSession {
  session: Session;
  enrolled: number;
  waitlisted: number;
  accepted: number;
  tentative: number;
  declined: number;
  noResponse: number;
  present: number;
  late: number;
  excused: number;
  absent: number;
}

export interface ManagerLine {
  managerEmail: string;
  learners: number;
  enrolled: number;
  attended: number;
  completed: number;
  overdue: number;
}

export interface ProgramReport {
  program: Program;
  generatedAt: string;
  sessions: ReportSession[];
  learners: ReportLearner[];
  managers: ManagerLine[];
  totals: { learners: number; enrolled: number; waitlisted: number; attended: number; completed: number; overdue: number; inProgress: number; notStarted: number; expired: number };
}

export async function buildReport(ctx: AppContext, tenantId: string, programIdOrCode: string): Promise<ProgramReport> {
  const program = await getProgramOrThrow(ctx, tenantId, programIdOrCode);
  const now = ctx.clock.now();
  const [sessions, enrollments, learners, completions] = await Promise.all([
    ctx.store.listSessions(tenantId, program.id),
    ctx.store.listEnrollments(tenantId, { programId: program.id }),
    ctx.store.learnersForProgram(tenantId, program.id),
    ctx.store.listCompletions(tenantId, program.id),
  ]);
  const completionBy = new Map(completions.map((c) => [c.learnerId, c]));
  const byLearner = new Map<string, ReportEnrollment[]>();
  const bySession = new Map<string, ReportSession>(
    sessions.map((s) => [s.id, { session: s, enrolled: 0, waitlisted: 0, accepted: 0, tentative: 0, declined: 0, noResponse: 0, present: 0, late: 0, excused: 0, absent: 0 }]),
  );
  for (const e of enrollments) {
    const re: ReportEnrollment = { enrollmentId: e.id, sessionId: e.sessionId, learnerId: e.learnerId, status: e.status, rsvp: e.rsvp, attendance: e.attendance };
    const list = byLearner.get(e.learnerId);
    if (list) list.push(re);
    else byLearner.set(e.learnerId, [re]);
    const s = bySession.get(e.sessionId);
    if (!s || e.status === 'cancelled') continue;
    if (e.status === 'waitlisted') {
      s.waitlisted++;
      continue;
    }
    s.enrolled++;
    if (e.rsvp === 'accepted') s.accepted++;
    else if (e.rsvp === 'tentative') s.tentative++;
    else if (e.rsvp === 'declined') s.declined++;
    else s.noResponse++;
    if (e.attendance) s[e.attendance]++;
  }
  const totals = { learners: 0, enrolled: 0, waitlisted: 0, attended: 0, completed: 0, overdue: 0, inProgress: 0, notStarted: 0, expired: 0 };
  const managers = new Map<string, ManagerLine>();
  const out: ReportLearner[] = [];
  for (const l of learners) {
    const es = byLearner.get(l.id) ?? [];
    const c = completionBy.get(l.id) ?? null;
    const status = completionStatus(c, now, program.policy.recertifyAfterDays);
    const active = es.filter((e) => e.status === 'enrolled');
    const attended = es.some((e) => e.attendance === 'present' || e.attendance === 'late');
    totals.learners++;
    if (active.length > 0) totals.enrolled++;
    else if (es.some((e) => e.status === 'waitlisted')) totals.waitlisted++;
    if (attended) totals.attended++;
    if (status === 'completed') totals.completed++;
    else if (status === 'overdue') totals.overdue++;
    else if (status === 'in-progress') totals.inProgress++;
    else if (status === 'expired') totals.expired++;
    else totals.notStarted++;
    if (l.managerEmail) {
      const m = managers.get(l.managerEmail) ?? { managerEmail: l.managerEmail, learners: 0, enrolled: 0, attended: 0, completed: 0, overdue: 0 };
      m.learners++;
      if (active.length > 0) m.enrolled++;
      if (attended) m.attended++;
      if (status === 'completed') m.completed++;
      if (status === 'overdue') m.overdue++;
      managers.set(l.managerEmail, m);
    }
    out.push({
      learner: l,
      enrollments: es,
      completion: { status, completedAt: c?.completedAt ?? null, dueAt: c?.dueAt ?? null, score: c?.score ?? null, expiresAt: completionExpiresAt(c, program.policy.recertifyAfterDays) },
    });
  }
  return {
    program,
    generatedAt: now.toISOString(),
    sessions: [...bySession.values()],
    learners: out,
    managers: [...managers.values()].sort((a, b) => a.managerEmail.localeCompare(b.managerEmail)),
    totals,
  };
}

/** The report as JSON for the API; scores are left out unless the program shows them to managers or the caller is a coordinator. */
export function reportToJson(r: ProgramReport, opts: { includeScores: boolean }) {
  return {
    program: { id: r.program.id, code: r.program.code, name: r.program.name, status: r.program.status },
    generatedAt: r.generatedAt,
    totals: r.totals,
    sessions: r.sessions.map((s) => ({ id: s.session.id, label: s.session.label, start: s.session.start, end: s.session.end, zone: s.session.zone, status: s.session.status, capacity: s.session.capacity, enrolled: s.enrolled, waitlisted: s.waitlisted, accepted: s.accepted, tentative: s.tentative, declined: s.declined, noResponse: s.noResponse, present: s.present, late: s.late, excused: s.excused, absent: s.absent })),
    learners: r.learners.map((l) => ({
      email: l.learner.email,
      name: l.learner.name,
      managerEmail: l.learner.managerEmail,
      department: l.learner.department,
      completion: { status: l.completion.status, completedAt: l.completion.completedAt, dueAt: l.completion.dueAt, expiresAt: l.completion.expiresAt, ...(opts.includeScores ? { score: l.completion.score } : {}) },
      sessions: l.enrollments.map((e) => ({ sessionId: e.sessionId, status: e.status, rsvp: e.rsvp, attendance: e.attendance })),
    })),
    managers: r.managers,
  };
}
