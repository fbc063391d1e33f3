// The completion report: a program's state read page by page and turned into the figures /reports shows (streamed) and the records tabs are written from (in memory).
import { completionExpiresAt, completionStatus, type CompletionStatus } from '../domain/schedule.js';
import type { Attendance, Completion, EnrollmentStatus, Learner, Program, Rsvp, Session } from '../domain/types.js';
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

/** Learners read per page: enough to keep queries few, small enough that a page's rows are a few hundred kilobytes. */
const PAGE = 1000;

// Luxon costs tens of microseconds per parse, a report of 100,000 learners asks several times per learner. Instants the
// store writes (Date#toISOString) are read with Date.parse, which gives the same instant; anything else goes to the
// domain's own functions.
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAY_MS = 86_400_000;

/** completionStatus and completionExpiresAt for one learner, at `nowMs` (the same instant as `now`). */
function completionOf(c: Completion | null, now: Date, nowMs: number, recertifyAfterDays: number | null): { status: CompletionStatus; expiresAt: string | null } {
  const fast = c === null || ((c.completedAt === null || CANONICAL.test(c.completedAt)) && (c.dueAt === null || CANONICAL.test(c.dueAt)));
  if (!fast) return { status: completionStatus(c, now, recertifyAfterDays), expiresAt: completionExpiresAt(c, recertifyAfterDays) };
  if (!c) return { status: 'not-started', expiresAt: null };
  if (c.completedAt) {
    if (recertifyAfterDays == null) return { status: 'completed', expiresAt: null };
    const expires = Date.parse(c.completedAt) + recertifyAfterDays * DAY_MS;
    return { status: expires <= nowMs ? 'expired' : 'completed', expiresAt: new Date(expires).toISOString() };
  }
  if (c.dueAt) return { status: Date.parse(c.dueAt) <= nowMs ? 'overdue' : 'in-progress', expiresAt: null };
  return { status: 'not-started', expiresAt: null };
}

/**
 * The report's running figures: fed one learner at a time, so nothing but the managers' lines grows with the roster.
 * Sessions count the enrollments of the program's learners (an enrollment whose learner row is gone names nobody).
 */
export class ReportTally {
  readonly totals: ProgramReport['totals'] = { learners: 0, enrolled: 0, waitlisted: 0, attended: 0, completed: 0, overdue: 0, inProgress: 0, notStarted: 0, expired: 0 };
  private readonly byManager = new Map<string, ManagerLine>();
  private readonly bySession: Map<string, ReportSession>;

  constructor(sessions: Session[]) {
    this.bySession = new Map(sessions.map((s) => [s.id, { session: s, enrolled: 0, waitlisted: 0, accepted: 0, tentative: 0, declined: 0, noResponse: 0, present: 0, late: 0, excused: 0, absent: 0 }]));
  }

  add(l: ReportLearner): void {
    const { totals } = this;
    const es = l.enrollments;
    for (const e of es) {
      const s = this.bySession.get(e.sessionId);
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
    const status = l.completion.status;
    const active = es.some((e) => e.status === 'enrolled');
    const attended = es.some((e) => e.attendance === 'present' || e.attendance === 'late');
    totals.learners++;
    if (active) totals.enrolled++;
    else if (es.some((e) => e.status === 'waitlisted')) totals.waitlisted++;
    if (attended) totals.attended++;
    if (status === 'completed') totals.completed++;
    else if (status === 'overdue') totals.overdue++;
    else if (status === 'in-progress') totals.inProgress++;
    else if (status === 'expired') totals.expired++;
    else totals.notStarted++;
    const email = l.learner.managerEmail;
    if (email) {
      const m = this.byManager.get(email) ?? { managerEmail: email, learners: 0, enrolled: 0, attended: 0, completed: 0, overdue: 0 };
      m.learners++;
      if (active) m.enrolled++;
      if (attended) m.attended++;
      if (status === 'completed') m.completed++;
      if (status === 'overdue') m.overdue++;
      this.byManager.set(email, m);
    }
  }

  /** Per session (in the program's session order), its enrollments as counted so far. */
  sessions(): ReportSession[] {
    return [...this.bySession.values()];
  }

  managers(): ManagerLine[] {
    return [...this.byManager.values()].sort((a, b) => a.managerEmail.localeCompare(b.managerEmail));
  }
}

export interface ReportHead {
  program: Program;
  now: Date;
  /** The program's sessions; their figures are counted from the learners' enrollments as the report is read. */
  sessions: Session[];
}

/** The start of a report: the program (NOT_FOUND before anything is written), when, and its sessions. */
export async function reportHead(ctx: AppContext, tenantId: string, programIdOrCode: string): Promise<ReportHead> {
  const program = await getProgramOrThrow(ctx, tenantId, programIdOrCode);
  return { program, now: ctx.clock.now(), sessions: await ctx.store.listSessions(tenantId, program.id) };
}

/** The program's learners with their enrollments and completion, in email order, read from the store a page at a time. */
export async function* reportLearners(ctx: AppContext, program: Program, now: Date): AsyncGenerator<ReportLearner[]> {
  const t = program.tenantId;
  const nowMs = now.getTime();
  const recert = program.policy.recertifyAfterDays;
  let after: string | null = null;
  for (;;) {
    const rows = await ctx.store.programRosterPage(t, program.id, after, PAGE);
    if (rows.length === 0) return;
    yield rows.map(({ learner: l, enrollments, completion: c }) => {
      const { status, expiresAt } = completionOf(c, now, nowMs, recert);
      return {
        learner: l,
        enrollments: enrollments.map((e) => ({ enrollmentId: e.id, sessionId: e.sessionId, learnerId: e.learnerId, status: e.status, rsvp: e.rsvp, attendance: e.attendance })),
        completion: { status, completedAt: c?.completedAt ?? null, dueAt: c?.dueAt ?? null, score: c?.score ?? null, expiresAt },
      };
    });
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.key;
  }
}

/** The whole report in memory, for the records sync (which writes every tab from it); the API streams it instead (writeReportJson). */
export async function buildReport(ctx: AppContext, tenantId: string, programIdOrCode: string): Promise<ProgramReport> {
  const { program, now, sessions } = await reportHead(ctx, tenantId, programIdOrCode);
  const tally = new ReportTally(sessions);
  const out: ReportLearner[] = [];
  for await (const page of reportLearners(ctx, program, now)) {
    for (const l of page) {
      tally.add(l);
      out.push(l);
    }
  }
  return { program, generatedAt: now.toISOString(), sessions: tally.sessions(), learners: out, managers: tally.managers(), totals: tally.totals };
}

/** Where a streamed report goes (an HTTP response): write returns false when the reader wants a pause, until 'drain'. */
export interface ReportSink {
  write(chunk: string): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed?: boolean;
}

/** Writes a chunk, waiting for 'drain' when the sink asks; throws when the reader went away, so the reading stops. */
export async function put(sink: ReportSink, chunk: string): Promise<void> {
  if (sink.destroyed) throw new Error('the reader closed the connection');
  if (sink.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const drained = () => {
      sink.off('close', closed);
      resolve();
    };
    const closed = () => {
      sink.off('drain', drained);
      reject(new Error('the reader closed the connection'));
    };
    sink.once('drain', drained);
    sink.once('close', closed);
  });
}

