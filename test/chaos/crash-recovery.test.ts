// Crash recovery: the service is SIGKILLed after the calendar created an event but before Muster recorded it; a restart on the same data must not create a second event.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGraphEmulator, type Fault, type GraphEmulator } from '../emulators/graph/index.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';

const ORGANIZER = 'training@contoso.com';
const CHILD = join(import.meta.dirname, 'crash-child.ts');

interface Child {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  /** The next line the child writes that starts with `prefix`. */
  next(prefix: string): Promise<string>;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: join(import.meta.dirname, '..', '..'), env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let buffer = '';
  const waiters: Array<{ prefix: string; resolve: (l: string) => void }> = [];
  const lines: string[] = [];
  let stderr = '';
  const exitWaiters: Array<(e: Error) => void> = [];
  proc.once('exit', (code, signal) => {
    for (const r of exitWaiters.splice(0)) r(new Error(`child exited (${code ?? signal}): ${stderr.slice(-2000)}`));
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const w = waiters.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) waiters.splice(w, 1)[0]!.resolve(line);
      else lines.push(line);
    }
  });
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const found = lines.findIndex((l) => l.startsWith(prefix));
      if (found >= 0) return resolve(lines.splice(found, 1)[0]!);
      waiters.push({ prefix, resolve });
      if (proc.exitCode !== null || proc.signalCode !== null) reject(new Error(`child exited (${proc.exitCode ?? proc.signalCode}) waiting for "${prefix}": ${stderr.slice(-2000)}`));
      else exitWaiters.push(reject);
    });
  const ready = await next('ready ');
  return { proc, url: ready.slice('ready '.length).trim(), next };
}

