// The benchmark's steps by name, so the same step runs in a child process (the real benchmark) or in this process (the small test run); each step's modules load only when it runs, so a report child carries no provider SDKs.
import type { Provider } from './launch.js';

export async function runStep(argv: string[]): Promise<unknown> {
  const [step, a, b] = argv;
  switch (step) {
    case 'launch':
      return (await import('./launch.js')).runMusterLaunch(a as Provider, JSON.parse(b!));
    case 'naive': {
      const naive = await import('./naive.js');
      return a === 'microsoft' ? naive.runNaiveGraph(JSON.parse(b!)) : naive.runNaiveGoogle(JSON.parse(b!));
    }
    case 'sync':
      return (await import('./roster-sync.js')).runRosterSync(JSON.parse(a!));
    case 'report':
      return (await import('./report-step.js')).measureReport(a!, b!);
    default:
      throw new Error(`unknown benchmark step ${String(step)}`);
  }
}
