// `npm run bench`: runs every benchmark step (launch per provider and naive, roster sync, service latency, cold start, report and growth), prints the table and writes bench/results/latest.json plus a dated copy.
import { cpus, loadavg, availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, repoRoot } from './child.js';
import { runStep } from './steps.js';
import type { LaunchFigures } from './launch.js';
import type { RosterSyncFigures } from './roster-sync.js';
import type { ReportFigures } from './report-step.js';
import { pickScale, type Scale } from './scale.js';
import { growthExponent } from './quota-model.js';
import { bestRate, LOAD_ENV, measureColdStart, measureLatency, P99_TARGET_MS, seedDataDir, startService, stepRates, type Latency, type RateStep } from './service.js';
import { launchBounds, launchRows, renderMarkdown, renderTable, type Row } from './targets.js';

export interface GrowthPoint {
  learners: number;
  report: ReportFigures;
  /** One connection, a few requests in a row: the route's own time at this size, without queueing. */
  checklist: Latency;
  attendance: Latency;
}

export interface BenchResult {
  scale: Scale['name'];
  startedAt: string;
  durationMs: number;
  machine: { nproc: number; cpu: string; node: string; loadAvg1m: number[]; note: string };
  launch: { muster: LaunchFigures[]; naive: LaunchFigures[] };
  rosterSync: RosterSyncFigures;
  service: {
    learners: number;
    coldStart: { runs: number[]; medianMs: number; compiled: boolean };
    checklist: Latency;
    attendance: Latency;
    checklistSteps: RateStep[];
    attendanceSteps: RateStep[];
  };
  growth: GrowthPoint[];
  exponents: Record<string, number>;
  rows: Row[];
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1]!.trim() : cpus()[0]?.model ?? 'unknown';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return cpus()[0]?.model ?? 'unknown';
  }
}

type Log = (line: string) => void;

export interface RunOptions {
  /** Run every step in this process instead of a child process each (the small test run; CPU and RSS are then shared). */
  inProcess?: boolean;
  log?: Log;
}

let inProcess = false;

async function step<T>(args: string[], fromSources = false): Promise<T> {
  return inProcess ? ((await runStep(args)) as T) : runChild<T>(args, { fromSources });
}

/** Runs tasks at most `limit` at a time (the launch children are independent; two cores run two). */
async function pooled<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return out;
}

async function launchStep(scale: Scale, log: Log): Promise<BenchResult['launch']> {
  const arg = JSON.stringify(scale.launch);
  const muster = (['microsoft', 'google', 'local'] as const).map((p) => async () => {
    log(`launch: Muster on ${p} (${scale.launch.learners} learners, ${scale.launch.sessions} sessions)`);
    return step<LaunchFigures>(['launch', p, arg], true);
  });
  const naive = (['microsoft', 'google'] as const).map((p) => async () => {
    log(`launch: naive client on ${p}`);
    return step<LaunchFigures>(['naive', p, arg], true);
  });
  // Each child has its own emulator and data folder; only wall time changes with parallelism, not what is counted.
  const all = await pooled([...muster, ...naive], inProcess ? 1 : availableParallelism());
  return { muster: all.slice(0, 3), naive: all.slice(3) };
}

