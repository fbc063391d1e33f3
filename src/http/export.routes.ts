// CSV exports of a program's roster and completion: formula-neutralised, RFC 4180-quoted cells, streamed page by page from the report's rows; writes nothing.
import { z } from 'zod';
import type { Response } from 'express';
import type { AppContext } from '../app/context.js';
import { put, reportHead, reportLearners, type ProgramReport, type ReportHead, type ReportLearner } from '../app/reports.js';
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

function rosterRows(l: ReportLearner, label: Map<string, string>) {
  return (l.enrollments.length ? l.enrollments : [null]).map((e) => [l.learner.email, l.learner.name, l.learner.managerEmail, l.learner.department, l.learner.zone, e ? label.get(e.sessionId) ?? e.sessionId : '', e?.status ?? '', e?.rsvp ?? '', e?.attendance ?? '']);
}
const ROSTER_HEADER = ['Email', 'Name', 'Manager Email', 'Department', 'Time Zone', 'Session', 'Status', 'RSVP', 'Attendance'];

function completionRow(l: ReportLearner, includeScores: boolean) {
  return [l.learner.email, l.learner.name, l.learner.managerEmail, l.completion.status, l.completion.completedAt, l.completion.dueAt, l.completion.expiresAt, ...(includeScores ? [l.completion.score] : [])];
}
const completionHeader = (includeScores: boolean) => ['Email', 'Name', 'Manager Email', 'Status', 'Completed At', 'Due At', 'Expires At', ...(includeScores ? ['Score'] : [])];

export function rosterCsv(r: ProgramReport): string {
  const label = new Map(r.sessions.map((s) => [s.session.id, s.session.label]));
  return toCsv(ROSTER_HEADER, r.learners.flatMap((l) => rosterRows(l, label)));
}

export function completionCsv(r: ProgramReport, includeScores: boolean): string {
  return toCsv(completionHeader(includeScores), r.learners.map((l) => completionRow(l, includeScores)));
}

const csvLines = (rows: Array<Array<string | number | boolean | null | undefined>>) => rows.map((r) => r.map(toCsvCell).join(',') + '\r\n').join('');

/**
 * Streams a body the route has already checked it can produce (status and headers go first): `write` feeds the
 * response with backpressure. A failure half way cannot become an error answer any more, so it is logged and the
 * connection is cut, leaving the reader a truncated body rather than one that looks complete.
 */
export async function streamBody(ctx: AppContext, res: Response, write: () => Promise<unknown>): Promise<undefined> {
  try {
    await write();
    res.end();
  } catch (err) {
    ctx.logger.warn('http.stream_failed', { message: err instanceof Error ? err.message : String(err) });
    res.destroy();
  }
  return undefined;
}

/** Writes the roster CSV (or, with `completion`, the completion CSV) of a report to the response, a page of learners at a time. */
export async function writeCsv(ctx: AppContext, head: ReportHead, kind: { roster: true } | { completion: true; includeScores: boolean }, res: Response): Promise<void> {
  const label = new Map(head.sessions.map((s) => [s.id, s.label]));
  const header = 'roster' in kind ? ROSTER_HEADER : completionHeader(kind.includeScores);
  await put(res, csvLines([header]));
  for await (const page of reportLearners(ctx, head.program, head.now)) {
    await put(res, csvLines('roster' in kind ? page.flatMap((l) => rosterRows(l, label)) : page.map((l) => completionRow(l, kind.includeScores))));
  }
}

const audienceQuery = z.object({ audience: z.enum(['coordinator', 'manager']).default('coordinator') });

export const EXPORT_ROUTES: RouteDef[] = [
  route({
    method: 'get',
    path: '/api/programs/:programId/export/roster.csv',
    summary: 'The roster as CSV (cells that would start a formula are prefixed with an apostrophe)',
    tag: 'records',
    handler: async ({ ctx, principal, params, res }) => {
      const head = await reportHead(ctx, principal.tenantId, params.programId!);
      res.status(200).type('text/csv; charset=utf-8').attachment(`${head.program.code}-roster.csv`);
      return streamBody(ctx, res, () => writeCsv(ctx, head, { roster: true }, res));
    },
  }),
  route({
    method: 'get',
    path: '/api/programs/:programId/export/completion.csv',
    summary: 'Completion per learner as CSV; scores only for coordinators or when the program shows them to managers',
    tag: 'records',
    query: audienceQuery,
    handler: async ({ ctx, principal, params, query, res }) => {
      const head = await reportHead(ctx, principal.tenantId, params.programId!);
      const includeScores = query.audience === 'coordinator' || head.program.showScoresToManagers;
      res.status(200).type('text/csv; charset=utf-8').attachment(`${head.program.code}-completion.csv`);
      return streamBody(ctx, res, () => writeCsv(ctx, head, { completion: true, includeScores }, res));
    },
  }),
];
