// The documented vendor limits (../shared/contracts/LIMITS.md) and a replay of a request log against them on a simulated clock; pure arithmetic, no I/O and no emulator.

/** One limit: at most `cap` units in any rolling `windowMs`. */
export interface Limit {
  name: string;
  cap: number;
  windowMs: number;
}

/** What one request spends against each limit it falls under (limit name to units). */
export type RequestCost = Record<string, number>;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Graph per app and mailbox, and Exchange Online sending limits (LIMITS.md, "Microsoft Graph / Outlook"). */
export const GRAPH_LIMITS: Limit[] = [
  { name: 'graph.mailbox.requests', cap: 10_000, windowMs: 10 * MINUTE },
  { name: 'exchange.messages', cap: 30, windowMs: MINUTE },
  { name: 'exchange.recipients', cap: 10_000, windowMs: DAY },
];

/** Google per-user quotas (LIMITS.md: Calendar 600/min/user; Gmail 6,000 units/min/user (2026 page) and 2,000 messages/day; Sheets 60 reads and 60 writes/min/user). */
export const GOOGLE_LIMITS: Limit[] = [
  { name: 'calendar.requests', cap: 600, windowMs: MINUTE },
  { name: 'gmail.units', cap: 6_000, windowMs: MINUTE },
  { name: 'gmail.messages', cap: 2_000, windowMs: DAY },
  { name: 'gmail.recipients', cap: 10_000, windowMs: DAY },
  { name: 'sheets.reads', cap: 60, windowMs: MINUTE },
  { name: 'sheets.writes', cap: 60, windowMs: MINUTE },
];

/** Batch sizes (LIMITS.md): Graph $batch 20; Calendar batch 1,000; Sheets batchUpdate takes any number of requests (2 MB advised). */
export const BATCH = { graph: 20, calendar: 1_000 } as const;

/** Gmail API quota units per method (LIMITS.md: messages.send 100, messages.get and messages.list 5). */
export const GMAIL_UNITS: Record<string, number> = { 'gmail.users.messages.send': 100, 'gmail.users.messages.get': 5, 'gmail.users.messages.list': 5 };

const SHEETS_READS = new Set(['sheets.spreadsheets.get', 'sheets.spreadsheets.values.get', 'sheets.spreadsheets.values.batchGet', 'sheets.spreadsheets.values.batchGetByDataFilter', 'sheets.spreadsheets.getByDataFilter', 'sheets.spreadsheets.developerMetadata.search', 'sheets.spreadsheets.developerMetadata.get']);

/** What one Google API call (by discovery method id) costs against the per-user quotas. */
export function googleCost(methodId: string): RequestCost {
  if (methodId.startsWith('calendar.')) return { 'calendar.requests': 1 };
  if (methodId.startsWith('gmail.')) {
    const cost: RequestCost = { 'gmail.units': GMAIL_UNITS[methodId] ?? 5 };
    if (methodId === 'gmail.users.messages.send') Object.assign(cost, { 'gmail.messages': 1, 'gmail.recipients': 1 });
    return cost;
  }
  if (methodId.startsWith('sheets.')) return SHEETS_READS.has(methodId) ? { 'sheets.reads': 1 } : { 'sheets.writes': 1 };
  return {};
}

/**
 * Replays requests in order, each as early as every limit allows (all work ready at time 0), and returns the instant
 * in ms at which the last one may be made: the time a tenant waits for this work under the documented limits.
 */
export function replayUnderLimits(log: RequestCost[], limits: Limit[]): number {
  const windows = new Map(limits.map((l) => [l.name, { limit: l, entries: [] as Array<{ t: number; units: number }>, head: 0, sum: 0 }]));
  let t = 0;
  for (const cost of log) {
    for (const [name, units] of Object.entries(cost)) {
      const w = windows.get(name);
      if (!w || units <= 0) continue;
      if (units > w.limit.cap) throw new RangeError(`one request needs ${units} units of ${name}, more than its cap ${w.limit.cap}`);
      // Drop what left the window by t, then wait for the oldest entries to leave until this request fits.
      for (;;) {
        while (w.head < w.entries.length && w.entries[w.head]!.t <= t - w.limit.windowMs) w.sum -= w.entries[w.head++]!.units;
        if (w.sum + units <= w.limit.cap) break;
        t = w.entries[w.head]!.t + w.limit.windowMs;
      }
    }
    // Moving t later only frees room in the windows already checked, so one pass suffices.
    for (const [name, units] of Object.entries(cost)) {
      const w = windows.get(name);
      if (!w || units <= 0) continue;
      w.entries.push({ t, units });
      w.sum += units;
    }
  }
  return t;
}

/** A log of `total` requests of which `special` (spread evenly) cost `specialCost` and the rest `plainCost`. */
export function interleavedLog(total: number, special: number, plainCost: RequestCost, specialCost: RequestCost): RequestCost[] {
  const out: RequestCost[] = [];
  let placed = 0;
  for (let i = 0; i < total; i++) {
    // Bresenham: the k-th special request sits at the end of its share of the log.
    const due = Math.floor(((i + 1) * special) / Math.max(1, total));
    if (due > placed) {
      out.push(specialCost);
      placed++;
    } else out.push(plainCost);
  }
  return out;
}

/** Least-squares slope of log(y) over log(x): 1 is linear growth, 2 quadratic. */
export function growthExponent(points: Array<{ x: number; y: number }>): number {
  const pts = points.filter((p) => p.x > 0 && p.y > 0).map((p) => ({ x: Math.log(p.x), y: Math.log(p.y) }));
  if (pts.length < 2) return Number.NaN;
  const mx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  const num = pts.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = pts.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return num / den;
}
