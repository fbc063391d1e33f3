// Bundles the Outlook task pane (and its sign-in dialog) with esbuild into dist/public/addin; scripts/build.mjs imports this after tsc. It type-checks nothing (tsc -p tsconfig.json does).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
export const PANE_OUTDIR = resolve(root, 'dist/public/addin');

/** Builds pane.js, auth-dialog.js (ES modules with shared chunks) and pane.css into `outdir`. */
export async function buildPane(outdir = PANE_OUTDIR) {
  await rm(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'src/addin/pane/main.ts', out: 'pane' },
      { in: 'src/addin/pane/auth-dialog.ts', out: 'auth-dialog' },
      { in: 'src/addin/pane/pane.css', out: 'pane' },
    ],
    outdir,
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
  return outdir;
}

await buildPane();
