// The benchmark's sizes: the full run the README quotes and a seconds-long small run the tests use; nothing else decides a size.

export interface Scale {
  name: 'full' | 'small';
  launch: { learners: number; sessions: number; offsetsMinutes: number[] };
  rosterSync: { rows: number; edits: number };
  service: {
    learners: number;
    /** Seconds of load per autocannon measurement. */
    seconds: number;
    connections: number;
    /** Requests per second tried, lowest first, to find the highest rate with p99 under the target. */
    rates: number[];
    coldStarts: number;
    /** Requests in a row on one connection per route and size, for the growth figures. */
    singleRequests: number;
  };
  report: { enrollments: number; growth: number[] };
}

export const FULL: Scale = {
  name: 'full',
  launch: { learners: 2_000, sessions: 40, offsetsMinutes: [7 * 24 * 60, 24 * 60, 60] },
  rosterSync: { rows: 5_000, edits: 50 },
  service: { learners: 5_000, seconds: 6, connections: 10, rates: [25, 50, 100, 200, 400, 800], coldStarts: 5, singleRequests: 5 },
  report: { enrollments: 100_000, growth: [1_000, 5_000, 20_000, 100_000] },
};

export const SMALL: Scale = {
  name: 'small',
  launch: { learners: 12, sessions: 2, offsetsMinutes: [7 * 24 * 60, 24 * 60, 60] },
  rosterSync: { rows: 20, edits: 3 },
  service: { learners: 50, seconds: 1, connections: 10, rates: [50], coldStarts: 1, singleRequests: 2 },
  report: { enrollments: 200, growth: [50, 200] },
};

/** BENCH_SCALE=small or a --small flag picks the small run; anything else the full one. */
export function pickScale(env: Record<string, string | undefined>, argv: string[]): Scale {
  return env.BENCH_SCALE === 'small' || argv.includes('--small') ? SMALL : FULL;
}
