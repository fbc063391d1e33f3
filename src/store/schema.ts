// Row shapes of Muster's ledger tables as Kysely sees them; timestamps are UTC ISO text in both SQLite and PostgreSQL.
import type { Generated } from 'kysely';

export interface TenantsTable {
  id: string;
  name: string;
  provider: string;
  /** Microsoft tid or Google Workspace domain that maps to this tenant, if any. */
  external_id: string | null;
  consent_state: string;
  created_at: string;
  /** When set, the tenant's data is deleted after the grace period from this instant. */
  offboarded_at: string | null;
}

export interface ProgramsTable {
  tenant_id: string;
  id: string;
  code: string;
  name: string;
  status: string;
  data: string;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  tenant_id: string;
  id: string;
  program_id: string;
  start_at: string;
  end_at: string;
  status: string;
  data: string;
  updated_at: string;
}

export interface LearnersTable {
  tenant_id: string;
  id: string;
  email: string;
  data: string;
  /** Which fields the launch checklist flags (learnerFieldFlags); -1 until computed. */
  flags: Generated<number>;
  updated_at: string;
}

export interface EnrollmentsTable {
  tenant_id: string;
  id: string;
  program_id: string;
  session_id: string;
  learner_id: string;
  status: string;
  wait_position: number | null;
  rsvp: string;
  attendance: string | null;
  enrolled_at: string;
  updated_at: string;
}

export interface CompletionsTable {
  tenant_id: string;
  program_id: string;
  learner_id: string;
  completed_at: string | null;
  score: number | null;
  due_at: string | null;
  updated_at: string;
}

export interface RosterRejectsTable {
  tenant_id: string;
  id: string;
  program_id: string;
  source: string;
  row_number: number;
  data: string;
  reasons: string;
  created_at: string;
  resolved_at: string | null;
}

export interface SessionEventsTable {
  tenant_id: string;
  session_id: string;
  generation: number;
  create_key: string;
  provider: string;
  external_id: string | null;
  join_url: string | null;
  state: string;
  updated_at: string;
}

export interface JobsTable {
  tenant_id: string;
  id: string;
  key: string;
  kind: string;
  program_id: string | null;
  session_id: string | null;
  learner_id: string | null;
  run_at: string;
  payload: string;
  status: string;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface MessagesTable {
  tenant_id: string;
  id: string;
  key: string;
  program_id: string | null;
  session_id: string | null;
  learner_id: string | null;
  kind: string;
  recipient: string;
  subject: string;
  provider: string;
  mailbox: string;
  message_id: string;
  provider_id: string | null;
  status: string;
  attempts: number;
  error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface QuestionsTable {
  tenant_id: string;
  id: string;
  program_id: string;
  learner_email: string | null;
  text: string;
  created_at: string;
}

export interface ImprovementNotesTable {
  tenant_id: string;
  id: string;
  program_id: string;
  group_key: string;
  text: string;
  owner: string | null;
  status: string;
  learners: number;
  created_at: string;
}

export interface SignoffsTable {
  tenant_id: string;
  program_id: string;
  item_id: string;
  signed_by: string;
  note: string;
  signed_at: string;
}

export interface TemplatesTable {
  tenant_id: string;
  program_id: string;
  kind: string;
  language: string;
  subject: string;
  body: string;
  updated_at: string;
}

export interface RecordsBaselineTable {
  tenant_id: string;
  program_id: string;
  tab: string;
  row_key: string;
  cells: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant_id: string;
  at: string;
  actor: string;
  surface: string;
  action: string;
  entity: string;
  entity_id: string;
  detail: string;
}

export interface FeedTokensTable {
  tenant_id: string;
  program_id: string;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** SQLite only, kept by triggers on enrollments (migration 004): enrollments per session and status. */
export interface EnrollmentCountsTable {
  tenant_id: string;
  program_id: string;
  session_id: string;
  status: string;
  n: number;
}

/** SQLite only, kept by triggers: learners with an enrollment that is not cancelled, per program. */
export interface ProgramCountsTable {
  tenant_id: string;
  program_id: string;
  active_learners: number;
}

export interface Database {
  tenants: TenantsTable;
  programs: ProgramsTable;
  sessions: SessionsTable;
  learners: LearnersTable;
  enrollments: EnrollmentsTable;
  completions: CompletionsTable;
  roster_rejects: RosterRejectsTable;
  session_events: SessionEventsTable;
  jobs: JobsTable;
  messages: MessagesTable;
  questions: QuestionsTable;
  improvement_notes: ImprovementNotesTable;
  signoffs: SignoffsTable;
  templates: TemplatesTable;
  records_baseline: RecordsBaselineTable;
  audit_log: AuditLogTable;
  feed_tokens: FeedTokensTable;
  enrollment_counts: EnrollmentCountsTable;
  program_counts: ProgramCountsTable;
}
