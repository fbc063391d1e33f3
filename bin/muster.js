#!/usr/bin/env node
// The `muster` command: a thin launcher for the compiled CLI (run `npm run build` after changing sources).
import('../dist/src/cli/main.js').then((m) => m.runCli(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
