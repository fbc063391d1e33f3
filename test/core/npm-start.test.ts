// What `npm start` runs (the bundled service in dist/service, built by `npm test`'s build step) starts from an empty data folder, seeds the demo program and serves the API and the add-in pages; SIGTERM stops it cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
const entry = pkg.scripts.start!.replace(/^node\s+/, '');

const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

describe.skipIf(!existsSync(join(ROOT, entry)))(`npm start (${entry})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-npm-start-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('when started on an empty data folder, then it answers healthy, seeds the demo with its invites, serves the API and the pane, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    let stderr = '';
    child = spawn(process.execPath, [join(ROOT, entry)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', MUSTER_DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', MUSTER_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const url = `http://127.0.0.1:${port}`;
    const until = Date.now() + 60_000;
    let health: { version?: string } | null = null;
    while (!health && Date.now() < until) {
      const r = await fetch(`${url}/healthz`).catch(() => null);
      if (r?.ok) health = (await r.json()) as { version?: string };
      else await new Promise((r2) => setTimeout(r2, 100));
    }
    expect(health, stderr).not.toBeNull();
    expect(health!.version).toBe(pkg.version);

    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    const programs = await fetch(`${url}/api/programs`, { headers: { authorization: `Bearer ${token}` } });
    expect(programs.status).toBe(200);
    expect(((await programs.json()) as Array<{ code: string }>).map((p) => p.code)).toContain('SEC101');
    expect((await fetch(`${url}/addin/pane.html`)).status).toBe(200);
    // The demo's invitations are written by the in-process worker: one .eml per learner per session.
    const outbox = join(dir, 'outbox');
    while (Date.now() < until && (!existsSync(outbox) || readdirSync(outbox).filter((f) => f.endsWith('.eml')).length < 16)) await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(outbox).filter((f) => f.endsWith('.eml'))).toHaveLength(16);

    const exited = new Promise<string>((r) => child!.once('exit', (code, signal) => r(`${code} ${signal}`)));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe('0 null');
  }, 90_000);
});
