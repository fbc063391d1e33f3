// The small interfaces Muster's use cases call, in Muster's words; providers implement them and never see the store.
import type { ChecklistItem, Rsvp, TenantId } from '../domain/types.js';
import type { MusterError } from '../domain/errors.js';

export interface Person {
  email: string;
  name: string;
}

/** What a calendar needs to know about one session to hold it as one event. */
export interface SessionEvent {
  tenantId: TenantId;
  sessionId: string;
  /** Stable create key (tenant, session, generation): written into the event, used to find it after a crash. */
  createKey: string;
  subject: string;
  bodyHtml: string;
  bodyText: string;
  /** UTC instants, ISO 8601. */
  start: string;
  end: string;
  /** IANA zone the session is held in. */
  zone: string;
  location: string | null;
  roomEmail: string | null;
  /** An existing online link to put on the event; providers that can create Teams/Meet do so when this is null. */
  onlineUrl: string | null;
  wantOnlineMeeting: boolean;
  organizer: Person;
  attendees: Array<Person & { role: 'learner' | 'instructor' }>;
  /** RFC 5545 SEQUENCE: raised on every change learners must see. */
  sequence: number;
}

export interface EventRef {
  provider: string;
  externalId: string;
  joinUrl: string | null;
}

export interface AttendeeResponse {
  email: string;
  rsvp: Rsvp;
}

export interface BusyInterval {
  start: string;
  end: string;
}

export interface CalendarPort {
  readonly provider: string;
  /** True when invitations travel as Muster's own mail (local ICS); false when the calendar service sends them. */
  readonly invitesByMail: boolean;
  /**
   * Creates the session's event exactly once. With `mayExist` (an earlier attempt with this createKey may have reached
   * the provider) it looks the event up by createKey before creating; without it, it creates straight away and still
   * converges if the create turns out to be a repeat (Graph's transactionId, Google's client event id).
   */
  ensureEvent(ev: SessionEvent, opts?: { mayExist?: boolean }): Promise<EventRef>;
  /** Patches the stored event (move, attendee or detail changes); never creates. */
  updateEvent(ref: EventRef, ev: SessionEvent): Promise<EventRef>;
  /** Cancels the event with a message to attendees. */
  cancelEvent(ref: EventRef, ev: SessionEvent, message: string): Promise<void>;
  /** Finds an event created outside Muster for this session (the Outlook add-in's compose flow); null if none. */
  findAdoptable?(ev: SessionEvent): Promise<EventRef | null>;
  readResponses(ref: EventRef): Promise<AttendeeResponse[]>;
  freeBusy(emails: string[], from: string, to: string): Promise<Map<string, BusyInterval[]>>;
  /** Provider-specific launch readiness, e.g. "this mailbox cannot create Teams meetings". */
  readiness(): Promise<ChecklistItem[]>;
}

export interface OutgoingMessage {
  tenantId: TenantId;
  /** Idempotency key, unique per tenant; the same key is never sent twice. */
  key: string;
  /** RFC 5322 Message-ID Muster chose, with angle brackets: how Gmail sends are settled. */
  messageId: string;
  from: Person;
  to: Person[];
  cc?: Person[];
  subject: string;
  text: string;
  html: string;
  /** An RFC 5545 object carried as a text/calendar alternative (local invitations). */
  calendar?: { method: 'REQUEST' | 'CANCEL' | 'PUBLISH'; ics: string };
  headers?: Record<string, string>;
}

export type SendOutcome =
  | { status: 'sent'; providerId: string | null }
  /** The provider may or may not have accepted it; settle before any resend. */
  | { status: 'unknown'; providerId: string | null; reason: string }
  | { status: 'failed'; error: MusterError; retryable: boolean; pauseMailbox: boolean };

