// Starts the real Muster service in-process on port 0 with a fresh data folder, for tests that talk HTTP to it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type StartedService } from '../../src/main.js';
import { runDue, type RunSummary } from '../../src/app/jobs.js';

export interface TestService {
  url: string;
  token: string;
  dataDir: string;
  service: StartedService;
  /** GET/POST helper with the install token; returns status and parsed JSON. */
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  outbox(): Array<{ file: string; raw: string }>;
  /** Runs every job due now, as the worker would. */
  runDue(): Promise<RunSummary>;
  close(): Promise<void>;
}

export async function startTestService(opts: { env?: Record<string, string>; seedDemo?: boolean; keepData?: boolean; dataDir?: string } = {}): Promise<TestService> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'muster-test-'));
  const env: Record<string, string | undefined> = {
    PORT: '0',
    HOST: '127.0.0.1',
    MUSTER_DATA_DIR: dataDir,
    MUSTER_LOG_LEVEL: 'warn',
    MUSTER_SEED_DEMO: opts.seedDemo === false ? 'false' : 'auto',
    // Tests drive the job queue themselves (runDue) so nothing races them in the background.
    MUSTER_WORKER: 'off',
    PATH: process.env.PATH,
    ...opts.env,
  };
  const service = await startService(env);
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const url = service.url;
  return {
    url,
    token,
    dataDir,
    service,
    async api(method, path, body, headers = {}) {
      const isText = typeof body === 'string';
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': isText ? 'text/csv' : 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: isText ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed as never };
    },
    runDue() {
      return runDue(service.runtime.ctx);
    },
    outbox() {
      const dir = join(dataDir, 'outbox');
      let files: string[] = [];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
      } catch {
        files = [];
      }
      return files.map((file) => ({ file, raw: readFileSync(join(dir, file), 'utf8') }));
    },
    async close() {
      await service.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
