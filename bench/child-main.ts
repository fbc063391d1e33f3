// Entry point of a benchmark child process: runs the one step named on its command line and prints its figures as one marked JSON line; nothing else.
import { RESULT_MARK } from './child.js';
import { runStep } from './steps.js';

runStep(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
