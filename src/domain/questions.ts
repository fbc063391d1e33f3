// Groups learner questions that ask the same thing by normalised token-set similarity and words improvement notes; no external service, no storage.
import type { Question } from './types.js';

/** Words that carry no subject: articles, pronouns, auxiliaries, question words and "where do I find the link" phrasing (English and German). */
const STOP_WORDS = new Set(
  (
    'a an the and or but of to in on at for from with about into by as is are was were be been being am do does did done doing ' +
    'can could should would will shall may might must have has had having i me my mine we us our you your he she it its they them their ' +
    'this that these those there here what when where who whom which why how any anyone someone somebody anything something ' +
    'please pls thanks thank hi hello just also still again not no yes ok okay so if then than get got find found link links url ' +
    'know tell help need want looking look see able is it s t ' +
    'der die das den dem des ein eine einen einem einer und oder aber von zu im in am an auf für mit über ist sind war waren sein ' +
    'kann können könnte sollte soll wird werden hat haben ich mich mir wir uns du dich dir sie es er ihr ihre wo wann was wer wie ' +
    'warum welche welcher welches bitte danke hallo gibt es noch nicht kein keine ja finde finden link'
  ).split(/\s+/).filter(Boolean),
);

/** A light stemmer: folds plurals and common verb endings so "guides", "guide" and "installing", "install" meet. */
function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) return w.slice(0, -3) + 'y';
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) w = w.slice(0, -1);
  return w;
}

/** The content words of a question, lower-cased, accent-folded, without punctuation or stop words, stemmed, in order. */
export function questionTokens(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w && !STOP_WORDS.has(w))
    .map(stem)
    .filter((w) => w && !STOP_WORDS.has(w));
}

/** "Where can I find the VPN guides?" → "vpn guide". */
export function normalizeQuestion(text: string): string {
  return questionTokens(text).join(' ');
}

/** Jaccard similarity of two token sets (0 when either is empty). */
export function questionSimilarity(a: string[] | Set<string>, b: string[] | Set<string>): number {
  const x = a instanceof Set ? a : new Set(a);
  const y = b instanceof Set ? b : new Set(b);
  if (x.size === 0 || y.size === 0) return 0;
  let common = 0;
  for (const t of x) if (y.has(t)) common++;
  return common / (x.size + y.size - common);
}

export interface QuestionGroup {
  /** Stable while questions are added: derived from the group's first question. */
  key: string;
  /** The representative question, as a learner typed it. */
  text: string;
  /** Distinct learners asking (questions without an email count one each). */
  learners: number;
  questionIds: string[];
  /** True once `learners` reaches the threshold: time for an improvement note. */
  reachedThreshold: boolean;
}

export interface GroupOptions {
  /** Learners needed before a group raises an improvement note (default 3). */
  threshold?: number;
  /** Minimum token-set similarity to join a group (default 0.5). */
  similarity?: number;
}

const KEY_MAX = 60;

/**
 * Groups questions that ask the same thing. Questions are taken oldest first and each joins the group holding its
 * most similar question (at least `similarity`), or starts a new one; so adding newer questions never regroups older
 * ones and a group's key, taken from its first question, stays the same. Groups come back largest first.
 */
export function groupQuestions(questions: Question[], options: GroupOptions = {}): QuestionGroup[] {
  const threshold = options.threshold ?? 3;
  const minSimilarity = options.similarity ?? 0.5;
  const ordered = [...questions].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const groups: Array<{ key: string; members: Array<{ q: Question; tokens: Set<string> }> }> = [];
  const usedKeys = new Set<string>();
  for (const q of ordered) {
    const tokens = new Set(questionTokens(q.text));
    let best: (typeof groups)[number] | null = null;
    let bestScore = 0;
    for (const g of groups) {
      const score = Math.max(...g.members.map((m) => questionSimilarity(tokens, m.tokens)));
      if (score >= minSimilarity && score > bestScore) {
        best = g;
        bestScore = score;
      }
    }
    if (best) {
      best.members.push({ q, tokens });
      continue;
    }
    let key = tokens.size ? `q:${[...tokens].sort().join('-')}`.slice(0, KEY_MAX) : `q:${q.id}`;
    for (let n = 2; usedKeys.has(key); n++) key = `${key.replace(/~\d+$/, '')}~${n}`;
    usedKeys.add(key);
    groups.push({ key, members: [{ q, tokens }] });
  }
  return groups
    .map((g) => {
      const emails = new Set<string>();
      let anonymous = 0;
      for (const m of g.members) {
        if (m.q.learnerEmail) emails.add(m.q.learnerEmail.trim().toLowerCase());
        else anonymous++;
      }
      // The representative is the question closest to all the others; the earliest wins a tie.
      let rep = g.members[0]!;
      let repScore = -1;
      for (const m of g.members) {
        const score = g.members.reduce((s, o) => s + (o === m ? 0 : questionSimilarity(m.tokens, o.tokens)), 0);
        if (score > repScore) {
          rep = m;
          repScore = score;
        }
      }
      const learners = emails.size + anonymous;
      return { key: g.key, text: rep.q.text.trim(), learners, questionIds: g.members.map((m) => m.q.id), reachedThreshold: learners >= threshold };
    })
    .sort((a, b) => b.learners - a.learners || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The reported form of a question ("Where is the VPN guide?" → "where the VPN guide is"), or a quote when no rule fits. */
function reportedQuestion(text: string): string {
  const t = text.trim().replace(/[\s?!.]+$/u, '');
  const thirdPerson = (s: string) => s.replace(/\bmy\b/gi, 'their').replace(/\bI\b/g, 'they').replace(/\bme\b/gi, 'them');
  let m = /^(where|when|what|who|which|why|how)\s+(is|are|was|were)\s+(.+)$/i.exec(t);
  if (m) return `${m[1]!.toLowerCase()} ${thirdPerson(m[3]!)} ${m[2]!.toLowerCase()}`;
  m = /^(where|when|what|who|how)\s+(?:can|do|should|could|would|may|must)\s+(?:i|we|one|you)\s+(.+)$/i.exec(t);
  if (m) return `${m[1]!.toLowerCase()} to ${thirdPerson(m[2]!)}`;
  m = /^(is|are)\s+there\s+(.+)$/i.exec(t);
  if (m) return `whether there ${m[1]!.toLowerCase()} ${thirdPerson(m[2]!)}`;
  m = /^(can|do|does|will|should)\s+(?:i|we)\s+(.+)$/i.exec(t);
  if (m) return `whether they ${m[1]!.toLowerCase() === 'does' ? 'do' : m[1]!.toLowerCase()} ${thirdPerson(m[2]!)}`;
  return `"${text.trim()}"`;
}

/** "7 learners asked where the VPN guide is": the improvement note's sentence for a group. */
export function improvementNoteText(group: Pick<QuestionGroup, 'text' | 'learners'>): string {
  const who = group.learners === 1 ? '1 learner' : `${group.learners} learners`;
  const reported = reportedQuestion(group.text);
  return `${who} asked ${reported.startsWith('"') ? reported : lowerFirst(reported)}`;
}
