// The ledger: canonical state, the job queue, the message and event ledgers, the audit log; every query names its tenant.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type {
  Attendance,
  Completion,
  Enrollment,
  EnrollmentStatus,
  ImprovementNote,
  Learner,
  Program,
  Question,
  Rsvp,
  Session,
  Surface,
} from '../domain/types.js';
import { MusterError } from '../domain/errors.js';
import { LEARNER_FLAG, learnerFieldFlags, learnerLabel, type Examples, type LearnerField, type RosterFacts } from '../domain/checklist.js';
import { migrationProvider, tuneSqlite, type Dialect } from './migrations.js';
import type { Database, JobsTable, MessagesTable, SessionEventsTable, TenantsTable } from './schema.js';

export type JobRow = JobsTable;
export type MessageRow = MessagesTable;
export type SessionEventRow = SessionEventsTable;
export type TenantRow = TenantsTable;

export interface NewJob {
  key: string;
  kind: string;
  programId: string | null;
  sessionId: string | null;
  learnerId: string | null;
  runAt: string;
  payload: Record<string, unknown>;
}

export interface AuditEntry {
  tenantId: string;
  actor: string;
  surface: Surface;
  action: string;
  entity: string;
  entityId: string;
  detail?: Record<string, unknown>;
}

export interface RosterReject {
  id: string;
  programId: string;
  source: string;
  rowNumber: number;
  data: Record<string, string>;
  reasons: Array<{ field: string; message: string }>;
  createdAt: string;
}

const json = (v: unknown): string => JSON.stringify(v);
const parse = <T>(s: string): T => JSON.parse(s) as T;

/** A learner of a program with their enrollments in it (enrollment order) and their completion, as the report reads them. */
export interface RosterPageRow {
  /** The stored email the pages are keyed on (pass the last one as `afterEmail`). */
  key: string;
  learner: Learner;
  enrollments: Array<Pick<Enrollment, 'id' | 'sessionId' | 'learnerId' | 'status' | 'rsvp' | 'attendance'>>;
  completion: Completion | null;
}

/** One row of the SQLite roster page statement: a learner's enrollment with the learner and their completion. */
interface RosterRow {
  data: string;
  email: string;
  learner_id: string;
  id: string;
  session_id: string;
  status: string;
  rsvp: string;
  attendance: string | null;
  has_completion: number;
  completed_at: string | null;
  due_at: string | null;
  score: number | null;
}

/** Roster rows (a learner's rows together, in enrollment order) as one RosterPageRow per learner. */
function groupRosterRows(tenantId: string, programId: string, rows: RosterRow[]): RosterPageRow[] {
  const out: RosterPageRow[] = [];
  let cur: RosterPageRow | undefined;
  for (const r of rows) {
    if (!cur || cur.key !== r.email) {
      const completion: Completion | null =
        Number(r.has_completion) === 1 ? { tenantId, programId, learnerId: r.learner_id, completedAt: r.completed_at, score: r.score === null ? null : Number(r.score), dueAt: r.due_at } : null;
      cur = { key: r.email, learner: parse<Learner>(r.data), enrollments: [], completion };
      out.push(cur);
    }
    cur.enrollments.push({ id: r.id, sessionId: r.session_id, learnerId: r.learner_id, status: r.status as EnrollmentStatus, rsvp: r.rsvp as Rsvp, attendance: (r.attendance as Attendance | null) ?? null });
  }
  return out;
}

/** The send limits of one mailbox, as the budget rules read them (src/domain/budget.ts). */
export interface MailboxLimits {
  perMinute: number;
  perDay: number;
  recipientsPerDay: number;
}

export class Store {
  private constructor(
    readonly db: Kysely<Database> | Transaction<Database>,
    readonly dialect: Dialect,
    private readonly root: Kysely<Database>,
  ) {}

