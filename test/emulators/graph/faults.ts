// Fault injection for the emulator: rules a test programs (429, 5xx, slow, dropped connections) and a seeded random mode; it decides, the server applies.

export type Fault =
  /** Answer with this status instead of (or, with afterEffect, after) doing the work. Retry-After: seconds, or an HTTP date via a Date. */
  | { kind: 'status'; status: 429 | 500 | 502 | 503 | 504; retryAfter?: number | Date; code?: string; afterEffect?: boolean }
  /** Destroy the socket without an answer; with afterEffect the work was done first. */
  | { kind: 'drop'; afterEffect: boolean }
  /** Wait before answering. */
  | { kind: 'slow'; ms: number };

export interface FaultMatch {
  method?: string;
  /** Substring of, or pattern for, the Graph path after /v1.0 (e.g. '/events', /\/messages\/[^/]+\/send$/). */
  path?: string | RegExp;
  /** Mailbox address or id the request is for. */
  mailbox?: string;
}

export interface FaultRule {
  match?: FaultMatch;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** Skip this many matching requests before the first fault (default 0). */
  skip?: number;
  fault: Fault;
}

export interface RandomFaults {
  /** Probability in [0, 1] that a Graph request gets a fault. */
  rate: number;
  seed: number;
  faults: Fault[];
  match?: FaultMatch;
}

export interface FaultRequest {
  method: string;
  path: string;
  mailbox: string | null;
  mailboxAddress: string | null;
}

/** mulberry32: small, fast and good enough for reproducible fault sequences. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function matches(m: FaultMatch | undefined, req: FaultRequest): boolean {
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== req.method.toUpperCase()) return false;
  if (m.path !== undefined) {
    if (typeof m.path === 'string' ? !req.path.includes(m.path) : !m.path.test(req.path)) return false;
  }
  if (m.mailbox !== undefined) {
    const want = m.mailbox.toLowerCase();
    if (want !== req.mailbox?.toLowerCase() && want !== req.mailboxAddress?.toLowerCase()) return false;
  }
  return true;
}

interface ActiveRule {
  rule: FaultRule;
  skipped: number;
  used: number;
}

export class Faults {
  private rules: ActiveRule[] = [];
  private random: { cfg: RandomFaults; next: () => number } | null = null;
  /** Every fault applied, in order (method, path, kind). */
  readonly applied: Array<{ method: string; path: string; fault: Fault }> = [];

  /** Adds a rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void {
    const active: ActiveRule = { rule, skipped: 0, used: 0 };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  /** Turns on the random mode (null turns it off). */
  setRandom(cfg: RandomFaults | null): void {
    this.random = cfg ? { cfg, next: seededRandom(cfg.seed) } : null;
  }

  clear(): void {
    this.rules = [];
    this.random = null;
  }

  /** Rules not yet used up. */
  pending(): number {
    return this.rules.filter((r) => r.used < (r.rule.times ?? 1)).length;
  }

  /** The fault for this request, if any; counts it as applied. The random mode applies only when `random` is true (Graph calls). */
  pick(req: FaultRequest, random = true): Fault | null {
    for (const r of this.rules) {
      const times = r.rule.times ?? 1;
      if (r.used >= times || !matches(r.rule.match, req)) continue;
      if (r.skipped < (r.rule.skip ?? 0)) {
        r.skipped++;
        continue;
      }
      r.used++;
      this.applied.push({ method: req.method, path: req.path, fault: r.rule.fault });
      return r.rule.fault;
    }
    if (random && this.random && matches(this.random.cfg.match, req)) {
      const roll = this.random.next();
      const which = this.random.next();
      if (roll < this.random.cfg.rate && this.random.cfg.faults.length > 0) {
        const f = this.random.cfg.faults[Math.floor(which * this.random.cfg.faults.length)] ?? null;
        if (f) this.applied.push({ method: req.method, path: req.path, fault: f });
        return f;
      }
    }
    return null;
  }
}
