// The emulator's directory, mailboxes, calendars and workbooks, with typed accessors tests use to arrange and inspect; no HTTP, no validation.
import { randomBytes, randomUUID } from 'node:crypto';
import type { EmulatorClock } from './clock.js';
import { type Workbook, type Worksheet, columnName, getCell, parseAddress } from './workbook.js';

export type Json = Record<string, unknown>;

export interface EmUser {
  id: string;
  displayName: string;
  mail: string;
  userPrincipalName: string;
  kind: 'user' | 'room';
  /** Id of a user or org contact, or null. */
  managerId: string | null;
  allowedOnlineMeetingProviders: string[];
  defaultOnlineMeetingProvider: string;
  timeZone: string;
  folders: { inbox: string; drafts: string; sentitems: string; deleteditems: string };
  calendarId: string;
}

export interface EmOrgContact {
  id: string;
  displayName: string;
  mail: string;
}

export interface EmGroup {
  id: string;
  displayName: string;
  mail: string;
  /** Ids of users, rooms or groups. */
  members: string[];
}

export interface ExtendedProperty {
  id: string;
  value: string;
}

export interface StoredEvent {
  id: string;
  /** Id of the user whose calendar holds it. */
  mailbox: string;
  createdAt: number;
  startMs: number;
  endMs: number;
  /** The event as Graph would return it, without start/end (derived) and without extended properties. */
  data: Json;
  extended: ExtendedProperty[];
  cancelComment: string | null;
}

export type FolderName = 'inbox' | 'drafts' | 'sentitems' | 'deleteditems';

export interface StoredMessage {
  /** The REST id; changes when the message moves between folders, as Exchange's does. */
  restId: string;
  /** The immutable id; never changes. */
  immutableId: string;
  mailbox: string;
  folder: FolderName;
  data: Json;
  extended: ExtendedProperty[];
  sentAt: number | null;
  /** When Graph starts showing the message (a Sent Items copy filed after the send); absent: at once. */
  filedAt?: number;
}

export interface SendRecord {
  at: number;
  recipients: number;
}

/** What tests see of an event: Graph's shape plus its extended properties and cancel comment. */
export interface EventView {
  id: string;
  subject: string;
  isCancelled: boolean;
  cancelComment: string | null;
  start: string;
  end: string;
  attendees: Array<{ email: string; type: string; response: string }>;
  isOnlineMeeting: boolean;
  joinUrl: string | null;
  transactionId: string | null;
  location: string | null;
  bodyContent: string;
  extendedProperties: ExtendedProperty[];
}

export interface MessageView {
  id: string;
  immutableId: string;
  subject: string;
  to: string[];
  cc: string[];
  bodyContent: string;
  isDraft: boolean;
  folder: FolderName;
  internetMessageId: string | null;
  /** The message's single-value extended properties (Muster's key travels in one). */
  extended: Array<{ id: string; value: string }>;
}

export type AttendeeResponseType = 'none' | 'accepted' | 'declined' | 'tentativelyAccepted' | 'organizer' | 'notResponded';

/** The property set and name Outlook add-ins store custom properties under. */
export const PS_PUBLIC_STRINGS = '{00020329-0000-0000-C000-000000000046}';

/** Graph's spelling of the add-in's custom-properties extended property id. */
export function addinPropertyId(addinId: string): string {
  const normalized = addinId.toLowerCase().replace(/[{}]/g, '').replace(/^urn:uuid:/, '');
  return `String ${PS_PUBLIC_STRINGS} Name cecp-${normalized}`;
}

