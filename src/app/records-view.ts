// Lays the completion report out as the records tabs' rows (the same figures as /reports); writes nothing itself.
import { COL, TABS } from '../domain/records.js';
import type { ChecklistItem, Question } from '../domain/types.js';
import type { Cell, RecordRow, TabSpec } from '../ports/index.js';
import type { MessageRow, RosterReject } from '../store/store.js';
import type { ProgramReport } from './reports.js';

const STATUS_LABEL: Record<string, string> = {
  completed: 'Completed',
  overdue: 'Overdue',
  'in-progress': 'In progress',
  'not-started': 'Not started',
  expired: 'Expired',
};

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const dateCell = (iso: string | null): Cell => (iso ? { date: iso } : null);

export interface RecordsInput {
  report: ProgramReport;
  rejects: RosterReject[];
  questions: Question[];
  questionGroups: Map<string, { key: string; text: string; learners: number }>;
  checklist: ChecklistItem[];
  messages: MessageRow[];
}

export function buildRecordTabs(input: RecordsInput): Array<{ tab: TabSpec; rows: RecordRow[] }> {
  const { report } = input;
  const program = report.program;
  const sessionById = new Map(report.sessions.map((s) => [s.session.id, s.session]));
  const learnerById = new Map(report.learners.map((l) => [l.learner.id, l.learner]));

  const roster: RecordRow[] = report.learners.map((l) => {
    const active = l.enrollments.filter((e) => e.status !== 'cancelled');
    const status = l.learner.undeliverable ? 'Undeliverable' : active.some((e) => e.status === 'enrolled') ? 'Enrolled' : active.length > 0 ? 'Waitlisted' : 'Not enrolled';
    return {
      key: l.learner.id,
      cells: {
        Key: l.learner.id,
        Email: l.learner.email,
        Name: l.learner.name,
        'Manager Email': l.learner.managerEmail,
        'Time Zone': l.learner.zone,
        Department: l.learner.department,
        Language: l.learner.language,
        Session: active.map((e) => sessionById.get(e.sessionId)?.label ?? e.sessionId).join('; '),
        Status: status,
      },
    };
  });
  for (const r of input.rejects) {
    const get = (...names: string[]) => {
      for (const [k, v] of Object.entries(r.data)) if (names.includes(k.trim().toLowerCase())) return v;
      return '';
    };
    roster.push({
      key: `reject:${r.id}`,
      cells: {
        Key: `reject:${r.id}`,
        Email: get('email', 'e-mail', 'email address'),
        Name: get('name', 'full name'),
        'Manager Email': get('manager email', 'manager', 'manageremail'),
        'Time Zone': get('time zone', 'timezone', 'zone', 'tz'),
        Department: get('department', 'dept'),
        Language: get('language', 'lang'),
        Session: get('session', 'sessions', 'session id'),
        Status: `Not imported (row ${r.rowNumber}): ${r.reasons.map((x) => x.message).join('; ')}`,
      },
    });
  }

  const sessions: RecordRow[] = report.sessions.map((s) => ({
    key: s.session.id,
    cells: {
      Key: s.session.id,
      Program: program.name,
      Session: s.session.label,
      Start: dateCell(s.session.start),
      End: dateCell(s.session.end),
      'Time Zone': s.session.zone,
      Room: s.session.room,
      'Online Link': s.session.onlineUrl,
      Instructors: s.session.instructors.join('; '),
      Capacity: s.session.capacity,
      Enrolled: s.enrolled,
      Waitlisted: s.waitlisted,
      Status: cap(s.session.status),
    },
  }));

  const attendance: RecordRow[] = [];
  for (const l of report.learners) {
    for (const e of l.enrollments) {
      if (e.status === 'cancelled') continue;
      const s = sessionById.get(e.sessionId);
      attendance.push({
        key: e.enrollmentId,
        cells: {
          Key: e.enrollmentId,
          [COL.sessionId]: e.sessionId,
          Session: s?.label ?? '',
          Date: dateCell(s?.start ?? null),
          [COL.email]: l.learner.email,
          Name: l.learner.name,
          'Manager Email': l.learner.managerEmail,
          RSVP: e.rsvp === 'none' ? 'No response' : cap(e.rsvp),
          [COL.attendance]: e.attendance ? cap(e.attendance) : null,
          Enrollment: cap(e.status),
        },
      });
    }
  }

  const completion: RecordRow[] = report.learners.map((l) => ({
    key: l.learner.id,
    cells: {
      Key: l.learner.id,
      Email: l.learner.email,
      Name: l.learner.name,
      'Manager Email': l.learner.managerEmail,
      Department: l.learner.department,
      Status: STATUS_LABEL[l.completion.status] ?? l.completion.status,
      'Completed On': dateCell(l.completion.completedAt),
      Due: dateCell(l.completion.dueAt),
      Score: program.showScoresToManagers ? l.completion.score : null,
      Expires: dateCell(l.completion.expiresAt),
    },
  }));

  const managers: RecordRow[] = report.managers.map((m) => ({
    key: m.managerEmail,
    cells: { Key: m.managerEmail, 'Manager Email': m.managerEmail, Learners: m.learners, Enrolled: m.enrolled, Attended: m.attended, Completed: m.completed, Overdue: m.overdue },
  }));

  const questions: RecordRow[] = input.questions.map((q) => {
    const g = input.questionGroups.get(q.id);
    return { key: q.id, cells: { Key: q.id, 'Asked On': dateCell(q.createdAt), 'Learner Email': q.learnerEmail, Question: q.text, Group: g?.text ?? null, 'Learners Asking': g?.learners ?? null } };
  });

  const checklist: RecordRow[] = input.checklist.map((i) => ({
    key: i.id,
    cells: { Key: i.id, Area: cap(i.area), Status: cap(i.status), Reason: i.reason, Owner: i.owner, 'Signed Off By': i.signedOff?.by ?? null, Note: i.signedOff?.note ?? null },
  }));

  const messages: RecordRow[] = input.messages.map((m) => ({
    key: m.key,
    cells: {
      Key: m.key,
      'Sent At': dateCell(m.sent_at),
      'Learner Email': learnerById.get(m.learner_id ?? '')?.email ?? m.recipient,
      Kind: m.kind,
      Subject: m.subject,
      Provider: m.provider,
      Outcome: m.status === 'unknown' ? 'Outcome unknown' : cap(m.status),
    },
  }));

  return [
    { tab: TABS.roster, rows: roster },
    { tab: TABS.sessions, rows: sessions },
    { tab: TABS.attendance, rows: attendance },
    { tab: TABS.completion, rows: completion },
    { tab: TABS.managers, rows: managers },
    { tab: TABS.questions, rows: questions },
    { tab: TABS.checklist, rows: checklist },
    { tab: TABS.messages, rows: messages },
  ];
}
