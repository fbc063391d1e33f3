// A process that only runs the job queue (no HTTP): opens the runtime with MUSTER_WORKER=on, heartbeats its leases, stops on SIGTERM; run as many as the PostgreSQL store can feed.
import { z } from 'zod';
import { loadConfig } from './config.js';
import { createRuntime, type Runtime } from './bootstrap.js';
import { MusterError } from './domain/errors.js';
import { purgeExpired } from './app/retention.js';

const DAY_MS = 24 * 3600_000;

/** Worker-only settings (propose adding them to envSchema in src/config.ts, which owns process.env). */
export const workerEnvSchema = z.object({
  /** How long a claimed job stays leased without a heartbeat; a dead worker's jobs are taken again after this. */
  MUSTER_JOB_LEASE_MS: z.coerce.number().int().min(1000).default(5 * 60_000),
  /** How often the worker runs retention (message-log expiry, offboarded tenants). */
  MUSTER_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(DAY_MS),
});

export interface StartedWorker {
  runtime: Runtime;
  leaseMs: number;
  /** Stops taking jobs, lets the running batch finish, closes the store. */
  stop(): Promise<void>;
}

/** Starts the job loop with heartbeats (every third of a lease) and daily retention; returns a handle to stop it. */
export async function startWorker(env: Record<string, string | undefined>): Promise<StartedWorker> {
  const config = loadConfig({ ...env, MUSTER_WORKER: 'on' });
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    throw new MusterError('CONFIG_INVALID', `Muster's configuration is not valid:\n${details.map((d) => `  ${d.field}: ${d.message}`).join('\n')}`, { details });
  }
  const { MUSTER_JOB_LEASE_MS: leaseMs, MUSTER_RETENTION_INTERVAL_MS: retentionMs } = parsed.data;
  const runtime = await createRuntime(config);
  const { store, ctx, logger } = runtime;
  // src/app/jobs.ts asks for a fixed lease; the store cuts it to this worker's lease, which heartbeats then keep alive.
  store.setLeaseLimit(leaseMs);

  // Interim, until src/app/messaging.ts asks store.budgetHistory itself: the budget check reads only what decides it,
  // so a send does not cost more as the day's volume grows.
  const limits = (await ctx.providersFor(config.MUSTER_TENANT)).limits;
  store.mailboxHistory = (mailbox: string, since: string) => store.budgetHistory(mailbox, new Date(Date.parse(since) + DAY_MS).toISOString(), limits);

  const heartbeat = setInterval(() => {
    store.heartbeat(ctx.workerId, new Date(ctx.clock.now().getTime() + leaseMs).toISOString()).catch((err: unknown) => {
      logger.error('worker.heartbeat_failed', { message: err instanceof Error ? err.message : String(err) });
    });
  }, Math.max(250, Math.floor(leaseMs / 3)));

  const retention = async () => {
    try {
      const r = await purgeExpired(ctx, { messageRetentionDays: config.MUSTER_MESSAGE_RETENTION_DAYS, tenantGraceDays: config.MUSTER_TENANT_GRACE_DAYS });
      if (r.messagesDeleted > 0 || r.tenantsDeleted.length > 0) logger.info('retention.ran', { messagesDeleted: r.messagesDeleted, tenantsDeleted: r.tenantsDeleted.length });
    } catch (err) {
      logger.error('retention.failed', { message: err instanceof Error ? err.message : String(err), code: err instanceof MusterError ? err.code : 'INTERNAL' });
    }
  };
  const retentionTimer = setInterval(() => void retention(), retentionMs);
  void retention();

  runtime.startWorker();
  logger.info('worker.started', { workerId: ctx.workerId, leaseMs });
  let stopping: Promise<void> | null = null;
  return {
    runtime,
    leaseMs,
    stop() {
      stopping ??= (async () => {
        clearInterval(retentionTimer);
        // Heartbeats go on while the last batch finishes, so its leases do not lapse mid-job.
        await runtime.close().finally(() => clearInterval(heartbeat));
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
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

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) void main();