export interface MailerPort {
  readonly provider: string;
  /** Whether `settle` can find out what happened to an unknown outcome (SMTP cannot). */
  readonly canSettle: boolean;
  /**
   * Sends one message. `previous` says an earlier attempt may have reached the provider (it carries that attempt's
   * provider id, if one was recorded): the mailer makes sure it was not sent before sending.
   */
  send(msg: OutgoingMessage, previous?: { providerId: string | null }): Promise<SendOutcome>;
  /** The most messages `sendBatch` takes in one round trip (Graph: 20 per $batch); absent: one by one. */
  readonly batchSize?: number;
  /**
   * Sends up to `batchSize` messages together, each as `send` would without `previous`: only messages no earlier attempt
   * of which can have reached the provider (first attempts, or ones `settle` called not sent). One outcome per message,
   * in the same order; it never throws for a provider failure (those are outcomes: failed, or unknown for every message
   * the provider may have taken).
   */
  sendBatch?(msgs: OutgoingMessage[]): Promise<SendOutcome[]>;
  /**
   * Looks up a message whose outcome was unknown: sent, not sent (safe to send again), or still unknown (look again
   * later, never resend). `attemptAgeMs` is how long ago, by Muster's clock, the attempt in doubt began (null or absent
   * when not known: taken as long ago), for providers where a sent message takes a while to become findable.
   */
  settle(msg: OutgoingMessage, providerId: string | null, attemptAgeMs?: number | null): Promise<'sent' | 'not-sent' | 'unknown'>;
}

/** A cell value: dates are real dates (ISO date or date-time), text from people stays text. */
export type Cell = string | number | boolean | null | { date: string };

export interface RecordRow {
  /** Muster's key for the row; null for a row a person added by hand. */
  key: string | null;
  cells: Record<string, Cell>;
  /**
   * Set by readTab on a row without a key: an opaque handle the provider can find that row by again. When upsertRows
   * gets a row with a key AND an anchor, it claims that person-added row (tags it with the key, writes the cells)
   * instead of appending a new one.
   */
  anchor?: string;
}

export interface TabSpec {
  name: string;
  headers: string[];
  /** Columns whose values came from people: written as text, never evaluated. */
  textColumns: string[];
  dateColumns: string[];
  /** Columns people may edit (the rest are protected where the provider can). */
  editableColumns: string[];
}

export interface RecordsPort {
  readonly provider: string;
  /** Creates missing tabs with headers and formatting; leaves existing data alone. */
  ensureTabs(tabs: TabSpec[]): Promise<void>;
  readTab(tab: TabSpec): Promise<RecordRow[]>;
  /** Updates rows in place by key, appending only keys not yet present. */
  upsertRows(tab: TabSpec, rows: RecordRow[]): Promise<void>;
  deleteRows(tab: TabSpec, keys: string[]): Promise<void>;
  /** Reads several tabs in one round trip where the provider can (Sheets: one values.batchGet); keyed by tab name. */
  readTabs?(tabs: TabSpec[]): Promise<Map<string, RecordRow[]>>;
  /** Every tab's upserts and deletes in one round trip where the provider can (Sheets: one batchUpdate). */
  applyChanges?(changes: Array<{ tab: TabSpec; upserts: RecordRow[]; deletes: string[] }>): Promise<void>;
  /**
   * Saved per-person views of a tab (Google filter views), e.g. one per manager on their "Manager Email" column; adds the
   * missing ones. A convenience for finding one's people, never access control.
   */
  ensurePersonViews?(tab: TabSpec, column: string, people: string[]): Promise<void>;
}

export interface DirectoryPort {
  readonly provider: string;
  /** The learner's manager's address; null when the directory has none, undefined when it cannot tell. */
  managerOf(email: string): Promise<string | null | undefined>;
  groupMembers(group: string): Promise<Person[]>;
}

/** The clock every use case reads; tests fix it. */
export interface Clock {
  now(): Date;
}

/** Structured log lines: an event name and fields. Never pass secrets, tokens or message bodies. */
export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}
