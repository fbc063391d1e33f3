// Message templates (defaults per language, coordinator overrides) and their rendering to subject, text and escaped HTML; never sends or stores them.
import type { Learner, Program, Session } from './types.js';
import { MusterError } from './errors.js';
import { MESSAGE_KINDS, assessmentName, inviteSubject, mailSubject, type MessageKind } from './naming.js';
import { formatLocal } from './time.js';

export { MESSAGE_KINDS, type MessageKind };

/** Every placeholder a template may use: `{{name}}` inserts a value, `{{#name}}...{{/name}}` shows its text only when name has a value. */
export const PLACEHOLDERS = [
  'learnerName',
  'learnerEmail',
  'programName',
  'programCode',
  'agenda',
  'sessionLabel',
  'sessionTime',
  'sessionEnd',
  'previousSessionTime',
  'location',
  'onlineUrl',
  'backupPlan',
  'lead',
  'materials',
  'prerequisites',
  'assessmentName',
  'assessmentLink',
  'nextStep',
  'nextSessionLabel',
  'nextSessionTime',
  'enrollLink',
  'dueDate',
  'expiryDate',
  'managerName',
  'digest',
  'reason',
  'message',
  'acceptUrl',
  'tentativeUrl',
  'declineUrl',
  'coordinatorName',
  'coordinatorEmail',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Values for one message; times are already formatted in the reader's zone and language (time.ts formatLocal). */
export type TemplateVars = Partial<Record<Placeholder, string | null>> & { programName: string; programCode: string };

/** Coordinator-edited bodies: kind → language ("en", "de", ...) → template text. */
export type TemplateOverrides = Partial<Record<MessageKind, Record<string, string>>>;

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
  /** The language actually used (the learner's, or English when there is no template in it). */
  language: string;
}

const KNOWN = new Set<string>(PLACEHOLDERS);

/** Kinds about one session: their subject names the session. */
const SESSION_KINDS = new Set<MessageKind>(['invite', 'reminder', 'prerequisite', 'catch-up', 'follow-up-present', 'follow-up-absent', 'session-moved', 'session-cancelled', 'waitlist-promoted']);

const RSVP_EN = '{{#acceptUrl}}\n\nWill you be there? Accept: {{acceptUrl}}{{/acceptUrl}}{{#tentativeUrl}}\nMaybe: {{tentativeUrl}}{{/tentativeUrl}}{{#declineUrl}}\nDecline: {{declineUrl}}{{/declineUrl}}';
const RSVP_DE = '{{#acceptUrl}}\n\nSind Sie dabei? Zusagen: {{acceptUrl}}{{/acceptUrl}}{{#tentativeUrl}}\nVielleicht: {{tentativeUrl}}{{/tentativeUrl}}{{#declineUrl}}\nAbsagen: {{declineUrl}}{{/declineUrl}}';
const WHERE_EN = '{{#location}}\nWhere: {{location}}{{/location}}{{#onlineUrl}}\nJoin online: {{onlineUrl}}{{/onlineUrl}}';
const WHERE_DE = '{{#location}}\nOrt: {{location}}{{/location}}{{#onlineUrl}}\nOnline teilnehmen: {{onlineUrl}}{{/onlineUrl}}';
const SIGN_EN = '\n\n{{#coordinatorName}}{{coordinatorName}}, {{/coordinatorName}}{{programName}} coordination';
const SIGN_DE = '\n\n{{#coordinatorName}}{{coordinatorName}}, {{/coordinatorName}}Koordination {{programName}}';

