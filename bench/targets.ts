// Turns measured figures into the table rows: each figure beside its lower bound or naive baseline, the target and PASS/MISS; pure, no measuring and no I/O.
import { BATCH, GOOGLE_LIMITS, GRAPH_LIMITS, interleavedLog, replayUnderLimits, type RequestCost } from './quota-model.js';
import type { LaunchFigures } from './launch.js';

export type Status = 'PASS' | 'MISS' | 'INFO';

export interface Row {
  section: string;
  figure: string;
  muster: number;
  /** Lower bound, when the target compares with one. */
  bound: number | null;
  /** Naive baseline measured in the same run, when there is one. */
  naive: number | null;
  unit: string;
  target: string;
  status: Status;
  note?: string;
}

export interface LaunchBounds {
  messages: number;
  /** Quota units by limit name. */
  quota: Record<string, number>;
  http: { calendar: number; mail: number; records: number };
  drainMs: number;
}

/** The least any client could spend: one event per session, one send per message, full batches, one Sheets read and write. */
export function launchBounds(provider: 'microsoft' | 'google', learners: number, sessions: number, steps: number): LaunchBounds {
  const messages = learners * steps;
  if (provider === 'microsoft') {
    const mailbox = sessions + messages;
    const log = interleavedLog(mailbox, messages, { 'graph.mailbox.requests': 1 }, { 'graph.mailbox.requests': 1, 'exchange.messages': 1, 'exchange.recipients': 1 });
    return {
      messages,
      quota: { 'graph.mailbox.requests': mailbox, 'exchange.messages': messages, 'exchange.recipients': messages },
      http: { calendar: Math.ceil(sessions / BATCH.graph), mail: Math.ceil(messages / BATCH.graph), records: 0 },
      drainMs: replayUnderLimits(log, GRAPH_LIMITS),
    };
  }
  const log: RequestCost[] = [
    ...Array.from({ length: sessions }, () => ({ 'calendar.requests': 1 })),
    { 'sheets.reads': 1 },
    { 'sheets.writes': 1 },
    ...Array.from({ length: messages }, () => ({ 'gmail.units': 100, 'gmail.messages': 1, 'gmail.recipients': 1 })),
  ];
  return {
    messages,
    quota: { 'calendar.requests': sessions, 'gmail.messages': messages, 'gmail.units': 100 * messages, 'sheets.reads': 1, 'sheets.writes': 1 },
    http: { calendar: Math.ceil(sessions / BATCH.calendar), mail: messages, records: 2 },
    drainMs: replayUnderLimits(log, GOOGLE_LIMITS),
  };
}

const within = (muster: number, bound: number, factor: number): Status => (muster <= bound * factor ? 'PASS' : 'MISS');
const fewer = (muster: number, naive: number, factor: number): Status => (muster * factor <= naive ? 'PASS' : 'MISS');

export function launchRows(provider: 'microsoft' | 'google', m: LaunchFigures, n: LaunchFigures, b: LaunchBounds): Row[] {
  const s = `launch ${provider}`;
  const rows: Row[] = [];
  const quotaRow = (figure: string, key: string, unit: string, note?: string): Row => ({ section: s, figure, muster: m.quota[key] ?? 0, bound: b.quota[key] ?? 0, naive: n.quota[key] ?? 0, unit, target: '≤ 1.1× bound', status: within(m.quota[key] ?? 0, b.quota[key] ?? 0, 1.1), ...(note ? { note } : {}) });
  rows.push({ section: s, figure: 'calendar HTTP requests', muster: m.http.calendar, bound: b.http.calendar, naive: n.http.calendar, unit: 'req', target: '≥ 10× fewer than naive', status: fewer(m.http.calendar, n.http.calendar, 10) });
  rows.push({ section: s, figure: 'events created', muster: m.events, bound: m.sessions, naive: n.events, unit: 'events', target: '≤ 1.1× bound', status: within(m.events, m.sessions, 1.1) });
  if (provider === 'microsoft') {
    rows.push({ section: s, figure: 'mail HTTP requests', muster: m.http.mail, bound: b.http.mail, naive: n.http.mail, unit: 'req', target: '≥ 10× fewer than naive ($batch)', status: fewer(m.http.mail, n.http.mail, 10) });
    rows.push(quotaRow('mailbox requests (10,000/10 min)', 'graph.mailbox.requests', 'req'));
    rows.push(quotaRow('messages sent (30/min)', 'exchange.messages', 'msg'));
    rows.push(quotaRow('recipients (10,000/day)', 'exchange.recipients', 'rcpt'));
  } else {
    rows.push({ section: s, figure: 'Gmail HTTP requests', muster: m.http.mail, bound: b.http.mail, naive: n.http.mail, unit: 'req', target: 'unbatchable (one send per message)', status: 'INFO' });
    rows.push(quotaRow('Calendar requests per user (600/min)', 'calendar.requests', 'req'));
    rows.push(quotaRow('Gmail sends (2,000/day)', 'gmail.messages', 'msg'));
    rows.push(quotaRow('Gmail quota units (6,000/min)', 'gmail.units', 'units'));
    rows.push(quotaRow('Sheets reads per user (60/min)', 'sheets.reads', 'req'));
    rows.push(quotaRow('Sheets writes per user (60/min)', 'sheets.writes', 'req'));
    rows.push({ section: s, figure: 'Sheets HTTP requests', muster: m.http.records, bound: b.http.records, naive: n.http.records, unit: 'req', target: '≥ 10× fewer than naive (batchUpdate)', status: fewer(m.http.records, n.http.records, 10) });
  }
  rows.push({ section: s, figure: 'HTTP requests, all', muster: m.http.total, bound: b.http.calendar + b.http.mail + b.http.records, naive: n.http.total, unit: 'req', target: 'info', status: 'INFO' });
  rows.push({ section: s, figure: 'simulated wait under quotas', muster: m.drainMs / 60_000, bound: b.drainMs / 60_000, naive: n.drainMs / 60_000, unit: 'min', target: '≤ 1.1× bound', status: within(m.drainMs, b.drainMs, 1.1) });
  if (m.maxLatenessMs !== null) rows.push({ section: s, figure: 'worst reminder delay on the schedule', muster: m.maxLatenessMs / 1000, bound: null, naive: null, unit: 's', target: 'info', status: 'INFO' });
  return rows;
}

export function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 2);
}

/** The table as fixed-width text for stdout. */
export function renderTable(rows: Row[]): string {
  const head = ['section', 'figure', 'Muster', 'bound', 'naive', 'unit', 'target', 'status'];
  const body = rows.map((r) => [r.section, r.figure, fmt(r.muster), fmt(r.bound), fmt(r.naive), r.unit, r.target, r.status + (r.note ? ` (${r.note})` : '')]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same rows as a Markdown table for the README. */
export function renderMarkdown(rows: Row[]): string {
  const out = ['| section | figure | Muster | lower bound | naive | unit | target | result |', '| --- | --- | ---: | ---: | ---: | --- | --- | --- |'];
  for (const r of rows) out.push(`| ${r.section} | ${r.figure} | ${fmt(r.muster)} | ${fmt(r.bound)} | ${fmt(r.naive)} | ${r.unit} | ${r.target} | ${r.status}${r.note ? ` (${r.note})` : ''} |`);
  return out.join('\n');
}
