// A program whose people typed hostile text everywhere it reaches a records tab, run through the real service, and where each such value should land.
import { expect } from 'vitest';
import type { TestService } from '../support/service.js';

/** One payload per dangerous start (= + - @ tab CR) and a script element. */
export const PAYLOADS = ['=HYPERLINK("http://evil.example","x")', '=1+1', '+1+1', '-1+1', '@SUM(1)', '\t=1+1', '\r=1+1', '<script>alert(1)</script>'] as const;

/** Text a spreadsheet would take for a formula, or that holds markup. */
export const HOSTILE_START = /^[=+\-@\t\r]/;
export const isHostile = (s: string): boolean => HOSTILE_START.test(s) || s.includes('<script>');

const p = (i: number): string => PAYLOADS[i % PAYLOADS.length]!;

/** Valid addresses whose local part starts like a formula (+ and - are allowed there). */
export const HOSTILE_MANAGERS = ['+1+1@acme.example', '-1+1@acme.example'];
export const HOSTILE_LEARNER_EMAILS = ['-boss+1@acme.example', '+sum-1@acme.example'];

/** (tab, column) → the exact texts that must sit there as inert strings. */
export type Expected = Map<string, Set<string>>;

const at = (exp: Expected, tab: string, column: string, text: string | null | undefined): void => {
  if (!text) return;
  const k = `${tab}\u0000${column}`;
  if (!exp.has(k)) exp.set(k, new Set());
  exp.get(k)!.add(text);
};

export function expectedEntries(exp: Expected): Array<{ tab: string; column: string; text: string }> {
  return [...exp].flatMap(([k, texts]) => {
    const [tab, column] = k.split('\u0000') as [string, string];
    return [...texts].map((text) => ({ tab, column, text }));
  });
}

/**
 * Creates and launches program `code` with hostile session labels, rooms and program name; learners with hostile names,
 * departments, languages, manager and learner addresses; rows rejected for hostile cells; hostile questions and
 * sign-off notes. Returns nothing: what Muster stored is read back by `expectedFromApi`.
 */
export async function seedHostileProgram(svc: TestService, code: string, domain: string): Promise<void> {
  const day = (d: number) => `2027-09-${String(d).padStart(2, '0')}`;
  const sessions = [0, 3, 4].map((k, i) => ({
    label: p(k),
    start: `${day(6 + i)}T09:00`,
    end: `${day(6 + i)}T12:00`,
    zone: 'Europe/Berlin',
    room: p(k + 2),
    backupPlan: p(k + 5),
    instructors: [`ines@${domain}`],
    capacity: 100,
  }));
  const created = await svc.api('POST', '/api/programs', { name: p(2), code, owner: `coord@${domain}`, sessions });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const labels = sessions.map((s) => s.label);
  const learners: Array<Record<string, string>> = PAYLOADS.map((name, i) => ({
    Email: `hostile${i}@${domain}`,
    Name: name,
    'Manager Email': i < HOSTILE_MANAGERS.length ? HOSTILE_MANAGERS[i]! : `boss@${domain}`,
    Department: p(i + 1),
    Session: labels[i % labels.length]!,
    'Time Zone': 'Europe/Berlin',
  }));
  HOSTILE_LEARNER_EMAILS.forEach((email, i) => learners.push({ Email: email, Name: `Plain ${i}`, 'Manager Email': `boss@${domain}`, Session: labels[0]!, 'Time Zone': 'Europe/Berlin' }));
  // Rows that are refused stay on the Roster tab as typed, with the reason: every cell of theirs is hostile too.
  PAYLOADS.forEach((text, i) => learners.push({ Email: text, Name: p(i + 1), 'Manager Email': p(i + 2), Department: p(i + 3), Session: p(i + 4), 'Time Zone': p(i + 5) }));
  const roster = await svc.api('POST', `/api/programs/${code}/roster`, { learners });
  expect(roster.status, JSON.stringify(roster.body)).toBe(200);
  expect(roster.body.imported, JSON.stringify(roster.body)).toBe(PAYLOADS.length + HOSTILE_LEARNER_EMAILS.length);
  const launch = await svc.api('POST', `/api/programs/${code}/launch`, { force: true, reason: 'hostile text test' });
  expect(launch.status, JSON.stringify(launch.body)).toBe(200);
  await svc.runDue();
  // Each question twice, so the groups (whose text is a question's) reach the Group column too.
  for (const [i, text] of PAYLOADS.entries()) {
    for (const who of [`hostile${i}@${domain}`, HOSTILE_LEARNER_EMAILS[i % 2]!]) {
      const q = await svc.api('POST', `/api/programs/${code}/questions`, { text, learnerEmail: who });
      expect(q.status, JSON.stringify(q.body)).toBe(201);
    }
  }
  await signOffSome(svc, code, 0);
}

