// Bundles the service, the job worker and the CLI with esbuild into dist/service (what `npm start` and bin/muster.js run), so start-up loads a few files instead of hundreds; scripts/build.mjs imports this after tsc. It type-checks nothing (tsc does).
import { build } from 'esbuild';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
export const SERVICE_OUTDIR = resolve(root, 'dist/service');

/**
 * Packages left out of the bundle and loaded from node_modules: the native SQLite driver (it cannot be bundled), the
 * PostgreSQL driver (only postgres:// stores need it), and the provider SDKs the code imports lazily, so their load
 * cost stays on first use instead of moving into start-up.
 */
export const SERVICE_EXTERNAL = [
  'better-sqlite3',
  'pg',
  'googleapis',
  'google-auth-library',
  '@microsoft/microsoft-graph-client',
  '@azure/msal-node',
  'exceljs',
  'nodemailer',
  'mailparser',
  'jose',
];

// Bundled CommonJS packages (express and its dependencies) call require() for node built-ins; ESM output has no
// require, so every output file gets one made for it.
const BANNER = "import { createRequire as __musterCreateRequire } from 'node:module';\nconst require = __musterCreateRequire(import.meta.url);";

/**
 * What `node dist/service/<name>.js` runs. A launcher only imports its bundle and calls main(): a module that starts
 * itself when it is the process's entry (`import.meta.url === argv[1]`, as src/main.ts, src/worker.ts and
 * addin-manifest/generate.ts do) would otherwise also start inside any bundle file that is run directly.
 */
const LAUNCHERS = {
  'main.js': "// Starts the bundled Muster service (npm start); built by scripts/bundles/service.mjs.\nimport { main } from './app-main.js';\n\nvoid main();\n",
  'worker.js': "// Starts a bundled Muster job worker (no HTTP); built by scripts/bundles/service.mjs.\nimport { main } from './app-worker.js';\n\nvoid main();\n",
};

/**
 * Builds app-main.js (the service), app-worker.js (the job worker) and cli.js (exports runCli) as ES modules with
 * shared chunks, plus their launchers main.js and worker.js, into `outdir`. It builds into a staging folder and swaps
 * it in, so no stale chunk of an earlier build stays.
 */
export async function buildService(outdir = SERVICE_OUTDIR) {
  const staging = `${outdir}.staging-${process.pid}-${Date.now()}`;
  await build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'src/main.ts', out: 'app-main' },
      { in: 'src/worker.ts', out: 'app-worker' },
      { in: 'src/cli/main.ts', out: 'cli' },
    ],
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: SERVICE_EXTERNAL,
    sourcemap: true,
    chunkNames: 'chunk-[hash]',
    legalComments: 'linked',
    logLevel: 'warning',
    banner: { js: BANNER },
  });
  for (const [name, text] of Object.entries(LAUNCHERS)) await writeFile(join(staging, name), text);
  const old = `${outdir}.old-${process.pid}-${Date.now()}`;
  await rename(outdir, old).catch((err) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(staging, outdir);
  await rm(old, { recursive: true, force: true });
  return outdir;
}

await buildService();
