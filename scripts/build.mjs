// Builds what runs: the server and CLI with tsc, the browser bundles with esbuild. Type errors fail the build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

const bundles = resolve(root, 'scripts/bundles');
if (existsSync(bundles)) {
  for (const f of readdirSync(bundles).filter((n) => n.endsWith('.mjs')).sort()) {
    await import(resolve(bundles, f));
  }
}
