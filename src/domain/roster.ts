// Roster rows as people type them: each row is checked on its own, bad rows are reported with their row number and kept.
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { ErrorDetail } from './errors.js';

/** Header spellings accepted in a roster CSV, mapped to Muster's field names (case and spacing are ignored). */
export const ROSTER_HEADERS: Record<string, keyof RosterEntry> = {
  email: 'email',
  'e-mail': 'email',
  'email address': 'email',
  name: 'name',
  'full name': 'name',
  manager: 'managerEmail',
  'manager email': 'managerEmail',
  manageremail: 'managerEmail',
  'time zone': 'zone',
  timezone: 'zone',
  zone: 'zone',
  tz: 'zone',
  department: 'department',
  dept: 'department',
  language: 'language',
  lang: 'language',
  session: 'session',
  sessions: 'session',
  'session id': 'session',
};

export interface RosterEntry {
  email: string;
  name: string;
  managerEmail: string | null;
  zone: string;
  department: string | null;
  language: string;
  /** Session label(s) or id(s), separated by ";"; empty means every session of the program. */
  session: string | null;
}

export interface RosterRowInput {
  /** Data row number as the person sees it (a CSV's header is row 1, so data starts at row 2). */
  row: number;
  values: Record<string, string | undefined>;
}

export interface RosterCheck {
  valid: Array<{ row: number; entry: RosterEntry }>;
  rejected: Array<{ row: number; values: Record<string, string>; reasons: ErrorDetail[] }>;
}

const blankToNull = (v: string | undefined): string | null => {
  const t = (v ?? '').trim();
  return t === '' ? null : t;
};

const emailSchema = z.string().trim().toLowerCase().pipe(z.email());

/** Maps free-form headers to Muster's roster fields; unknown columns are kept out of the entry. */
export function normalizeRosterRecord(record: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, value] of Object.entries(record)) {
    const field = ROSTER_HEADERS[header.trim().toLowerCase().replace(/[_\s]+/g, ' ')];
    if (field && value !== undefined) out[field] = value;
  }
  return out;
}

/**
 * Checks every row: email present and well formed, a known IANA zone (or the fallback), a manager email that is an
 * email if given, and no learner twice in the same file. Nothing is dropped: each row ends up valid or rejected.
 */
export function checkRosterRows(rows: RosterRowInput[], opts: { defaultZone: string | null; defaultLanguage?: string; knownSessions?: (ref: string) => boolean }): RosterCheck {
  const valid: RosterCheck['valid'] = [];
  const rejected: RosterCheck['rejected'] = [];
  const seen = new Map<string, number>();
  for (const { row, values } of rows) {
    const v = normalizeRosterRecord(values);
    const reasons: ErrorDetail[] = [];
    const rawEmail = blankToNull(v.email);
    let email: string | null = null;
    if (!rawEmail) reasons.push({ field: 'email', message: 'missing email', row });
    else {
      const parsed = emailSchema.safeParse(rawEmail);
      if (parsed.success) email = parsed.data;
      else reasons.push({ field: 'email', message: `"${rawEmail}" is not an email address`, row });
    }
    const zone = blankToNull(v.zone) ?? opts.defaultZone;
    if (!zone) reasons.push({ field: 'zone', message: 'missing time zone', row });
    else if (!DateTime.local().setZone(zone).isValid) reasons.push({ field: 'zone', message: `unknown time zone "${zone}"`, row });
    const manager = blankToNull(v.managerEmail);
    if (manager && !emailSchema.safeParse(manager).success) reasons.push({ field: 'managerEmail', message: `"${manager}" is not an email address`, row });
    const session = blankToNull(v.session);
    if (session && opts.knownSessions) {
      for (const ref of session.split(';').map((s) => s.trim()).filter(Boolean)) {
        if (!opts.knownSessions(ref)) reasons.push({ field: 'session', message: `no session "${ref}" in this program`, row });
      }
    }
    if (email) {
      const first = seen.get(email);
      if (first !== undefined) reasons.push({ field: 'email', message: `duplicate learner: ${email} is already on row ${first}`, row });
      else if (reasons.length === 0) seen.set(email, row);
    }
    if (reasons.length > 0) {
      rejected.push({ row, values: Object.fromEntries(Object.entries(values).map(([k, x]) => [k, x ?? ''])), reasons });
      continue;
    }
    valid.push({
      row,
      entry: {
        email: email!,
        name: blankToNull(v.name) ?? email!.split('@')[0]!,
        managerEmail: manager ? manager.toLowerCase() : null,
        zone: zone!,
        department: blankToNull(v.department),
        language: (blankToNull(v.language) ?? opts.defaultLanguage ?? 'en').toLowerCase(),
        session,
      },
    });
  }
  return { valid, rejected };
}