export const DEFAULT_TEMPLATES: Record<'en' | 'de', Record<MessageKind, string>> = {
  en: {
    invite:
      'Hello {{learnerName}},\n\nYou are enrolled in {{programName}} ({{programCode}}), {{sessionLabel}}.\n\nWhen: {{sessionTime}}' +
      WHERE_EN +
      '{{#agenda}}\n\nWhat we will cover: {{agenda}}{{/agenda}}{{#prerequisites}}\n\nPlease prepare:\n{{prerequisites}}{{/prerequisites}}{{#backupPlan}}\n\nIf something goes wrong on the day: {{backupPlan}}{{/backupPlan}}' +
      RSVP_EN +
      SIGN_EN,
    reminder: 'Hello {{learnerName}},\n\n{{programName}}, {{sessionLabel}}, starts {{lead}}.\n\nWhen: {{sessionTime}}' + WHERE_EN + '{{#materials}}\n\nMaterials:\n{{materials}}{{/materials}}' + RSVP_EN + SIGN_EN,
    prerequisite:
      'Hello {{learnerName}},\n\nBefore {{programName}}, {{sessionLabel}} ({{sessionTime}}), please complete the following:\n{{prerequisites}}\n\nIf anything does not work, reply to this message so we can sort it out before the session.' +
      SIGN_EN,
    'catch-up':
      'Hello {{learnerName}},\n\nWelcome to {{programName}}, {{sessionLabel}}. Here is everything you need before it starts.\n\nWhen: {{sessionTime}}' +
      WHERE_EN +
      '{{#prerequisites}}\n\nPlease prepare:\n{{prerequisites}}{{/prerequisites}}{{#materials}}\n\nMaterials:\n{{materials}}{{/materials}}' +
      RSVP_EN +
      SIGN_EN,
    'follow-up-present':
      'Hello {{learnerName}},\n\nThank you for attending {{programName}}, {{sessionLabel}}.{{#assessmentLink}}\n\nPlease complete {{assessmentName}}: {{assessmentLink}}{{/assessmentLink}}{{#nextStep}}\n\nNext step: {{nextStep}}{{/nextStep}}{{#dueDate}}\n\nPlease complete the program by {{dueDate}}.{{/dueDate}}{{#materials}}\n\nMaterials:\n{{materials}}{{/materials}}' +
      SIGN_EN,
    'follow-up-absent':
      'Hello {{learnerName}},\n\nWe missed you at {{programName}}, {{sessionLabel}}.{{#nextSessionTime}}\n\nThe next session with free seats is {{nextSessionLabel}} on {{nextSessionTime}}.{{/nextSessionTime}}{{#enrollLink}}\n\nTo take a seat: {{enrollLink}}{{/enrollLink}}' +
      SIGN_EN,
    'completion-due':
      'Hello {{learnerName}},\n\n{{programName}} is due to be completed by {{dueDate}}.{{#assessmentLink}}\n\nComplete {{assessmentName}} here: {{assessmentLink}}{{/assessmentLink}}' + SIGN_EN,
    escalation:
      'Hello {{#managerName}}{{managerName}}{{/managerName}},\n\n{{learnerName}} has not yet completed {{programName}}, which was due on {{dueDate}}.\n\nA word from you usually helps. If there is a reason, please let us know.' +
      SIGN_EN,
    recertify:
      'Hello {{learnerName}},\n\nYour {{programName}} completion expires on {{expiryDate}}. Please recertify before then.{{#enrollLink}}\n\nChoose a session: {{enrollLink}}{{/enrollLink}}' + SIGN_EN,
    digest: 'Hello {{#managerName}}{{managerName}}{{/managerName}},\n\nHere is where your people stand in {{programName}}:\n\n{{digest}}' + SIGN_EN,
    'session-moved':
      'Hello {{learnerName}},\n\n{{programName}}, {{sessionLabel}}, has moved.{{#previousSessionTime}}\n\nWas: {{previousSessionTime}}{{/previousSessionTime}}\nNow: {{sessionTime}}' +
      WHERE_EN +
      '\n\nYour calendar entry has been updated.' +
      RSVP_EN +
      SIGN_EN,
    'session-cancelled':
      'Hello {{learnerName}},\n\n{{programName}}, {{sessionLabel}} on {{sessionTime}}, has been cancelled.{{#reason}}\n\n{{reason}}{{/reason}}{{#enrollLink}}\n\nChoose another session: {{enrollLink}}{{/enrollLink}}' +
      SIGN_EN,
    'waitlist-promoted':
      'Hello {{learnerName}},\n\nGood news: a seat has opened in {{programName}}, {{sessionLabel}}, and it is yours.\n\nWhen: {{sessionTime}}' + WHERE_EN + RSVP_EN + SIGN_EN,
    nudge: 'Hello {{learnerName}},\n\n{{message}}' + SIGN_EN,
  },
  de: {
    invite:
      'Hallo {{learnerName}},\n\nSie sind für {{programName}} ({{programCode}}), {{sessionLabel}}, angemeldet.\n\nWann: {{sessionTime}}' +
      WHERE_DE +
      '{{#agenda}}\n\nInhalte: {{agenda}}{{/agenda}}{{#prerequisites}}\n\nBitte bereiten Sie vor:\n{{prerequisites}}{{/prerequisites}}{{#backupPlan}}\n\nFalls am Tag etwas schiefgeht: {{backupPlan}}{{/backupPlan}}' +
      RSVP_DE +
      SIGN_DE,
    reminder: 'Hallo {{learnerName}},\n\n{{programName}}, {{sessionLabel}}, beginnt {{lead}}.\n\nWann: {{sessionTime}}' + WHERE_DE + '{{#materials}}\n\nUnterlagen:\n{{materials}}{{/materials}}' + RSVP_DE + SIGN_DE,
    prerequisite:
      'Hallo {{learnerName}},\n\nBitte erledigen Sie vor {{programName}}, {{sessionLabel}} ({{sessionTime}}), Folgendes:\n{{prerequisites}}\n\nWenn etwas nicht funktioniert, antworten Sie bitte auf diese Nachricht, damit wir es vor dem Termin klären können.' +
      SIGN_DE,
    'catch-up':
      'Hallo {{learnerName}},\n\nwillkommen bei {{programName}}, {{sessionLabel}}. Hier ist alles, was Sie vor dem Start brauchen.\n\nWann: {{sessionTime}}' +
      WHERE_DE +
      '{{#prerequisites}}\n\nBitte bereiten Sie vor:\n{{prerequisites}}{{/prerequisites}}{{#materials}}\n\nUnterlagen:\n{{materials}}{{/materials}}' +
      RSVP_DE +
      SIGN_DE,
    'follow-up-present':
      'Hallo {{learnerName}},\n\ndanke für Ihre Teilnahme an {{programName}}, {{sessionLabel}}.{{#assessmentLink}}\n\nBitte absolvieren Sie {{assessmentName}}: {{assessmentLink}}{{/assessmentLink}}{{#nextStep}}\n\nNächster Schritt: {{nextStep}}{{/nextStep}}{{#dueDate}}\n\nBitte schließen Sie das Programm bis {{dueDate}} ab.{{/dueDate}}{{#materials}}\n\nUnterlagen:\n{{materials}}{{/materials}}' +
      SIGN_DE,
    'follow-up-absent':
      'Hallo {{learnerName}},\n\nwir haben Sie bei {{programName}}, {{sessionLabel}}, vermisst.{{#nextSessionTime}}\n\nDer nächste Termin mit freien Plätzen ist {{nextSessionLabel}} am {{nextSessionTime}}.{{/nextSessionTime}}{{#enrollLink}}\n\nZur Anmeldung: {{enrollLink}}{{/enrollLink}}' +
      SIGN_DE,
    'completion-due':
      'Hallo {{learnerName}},\n\n{{programName}} muss bis {{dueDate}} abgeschlossen sein.{{#assessmentLink}}\n\n{{assessmentName}} finden Sie hier: {{assessmentLink}}{{/assessmentLink}}' + SIGN_DE,
    escalation:
      'Hallo {{#managerName}}{{managerName}}{{/managerName}},\n\n{{learnerName}} hat {{programName}} noch nicht abgeschlossen; fällig war es am {{dueDate}}.\n\nEin Wort von Ihnen hilft meistens. Wenn es einen Grund gibt, geben Sie uns bitte Bescheid.' +
      SIGN_DE,
    recertify:
      'Hallo {{learnerName}},\n\nIhr Abschluss von {{programName}} läuft am {{expiryDate}} ab. Bitte rezertifizieren Sie sich vorher.{{#enrollLink}}\n\nTermin wählen: {{enrollLink}}{{/enrollLink}}' + SIGN_DE,
    digest: 'Hallo {{#managerName}}{{managerName}}{{/managerName}},\n\nso steht Ihr Team in {{programName}}:\n\n{{digest}}' + SIGN_DE,
    'session-moved':
      'Hallo {{learnerName}},\n\n{{programName}}, {{sessionLabel}}, wurde verschoben.{{#previousSessionTime}}\n\nBisher: {{previousSessionTime}}{{/previousSessionTime}}\nNeu: {{sessionTime}}' +
      WHERE_DE +
      '\n\nIhr Kalendereintrag wurde aktualisiert.' +
      RSVP_DE +
      SIGN_DE,
    'session-cancelled':
      'Hallo {{learnerName}},\n\n{{programName}}, {{sessionLabel}} am {{sessionTime}}, wurde abgesagt.{{#reason}}\n\n{{reason}}{{/reason}}{{#enrollLink}}\n\nAnderen Termin wählen: {{enrollLink}}{{/enrollLink}}' +
      SIGN_DE,
    'waitlist-promoted':
      'Hallo {{learnerName}},\n\ngute Nachricht: In {{programName}}, {{sessionLabel}}, ist ein Platz frei geworden, und er gehört Ihnen.\n\nWann: {{sessionTime}}' + WHERE_DE + RSVP_DE + SIGN_DE,
    nudge: 'Hallo {{learnerName}},\n\n{{message}}' + SIGN_DE,
  },
};

