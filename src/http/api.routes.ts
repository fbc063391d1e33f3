// The authenticated API's route table: each route parses its input, calls one use case and returns its result.
import { z } from 'zod';
import { MusterError } from '../domain/errors.js';
import * as s from '../app/schemas.js';
import { addSession, cancelSession, cloneProgramUseCase, createProgram, getProgramOrThrow, getSessionOrThrow, rescheduleSession, updateProgram, updateSession } from '../app/programs.js';
import { cancelEnrollment, decideOnDecline, enrollByEmail, importRoster, parseRosterCsv } from '../app/roster.js';
import { markAttendance, markSessionAttendance, recordCompletion } from '../app/attendance.js';
import { launchProgram } from '../app/launch.js';
import { programChecklist, signOff } from '../app/checklist.js';
import { logQuestion, questionsWithGroups } from '../app/questions.js';
import { buildReport, reportHead, writeReportJson } from '../app/reports.js';
import { nudgeNonResponders, previewReminders, sendRemindersNow } from '../app/reminders.js';
import { inviteDraft, sessionState } from '../app/sessions-view.js';
import { syncRecords } from '../app/records-sync.js';
import { rotateFeedToken } from '../app/feed.js';
import { exportLearner, eraseLearner } from '../app/privacy.js';
import { previewTemplate, saveTemplate } from '../app/templates.js';
import { route, type RouteDef } from './route-table.js';
import { EXPORT_ROUTES, streamBody } from './export.routes.js';

const programIdParam = (p: Record<string, string>) => p.programId!;