/** Signs off checklist items not yet signed off, with hostile notes starting at payload `from`. */
export async function signOffSome(svc: TestService, code: string, from: number): Promise<number> {
  const checklist = await svc.api('GET', `/api/programs/${code}/checklist`);
  const open = (checklist.body.items as Array<{ id: string; signedOff?: unknown }>).filter((i) => !i.signedOff).slice(0, 4);
  for (const [n, item] of open.entries()) {
    const r = await svc.api('POST', `/api/programs/${code}/checklist/${encodeURIComponent(item.id)}/signoff`, { note: p(from + n) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  return open.length;
}

/** Renames the hostile learners to the next payload, so the next sync rewrites rows that already exist. */
export async function renameHostileLearners(svc: TestService, code: string, domain: string): Promise<void> {
  const learners = PAYLOADS.map((_, i) => ({
    Email: `hostile${i}@${domain}`,
    Name: p(i + 3),
    'Manager Email': i < HOSTILE_MANAGERS.length ? HOSTILE_MANAGERS[(i + 1) % HOSTILE_MANAGERS.length]! : `boss@${domain}`,
    Department: p(i + 6),
    'Time Zone': 'Europe/Berlin',
  }));
  const r = await svc.api('POST', `/api/programs/${code}/roster`, { learners });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

/** Where each hostile text Muster holds now must appear, from Muster's own API (so trimming rules are Muster's, not the test's). */
export async function expectedFromApi(svc: TestService, code: string): Promise<Expected> {
  const exp: Expected = new Map();
  const program = (await svc.api('GET', `/api/programs/${code}`)).body;
  const sessions = program.sessions as Array<{ id: string; label: string; room: string | null }>;
  const label = new Map(sessions.map((s) => [s.id, s.label]));
  for (const s of sessions) {
    at(exp, 'Sessions', 'Session', s.label);
    at(exp, 'Sessions', 'Room', s.room);
  }
  at(exp, 'Sessions', 'Program', program.name);
  const roster = (await svc.api('GET', `/api/programs/${code}/roster`)).body;
  for (const l of roster.learners as Array<{ email: string; name: string; managerEmail: string | null; department: string | null; language: string; enrollments: Array<{ sessionId: string; status: string }> }>) {
    for (const tab of ['Roster', 'Completion']) {
      at(exp, tab, 'Email', l.email);
      at(exp, tab, 'Name', l.name);
      at(exp, tab, 'Manager Email', l.managerEmail);
      at(exp, tab, 'Department', l.department);
    }
    at(exp, 'Managers', 'Manager Email', l.managerEmail);
    at(exp, 'Roster', 'Language', l.language);
    const active = l.enrollments.filter((e) => e.status !== 'cancelled');
    at(exp, 'Roster', 'Session', active.map((e) => label.get(e.sessionId) ?? e.sessionId).join('; '));
    if (active.length > 0) {
      at(exp, 'Attendance', 'Email', l.email);
      at(exp, 'Attendance', 'Name', l.name);
      at(exp, 'Attendance', 'Manager Email', l.managerEmail);
      for (const e of active) at(exp, 'Attendance', 'Session', label.get(e.sessionId));
    }
  }
  for (const r of roster.rejected as Array<{ data: Record<string, string> }>) {
    const get = (...names: string[]) => Object.entries(r.data).find(([k]) => names.includes(k.trim().toLowerCase()))?.[1];
    at(exp, 'Roster', 'Email', get('email', 'e-mail', 'email address'));
    at(exp, 'Roster', 'Name', get('name', 'full name'));
    at(exp, 'Roster', 'Manager Email', get('manager email', 'manager', 'manageremail'));
    at(exp, 'Roster', 'Department', get('department', 'dept'));
    at(exp, 'Roster', 'Time Zone', get('time zone', 'timezone', 'zone', 'tz'));
    at(exp, 'Roster', 'Session', get('session', 'sessions', 'session id'));
  }
  const questions = (await svc.api('GET', `/api/programs/${code}/questions`)).body;
  for (const q of questions.questions as Array<{ text: string; learnerEmail: string | null }>) {
    at(exp, 'Questions', 'Question', q.text);
    at(exp, 'Questions', 'Learner Email', q.learnerEmail);
  }
  for (const g of questions.groups as Array<{ text: string }>) at(exp, 'Questions', 'Group', g.text);
  const checklist = (await svc.api('GET', `/api/programs/${code}/checklist`)).body;
  for (const i of checklist.items as Array<{ signedOff?: { note: string } | null }>) at(exp, 'Checklist', 'Note', i.signedOff?.note);
  // Keep only what is hostile: the plain values around them are not this test's subject.
  for (const [k, texts] of exp) {
    for (const t of texts) if (!isHostile(t)) texts.delete(t);
    if (texts.size === 0) exp.delete(k);
  }
  return exp;
}
