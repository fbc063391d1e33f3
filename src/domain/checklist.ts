// The launch checklist: what a coordinator must not forget, computed from a program's state as items with stable ids; never fetches that state itself.
import type { BusyInterval } from '../ports/index.js';
import type { ChecklistItem, CheckStatus, Enrollment, ImprovementNote, Learner, Program, Session } from './types.js';
import { MusterError } from './errors.js';
import { DAILY_BUDGET_BLOCKING_FRACTION } from './budget.js';
import { findNamingDrift, type ObservedNames } from './naming.js';
import type { JobKind } from './schedule.js';
import { formatDayMonth, isValidInstant, isValidZone, normalizeInstant, parseInstant } from './time.js';

export type Signoff = { by: string; note: string; at: string };

export interface ChecklistInput {
  program: Program;
  /** This program's sessions (cancelled ones are ignored). */
  sessions: Session[];
  /** The learners the enrollments refer to (not read when `facts` is given). */
  learners?: Learner[];
  /** This program's enrollments, any status (not read when `facts` is given). */
  enrollments?: Enrollment[];
  /** Sign-offs by item id. */
  signoffs?: Record<string, Signoff>;
  /** Kinds of unsent jobs queued for this program; leave undefined before launch (nothing is queued yet). */
  scheduledJobKinds?: JobKind[];
  /** Free/busy from the instructors' calendars: instructor (as in Session.instructors, usually the email) → busy intervals. */
  busy?: Record<string, BusyInterval[]>;
  /** Other programs' sessions, to catch instructors and learners booked twice. */
  otherSessions?: Session[];
  /** Enrollments in those other sessions. */
  otherEnrollments?: Enrollment[];
  /** Names read back from the providers, for naming drift. */
  observedNames?: ObservedNames;
  /** Today's use of each sending mailbox's daily budget (budgetState's dailyUsedFraction). */
  mailboxes?: Array<{ mailbox: string; dailyUsedFraction: number }>;
  /** Provider readiness items (CalendarPort.readiness()), passed through. */
  providerItems?: ChecklistItem[];
  /** Improvement notes raised by grouped questions, including those carried over from the cohort this was cloned from. */
  improvementNotes?: ImprovementNote[];
  /** Display names for instructors and other people by email. */
  people?: Record<string, string>;
  /**
   * What the checklist needs from the roster, already counted (the store answers it from indexes); when given,
   * `learners`, `enrollments` and `otherEnrollments` are not read. rosterFacts(learners, enrollments, otherEnrollments)
   * gives the same from whole lists.
   */
  facts?: RosterFacts;
}

/** Bits of learnerFieldFlags: which of a learner's fields the checklist flags. */
export const LEARNER_FLAG = { email: 1, zone: 2, manager: 4, bounced: 8 } as const;
export type LearnerField = keyof typeof LEARNER_FLAG;

// Luxon's parsing and zone checks cost tens to hundreds of microseconds each, and a checklist asks about the same few
// instants and zones many times (per session, per pair of sessions, per learner written); the answers never change.
const instants = new Map<string, number>();
const zones = new Map<string, boolean>();

// The form Muster stores (Date#toISOString): when such a text reads back to itself through Date, Date's reading is exact.
const CANONICAL_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Epoch milliseconds of an ISO instant as parseInstant reads it, NaN when it is not one. */
function instantOrNaN(iso: string): number {
  if (typeof iso !== 'string') return Number.NaN;
  let v = instants.get(iso);
  if (v === undefined) {
    const fast = CANONICAL_INSTANT.test(iso) ? Date.parse(iso) : Number.NaN;
    v = !Number.isNaN(fast) && new Date(fast).toISOString() === iso ? fast : isValidInstant(iso) ? +parseInstant(iso) : Number.NaN;
    if (instants.size >= 20_000) instants.clear();
    instants.set(iso, v);
  }
  return v;
}

/** Epoch milliseconds of an ISO instant; throws as parseInstant does when it is not one. */
function instant(iso: string): number {
  const v = instantOrNaN(iso);
  if (Number.isNaN(v)) parseInstant(iso);
  return v;
}

/** isValidZone, remembered per zone name. */
function validZone(zone: string | null | undefined): boolean {
  if (typeof zone !== 'string') return isValidZone(zone);
  let v = zones.get(zone);
  if (v === undefined) {
    v = isValidZone(zone);
    if (zones.size >= 1_000) zones.clear();
    zones.set(zone, v);
  }
  return v;
}