function sessionJson(s: ReportSession) {
  return { id: s.session.id, label: s.session.label, start: s.session.start, end: s.session.end, zone: s.session.zone, status: s.session.status, capacity: s.session.capacity, enrolled: s.enrolled, waitlisted: s.waitlisted, accepted: s.accepted, tentative: s.tentative, declined: s.declined, noResponse: s.noResponse, present: s.present, late: s.late, excused: s.excused, absent: s.absent };
}

function learnerJson(l: ReportLearner, includeScores: boolean) {
  return {
    email: l.learner.email,
    name: l.learner.name,
    managerEmail: l.learner.managerEmail,
    department: l.learner.department,
    completion: { status: l.completion.status, completedAt: l.completion.completedAt, dueAt: l.completion.dueAt, expiresAt: l.completion.expiresAt, ...(includeScores ? { score: l.completion.score } : {}) },
    sessions: l.enrollments.map((e) => ({ sessionId: e.sessionId, status: e.status, rsvp: e.rsvp, attendance: e.attendance })),
  };
}

/**
 * Writes the report's JSON (reportToJson's shape; sessions, managers and totals come last, once every learner is counted) to
 * `sink` page by page, so memory holds one page of learners, not the roster. Returns the bytes written.
 */
export async function writeReportJson(ctx: AppContext, head: ReportHead, opts: { includeScores: boolean }, sink: ReportSink): Promise<number> {
  const { program, now, sessions } = head;
  const p = { id: program.id, code: program.code, name: program.name, status: program.status };
  let bytes = 0;
  const w = async (chunk: string) => {
    bytes += Buffer.byteLength(chunk);
    await put(sink, chunk);
  };
  await w(`{"program":${JSON.stringify(p)},"generatedAt":${JSON.stringify(now.toISOString())},"learners":[`);
  const tally = new ReportTally(sessions);
  let first = true;
  for await (const page of reportLearners(ctx, program, now)) {
    let chunk = '';
    for (const l of page) {
      tally.add(l);
      chunk += (first ? '' : ',') + JSON.stringify(learnerJson(l, opts.includeScores));
      first = false;
    }
    await w(chunk);
  }
  await w(`],"sessions":${JSON.stringify(tally.sessions().map(sessionJson))},"managers":${JSON.stringify(tally.managers())},"totals":${JSON.stringify(tally.totals)}}`);
  return bytes;
}

/** The report as JSON for the API; scores are left out unless the program shows them to managers or the caller is a coordinator. */
export function reportToJson(r: ProgramReport, opts: { includeScores: boolean }) {
  return {
    program: { id: r.program.id, code: r.program.code, name: r.program.name, status: r.program.status },
    generatedAt: r.generatedAt,
    totals: r.totals,
    sessions: r.sessions.map(sessionJson),
    learners: r.learners.map((l) => learnerJson(l, opts.includeScores)),
    managers: r.managers,
  };
}
