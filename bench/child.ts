// Runs one benchmark step in its own Node process and reads back its result line, so each step's CPU time and peak memory are its own; it knows nothing about what the step measures.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULT_MARK = 'BENCH_RESULT ';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest folder up from here whose package.json names Muster. */
export function repoRoot(): string {
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const pkg = resolve(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'muster') return dir;
    dir = resolve(dir, '..');
  }
  throw new Error(`no Muster package.json above ${here}`);
}

/**
 * The command line for a step. Steps that start an emulator always run the TypeScript sources through tsx: the
 * emulators read their TLS fixtures and contracts next to their sources, which the build does not copy into dist.
 */
function command(fromSources: boolean): string[] {
  const compiled = import.meta.url.endsWith('.js');
  if (compiled && !fromSources) return [resolve(here, 'child-main.js')];
  return ['--import', 'tsx', resolve(repoRoot(), 'bench/child-main.ts')];
}

export async function runChild<T>(args: string[], opts: { fromSources?: boolean; timeoutMs?: number } = {}): Promise<T> {
  const root = repoRoot();
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: resolve(root, 'test/fixtures/tls/ca.pem') };
  const child = spawn(process.execPath, [...command(opts.fromSources ?? false), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30 * 60_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  const line = out.split('\n').reverse().find((l) => l.startsWith(RESULT_MARK));
  if (code !== 0 || !line) throw new Error(`benchmark step "${args.join(' ')}" failed (exit ${code}): ${err.slice(-2000) || out.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}