  /** Opens (and migrates) the store named by a sqlite: or postgres:// URL. */
  static async open(databaseUrl: string): Promise<Store> {
    let db: Kysely<Database>;
    let dialect: Dialect;
    if (databaseUrl.startsWith('sqlite:')) {
      const file = databaseUrl.slice('sqlite:'.length);
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      dialect = 'sqlite';
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(new BetterSqlite3(file)) }) });
      await tuneSqlite(db);
    } else {
      dialect = 'postgres';
      // pg loads only here: an embedded SQLite install never pays for it at start-up.
      const { default: pg } = await import('pg');
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 10 }) }) });
    }
    const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableName: 'muster_migrations', migrationLockTableName: 'muster_migrations_lock' });
    const { error } = await migrator.migrateToLatest();
    if (error) {
      await db.destroy();
      throw new MusterError('INTERNAL', 'The store could not be migrated to the current schema', { cause: error });
    }
    return new Store(db, dialect, db);
  }

  async close(): Promise<void> {
    await this.root.destroy();
  }

  /** Runs fn in one transaction; everything it writes commits together or not at all. */
  async tx<T>(fn: (s: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.root.transaction().execute((trx) => fn(new Store(trx, this.dialect, this.root)));
  }

  // ---- tenants -------------------------------------------------------------------------------

  async ensureTenant(id: string, name: string, provider: string, now: string): Promise<TenantRow> {
    await this.db
      .insertInto('tenants')
      .values({ id, name, provider, external_id: null, consent_state: provider === 'local' ? 'granted' : 'pending', created_at: now, offboarded_at: null })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return (await this.getTenant(id))!;
  }

  async getTenant(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async tenantByExternalId(externalId: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('external_id', '=', externalId).executeTakeFirst();
  }

  async updateTenant(id: string, patch: Partial<Omit<TenantRow, 'id'>>): Promise<void> {
    await this.db.updateTable('tenants').set(patch).where('id', '=', id).execute();
  }

  /** Every table that holds tenant rows, in the order they are deleted (children first). */
  static readonly TENANT_TABLES = [
    'jobs', 'messages', 'session_events', 'records_baseline', 'roster_rejects', 'questions', 'improvement_notes', 'signoffs', 'templates',
    'feed_tokens', 'completions', 'enrollments', 'learners', 'sessions', 'programs', 'audit_log',
  ] as const;

  /** Deletes every row of a tenant, the tenant row last, in one transaction; returns how many rows went. */
  async deleteTenantData(tenantId: string): Promise<number> {
    return this.tx(async (s) => {
      let n = 0;
      for (const table of Store.TENANT_TABLES) {
        const res = await s.db.deleteFrom(table).where('tenant_id', '=', tenantId).executeTakeFirst();
        n += Number(res.numDeletedRows ?? 0);
      }
      const res = await s.db.deleteFrom('tenants').where('id', '=', tenantId).executeTakeFirst();
      return n + Number(res.numDeletedRows ?? 0);
    });
  }

  async listTenants(): Promise<TenantRow[]> {
    return this.db.selectFrom('tenants').selectAll().orderBy('id').execute();
  }

  // ---- programs ------------------------------------------------------------------------------

  async insertProgram(p: Program): Promise<void> {
    await this.db
      .insertInto('programs')
      .values({ tenant_id: p.tenantId, id: p.id, code: p.code, name: p.name, status: p.status, data: json(p), created_at: p.createdAt, updated_at: p.createdAt })
      .execute();
  }

  async updateProgram(p: Program, now: string): Promise<void> {
    await this.db
      .updateTable('programs')
      .set({ code: p.code, name: p.name, status: p.status, data: json(p), updated_at: now })
      .where('tenant_id', '=', p.tenantId)
      .where('id', '=', p.id)
      .execute();
  }

  async getProgram(tenantId: string, id: string): Promise<Program | undefined> {
    const row = await this.db.selectFrom('programs').select('data').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? parse<Program>(row.data) : undefined;
  }

  /** Finds a program by id or by its short code. */
  async findProgram(tenantId: string, idOrCode: string): Promise<Program | undefined> {
    const row = await this.db
      .selectFrom('programs')
      .select('data')
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('id', '=', idOrCode), eb('code', '=', idOrCode)]))
      .executeTakeFirst();
    return row ? parse<Program>(row.data) : undefined;
  }

  async listPrograms(tenantId: string): Promise<Program[]> {
    const rows = await this.db.selectFrom('programs').select('data').where('tenant_id', '=', tenantId).orderBy('created_at').execute();
    return rows.map((r) => parse<Program>(r.data));
  }

  // ---- sessions ------------------------------------------------------------------------------

  async insertSession(s: Session, now: string): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({ tenant_id: s.tenantId, id: s.id, program_id: s.programId, start_at: s.start, end_at: s.end, status: s.status, data: json(s), updated_at: now })
      .execute();
  }

  async updateSession(s: Session, now: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ start_at: s.start, end_at: s.end, status: s.status, data: json(s), updated_at: now })
      .where('tenant_id', '=', s.tenantId)
      .where('id', '=', s.id)
      .execute();
  }

  async getSession(tenantId: string, id: string): Promise<Session | undefined> {
    const row = await this.db.selectFrom('sessions').select('data').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? parse<Session>(row.data) : undefined;
  }

  async listSessions(tenantId: string, programId?: string): Promise<Session[]> {
    let q = this.db.selectFrom('sessions').select('data').where('tenant_id', '=', tenantId);
    if (programId) q = q.where('program_id', '=', programId);
    const rows = await q.orderBy('start_at').orderBy('id').execute();
    return rows.map((r) => parse<Session>(r.data));
  }

  // ---- learners ------------------------------------------------------------------------------

  /** Inserts a learner or updates the one with the same email; returns the stored learner. Safe when two writers race on one address. */
  async upsertLearner(l: Omit<Learner, 'id'> & { id?: string }, now: string): Promise<Learner> {
    const email = l.email.toLowerCase();
    let existing = await this.learnerByEmail(l.tenantId, email);
    if (!existing) {
      const fresh: Learner = { ...l, email, id: l.id ?? randomUUID(), undeliverable: l.undeliverable ?? false };
      const res = await this.db
        .insertInto('learners')
        .values({ tenant_id: l.tenantId, id: fresh.id, email, data: json(fresh), flags: learnerFieldFlags(fresh), updated_at: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'email']).doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) > 0) return fresh;
      // Another writer stored this address first: update its row, keeping its id.
      existing = await this.learnerByEmail(l.tenantId, email);
      if (!existing) throw new MusterError('CONFLICT', `The learner ${email} changed while being saved; try again`);
    }
    const learner: Learner = { ...l, email, id: existing.id, undeliverable: l.undeliverable ?? existing.undeliverable ?? false };
    await this.db.updateTable('learners').set({ data: json(learner), flags: learnerFieldFlags(learner), updated_at: now }).where('tenant_id', '=', l.tenantId).where('id', '=', existing.id).execute();
    return learner;
  }

  async updateLearner(l: Learner, now: string): Promise<void> {
    await this.db.updateTable('learners').set({ email: l.email, data: json(l), flags: learnerFieldFlags(l), updated_at: now }).where('tenant_id', '=', l.tenantId).where('id', '=', l.id).execute();
  }

  async learnerByEmail(tenantId: string, email: string): Promise<Learner | undefined> {
    const row = await this.db.selectFrom('learners').select('data').where('tenant_id', '=', tenantId).where('email', '=', email.toLowerCase()).executeTakeFirst();
    return row ? parse<Learner>(row.data) : undefined;
  }

  async getLearner(tenantId: string, id: string): Promise<Learner | undefined> {
    const row = await this.db.selectFrom('learners').select('data').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? parse<Learner>(row.data) : undefined;
  }

  /** Learners with any enrollment in the program. */
  async learnersForProgram(tenantId: string, programId: string): Promise<Learner[]> {
    const rows = await this.db
      .selectFrom('learners')
      .select('learners.data')
      .where('learners.tenant_id', '=', tenantId)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('enrollments')
            .select(sql`1`.as('one'))
            .whereRef('enrollments.learner_id', '=', 'learners.id')
            .where('enrollments.tenant_id', '=', tenantId)
            .where('enrollments.program_id', '=', programId),
        ),
      )
      .orderBy('learners.email')
      .execute();
    return rows.map((r) => parse<Learner>(r.data));
  }

  /** A learner as a row of the learners table, flags included (for bulk inserts that bypass upsertLearner). */
  static learnerRow(l: Learner, now: string): { tenant_id: string; id: string; email: string; data: string; flags: number; updated_at: string } {
    return { tenant_id: l.tenantId, id: l.id, email: l.email, data: json(l), flags: learnerFieldFlags(l), updated_at: now };
  }

  /**
   * The roster part of the launch checklist, counted in SQL: seats per session, learners enrolled or waiting, the
   * flagged learners (from the partial index over learners.flags, so the cost follows the flagged few, not the roster),
   * instructor names, and the enrollments of learners who may be in two overlapping sessions. `overlapMine` are this
   * program's sessions that overlap another relevant session, `overlapAny` the relevant sessions that overlap one of
   * this program's; `programOrder` ranks programs as the checklist lists them (this one first).
   */
  async checklistRoster(
    tenantId: string,
    programId: string,
    o: { instructors: string[]; overlapMine: string[]; overlapAny: string[]; programOrder: string[] },
  ): Promise<RosterFacts & { bouncedAnyStatus: Examples & { emails: string[] } }> {
    const seats: RosterFacts['seats'] = {};
    let activeLearners: number;
    if (this.dialect === 'sqlite') {
      // Counters the enrollment triggers keep (migration 004): one row per session and status, one per program.
      const rows = await this.db
        .selectFrom('enrollment_counts')
        .select(['session_id', 'status', 'n'])
        .where('tenant_id', '=', tenantId)
        .where('program_id', '=', programId)
        .where('status', 'in', ['enrolled', 'waitlisted'])
        .execute();
      for (const r of rows) {
        const x = (seats[r.session_id] ??= { enrolled: 0, waitlisted: 0 });
        if (r.status === 'enrolled') x.enrolled = Number(r.n);
        else x.waitlisted = Number(r.n);
      }
      const row = await this.db.selectFrom('program_counts').select('active_learners').where('tenant_id', '=', tenantId).where('program_id', '=', programId).executeTakeFirst();
      activeLearners = Number(row?.active_learners ?? 0);
    } else {
      const rows = await this.db
        .selectFrom('enrollments')
        .select(['session_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('tenant_id', '=', tenantId)
        .where('program_id', '=', programId)
        .where('status', 'in', ['enrolled', 'waitlisted'])
        .groupBy(['session_id', 'status'])
        .execute();
      for (const r of rows) {
        const x = (seats[r.session_id] ??= { enrolled: 0, waitlisted: 0 });
        if (r.status === 'enrolled') x.enrolled = Number(r.n);
        else x.waitlisted = Number(r.n);
      }
      const row = await this.db
        .selectFrom('enrollments')
        .select((eb) => eb.fn.count<number>('learner_id').distinct().as('n'))
        .where('tenant_id', '=', tenantId)
        .where('program_id', '=', programId)
        .where('status', '<>', 'cancelled')
        .executeTakeFirstOrThrow();
      activeLearners = Number(row.n);
    }

    // Flagged learners of the program: counted per flag value in SQL; rows never flagged (-1) are judged here.
    const inProgram = (activeOnly: boolean) =>
      sql`EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = l.tenant_id AND e.learner_id = l.id AND e.program_id = ${programId}${activeOnly ? sql` AND e.status <> 'cancelled'` : sql``})`;
    const counts = await sql<{ flags: number; active: number; n: number }>`
      SELECT x.flags AS flags, x.active AS active, COUNT(*) AS n FROM (
        SELECT l.flags AS flags, CASE WHEN ${inProgram(true)} THEN 1 ELSE 0 END AS active
        FROM learners l WHERE l.tenant_id = ${tenantId} AND l.flags <> 0 AND l.flags > 0 AND ${inProgram(false)}) x
      GROUP BY x.flags, x.active`.execute(this.db);
    const unknown = (
      await sql<{ id: string; email: string; data: string; active: number }>`
        SELECT l.id AS id, l.email AS email, l.data AS data, CASE WHEN ${inProgram(true)} THEN 1 ELSE 0 END AS active
        FROM learners l WHERE l.tenant_id = ${tenantId} AND l.flags <> 0 AND l.flags < 0 AND ${inProgram(false)}`.execute(this.db)
    ).rows.map((r) => ({ learner: parse<Learner>(r.data), email: r.email, active: Number(r.active) === 1 }));
    const examples = async (bit: number, activeOnly: boolean) =>
      (
        await sql<{ email: string; data: string }>`
          SELECT l.email AS email, l.data AS data FROM learners l
          WHERE l.tenant_id = ${tenantId} AND l.flags <> 0 AND l.flags > 0 AND (l.flags & ${bit}) <> 0 AND ${inProgram(activeOnly)}
          ORDER BY l.email LIMIT 5`.execute(this.db)
      ).rows.map((r) => ({ email: r.email, learner: parse<Learner>(r.data) }));
    const tally = async (bit: number, activeOnly: boolean, label: (l: Learner) => string): Promise<Examples> => {
      let count = 0;
      for (const r of counts.rows) if (Number(r.flags) & bit && (!activeOnly || Number(r.active) === 1)) count += Number(r.n);
      const extra = unknown.filter((u) => (!activeOnly || u.active) && learnerFieldFlags(u.learner) & bit);
      if (count + extra.length === 0) return { count: 0, names: [] };
      const found = [...(count > 0 ? await examples(bit, activeOnly) : []), ...extra];
      found.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
      return { count: count + extra.length, names: found.slice(0, 5).map((f) => label(f.learner)) };
    };
    const fields = {} as Record<LearnerField, Examples>;
    for (const k of Object.keys(LEARNER_FLAG) as LearnerField[]) fields[k] = await tally(LEARNER_FLAG[k], true, (l) => learnerLabel(l, k));
    const bouncedAnyStatus = await tally(LEARNER_FLAG.bounced, false, (l) => l.email);

    const people: Record<string, string> = {};
    const wanted = [...new Set(o.instructors.flatMap((i) => [i, i.toLowerCase()]))];
    if (wanted.length > 0) {
      const rows = await sql<{ data: string }>`SELECT l.data AS data FROM learners l WHERE l.tenant_id = ${tenantId} AND l.email IN (${sql.join(wanted)}) AND ${inProgram(false)} ORDER BY l.email`.execute(this.db);
      for (const r of rows.rows) {
        const l = parse<Learner>(r.data);
        if (!(l.email.toLowerCase() in people)) people[l.email.toLowerCase()] = l.name;
      }
    }

    let conflictEnrollments: Enrollment[] = [];
    const conflictNames: Record<string, string> = {};
    if (o.overlapMine.length > 0 && o.overlapAny.length > 0) {
      const candidates = await sql<{ learner_id: string }>`
        SELECT DISTINCT e.learner_id AS learner_id FROM enrollments e
        WHERE e.tenant_id = ${tenantId} AND e.status = 'enrolled' AND e.session_id IN (${sql.join(o.overlapMine)})
          AND EXISTS (SELECT 1 FROM enrollments f WHERE f.tenant_id = e.tenant_id AND f.learner_id = e.learner_id AND f.status = 'enrolled'
                      AND f.session_id <> e.session_id AND f.session_id IN (${sql.join(o.overlapAny)}))`.execute(this.db);
      const ids = candidates.rows.map((r) => r.learner_id);
      const rank = new Map(o.programOrder.map((p, i) => [p, i]));
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = await this.db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId).where('learner_id', 'in', chunk).where('status', '=', 'enrolled').execute();
        conflictEnrollments.push(...rows.map(toEnrollment));
        const ls = await this.db.selectFrom('learners').select(['id', 'data']).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute();
        for (const l of ls) conflictNames[l.id] = parse<Learner>(l.data).name;
      }
      const key = (e: Enrollment) => rank.get(e.programId) ?? rank.size;
      conflictEnrollments = conflictEnrollments.sort((a, b) => key(a) - key(b) || (a.enrolledAt < b.enrolledAt ? -1 : a.enrolledAt > b.enrolledAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    return { activeLearners, fields, seats, people, conflictEnrollments, conflictNames, bouncedAnyStatus: { ...bouncedAnyStatus, emails: bouncedAnyStatus.names } };
  }

  /**
   * The checklist's counters in one round trip, each from its own index: sends from `mailbox` since `since` (as
   * countSends), the program's unknown and failed messages and failed jobs (how many programMessagesWithStatus and
   * programJobsWithStatus would list), unresolved roster rejects (countRosterRejects), which of `jobKinds` have a job in one of
   * `jobStatuses` (programJobKinds, in `jobKinds` order), the tenant's consent state and provider (null without a tenant
   * row), and whether the program has any message, sign-off, improvement note or records conflict (so empty lists are not read).
   */
  async checklistCounts(
    tenantId: string,
    programId: string,
    o: { mailbox: string; since: string; jobKinds: string[]; jobStatuses: string[] },
  ): Promise<{
    sends: number;
    unknownMessages: number;
    failedMessages: number;
    failedJobs: number;
    rosterRejects: number;
    jobKinds: string[];
    tenant: { consentState: string; provider: string } | null;
    has: { messages: boolean; signoffs: boolean; notes: boolean; conflicts: boolean };
  }> {
    const exists = (q: ReturnType<typeof sql>) => sql`CASE WHEN EXISTS (${q}) THEN 1 ELSE 0 END`;
    const kinds = o.jobKinds.map(
      (k, i) =>
        sql`, CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND kind = ${k} AND status IN (${sql.join(o.jobStatuses)})) THEN 1 ELSE 0 END AS ${sql.ref(`k${i}`)}`,
    );
    const res = await sql<Record<string, unknown>>`SELECT
        (SELECT COUNT(*) FROM messages WHERE mailbox = ${o.mailbox} AND sent_at >= ${o.since} AND status IN ('sent', 'unknown')) AS sends,
        (SELECT COUNT(*) FROM messages WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND status = 'unknown') AS unknown_messages,
        (SELECT COUNT(*) FROM messages WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND status = 'failed') AS failed_messages,
        (SELECT COUNT(*) FROM jobs WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND status = 'failed') AS failed_jobs,
        (SELECT COUNT(*) FROM roster_rejects WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND resolved_at IS NULL) AS roster_rejects,
        (SELECT consent_state FROM tenants WHERE id = ${tenantId}) AS consent_state,
        (SELECT provider FROM tenants WHERE id = ${tenantId}) AS provider,
        ${exists(sql`SELECT 1 FROM messages WHERE tenant_id = ${tenantId} AND program_id = ${programId}`)} AS has_messages,
        ${exists(sql`SELECT 1 FROM signoffs WHERE tenant_id = ${tenantId} AND program_id = ${programId}`)} AS has_signoffs,
        ${exists(sql`SELECT 1 FROM improvement_notes WHERE tenant_id = ${tenantId} AND program_id = ${programId}`)} AS has_notes,
        ${exists(sql`SELECT 1 FROM records_baseline WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND tab = '#conflicts'`)} AS has_conflicts${sql.join(kinds, sql``)}`.execute(this.db);
    const r = res.rows[0]!;
    return {
      sends: Number(r.sends),
      unknownMessages: Number(r.unknown_messages),
      failedMessages: Number(r.failed_messages),
      failedJobs: Number(r.failed_jobs),
      rosterRejects: Number(r.roster_rejects),
      jobKinds: o.jobKinds.filter((_, i) => Number(r[`k${i}`]) === 1),
      tenant: r.consent_state == null ? null : { consentState: String(r.consent_state), provider: String(r.provider) },
      has: { messages: Number(r.has_messages) === 1, signoffs: Number(r.has_signoffs) === 1, notes: Number(r.has_notes) === 1, conflicts: Number(r.has_conflicts) === 1 },
    };
  }

  /**
   * The program's learners (any enrollment) after `afterEmail` in email order, `limit` at a time, each with its
   * enrollments (in enrollment order) and its completion, for reads that must not hold a whole roster (the report, the
   * exports). Fewer than `limit` learners means there are no more.
   */
  async programRosterPage(tenantId: string, programId: string, afterEmail: string | null, limit: number): Promise<RosterPageRow[]> {
    if (this.dialect === 'postgres') return this.programRosterPageByLists(tenantId, programId, afterEmail, limit);
    // SQLite: one statement walks the learners in email order and joins each one's enrollments (index order is enrollment
    // order, so nothing is sorted; CROSS JOIN keeps SQLite from starting at the enrollments, which sorts the whole program
    // on the first page) and completion; a learner without an enrollment in the program joins to nothing. It is
    // limited by rows, not learners, so a learner cut off at the end is dropped and read again by the next statement.
    // (A page of learners first, tested with EXISTS and then joined, looked every learner up twice and sorted each page:
    // about a fifth more CPU for the report of 100,000 learners.)
    const out: RosterPageRow[] = [];
    let after = afterEmail;
    let rowsPerLearner = 1;
    while (out.length < limit) {
      const need = limit - out.length;
      const rows = await this.rosterRows(tenantId, programId, { after, rows: Math.ceil(need * rowsPerLearner) + 1 });
      const learners = groupRosterRows(tenantId, programId, rows.rows);
      if (!rows.full) {
        out.push(...learners.slice(0, need));
        return out;
      }
      learners.pop();
      if (learners.length === 0) {
        // One learner has more enrollments than the statement's rows: read that learner whole.
        const whole = await this.rosterRows(tenantId, programId, { only: rows.rows[0]!.email });
        learners.push(...groupRosterRows(tenantId, programId, whole.rows));
      }
      out.push(...learners.slice(0, need));
      rowsPerLearner = Math.max(rowsPerLearner, rows.rows.length / (learners.length + 1));
      after = out[out.length - 1]!.key;
    }
    return out;
  }

  /** The rows programRosterPage groups: after a learner's email up to a number of rows (`full` when cut there), or one learner's all. */
  private async rosterRows(tenantId: string, programId: string, o: { after: string | null; rows: number } | { only: string }): Promise<{ rows: RosterRow[]; full: boolean }> {
    const where = 'only' in o ? sql`l.email = ${o.only}` : o.after === null ? sql`1 = 1` : sql`l.email > ${o.after}`;
    const res = await sql<RosterRow>`
      SELECT l.data AS data, l.email AS email, l.id AS learner_id, e.id AS id, e.session_id AS session_id, e.status AS status, e.rsvp AS rsvp,
        e.attendance AS attendance, CASE WHEN c.learner_id IS NULL THEN 0 ELSE 1 END AS has_completion, c.completed_at AS completed_at, c.due_at AS due_at, c.score AS score
      FROM learners l
      CROSS JOIN enrollments e ON e.tenant_id = l.tenant_id AND e.program_id = ${programId} AND e.learner_id = l.id
      LEFT JOIN completions c ON c.tenant_id = l.tenant_id AND c.program_id = ${programId} AND c.learner_id = l.id
      WHERE l.tenant_id = ${tenantId} AND ${where}
      ORDER BY l.email, e.enrolled_at, e.id ${'only' in o ? sql`` : sql`LIMIT ${o.rows}`}`.execute(this.db);
    return { rows: res.rows, full: !('only' in o) && res.rows.length >= o.rows };
  }

  /**
   * programRosterPage as three indexed reads (the page's learners, then their enrollments and completions by id):
   * PostgreSQL's planner hash-joins the single statement against the whole program's enrollments on every page.
   */
  private async programRosterPageByLists(tenantId: string, programId: string, afterEmail: string | null, limit: number): Promise<RosterPageRow[]> {
    let q = this.db
      .selectFrom('learners as l')
      .select(['l.id', 'l.email', 'l.data'])
      .where('l.tenant_id', '=', tenantId)
      .where((eb) => eb.exists(eb.selectFrom('enrollments as x').select(sql`1`.as('one')).whereRef('x.tenant_id', '=', 'l.tenant_id').where('x.program_id', '=', programId).whereRef('x.learner_id', '=', 'l.id')));
    if (afterEmail !== null) q = q.where('l.email', '>', afterEmail);
    const learners = await q.orderBy('l.email').limit(limit).execute();
    if (learners.length === 0) return [];
    const ids = learners.map((l) => l.id);
    const enrollments = await this.db
      .selectFrom('enrollments')
      .select(['id', 'session_id', 'learner_id', 'status', 'rsvp', 'attendance'])
      .where('tenant_id', '=', tenantId)
      .where('program_id', '=', programId)
      .where('learner_id', 'in', ids)
      .orderBy('enrolled_at')
      .orderBy('id')
      .execute();
    const completions = await this.db.selectFrom('completions').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).where('learner_id', 'in', ids).execute();
    const rows = new Map<string, RosterPageRow>(learners.map((l) => [l.id, { key: l.email, learner: parse<Learner>(l.data), enrollments: [], completion: null }]));
    for (const e of enrollments) rows.get(e.learner_id)?.enrollments.push({ id: e.id, sessionId: e.session_id, learnerId: e.learner_id, status: e.status as EnrollmentStatus, rsvp: e.rsvp as Rsvp, attendance: (e.attendance as Attendance | null) ?? null });
    for (const c of completions) {
      const r = rows.get(c.learner_id);
      if (r) r.completion = { tenantId, programId, learnerId: c.learner_id, completedAt: c.completed_at, score: c.score === null ? null : Number(c.score), dueAt: c.due_at };
    }
    return [...rows.values()];
  }

  async deleteLearner(tenantId: string, id: string): Promise<void> {
    await this.db.deleteFrom('learners').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  /** Removes every row that names the learner; audit entries are left (they hold ids, never emails or names). */
  async eraseLearnerRows(tenantId: string, learnerId: string, email: string, name: string): Promise<void> {
    await this.db.deleteFrom('enrollments').where('tenant_id', '=', tenantId).where('learner_id', '=', learnerId).execute();
    await this.db.deleteFrom('completions').where('tenant_id', '=', tenantId).where('learner_id', '=', learnerId).execute();
    await this.db.deleteFrom('jobs').where('tenant_id', '=', tenantId).where('learner_id', '=', learnerId).execute();
    await this.db.deleteFrom('messages').where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('learner_id', '=', learnerId), eb('recipient', '=', email)])).execute();
    await this.db.deleteFrom('questions').where('tenant_id', '=', tenantId).where('learner_email', '=', email).execute();
    // Free text (rejected rows, last synced copies) is searched here rather than with LIKE, whose wildcards match "_" in addresses.
    const mentions = (text: string) => text.toLowerCase().includes(email.toLowerCase()) || (name.length > 2 && text.includes(name));
    const rejects = await this.db.selectFrom('roster_rejects').select(['id', 'data']).where('tenant_id', '=', tenantId).execute();
    for (const r of rejects.filter((x) => mentions(x.data))) await this.db.deleteFrom('roster_rejects').where('tenant_id', '=', tenantId).where('id', '=', r.id).execute();
    const base = await this.db.selectFrom('records_baseline').select(['program_id', 'tab', 'row_key', 'cells']).where('tenant_id', '=', tenantId).execute();
    for (const b of base.filter((x) => x.row_key === learnerId || mentions(x.cells))) {
      await this.db.deleteFrom('records_baseline').where('tenant_id', '=', tenantId).where('program_id', '=', b.program_id).where('tab', '=', b.tab).where('row_key', '=', b.row_key).execute();
    }
    await this.db.deleteFrom('learners').where('tenant_id', '=', tenantId).where('id', '=', learnerId).execute();
  }


  // ---- enrollments ---------------------------------------------------------------------------

  /** Inserts unless the learner is already in the session; returns the stored enrollment either way. */
  async insertEnrollment(e: Enrollment): Promise<{ enrollment: Enrollment; created: boolean }> {
    const res = await this.db
      .insertInto('enrollments')
      .values({
        tenant_id: e.tenantId,
        id: e.id,
        program_id: e.programId,
        session_id: e.sessionId,
        learner_id: e.learnerId,
        status: e.status,
        wait_position: e.waitPosition,
        rsvp: e.rsvp,
        attendance: e.attendance,
        enrolled_at: e.enrolledAt,
        updated_at: e.enrolledAt,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'session_id', 'learner_id']).doNothing())
      .executeTakeFirst();
    const created = Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    const stored = (await this.listEnrollments(e.tenantId, { sessionId: e.sessionId, learnerId: e.learnerId }))[0]!;
    return { enrollment: stored, created };
  }

  async updateEnrollment(
    tenantId: string,
    id: string,
    patch: { status?: EnrollmentStatus; waitPosition?: number | null; rsvp?: Rsvp; attendance?: Attendance | null },
    now: string,
  ): Promise<void> {
    const set: Record<string, unknown> = { updated_at: now };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.waitPosition !== undefined) set.wait_position = patch.waitPosition;
    if (patch.rsvp !== undefined) set.rsvp = patch.rsvp;
    if (patch.attendance !== undefined) set.attendance = patch.attendance;
    await this.db.updateTable('enrollments').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  /**
   * A session and, when the learner with this email is in it, their enrollment (id and status): one indexed read for
   * each attendance mark instead of a session, a learner and an enrollment lookup.
   */
  async sessionEnrollmentByEmail(tenantId: string, sessionId: string, email: string): Promise<{ session: Session; enrollment: { id: string; status: EnrollmentStatus } | null } | undefined> {
    const row = await this.db
      .selectFrom('sessions as s')
      .leftJoin('learners as l', (j) => j.onRef('l.tenant_id', '=', 's.tenant_id').on('l.email', '=', email.toLowerCase()))
      .leftJoin('enrollments as e', (j) => j.onRef('e.tenant_id', '=', 's.tenant_id').onRef('e.session_id', '=', 's.id').onRef('e.learner_id', '=', 'l.id'))
      .select(['s.data as data', 'e.id as enrollment_id', 'e.status as enrollment_status'])
      .where('s.tenant_id', '=', tenantId)
      .where('s.id', '=', sessionId)
      .executeTakeFirst();
    if (!row) return undefined;
    return { session: parse<Session>(row.data), enrollment: row.enrollment_id ? { id: row.enrollment_id, status: row.enrollment_status as EnrollmentStatus } : null };
  }

  async getEnrollment(tenantId: string, id: string): Promise<Enrollment | undefined> {
    const row = await this.db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toEnrollment(row) : undefined;
  }

  async listEnrollments(tenantId: string, f: { programId?: string; sessionId?: string; learnerId?: string; status?: EnrollmentStatus }): Promise<Enrollment[]> {
    let q = this.db.selectFrom('enrollments').selectAll().where('tenant_id', '=', tenantId);
    if (f.programId) q = q.where('program_id', '=', f.programId);
    if (f.sessionId) q = q.where('session_id', '=', f.sessionId);
    if (f.learnerId) q = q.where('learner_id', '=', f.learnerId);
    if (f.status) q = q.where('status', '=', f.status);
    const rows = await q.orderBy('enrolled_at').orderBy('id').execute();
    return rows.map(toEnrollment);
  }

  // ---- completions ---------------------------------------------------------------------------

  async upsertCompletion(c: Completion, now: string): Promise<void> {
    await this.db
      .insertInto('completions')
      .values({ tenant_id: c.tenantId, program_id: c.programId, learner_id: c.learnerId, completed_at: c.completedAt, score: c.score, due_at: c.dueAt, updated_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'program_id', 'learner_id']).doUpdateSet({ completed_at: c.completedAt, score: c.score, due_at: c.dueAt, updated_at: now }))
      .execute();
  }

  async listCompletions(tenantId: string, programId: string): Promise<Completion[]> {
    const rows = await this.db.selectFrom('completions').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).execute();
    return rows.map((r) => ({ tenantId: r.tenant_id, programId: r.program_id, learnerId: r.learner_id, completedAt: r.completed_at, score: r.score === null ? null : Number(r.score), dueAt: r.due_at }));
  }

  // ---- roster rejects ------------------------------------------------------------------------

  async insertRosterRejects(tenantId: string, rejects: RosterReject[]): Promise<void> {
    for (const r of rejects) {
      await this.db
        .insertInto('roster_rejects')
        .values({ tenant_id: tenantId, id: r.id, program_id: r.programId, source: r.source, row_number: r.rowNumber, data: json(r.data), reasons: json(r.reasons), created_at: r.createdAt, resolved_at: null })
        .execute();
    }
  }

  /** Unresolved rejected rows in the order they came; the first `limit` only when given. */
  async listRosterRejects(tenantId: string, programId: string, limit?: number): Promise<RosterReject[]> {
    let q = this.db
      .selectFrom('roster_rejects')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('program_id', '=', programId)
      .where('resolved_at', 'is', null)
      .orderBy('created_at')
      .orderBy('row_number');
    if (limit !== undefined) q = q.limit(limit);
    const rows = await q.execute();
    return rows.map((r) => ({ id: r.id, programId: r.program_id, source: r.source, rowNumber: Number(r.row_number), data: parse(r.data), reasons: parse(r.reasons), createdAt: r.created_at }));
  }

  async countRosterRejects(tenantId: string, programId: string): Promise<number> {
    const row = await this.db
      .selectFrom('roster_rejects')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('program_id', '=', programId)
      .where('resolved_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async resolveRosterReject(tenantId: string, id: string, now: string): Promise<void> {
    await this.db.updateTable('roster_rejects').set({ resolved_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  // ---- session events (the calendar ledger) --------------------------------------------------

  async getSessionEvent(tenantId: string, sessionId: string, generation: number): Promise<SessionEventRow | undefined> {
    return this.db.selectFrom('session_events').selectAll().where('tenant_id', '=', tenantId).where('session_id', '=', sessionId).where('generation', '=', generation).executeTakeFirst();
  }

  async putSessionEvent(row: SessionEventRow): Promise<void> {
    await this.db
      .insertInto('session_events')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'session_id', 'generation']).doUpdateSet({ external_id: row.external_id, join_url: row.join_url, state: row.state, provider: row.provider, updated_at: row.updated_at }),
      )
      .execute();
  }

  async listSessionEvents(tenantId: string, sessionIds: string[]): Promise<SessionEventRow[]> {
    if (sessionIds.length === 0) return [];
    return this.db.selectFrom('session_events').selectAll().where('tenant_id', '=', tenantId).where('session_id', 'in', sessionIds).execute();
  }

  // ---- jobs ----------------------------------------------------------------------------------

  /** Adds jobs whose key is new; a key already present (sent or pending) is left alone. Returns how many were added. */
  async addJobs(tenantId: string, jobs: NewJob[], now: string): Promise<number> {
    let added = 0;
    for (let i = 0; i < jobs.length; i += 200) {
      const chunk = jobs.slice(i, i + 200);
      if (chunk.length === 0) continue;
      const res = await this.db
        .insertInto('jobs')
        .values(
          chunk.map((j) => ({
            tenant_id: tenantId,
            id: randomUUID(),
            key: j.key,
            kind: j.kind,
            program_id: j.programId,
            session_id: j.sessionId,
            learner_id: j.learnerId,
            run_at: j.runAt,
            payload: json(j.payload),
            status: 'pending',
            attempts: 0,
            lease_owner: null,
            lease_until: null,
            last_error: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
        .executeTakeFirst();
      added += Number(res.numInsertedOrUpdatedRows ?? 0);
    }
    return added;
  }

  /**
   * Leases up to `limit` jobs due at `now` (pending, or running with an expired lease) to `owner`.
   * PostgreSQL uses FOR UPDATE SKIP LOCKED so replicas never take the same job; SQLite has one writer.
   */
  async claimDueJobs(now: string, owner: string, leaseUntil: string, limit: number, tenantId?: string): Promise<JobRow[]> {
    return this.tx(async (s) => {
      if (s.dialect === 'postgres') {
        const tenantFilter = tenantId ? sql`AND tenant_id = ${tenantId}` : sql``;
        const res = await sql<JobRow>`
          UPDATE jobs SET status = 'running', lease_owner = ${owner}, lease_until = ${leaseUntil}, attempts = attempts + 1, updated_at = ${now}
          WHERE (tenant_id, id) IN (
            SELECT tenant_id, id FROM jobs
            WHERE ((status = 'pending' AND run_at <= ${now}) OR (status = 'running' AND lease_until < ${now})) ${tenantFilter}
            ORDER BY run_at, id LIMIT ${limit}
            FOR UPDATE SKIP LOCKED)
          RETURNING *`.execute(s.db);
        return res.rows;
      }
      let q = s.db
        .selectFrom('jobs')
        .select(['tenant_id', 'id'])
        .where((eb) => eb.or([eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]), eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)])]));
      if (tenantId) q = q.where('tenant_id', '=', tenantId);
      const due = await q.orderBy('run_at').orderBy('id').limit(limit).execute();
      const claimed: JobRow[] = [];
      for (const d of due) {
        await s.db
          .updateTable('jobs')
          .set((eb) => ({ status: 'running', lease_owner: owner, lease_until: leaseUntil, attempts: eb('attempts', '+', 1), updated_at: now }))
          .where('tenant_id', '=', d.tenant_id)
          .where('id', '=', d.id)
          .execute();
        const row = await s.db.selectFrom('jobs').selectAll().where('tenant_id', '=', d.tenant_id).where('id', '=', d.id).executeTakeFirstOrThrow();
        claimed.push(row);
      }
      return claimed;
    });
  }

  /** Extends the lease of jobs a live worker still holds. */
  async heartbeat(owner: string, leaseUntil: string): Promise<void> {
    await this.db.updateTable('jobs').set({ lease_until: leaseUntil }).where('lease_owner', '=', owner).where('status', '=', 'running').execute();
  }

  /** Finishes a job this worker holds; a job whose lease moved to another worker is left to it. */
  async finishJob(tenantId: string, id: string, owner: string, status: 'done' | 'skipped' | 'failed' | 'pending', now: string, opts: { error?: string; runAt?: string } = {}): Promise<void> {
    const set: Record<string, unknown> = { status, updated_at: now, lease_owner: null, lease_until: null, last_error: opts.error ?? null };
    if (opts.runAt) set.run_at = opts.runAt;
    await this.db.updateTable('jobs').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).where('lease_owner', '=', owner).execute();
  }

  /** Whether a pending job of this kind exists for the program (or session); answered from an index, without a scan. */
  async hasPendingJob(tenantId: string, kind: string, scope: { programId?: string; sessionId?: string }): Promise<boolean> {
    let q = this.db.selectFrom('jobs').select('id').where('tenant_id', '=', tenantId).where('kind', '=', kind).where('status', '=', 'pending');
    if (scope.programId) q = q.where('program_id', '=', scope.programId);
    if (scope.sessionId) q = q.where('session_id', '=', scope.sessionId);
    return (await q.limit(1).executeTakeFirst()) !== undefined;
  }

  /** Marks a pending job skipped with its reason (no lease involved: nobody runs it). */
  async skipPendingJob(tenantId: string, id: string, reason: string, now: string): Promise<void> {
    await this.db.updateTable('jobs').set({ status: 'skipped', last_error: reason, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').execute();
  }

  async listJobs(tenantId: string, f: { programId?: string; sessionId?: string; learnerId?: string; status?: string[]; kind?: string } = {}): Promise<JobRow[]> {
    let q = this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId);
    if (f.programId) q = q.where('program_id', '=', f.programId);
    if (f.sessionId) q = q.where('session_id', '=', f.sessionId);
    if (f.learnerId) q = q.where('learner_id', '=', f.learnerId);
    if (f.status) q = q.where('status', 'in', f.status);
    if (f.kind) q = q.where('kind', '=', f.kind);
    return q.orderBy('run_at').orderBy('key').execute();
  }

  /** Which of `kinds` have a job in one of `statuses` for the program: one indexed probe per kind, never a scan of its jobs. */
  async programJobKinds(tenantId: string, programId: string, kinds: string[], statuses: string[]): Promise<string[]> {
    if (kinds.length === 0) return [];
    const probes = kinds.map(
      (k) => sql`SELECT ${k} AS kind WHERE EXISTS (SELECT 1 FROM jobs WHERE tenant_id = ${tenantId} AND program_id = ${programId} AND kind = ${k} AND status IN (${sql.join(statuses)}))`,
    );
    const res = await sql<{ kind: string }>`${sql.join(probes, sql` UNION ALL `)}`.execute(this.db);
    return res.rows.map((r) => r.kind);
  }

  /** The first `limit` of the program's jobs with a status (run_at, key order); checklistCounts gives how many. */
  async programJobsWithStatus(tenantId: string, programId: string, status: string, limit: number): Promise<JobRow[]> {
    return this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).where('status', '=', status).orderBy('run_at').orderBy('key').limit(limit).execute();
  }

  async rescheduleJob(tenantId: string, id: string, runAt: string, now: string): Promise<void> {
    await this.db.updateTable('jobs').set({ run_at: runAt, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').execute();
  }

  /**
   * Marks failed jobs of a kind skipped once a later job of that kind converged the same state (a records sync for the
   * program, an event sync for the session), so a fixed failure stops blocking the checklist; returns how many.
   */
  async supersedeFailedJobs(tenantId: string, f: { programId: string; sessionId?: string; kind: string }, reason: string, now: string): Promise<number> {
    let q = this.db.updateTable('jobs').set({ status: 'skipped', last_error: reason, updated_at: now }).where('tenant_id', '=', tenantId).where('status', '=', 'failed').where('program_id', '=', f.programId).where('kind', '=', f.kind);
    if (f.sessionId) q = q.where('session_id', '=', f.sessionId);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Cancels pending jobs matching the filter (a sent job is history and stays). */
  async cancelPendingJobs(tenantId: string, f: { sessionId?: string; learnerId?: string; programId?: string; kinds?: string[] }, reason: string, now: string): Promise<number> {
    let q = this.db.updateTable('jobs').set({ status: 'skipped', last_error: reason, updated_at: now }).where('tenant_id', '=', tenantId).where('status', '=', 'pending');
    if (f.sessionId) q = q.where('session_id', '=', f.sessionId);
    if (f.learnerId) q = q.where('learner_id', '=', f.learnerId);
    if (f.programId) q = q.where('program_id', '=', f.programId);
    if (f.kinds) q = q.where('kind', 'in', f.kinds);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows ?? 0);
  }

  async countJobs(tenantId: string | null, status: string): Promise<number> {
    let q = this.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', status);
    if (tenantId) q = q.where('tenant_id', '=', tenantId);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- messages (the mail ledger) ------------------------------------------------------------

  /** Records a message before it is sent; returns the ledger row (the existing one when the key is known). */
  async reserveMessage(row: Omit<MessageRow, 'status' | 'attempts' | 'error' | 'sent_at' | 'provider_id'>): Promise<MessageRow> {
    await this.db
      .insertInto('messages')
      .values({ ...row, status: 'pending', attempts: 0, error: null, sent_at: null, provider_id: null })
      .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
      .execute();
    return (await this.getMessage(row.tenant_id, row.key))!;
  }

  async getMessage(tenantId: string, key: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
  }

  async updateMessage(tenantId: string, key: string, patch: Partial<Pick<MessageRow, 'status' | 'attempts' | 'error' | 'sent_at' | 'provider_id'>>): Promise<void> {
    await this.db.updateTable('messages').set(patch).where('tenant_id', '=', tenantId).where('key', '=', key).execute();
  }

  async listMessages(tenantId: string, f: { programId?: string; learnerId?: string; status?: string[]; sessionId?: string } = {}): Promise<MessageRow[]> {
    let q = this.db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId);
    if (f.programId) q = q.where('program_id', '=', f.programId);
    if (f.learnerId) q = q.where('learner_id', '=', f.learnerId);
    if (f.sessionId) q = q.where('session_id', '=', f.sessionId);
    if (f.status) q = q.where('status', 'in', f.status);
    return q.orderBy('created_at').orderBy('key').execute();
  }

  /** The first `limit` of the program's messages with a status (created_at, key order); checklistCounts gives how many. */
  async programMessagesWithStatus(tenantId: string, programId: string, status: string, limit: number): Promise<MessageRow[]> {
    return this.db.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).where('status', '=', status).orderBy('created_at').orderBy('key').limit(limit).execute();
  }

  /** The program's last `limit` messages' keys and subjects, oldest first (the tail of listMessages). */
  async recentMessageSubjects(tenantId: string, programId: string, limit: number): Promise<Array<{ key: string; subject: string }>> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['key', 'subject'])
      .where('tenant_id', '=', tenantId)
      .where('program_id', '=', programId)
      .orderBy('created_at', 'desc')
      .orderBy('key', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }

  /** Sends from one mailbox since an instant: the history a rolling send budget is computed from. */
  async mailboxHistory(mailbox: string, since: string): Promise<Array<{ at: string; recipients: number }>> {
    return this.sendsSince(mailbox, since);
  }

  private async sendsSince(mailbox: string, since: string): Promise<Array<{ at: string; recipients: number }>> {
    const rows = await this.db
      .selectFrom('messages')
      .select(['sent_at'])
      .where('mailbox', '=', mailbox)
      .where('sent_at', '>=', since)
      .where('status', 'in', ['sent', 'unknown'])
      .orderBy('sent_at')
      .execute();
    return rows.map((r) => ({ at: r.sent_at!, recipients: 1 }));
  }

  /**
   * The part of a mailbox's send history that decides whether the next message may go and when (budgetState gives the same
   * canSend and waitUntil as with the full history): only the last minute's sends while the day's counts are under the
   * limits (counted in SQL), the whole day's otherwise. Keeps a send's budget check from growing with the day's volume.
   */
  async budgetHistory(mailbox: string, nowIso: string, limits: MailboxLimits): Promise<Array<{ at: string; recipients: number }>> {
    const now = Date.parse(nowIso);
    const daySince = new Date(now - 24 * 3600_000).toISOString();
    const row = await this.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('mailbox', '=', mailbox)
      .where('sent_at', '>=', daySince)
      .where('status', 'in', ['sent', 'unknown'])
      .executeTakeFirstOrThrow();
    const day = Number(row.n);
    // One recipient per message in the ledger, so the recipient count equals the message count.
    if (day + 1 > limits.perDay || day + 1 > limits.recipientsPerDay) return this.sendsSince(mailbox, daySince);
    return this.sendsSince(mailbox, new Date(now - 60_000).toISOString());
  }

  /**
   * Takes the next send attempt of a ledger row only if nobody else took it since `seenAttempts` was read; false means
   * another worker is sending or has sent it, and this one must not.
   */
  async claimMessageAttempt(tenantId: string, key: string, seenAttempts: number): Promise<boolean> {
    const res = await this.db
      .updateTable('messages')
      .set({ attempts: seenAttempts + 1 })
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('attempts', '=', seenAttempts)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(res.numUpdatedRows ?? 0) === 1;
  }

  /** How many messages a mailbox sent (or may have sent) since an instant. */
  async countSends(mailbox: string, since: string): Promise<number> {
    const row = await this.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('mailbox', '=', mailbox)
      .where('sent_at', '>=', since)
      .where('status', 'in', ['sent', 'unknown'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteMessagesBefore(before: string): Promise<number> {
    const res = await this.db.deleteFrom('messages').where('created_at', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows ?? 0);
  }

  // ---- questions and improvement notes -------------------------------------------------------

  async insertQuestion(q: Question): Promise<void> {
    await this.db.insertInto('questions').values({ tenant_id: q.tenantId, id: q.id, program_id: q.programId, learner_email: q.learnerEmail, text: q.text, created_at: q.createdAt }).execute();
  }

  async listQuestions(tenantId: string, programId: string): Promise<Question[]> {
    const rows = await this.db.selectFrom('questions').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, programId: r.program_id, learnerEmail: r.learner_email, text: r.text, createdAt: r.created_at }));
  }

  async upsertImprovementNote(n: ImprovementNote): Promise<void> {
    await this.db
      .insertInto('improvement_notes')
      .values({ tenant_id: n.tenantId, id: n.id, program_id: n.programId, group_key: n.groupKey, text: n.text, owner: n.owner, status: n.status, learners: n.learners, created_at: n.createdAt })
      .onConflict((oc) => oc.columns(['tenant_id', 'program_id', 'group_key']).doUpdateSet({ text: n.text, learners: n.learners }))
      .execute();
  }

  async listImprovementNotes(tenantId: string, programId: string): Promise<ImprovementNote[]> {
    const rows = await this.db.selectFrom('improvement_notes').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, programId: r.program_id, groupKey: r.group_key, text: r.text, owner: r.owner, status: r.status as 'open' | 'closed', learners: Number(r.learners), createdAt: r.created_at }));
  }

  // ---- sign-offs and templates ---------------------------------------------------------------

  async putSignoff(tenantId: string, programId: string, itemId: string, by: string, note: string, at: string): Promise<void> {
    await this.db
      .insertInto('signoffs')
      .values({ tenant_id: tenantId, program_id: programId, item_id: itemId, signed_by: by, note, signed_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'program_id', 'item_id']).doUpdateSet({ signed_by: by, note, signed_at: at }))
      .execute();
  }

  async listSignoffs(tenantId: string, programId: string): Promise<Record<string, { by: string; note: string; at: string }>> {
    const rows = await this.db.selectFrom('signoffs').selectAll().where('tenant_id', '=', tenantId).where('program_id', '=', programId).execute();
    return Object.fromEntries(rows.map((r) => [r.item_id, { by: r.signed_by, note: r.note, at: r.signed_at }]));
  }

  async putTemplate(tenantId: string, programId: string, kind: string, language: string, subject: string, body: string, now: string): Promise<void> {
    await this.db
      .insertInto('templates')
      .values({ tenant_id: tenantId, program_id: programId, kind, language, subject, body, updated_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'program_id', 'kind', 'language']).doUpdateSet({ subject, body, updated_at: now }))
      .execute();
  }

  async listTemplates(tenantId: string, programId: string): Promise<Array<{ kind: string; language: string; subject: string; body: string }>> {
    return this.db.selectFrom('templates').select(['kind', 'language', 'subject', 'body']).where('tenant_id', '=', tenantId).where('program_id', '=', programId).execute();
  }

  // ---- records baseline (last synced copy, for three-way merges) -----------------------------

  async getBaseline(tenantId: string, programId: string, tab: string): Promise<Map<string, Record<string, unknown>>> {
    const rows = await this.db.selectFrom('records_baseline').select(['row_key', 'cells']).where('tenant_id', '=', tenantId).where('program_id', '=', programId).where('tab', '=', tab).execute();
    return new Map(rows.map((r) => [r.row_key, parse<Record<string, unknown>>(r.cells)]));
  }

  async replaceBaseline(tenantId: string, programId: string, tab: string, rows: Map<string, Record<string, unknown>>): Promise<void> {
    await this.tx(async (s) => {
      await s.db.deleteFrom('records_baseline').where('tenant_id', '=', tenantId).where('program_id', '=', programId).where('tab', '=', tab).execute();
      const values = [...rows].map(([k, cells]) => ({ tenant_id: tenantId, program_id: programId, tab, row_key: k, cells: json(cells) }));
      for (let i = 0; i < values.length; i += 200) await s.db.insertInto('records_baseline').values(values.slice(i, i + 200)).execute();
    });
  }

  // ---- audit log -----------------------------------------------------------------------------

  async audit(e: AuditEntry, at: string): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ tenant_id: e.tenantId, at, actor: e.actor, surface: e.surface, action: e.action, entity: e.entity, entity_id: e.entityId, detail: json(e.detail ?? {}) })
      .execute();
  }

  async listAudit(tenantId: string, limit = 200): Promise<Array<{ at: string; actor: string; surface: string; action: string; entity: string; entityId: string; detail: Record<string, unknown> }>> {
    const rows = await this.db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ at: r.at, actor: r.actor, surface: r.surface, action: r.action, entity: r.entity, entityId: r.entity_id, detail: parse(r.detail) }));
  }

  // ---- feed tokens ---------------------------------------------------------------------------

  async putFeedToken(tenantId: string, programId: string, tokenHash: string, now: string): Promise<void> {
    await this.db.updateTable('feed_tokens').set({ revoked_at: now }).where('tenant_id', '=', tenantId).where('program_id', '=', programId).where('revoked_at', 'is', null).execute();
    await this.db.insertInto('feed_tokens').values({ tenant_id: tenantId, program_id: programId, token_hash: tokenHash, created_at: now, revoked_at: null }).execute();
  }

  async feedByTokenHash(tokenHash: string): Promise<{ tenantId: string; programId: string } | undefined> {
    const row = await this.db.selectFrom('feed_tokens').select(['tenant_id', 'program_id']).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
    return row ? { tenantId: row.tenant_id, programId: row.program_id } : undefined;
  }
}

/**
 * Kysely prepares every SQLite statement again on each query, which costs as much as running the small indexed reads
 * the request paths make; this keeps the last few hundred prepared statements by their text (parameters are bound per
 * run). A statement still being iterated is not shared: a fresh one is prepared for the overlapping query.
 */
function reusingStatements(db: BetterSqlite3.Database, max = 500): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepare = db.prepare.bind(db);
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (text: string) => {
        const hit = cache.get(text);
        if (hit && !hit.busy) {
          cache.delete(text);
          cache.set(text, hit);
          return hit;
        }
        const stmt = prepare(text);
        if (!hit) {
          cache.set(text, stmt);
          if (cache.size > max) cache.delete(cache.keys().next().value!);
        }
        return stmt;
      };
    },
  });
}

function toEnrollment(r: Database['enrollments']): Enrollment {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    programId: r.program_id,
    sessionId: r.session_id,
    learnerId: r.learner_id,
    status: r.status as EnrollmentStatus,
    waitPosition: r.wait_position === null ? null : Number(r.wait_position),
    rsvp: r.rsvp as Rsvp,
    attendance: (r.attendance as Attendance | null) ?? null,
    enrolledAt: r.enrolled_at,
  };
}
