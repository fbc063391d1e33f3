// Program and session rules: defaults a coordinator gets without asking, validation of times, and cloning for the next cohort.
import { DateTime } from 'luxon';
import { MusterError, type ErrorDetail } from './errors.js';
import type { ImprovementNote, Program, ReminderPolicy, Session } from './types.js';

export const DEFAULT_POLICY: ReminderPolicy = {
  offsetsMinutes: [7 * 24 * 60, 24 * 60, 60],
  prerequisiteMinutes: 3 * 24 * 60,
  followUpMinutes: 60,
  completionDueDays: 14,
  escalateAfterDays: 0,
  recertifyAfterDays: null,
  recertifyNoticeDays: 30,
  digest: { weekday: 1, hour: 8 },
  quietHours: { start: '21:00', end: '07:00' },
};

export const DEFAULT_REVIEW_WINDOW_DAYS = 180;

/** Program codes are short and safe in subjects, tab titles and file names. */
export const PROGRAM_CODE = /^[A-Z0-9][A-Z0-9_-]{1,19}$/;


/** Checks a session's own consistency: start before end, a real zone, a positive capacity. */
export function sessionProblems(s: Pick<Session, 'start' | 'end' | 'zone' | 'capacity'>, prefix = ''): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const start = Date.parse(s.start);
  const end = Date.parse(s.end);
  if (Number.isNaN(start)) out.push({ field: `${prefix}start`, message: 'not a valid date and time' });
  if (Number.isNaN(end)) out.push({ field: `${prefix}end`, message: 'not a valid date and time' });
  if (!Number.isNaN(start) && !Number.isNaN(end) && end <= start) out.push({ field: `${prefix}end`, message: 'the session must end after it starts' });
  if (!DateTime.local().setZone(s.zone).isValid) out.push({ field: `${prefix}zone`, message: `unknown time zone "${s.zone}"` });
  if (!(s.capacity > 0)) out.push({ field: `${prefix}capacity`, message: 'capacity must be at least 1' });
  return out;
}

/**
 * Turns a local wall-clock time in a zone into a UTC instant. An ISO string with an offset or Z is taken as is.
 * A local time that does not exist (inside a spring-forward gap) is refused rather than guessed.
 */
export function toUtcInstant(value: string, zone: string, field: string): string {
  const hasOffset = /([zZ]|[+-]\d{2}:?\d{2})$/.test(value);
  const dt = hasOffset ? DateTime.fromISO(value, { setZone: true }) : DateTime.fromISO(value, { zone });
  if (!dt.isValid) throw new MusterError('VALIDATION_FAILED', `${field} is not a valid date and time`, { details: [{ field, message: 'use ISO 8601, e.g. 2027-03-02T09:00' }] });
  if (!hasOffset) {
    const back = dt.toFormat("yyyy-MM-dd'T'HH:mm");
    if (!value.startsWith(back)) {
      throw new MusterError('VALIDATION_FAILED', `${field} ${value} does not exist in ${zone} (the clocks change then)`, { details: [{ field, message: 'this local time is skipped by a daylight-saving change' }] });
    }
  }
  return dt.toUTC().toISO({ suppressMilliseconds: true })!;
}

/** The create key of a session's calendar event: stable for a generation, new after a cancelled session is scheduled again. */
export function eventCreateKey(tenantId: string, sessionId: string, generation: number): string {
  return `${tenantId}:${sessionId}:${generation}`;
}

/**
 * Clones a program as the template for the next cohort: same materials, policy and owners, no sessions or learners.
 * Open improvement notes travel with it so the next cohort starts from what the last one learned.
 */
export function cloneProgram(template: Program, next: { id: string; code: string; name?: string; now: string }, openNotes: ImprovementNote[]): { program: Program; notes: ImprovementNote[] } {
  const program: Program = {
    ...structuredClone(template),
    id: next.id,
    code: next.code,
    name: next.name ?? template.name,
    status: 'draft',
    rosterApproved: false,
    clonedFrom: template.id,
    createdAt: next.now,
  };
  const notes = openNotes
    .filter((n) => n.status === 'open')
    .map((n) => ({ ...n, id: `${next.id}:${n.groupKey}`, programId: next.id, createdAt: next.now }));
  return { program, notes };
}
