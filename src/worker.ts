// A process that only runs the job queue (no HTTP): the runtime's worker loop with heartbeats and retention, stopped by SIGTERM; run as many as the PostgreSQL store can feed.
import { loadConfig } from './config.js';
import { createRuntime, type Runtime } from './bootstrap.js';
import { MusterError } from './domain/errors.js';

export interface StartedWorker {
  runtime: Runtime;
  leaseMs: number;
  /** Stops taking jobs, lets the running batch finish, closes the store. */
  stop(): Promise<void>;
}

/** Starts the job loop (heartbeats every third of MUSTER_JOB_LEASE_MS, retention every MUSTER_RETENTION_INTERVAL_MS). */
export async function startWorker(env: Record<string, string | undefined>): Promise<StartedWorker> {
  const config = loadConfig({ ...env, MUSTER_WORKER: 'on', MUSTER_SEED_DEMO: 'false' });
  const runtime = await createRuntime(config);
  runtime.startWorker();
  runtime.logger.info('worker.started', { workerId: runtime.ctx.workerId, leaseMs: config.MUSTER_JOB_LEASE_MS });
  let stopping: Promise<void> | null = null;
  return {
    runtime,
    leaseMs: config.MUSTER_JOB_LEASE_MS,
    stop() {
      stopping ??= runtime.close();
      return stopping;
    },
  };
}

/** Runs the job worker until SIGINT/SIGTERM (also what the bundle's launcher dist/service/worker.js does). */
export async function main(): Promise<void> {
  try {
    const w = await startWorker(process.env);
    const stop = () => {
      w.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`muster worker: stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (err) {
    process.stderr.write((err instanceof MusterError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)) + '\n');
    process.exit(1);
  }
}

// Run as a file (`node dist/src/worker.js`, tsx) it starts itself; the bundle's launcher (scripts/bundles/service.mjs) calls main().
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) void main();
