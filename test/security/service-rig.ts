// Runs the real runtime and HTTP app in-process with a movable clock and a logger that keeps every line, for the data-protection and log tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/bootstrap.js';
import { createHttpApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { runDue } from '../../src/app/jobs.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

export interface Rig {
  url: string;
  runtime: Runtime;
  dataDir: string;
  logLines: string[];
  clock: { now(): Date; set(d: Date): void };
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; text: string; json: any }>;
  runDue(): Promise<void>;
  outbox(): Array<{ file: string; raw: string }>;
  close(): Promise<void>;
}

export async function startRig(opts: { postgres: boolean; env?: Record<string, string> }): Promise<Rig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-sec-'));
  const db: TestDatabase | null = opts.postgres ? await createTestDatabase() : null;
  let now = new Date();
  const clock = { now: () => new Date(now.getTime()), set: (d: Date) => void (now = d) };
  const logLines: string[] = [];
  const logger = createLogger('debug', (line) => logLines.push(line));
  const config = loadConfig({ MUSTER_DATA_DIR: dataDir, MUSTER_WORKER: 'off', MUSTER_RATE_LIMIT_PER_MINUTE: '100000', ...(db ? { DATABASE_URL: db.url } : {}), ...opts.env });
  const runtime = await createRuntime(config, { clock, logger });
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runtime.ctx.publicUrl = url;
  server.on('request', createHttpApp({ ctx: runtime.ctx, authenticate: runtime.authenticate, version: 'test', bodyLimit: '2mb', rateLimitPerMinute: 100000, addin: { appId: config.MS_ADDIN_ID } }));
  return {
    url,
    runtime,
    dataDir,
    logLines,
    clock,
    async api(method, path, body, token = runtime.apiToken) {
      const res = await fetch(url + path, {
        method: method.toUpperCase(),
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: res.status, text, json };
    },
    async runDue() {
      await runDue(runtime.ctx);
    },
    outbox() {
      const dir = join(dataDir, 'outbox');
      let files: string[] = [];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return files.map((file) => ({ file, raw: readFileSync(join(dir, file), 'utf8') }));
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await runtime.close();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every text cell of an .xlsx workbook, as strings. */
export async function workbookText(file: string): Promise<string[]> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const out: string[] = [];
  wb.eachSheet((ws) => {
    out.push(ws.name);
    ws.eachRow((row) => row.eachCell((cell) => out.push(typeof cell.value === 'object' && cell.value !== null ? JSON.stringify(cell.value) : String(cell.value))));
  });
  return out;
}

/** A launched program with two sessions and these learners, through the API as a coordinator would. */
export async function launchProgram(rig: Rig, code: string, learners: Array<{ Email: string; Name: string; Session?: string }>, extra: Record<string, unknown> = {}): Promise<{ programId: string; sessions: Array<{ id: string; start: string }> }> {
  const day = (d: number) => new Date(rig.clock.now().getTime() + d * 86_400_000).toISOString().slice(0, 10);
  const created = await rig.api('post', '/api/programs', {
    name: `Program ${code}`, code, owner: 'owner@example.com', assessmentName: 'Quiz', enrollmentPath: 'assigned',
    owners: { missedSessions: 'owner@example.com', lateCompletions: 'owner@example.com', questions: 'owner@example.com', improvements: 'owner@example.com' },
    policy: { offsetsMinutes: [1440, 60], followUpMinutes: 60 },
    sessions: [
      { label: 'First', start: `${day(10)}T09:00`, end: `${day(10)}T11:00`, zone: 'Europe/Berlin', room: 'Room 1', backupPlan: 'Room 2', instructors: ['trainer@example.com'], capacity: 100 },
      { label: 'Second', start: `${day(20)}T09:00`, end: `${day(20)}T11:00`, zone: 'Europe/Berlin', room: 'Room 1', backupPlan: 'Room 2', instructors: ['trainer@example.com'], capacity: 100 },
    ],
    ...extra,
  });
  if (created.status !== 201) throw new Error(`program not created: ${created.text}`);
  const programId = created.json.program.id as string;
  const roster = await rig.api('post', `/api/programs/${programId}/roster`, { learners });
  if (roster.status !== 200) throw new Error(`roster not imported: ${roster.text}`);
  await rig.api('patch', `/api/programs/${programId}`, { rosterApproved: true });
  const launched = await rig.api('post', `/api/programs/${programId}/launch`, { force: true, reason: 'test launch' });
  if (launched.status !== 200) throw new Error(`not launched: ${launched.text}`);
  const sessions = ((await rig.api('get', `/api/programs/${programId}`)).json.sessions as Array<{ id: string; start: string }>).map((s) => ({ id: s.id, start: s.start }));
  return { programId, sessions };
}
