// Time-zone arithmetic and human date text for the domain: instants are UTC ISO strings in, UTC ISO strings out; never reads the clock.
import { DateTime, IANAZone } from 'luxon';
import { MusterError } from './errors.js';

/** Output patterns per language; the day-first English form names the zone as people see it ("CET"). */
const PATTERNS: Record<string, { locale: string; dateTime: string; date: string; dayMonth: string }> = {
  en: { locale: 'en-GB', dateTime: "cccc d LLLL yyyy, HH:mm ZZZZ", date: 'cccc d LLLL yyyy', dayMonth: 'd LLLL' },
  de: { locale: 'de-DE', dateTime: "cccc, d. LLLL yyyy, HH:mm 'Uhr' ZZZZ", date: 'cccc, d. LLLL yyyy', dayMonth: 'd. LLLL' },
};

/** The two-letter language of a tag such as "de-AT", falling back to English when Muster has no pattern for it. */
export function baseLanguage(language: string | null | undefined): string {
  const base = (language ?? 'en').toLowerCase().split(/[-_]/)[0] ?? 'en';
  return base in PATTERNS ? base : 'en';
}

export function isValidZone(zone: string | null | undefined): zone is string {
  return typeof zone === 'string' && zone.length > 0 && IANAZone.isValidZone(zone);
}

export function assertValidZone(zone: string | null | undefined, field = 'zone'): asserts zone is string {
  if (!isValidZone(zone)) {
    throw new MusterError('VALIDATION_FAILED', `Unknown time zone "${zone ?? ''}"`, { details: [{ field, message: 'not an IANA time zone' }] });
  }
}

/** Parses an ISO 8601 instant (with offset or Z) into a UTC DateTime; throws VALIDATION_FAILED naming the field. */
export function parseInstant(instantIso: string, field = 'instant'): DateTime {
  const dt = DateTime.fromISO(instantIso, { zone: 'utc' });
  if (!dt.isValid) {
    throw new MusterError('VALIDATION_FAILED', `"${instantIso}" is not an ISO 8601 date and time`, { details: [{ field, message: 'not an ISO 8601 instant' }] });
  }
  return dt.toUTC();
}

/** True when the text is an ISO 8601 instant parseInstant accepts. */
export function isValidInstant(instantIso: string | null | undefined): instantIso is string {
  return typeof instantIso === 'string' && DateTime.fromISO(instantIso, { zone: 'utc' }).isValid;
}

/** A DateTime as the canonical UTC ISO string Muster stores ("2026-03-03T08:00:00.000Z", as Date#toISOString). */
export function toUtcIso(dt: DateTime): string {
  const iso = dt.toUTC().toISO();
  if (iso === null) throw new MusterError('INTERNAL', 'invalid date-time');
  return iso;
}

/** Normalises any ISO instant (or a Date) to the canonical UTC ISO string. */
export function normalizeInstant(instant: string | Date, field = 'instant'): string {
  // A valid Date of years 0-9999 prints the same text through toISOString, without luxon's cost (the checklist asks per request).
  if (instant instanceof Date) {
    const y = instant.getUTCFullYear();
    if (y >= 0 && y <= 9999) return instant.toISOString();
  }
  return typeof instant === 'string' ? toUtcIso(parseInstant(instant, field)) : toUtcIso(DateTime.fromJSDate(instant, { zone: 'utc' }));
}

/** Adds minutes to an instant (exact duration). */
export function addMinutes(instantIso: string, minutes: number): string {
  return toUtcIso(parseInstant(instantIso).plus({ minutes }));
}

/** Adds calendar days in a zone: the same local wall-clock time that many days later (negative for earlier). */
export function addLocalDays(instantIso: string, zone: string, days: number): string {
  return toUtcIso(parseInstant(instantIso).setZone(zone).plus({ days }));
}

export interface LocalDateTime {
  /** Local calendar date, yyyy-MM-dd. */
  date: string;
  /** Local wall-clock time, HH:mm. */
  time: string;
  /** Local date and time without offset, yyyy-MM-ddTHH:mm:ss (what an RFC 5545 TZID form needs). */
  isoLocal: string;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  /** Offset from UTC in minutes at that instant. */
  offsetMinutes: number;
  /** Short zone name as shown in English, e.g. "CET" or "GMT-4". */
  zoneAbbrev: string;
}

/** The wall-clock reading of an instant in a zone. */
export function localDateTime(instantIso: string, zone: string): LocalDateTime {
  assertValidZone(zone);
  const dt = parseInstant(instantIso).setZone(zone).setLocale('en-GB');
  return {
    date: dt.toFormat('yyyy-MM-dd'),
    time: dt.toFormat('HH:mm'),
    isoLocal: dt.toFormat("yyyy-MM-dd'T'HH:mm:ss"),
    weekday: dt.weekday,
    offsetMinutes: dt.offset,
    zoneAbbrev: dt.toFormat('ZZZZ'),
  };
}

/** "Tuesday 3 March 2026, 09:00 CET" (en) or "Dienstag, 3. März 2026, 09:00 Uhr MEZ" (de): an instant as a learner reads it in their zone. */
export function formatLocal(instantIso: string, zone: string, locale = 'en'): string {
  assertValidZone(zone);
  const p = PATTERNS[baseLanguage(locale)]!;
  return parseInstant(instantIso).setZone(zone).setLocale(p.locale).toFormat(p.dateTime);
}

/** "Tuesday 3 March 2026" (en): the local date only, for due dates and digests. */
export function formatLocalDate(instantIso: string, zone: string, locale = 'en'): string {
  assertValidZone(zone);
  const p = PATTERNS[baseLanguage(locale)]!;
  return parseInstant(instantIso).setZone(zone).setLocale(p.locale).toFormat(p.date);
}

/** "3 March" (en): the short local day for checklist sentences. */
export function formatDayMonth(instantIso: string, zone: string, locale = 'en'): string {
  const p = PATTERNS[baseLanguage(locale)]!;
  const z = isValidZone(zone) ? zone : 'UTC';
  return parseInstant(instantIso).setZone(z).setLocale(p.locale).toFormat(p.dayMonth);
}

/** Minutes since local midnight for "HH:mm"; throws VALIDATION_FAILED on anything else. */
export function parseClockTime(hhmm: string, field = 'time'): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new MusterError('VALIDATION_FAILED', `"${hhmm}" is not a time of day (HH:mm)`, { details: [{ field, message: 'expected HH:mm' }] });
  return Number(m[1]) * 60 + Number(m[2]);
}
