// The composition root: the only place that turns configuration into a store, providers, verifiers and a worker.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppContext, ProviderSet } from './app/context.js';
import type { Config } from './config.js';
import { EXCHANGE_LIMITS, GMAIL_LIMITS, LOCAL_LIMITS } from './domain/budget.js';
import { MusterError } from './domain/errors.js';
import { createLogger } from './logger.js';
import type { Clock, Logger, Person } from './ports/index.js';
import { Store } from './store/store.js';
import { createAuthenticator } from './http/auth/authenticate.js';
import type { TokenVerifier } from './http/auth/principal.js';
import { runDue } from './app/jobs.js';
import { purgeExpired } from './app/retention.js';

export const systemClock: Clock = { now: () => new Date() };


/** Reads a secret from the data folder, creating it (readable only by this user) on first start. */
function fileSecret(dataDir: string, name: string, given: string | undefined): string {
  if (given) return given;
  const file = resolve(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

export interface Runtime {
  config: Config;
  store: Store;
  ctx: AppContext;
  logger: Logger;
  apiToken: string;
  authenticate: TokenVerifier;
  /** Starts the background worker loop (the service does; the CLI runs jobs itself). */
  startWorker(): void;
  close(): Promise<void>;
}

async function buildProviders(config: Config, logger: Logger): Promise<ProviderSet> {
  const budget = (base: { perMinute: number; perDay: number; recipientsPerDay: number }) => ({
    perMinute: config.MUSTER_BUDGET_PER_MINUTE ?? base.perMinute,
    perDay: config.MUSTER_BUDGET_PER_DAY ?? base.perDay,
    recipientsPerDay: config.MUSTER_BUDGET_RECIPIENTS_PER_DAY ?? base.recipientsPerDay,
  });
  if (config.MUSTER_PROVIDER === 'microsoft') {
    const { buildMicrosoftProviderSet } = await import('./providers/microsoft/wiring.js');
    return buildMicrosoftProviderSet(config, logger, budget(EXCHANGE_LIMITS));
  }
  if (config.MUSTER_PROVIDER === 'google') {
    const { buildGoogleProviderSet } = await import('./providers/google/wiring.js');
    return buildGoogleProviderSet(config, logger, budget(GMAIL_LIMITS));
  }
  // Like the vendor SDKs, the local providers (nodemailer among them) load on first use, not at start.
  const [{ createLocalProviders }, { toSessionInvite }, { eraseOutboxMentions }] = await Promise.all([
    import('./providers/local/index.js'),
    import('./providers/local/ics-calendar.js'),
    import('./providers/local/outbox-erase.js'),
  ]);
  const local = createLocalProviders({ dataDir: config.dataDir, smtpUrl: config.SMTP_URL ?? null, logger });
  const sender: Person = { email: config.MAIL_FROM ?? 'training@muster.local', name: 'Training coordination' };
  return {
    calendar: local.calendar,
    mailer: local.mailer,
    directory: null,
    recordsFor: (code) => local.recordsFor(`${code}.xlsx`),
    sender,
    limits: budget(LOCAL_LIMITS),
    renderInvitation: toSessionInvite,
    eraseFromOutbox: (needle) => eraseOutboxMentions(local.outboxDir, [needle]),
  };
}

export async function createRuntime(config: Config, opts: { clock?: Clock; logger?: Logger; workerId?: string } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.MUSTER_LOG_LEVEL);
  mkdirSync(config.dataDir, { recursive: true });
  const store = await Store.open(config.databaseUrl);
  const clock = opts.clock ?? systemClock;
  const now = clock.now().toISOString();
  const tenant = await store.ensureTenant(config.MUSTER_TENANT, config.MUSTER_TENANT, config.MUSTER_PROVIDER, now);
  // The tenant an Outlook or Sheets token maps to: the configured Entra tenant, or the Workspace domain whose add-on users may sign in.
  const externalId = config.MUSTER_PROVIDER === 'microsoft' ? config.MS_TENANT_ID : config.GOOGLE_DOMAIN && (config.MUSTER_PROVIDER === 'google' || config.GOOGLE_ADDON_CLIENT_ID) ? config.GOOGLE_DOMAIN : undefined;
  if (externalId && tenant.external_id !== externalId) await store.updateTenant(tenant.id, { external_id: externalId, consent_state: 'granted', provider: config.MUSTER_PROVIDER });

  let providers: ProviderSet | null = null;
  let kick: () => void = () => {};
  const ctx: AppContext = {
    store,
    clock,
    logger,
    providersFor: async (tenantId: string) => {
      // One install holds one organizer mailbox (Microsoft) or one coordinator and Sheet (Google). Another consented
      // tenant must never act through them: its work stops with a clear reason instead.
      if (config.MUSTER_PROVIDER !== 'local' && tenantId !== config.MUSTER_TENANT) {
        const t = await store.getTenant(tenantId);
        const configured = config.MUSTER_PROVIDER === 'microsoft' ? config.MS_TENANT_ID : config.GOOGLE_DOMAIN;
        if (!t || !configured || t.external_id !== configured) {
          throw new MusterError('CONFIG_INVALID', `This Muster install is configured for one organisation; tenant ${tenantId} has no organizer mailbox of its own here`);
        }
      }
      return (providers ??= await buildProviders(config, logger));
    },
    publicUrl: config.publicUrl,
    rsvpSecret: fileSecret(config.dataDir, 'rsvp-secret', config.MUSTER_RSVP_SECRET),
    workerId: opts.workerId ?? `worker-${process.pid}-${randomBytes(4).toString('hex')}`,
    messageRetentionDays: config.MUSTER_MESSAGE_RETENTION_DAYS,
    jobLeaseMs: config.MUSTER_JOB_LEASE_MS,
    kickWorker: () => kick(),
  };
  const apiToken = fileSecret(config.dataDir, 'api-token', config.MUSTER_API_TOKEN);
  const consented = async (externalTenant: string) => {
    const t = await store.tenantByExternalId(externalTenant);
    // Credentials failing on Muster's side (consent_state 'failed') do not lock out the tenant's users.
    return t && (t.consent_state === 'granted' || t.consent_state === 'failed') && !t.offboarded_at ? t.id : null;
  };
  // Outlook and Sheets token verifiers load only when configured.
  const authenticate = createAuthenticator({
    local: { token: apiToken, tenantId: config.MUSTER_TENANT },
    entra: config.MS_API_CLIENT_ID
      ? (await import('./http/auth/entra.js')).createEntraVerifier({ clientId: config.MS_API_CLIENT_ID, authorityHost: config.MS_AUTHORITY_HOST, ...(config.MS_JWKS_URL ? { jwksUrl: config.MS_JWKS_URL } : {}), tenantForTid: consented })
      : null,
    google: config.GOOGLE_ADDON_CLIENT_ID
      ? (await import('./http/auth/google-identity.js')).createGoogleIdentityVerifier({ clientId: config.GOOGLE_ADDON_CLIENT_ID, jwksUrl: config.GOOGLE_ID_JWKS_URL, tenantForDomain: consented })
      : null,
  });

  let timer: NodeJS.Timeout | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let retention: NodeJS.Timeout | null = null;
  const purge = async () => {
    try {
      const r = await purgeExpired(ctx, { messageRetentionDays: config.MUSTER_MESSAGE_RETENTION_DAYS, tenantGraceDays: config.MUSTER_TENANT_GRACE_DAYS });
      if (r.messagesDeleted > 0 || r.tenantsDeleted.length > 0) logger.info('retention.ran', { messagesDeleted: r.messagesDeleted, tenantsDeleted: r.tenantsDeleted.length });
    } catch (err) {
      logger.error('retention.failed', { message: err instanceof Error ? err.message : String(err), code: err instanceof MusterError ? err.code : 'INTERNAL' });
    }
  };
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const tick = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const s = await runDue(ctx);
          if (s.ran > 0) logger.info('worker.ran', { ...s });
        } catch (err) {
          logger.error('worker.failed', { message: err instanceof Error ? err.message : String(err), code: err instanceof MusterError ? err.code : 'INTERNAL' });
        }
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    config,
    store,
    ctx,
    logger,
    apiToken,
    authenticate,
    startWorker() {
      if (config.MUSTER_WORKER === 'off' || timer) return;
      kick = () => {
        if (!closed) setImmediate(() => void tick());
      };
      timer = setInterval(() => void tick(), config.MUSTER_WORKER_INTERVAL_MS);
      timer.unref();
      // Leases of jobs this process is still running are renewed every third of a lease, so no replica takes them over.
      heartbeat = setInterval(() => {
        store.heartbeat(ctx.workerId, new Date(clock.now().getTime() + config.MUSTER_JOB_LEASE_MS).toISOString()).catch((err: unknown) => {
          logger.error('worker.heartbeat_failed', { message: err instanceof Error ? err.message : String(err) });
        });
      }, Math.max(250, Math.floor(config.MUSTER_JOB_LEASE_MS / 3)));
      heartbeat.unref();
      retention = setInterval(() => void purge(), config.MUSTER_RETENTION_INTERVAL_MS);
      retention.unref();
      void purge();
      kick();
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (retention) clearInterval(retention);
      // Heartbeats go on while the last batch finishes, so its leases do not lapse mid-job.
      if (running) await running;
      if (heartbeat) clearInterval(heartbeat);
      await store.close();
    },
  };
}
