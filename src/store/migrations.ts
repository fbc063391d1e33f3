// Versioned schema migrations, written once with Kysely's schema builder so SQLite and PostgreSQL get the same tables.
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

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

/** Append-only: never edit a released migration, add the next one. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return { '001_initial': m001(dialect), '002_score_double': m002(dialect), '003_jobs_kind_index': m003() };
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