const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+$/;

/** Which of a learner's fields the checklist flags (LEARNER_FLAG bits); 0 when the learner needs no attention. */
export function learnerFieldFlags(l: Pick<Learner, 'email' | 'zone' | 'managerEmail' | 'undeliverable'>): number {
  let f = 0;
  if (!EMAIL_SHAPE.test(l.email ?? '')) f |= LEARNER_FLAG.email;
  if (!validZone(l.zone)) f |= LEARNER_FLAG.zone;
  if (!l.managerEmail) f |= LEARNER_FLAG.manager;
  if (l.undeliverable) f |= LEARNER_FLAG.bounced;
  return f;
}

/** How a flagged learner is named in the checklist: by name, else by id (bad email) or email. */
export function learnerLabel(l: Pick<Learner, 'id' | 'email' | 'name'>, field: LearnerField): string {
  return field === 'email' ? l.name || l.id : l.name || l.email;
}

/** A count with the first few of what was counted (in email order), for "A, B and 3 more". */
export interface Examples {
  count: number;
  names: string[];
}

/** What the checklist reads from a program's roster, counted rather than listed. */
export interface RosterFacts {
  /** Learners with an enrollment that is not cancelled. */
  activeLearners: number;
  /** Among those learners, per flagged field: how many, and the first five labels (learnerLabel) in email order. */
  fields: Record<LearnerField, Examples>;
  /** Enrolled and waitlisted counts per session id. */
  seats: Record<string, { enrolled: number; waitlisted: number }>;
  /** Names of the program's learners by lowercased email (at least those who are also instructors). */
  people: Record<string, string>;
  /**
   * The enrollments learnerConflicts must see: every enrolled enrollment (this program's first, then the other
   * programs', each in enrollment order) of each learner who may be in two overlapping sessions; may be all of them.
   */
  conflictEnrollments: Enrollment[];
  /** Names of the learners in conflictEnrollments by id. */
  conflictNames: Record<string, string>;
}

const NAMES_SHOWN = 5;

/** The RosterFacts of whole lists: the program's learners and enrollments, and other programs' enrollments. */
export function rosterFacts(learners: Learner[], enrollments: Enrollment[], otherEnrollments: Enrollment[] = []): RosterFacts {
  const active = new Set(enrollments.filter((e) => e.status !== 'cancelled').map((e) => e.learnerId));
  const fields: Record<LearnerField, Examples> = { email: { count: 0, names: [] }, zone: { count: 0, names: [] }, manager: { count: 0, names: [] }, bounced: { count: 0, names: [] } };
  for (const l of learners) {
    if (!active.has(l.id)) continue;
    const f = learnerFieldFlags(l);
    for (const k of Object.keys(LEARNER_FLAG) as LearnerField[]) {
      if (!(f & LEARNER_FLAG[k])) continue;
      fields[k].count++;
      if (fields[k].names.length < NAMES_SHOWN) fields[k].names.push(learnerLabel(l, k));
    }
  }
  const seats: RosterFacts['seats'] = {};
  for (const e of enrollments) {
    const s = (seats[e.sessionId] ??= { enrolled: 0, waitlisted: 0 });
    if (e.status === 'enrolled') s.enrolled++;
    else if (e.status === 'waitlisted') s.waitlisted++;
  }
  const people: Record<string, string> = {};
  for (const l of learners) if (!(l.email.toLowerCase() in people)) people[l.email.toLowerCase()] = l.name;
  return {
    activeLearners: active.size,
    fields,
    seats,
    people,
    conflictEnrollments: [...enrollments, ...otherEnrollments].filter((e) => e.status === 'enrolled'),
    conflictNames: Object.fromEntries(learners.map((l) => [l.id, l.name])),
  };
}

const RANK: Record<CheckStatus, number> = { ok: 0, warning: 1, blocking: 2 };

function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((w, s) => (RANK[s] > RANK[w] ? s : w), 'ok');
}

function item(id: string, area: ChecklistItem['area'], status: CheckStatus, reason: string, owner: string | null): ChecklistItem {
  return { id, area, status, reason, owner, signedOff: null };
}

