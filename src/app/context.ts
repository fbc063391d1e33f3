// What every use case is given: the store, the clock, the logger and the providers of a tenant; built only by the composition root.
import type { Surface } from '../domain/types.js';
import type { CalendarPort, Clock, DirectoryPort, Logger, MailerPort, Person, RecordsPort, SessionEvent } from '../ports/index.js';
import type { Store } from '../store/store.js';

export interface SendLimits {
  perMinute: number;
  perDay: number;
  recipientsPerDay: number;
}

/** Renders a local (RFC 5545) invitation for one attendee; present only where invitations travel as Muster's own mail. */
export type InvitationRenderer = (ev: SessionEvent, attendee: Person, method: 'REQUEST' | 'CANCEL', dtstamp: Date) => string;

export interface ProviderSet {
  calendar: CalendarPort;
  mailer: MailerPort;
  directory: DirectoryPort | null;
  /**
   * The records store of one program: its own Sheet or workbook when `recordsSheet` names one, else the configured one.
   * With `programId`, the Sheet or workbook is marked as that program's on the first write, and one marked for another
   * program is refused (CONFIG_INVALID): a Sheet or workbook holds one program's tabs. An unusable `recordsSheet` is
   * refused at once (VALIDATION_FAILED), without a request.
   */
  recordsFor(programCode: string, recordsSheet?: string | null, programId?: string): RecordsPort;
  /** The mailbox that organizes events and sends mail. */
  sender: Person;
  limits: SendLimits;
  renderInvitation: InvitationRenderer | null;
  /** Deletes stored outgoing mail addressed to someone (the local outbox); returns how many files went. */
  eraseFromOutbox?: (email: string) => Promise<number>;
  /** Reads non-delivery reports and returns addresses that bounced, where the provider can. */
  undeliverable?: () => Promise<string[]>;
}

export interface AppContext {
  store: Store;
  clock: Clock;
  logger: Logger;
  providersFor(tenantId: string): Promise<ProviderSet>;
  publicUrl: string;
  rsvpSecret: string;
  /** Identifies this process as a job-queue worker (leases carry it). */
  workerId: string;
  messageRetentionDays: number;
  /** How long a claimed job stays leased without a heartbeat; a dead worker's jobs are taken again after this. */
  jobLeaseMs: number;
  /** Asks the background worker to look for due jobs now (a no-op where no worker runs, e.g. the CLI). */
  kickWorker(): void;
}

/** Who did something, through which surface: every write is audited with it. */
export interface Actor {
  tenantId: string;
  actor: string;
  surface: Surface;
}

export const nowIso = (ctx: Pick<AppContext, 'clock'>): string => ctx.clock.now().toISOString();