async function growthStep(scale: Scale, log: Log): Promise<{ growth: GrowthPoint[]; service: BenchResult['service'] }> {
  const sizes = [...new Set([...scale.report.growth, scale.service.learners])].sort((a, b) => a - b);
  const growth: GrowthPoint[] = [];
  let service: BenchResult['service'] | null = null;
  log(`service: cold start x${scale.service.coldStarts}`);
  const coldStart = await measureColdStart(scale.service.coldStarts);
  for (const n of sizes) {
    log(`service: seeding ${n} learners`);
    const { dataDir, seeded } = await seedDataDir(n);
    try {
      log(`report: ${n} enrollments in a child process`);
      const report = await step<ReportFigures>(['report', dataDir, seeded.program.id]);
      const s = await startService(dataDir, LOAD_ENV);
      try {
        log(`service: single-connection latency at ${n} learners`);
        const single = { connections: 1, amount: scale.service.singleRequests };
        const checklist1 = await measureLatency(s.url, 'checklist', seeded, single);
        const attendance1 = await measureLatency(s.url, 'attendance', seeded, single);
        if (scale.report.growth.includes(n)) growth.push({ learners: n, report, checklist: checklist1, attendance: attendance1 });
        if (n === scale.service.learners) {
          log(`service: latency at ${n} learners, ${scale.service.connections} connections, then stepping the rate`);
          const o = { connections: scale.service.connections, seconds: scale.service.seconds };
          const checklist = await measureLatency(s.url, 'checklist', seeded, o);
          const attendance = await measureLatency(s.url, 'attendance', seeded, o);
          const checklistSteps = await stepRates(s.url, 'checklist', seeded, { ...o, rates: scale.service.rates });
          const attendanceSteps = await stepRates(s.url, 'attendance', seeded, { ...o, rates: scale.service.rates });
          service = { learners: n, coldStart, checklist, attendance, checklistSteps, attendanceSteps };
        }
      } finally {
        await s.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return { growth, service: service! };
}

function serviceRows(r: Omit<BenchResult, 'rows'>, scale: Scale): Row[] {
  const rows: Row[] = [];
  const sv = r.service;
  for (const [name, lat, steps] of [['checklist', sv.checklist, sv.checklistSteps], ['attendance', sv.attendance, sv.attendanceSteps]] as const) {
    const sec = `service ${sv.learners} learners`;
    rows.push({ section: sec, figure: `${name} p50 @${lat.connections} conn`, muster: lat.p50, bound: null, naive: null, unit: 'ms', target: 'info', status: 'INFO' });
    const note = lat.requests === 0 ? `no answer within ${scale.service.seconds} s` : lat.errors ? `${lat.errors} errors` : `${lat.requests} answers`;
    rows.push({ section: sec, figure: `${name} p99 @${lat.connections} conn`, muster: lat.p99, bound: null, naive: null, unit: 'ms', target: `< ${P99_TARGET_MS} ms`, status: lat.p99 < P99_TARGET_MS && lat.errors === 0 ? 'PASS' : 'MISS', note });
    rows.push({ section: sec, figure: `${name} throughput @${lat.connections} conn`, muster: lat.rps, bound: null, naive: null, unit: 'req/s', target: 'info', status: 'INFO' });
    const best = bestRate(steps);
    rows.push({ section: sec, figure: `${name} highest rate with p99 < ${P99_TARGET_MS} ms`, muster: best?.rps ?? 0, bound: null, naive: null, unit: 'req/s', target: `tried ${steps.map((s) => s.rate).join(', ')}`, status: 'INFO', ...(best ? {} : { note: 'none of the rates tried kept p99 under target' }) });
  }
  rows.push({ section: 'service', figure: 'cold start to healthy /healthz (median)', muster: sv.coldStart.medianMs, bound: null, naive: null, unit: 'ms', target: '< 500 ms', status: sv.coldStart.medianMs < 500 ? 'PASS' : 'MISS', ...(sv.coldStart.compiled ? {} : { note: 'from sources via tsx' }) });
  const top = r.growth.find((g) => g.learners === Math.max(...scale.report.growth))!;
  rows.push({ section: 'report', figure: `completion report, ${top.report.enrollments} enrollments, wall`, muster: top.report.wallMs, bound: null, naive: null, unit: 'ms', target: '< 2,000 ms', status: top.report.wallMs < 2000 ? 'PASS' : 'MISS' });
  rows.push({ section: 'report', figure: `completion report, ${top.report.enrollments} enrollments, CPU`, muster: top.report.cpuMs, bound: null, naive: null, unit: 'ms', target: 'info', status: 'INFO' });
  rows.push({ section: 'report', figure: `completion report, ${top.report.enrollments} enrollments, peak RSS`, muster: top.report.peakRssMb, bound: null, naive: null, unit: 'MB', target: '< 300 MB', status: top.report.peakRssMb < 300 ? 'PASS' : 'MISS' });
  for (const [k, e] of Object.entries(r.exponents)) {
    rows.push({ section: 'growth', figure: `${k} growth exponent (${scale.report.growth[0]}–${scale.report.growth[scale.report.growth.length - 1]})`, muster: e, bound: 1, naive: null, unit: 'exp', target: '≤ 1.1 (linear)', status: e <= 1.1 ? 'PASS' : 'MISS' });
  }
  return rows;
}

export async function runBenchmark(scale: Scale, opts: RunOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  inProcess = opts.inProcess ?? false;
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const launch = await launchStep(scale, log);
  log(`roster sync: ${scale.rosterSync.rows} rows, ${scale.rosterSync.edits} edits`);
  const rosterSync = await step<RosterSyncFigures>(['sync', JSON.stringify(scale.rosterSync)], true);
  const { growth, service } = await growthStep(scale, log);
  const pts = (f: (g: GrowthPoint) => number) => growth.filter((g) => scale.report.growth.includes(g.learners)).map((g) => ({ x: g.learners, y: f(g) }));
  const exponents = {
    'report wall time': growthExponent(pts((g) => g.report.wallMs)),
    'report peak RSS above baseline': growthExponent(pts((g) => Math.max(1, g.report.peakRssMb - g.report.rssBeforeMb))),
    'checklist latency (1 connection)': growthExponent(pts((g) => g.checklist.p50)),
    'attendance latency (1 connection)': growthExponent(pts((g) => g.attendance.p50)),
  };
  const load = loadavg();
  const partial: Omit<BenchResult, 'rows'> = {
    scale: scale.name,
    startedAt,
    durationMs: 0,
    machine: { nproc: availableParallelism(), cpu: cpuModel(), node: process.version, loadAvg1m: load, note: load[0]! > availableParallelism() ? `other work was running at the same time (load average ${load.map((l) => l.toFixed(1)).join(', ')})` : 'no other heavy work seen (load average below the core count)' },
    launch,
    rosterSync,
    service,
    growth,
    exponents,
  };
  const rows: Row[] = [];
  for (const p of ['microsoft', 'google'] as const) {
    const m = launch.muster.find((x) => x.provider === p)!;
    const n = launch.naive.find((x) => x.provider === p)!;
    rows.push(...launchRows(p, m, n, launchBounds(p, scale.launch.learners, scale.launch.sessions, scale.launch.offsetsMinutes.length)));
  }
  const local = launch.muster.find((x) => x.provider === 'local')!;
  rows.push({ section: 'launch local', figure: 'CPU time (launch + every job)', muster: local.cpuMs / 1000, bound: null, naive: null, unit: 's', target: 'info', status: 'INFO' });
  rows.push({ section: 'launch local', figure: 'peak RSS', muster: local.peakRssMb, bound: null, naive: null, unit: 'MB', target: 'info', status: 'INFO' });
  for (const [name, f] of [['first sync', rosterSync.initial], ['sync after edits', rosterSync.afterEdits]] as const) {
    rows.push({ section: `roster sync ${rosterSync.rows} rows`, figure: `${name}: Sheets requests`, muster: f.requests, bound: f.lowerBound, naive: null, unit: 'req', target: '≤ 1.1× bound', status: f.requests <= f.lowerBound * 1.1 ? 'PASS' : 'MISS', note: `${f.reads} reads, ${f.writes} writes` });
  }
  rows.push(...serviceRows(partial, scale));
  return { ...partial, durationMs: performance.now() - t0, rows };
}

/** Writes latest.json and a dated copy under bench/results. */
export function writeResults(result: BenchResult, dir = resolve(repoRoot(), 'bench/results')): string[] {
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify({ ...result, markdown: renderMarkdown(result.rows) }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
  const dated = resolve(dir, `${result.scale === 'full' ? '' : `${result.scale}-`}${result.startedAt.slice(0, 10)}.json`);
  const latest = resolve(dir, result.scale === 'full' ? 'latest.json' : `latest-${result.scale}.json`);
  writeFileSync(latest, text);
  writeFileSync(dated, text);
  return [latest, dated];
}

async function main(): Promise<void> {
  const scale = pickScale(process.env, process.argv.slice(2));
  const result = await runBenchmark(scale, { log: (line) => process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(0)}s] ${line}\n`) });
  process.stdout.write(`\nMuster benchmark (${scale.name}), ${result.machine.nproc} cores, ${result.machine.cpu}, Node ${result.machine.node}; ${result.machine.note}\n\n`);
  process.stdout.write(renderTable(result.rows) + '\n\n');
  const files = writeResults(result);
  process.stdout.write(`Finished in ${(result.durationMs / 1000).toFixed(0)} s. Wrote ${files.join(' and ')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}
