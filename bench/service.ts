// The service's own speed: cold start to the first healthy answer, route latency under autocannon at fixed connections and stepped rates, over data folders seeded at several sizes; it spawns the real service and never edits it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Store } from '../src/store/store.js';
import { repoRoot } from './child.js';
import { seedProgram, type Seeded } from './seed.js';

export const P99_TARGET_MS = 50;
const TOKEN = 'bench-token-0123456789abcdef';

export interface Latency {
  route: string;
  connections: number;
  p50: number;
  p99: number;
  rps: number;
  requests: number;
  errors: number;
}

export interface RateStep {
  rate: number;
  p99: number;
  rps: number;
  errors: number;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/**
 * The service's entry: when the benchmark itself is compiled, what `npm start` runs (the bundle, dist/service/main.js,
 * built with it by scripts/build.mjs; the tsc output if there is no bundle), else the sources through tsx, so the
 * service always runs the same store migrations as the seeding that precedes it.
 */
export function serviceCommand(): { args: string[]; compiled: boolean } {
  const root = repoRoot();
  if (import.meta.url.endsWith('.js')) {
    for (const rel of ['dist/service/main.js', 'dist/src/main.js']) {
      const entry = resolve(root, rel);
      if (existsSync(entry)) return { args: [entry], compiled: true };
    }
  }
  return { args: ['--import', 'tsx', resolve(root, 'src/main.ts')], compiled: false };
}

export interface RunningService {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it answered /healthz`);
    try {
      const r = await fetch(`${url}/healthz`);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // connection refused while it starts
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the service did not answer /healthz within ${timeoutMs} ms`);
}

/** Spawns `node dist/src/main.js` on a data folder; resolves once /healthz answers 200, with the time that took. */
export async function startService(dataDir: string, extraEnv: Record<string, string> = {}): Promise<RunningService & { readyMs: number }> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    MUSTER_DATA_DIR: dataDir,
    MUSTER_SEED_DEMO: 'false',
    MUSTER_LOG_LEVEL: 'warn',
    MUSTER_API_TOKEN: TOKEN,
    ...extraEnv,
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, serviceCommand().args, { cwd: repoRoot(), env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitHealthy(url, child, 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}: ${stderr.slice(-1000)}`);
  }
  return { url, child, stop, readyMs: performance.now() - t0 };
}

/** Cold start to the first healthy /healthz on an empty data folder, `times` times. */
export async function measureColdStart(times: number): Promise<{ runs: number[]; medianMs: number; compiled: boolean }> {
  const runs: number[] = [];
  for (let i = 0; i < times; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'muster-bench-cold-'));
    try {
      const s = await startService(dir);
      runs.push(s.readyMs);
      await s.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { runs, medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, compiled: serviceCommand().compiled };
}

/** Seeds a launched program of `learners` into a fresh data folder (through the store, in this process). */
export async function seedDataDir(learners: number): Promise<{ dataDir: string; seeded: Seeded }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-bench-data-'));
  const store = await Store.open(`sqlite:${join(dataDir, 'muster.sqlite')}`);
  try {
    const seeded = await seedProgram(store, { tenantId: 'default', learners, perSession: 50, launched: true, now: Date.now() });
    return { dataDir, seeded };
  } finally {
    await store.close();
  }
}

type Route = 'checklist' | 'attendance';

function requestsFor(route: Route, seeded: Seeded): autocannon.Request[] {
  if (route === 'checklist') return [{ method: 'GET', path: `/api/programs/${seeded.program.id}/checklist` }];
  let i = 0;
  const marks = ['present', 'late', 'absent', 'excused'] as const;
  return [
    {
      method: 'POST',
      path: `/api/programs/${seeded.program.id}/attendance`,
      setupRequest: (req) => {
        const s = seeded.samples[i++ % seeded.samples.length]!;
        return { ...req, body: JSON.stringify({ entries: [{ sessionId: s.sessionId, email: s.email, attendance: marks[i % marks.length] }] }) };
      },
    },
  ];
}

/** Waits until the service has worked off what a load run left queued (its one event loop answers /healthz after it). */
async function drain(url: string): Promise<void> {
  const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(600_000) });
  await r.arrayBuffer();
}

async function cannon(url: string, route: Route, seeded: Seeded, o: { connections: number; seconds?: number; amount?: number; rate?: number }): Promise<autocannon.Result> {
  await drain(url);
  return autocannon({
    url,
    connections: o.connections,
    // A slow answer is a slow answer, not a timeout: wait up to two minutes for each.
    timeout: 120,
    ...(o.amount ? { amount: o.amount } : { duration: o.seconds ?? 5 }),
    ...(o.rate ? { overallRate: o.rate } : {}),
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    requests: requestsFor(route, seeded),
  });
}

/** Latency at fixed connections for a duration (or a fixed number of requests); p50 and p99 are NaN when nothing was answered. */
export async function measureLatency(url: string, route: Route, seeded: Seeded, o: { connections: number; seconds?: number; amount?: number }): Promise<Latency> {
  const r = await cannon(url, route, seeded, o);
  const answered = r['2xx'] + r.non2xx;
  return { route, connections: o.connections, p50: answered > 0 ? r.latency.p50 : Number.NaN, p99: answered > 0 ? r.latency.p99 : Number.NaN, rps: r.requests.average, requests: answered, errors: r.errors + r.timeouts + r.non2xx };
}

/** Tries each rate (requests per second over all connections) and returns the steps; the caller picks the highest under the target. */
export async function stepRates(url: string, route: Route, seeded: Seeded, o: { connections: number; seconds: number; rates: number[] }): Promise<RateStep[]> {
  const steps: RateStep[] = [];
  for (const rate of o.rates) {
    const r = await cannon(url, route, seeded, { ...o, rate });
    const p99 = r['2xx'] + r.non2xx > 0 ? r.latency.p99 : Number.NaN;
    steps.push({ rate, p99, rps: r.requests.average, errors: r.errors + r.timeouts + r.non2xx });
    // Past the target (or with nothing answered) there is no point trying faster.
    if (!(p99 < P99_TARGET_MS)) break;
  }
  return steps;
}

/** The highest rate whose p99 stayed under the target with no errors, or null when even the lowest missed. */
export function bestRate(steps: RateStep[]): RateStep | null {
  const ok = steps.filter((s) => s.p99 < P99_TARGET_MS && s.errors === 0);
  return ok.length ? ok[ok.length - 1]! : null;
}

/** Env for a measured service: no rate limiting in the way, no background worker stealing the CPU. */
export const LOAD_ENV = { MUSTER_RATE_LIMIT_PER_MINUTE: '100000000', MUSTER_WORKER: 'off' };
