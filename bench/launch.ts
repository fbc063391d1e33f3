// Runs the launch scenario through Muster's real use cases, runner and providers against an emulator on a simulated clock, and reports what the vendor saw; it never sleeps for real and measures, never asserts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { sql } from 'kysely';
import { createRuntime, type Runtime } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import type { ProviderSet } from '../src/app/context.js';
import { createProgram, updateProgram } from '../src/app/programs.js';
import { importRoster } from '../src/app/roster.js';
import { launchProgram } from '../src/app/launch.js';
import { runDue } from '../src/app/jobs.js';
import { programInput } from '../src/app/schemas.js';
import { EXCHANGE_LIMITS, GMAIL_LIMITS } from '../src/domain/budget.js';
import type { Clock } from '../src/ports/index.js';
import { createMicrosoftProviders } from '../src/providers/microsoft/index.js';
import { createGoogleProviders, DELEGATION_SCOPES } from '../src/providers/google/index.js';
import { createXlsxRecords } from '../src/providers/local/xlsx-records.js';
import { startGraphEmulator, type GraphEmulator } from '../test/emulators/graph/index.js';
import { startGoogleEmulator, type GoogleEmulator } from '../test/emulators/google/index.js';
import { GOOGLE_LIMITS, GRAPH_LIMITS, googleCost, interleavedLog, replayUnderLimits, type RequestCost } from './quota-model.js';
import type { Scale } from './scale.js';

export type Provider = 'microsoft' | 'google' | 'local';
import { learnerEmail, ORGANIZER_GOOGLE, ORGANIZER_MS, silentLogger } from './names.js';
export { learnerEmail, ORGANIZER_GOOGLE, ORGANIZER_MS, silentLogger };
const ACTOR = { tenantId: 'default', actor: 'bench', surface: 'api' as const };

/** What one launch (Muster's or the naive client's) cost at the vendor, by kind of work. */
export interface LaunchFigures {
  provider: Provider;
  client: 'muster' | 'naive';
  learners: number;
  sessions: number;
  messages: number;
  events: number;
  /** HTTP requests the vendor's API received, by kind of work (calendar, mail, records, other). */
  http: { total: number; calendar: number; mail: number; records: number; other: number };
  /** Units spent against each documented limit (names from quota-model.ts). */
  quota: Record<string, number>;
  /** Replay of the requests against the documented limits: ms until the last one may be made. */
  drainMs: number;
  /** Simulated ms between a reminder's first attempt and its send, worst case (Muster's own runner only). */
  maxLatenessMs: number | null;
  /** Requests the vendor refused for a limit (429 or quota 403). */
  throttled: number;
  cpuMs: number;
  peakRssMb: number;
  wallMs: number;
}


/** 40 sessions of 50 on working days from two weeks out, 09:00 and 14:00 Berlin time, so every reminder step is planned. */
export function sessionPlan(count: number, now: number): Array<{ label: string; start: string; end: string }> {
  const out: Array<{ label: string; start: string; end: string }> = [];
  let day = DateTime.fromMillis(now, { zone: 'Europe/Berlin' }).plus({ days: 14 }).startOf('day');
  while (out.length < count) {
    if (day.weekday <= 5) {
      for (const hour of [9, 14]) {
        if (out.length >= count) break;
        const start = day.set({ hour });
        out.push({ label: `Cohort ${String(out.length + 1).padStart(3, '0')}`, start: start.toFormat("yyyy-LL-dd'T'HH:mm"), end: start.plus({ hours: 2 }).toFormat("yyyy-LL-dd'T'HH:mm") });
      }
    }
    day = day.plus({ days: 1 });
  }
  return out;
}

