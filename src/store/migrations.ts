// Versioned schema migrations, written once with Kysely's schema builder so SQLite and PostgreSQL get the same tables.
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { learnerFieldFlags } from '../domain/checklist.js';
import type { Learner } from '../domain/types.js';

export type Dialect = 'sqlite' | 'postgres';

function m001(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('consent_state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('offboarded_at', 'text')
        .execute();
      await db.schema.createIndex('tenants_external').on('tenants').column('external_id').execute();

      await db.schema
        .createTable('programs')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('programs_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('programs_code', ['tenant_id', 'code'])
        .execute();

      await db.schema
        .createTable('sessions')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('start_at', 'text', (c) => c.notNull())
        .addColumn('end_at', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sessions_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('sessions_program').on('sessions').columns(['tenant_id', 'program_id', 'start_at']).execute();

      await db.schema
        .createTable('learners')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('learners_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('learners_email', ['tenant_id', 'email'])
        .execute();

      await db.schema
        .createTable('enrollments')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('learner_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('wait_position', 'integer')
        .addColumn('rsvp', 'text', (c) => c.notNull())
        .addColumn('attendance', 'text')
        .addColumn('enrolled_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('enrollments_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('enrollments_once', ['tenant_id', 'session_id', 'learner_id'])
        .execute();
      await db.schema.createIndex('enrollments_program').on('enrollments').columns(['tenant_id', 'program_id']).execute();
      await db.schema.createIndex('enrollments_learner').on('enrollments').columns(['tenant_id', 'learner_id']).execute();

      await db.schema
        .createTable('completions')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('learner_id', 'text', (c) => c.notNull())
        .addColumn('completed_at', 'text')
        .addColumn('score', 'real')
        .addColumn('due_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('completions_pk', ['tenant_id', 'program_id', 'learner_id'])
        .execute();

      await db.schema
        .createTable('roster_rejects')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('row_number', 'integer', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .addPrimaryKeyConstraint('roster_rejects_pk', ['tenant_id', 'id'])
        .execute();

      await db.schema
        .createTable('session_events')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('create_key', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('join_url', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_events_pk', ['tenant_id', 'session_id', 'generation'])
        .execute();

      await db.schema
        .createTable('jobs')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('learner_id', 'text')
        .addColumn('run_at', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('jobs_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('jobs_key', ['tenant_id', 'key'])
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();
      await db.schema.createIndex('jobs_program').on('jobs').columns(['tenant_id', 'program_id', 'status']).execute();

      await db.schema
        .createTable('messages')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('learner_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('mailbox', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('provider_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .addPrimaryKeyConstraint('messages_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('messages_key', ['tenant_id', 'key'])
        .execute();
      await db.schema.createIndex('messages_program').on('messages').columns(['tenant_id', 'program_id']).execute();
      await db.schema.createIndex('messages_mailbox').on('messages').columns(['mailbox', 'sent_at']).execute();

      await db.schema
        .createTable('questions')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('learner_email', 'text')
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('questions_pk', ['tenant_id', 'id'])
        .execute();

      await db.schema
        .createTable('improvement_notes')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('group_key', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('learners', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('improvement_notes_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('improvement_notes_group', ['tenant_id', 'program_id', 'group_key'])
        .execute();

      await db.schema
        .createTable('signoffs')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        .addColumn('signed_by', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('signed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('signoffs_pk', ['tenant_id', 'program_id', 'item_id'])
        .execute();

      await db.schema
        .createTable('templates')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('templates_pk', ['tenant_id', 'program_id', 'kind', 'language'])
        .execute();

      await db.schema
        .createTable('records_baseline')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('tab', 'text', (c) => c.notNull())
        .addColumn('row_key', 'text', (c) => c.notNull())
        .addColumn('cells', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('records_baseline_pk', ['tenant_id', 'program_id', 'tab', 'row_key'])
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('surface', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('entity', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_tenant').on('audit_log').columns(['tenant_id', 'at']).execute();

      await db.schema
        .createTable('feed_tokens')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('program_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addPrimaryKeyConstraint('feed_tokens_pk', ['token_hash'])
        .execute();
    },
    async down() {
      throw new Error('Muster migrations only move forward');
    },
  };
}

/** PostgreSQL's `real` is a 4-byte float (87.123456 came back as 87.12346); scores are kept as 8-byte floats as in SQLite. */
function m002(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'postgres') await sql`ALTER TABLE completions ALTER COLUMN score TYPE double precision`.execute(db);
    },
    async down() {
      throw new Error('Muster migrations only move forward');
    },
  };
}

/** "Is a sync of this kind already queued?" is asked on every write; it must not scan a program's jobs. */
function m003(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('jobs_program_kind').on('jobs').columns(['tenant_id', 'program_id', 'kind', 'status']).execute();
      await db.schema.createIndex('jobs_session_kind').on('jobs').columns(['tenant_id', 'session_id', 'kind', 'status']).execute();
    },
    async down() {
      throw new Error('Muster migrations only move forward');
    },
  };
}

/**
 * The checklist and the report answer from indexes instead of loading a program: learners carry `flags` (which of their
 * fields the checklist would flag; -1 until computed, which the checklist treats as "look at this one"), with a partial
 * index over the flagged few; enrollments, messages and roster rejects get indexes their per-program reads can be
 * answered from. Existing learners are flagged here, in pages.
 */
function m004(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'sqlite') await enrollmentCounters(db);
      await sql`ALTER TABLE learners ADD COLUMN flags integer NOT NULL DEFAULT -1`.execute(db);
      let after: { tenant_id: string; id: string } | null = null;
      for (;;) {
        let q = db.selectFrom('learners').select(['tenant_id', 'id', 'data']).orderBy('tenant_id').orderBy('id').limit(1000);
        if (after) {
          const a = after;
          q = q.where((eb) => eb.or([eb('tenant_id', '>', a.tenant_id), eb.and([eb('tenant_id', '=', a.tenant_id), eb('id', '>', a.id)])]));
        }
        const rows = (await q.execute()) as Array<{ tenant_id: string; id: string; data: string }>;
        if (rows.length === 0) break;
        for (const r of rows) {
          await db.updateTable('learners').set({ flags: learnerFieldFlags(JSON.parse(r.data) as Learner) }).where('tenant_id', '=', r.tenant_id).where('id', '=', r.id).execute();
        }
        after = rows[rows.length - 1]!;
      }
      await sql`CREATE INDEX learners_flagged ON learners (tenant_id, email) WHERE flags <> 0`.execute(db);
      await db.schema.createIndex('enrollments_program_seats').on('enrollments').columns(['tenant_id', 'program_id', 'session_id', 'status', 'learner_id']).execute();
      // Covers the report's page reads (and the checklist's "is this learner in the program" probes) without touching rows.
      await db.schema.createIndex('enrollments_program_learner').on('enrollments').columns(['tenant_id', 'program_id', 'learner_id', 'enrolled_at', 'id', 'session_id', 'status', 'rsvp', 'attendance']).execute();
      await db.schema.createIndex('completions_program_learner').on('completions').columns(['tenant_id', 'program_id', 'learner_id', 'completed_at', 'due_at', 'score']).execute();
      await db.schema.createIndex('messages_program_status').on('messages').columns(['tenant_id', 'program_id', 'status', 'created_at', 'key']).execute();
      await db.schema.createIndex('messages_program_created').on('messages').columns(['tenant_id', 'program_id', 'created_at', 'key']).execute();
      await db.schema.createIndex('messages_mailbox_status').on('messages').columns(['mailbox', 'status', 'sent_at']).execute();
      await db.schema.createIndex('roster_rejects_program').on('roster_rejects').columns(['tenant_id', 'program_id', 'resolved_at', 'created_at', 'row_number']).execute();
    },
    async down() {
      throw new Error('Muster migrations only move forward');
    },
  };
}

/**
 * SQLite only (one writer, so no lock order to get wrong): counters kept by triggers on enrollments, so the checklist
 * reads seats per session and learners enrolled or waiting per program from a row each instead of counting the roster.
 * enrollment_counts holds every status per session, program_learner_counts a learner's enrollments that are not
 * cancelled, program_counts how many learners have one; rows that fall to zero are deleted, so an erased learner or a
 * deleted tenant leaves none behind. PostgreSQL counts with aggregates (several writers would queue on one counter row).
 */
async function enrollmentCounters(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE enrollment_counts (tenant_id text NOT NULL, program_id text NOT NULL, session_id text NOT NULL, status text NOT NULL, n integer NOT NULL,
    PRIMARY KEY (tenant_id, program_id, session_id, status))`.execute(db);
  await sql`CREATE TABLE program_learner_counts (tenant_id text NOT NULL, program_id text NOT NULL, learner_id text NOT NULL, active integer NOT NULL,
    PRIMARY KEY (tenant_id, program_id, learner_id))`.execute(db);
  await sql`CREATE TABLE program_counts (tenant_id text NOT NULL, program_id text NOT NULL, active_learners integer NOT NULL, PRIMARY KEY (tenant_id, program_id))`.execute(db);
  const add = (r: 'NEW') => sql.raw(`
    INSERT INTO enrollment_counts (tenant_id, program_id, session_id, status, n) VALUES (${r}.tenant_id, ${r}.program_id, ${r}.session_id, ${r}.status, 1)
      ON CONFLICT (tenant_id, program_id, session_id, status) DO UPDATE SET n = n + 1;
    INSERT INTO program_counts (tenant_id, program_id, active_learners) SELECT ${r}.tenant_id, ${r}.program_id, 1
      WHERE ${r}.status <> 'cancelled' AND NOT EXISTS (SELECT 1 FROM program_learner_counts c WHERE c.tenant_id = ${r}.tenant_id AND c.program_id = ${r}.program_id AND c.learner_id = ${r}.learner_id)
      ON CONFLICT (tenant_id, program_id) DO UPDATE SET active_learners = active_learners + 1;
    INSERT INTO program_learner_counts (tenant_id, program_id, learner_id, active) SELECT ${r}.tenant_id, ${r}.program_id, ${r}.learner_id, 1 WHERE ${r}.status <> 'cancelled'
      ON CONFLICT (tenant_id, program_id, learner_id) DO UPDATE SET active = active + 1;`);
  const remove = (r: 'OLD') => sql.raw(`
    UPDATE enrollment_counts SET n = n - 1 WHERE tenant_id = ${r}.tenant_id AND program_id = ${r}.program_id AND session_id = ${r}.session_id AND status = ${r}.status;
    DELETE FROM enrollment_counts WHERE tenant_id = ${r}.tenant_id AND program_id = ${r}.program_id AND session_id = ${r}.session_id AND status = ${r}.status AND n <= 0;
    UPDATE program_learner_counts SET active = active - 1 WHERE ${r}.status <> 'cancelled' AND tenant_id = ${r}.tenant_id AND program_id = ${r}.program_id AND learner_id = ${r}.learner_id;
    UPDATE program_counts SET active_learners = active_learners - 1 WHERE tenant_id = ${r}.tenant_id AND program_id = ${r}.program_id
      AND EXISTS (SELECT 1 FROM program_learner_counts c WHERE c.tenant_id = ${r}.tenant_id AND c.program_id = ${r}.program_id AND c.learner_id = ${r}.learner_id AND c.active <= 0);
    DELETE FROM program_learner_counts WHERE tenant_id = ${r}.tenant_id AND program_id = ${r}.program_id AND learner_id = ${r}.learner_id AND active <= 0;
    DELETE FROM program_counts WHERE tenant_id = ${r}.tenant_id AND program_id = ${r}.program_id AND active_learners <= 0;`);
  await sql`CREATE TRIGGER enrollments_count_insert AFTER INSERT ON enrollments BEGIN ${add('NEW')} END`.execute(db);
  await sql`CREATE TRIGGER enrollments_count_delete AFTER DELETE ON enrollments BEGIN ${remove('OLD')} END`.execute(db);
  await sql`CREATE TRIGGER enrollments_count_update AFTER UPDATE OF tenant_id, program_id, session_id, learner_id, status ON enrollments BEGIN ${remove('OLD')} ${add('NEW')} END`.execute(db);
  await sql`INSERT INTO enrollment_counts (tenant_id, program_id, session_id, status, n) SELECT tenant_id, program_id, session_id, status, COUNT(*) FROM enrollments GROUP BY tenant_id, program_id, session_id, status`.execute(db);
  await sql`INSERT INTO program_learner_counts (tenant_id, program_id, learner_id, active) SELECT tenant_id, program_id, learner_id, COUNT(*) FROM enrollments WHERE status <> 'cancelled' GROUP BY tenant_id, program_id, learner_id`.execute(db);
  await sql`INSERT INTO program_counts (tenant_id, program_id, active_learners) SELECT tenant_id, program_id, COUNT(*) FROM program_learner_counts GROUP BY tenant_id, program_id`.execute(db);
}

/** Append-only: never edit a released migration, add the next one. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return { '001_initial': m001(dialect), '002_score_double': m002(dialect), '003_jobs_kind_index': m003(), '004_checklist_report_indexes': m004(dialect) };
    },
  };
}

/** Pragmas that make the SQLite file safe and fast for one writer with readers. */
export async function tuneSqlite(db: Kysely<any>): Promise<void> {
  await sql`PRAGMA journal_mode = WAL`.execute(db);
  await sql`PRAGMA synchronous = NORMAL`.execute(db);
  await sql`PRAGMA busy_timeout = 5000`.execute(db);
  await sql`PRAGMA foreign_keys = ON`.execute(db);
}
