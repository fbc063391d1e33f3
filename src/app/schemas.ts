// Input shapes of Muster's use cases as zod schemas: the HTTP edge, the CLI and /openapi.json all read these.
import { z } from 'zod';
import { PROGRAM_CODE } from '../domain/program.js';

const email = z.string().trim().toLowerCase().pipe(z.email());
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use HH:mm');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use yyyy-mm-dd');
const dateTime = z.string().min(10).describe('ISO 8601 date-time; without an offset it is read in the session zone');

export const materialInput = z.object({
  title: z.string().trim().min(1),
  kind: z.enum(['material', 'prerequisite', 'access']).default('material'),
  link: z.url().nullable().default(null),
  owner: email.nullable().default(null),
  lastReviewed: isoDate.nullable().default(null),
});

export const policyInput = z
  .object({
    offsetsMinutes: z.array(z.number().int().positive().max(366 * 24 * 60)).max(10),
    prerequisiteMinutes: z.number().int().positive().nullable(),
    followUpMinutes: z.number().int().min(0).nullable(),
    completionDueDays: z.number().int().positive().nullable(),
    escalateAfterDays: z.number().int().min(0),
    recertifyAfterDays: z.number().int().positive().nullable(),
    recertifyNoticeDays: z.number().int().min(0),
    digest: z.object({ weekday: z.number().int().min(1).max(7), hour: z.number().int().min(0).max(23) }).nullable(),
    quietHours: z.object({ start: hhmm, end: hhmm }).nullable(),
  })
  .partial();

export const sessionInput = z.object({
  label: z.string().trim().min(1).max(200),
  start: dateTime,
  end: dateTime,
  zone: z.string().trim().min(1).describe('IANA time zone, e.g. Europe/Berlin'),
  room: z.string().trim().min(1).nullable().default(null),
  roomEmail: email.nullable().default(null),
  onlineUrl: z.url().nullable().default(null),
  backupPlan: z.string().trim().min(1).nullable().default(null),
  instructors: z.array(email).default([]),
  capacity: z.number().int().positive().max(10_000).default(50),
});

export const sessionPatch = sessionInput.partial();

export const ownersInput = z
  .object({ missedSessions: email.nullable(), lateCompletions: email.nullable(), questions: email.nullable(), improvements: email.nullable() })
  .partial();

/** A Google Sheets address (https://docs.google.com/spreadsheets/d/<id>/...) gives its id; anything else must already be an id. */
const SHEETS_URL = /^https:\/\/docs\.google\.com\/spreadsheets\/(?:u\/\d+\/)?d\/([A-Za-z0-9_-]+)/;
/** A Google spreadsheet id, an Excel workbook's item id, or an item on another drive as driveId/itemId. */
const RECORDS_ID = /^[A-Za-z0-9_!-]{8,200}(?:\/[A-Za-z0-9_!-]{8,200})?$/;

/**
 * The program's own records file: a Google Sheet (its id or address) or an Excel workbook in OneDrive/SharePoint (its
 * item id on MS_WORKBOOK_DRIVE_ID, or driveId/itemId). Stored as the bare id.
 */
export const recordsSheetInput = z
  .string()
  .trim()
  .transform((v, c) => {
    const id = SHEETS_URL.exec(v)?.[1] ?? v;
    if (RECORDS_ID.test(id)) return id;
    c.addIssue({ code: 'custom', message: "use the Google Sheet's address or id, or the Excel workbook's item id (driveId/itemId for another drive)" });
    return z.NEVER;
  })
  .describe("the program's own Google Sheet (address or id) or Excel workbook (item id, or driveId/itemId); null uses the configured one");

export const programInput = z.object({
  name: z.string().trim().min(1).max(200),
  code: z.string().trim().toUpperCase().regex(PROGRAM_CODE, 'use 2 to 20 letters, digits, - or _'),
  owner: email,
  audience: z.string().trim().max(500).default(''),
  agenda: z.string().max(10_000).default(''),
  materials: z.array(materialInput).max(100).default([]),
  reviewWindowDays: z.number().int().positive().max(3650).default(180),
  assessmentName: z.string().trim().min(1).nullable().default(null),
  policy: policyInput.default({}),
  owners: ownersInput.default({}),
  showScoresToManagers: z.boolean().default(false),
  enrollmentPath: z.string().trim().min(1).nullable().default(null),
  recordsSheet: recordsSheetInput.nullable().optional(),
  sessions: z.array(sessionInput).max(500).default([]),
});

export const programPatch = programInput.omit({ sessions: true, code: true }).partial().extend({ rosterApproved: z.boolean().optional() });

export const rosterJsonInput = z.object({
  learners: z.array(z.record(z.string(), z.union([z.string(), z.null()]).transform((v) => v ?? ''))).max(100_000),
});

export const attendanceValue = z.enum(['present', 'late', 'excused', 'absent']);

export const sessionAttendanceInput = z.object({
  entries: z.array(z.object({ email, attendance: attendanceValue })).min(1).max(5_000),
});

export const programAttendanceInput = z.object({
  entries: z.array(z.object({ sessionId: z.string().min(1), email, attendance: attendanceValue })).min(1).max(5_000),
});

export const completionInput = z.object({
  entries: z
    .array(z.object({ email, completedAt: isoDate.or(z.iso.datetime()).nullable().default(null), score: z.number().min(0).max(100).nullable().default(null) }))
    .min(1)
    .max(5_000),
});

export const enrollInput = z.object({ email, sessionId: z.string().min(1) });

export const launchInput = z.object({ force: z.boolean().default(false), reason: z.string().trim().max(1000).default('') });

export const signoffInput = z.object({ note: z.string().trim().min(1).max(2000) });

export const questionInput = z.object({ text: z.string().trim().min(3).max(4000), learnerEmail: email.nullable().default(null) });

export const previewInput = z.object({ sessionId: z.string().min(1).optional() });

export const cancelSessionInput = z.object({ message: z.string().trim().max(2000).default('') });

export const templateInput = z.object({
  kind: z.string().min(1),
  language: z.string().trim().toLowerCase().min(2).max(10).default('en'),
  subject: z.string().max(500),
  body: z.string().max(20_000),
});

export const templatePreviewInput = z.object({ kind: z.string().min(1), learnerEmail: email, sessionId: z.string().min(1).optional() });

export const cloneInput = z.object({ code: z.string().trim().toUpperCase().regex(PROGRAM_CODE, 'use 2 to 20 letters, digits, - or _'), name: z.string().trim().min(1).optional() });

export const rsvpDecisionInput = z.object({ decision: z.enum(['keep', 'cancel']) });

export type ProgramInput = z.infer<typeof programInput>;
export type SessionInput = z.infer<typeof sessionInput>;
