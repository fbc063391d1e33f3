// Reads and validates Muster's configuration from the environment once, at start-up; nothing else reads process.env.
import { resolve } from 'node:path';
import { z } from 'zod';
import { MusterError } from './domain/errors.js';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (what: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        new URL(v);
        return true;
      } catch {
        return false;
      }
    }, `${what} must be an absolute URL such as https://example.com`);

const boolFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every variable Muster reads, with its default. The README's configuration table mirrors this. */
export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  MUSTER_DATA_DIR: z.string().default('./data'),
  MUSTER_PUBLIC_URL: url('MUSTER_PUBLIC_URL').optional(),
  DATABASE_URL: optionalString,
  MUSTER_PROVIDER: z.enum(['local', 'microsoft', 'google']).default('local'),
  MUSTER_TENANT: z.string().trim().min(1).default('default'),
  MUSTER_SEED_DEMO: z.enum(['auto', 'true', 'false']).default('auto'),
  MUSTER_WORKER: z.enum(['on', 'off']).default('on'),
  MUSTER_WORKER_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  MUSTER_JOB_LEASE_MS: z.coerce.number().int().min(1000).default(5 * 60_000),
  MUSTER_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(24 * 3600_000),
  MUSTER_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  MUSTER_RSVP_SECRET: z.string().trim().min(16, 'use at least 16 characters').optional(),
  MUSTER_API_TOKEN: optionalString,
  MUSTER_MESSAGE_RETENTION_DAYS: z.coerce.number().int().min(1).default(365),
  MUSTER_TENANT_GRACE_DAYS: z.coerce.number().int().min(0).default(30),
  MUSTER_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  MUSTER_BODY_LIMIT: z.string().default('2mb'),
  SMTP_URL: optionalString,
  MAIL_FROM: optionalString,
  // Send budgets per sending mailbox (defaults from the vendors' documented limits).
  MUSTER_BUDGET_PER_MINUTE: z.coerce.number().int().min(1).optional(),
  MUSTER_BUDGET_PER_DAY: z.coerce.number().int().min(1).optional(),
  MUSTER_BUDGET_RECIPIENTS_PER_DAY: z.coerce.number().int().min(1).optional(),
  // Microsoft 365
  MS_AUTHORITY_HOST: url('MS_AUTHORITY_HOST').default('https://login.microsoftonline.com'),
  GRAPH_BASE_URL: url('GRAPH_BASE_URL').default('https://graph.microsoft.com'),
  MS_TENANT_ID: optionalString,
  MS_CLIENT_ID: optionalString,
  MS_CLIENT_SECRET: optionalString,
  MS_CERTIFICATE_FILE: optionalString,
  MS_CERTIFICATE_THUMBPRINT: optionalString,
  MS_PRIVATE_KEY_FILE: optionalString,
  MS_ORGANIZER: optionalString,
  MS_SENT_COPY_FINDABLE_AFTER_MS: z.coerce.number().int().min(0).default(5 * 60_000),
  MS_API_CLIENT_ID: optionalString,
  MS_ADDIN_ID: z.string().default('5d6f1d4e-6c1a-4a39-9a55-3f3f6c1e7a01'),
  MS_WORKBOOK_DRIVE_ID: optionalString,
  MS_WORKBOOK_ITEM_ID: optionalString,
  MS_APP_ONLY_WORKBOOK: boolFlag,
  // Google Workspace
  GOOGLE_SERVICE_ACCOUNT_KEY_FILE: optionalString,
  GOOGLE_IMPERSONATE: optionalString,
  GOOGLE_DIRECTORY_SUBJECT: optionalString,
  GOOGLE_SPREADSHEET_ID: optionalString,
  GOOGLE_API_ROOT_URL: url('GOOGLE_API_ROOT_URL').optional(),
  GOOGLE_TOKEN_URL: url('GOOGLE_TOKEN_URL').default('https://oauth2.googleapis.com/token'),
  GOOGLE_ADDON_CLIENT_ID: optionalString,
  GOOGLE_ID_JWKS_URL: url('GOOGLE_ID_JWKS_URL').default('https://www.googleapis.com/oauth2/v3/certs'),
  GOOGLE_DOMAIN: optionalString,
  MS_JWKS_URL: url('MS_JWKS_URL').optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  dataDir: string;
  databaseUrl: string;
  publicUrl: string;
  outboxDir: string;
  recordsDir: string;
}

/** Parses the environment; a bad value fails with every problem named. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    const lines = details.map((d) => `  ${d.field}: ${d.message}`).join('\n');
    throw new MusterError('CONFIG_INVALID', `Muster's configuration is not valid:\n${lines}`, { details });
  }
  const e = parsed.data;
  const dataDir = resolve(e.MUSTER_DATA_DIR);
  const databaseUrl = e.DATABASE_URL ?? `sqlite:${resolve(dataDir, 'muster.sqlite')}`;
  if (!/^(sqlite:|postgres:|postgresql:)/.test(databaseUrl)) {
    throw new MusterError('CONFIG_INVALID', "Muster's configuration is not valid:\n  DATABASE_URL: use sqlite:/path/file.sqlite or postgres://user@host/db", {
      details: [{ field: 'DATABASE_URL', message: 'use sqlite:/path/file.sqlite or postgres://user@host/db' }],
    });
  }
  const missing: string[] = [];
  if (e.MUSTER_PROVIDER === 'microsoft') {
    for (const k of ['MS_TENANT_ID', 'MS_CLIENT_ID', 'MS_ORGANIZER'] as const) if (!e[k]) missing.push(k);
    if (!e.MS_CLIENT_SECRET && !e.MS_CERTIFICATE_FILE) missing.push('MS_CLIENT_SECRET or MS_CERTIFICATE_FILE');
  }
  if (e.MUSTER_PROVIDER === 'google') {
    for (const k of ['GOOGLE_SERVICE_ACCOUNT_KEY_FILE', 'GOOGLE_IMPERSONATE', 'GOOGLE_SPREADSHEET_ID'] as const) if (!e[k]) missing.push(k);
  }
  if (missing.length > 0) {
    const details = missing.map((field) => ({ field, message: `required when MUSTER_PROVIDER=${e.MUSTER_PROVIDER}` }));
    throw new MusterError('CONFIG_INVALID', `Muster's configuration is not valid:\n${details.map((d) => `  ${d.field}: ${d.message}`).join('\n')}`, { details });
  }
  const publicUrl = (e.MUSTER_PUBLIC_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`).replace(/\/$/, '');
  return { ...e, dataDir, databaseUrl, publicUrl, outboxDir: resolve(dataDir, 'outbox'), recordsDir: resolve(dataDir, 'records') };
}
