// Gives a test its own throw-away PostgreSQL database on 127.0.0.1:5432, or the reason it cannot (skipped outside CI, a failure in CI).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the tests use; override with MUSTER_TEST_PG (a postgres:// URL without a database name at the end is not accepted). */
export const PG_ADMIN_URL = process.env.MUSTER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function urlFor(db: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * Whether PostgreSQL answers. Returns null when it does; otherwise the reason to skip.
 * In CI (CI=true) an unreachable server throws instead, so the suite fails rather than silently skipping.
 */
export async function pgUnavailableReason(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 15_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    const reason = `PostgreSQL at ${new URL(PG_ADMIN_URL).host} is not reachable (${err instanceof Error ? err.message : String(err)})`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI requires it`);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates an empty database named muster_test_<random>; drop() removes it, ending any connection left on it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `muster_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: urlFor(name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