type Node = { type: 'text'; text: string } | { type: 'var'; name: string } | { type: 'section'; name: string; children: Node[] };

const TOKEN = /\{\{\s*([#/]?)\s*([^{}\s]*)\s*\}\}/g;

function templateError(where: string, message: string): MusterError {
  return new MusterError('VALIDATION_FAILED', message, { details: [{ field: where, message }] });
}

/** Parses a template; throws VALIDATION_FAILED naming any unknown placeholder or unbalanced section. */
function parseTemplate(source: string, where: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ name: string; children: Node[] }> = [];
  let current = root;
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    const [whole, sigil, name] = m as unknown as [string, string, string];
    if (m.index! > last) current.push({ type: 'text', text: source.slice(last, m.index) });
    last = m.index! + whole.length;
    if (!KNOWN.has(name)) throw templateError(where, `Unknown placeholder {{${name}}} in the ${where} template`);
    if (sigil === '#') {
      const section = { type: 'section' as const, name, children: [] as Node[] };
      current.push(section);
      stack.push(section);
      current = section.children;
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open || open.name !== name) throw templateError(where, `{{/${name}}} closes nothing in the ${where} template`);
      current = stack.length ? stack[stack.length - 1]!.children : root;
    } else {
      current.push({ type: 'var', name });
    }
  }
  if (stack.length) throw templateError(where, `{{#${stack[stack.length - 1]!.name}}} is never closed in the ${where} template`);
  if (last < source.length) current.push({ type: 'text', text: source.slice(last) });
  return root;
}

/** Checks a coordinator's template before it is saved; returns the placeholders it uses. */
export function validateTemplate(source: string, where = 'template'): Placeholder[] {
  const used = new Set<string>();
  const walk = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.type === 'var') used.add(n.name);
      if (n.type === 'section') {
        used.add(n.name);
        walk(n.children);
      }
    }
  };
  walk(parseTemplate(source, where));
  return [...used] as Placeholder[];
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/gi;