async function api(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Creates a one-session, five-learner program through the child's API and launches it. */
async function launchProgram(url: string, token: string, domain: string, owner: string): Promise<void> {
  const created = await api(url, token, 'POST', '/api/programs', {
    name: 'Crash Course',
    code: 'CRASH1',
    owner,
    sessions: [{ label: 'Day 1', start: '2027-10-04T09:00', end: '2027-10-04T12:00', zone: 'Europe/Berlin', room: 'Room 4.01', roomEmail: `room401@${domain}`, backupPlan: 'Room 2.03', instructors: [`ines@${domain}`], capacity: 20 }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const rows = ['Email,Name,Manager Email,Time Zone', ...Array.from({ length: 5 }, (_, i) => `learner${i}@${domain},Learner ${i},boss@${domain},Europe/Berlin`)];
  expect((await api(url, token, 'POST', '/api/programs/CRASH1/roster', rows.join('\n'))).body.imported).toBe(5);
  expect((await api(url, token, 'POST', '/api/programs/CRASH1/launch', { force: true, reason: 'crash test without owners' })).status).toBe(200);
}

/** Seeds the organizer and room a crash test's program uses, and the environment of a Muster child on that emulator. */
function graphServiceEnv(em: GraphEmulator, dataDir: string): Record<string, string> {
  em.state.addUser({ mail: ORGANIZER, displayName: 'Training Team' });
  em.state.addRoom({ mail: 'room401@contoso.com', displayName: 'Room 4.01' });
  return {
    MUSTER_DATA_DIR: dataDir,
    MUSTER_LOG_LEVEL: 'error',
    MUSTER_SEED_DEMO: 'false',
    MUSTER_JOB_LEASE_MS: '1000',
    MUSTER_PROVIDER: 'microsoft',
    MS_TENANT_ID: em.tenantId,
    MS_CLIENT_ID: em.clientId,
    MS_CLIENT_SECRET: em.clientSecret,
    MS_ORGANIZER: ORGANIZER,
    MS_AUTHORITY_HOST: em.authorityHost,
    GRAPH_BASE_URL: em.baseUrl,
  };
}

/** Runs due jobs in the child until no event job is left; returns the event ids Muster recorded. */
async function runUntilEventsRecorded(child: Child): Promise<Array<string | null>> {
  let recorded: Array<string | null> = [];
  for (let round = 0; round < 10; round++) {
    child.proc.stdin.write('run\n');
    const summary = JSON.parse((await child.next('done ')).slice(5)) as { failed: number; eventJobsLeft: number; recorded: Array<string | null> };
    expect(summary.failed).toBe(0);
    recorded = summary.recorded;
    if (summary.eventJobsLeft === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return recorded;
}

function killHard(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return resolve();
    child.proc.once('exit', () => resolve());
    child.proc.kill('SIGKILL');
  });
}

describe('a crash between the calendar creating an event and Muster recording it', () => {
  let em: GraphEmulator | undefined;
  let gem: GoogleEmulator | undefined;
  const children: Child[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-crash-'));
  const googleDir = mkdtempSync(join(tmpdir(), 'muster-crash-google-'));

  afterAll(async () => {
    for (const c of children) await killHard(c);
    await em?.close();
    await gem?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(googleDir, { recursive: true, force: true });
  });

  it('when the service is killed -9 right after Graph created the event and restarted on the same data, then there is exactly one event (transactionId dedupe off)', async () => {
    em = await startGraphEmulator({ transactionIdWindowMs: 0 });
    const env = graphServiceEnv(em, dataDir);
    const first = await startChild(env);
    children.push(first);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    await launchProgram(first.url, token, 'contoso.com', ORGANIZER);

    // The create lands, its answer is lost, and from then on the emulator holds every request of this process until it is killed.
    const faults = em.faults;
    const realPick = faults.pick.bind(faults);
    const landed = () => faults.applied.some((a) => a.method === 'POST' && /\/events$/.test(a.path) && a.fault.kind === 'drop');
    // Every request on the organizer's event collection, in order (the add-in adoption lookup and the create-key lookup are both GETs there).
    const onEvents: string[] = [];
    const record = (req: { method: string; path: string }) => {
      if (/\/events$/.test(req.path)) onEvents.push(req.method);
    };
    faults.pick = (req, random) => {
      if (!landed()) record(req);
      return landed() ? ({ kind: 'slow', ms: 3000 } satisfies Fault) : realPick(req, random);
    };
    faults.inject({ match: { method: 'POST', path: /\/events$/ }, fault: { kind: 'drop', afterEffect: true } });
    first.proc.stdin.write('run\n');
    const deadline = Date.now() + 30_000;
    while (!landed()) {
      if (Date.now() > deadline) throw new Error('the event create never reached the emulator');
      await new Promise((r) => setTimeout(r, 10));
    }
    await killHard(first);
    // A first attempt posts without looking its create key up: the one GET before the POST is the add-in adoption lookup.
    expect(onEvents).toEqual(['GET', 'POST']);
    onEvents.length = 0;
    faults.pick = (req, random) => {
      record(req);
      return realPick(req, random);
    };
    expect(em.state.events(ORGANIZER).filter((e) => !e.isCancelled)).toHaveLength(1);
    const createdId = em.state.events(ORGANIZER)[0]!.id;

    // The dead process's job lease runs out; a new process on the same data folder runs what is due.
    await new Promise((r) => setTimeout(r, 1500));
    const second = await startChild(env);
    children.push(second);
    let recorded: Array<string | null> = [];
    for (let round = 0; round < 10; round++) {
      second.proc.stdin.write('run\n');
      const summary = JSON.parse((await second.next('done ')).slice(5)) as { failed: number; eventJobsLeft: number; recorded: Array<string | null> };
      expect(summary.failed).toBe(0);
      recorded = summary.recorded;
      if (summary.eventJobsLeft === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    faults.pick = realPick;
    // The restarted attempt finds the stored create key, so it looks the event up (adoption lookup, then create-key lookup) and posts nothing.
    expect(onEvents).toEqual(['GET', 'GET']);
    const events = em.state.events(ORGANIZER).filter((e) => !e.isCancelled);
    expect(events).toHaveLength(1);
    expect(events[0]!.id).toBe(createdId);
    expect(events[0]!.attendees.filter((a) => a.email.startsWith('learner'))).toHaveLength(5);
    // The restarted service adopted the event it had created before it died, and recorded it.
    expect(recorded).toEqual([createdId]);
    second.proc.stdin.write('quit\n');
    expect(em.violations()).toEqual([]);
  }, 90_000);

  it('when the service is killed -9 inside the Calendar insert and restarted on the same data, then there is exactly one event on Google (found by its client-chosen id)', async () => {
    const COORDINATOR = 'coord@acme.example';
    gem = await startGoogleEmulator();
    gem.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
    const keyFile = join(googleDir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(gem.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES })));
    const dir = join(googleDir, 'data');
    const env = {
      MUSTER_DATA_DIR: dir,
      MUSTER_LOG_LEVEL: 'error',
      MUSTER_SEED_DEMO: 'false',
      MUSTER_JOB_LEASE_MS: '1000',
      MUSTER_PROVIDER: 'google',
      GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile,
      GOOGLE_IMPERSONATE: COORDINATOR,
      GOOGLE_SPREADSHEET_ID: gem.state.createSpreadsheet('Muster records'),
      GOOGLE_API_ROOT_URL: gem.rootUrl,
      GOOGLE_TOKEN_URL: gem.tokenUrl,
    };
    const first = await startChild(env);
    children.push(first);
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    await launchProgram(first.url, token, 'acme.example', COORDINATOR);

    // The emulator kills the process as it takes the insert; the insert itself still completes, and no answer reaches Muster.
    let killed = false;
    gem.beforeNext('calendar.events.insert', () => {
      killed = first.proc.kill('SIGKILL');
    });
    first.proc.stdin.write('run\n');
    await new Promise<void>((resolve) => first.proc.once('exit', () => resolve()));
    expect(killed).toBe(true);
    const live = () => gem!.state.events(COORDINATOR).filter((e) => e.status !== 'cancelled');
    expect(live()).toHaveLength(1);
    const createdId = live()[0]!.id as string;
    // The first attempt inserted without reading the event first.
    expect(gem.calls().filter((c) => c.methodId === 'calendar.events.get')).toEqual([]);
    const callsBefore = gem.calls().length;

    await new Promise((r) => setTimeout(r, 1500));
    const second = await startChild(env);
    children.push(second);
    const recorded = await runUntilEventsRecorded(second);
    second.proc.stdin.write('quit\n');
    expect(live()).toHaveLength(1);
    expect(live()[0]!.id).toBe(createdId);
    expect(recorded).toEqual([createdId]);
    // The restarted attempt's insert is refused with 409 (the id is taken) and it reads the event by that id instead.
    const calendarCalls = gem.calls().slice(callsBefore).filter((c) => c.methodId === 'calendar.events.insert' || c.methodId === 'calendar.events.get');
    expect(calendarCalls.slice(0, 2).map((c) => `${c.methodId} ${c.status}`)).toEqual(['calendar.events.insert 409', 'calendar.events.get 200']);
    expect(calendarCalls.filter((c) => c.methodId === 'calendar.events.insert' && c.status < 400)).toEqual([]);
    expect(gem.violations()).toEqual([]);
  }, 90_000);
});

describe('a crash while Graph takes a $batch of mail', () => {
  let em: GraphEmulator | undefined;
  const children: Child[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-crash-mail-'));

  afterAll(async () => {
    for (const c of children) await killHard(c);
    await em?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when the service is killed -9 while its $batch of reminders is in flight and Graph sends them, then the restarted service settles each by its key and sends none again', async () => {
    em = await startGraphEmulator();
    const env = graphServiceEnv(em, dataDir);
    const first = await startChild(env);
    children.push(first);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    await launchProgram(first.url, token, 'contoso.com', ORGANIZER);
    await runUntilEventsRecorded(first);
    const reminders = () => em!.state.messagesSent(ORGANIZER).filter((m) => m.to.some((t) => t.startsWith('learner')));
    const before = reminders().length;

    // The $batch is held before Graph runs it; the process dies while it waits for the answer, then Graph sends all five.
    em.faults.inject({ match: { method: 'POST', path: '/$batch' }, fault: { kind: 'slow', ms: 2000 } });
    const pending = api(first.url, token, 'POST', '/api/programs/CRASH1/reminders/send-now').catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (!em.faults.applied.some((a) => a.path === '/$batch')) {
      if (Date.now() > deadline) throw new Error('the $batch never reached the emulator');
      await new Promise((r) => setTimeout(r, 10));
    }
    await killHard(first);
    await pending;
    while (reminders().length < before + 5) {
      if (Date.now() > deadline) throw new Error('the emulator never ran the held $batch');
      await new Promise((r) => setTimeout(r, 50));
    }
    const batches = em.counters().batches['POST /users/{id}/sendMail'];
    expect(batches).toBe(1);

    // The dead process's leases run out; a new process on the same data runs the reminders again.
    await new Promise((r) => setTimeout(r, 1500));
    const second = await startChild(env);
    children.push(second);
    second.proc.stdin.write('run\n');
    const summary = JSON.parse((await second.next('done ')).slice(5)) as { failed: number; sent: number; ran: number };
    second.proc.stdin.write('quit\n');
    expect(summary.failed).toBe(0);
    // Each was found in Sent Items by its key: recorded as sent, nothing posted again.
    expect(summary.ran).toBeGreaterThanOrEqual(5);
    expect(em.counters().batches['POST /users/{id}/sendMail']).toBe(batches);
    expect(em.counters().perEndpoint['POST /users/{id}/sendMail']).toBe(5);
    const perLearner = new Map<string, number>();
    for (const m of reminders()) for (const t of m.to) perLearner.set(t, (perLearner.get(t) ?? 0) + 1);
    expect([...perLearner.values()]).toEqual(Array(5).fill(before / 5 + 1));
    expect(em.violations()).toEqual([]);
  }, 90_000);
});
