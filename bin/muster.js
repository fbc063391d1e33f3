#!/usr/bin/env node
// The `muster` command: a thin launcher for the built CLI, the bundle (dist/service/cli.js) or else the tsc output (run `npm run build` after changing sources).
import { existsSync } from 'node:fs';

const entry = existsSync(new URL('../dist/service/cli.js', import.meta.url)) ? '../dist/service/cli.js' : '../dist/src/cli/main.js';
import(entry).then((m) => m.runCli(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