/**
 * Placeholders whose values are links or coordinator-written text that carries links (material lists, a cancellation
 * note). Everything else (names, labels, rooms, reasons, digests) can come from a roster or a Sheet cell anyone may
 * edit, so it is only ever escaped: a URL typed into a name must not become a live link in mail from the
 * organisation's mailbox.
 */
const LINKED_PLACEHOLDERS: ReadonlySet<string> = new Set<Placeholder>(['onlineUrl', 'assessmentLink', 'enrollLink', 'acceptUrl', 'tentativeUrl', 'declineUrl', 'materials', 'prerequisites', 'message']);

/** A value as HTML: escaped, with every http(s) link in it made clickable. */
function valueToHtml(v: string): string {
  let out = '';
  let last = 0;
  for (const m of v.matchAll(URL_IN_TEXT)) {
    out += escapeHtml(v.slice(last, m.index)) + `<a href="${escapeHtml(m[0])}">${escapeHtml(m[0])}</a>`;
    last = m.index! + m[0].length;
  }
  return out + escapeHtml(v.slice(last));
}

function present(v: string | null | undefined): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function renderNodes(nodes: Node[], vars: Record<string, string | null | undefined>, where: string, html: boolean): string {
  let out = '';
  for (const n of nodes) {
    if (n.type === 'text') out += html ? escapeHtml(n.text) : n.text;
    else if (n.type === 'section') {
      if (present(vars[n.name])) out += renderNodes(n.children, vars, where, html);
    } else {
      const v = vars[n.name];
      if (!present(v)) throw templateError(where, `The ${where} template needs a value for {{${n.name}}}`);
      out += html ? (LINKED_PLACEHOLDERS.has(n.name) ? valueToHtml(v) : escapeHtml(v)) : v;
    }
  }
  return out;
}

function toHtmlDocument(body: string): string {
  const paragraphs = body
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${p.replace(/\n/g, '<br>\n')}</p>`);
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n${paragraphs.join('\n')}\n</body></html>\n`;
}

/** The language subtag Muster looks templates up by ("de-AT" → "de"). */
function languageOf(tag: string | null | undefined): string {
  return (tag ?? 'en').toLowerCase().split(/[-_]/)[0] || 'en';
}