/** Creates, fills and launches the program through the use cases, as a coordinator would. */
async function seedAndLaunch(rt: Runtime, scale: Scale['launch'], now: number): Promise<void> {
  const ctx = rt.ctx;
  const plan = sessionPlan(scale.sessions, now);
  const perSession = Math.ceil(scale.learners / scale.sessions);
  const input = programInput.parse({
    name: 'Benchmark Safety',
    code: 'BENCH1',
    owner: 'owner@people.example',
    agenda: 'Fire exits and first aid',
    // Three reminder steps and nothing else, so every message in the figures is a reminder.
    policy: { offsetsMinutes: scale.offsetsMinutes, prerequisiteMinutes: null, followUpMinutes: null, completionDueDays: null, digest: null },
    sessions: plan.map((s) => ({ label: s.label, start: s.start, end: s.end, zone: 'Europe/Berlin', room: 'Room 4.01', capacity: perSession })),
  });
  const { program } = await createProgram(ctx, ACTOR, input);
  const rows = Array.from({ length: scale.learners }, (_, i) => ({
    row: i + 2,
    values: { Email: learnerEmail(i), Name: `Learner ${i}`, 'Manager Email': `manager${i % 40}@people.example`, 'Time Zone': 'Europe/Berlin', Department: `Dept ${i % 7}`, Session: plan[Math.floor(i / perSession)]!.label },
  }));
  await importRoster(ctx, ACTOR, program.id, rows, 'json');
  await updateProgram(ctx, ACTOR, program.id, { rosterApproved: true });
  await launchProgram(ctx, ACTOR, program.id, { force: true, reason: 'benchmark launch' });
}

