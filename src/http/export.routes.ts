// CSV exports of a program's roster and completion: formula-neutralised, RFC 4180-quoted cells; reads through the report and writes nothing.
import { z } from 'zod';
import { buildReport, type ProgramReport } from '../app/reports.js';
import { route, type RouteDef } from './route-table.js';

/** Cells a spreadsheet would read as a formula or a control start; such text gets a leading apostrophe. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula starts neutralised with a leading ', then quoted when it holds a comma, quote, CR or LF. */
export function toCsvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows to CSV text (CRLF line ends, as RFC 4180 and spreadsheet imports expect). */
export function toCsv(header: string[], rows: Array<Array<string | number | boolean | null | undefined>>): string {
  return [header, ...rows].map((r) => r.map(toCsvCell).join(',')).join('\r\n') + '\r\n';
}

export function rosterCsv(r: ProgramReport): string {
  const label = new Map(r.sessions.map((s) => [s.session.id, s.session.label]));
  const rows = r.learners.flatMap((l) =>
    (l.enrollments.length ? l.enrollments : [null]).map((e) => [l.learner.email, l.learner.name, l.learner.managerEmail, l.learner.department, l.learner.zone, e ? label.get(e.sessionId) ?? e.sessionId : '', e?.status ?? '', e?.rsvp ?? '', e?.attendance ?? '']),
  );
  return toCsv(['Email', 'Name', 'Manager Email', 'Department', 'Time Zone', 'Session', 'Status', 'RSVP', 'Attendance'], rows);
}

export function completionCsv(r: ProgramReport, includeScores: boolean): string {
  const header = ['Email', 'Name', 'Manager Email', 'Status', 'Completed At', 'Due At', 'Expires At', ...(includeScores ? ['Score'] : [])];
  const rows = r.learners.map((l) => [l.learner.email, l.learner.name, l.learner.managerEmail, l.completion.status, l.completion.completedAt, l.completion.dueAt, l.completion.expiresAt, ...(includeScores ? [l.completion.score] : [])]);
  return toCsv(header, rows);
}

const audienceQuery = z.object({ audience: z.enum(['coordinator', 'manager']).default('coordinator') });

export const EXPORT_ROUTES: RouteDef[] = [
  route({
    method: 'get',
    path: '/api/programs/:programId/export/roster.csv',
    summary: 'The roster as CSV (cells that would start a formula are prefixed with an apostrophe)',
    tag: 'records',
    handler: async ({ ctx, principal, params, res }) => {
      const r = await buildReport(ctx, principal.tenantId, params.programId!);
      res.status(200).type('text/csv; charset=utf-8').attachment(`${r.program.code}-roster.csv`).send(rosterCsv(r));
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/api/programs/:programId/export/completion.csv',
    summary: 'Completion per learner as CSV; scores only for coordinators or when the program shows them to managers',
    tag: 'records',
    query: audienceQuery,
    handler: async ({ ctx, principal, params, query, res }) => {
      const r = await buildReport(ctx, principal.tenantId, params.programId!);
      const includeScores = query.audience === 'coordinator' || r.program.showScoresToManagers;
      res.status(200).type('text/csv; charset=utf-8').attachment(`${r.program.code}-completion.csv`).send(completionCsv(r, includeScores));
      return undefined;
    },
  }),
];
