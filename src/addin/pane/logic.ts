// Plain decisions the pane's view needs (which surface it runs on, checklist order, count wording, what a read item tells us); no DOM, no Office calls, no network.
import { PANE_SURFACES, type PaneSurface } from '../constants.js';
import type { ChecklistItem, SessionState } from './api.js';
import type { ReadItem } from './office.js';

/** The surface from the pane URL's `surface` parameter; anything else means the web console. */
export function parseSurface(search: string): PaneSurface {
  const value = new URLSearchParams(search).get('surface');
  return (PANE_SURFACES as readonly string[]).includes(value ?? '') ? (value as PaneSurface) : 'console';
}

const STATUS_RANK: Record<ChecklistItem['status'], number> = { blocking: 0, warning: 1, ok: 2 };

/** Blocking items first, then warnings, then what is fine; stable within each group. */
export function orderChecklist(items: readonly ChecklistItem[]): ChecklistItem[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => STATUS_RANK[a.item.status] - STATUS_RANK[b.item.status] || a.index - b.index)
    .map((x) => x.item);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line a screen reader can read out after the checklist loads. */
export function describeChecklist(blocking: number, warnings: number): string {
  if (blocking === 0 && warnings === 0) return 'Nothing blocks the launch.';
  return `${plural(blocking, 'blocking item')} and ${plural(warnings, 'warning')}.`;
}

/** The response counts worth showing, in reading order. */
export function summarizeCounts(counts: SessionState['counts']): { label: string; value: number }[] {
  return [
    { label: 'Enrolled', value: counts.enrolled },
    { label: 'Waitlisted', value: counts.waitlisted },
    { label: 'Accepted', value: counts.accepted },
    { label: 'Tentative', value: counts.tentative },
    { label: 'Declined', value: counts.declined },
    { label: 'No response', value: counts.noResponse },
    { label: 'Present', value: counts.present },
    { label: 'Late', value: counts.late },
    { label: 'Excused', value: counts.excused },
    { label: 'Absent', value: counts.absent },
  ];
}

export interface QuestionFromMail {
  text: string;
  learnerEmail: string | null;
}

/** A learner's question taken from a read message: its subject as the text, its sender as the learner. */
export function toQuestionFromMail(item: Pick<ReadItem, 'itemType' | 'subject' | 'from'>): QuestionFromMail | null {
  if (item.itemType !== 'message') return null;
  const text = (item.subject ?? '').replace(/^\s*((re|fw|fwd|aw|wg)\s*:\s*)+/i, '').trim();
  if (text.length === 0) return null;
  const email = item.from?.emailAddress?.trim() ?? '';
  return { text, learnerEmail: email.length > 0 ? email : null };
}

/** Formats a UTC instant in the session's zone for lists, e.g. "Tue 3 Mar 2026, 09:00 (Europe/Berlin)". */
export function formatSessionTime(startIso: string, zone: string, locale?: string): string {
  const d = new Date(startIso);
  try {
    const text = new Intl.DateTimeFormat(locale ?? 'en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: zone }).format(d);
    return `${text} (${zone})`;
  } catch (err) {
    if (err instanceof RangeError) return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    throw err;
  }
}