export const API_ROUTES: RouteDef[] = [
  route({ method: 'get', path: '/api/whoami', summary: 'Who the token belongs to', tag: 'auth', handler: async ({ principal }) => principal }),

  // ---- programs ----
  route({
    method: 'get',
    path: '/api/programs',
    summary: 'List programs',
    tag: 'programs',
    handler: async ({ ctx, principal }) => {
      const programs = await ctx.store.listPrograms(principal.tenantId);
      const out = [];
      for (const p of programs) {
        const report = await buildReport(ctx, principal.tenantId, p.id);
        out.push({ id: p.id, name: p.name, code: p.code, status: p.status, sessions: report.sessions.length, learners: report.totals.learners });
      }
      return out;
    },
  }),
  route({
    method: 'post',
    path: '/api/programs',
    summary: 'Create a program with its sessions',
    tag: 'programs',
    body: s.programInput,
    status: 201,
    handler: async ({ ctx, actor, body }) => createProgram(ctx, actor, body),
  }),
  route({
    method: 'get',
    path: '/api/programs/:programId',
    summary: 'A program and its sessions',
    tag: 'programs',
    handler: async ({ ctx, principal, params }) => {
      const program = await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params));
      return { ...program, sessions: await ctx.store.listSessions(principal.tenantId, program.id) };
    },
  }),
  route({ method: 'patch', path: '/api/programs/:programId', summary: 'Change a program', tag: 'programs', body: s.programPatch, handler: async ({ ctx, actor, params, body }) => updateProgram(ctx, actor, programIdParam(params), body) }),
  route({ method: 'post', path: '/api/programs/:programId/clone', summary: 'Clone a program as the next cohort', tag: 'programs', body: s.cloneInput, status: 201, handler: async ({ ctx, actor, params, body }) => cloneProgramUseCase(ctx, actor, programIdParam(params), body) }),
  route({
    method: 'post',
    path: '/api/programs/:programId/launch',
    summary: 'Launch a program (fails with the blocking checklist items unless forced with a reason)',
    tag: 'programs',
    body: s.launchInput,
    handler: async ({ ctx, actor, params, body }) => {
      const r = await launchProgram(ctx, actor, programIdParam(params), body);
      return { program: r.program, forced: r.forced, jobsAdded: r.jobsAdded, checklist: r.checklist };
    },
  }),
  route({
    method: 'get',
    path: '/api/programs/:programId/checklist',
    summary: 'The launch checklist',
    tag: 'checklist',
    handler: async ({ ctx, principal, params }) => {
      const program = await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params));
      const items = await programChecklist(ctx, program, { withProviders: false });
      return { items, blocking: items.filter((i) => i.status === 'blocking' && !i.signedOff).length, warnings: items.filter((i) => i.status === 'warning' && !i.signedOff).length };
    },
  }),
  route({
    method: 'post',
    path: '/api/programs/:programId/checklist/:itemId/signoff',
    summary: 'Sign off a checklist item with a note',
    tag: 'checklist',
    body: s.signoffInput,
    handler: async ({ ctx, actor, params, body }) => signOff(ctx, actor, programIdParam(params), params.itemId!, body.note),
  }),

  // ---- sessions ----
  route({ method: 'get', path: '/api/programs/:programId/sessions', summary: "A program's sessions", tag: 'sessions', handler: async ({ ctx, principal, params }) => ctx.store.listSessions(principal.tenantId, (await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params))).id) }),
  route({ method: 'post', path: '/api/programs/:programId/sessions', summary: 'Add a session', tag: 'sessions', body: s.sessionInput, status: 201, handler: async ({ ctx, actor, params, body }) => addSession(ctx, actor, programIdParam(params), body) }),
  route({ method: 'patch', path: '/api/sessions/:sessionId', summary: 'Change or move a session', tag: 'sessions', body: s.sessionPatch, handler: async ({ ctx, actor, params, body }) => updateSession(ctx, actor, params.sessionId!, body) }),
  route({ method: 'post', path: '/api/sessions/:sessionId/cancel', summary: 'Cancel a session (tells everyone enrolled and waiting)', tag: 'sessions', body: s.cancelSessionInput, handler: async ({ ctx, actor, params, body }) => cancelSession(ctx, actor, params.sessionId!, body.message) }),
  route({ method: 'post', path: '/api/sessions/:sessionId/reschedule', summary: 'Schedule a cancelled session again (a new calendar event)', tag: 'sessions', body: s.sessionPatch, handler: async ({ ctx, actor, params, body }) => rescheduleSession(ctx, actor, params.sessionId!, body) }),
  route({ method: 'get', path: '/api/sessions/:sessionId/invite', summary: 'What the Outlook compose flow puts on the meeting', tag: 'sessions', handler: async ({ ctx, principal, params }) => inviteDraft(ctx, principal.tenantId, params.sessionId!) }),
  route({ method: 'get', path: '/api/sessions/:sessionId/state', summary: "A session's responses, attendance and prerequisites", tag: 'sessions', handler: async ({ ctx, principal, params }) => sessionState(ctx, principal.tenantId, params.sessionId!) }),
  route({ method: 'post', path: '/api/sessions/:sessionId/reminders/send-now', summary: 'Send a reminder to everyone enrolled now', tag: 'reminders', handler: async ({ ctx, actor, params }) => sendRemindersNow(ctx, actor, { sessionId: params.sessionId! }) }),
  route({ method: 'post', path: '/api/sessions/:sessionId/nudge', summary: 'Remind those who have not answered the invitation', tag: 'reminders', handler: async ({ ctx, actor, params }) => nudgeNonResponders(ctx, actor, params.sessionId!) }),
  route({ method: 'post', path: '/api/sessions/:sessionId/attendance', summary: 'Mark attendance in one session', tag: 'attendance', body: s.sessionAttendanceInput, handler: async ({ ctx, actor, params, body }) => markSessionAttendance(ctx, actor, params.sessionId!, body.entries) }),

  // ---- roster and enrollments ----
  route({
    method: 'post',
    path: '/api/programs/:programId/roster',
    summary: 'Import a roster (CSV upload as text/csv, or JSON); bad rows are reported with row numbers and kept',
    tag: 'roster',
    body: s.rosterJsonInput,
    acceptsCsv: true,
    handler: async ({ ctx, actor, params, body }) => {
      const b = body as { csv?: string; learners?: Array<Record<string, string>> };
      const rows = b.csv !== undefined ? parseRosterCsv(b.csv) : (b.learners ?? []).map((values, i) => ({ row: i + 1, values }));
      return importRoster(ctx, actor, programIdParam(params), rows, b.csv !== undefined ? 'csv' : 'json');
    },
  }),
  route({
    method: 'get',
    path: '/api/programs/:programId/roster',
    summary: 'The roster, with rows not imported and why',
    tag: 'roster',
    handler: async ({ ctx, principal, params }) => {
      const program = await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params));
      const report = await buildReport(ctx, principal.tenantId, program.id);
      return {
        learners: report.learners.map((l) => ({ ...l.learner, enrollments: l.enrollments })),
        rejected: await ctx.store.listRosterRejects(principal.tenantId, program.id),
      };
    },
  }),
  route({ method: 'post', path: '/api/programs/:programId/enrollments', summary: 'Enroll a learner in a session (waitlisted when full)', tag: 'roster', body: s.enrollInput, status: 201, handler: async ({ ctx, actor, params, body }) => enrollByEmail(ctx, actor, programIdParam(params), body.email, body.sessionId) }),
  route({ method: 'post', path: '/api/enrollments/:enrollmentId/cancel', summary: 'Cancel an enrollment (the waitlist moves up)', tag: 'roster', handler: async ({ ctx, actor, params }) => cancelEnrollment(ctx, actor, params.enrollmentId!, 'cancelled by the coordinator') }),
  route({ method: 'post', path: '/api/enrollments/:enrollmentId/decision', summary: 'Keep or free the seat of a learner who declined', tag: 'roster', body: s.rsvpDecisionInput, handler: async ({ ctx, actor, params, body }) => decideOnDecline(ctx, actor, params.enrollmentId!, body.decision) }),

  // ---- attendance and completion ----
  route({ method: 'post', path: '/api/programs/:programId/attendance', summary: 'Mark attendance across sessions', tag: 'attendance', body: s.programAttendanceInput, handler: async ({ ctx, actor, params, body }) => markAttendance(ctx, actor, programIdParam(params), body.entries) }),
  route({ method: 'post', path: '/api/programs/:programId/completions', summary: 'Record completions and assessment scores', tag: 'attendance', body: s.completionInput, handler: async ({ ctx, actor, params, body }) => recordCompletion(ctx, actor, programIdParam(params), body.entries) }),

  // ---- reminders and messages ----
  route({
    method: 'post',
    path: '/api/programs/:programId/reminders/preview',
    summary: 'Who gets what next',
    tag: 'reminders',
    body: s.previewInput,
    handler: async ({ ctx, principal, params, body }) => ({ messages: await previewReminders(ctx, principal.tenantId, programIdParam(params), body.sessionId) }),
  }),
  route({ method: 'post', path: '/api/programs/:programId/reminders/send-now', summary: 'Send a reminder for the next session now', tag: 'reminders', handler: async ({ ctx, actor, params }) => sendRemindersNow(ctx, actor, { programId: programIdParam(params) }) }),
  route({
    method: 'get',
    path: '/api/programs/:programId/messages',
    summary: 'Every message sent for the program, per learner, with its outcome',
    tag: 'reminders',
    handler: async ({ ctx, principal, params }) => {
      const program = await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params));
      const rows = await ctx.store.listMessages(principal.tenantId, { programId: program.id });
      return rows.map((m) => ({ key: m.key, kind: m.kind, recipient: m.recipient, subject: m.subject, provider: m.provider, status: m.status, error: m.error, createdAt: m.created_at, sentAt: m.sent_at }));
    },
  }),
  route({ method: 'post', path: '/api/programs/:programId/templates', summary: "Edit a message template (per language)", tag: 'reminders', body: s.templateInput, handler: async ({ ctx, actor, params, body }) => saveTemplate(ctx, actor, programIdParam(params), body) }),
  route({ method: 'post', path: '/api/programs/:programId/templates/preview', summary: 'Preview a message for one learner', tag: 'reminders', body: s.templatePreviewInput, handler: async ({ ctx, principal, params, body }) => previewTemplate(ctx, principal.tenantId, programIdParam(params), body) }),

  // ---- records, reports, questions ----
  route({
    method: 'post',
    path: '/api/programs/:programId/sync',
    summary: 'Sync the records workbook or Sheet now',
    tag: 'records',
    handler: async ({ ctx, principal, params }) => {
      const program = await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params));
      return syncRecords(ctx, await ctx.providersFor(principal.tenantId), program);
    },
  }),
  route({
    method: 'get',
    path: '/api/programs/:programId/report',
    summary: 'Completion report (the same figures as the records tabs)',
    tag: 'records',
    query: z.object({ audience: z.enum(['coordinator', 'manager']).default('coordinator') }),
    handler: async ({ ctx, principal, params, query, res }) => {
      // Streamed a page of learners at a time: a program of 100,000 enrollments is never held whole in memory.
      const head = await reportHead(ctx, principal.tenantId, programIdParam(params));
      res.status(200).type('application/json; charset=utf-8');
      return streamBody(ctx, res, () => writeReportJson(ctx, head, { includeScores: query.audience === 'coordinator' || head.program.showScoresToManagers }, res));
    },
  }),
  route({ method: 'get', path: '/api/programs/:programId/questions', summary: 'Learner questions and the groups they form', tag: 'questions', handler: async ({ ctx, principal, params }) => questionsWithGroups(ctx, principal.tenantId, programIdParam(params)) }),
  route({ method: 'post', path: '/api/programs/:programId/questions', summary: 'Log a learner question', tag: 'questions', body: s.questionInput, status: 201, handler: async ({ ctx, actor, params, body }) => logQuestion(ctx, actor, programIdParam(params), body) }),
  route({ method: 'post', path: '/api/programs/:programId/feed-token', summary: 'Create (or rotate) the subscribable calendar feed link', tag: 'programs', handler: async ({ ctx, actor, params }) => rotateFeedToken(ctx, actor, programIdParam(params)) }),
  route({
    method: 'get',
    path: '/api/programs/:programId/audit',
    summary: 'Who changed what, when, through which surface',
    tag: 'programs',
    handler: async ({ ctx, principal, params }) => {
      const program = await getProgramOrThrow(ctx, principal.tenantId, programIdParam(params));
      const all = await ctx.store.listAudit(principal.tenantId, 1000);
      return all.filter((a) => a.entityId === program.id || a.detail.programId === program.id);
    },
  }),

  // ---- data protection ----
  route({ method: 'get', path: '/api/learners/:email/export', summary: "Export one learner's data", tag: 'privacy', handler: async ({ ctx, principal, params }) => exportLearner(ctx, principal.tenantId, params.email!) }),
  route({ method: 'post', path: '/api/learners/:email/erase', summary: 'Erase one learner everywhere (the audit log keeps a pseudonymous entry)', tag: 'privacy', handler: async ({ ctx, actor, params }) => eraseLearner(ctx, actor, params.email!) }),
  ...EXPORT_ROUTES,
];