export function newId(prefix = 'AAMk'): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export function graphDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.0000000`;
}

const lc = (s: string): string => s.toLowerCase();

export class GraphState {
  readonly users = new Map<string, EmUser>();
  readonly contacts = new Map<string, EmOrgContact>();
  readonly groups = new Map<string, EmGroup>();
  readonly eventsById = new Map<string, StoredEvent>();
  readonly messages: StoredMessage[] = [];
  readonly workbooks = new Map<string, Workbook>();
  readonly busy = new Map<string, Array<{ startMs: number; endMs: number }>>();
  readonly sends = new Map<string, SendRecord[]>();
  /** (mailbox|transactionId) → event id and when it was created. */
  readonly transactions = new Map<string, { eventId: string; at: number }>();

  constructor(readonly clock: EmulatorClock) {}

  // ---------- directory ----------

  addUser(input: { mail: string; displayName?: string; id?: string; timeZone?: string; allowedOnlineMeetingProviders?: string[] }): EmUser {
    const existing = this.findUser(input.mail);
    if (existing) return existing;
    const user: EmUser = {
      id: input.id ?? randomUUID(),
      displayName: input.displayName ?? input.mail.split('@')[0] ?? input.mail,
      mail: input.mail,
      userPrincipalName: input.mail,
      kind: 'user',
      managerId: null,
      allowedOnlineMeetingProviders: input.allowedOnlineMeetingProviders ?? ['teamsForBusiness'],
      defaultOnlineMeetingProvider: 'teamsForBusiness',
      timeZone: input.timeZone ?? 'UTC',
      folders: { inbox: newId('AQMkInbox'), drafts: newId('AQMkDrafts'), sentitems: newId('AQMkSent'), deleteditems: newId('AQMkDeleted') },
      calendarId: newId('AQMkCal'),
    };
    this.users.set(user.id, user);
    return user;
  }

  addRoom(input: { mail: string; displayName?: string }): EmUser {
    const room = this.addUser({ ...input, allowedOnlineMeetingProviders: [] });
    room.kind = 'room';
    return room;
  }

  addOrgContact(input: { mail: string; displayName?: string }): EmOrgContact {
    const c: EmOrgContact = { id: randomUUID(), mail: input.mail, displayName: input.displayName ?? input.mail };
    this.contacts.set(c.id, c);
    return c;
  }

  /** Sets (or clears, with null) a user's manager: a user's or org contact's address, or an id. */
  setManager(userMailOrId: string, manager: string | null): void {
    const user = this.requireUser(userMailOrId);
    if (manager === null) {
      user.managerId = null;
      return;
    }
    const m = this.findUser(manager) ?? [...this.contacts.values()].find((c) => lc(c.mail) === lc(manager) || c.id === manager);
    if (!m) throw new Error(`setManager: no user or org contact ${manager}`);
    user.managerId = m.id;
  }

  /** Adds a group whose members are addresses of users or rooms or other groups' addresses. */
  addGroup(input: { mail: string; displayName?: string; members: string[]; id?: string }): EmGroup {
    const g: EmGroup = { id: input.id ?? randomUUID(), mail: input.mail, displayName: input.displayName ?? input.mail, members: [] };
    for (const m of input.members) {
      const u = this.findUser(m);
      const sub = [...this.groups.values()].find((x) => lc(x.mail) === lc(m) || x.id === m);
      const id = u?.id ?? sub?.id;
      if (!id) throw new Error(`addGroup: no user or group ${m}`);
      g.members.push(id);
    }
    this.groups.set(g.id, g);
    return g;
  }

  /** Users, rooms and groups reached from a group, each once. */
  transitiveMembers(groupId: string): Array<EmUser | EmGroup> {
    const out: Array<EmUser | EmGroup> = [];
    const seen = new Set<string>([groupId]);
    const walk = (g: EmGroup): void => {
      for (const id of g.members) {
        if (seen.has(id)) continue;
        seen.add(id);
        const u = this.users.get(id);
        if (u) out.push(u);
        const sub = this.groups.get(id);
        if (sub) {
          out.push(sub);
          walk(sub);
        }
      }
    };
    const g = this.groups.get(groupId);
    if (g) walk(g);
    return out;
  }

  findUser(mailOrId: string): EmUser | undefined {
    return this.users.get(mailOrId) ?? [...this.users.values()].find((u) => lc(u.mail) === lc(mailOrId) || lc(u.userPrincipalName) === lc(mailOrId) || lc(u.id) === lc(mailOrId));
  }

  requireUser(mailOrId: string): EmUser {
    const u = this.findUser(mailOrId);
    if (!u) throw new Error(`no user ${mailOrId} in the emulator`);
    return u;
  }

  setAllowedOnlineMeetingProviders(mailbox: string, providers: string[]): void {
    const u = this.requireUser(mailbox);
    u.allowedOnlineMeetingProviders = [...providers];
    u.defaultOnlineMeetingProvider = providers[0] ?? 'unknown';
  }

  /** Marks a person busy (for getSchedule) outside any event. */
  addBusy(email: string, start: string, end: string): void {
    const list = this.busy.get(lc(email)) ?? [];
    list.push({ startMs: Date.parse(start), endMs: Date.parse(end) });
    this.busy.set(lc(email), list);
  }

  // ---------- calendar ----------

  events(mailbox: string): EventView[] {
    const u = this.requireUser(mailbox);
    return [...this.eventsById.values()].filter((e) => e.mailbox === u.id).map((e) => this.toEventView(e));
  }

  event(eventId: string): EventView | undefined {
    const e = this.eventsById.get(eventId);
    return e ? this.toEventView(e) : undefined;
  }

  private toEventView(e: StoredEvent): EventView {
    const attendees = (e.data['attendees'] as Json[] | undefined) ?? [];
    const online = e.data['onlineMeeting'] as Json | null | undefined;
    const body = e.data['body'] as Json | undefined;
    const location = e.data['location'] as Json | undefined;
    return {
      id: e.id,
      subject: String(e.data['subject'] ?? ''),
      isCancelled: e.data['isCancelled'] === true,
      cancelComment: e.cancelComment,
      start: new Date(e.startMs).toISOString(),
      end: new Date(e.endMs).toISOString(),
      attendees: attendees.map((a) => ({
        email: String((a['emailAddress'] as Json | undefined)?.['address'] ?? ''),
        type: String(a['type'] ?? 'required'),
        response: String((a['status'] as Json | undefined)?.['response'] ?? 'none'),
      })),
      isOnlineMeeting: e.data['isOnlineMeeting'] === true,
      joinUrl: online && typeof online['joinUrl'] === 'string' ? online['joinUrl'] : null,
      transactionId: typeof e.data['transactionId'] === 'string' ? e.data['transactionId'] : null,
      location: location && typeof location['displayName'] === 'string' ? location['displayName'] : null,
      bodyContent: String(body?.['content'] ?? ''),
      extendedProperties: e.extended.map((p) => ({ ...p })),
    };
  }

  /** An attendee answers the invitation (as their Outlook would). */
  setResponse(eventId: string, email: string, response: AttendeeResponseType): void {
    const e = this.eventsById.get(eventId);
    if (!e) throw new Error(`setResponse: no event ${eventId}`);
    const attendees = (e.data['attendees'] as Json[] | undefined) ?? [];
    const a = attendees.find((x) => lc(String((x['emailAddress'] as Json | undefined)?.['address'] ?? '')) === lc(email));
    if (!a) throw new Error(`setResponse: ${email} is not an attendee of ${eventId}`);
    a['status'] = { response, time: new Date(this.clock.now()).toISOString() };
  }

  /**
   * Creates an event as the Outlook add-in's compose flow would: saved by Outlook in the organizer's calendar,
   * with the add-in's custom properties (a JSON object) in the cecp-<add-in id> named property.
   */
  createEventFromOutlook(input: {
    mailbox: string;
    addinId: string;
    customProperties: Record<string, unknown>;
    subject: string;
    start: string;
    end: string;
    attendees?: string[];
    joinUrl?: string | null;
  }): string {
    const u = this.requireUser(input.mailbox);
    const id = newId();
    const now = this.clock.now();
    const joinUrl = input.joinUrl === undefined ? `https://teams.microsoft.com/l/meetup-join/${randomUUID()}` : input.joinUrl;
    this.eventsById.set(id, {
      id,
      mailbox: u.id,
      createdAt: now,
      startMs: Date.parse(input.start),
      endMs: Date.parse(input.end),
      cancelComment: null,
      extended: [{ id: addinPropertyId(input.addinId), value: JSON.stringify(input.customProperties) }],
      data: {
        subject: input.subject,
        body: { contentType: 'html', content: '' },
        attendees: (input.attendees ?? []).map((a) => ({ type: 'required', emailAddress: { address: a, name: a }, status: { response: 'none', time: '0001-01-01T00:00:00Z' } })),
        organizer: { emailAddress: { address: u.mail, name: u.displayName } },
        isOnlineMeeting: joinUrl !== null,
        onlineMeetingProvider: joinUrl !== null ? 'teamsForBusiness' : 'unknown',
        onlineMeeting: joinUrl !== null ? { joinUrl } : null,
        isCancelled: false,
        isOrganizer: true,
        createdDateTime: new Date(now).toISOString(),
        lastModifiedDateTime: new Date(now).toISOString(),
      },
    });
    return id;
  }

  // ---------- mail ----------

  private mailboxMessages(mailbox: string, folder?: FolderName): StoredMessage[] {
    const u = this.requireUser(mailbox);
    return this.messages.filter((m) => m.mailbox === u.id && (folder === undefined || m.folder === folder));
  }

  private toMessageView(m: StoredMessage): MessageView {
    const addrs = (k: string): string[] => ((m.data[k] as Json[] | undefined) ?? []).map((r) => String((r['emailAddress'] as Json | undefined)?.['address'] ?? ''));
    return {
      id: m.restId,
      immutableId: m.immutableId,
      subject: String(m.data['subject'] ?? ''),
      to: addrs('toRecipients'),
      cc: addrs('ccRecipients'),
      bodyContent: String((m.data['body'] as Json | undefined)?.['content'] ?? ''),
      isDraft: m.folder === 'drafts',
      folder: m.folder,
      internetMessageId: typeof m.data['internetMessageId'] === 'string' ? m.data['internetMessageId'] : null,
      extended: m.extended.map((p) => ({ id: p.id, value: p.value })),
    };
  }

  /** Messages the mailbox has sent (in Sent Items). */
  messagesSent(mailbox: string): MessageView[] {
    return this.mailboxMessages(mailbox, 'sentitems').map((m) => this.toMessageView(m));
  }

  drafts(mailbox: string): MessageView[] {
    return this.mailboxMessages(mailbox, 'drafts').map((m) => this.toMessageView(m));
  }

  inbox(mailbox: string): MessageView[] {
    return this.mailboxMessages(mailbox, 'inbox').map((m) => this.toMessageView(m));
  }

  /** Places a non-delivery report for `recipient` in the mailbox's inbox, as Exchange Online does. */
  addNonDeliveryReport(mailbox: string, input: { recipient: string; originalSubject: string }): string {
    const u = this.requireUser(mailbox);
    const now = this.clock.now();
    const domain = u.mail.split('@')[1] ?? 'contoso.com';
    const immutableId = newId('AAkAL');
    this.messages.push({
      restId: newId(),
      immutableId,
      mailbox: u.id,
      folder: 'inbox',
      sentAt: now,
      extended: [{ id: 'String 0x001A', value: 'REPORT.IPM.Note.NDR' }],
      data: {
        subject: `Undeliverable: ${input.originalSubject}`,
        from: { emailAddress: { address: `MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@${domain}`, name: 'Microsoft Outlook' } },
        toRecipients: [{ emailAddress: { address: u.mail, name: u.displayName } }],
        body: {
          contentType: 'html',
          content: `<p>Your message to <a href="mailto:${input.recipient}">${input.recipient}</a> couldn't be delivered.</p><p>${input.recipient} wasn't found at ${input.recipient.split('@')[1] ?? ''}.</p>`,
        },
        receivedDateTime: new Date(now).toISOString(),
        isRead: false,
        internetMessageId: `<${randomUUID()}@${domain}>`,
      },
    });
    return immutableId;
  }

  /** Messages accepted for sending in the last `windowMs` for a mailbox. */
  sendsSince(mailboxId: string, windowMs: number): SendRecord[] {
    const now = this.clock.now();
    return (this.sends.get(mailboxId) ?? []).filter((s) => now - s.at < windowMs);
  }

  // ---------- workbooks ----------

  addWorkbook(driveId: string, itemId: string, sheetNames: string[] = ['Sheet1']): Workbook {
    const wb: Workbook = { driveId, itemId, sheets: [] };
    sheetNames.forEach((name) => this.addWorksheet(wb, name));
    this.workbooks.set(`${driveId}/${itemId}`, wb);
    return wb;
  }

  workbook(driveId: string, itemId: string): Workbook | undefined {
    return this.workbooks.get(`${driveId}/${itemId}`);
  }

  addWorksheet(wb: Workbook, name: string): Worksheet {
    const ws: Worksheet = { id: `{${randomUUID().toUpperCase()}}`, name, position: wb.sheets.length, cells: new Map() };
    wb.sheets.push(ws);
    return ws;
  }

  /** Cell values of a sheet's range as Excel shows them (formulas evaluated), e.g. ('d', 'i', 'Roster', 'A1:C3'). */
  cells(driveId: string, itemId: string, sheet: string, address: string): Array<Array<string | number | boolean>> {
    const ws = this.requireSheet(driveId, itemId, sheet);
    const r = parseAddress(address);
    if (!r) throw new Error(`bad address ${address}`);
    return Array.from({ length: r.rows }, (_, i) => Array.from({ length: r.cols }, (_, j) => getCell(ws, r.row + i, r.col + j).value));
  }

  /** One cell with its formula and number format, e.g. ('d', 'i', 'Roster', 'B2'). */
  cell(driveId: string, itemId: string, sheet: string, address: string): { value: string | number | boolean; formula: string | null; numberFormat: string } {
    const ws = this.requireSheet(driveId, itemId, sheet);
    const r = parseAddress(address);
    if (!r) throw new Error(`bad address ${address}`);
    return { ...getCell(ws, r.row, r.col) };
  }

  private requireSheet(driveId: string, itemId: string, sheet: string): Worksheet {
    const wb = this.workbook(driveId, itemId);
    const ws = wb?.sheets.find((s) => lc(s.name) === lc(sheet));
    if (!ws) throw new Error(`no worksheet ${sheet} in ${driveId}/${itemId}`);
    return ws;
  }

  sheetNames(driveId: string, itemId: string): string[] {
    return (this.workbook(driveId, itemId)?.sheets ?? []).map((s) => s.name);
  }
}

export { columnName };
