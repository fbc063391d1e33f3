// Bundles the Outlook task pane (and its sign-in dialog) with esbuild into dist/public/addin; scripts/build.mjs imports this after tsc. It type-checks nothing (tsc -p tsconfig.json does).
import { build } from 'esbuild';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
export const PANE_OUTDIR = resolve(root, 'dist/public/addin');

/**
 * Builds pane.js, auth-dialog.js (ES modules with shared chunks) and pane.css into `outdir`.
 * It builds into a staging folder and renames each file into place, so a server (or a parallel
 * test) reading `outdir` never sees a half-written or missing file.
 */
export async function buildPane(outdir = PANE_OUTDIR) {
  const staging = `${outdir}.staging-${process.pid}-${Date.now()}`;
  await build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'src/addin/pane/main.ts', out: 'pane' },
      { in: 'src/addin/pane/auth-dialog.ts', out: 'auth-dialog' },
      { in: 'src/addin/pane/pane.css', out: 'pane' },
    ],
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'safari15', 'firefox100'],
    minify: true,
    sourcemap: true,
    chunkNames: 'chunk-[hash]',
    legalComments: 'linked',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await mkdir(outdir, { recursive: true });
  for (const file of await readdir(staging)) await rename(join(staging, file), join(outdir, file));
  await rm(staging, { recursive: true, force: true });
  return outdir;
}

await buildPane();
