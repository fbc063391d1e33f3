// Starts the Muster service: configuration, runtime, HTTP server, worker; seeds the demo on an empty install.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { loadConfig } from './config.js';
import { createRuntime, type Runtime } from './bootstrap.js';
import { createHttpApp } from './http/app.js';
import { seedDemo, DEMO_CODE } from './app/demo.js';
import { MusterError } from './domain/errors.js';

function packageVersion(): string {
  // From src/ (tests) the package file is one folder up, from dist/src/ and the bundle's dist/service/ two.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'muster' && pkg.version) return pkg.version;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return '0.0.0';
}

export const VERSION: string = packageVersion();

export interface StartedService {
  runtime: Runtime;
  url: string;
  close(): Promise<void>;
}

/** Starts the service on the configured port (0 picks a free one) and returns its URL. */
export async function startService(env: Record<string, string | undefined>): Promise<StartedService> {
  const config = loadConfig(env);
  // The admin-consent flow (and msal-node with it) loads only when Microsoft sign-in is configured, alongside the store.
  const consentModule = config.MS_CLIENT_ID ? import('./http/consent.route.js') : null;
  const runtime = await createRuntime(config);
  const createConsentRouter = consentModule ? (await consentModule).createConsentRouter : null;
  // Nothing is awaited from here until the app handles requests, so no request reaches a server without a handler.
  const server = createServer();
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  if (!config.MUSTER_PUBLIC_URL) runtime.ctx.publicUrl = url;
  const app = createHttpApp({
    ctx: runtime.ctx,
    authenticate: runtime.authenticate,
    version: VERSION,
    bodyLimit: config.MUSTER_BODY_LIMIT,
    rateLimitPerMinute: config.MUSTER_RATE_LIMIT_PER_MINUTE,
    addin: { appId: config.MS_ADDIN_ID, ...(config.MS_API_CLIENT_ID ? { entraClientId: config.MS_API_CLIENT_ID } : {}) },
    extraRouters: config.MS_CLIENT_ID && createConsentRouter ? [createConsentRouter({ ctx: runtime.ctx, clientId: config.MS_CLIENT_ID, authorityHost: config.MS_AUTHORITY_HOST, secret: runtime.ctx.rsvpSecret })] : [],
  });
  server.on('request', app);

  const programs = await runtime.store.listPrograms(config.MUSTER_TENANT);
  const seed = config.MUSTER_SEED_DEMO === 'true' || (config.MUSTER_SEED_DEMO === 'auto' && config.MUSTER_PROVIDER === 'local' && programs.length === 0);
  if (seed) {
    await seedDemo(runtime.ctx, { tenantId: config.MUSTER_TENANT, actor: 'muster-demo', surface: 'system' });
  }
  runtime.startWorker();
  return {
    runtime,
    url,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await runtime.close();
    },
  };
}

/** Runs the service until SIGINT/SIGTERM (what `npm start` does, through the bundle's launcher). */
export async function main(): Promise<void> {
  // Signals are handled from the first moment: a stop during start-up (seeding, migrations) waits for it, then closes.
  let started: Promise<StartedService> | null = null;
  const stop = async () => {
    const s = await started?.catch(() => null);
    await s?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    started = startService(process.env);
    const s = await started;
    const c = s.runtime.config;
    const lines = [
      `Muster is running at ${s.url}`,
      `  web console:      ${s.url}/  (sign in with the API token in ${c.dataDir}/api-token)`,
      `  API description:  ${s.url}/openapi.json`,
    ];
    if (c.MUSTER_PROVIDER === 'local') {
      lines.push(`  outbox (.eml):    ${c.SMTP_URL ? 'sending through SMTP_URL' : c.outboxDir}`);
      lines.push(`  records workbook: ${c.recordsDir}/${DEMO_CODE}.xlsx (one workbook per program)`);
    }
    lines.push(`  data folder:      ${c.dataDir}`);
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    process.stderr.write((err instanceof MusterError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err)) + '\n');
    process.exit(1);
  }
}

// Run as a file (`node dist/src/main.js`, tsx) it starts itself; the bundle's launcher (scripts/bundles/service.mjs) calls main().
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) void main();
