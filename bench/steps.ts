// The benchmark's steps by name, so the same step runs in a child process (the real benchmark) or in this process (the small test run); it measures nothing itself.
import { runMusterLaunch, type Provider } from './launch.js';
import { runNaiveGoogle, runNaiveGraph } from './naive.js';
import { runRosterSync } from './roster-sync.js';
import { measureReport } from './report-step.js';

export async function runStep(argv: string[]): Promise<unknown> {
  const [step, a, b] = argv;
  switch (step) {
    case 'launch':
      return runMusterLaunch(a as Provider, JSON.parse(b!));
    case 'naive':
      return a === 'microsoft' ? runNaiveGraph(JSON.parse(b!)) : runNaiveGoogle(JSON.parse(b!));
    case 'sync':
      return runRosterSync(JSON.parse(a!));
    case 'report':
      return measureReport(a!, b!);
    default:
      throw new Error(`unknown benchmark step ${String(step)}`);
  }
}
