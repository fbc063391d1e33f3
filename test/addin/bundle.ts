// Builds the pane bundle once per test file with the project's own esbuild script (scripts/bundles/pane.mjs) and returns its directory.
import { resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/bundles/pane.mjs');

/** Importing the script runs the build into dist/public/addin, as scripts/build.mjs does. */
export async function loadPaneBundle(): Promise<string> {
  const mod = (await import(SCRIPT)) as { PANE_OUTDIR: string };
  return mod.PANE_OUTDIR;
}