/** Runs every job as its time comes, moving the simulated clock from one due time to the next, until none is pending. */
async function runToQuiet(rt: Runtime, advance: (ms: number) => void, now: () => number): Promise<void> {
  for (let round = 0; round < 100_000; round++) {
    await runDue(rt.ctx);
    const next = await rt.store.db
      .selectFrom('jobs')
      .select(sql<string | null>`min(run_at)`.as('next'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (!next?.next) return;
    advance(Math.max(1_000, Date.parse(next.next) - now()));
  }
  throw new Error('the launch did not settle after 100,000 rounds of jobs');
}

async function maxLateness(rt: Runtime): Promise<number> {
  const rows = await rt.store.db.selectFrom('messages').select(['created_at', 'sent_at']).where('status', '=', 'sent').execute();
  let max = 0;
  for (const r of rows) if (r.sent_at) max = Math.max(max, Date.parse(r.sent_at) - Date.parse(r.created_at));
  return max;
}

function classifyGraph(endpoint: string): 'calendar' | 'mail' | 'records' | 'other' {
  if (/\/events|\/calendar|getSchedule|onlineMeetings/.test(endpoint)) return 'calendar';
  if (/\/messages|sendMail|mailFolders/.test(endpoint)) return 'mail';
  if (/\/drives|\/workbook/.test(endpoint)) return 'records';
  return 'other';
}

/** Figures from the Graph emulator's counters; the replay spreads the sends evenly over the mailbox's requests. */
export function graphFigures(em: GraphEmulator, organizer: string): Pick<LaunchFigures, 'http' | 'quota' | 'drainMs' | 'messages' | 'events' | 'throttled'> {
  const c = em.counters();
  const http = { total: c.requests, calendar: 0, mail: 0, records: 0, other: 0 };
  // HTTP requests on the wire: calls made alone, plus one per $batch (by the kind of its items); a $batch item is a
  // mailbox request (quota) but not an HTTP request of its own.
  for (const [endpoint, n] of Object.entries(c.perEndpoint)) http[classifyGraph(endpoint)] += n - (c.batchItems[endpoint] ?? 0);
  for (const [endpoint, n] of Object.entries(c.batches)) http[classifyGraph(endpoint)] += n;
  const mailbox = c.perMailbox[organizer.toLowerCase()] ?? 0;
  const messages = c.named.messagesSent ?? 0;
  const log = interleavedLog(mailbox, messages, { 'graph.mailbox.requests': 1 }, { 'graph.mailbox.requests': 1, 'exchange.messages': 1, 'exchange.recipients': 1 });
  return {
    http,
    quota: { 'graph.mailbox.requests': mailbox, 'exchange.messages': messages, 'exchange.recipients': messages },
    drainMs: replayUnderLimits(log, GRAPH_LIMITS),
    messages,
    events: c.named.eventsCreated ?? 0,
    throttled: c.named.throttled ?? 0,
  };
}

/** Figures from the Google emulator's call log (every API call in order, with its status). */
export function googleFigures(em: GoogleEmulator, fromCall = 0): Pick<LaunchFigures, 'http' | 'quota' | 'drainMs' | 'messages' | 'events' | 'throttled'> {
  const calls = em.calls().slice(fromCall);
  const http = { total: calls.length, calendar: 0, mail: 0, records: 0, other: 0 };
  const quota: Record<string, number> = {};
  const log: RequestCost[] = [];
  let throttled = 0;
  let messages = 0;
  let events = 0;
  for (const call of calls) {
    const kind = call.methodId.startsWith('calendar.') ? 'calendar' : call.methodId.startsWith('gmail.') ? 'mail' : call.methodId.startsWith('sheets.') ? 'records' : 'other';
    http[kind]++;
    const cost = googleCost(call.methodId);
    if (call.status === 429 || call.status === 403) throttled++;
    // A refused call is counted as a request made, but only calls that did work spend quota and hold a place in the replay.
    if (call.status > 0 && call.status < 400) {
      for (const [k, v] of Object.entries(cost)) quota[k] = (quota[k] ?? 0) + v;
      log.push(cost);
      if (call.methodId === 'gmail.users.messages.send') messages++;
      if (call.methodId === 'calendar.events.insert') events++;
    }
  }
  return { http, quota, drainMs: replayUnderLimits(log, GOOGLE_LIMITS), messages, events, throttled };
}

function usage(cpu0: NodeJS.CpuUsage, t0: number): { cpuMs: number; peakRssMb: number; wallMs: number } {
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, wallMs: performance.now() - t0 };
}

/** Launches the scenario through Muster with the given provider and runs every reminder on the simulated clock. */
export async function runMusterLaunch(provider: Provider, scale: Scale['launch']): Promise<LaunchFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-bench-'));
  const baseEnv = { MUSTER_DATA_DIR: dataDir, MUSTER_LOG_LEVEL: 'silent', MUSTER_WORKER: 'off', MUSTER_SEED_DEMO: 'false' };
  let close: () => Promise<void> = async () => {};
  try {
    if (provider === 'microsoft') {
      const em = await startGraphEmulator({ simulatedClock: true });
      close = () => em.close();
      em.state.addUser({ mail: ORGANIZER_MS, displayName: 'Training Team' });
      const config = loadConfig({ ...baseEnv, MUSTER_PROVIDER: 'microsoft', MS_TENANT_ID: em.tenantId, MS_CLIENT_ID: em.clientId, MS_CLIENT_SECRET: em.clientSecret, MS_ORGANIZER: ORGANIZER_MS, MS_AUTHORITY_HOST: em.authorityHost, GRAPH_BASE_URL: em.baseUrl });
      const clock: Clock = { now: () => new Date(em.clock.now()) };
      const rt = await createRuntime(config, { clock, logger: silentLogger });
      // The wiring of providers/microsoft/wiring.ts, with waits moving the simulated clock instead of sleeping.
      const ms = createMicrosoftProviders(
        { tenantId: em.tenantId, clientId: em.clientId, clientSecret: em.clientSecret, organizer: ORGANIZER_MS, authorityHost: em.authorityHost, graphBaseUrl: em.baseUrl, addinId: config.MS_ADDIN_ID, appOnlyWorkbook: false },
        { logger: silentLogger, clientTuning: { sleep: async (ms) => em.clock.advance(ms) } },
      );
      const set: ProviderSet = { calendar: ms.calendar, mailer: ms.mailer, directory: ms.directory, recordsFor: (code) => createXlsxRecords(`${config.recordsDir}/${code}.xlsx`), sender: { email: ORGANIZER_MS, name: 'Training coordination' }, limits: { ...EXCHANGE_LIMITS }, renderInvitation: null, undeliverable: () => ms.readUndeliverable() };
      rt.ctx.providersFor = async () => set;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await seedAndLaunchMeasured(rt, scale, () => em.clock.now(), (ms) => em.clock.advance(ms), () => em.resetCounters());
      return await finish(rt, provider, scale, () => graphFigures(em, ORGANIZER_MS), t0, cpu0);
    }
    if (provider === 'google') {
      const em = await startGoogleEmulator({ simulatedClock: true, startTime: Date.now() });
      close = () => em.close();
      em.state.addUser({ email: ORGANIZER_GOOGLE, name: 'Casey Coordinator' });
      const key = em.createServiceAccountKey({ delegatedScopes: [...DELEGATION_SCOPES] });
      const keyFile = join(dataDir, 'google-key.json');
      writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });
      const spreadsheetId = em.state.createSpreadsheet('Muster records');
      const config = loadConfig({ ...baseEnv, MUSTER_PROVIDER: 'google', GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile, GOOGLE_IMPERSONATE: ORGANIZER_GOOGLE, GOOGLE_SPREADSHEET_ID: spreadsheetId, GOOGLE_API_ROOT_URL: em.rootUrl, GOOGLE_TOKEN_URL: em.tokenUrl });
      const clock: Clock = { now: () => new Date(em.clock.now()) };
      const rt = await createRuntime(config, { clock, logger: silentLogger });
      // The wiring of providers/google/wiring.ts, with waits moving the simulated clock instead of sleeping.
      const g = createGoogleProviders({ serviceAccountKey: key, impersonate: ORGANIZER_GOOGLE, spreadsheetId, rootUrl: em.rootUrl, tokenUrl: em.tokenUrl }, { logger: silentLogger, sleep: async (ms) => em.clock.advance(ms), random: () => 0.5 });
      const set: ProviderSet = { calendar: g.calendar, mailer: g.mailer, directory: null, recordsFor: () => g.records, sender: { email: ORGANIZER_GOOGLE, name: 'Training coordination' }, limits: { ...GMAIL_LIMITS }, renderInvitation: null, undeliverable: () => g.mailer.readBounces() };
      rt.ctx.providersFor = async () => set;
      let from = 0;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await seedAndLaunchMeasured(rt, scale, () => em.clock.now(), (ms) => em.clock.advance(ms), () => {
        from = em.calls().length;
      });
      return await finish(rt, provider, scale, () => googleFigures(em, from), t0, cpu0);
    }
    let now = Date.now();
    const config = loadConfig({ ...baseEnv, MUSTER_PROVIDER: 'local' });
    const rt = await createRuntime(config, { clock: { now: () => new Date(now) }, logger: silentLogger });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await seedAndLaunchMeasured(rt, scale, () => now, (ms) => (now += ms), () => {});
    const messages = await rt.store.db.selectFrom('messages').select(sql<number>`count(*)`.as('n')).where('status', '=', 'sent').executeTakeFirst();
    return await finish(rt, provider, scale, () => ({ http: { total: 0, calendar: 0, mail: 0, records: 0, other: 0 }, quota: {}, drainMs: 0, messages: Number(messages?.n ?? 0), events: scale.sessions, throttled: 0 }), t0, cpu0);
  } finally {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Seeds and launches, resets the vendor's counters after seeding (seeding makes no vendor calls), then runs the jobs. */
async function seedAndLaunchMeasured(rt: Runtime, scale: Scale['launch'], now: () => number, advance: (ms: number) => void, reset: () => void): Promise<void> {
  reset();
  await seedAndLaunch(rt, scale, now());
  await runToQuiet(rt, advance, now);
}

async function finish(rt: Runtime, provider: Provider, scale: Scale['launch'], figures: () => Pick<LaunchFigures, 'http' | 'quota' | 'drainMs' | 'messages' | 'events' | 'throttled'>, t0: number, cpu0: NodeJS.CpuUsage): Promise<LaunchFigures> {
  const late = await maxLateness(rt);
  const u = usage(cpu0, t0);
  const f = figures();
  await rt.close();
  return { provider, client: 'muster', learners: scale.learners, sessions: scale.sessions, ...f, maxLatenessMs: late, ...u };
}
