// Canonical names for everything a learner or manager sees (subjects, tabs, materials, assessments) and drift detection; builds text only, never reads providers.
import type { ChecklistItem, Material, Program, Session } from './types.js';
import { baseLanguage } from './time.js';

/** Every kind of message Muster writes; templates.ts holds a body for each. */
export const MESSAGE_KINDS = [
  'invite',
  'reminder',
  'prerequisite',
  'catch-up',
  'follow-up-present',
  'follow-up-absent',
  'completion-due',
  'escalation',
  'recertify',
  'digest',
  'session-moved',
  'session-cancelled',
  'waitlist-promoted',
  'nudge',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

type ProgramName = Pick<Program, 'name' | 'code'>;

const DASH = ' — ';

/** What each message is called in a subject, per language. */
const SUBJECT_LABELS: Record<string, Record<MessageKind, string>> = {
  en: {
    invite: 'Invitation',
    reminder: 'Reminder',
    prerequisite: 'Before you start',
    'catch-up': 'What you need to know',
    'follow-up-present': 'Thank you for attending',
    'follow-up-absent': 'We missed you',
    'completion-due': 'Completion due',
    escalation: 'Overdue completion',
    recertify: 'Recertification due',
    digest: 'Weekly status',
    'session-moved': 'Session moved',
    'session-cancelled': 'Session cancelled',
    'waitlist-promoted': 'You have a seat',
    nudge: 'A reminder from your coordinator',
  },
  de: {
    invite: 'Einladung',
    reminder: 'Erinnerung',
    prerequisite: 'Vor dem Start',
    'catch-up': 'Was Sie wissen müssen',
    'follow-up-present': 'Danke für Ihre Teilnahme',
    'follow-up-absent': 'Wir haben Sie vermisst',
    'completion-due': 'Abschluss fällig',
    escalation: 'Abschluss überfällig',
    recertify: 'Rezertifizierung fällig',
    digest: 'Wochenstatus',
    'session-moved': 'Termin verschoben',
    'session-cancelled': 'Termin abgesagt',
    'waitlist-promoted': 'Sie haben einen Platz',
    nudge: 'Eine Erinnerung Ihrer Koordination',
  },
};

/** "[SEC101] Security Basics": the prefix every name starts with. */
export function canonicalName(program: ProgramName): string {
  return `[${program.code}] ${program.name}`;
}

/** Removes a canonical prefix someone already typed, so names never double it. */
function withoutPrefix(program: ProgramName, text: string): string {
  const prefix = canonicalName(program);
  let t = text.trim();
  if (t.startsWith(prefix)) t = t.slice(prefix.length).replace(/^\s*[—–:-]\s*/, '').trim();
  return t;
}

/** "[SEC101] Security Basics — Cohort A": the calendar event's subject for a session. */
export function inviteSubject(program: ProgramName, session: Pick<Session, 'label'>): string {
  const label = withoutPrefix(program, session.label);
  return label ? `${canonicalName(program)}${DASH}${label}` : canonicalName(program);
}

/** "[SEC101] Security Basics — Reminder: Cohort A": a mail subject; the session label is added when the message is about one session. */
export function mailSubject(program: ProgramName, kind: MessageKind, language = 'en', sessionLabel?: string | null): string {
  const label = SUBJECT_LABELS[baseLanguage(language)]![kind];
  const session = sessionLabel ? withoutPrefix(program, sessionLabel) : '';
  return `${canonicalName(program)}${DASH}${label}${session ? `: ${session}` : ''}`;
}

/** Characters Excel refuses in sheet names (Google accepts them, but one rule for both keeps tabs portable). */
const TAB_FORBIDDEN = /[[\]:*?/\\]/g;
const TAB_MAX = 31;

/** "SEC101 Roster": a records tab title for a program; Excel-safe (no []:*?/\, at most 31 characters). */
export function tabTitle(program: Pick<Program, 'code'>, tab: string): string {
  const title = `${program.code} ${tab}`.replace(TAB_FORBIDDEN, ' ').replace(/\s+/g, ' ').trim();
  return title.length <= TAB_MAX ? title : title.slice(0, TAB_MAX).trimEnd();
}

/** "[SEC101] Security Basics — VPN guide": a material's title as learners see it. */
export function materialTitle(program: ProgramName, material: Pick<Material, 'title'>): string {
  const t = withoutPrefix(program, material.title);
  return t ? `${canonicalName(program)}${DASH}${t}` : canonicalName(program);
}

/** "[SEC101] Security Basics — Assessment" (or the program's own assessment label after the dash). */
export function assessmentName(program: ProgramName & Pick<Program, 'assessmentName'>): string {
  const t = program.assessmentName ? withoutPrefix(program, program.assessmentName) : '';
  return `${canonicalName(program)}${DASH}${t || 'Assessment'}`;
}

/** Names as read back from the providers, compared with the canonical ones. */
export interface ObservedNames {
  /** Subjects of the sessions' calendar events. */
  inviteSubjects?: Array<{ sessionId: string; subject: string }>;
  /** Subjects of sent mail, by the key Muster logged them under. */
  mailSubjects?: Array<{ key: string; subject: string }>;
  /** Tab titles found in the program's records workbook, by Muster's tab name (e.g. "Roster"). */
  tabTitles?: Array<{ tab: string; title: string }>;
  /** Material titles as they appear where learners find them, by index in program.materials. */
  materialTitles?: Array<{ index: number; title: string }>;
  /** The assessment's name in the assessment tool; null when there is none yet. */
  assessmentName?: string | null;
}

function namingItem(id: string, expected: string, observed: string, what: string, owner: string): ChecklistItem {
  const ok = observed.trim() === expected;
  return {
    id,
    area: 'naming',
    status: ok ? 'ok' : 'warning',
    reason: ok ? `${what} is named "${expected}"` : `${what} is called "${observed}" instead of "${expected}"`,
    owner,
    signedOff: null,
  };
}

/**
 * Checklist items for names that drifted from the canonical ones (for example an invite subject edited by hand).
 * Ids: naming.invite.<sessionId>, naming.mail.<key>, naming.tab.<tab>, naming.material.<index>, naming.assessment.
 * Mail subjects only need to start with the canonical prefix, since their tails vary with kind and language.
 */
export function findNamingDrift(program: Program, observed: ObservedNames, sessions: Session[] = []): ChecklistItem[] {
  const items: ChecklistItem[] = [];
  const owner = program.owner;
  const byId = new Map(sessions.map((s) => [s.id, s]));
  for (const o of observed.inviteSubjects ?? []) {
    const s = byId.get(o.sessionId);
    if (!s) continue;
    items.push(namingItem(`naming.invite.${o.sessionId}`, inviteSubject(program, s), o.subject, `The invite for session '${s.label}'`, owner));
  }
  const prefix = canonicalName(program);
  for (const o of observed.mailSubjects ?? []) {
    const ok = o.subject.trim().startsWith(prefix);
    items.push({
      id: `naming.mail.${o.key}`,
      area: 'naming',
      status: ok ? 'ok' : 'warning',
      reason: ok ? `A message subject starts with "${prefix}"` : `The message subject "${o.subject}" does not start with "${prefix}"`,
      owner,
      signedOff: null,
    });
  }
  for (const o of observed.tabTitles ?? []) {
    items.push(namingItem(`naming.tab.${o.tab}`, tabTitle(program, o.tab), o.title, `The ${o.tab} tab`, owner));
  }
  for (const o of observed.materialTitles ?? []) {
    const m = program.materials[o.index];
    if (!m) continue;
    items.push(namingItem(`naming.material.${o.index}`, materialTitle(program, m), o.title, `The material '${m.title}'`, m.owner ?? owner));
  }
  if (observed.assessmentName != null) {
    items.push(namingItem('naming.assessment', assessmentName(program), observed.assessmentName, 'The assessment', owner));
  }
  return items;
}