/** "A, B and C" for up to `max` names, then "and N more". */
function listNames(names: string[], max = 5): string {
  const shown = names.slice(0, max);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** listNames of a list known by its first few names and its length. */
function listSome(e: Examples): string {
  const rest = e.count - Math.min(e.names.length, NAMES_SHOWN);
  if (rest > 0) return `${e.names.slice(0, NAMES_SHOWN).join(', ')} and ${rest} more`;
  return listNames(e.names, NAMES_SHOWN);
}

const factsCache = new WeakMap<ChecklistInput, RosterFacts>();

/** The input's roster facts: given, or counted from its lists (once per input). */
function factsOf(input: ChecklistInput): RosterFacts {
  if (input.facts) return input.facts;
  let f = factsCache.get(input);
  if (!f) factsCache.set(input, (f = rosterFacts(input.learners ?? [], input.enrollments ?? [], input.otherEnrollments ?? [])));
  return f;
}

function sentence(parts: string[]): string {
  return parts.join('; ');
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function describeOffset(minutes: number): string {
  if (minutes > 0 && minutes % 1440 === 0) return plural(minutes / 1440, 'day', 'days');
  if (minutes > 0 && minutes % 60 === 0) return plural(minutes / 60, 'hour', 'hours');
  return plural(minutes, 'minute', 'minutes');
}

const WEEKDAYS = ['Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays', 'Sundays'];

function overlaps(a: { start: string; end: string }, b: { start: string; end: string }): boolean {
  return instant(a.start) < instant(b.end) && instant(b.start) < instant(a.end);
}

function sameInterval(a: { start: string; end: string }, b: { start: string; end: string }): boolean {
  return instant(a.start) === instant(b.start) && instant(a.end) === instant(b.end);
}

function rosterItems(input: ChecklistInput): ChecklistItem[] {
  const { program } = input;
  const owner = program.owner;
  const items: ChecklistItem[] = [];
  items.push(
    program.rosterApproved
      ? item('roster.approved', 'roster', 'ok', 'The learner list is approved', owner)
      : item('roster.approved', 'roster', 'blocking', 'The learner list has not been approved yet', owner),
  );
  items.push(
    program.enrollmentPath
      ? item('roster.enrollment-path', 'roster', 'ok', `Learners enroll through ${program.enrollmentPath}`, owner)
      : item('roster.enrollment-path', 'roster', 'warning', 'There is no enrollment path: learners cannot sign up themselves', owner),
  );
  items.push(
    program.audience.trim()
      ? item('roster.audience', 'roster', 'ok', `The audience is: ${program.audience.trim()}`, owner)
      : item('roster.audience', 'roster', 'warning', 'Nobody has written down who this program is for', owner),
  );

  const facts = factsOf(input);
  if (facts.activeLearners === 0) {
    items.push(item('roster.learners', 'roster', 'warning', 'No learners are enrolled yet', owner));
  } else {
    items.push(item('roster.learners', 'roster', 'ok', `${plural(facts.activeLearners, 'learner is', 'learners are')} enrolled or waiting`, owner));
  }
  const { email: noEmail, zone: noZone, manager: noManager, bounced } = facts.fields;
  const problems: Array<[CheckStatus, string]> = [];
  if (noEmail.count) problems.push(['blocking', `${listSome(noEmail)} ${noEmail.count === 1 ? 'has' : 'have'} no valid email address`]);
  if (noZone.count) problems.push(['blocking', `${listSome(noZone)} ${noZone.count === 1 ? 'has' : 'have'} no valid time zone`]);
  if (noManager.count) problems.push(['warning', `${listSome(noManager)} ${noManager.count === 1 ? 'has' : 'have'} no manager on record`]);
  if (bounced.count) problems.push(['warning', `Mail to ${listSome(bounced)} bounced`]);
  items.push(
    problems.length
      ? item('roster.learner-fields', 'roster', worst(problems.map((p) => p[0])), sentence(problems.map((p) => p[1])), owner)
      : item('roster.learner-fields', 'roster', 'ok', 'Every learner has an email address, a manager and a time zone', owner),
  );
  return items;
}

function hasValidTimes(s: Session): boolean {
  const a = instantOrNaN(s.start);
  const b = instantOrNaN(s.end);
  return !Number.isNaN(a) && !Number.isNaN(b) && b > a;
}

/**
 * Which sessions could put a learner in two places at once: `mine` are this program's timed, scheduled sessions that
 * overlap another such session or one of `others` (scheduled sessions of other programs), `any` every such session
 * overlapping one of this program's. A learner enrolled in none of `mine` cannot be in a learner conflict.
 */
export function overlappingSessions(sessions: Session[], others: Session[]): { mine: string[]; any: string[] } {
  const span = (s: Session) => ({ id: s.id, a: instant(s.start), b: instant(s.end) });
  const mine = sessions.filter((s) => s.status === 'scheduled' && hasValidTimes(s)).map(span);
  const theirs = others.filter((s) => s.status === 'scheduled' && hasValidTimes(s)).map(span);
  const own = new Set(mine.map((x) => x.id));
  // Sweep in start order: each session is compared only with those still running when it starts.
  const all = [...mine, ...theirs].sort((x, y) => x.a - y.a);
  const m = new Set<string>();
  const any = new Set<string>();
  let open: typeof all = [];
  for (const y of all) {
    open = open.filter((x) => x.b > y.a);
    for (const x of open) {
      if (x.id === y.id || !(x.a < y.b && y.a < x.b) || !(own.has(x.id) || own.has(y.id))) continue;
      if (own.has(x.id)) {
        m.add(x.id);
        any.add(y.id);
      }
      if (own.has(y.id)) {
        m.add(y.id);
        any.add(x.id);
      }
    }
    open.push(y);
  }
  return { mine: [...m], any: [...any] };
}

function sessionFieldItem(s: Session, owner: string): ChecklistItem {
  const missing: string[] = [];
  if (!hasValidTimes(s)) missing.push('no valid start and end time');
  if (!validZone(s.zone)) missing.push('no valid time zone');
  if (!s.room && !s.roomEmail && !s.onlineUrl) missing.push('no room or online link');
  if (s.instructors.length === 0) missing.push('no instructor');
  if (!s.backupPlan?.trim()) missing.push('no backup plan');
  if (missing.length === 0) return item(`sessions.${s.id}.fields`, 'sessions', 'ok', `Session '${s.label}' has its time, place, instructor and backup plan`, owner);
  return item(`sessions.${s.id}.fields`, 'sessions', 'blocking', `Session '${s.label}' has ${listNames(missing, 6)}`, owner);
}

function capacityItem(s: Session, facts: RosterFacts, owner: string): ChecklistItem {
  const enrolled = facts.seats[s.id]?.enrolled ?? 0;
  const waiting = facts.seats[s.id]?.waitlisted ?? 0;
  const id = `sessions.${s.id}.capacity`;
  if (enrolled > s.capacity) return item(id, 'sessions', 'blocking', `Session '${s.label}' has ${enrolled} learners for ${plural(s.capacity, 'seat', 'seats')}`, owner);
  if (s.capacity <= 0) return item(id, 'sessions', 'warning', `Session '${s.label}' has no seats`, owner);
  return item(id, 'sessions', 'ok', `Session '${s.label}': ${enrolled} of ${s.capacity} seats taken, ${waiting} waiting`, owner);
}

function instructorConflicts(input: ChecklistInput, mine: Session[], nameOf: (who: string) => string): string[] {
  const others = (input.otherSessions ?? []).filter((s) => s.status === 'scheduled' && s.programId !== input.program.id && hasValidTimes(s));
  const all = [...mine, ...others];
  const found: string[] = [];
  const seen = new Set<string>();
  const busy = new Map(Object.entries(input.busy ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  for (const s of mine) {
    for (const who of s.instructors) {
      const key = who.toLowerCase();
      for (const t of all) {
        if (t.id === s.id || !t.instructors.some((x) => x.toLowerCase() === key) || !overlaps(s, t)) continue;
        const pair = [s.id, t.id].sort().join('|') + key;
        if (seen.has(pair)) continue;
        seen.add(pair);
        found.push(`${nameOf(who)} is in two sessions at once on ${formatDayMonth(s.start, s.zone)} ('${s.label}' and '${t.label}')`);
      }
      // Their calendar also shows Muster's own events for these sessions: an interval equal to one of them is not a conflict.
      const ownTimes = all.filter((t) => t.instructors.some((x) => x.toLowerCase() === key));
      const clash = (busy.get(key) ?? []).find((b) => overlaps(s, b) && !ownTimes.some((t) => sameInterval(t, b)));
      if (clash) found.push(`${nameOf(who)} is busy in their calendar during session '${s.label}' on ${formatDayMonth(s.start, s.zone)}`);
    }
  }
  return found;
}

function learnerConflicts(input: ChecklistInput, mine: Session[], names: Record<string, string>): string[] {
  const sessions = new Map<string, Session>();
  for (const s of [...mine, ...(input.otherSessions ?? []).filter((s) => s.status === 'scheduled' && hasValidTimes(s))]) sessions.set(s.id, s);
  const mineIds = new Set(mine.map((s) => s.id));
  const byLearner = new Map<string, Session[]>();
  for (const e of factsOf(input).conflictEnrollments) {
    const s = sessions.get(e.sessionId);
    if (e.status !== 'enrolled' || !s) continue;
    const list = byLearner.get(e.learnerId) ?? [];
    if (!list.some((x) => x.id === s.id)) list.push(s);
    byLearner.set(e.learnerId, list);
  }
  const found: string[] = [];
  for (const [learnerId, list] of byLearner) {
    list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (!(mineIds.has(a.id) || mineIds.has(b.id)) || !overlaps(a, b)) continue;
        const who = names[learnerId] ?? learnerId;
        found.push(`${who} is in two sessions at once on ${formatDayMonth(a.start, a.zone)} ('${a.label}' and '${b.label}')`);
      }
    }
  }
  return found;
}

function sessionItems(input: ChecklistInput, now: string): ChecklistItem[] {
  const owner = input.program.owner;
  const mine = input.sessions.filter((s) => s.status === 'scheduled');
  const items: ChecklistItem[] = [];
  items.push(
    mine.length
      ? item('sessions.present', 'sessions', 'ok', `${plural(mine.length, 'session is', 'sessions are')} scheduled`, owner)
      : item('sessions.present', 'sessions', 'blocking', 'No session is scheduled yet', owner),
  );
  for (const s of mine) {
    items.push(sessionFieldItem(s, owner));
    items.push(capacityItem(s, factsOf(input), owner));
    if (hasValidTimes(s) && instant(s.start) <= instant(now)) items.push(item(`sessions.${s.id}.past`, 'sessions', 'warning', `Session '${s.label}' has already started`, owner));
  }
  const facts = factsOf(input);
  const people = new Map(Object.entries(input.people ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [email, name] of Object.entries(facts.people)) if (!people.has(email)) people.set(email, name);
  const nameOf = (who: string) => people.get(who.toLowerCase()) ?? who;
  const timed = mine.filter(hasValidTimes);
  const ic = instructorConflicts(input, timed, nameOf);
  items.push(
    ic.length
      ? item('sessions.instructor-conflicts', 'sessions', 'blocking', sentence(ic), owner)
      : item('sessions.instructor-conflicts', 'sessions', 'ok', 'No instructor is booked twice', owner),
  );
  const lc = learnerConflicts(input, timed, facts.conflictNames);
  items.push(
    lc.length
      ? item('sessions.learner-conflicts', 'sessions', 'blocking', sentence(lc), owner)
      : item('sessions.learner-conflicts', 'sessions', 'ok', 'No learner is in two sessions at once', owner),
  );
  return items;
}

function materialItems(program: Program, now: string): ChecklistItem[] {
  const items: ChecklistItem[] = [];
  if (program.materials.length === 0) {
    items.push(item('materials.present', 'materials', 'warning', 'The program lists no materials, prerequisites or access requirements', program.owner));
  }
  const today = program.materials.length > 0 ? parseInstant(now).startOf('day') : null;
  program.materials.forEach((m, i) => {
    const problems: Array<[CheckStatus, string]> = [];
    if (!m.link) problems.push(['blocking', 'has no link']);
    if (!m.owner) problems.push(['warning', 'has no owner']);
    if (!m.lastReviewed) problems.push(['warning', 'has never been reviewed']);
    else {
      const age = isValidInstant(m.lastReviewed) ? Math.floor(today!.diff(parseInstant(m.lastReviewed).startOf('day'), 'days').days) : Infinity;
      if (age > program.reviewWindowDays) problems.push(['warning', `was last reviewed on ${m.lastReviewed}, more than ${program.reviewWindowDays} days ago`]);
    }
    items.push(
      problems.length
        ? item(`materials.${i}`, 'materials', worst(problems.map((p) => p[0])), `'${m.title}' ${listNames(problems.map((p) => p[1]), 4)}`, m.owner ?? program.owner)
        : item(`materials.${i}`, 'materials', 'ok', `'${m.title}' is linked, owned by ${m.owner} and reviewed on ${m.lastReviewed}`, m.owner),
    );
  });
  return items;
}

function scheduleItems(input: ChecklistInput, now: string): ChecklistItem[] {
  const { program } = input;
  const p = program.policy;
  const owner = program.owner;
  const items: ChecklistItem[] = [];
  const queued = input.scheduledJobKinds ? new Set(input.scheduledJobKinds) : null;
  const upcoming = input.sessions.some((s) => s.status === 'scheduled' && hasValidTimes(s) && instant(s.start) > instant(now));
  const someoneEnrolled = Object.values(factsOf(input).seats).some((s) => s.enrolled > 0);
  const expectQueued = program.status === 'launched' && queued !== null && upcoming && someoneEnrolled;

  if (p.offsetsMinutes.length === 0) {
    items.push(item('schedule.reminders', 'schedule', 'warning', 'No reminders are set before sessions', owner));
  } else if (expectQueued && !queued!.has('reminder') && !queued!.has('catch-up')) {
    items.push(item('schedule.reminders', 'schedule', 'blocking', 'Reminders are set up but none are queued for the coming sessions', owner));
  } else {
    const offsets = [...p.offsetsMinutes].sort((a, b) => b - a).map(describeOffset);
    const quiet = p.quietHours ? `, never during quiet hours ${p.quietHours.start}-${p.quietHours.end} in the learner's time zone` : '';
    items.push(item('schedule.reminders', 'schedule', 'ok', `Reminders go out ${listNames(offsets, 10)} before each session${quiet}`, owner));
  }

  if (program.materials.some((m) => m.kind !== 'material')) {
    items.push(
      p.prerequisiteMinutes == null
        ? item('schedule.prerequisites', 'schedule', 'warning', 'The program has prerequisites but no prerequisite reminder', owner)
        : item('schedule.prerequisites', 'schedule', 'ok', `Learners are reminded of the prerequisites ${describeOffset(p.prerequisiteMinutes)} before their first session`, owner),
    );
  }

  if (p.followUpMinutes == null) {
    items.push(item('schedule.follow-ups', 'schedule', 'warning', 'No follow-up is sent after sessions', owner));
  } else if (expectQueued && !queued!.has('follow-up')) {
    items.push(item('schedule.follow-ups', 'schedule', 'blocking', 'Follow-ups are set up but none are queued', owner));
  } else {
    items.push(item('schedule.follow-ups', 'schedule', 'ok', `A follow-up goes out ${describeOffset(p.followUpMinutes)} after each session`, owner));
  }

  if (p.completionDueDays == null) {
    items.push(item('schedule.completion', 'schedule', 'warning', 'Completion is not tracked: no due date is set', owner));
  } else {
    const esc = p.escalateAfterDays === 0 ? 'on the due date' : `${plural(p.escalateAfterDays, 'day', 'days')} after it`;
    items.push(item('schedule.completion', 'schedule', 'ok', `Completion is due ${plural(p.completionDueDays, 'day', 'days')} after the last session; managers hear about overdue learners ${esc}`, owner));
  }

  items.push(
    p.digest
      ? item('schedule.manager-reports', 'schedule', 'ok', `Managers get a status digest on ${WEEKDAYS[p.digest.weekday - 1] ?? `day ${p.digest.weekday}`} at ${String(p.digest.hour).padStart(2, '0')}:00`, owner)
      : item('schedule.manager-reports', 'schedule', 'warning', 'Managers get no status digest', owner),
  );
  return items;
}

const OWNER_ITEMS: Array<{ key: keyof Program['owners']; what: string; missing: CheckStatus }> = [
  { key: 'missedSessions', what: 'missed sessions', missing: 'blocking' },
  { key: 'lateCompletions', what: 'late completions', missing: 'blocking' },
  { key: 'questions', what: 'learner questions', missing: 'warning' },
  { key: 'improvements', what: 'improvement notes', missing: 'warning' },
];

function ownerItems(input: ChecklistInput): ChecklistItem[] {
  const { program } = input;
  const items = OWNER_ITEMS.map(({ key, what, missing }) => {
    const who = program.owners[key];
    return who
      ? item(`owners.${key}`, 'owners', 'ok', `${what[0]!.toUpperCase()}${what.slice(1)} are handled by ${who}`, program.owner)
      : item(`owners.${key}`, 'owners', missing, `Nobody owns ${what}`, program.owner);
  });
  for (const n of (input.improvementNotes ?? []).filter((n) => n.status === 'open')) {
    const owner = n.owner ?? program.owners.improvements;
    items.push(item(`notes.${n.groupKey}`, 'owners', 'warning', owner ? n.text : `${n.text}, and nobody owns this note`, owner));
  }
  return items;
}

function sendingItems(input: ChecklistInput): ChecklistItem[] {
  return (input.mailboxes ?? []).map(({ mailbox, dailyUsedFraction }) => {
    const pct = Math.round(dailyUsedFraction * 100);
    return dailyUsedFraction >= DAILY_BUDGET_BLOCKING_FRACTION
      ? item(`sending.${mailbox}`, 'sending', 'blocking', `The mailbox ${mailbox} has used ${pct}% of its daily sending budget`, input.program.owner)
      : item(`sending.${mailbox}`, 'sending', 'ok', `The mailbox ${mailbox} has used ${pct}% of its daily sending budget`, input.program.owner);
  });
}

/**
 * The launch checklist for a program at `now`. Ids are stable (roster.approved, roster.learner-fields,
 * sessions.<id>.fields, sessions.<id>.capacity, sessions.instructor-conflicts, sessions.learner-conflicts,
 * materials.<index>, schedule.reminders, owners.missedSessions, notes.<groupKey>, naming.<...>, sending.<mailbox>, and
 * the provider items' own ids), so a sign-off sticks to its item. A signed-off item stays in the list, keeps its reason
 * and signedOff, and counts as ok.
 */
export function computeChecklist(input: ChecklistInput, now: Date | string): ChecklistItem[] {
  const nowIso = normalizeInstant(now, 'now');
  const items: ChecklistItem[] = [
    ...rosterItems(input),
    ...sessionItems(input, nowIso),
    ...materialItems(input.program, nowIso),
    ...scheduleItems(input, nowIso),
    ...ownerItems(input),
    ...(input.observedNames ? findNamingDrift(input.program, input.observedNames, input.sessions) : []),
    ...sendingItems(input),
    ...(input.providerItems ?? []).map((p) => ({ ...p, area: p.area ?? ('provider' as const), signedOff: p.signedOff ?? null })),
  ];
  const signoffs = input.signoffs ?? {};
  // Most checklists have no sign-off: looking up every item's id (hundreds, freshly built strings) would cost more than the rest.
  if (Object.keys(signoffs).length === 0) return items;
  return items.map((it) => {
    const s = signoffs[it.id];
    return s ? { ...it, status: 'ok' as const, signedOff: { by: s.by, note: s.note, at: s.at } } : it;
  });
}

export interface LaunchDecision {
  /** True when blocking items were overridden with a reason (the caller logs it). */
  forced: boolean;
  /** The blocking items a forced launch went past. */
  overridden: ChecklistItem[];
}

/**
 * Throws LAUNCH_BLOCKED listing every blocking item (details: field = item id, message = reason) unless `force` is
 * set with a non-empty reason; a force without a reason is VALIDATION_FAILED.
 */
export function assertLaunchable(items: ChecklistItem[], force = false, reason?: string | null): LaunchDecision {
  const blocking = items.filter((i) => i.status === 'blocking');
  if (blocking.length === 0) return { forced: false, overridden: [] };
  if (!force) {
    throw new MusterError('LAUNCH_BLOCKED', `The program cannot launch: ${plural(blocking.length, 'item is', 'items are')} blocking (${blocking.map((b) => b.reason).join('; ')})`, {
      details: blocking.map((b) => ({ field: b.id, message: b.reason })),
    });
  }
  if (!reason?.trim()) {
    throw new MusterError('VALIDATION_FAILED', 'A forced launch needs a reason', { details: [{ field: 'reason', message: 'required when forcing a launch past blocking items' }] });
  }
  return { forced: true, overridden: blocking };
}

/** Counts per status, for status lines and the records' Checklist tab header. */
export function checklistSummary(items: ChecklistItem[]): Record<CheckStatus, number> & { signedOff: number } {
  const out = { ok: 0, warning: 0, blocking: 0, signedOff: 0 };
  for (const i of items) {
    out[i.status]++;
    if (i.signedOff) out.signedOff++;
  }
  return out;
}