/** The template text for a kind and language: the coordinator's override, else the default in that language, else English. */
export function templateFor(kind: MessageKind, language: string, overrides?: TemplateOverrides): { source: string; language: string } {
  const lang = languageOf(language);
  const own = overrides?.[kind];
  if (own?.[lang] !== undefined) return { source: own[lang]!, language: lang };
  const defaults = DEFAULT_TEMPLATES as Record<string, Record<MessageKind, string>>;
  if (defaults[lang]) return { source: defaults[lang]![kind], language: lang };
  if (own?.en !== undefined) return { source: own.en, language: 'en' };
  return { source: DEFAULT_TEMPLATES.en[kind], language: 'en' };
}

/**
 * Renders one message: the subject from naming.ts (the program's canonical name; the session label for session
 * messages), the plain text with values as given, and an HTML body with every value and literal escaped, blank lines
 * as paragraphs and the link placeholders' links clickable. Unknown placeholders, unbalanced sections and missing values outside a
 * section fail with VALIDATION_FAILED naming the placeholder.
 */
export function renderMessage(kind: MessageKind, language: string, vars: TemplateVars, overrides?: TemplateOverrides): RenderedMessage {
  const { source, language: used } = templateFor(kind, language, overrides);
  const where = `${kind}.${used}`;
  const nodes = parseTemplate(source, where);
  const v = vars as Record<string, string | null | undefined>;
  const text = renderNodes(nodes, v, where, false).replace(/\n{3,}/g, '\n\n').trim() + '\n';
  const html = toHtmlDocument(renderNodes(nodes, v, where, true));
  const program = { name: vars.programName, code: vars.programCode };
  const label = SESSION_KINDS.has(kind) && present(vars.sessionLabel) ? vars.sessionLabel : null;
  const subject = kind === 'invite' ? inviteSubject(program, { label: label ?? '' }) : mailSubject(program, kind, used, label);
  return { subject, text, html, language: used };
}

/** "in 7 days", "in 1 hour", "in 90 minutes" (en) / "in 7 Tagen", "in 1 Stunde" (de): a reminder's lead as words. */
export function describeLead(offsetMinutes: number, language = 'en'): string {
  const de = languageOf(language) === 'de';
  const n = (count: number, one: string, many: string) => `in ${count} ${count === 1 ? one : many}`;
  if (offsetMinutes > 0 && offsetMinutes % 1440 === 0) return de ? n(offsetMinutes / 1440, 'Tag', 'Tagen') : n(offsetMinutes / 1440, 'day', 'days');
  if (offsetMinutes > 0 && offsetMinutes % 60 === 0) return de ? n(offsetMinutes / 60, 'Stunde', 'Stunden') : n(offsetMinutes / 60, 'hour', 'hours');
  return de ? n(offsetMinutes, 'Minute', 'Minuten') : n(offsetMinutes, 'minute', 'minutes');
}

/** Template values that come from the program: canonical names, agenda, and the material lists ("- title: link" lines). */
export function programVars(program: Program): Pick<TemplateVars, 'programName' | 'programCode' | 'agenda' | 'assessmentName' | 'materials' | 'prerequisites'> & { programName: string; programCode: string } {
  const line = (m: Program['materials'][number]) => `- ${m.title}${m.link ? `: ${m.link}` : ''}`;
  const materials = program.materials.filter((m) => m.kind === 'material').map(line).join('\n');
  const prerequisites = program.materials.filter((m) => m.kind !== 'material').map(line).join('\n');
  return {
    programName: program.name,
    programCode: program.code,
    agenda: program.agenda || null,
    assessmentName: assessmentName(program),
    materials: materials || null,
    prerequisites: prerequisites || null,
  };
}

/** Template values that come from a session, with times in the reader's zone and language. */
export function sessionVars(session: Session, readerZone: string, language = 'en'): Pick<TemplateVars, 'sessionLabel' | 'sessionTime' | 'sessionEnd' | 'location' | 'onlineUrl' | 'backupPlan'> {
  return {
    sessionLabel: session.label,
    sessionTime: formatLocal(session.start, readerZone, language),
    sessionEnd: formatLocal(session.end, readerZone, language),
    location: session.room,
    onlineUrl: session.onlineUrl,
    backupPlan: session.backupPlan,
  };
}

export function learnerVars(learner: Learner): Pick<TemplateVars, 'learnerName' | 'learnerEmail'> {
  return { learnerName: learner.name, learnerEmail: learner.email };
}
