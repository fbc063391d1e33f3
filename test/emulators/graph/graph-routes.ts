// Answers one Graph v1.0 request (already authenticated) against the emulator's state, validating bodies against the CSDL; it knows nothing of sockets, faults or $batch framing.
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { type CsdlModel, validateActionBody, validateBody } from './csdl.js';
import { ODataError, applySelect, matchesFilter, parseExpandExtended, parseFilter } from './odata.js';
import { type EmUser, type ExtendedProperty, type FolderName, type GraphState, type Json, type StoredEvent, type StoredMessage, graphDateTime, newId } from './state.js';
import type { TokenClaims } from './identity.js';
import { type RangeAddress, type Worksheet, deleteRange, formatAddress, getCell, parseAddress, usedRange, writeNumberFormat, writeValue } from './workbook.js';

export interface GraphRequest {
  method: string;
  /** Path after /v1.0, still percent-encoded per segment. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  claims: TokenClaims;
}

export interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Violation {
  at: string;
  method: string;
  path: string;
  direction: 'request' | 'response';
  type: string;
  errors: string[];
}

export interface RouteSettings {
  transactionIdWindowMs: number;
  maxAttendees: number;
  sendsPerMinute: number;
  recipientsPerDay: number;
  pageSize: number;
  /**
   * How long after a sendMail Exchange takes to file the Sent Items copy (default 0). Until then the copy is not found by
   * GET or $filter, as on Exchange, where a 202 precedes the processing; the send itself counts at once.
   */
  sentCopyDelayMs: number;
}

export interface RouteContext {
  state: GraphState;
  csdl: CsdlModel;
  settings: RouteSettings;
  baseUrl: () => string;
  recordViolation: (v: Violation) => void;
  count: (name: string, n?: number) => void;
}

export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): GraphResponse {
  return {
    status,
    headers,
    body: { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } },
  };
}

class HttpError extends Error {
  constructor(readonly response: GraphResponse) {
    super(String((response.body as { error?: { message?: string } } | undefined)?.error?.message ?? response.status));
  }
}

const fail = (status: number, code: string, message: string, headers?: Record<string, string>): never => {
  throw new HttpError(graphError(status, code, message, headers));
};

const lc = (s: string): string => s.toLowerCase();
const DAY_MS = 24 * 3600 * 1000;
const MINUTE_MS = 60 * 1000;
const EXTENDED_ID = /^(String|Integer|Boolean|SystemTime|Double|Binary|Guid|Long|Short|Float|Currency|ApplicationTime|CLSID|Error|Null|Object)\s+(0x[0-9A-Fa-f]{4}|\{[0-9A-Fa-f-]{36}\}\s+(Name\s+\S.*|Id\s+0x[0-9A-Fa-f]{4}))$/;

/** The mailbox a path is for: /users/{id-or-address}/... or /me/...; null for other resources. */
export function mailboxOf(path: string): string | null {
  const m = /^\/users\/([^/]+)/i.exec(path);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

function preferValues(headers: Record<string, string>): string {
  return headers['prefer'] ?? '';
}

function wantsImmutableId(headers: Record<string, string>): boolean {
  return /IdType\s*=\s*"?ImmutableId"?/i.test(preferValues(headers));
}

function preferredZone(headers: Record<string, string>): string | null {
  const m = /outlook\.timezone\s*=\s*"([^"]+)"/i.exec(preferValues(headers));
  return m?.[1] ?? null;
}

function parseDateTimeTimeZone(v: unknown, field: string): number {
  const o = v as { dateTime?: unknown; timeZone?: unknown } | undefined;
  if (!o || typeof o.dateTime !== 'string') return fail(400, 'ErrorInvalidRequest', `${field}.dateTime is required.`);
  const zone = typeof o.timeZone === 'string' && o.timeZone !== '' ? o.timeZone : 'UTC';
  const iana = zone === 'UTC' || lc(zone) === 'coordinated universal time' ? 'UTC' : zone;
  const dt = DateTime.fromISO(o.dateTime.replace(/Z$/, ''), { zone: iana });
  if (!dt.isValid) {
    if (dt.invalidReason === 'unsupported zone') return fail(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${zone}'.`);
    return fail(400, 'ErrorInvalidRequest', `${field}.dateTime '${o.dateTime}' is not a valid date-time.`);
  }
  return dt.toMillis();
}

function renderDateTime(ms: number, zone: string | null): Json {
  if (!zone || zone === 'UTC') return { dateTime: graphDateTime(ms), timeZone: 'UTC' };
  const dt = DateTime.fromMillis(ms, { zone });
  if (!dt.isValid) return { dateTime: graphDateTime(ms), timeZone: 'UTC' };
  return { dateTime: `${dt.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.0000000`, timeZone: zone };
}

function assertExtendedProperties(list: unknown): ExtendedProperty[] {
  if (list === undefined || list === null) return [];
  const out: ExtendedProperty[] = [];
  for (const p of list as Array<{ id: string; value: string | null }>) {
    if (!EXTENDED_ID.test(p.id)) fail(400, 'ErrorInvalidProperty', `The extended property id '${p.id}' is not well formed.`);
    out.push({ id: p.id, value: p.value ?? '' });
  }
  return out;
}

function mergeExtended(existing: ExtendedProperty[], incoming: ExtendedProperty[]): ExtendedProperty[] {
  const out = existing.map((p) => ({ ...p }));
  for (const p of incoming) {
    const hit = out.find((x) => lc(x.id) === lc(p.id));
    if (hit) hit.value = p.value;
    else out.push(p);
  }
  return out;
}

function addressOf(r: unknown): string {
  return String(((r as Json | undefined)?.['emailAddress'] as Json | undefined)?.['address'] ?? '');
}

export class GraphRoutes {
  constructor(private readonly ctx: RouteContext) {}

  private validate(req: GraphRequest, type: string, errors: string[], direction: 'request' | 'response' = 'request'): void {
    this.ctx.count(direction === 'request' ? 'requestBodiesValidated' : 'responseBodiesValidated');
    if (errors.length === 0) return;
    this.ctx.recordViolation({ at: new Date().toISOString(), method: req.method, path: req.path, direction, type, errors });
    if (direction === 'request') {
      const first = errors[0] ?? 'invalid body';
      fail(400, 'RequestBodyRead', `Invalid request body for ${type}: ${first}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`);
    }
  }

  private checkEntity(req: GraphRequest, type: string, body: unknown): void {
    this.validate(req, `microsoft.graph.${type}`, validateBody(this.ctx.csdl, type, body));
  }

  private checkAction(req: GraphRequest, action: string, binding: string, body: unknown): void {
    this.validate(req, `${binding}.${action}`, validateActionBody(this.ctx.csdl, action, binding, body));
  }

  private checkResponse(req: GraphRequest, type: string, body: Json): void {
    this.validate(req, `microsoft.graph.${type}`, validateBody(this.ctx.csdl, type, body), 'response');
  }

  private user(req: GraphRequest, idOrMail: string): EmUser {
    const key = idOrMail === 'me' ? (req.claims.oid ?? '') : idOrMail;
    const u = this.ctx.state.findUser(key) ?? (req.claims.upn && idOrMail === 'me' ? this.ctx.state.findUser(req.claims.upn) : undefined);
    if (!u) return fail(404, 'ErrorInvalidUser', `The requested user '${idOrMail}' is invalid.`);
    return u;
  }

  async handle(req: GraphRequest): Promise<GraphResponse> {
    try {
      return this.route(req);
    } catch (err) {
      if (err instanceof HttpError) return err.response;
      if (err instanceof ODataError) return graphError(400, 'BadRequest', err.message);
      throw err;
    }
  }

  private route(req: GraphRequest): GraphResponse {
    const segs = req.path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    const m = req.method.toUpperCase();
    const [root, id, ...rest] = segs;
    const tail = rest.join('/');
    if ((root === 'users' || root === 'me') && (id !== undefined || root === 'me')) {
      const user = root === 'me' ? this.user(req, 'me') : this.user(req, id ?? '');
      const sub = root === 'me' ? [id, ...rest].filter((s): s is string => s !== undefined) : rest;
      return this.userRoute(req, m, user, sub);
    }
    if (root === 'users' && id === undefined && m === 'GET') return this.listUsers(req);
    if (root === 'groups') return this.groupRoute(req, m, id, tail);
    if (root === 'drives' && rest[0] === 'items' && rest[2] === 'workbook') return this.workbookRoute(req, m, id ?? '', rest[1] ?? '', rest.slice(3));
    return fail(400, 'BadRequest', `Resource not found for the segment '${root ?? ''}'.`);
  }

  // ---------- users, directory ----------

  private toGraphUser(u: EmUser): Json {
    return { '@odata.type': '#microsoft.graph.user', id: u.id, displayName: u.displayName, mail: u.mail, userPrincipalName: u.userPrincipalName };
  }

  private listUsers(req: GraphRequest): GraphResponse {
    const filter = req.query.get('$filter');
    let users = [...this.ctx.state.users.values()].map((u) => this.toGraphUser(u));
    if (filter) {
      const f = parseFilter(filter);
      users = users.filter((u) => matchesFilter(f, u));
    }
    return { status: 200, body: { value: users.map((u) => applySelect(u, req.query.get('$select'))) } };
  }

  private userRoute(req: GraphRequest, m: string, user: EmUser, sub: string[]): GraphResponse {
    const [a, b, c, d] = sub;
    if (a === undefined && m === 'GET') return { status: 200, body: applySelect(this.toGraphUser(user), req.query.get('$select')) };
    if (a === 'manager' && b === undefined && m === 'GET') return this.manager(req, user);
    if (a === 'mailboxSettings' && m === 'GET') {
      return { status: 200, body: { timeZone: user.timeZone, language: { locale: 'en-US', displayName: 'English (United States)' }, dateFormat: 'M/d/yyyy', timeFormat: 'h:mm tt' } };
    }
    if (a === 'calendar' && b === undefined && m === 'GET') return { status: 200, body: applySelect(this.toGraphCalendar(user), req.query.get('$select')) };
    if (a === 'calendar' && b === 'getSchedule' && m === 'POST') return this.getSchedule(req, user);
    const eventsBase = a === 'events' ? sub.slice(1) : a === 'calendar' && b === 'events' ? sub.slice(2) : null;
    if (eventsBase) {
      const [eid, action] = eventsBase;
      if (eid === undefined && m === 'POST') return this.createEvent(req, user);
      if (eid === undefined && m === 'GET') return this.listEvents(req, user);
      if (eid !== undefined && action === undefined && m === 'GET') return { status: 200, body: this.renderEvent(req, this.findEvent(user, eid)) };
      if (eid !== undefined && action === undefined && m === 'PATCH') return this.patchEvent(req, user, eid);
      if (eid !== undefined && action === undefined && m === 'DELETE') {
        this.ctx.state.eventsById.delete(this.findEvent(user, eid).id);
        return { status: 204 };
      }
      if (eid !== undefined && action === 'cancel' && m === 'POST') return this.cancelEvent(req, user, eid);
    }
    if (a === 'messages') {
      if (b === undefined && m === 'POST') return this.createDraft(req, user);
      if (b === undefined && m === 'GET') return this.listMessages(req, user, null);
      if (b !== undefined && c === undefined && m === 'GET') return { status: 200, body: this.renderMessage(req, this.findMessage(user, b)) };
      if (b !== undefined && c === undefined && m === 'DELETE') {
        const msg = this.findMessage(user, b);
        this.ctx.state.messages.splice(this.ctx.state.messages.indexOf(msg), 1);
        return { status: 204 };
      }
      if (b !== undefined && c === 'send' && m === 'POST') return this.sendDraft(req, user, b);
    }
    if (a === 'sendMail' && m === 'POST') return this.sendMail(req, user);
    if (a === 'mailFolders' && b !== undefined) {
      const folder = this.folderName(user, b);
      if (c === undefined && m === 'GET') return { status: 200, body: { id: user.folders[folder], displayName: folder, totalItemCount: this.ctx.state.messages.filter((x) => x.mailbox === user.id && x.folder === folder).length } };
      if (c === 'messages' && d === undefined && m === 'GET') return this.listMessages(req, user, folder);
    }
    return fail(400, 'BadRequest', `Unsupported ${m} /users/{id}/${sub.join('/')}`);
  }

  private manager(req: GraphRequest, user: EmUser): GraphResponse {
    const notFound = (): never => fail(404, 'Request_ResourceNotFound', `Resource 'manager' does not exist or one of its queried reference-property objects are not present.`);
    if (!user.managerId) return notFound();
    const mu = this.ctx.state.users.get(user.managerId);
    if (mu) return { status: 200, body: applySelect(this.toGraphUser(mu), req.query.get('$select')) };
    const c = this.ctx.state.contacts.get(user.managerId);
    if (!c) return notFound();
    return { status: 200, body: applySelect({ '@odata.type': '#microsoft.graph.orgContact', id: c.id, displayName: c.displayName, mail: c.mail }, req.query.get('$select')) };
  }

  private groupRoute(req: GraphRequest, m: string, id: string | undefined, tail: string): GraphResponse {
    const groups = [...this.ctx.state.groups.values()];
    const toGroup = (g: (typeof groups)[number]): Json => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName, mail: g.mail });
    if (id === undefined && m === 'GET') {
      let list = groups.map(toGroup);
      const filter = req.query.get('$filter');
      if (filter) {
        const f = parseFilter(filter);
        list = list.filter((g) => matchesFilter(f, g));
      }
      return { status: 200, body: { value: list.map((g) => applySelect(g, req.query.get('$select'))) } };
    }
    const g = groups.find((x) => x.id === id || lc(x.mail) === lc(id ?? ''));
    if (!g) return fail(404, 'Request_ResourceNotFound', `Resource '${id ?? ''}' does not exist or one of its queried reference-property objects are not present.`);
    if (tail === '' && m === 'GET') return { status: 200, body: applySelect(toGroup(g), req.query.get('$select')) };
    if ((tail === 'transitiveMembers' || tail === 'transitiveMembers/microsoft.graph.user' || tail === 'members') && m === 'GET') {
      if (tail.endsWith('/microsoft.graph.user') && (lc(req.headers['consistencylevel'] ?? '') !== 'eventual' || req.query.get('$count') !== 'true')) {
        fail(400, 'Request_UnsupportedQuery', 'An OData cast on a directory relationship needs advanced query parameters: the ConsistencyLevel: eventual header and $count=true.');
      }
      let members = tail === 'members' ? g.members.map((mid) => this.ctx.state.users.get(mid) ?? this.ctx.state.groups.get(mid)).filter((x) => x !== undefined) : this.ctx.state.transitiveMembers(g.id);
      if (tail.endsWith('microsoft.graph.user')) members = members.filter((x) => 'kind' in x);
      const items = members.map((x) => ('kind' in x ? this.toGraphUser(x) : toGroup(x)));
      return this.page(req, items);
    }
    return fail(400, 'BadRequest', `Unsupported ${m} /groups/{id}/${tail}`);
  }

  /** Pages a list with $top and an opaque $skiptoken in @odata.nextLink. */
  private page(req: GraphRequest, items: Json[]): GraphResponse {
    const top = Math.min(Number(req.query.get('$top') ?? this.ctx.settings.pageSize) || this.ctx.settings.pageSize, 999);
    const skip = Number(req.query.get('$skiptoken') ?? '0') || 0;
    const slice = items.slice(skip, skip + top).map((x) => applySelect(x, req.query.get('$select')));
    const body: Json = { ...(req.query.get('$count') === 'true' ? { '@odata.count': items.length } : {}), value: slice };
    if (skip + top < items.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skiptoken', String(skip + top));
      q.set('$top', String(top));
      body['@odata.nextLink'] = `${this.ctx.baseUrl()}/v1.0${req.path}?${q.toString()}`;
    }
    return { status: 200, body };
  }

  // ---------- calendar ----------

  private toGraphCalendar(u: EmUser): Json {
    return {
      id: u.calendarId,
      name: 'Calendar',
      color: 'auto',
      hexColor: '',
      isDefaultCalendar: true,
      changeKey: 'AAAA',
      canShare: true,
      canViewPrivateItems: true,
      canEdit: true,
      isRemovable: false,
      isTallyingResponses: true,
      allowedOnlineMeetingProviders: [...u.allowedOnlineMeetingProviders],
      defaultOnlineMeetingProvider: u.defaultOnlineMeetingProvider,
      owner: { name: u.displayName, address: u.mail },
    };
  }

  private findEvent(user: EmUser, id: string): StoredEvent {
    const e = this.ctx.state.eventsById.get(id);
    if (!e || e.mailbox !== user.id) return fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    return e;
  }

  private renderEvent(req: GraphRequest, e: StoredEvent): Json {
    const zone = preferredZone(req.headers);
    const out: Json = {
      '@odata.etag': `W/"${e.data['changeKey'] as string}"`,
      id: e.id,
      ...e.data,
      start: renderDateTime(e.startMs, zone),
      end: renderDateTime(e.endMs, zone),
    };
    const expand = parseExpandExtended(req.query.get('$expand'));
    if (expand.expand) {
      const ids = expand.ids?.map(lc);
      const props = e.extended.filter((p) => !ids || ids.includes(lc(p.id)));
      if (props.length > 0) out['singleValueExtendedProperties'] = props.map((p) => ({ id: p.id, value: p.value }));
    }
    const selected = applySelect(out, req.query.get('$select'));
    this.checkResponse(req, 'event', selected);
    return selected;
  }

  private normalizeAttendees(list: unknown, previous: Json[] = []): Json[] {
    return ((list as Json[] | undefined) ?? []).map((a) => {
      const prev = previous.find((p) => lc(addressOf(p)) === lc(addressOf(a)));
      const emailAddress = a['emailAddress'] as Json | undefined;
      return {
        type: a['type'] ?? 'required',
        status: prev?.['status'] ?? { response: 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: { name: emailAddress?.['name'] ?? emailAddress?.['address'] ?? '', address: emailAddress?.['address'] ?? '' },
      };
    });
  }

  private applyOnlineMeeting(user: EmUser, e: StoredEvent, wantOnline: boolean, provider: unknown): void {
    const requested = typeof provider === 'string' && provider !== 'unknown' ? provider : user.defaultOnlineMeetingProvider;
    const allowed = user.allowedOnlineMeetingProviders.includes(requested) && requested === 'teamsForBusiness';
    if (wantOnline && allowed) {
      const existing = e.data['onlineMeeting'] as Json | null | undefined;
      if (!existing?.['joinUrl']) {
        e.data['onlineMeeting'] = { joinUrl: `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${randomUUID().replace(/-/g, '')}%40thread.v2/0` };
      }
      e.data['isOnlineMeeting'] = true;
      e.data['onlineMeetingProvider'] = 'teamsForBusiness';
    } else if (wantOnline) {
      // What Graph does when the mailbox may not create Teams meetings: 201, but no meeting.
      e.data['isOnlineMeeting'] = false;
      e.data['onlineMeetingProvider'] = 'unknown';
      e.data['onlineMeeting'] = null;
    }
  }

  private createEvent(req: GraphRequest, user: EmUser): GraphResponse {
    const body = req.body as Json;
    this.checkEntity(req, 'event', body);
    const attendees = (body['attendees'] as unknown[] | undefined) ?? [];
    if (attendees.length > this.ctx.settings.maxAttendees) {
      fail(400, 'ErrorInvalidRequest', `An event can have at most ${this.ctx.settings.maxAttendees} attendees; this request has ${attendees.length}.`);
    }
    const txn = typeof body['transactionId'] === 'string' ? body['transactionId'] : null;
    const now = this.ctx.state.clock.now();
    if (txn && this.ctx.settings.transactionIdWindowMs > 0) {
      const seen = this.ctx.state.transactions.get(`${user.id}|${txn}`);
      const prior = seen ? this.ctx.state.eventsById.get(seen.eventId) : undefined;
      if (seen && prior && now - seen.at < this.ctx.settings.transactionIdWindowMs) {
        this.ctx.count('eventsDeduplicated');
        return { status: 201, body: this.renderEvent(req, prior) };
      }
    }
    const startMs = parseDateTimeTimeZone(body['start'], 'start');
    const endMs = parseDateTimeTimeZone(body['end'], 'end');
    if (endMs < startMs) fail(400, 'ErrorInvalidRequest', 'The end time must be after the start time.');
    const id = newId();
    const iso = new Date(now).toISOString();
    const { singleValueExtendedProperties, start: _s, end: _e, ...rest } = body;
    const bodyContent = (rest['body'] as Json | undefined) ?? { contentType: 'text', content: '' };
    const e: StoredEvent = {
      id,
      mailbox: user.id,
      createdAt: now,
      startMs,
      endMs,
      cancelComment: null,
      extended: assertExtendedProperties(singleValueExtendedProperties),
      data: {
        ...rest,
        createdDateTime: iso,
        lastModifiedDateTime: iso,
        changeKey: randomUUID(),
        categories: rest['categories'] ?? [],
        originalStartTimeZone: (body['start'] as Json)['timeZone'] ?? 'UTC',
        originalEndTimeZone: (body['end'] as Json)['timeZone'] ?? 'UTC',
        iCalUId: `040000008200E00074C5B7101A82E008${randomUUID().replace(/-/g, '').toUpperCase()}`,
        reminderMinutesBeforeStart: rest['reminderMinutesBeforeStart'] ?? 15,
        isReminderOn: rest['isReminderOn'] ?? true,
        hasAttachments: false,
        importance: rest['importance'] ?? 'normal',
        sensitivity: rest['sensitivity'] ?? 'normal',
        isAllDay: rest['isAllDay'] ?? false,
        isCancelled: false,
        isOrganizer: true,
        isDraft: false,
        responseRequested: rest['responseRequested'] ?? true,
        showAs: rest['showAs'] ?? 'busy',
        type: 'singleInstance',
        webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
        body: bodyContent,
        bodyPreview: String(bodyContent['content'] ?? '').replace(/<[^>]*>/g, '').slice(0, 255),
        responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
        organizer: { emailAddress: { name: user.displayName, address: user.mail } },
        attendees: this.normalizeAttendees(rest['attendees']),
        isOnlineMeeting: false,
        onlineMeetingProvider: 'unknown',
        onlineMeeting: null,
        transactionId: txn,
      },
    };
    this.applyOnlineMeeting(user, e, body['isOnlineMeeting'] === true, body['onlineMeetingProvider']);
    this.ctx.state.eventsById.set(id, e);
    if (txn) this.ctx.state.transactions.set(`${user.id}|${txn}`, { eventId: id, at: now });
    this.ctx.count('eventsCreated');
    return { status: 201, headers: { Location: `${this.ctx.baseUrl()}/v1.0/users/${user.id}/events/${id}` }, body: this.renderEvent(req, e) };
  }

  private listEvents(req: GraphRequest, user: EmUser): GraphResponse {
    const filter = req.query.get('$filter');
    const f = filter ? parseFilter(filter) : null;
    const events = [...this.ctx.state.eventsById.values()]
      .filter((e) => e.mailbox === user.id)
      .filter((e) => !f || matchesFilter(f, { ...e.data, id: e.id, start: { dateTime: new Date(e.startMs).toISOString() } }, { singleValueExtendedProperties: e.extended }))
      .sort((x, y) => x.startMs - y.startMs);
    const rendered = events.map((e) => this.renderEvent(req, e));
    const top = Math.min(Number(req.query.get('$top') ?? '10') || 10, 1000);
    const skip = Number(req.query.get('$skip') ?? '0') || 0;
    const body: Json = { value: rendered.slice(skip, skip + top) };
    if (skip + top < rendered.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skip', String(skip + top));
      body['@odata.nextLink'] = `${this.ctx.baseUrl()}/v1.0${req.path}?${q.toString()}`;
    }
    return { status: 200, body };
  }

  private patchEvent(req: GraphRequest, user: EmUser, eid: string): GraphResponse {
    const e = this.findEvent(user, eid);
    const body = req.body as Json;
    this.checkEntity(req, 'event', body);
    if (e.data['isCancelled'] === true) fail(400, 'ErrorInvalidOperation', 'The meeting has been cancelled and can no longer be updated.');
    const attendees = (body['attendees'] as unknown[] | undefined) ?? [];
    if (attendees.length > this.ctx.settings.maxAttendees) fail(400, 'ErrorInvalidRequest', `An event can have at most ${this.ctx.settings.maxAttendees} attendees.`);
    const { singleValueExtendedProperties, start, end, attendees: newAttendees, ...rest } = body;
    if (start !== undefined) e.startMs = parseDateTimeTimeZone(start, 'start');
    if (end !== undefined) e.endMs = parseDateTimeTimeZone(end, 'end');
    if (newAttendees !== undefined) e.data['attendees'] = this.normalizeAttendees(newAttendees, (e.data['attendees'] as Json[] | undefined) ?? []);
    Object.assign(e.data, rest);
    e.extended = mergeExtended(e.extended, assertExtendedProperties(singleValueExtendedProperties));
    if (body['isOnlineMeeting'] !== undefined || body['onlineMeetingProvider'] !== undefined) {
      this.applyOnlineMeeting(user, e, e.data['isOnlineMeeting'] === true, e.data['onlineMeetingProvider']);
    }
    e.data['lastModifiedDateTime'] = new Date(this.ctx.state.clock.now()).toISOString();
    e.data['changeKey'] = randomUUID();
    this.ctx.count('eventsUpdated');
    return { status: 200, body: this.renderEvent(req, e) };
  }

  private cancelEvent(req: GraphRequest, user: EmUser, eid: string): GraphResponse {
    const e = this.findEvent(user, eid);
    this.checkAction(req, 'cancel', 'event', req.body);
    if (e.data['isOrganizer'] !== true) fail(400, 'ErrorAccessDenied', 'Your request can\'t be completed. You need to be an organizer to cancel a meeting.');
    e.data['isCancelled'] = true;
    e.cancelComment = String((req.body as Json | undefined)?.['Comment'] ?? '');
    this.ctx.count('eventsCancelled');
    return { status: 202 };
  }

  private getSchedule(req: GraphRequest, user: EmUser): GraphResponse {
    this.checkAction(req, 'getSchedule', 'calendar', req.body);
    const body = req.body as { Schedules: string[]; StartTime: unknown; EndTime: unknown; AvailabilityViewInterval?: number };
    const from = parseDateTimeTimeZone(body.StartTime, 'StartTime');
    const to = parseDateTimeTimeZone(body.EndTime, 'EndTime');
    const interval = (body.AvailabilityViewInterval ?? 30) * MINUTE_MS;
    const value = (body.Schedules ?? []).map((email) => {
      const who = this.ctx.state.findUser(email);
      if (!who) return { scheduleId: email, error: { message: `The requested user '${email}' is invalid.`, responseCode: 'ErrorInvalidUser' } };
      const items: Array<{ startMs: number; endMs: number; subject: string }> = [];
      for (const e of this.ctx.state.eventsById.values()) {
        if (e.data['isCancelled'] === true || e.endMs <= from || e.startMs >= to) continue;
        const attendees = (e.data['attendees'] as Json[] | undefined) ?? [];
        const attending = attendees.find((a) => lc(addressOf(a)) === lc(who.mail));
        const declined = String((attending?.['status'] as Json | undefined)?.['response'] ?? '') === 'declined';
        if (e.mailbox === who.id || (attending && !declined)) items.push({ startMs: e.startMs, endMs: e.endMs, subject: String(e.data['subject'] ?? '') });
      }
      for (const b of this.ctx.state.busy.get(lc(who.mail)) ?? []) if (b.endMs > from && b.startMs < to) items.push({ ...b, subject: '' });
      let view = '';
      for (let t = from; t < to; t += interval) view += items.some((i) => i.startMs < t + interval && i.endMs > t) ? '2' : '0';
      return {
        scheduleId: email,
        availabilityView: view,
        scheduleItems: items.map((i) => ({ isPrivate: false, status: 'busy', subject: i.subject, start: renderDateTime(i.startMs, null), end: renderDateTime(i.endMs, null) })),
        workingHours: { daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], startTime: '08:00:00.0000000', endTime: '17:00:00.0000000', timeZone: { name: user.timeZone } },
      };
    });
    return { status: 200, body: { value } };
  }

  // ---------- mail ----------

  private folderName(user: EmUser, idOrName: string): FolderName {
    const known: FolderName[] = ['inbox', 'drafts', 'sentitems', 'deleteditems'];
    const byName = known.find((k) => k === lc(idOrName));
    if (byName) return byName;
    const byId = known.find((k) => user.folders[k] === idOrName);
    if (!byId) return fail(404, 'ErrorItemNotFound', 'The specified folder could not be found in the store.');
    return byId;
  }

  /** Whether Graph shows the message yet (a sendMail's Sent Items copy is filed after sentCopyDelayMs). */
  private filed(m: StoredMessage): boolean {
    return m.filedAt === undefined || m.filedAt <= this.ctx.state.clock.now();
  }

  private findMessage(user: EmUser, id: string): StoredMessage {
    const m = this.ctx.state.messages.find((x) => x.mailbox === user.id && (x.restId === id || x.immutableId === id) && this.filed(x));
    if (!m) return fail(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    return m;
  }

  private renderMessage(req: GraphRequest, m: StoredMessage): Json {
    const user = this.ctx.state.users.get(m.mailbox);
    const out: Json = {
      '@odata.etag': `W/"${String(m.data['changeKey'] ?? '')}"`,
      id: wantsImmutableId(req.headers) ? m.immutableId : m.restId,
      ...m.data,
      isDraft: m.folder === 'drafts',
      parentFolderId: user ? user.folders[m.folder] : '',
    };
    const expand = parseExpandExtended(req.query.get('$expand'));
    if (expand.expand) {
      const ids = expand.ids?.map(lc);
      const props = m.extended.filter((p) => !ids || ids.includes(lc(p.id)));
      if (props.length > 0) out['singleValueExtendedProperties'] = props.map((p) => ({ id: p.id, value: p.value }));
    }
    const selected = applySelect(out, req.query.get('$select'));
    this.checkResponse(req, 'message', selected);
    return selected;
  }

  private newMessageData(user: EmUser, body: Json): Json {
    const now = new Date(this.ctx.state.clock.now()).toISOString();
    const { singleValueExtendedProperties: _x, ...rest } = body;
    const content = (rest['body'] as Json | undefined) ?? { contentType: 'text', content: '' };
    return {
      ...rest,
      createdDateTime: now,
      lastModifiedDateTime: now,
      changeKey: randomUUID(),
      categories: rest['categories'] ?? [],
      hasAttachments: false,
      importance: rest['importance'] ?? 'normal',
      isRead: true,
      isReadReceiptRequested: rest['isReadReceiptRequested'] ?? false,
      isDeliveryReceiptRequested: rest['isDeliveryReceiptRequested'] ?? false,
      body: content,
      bodyPreview: String(content['content'] ?? '').replace(/<[^>]*>/g, '').slice(0, 255),
      from: rest['from'] ?? { emailAddress: { name: user.displayName, address: user.mail } },
      sender: rest['sender'] ?? { emailAddress: { name: user.displayName, address: user.mail } },
      toRecipients: rest['toRecipients'] ?? [],
      ccRecipients: rest['ccRecipients'] ?? [],
      bccRecipients: rest['bccRecipients'] ?? [],
      replyTo: rest['replyTo'] ?? [],
      conversationId: newId('AAQk'),
      internetMessageId: rest['internetMessageId'] ?? `<${randomUUID().replace(/-/g, '')}@${user.mail.split('@')[1] ?? 'contoso.com'}>`,
      sentDateTime: null,
      receivedDateTime: null,
    };
  }

  private recipientCount(data: Json): number {
    return ['toRecipients', 'ccRecipients', 'bccRecipients'].reduce((n, k) => n + ((data[k] as unknown[] | undefined)?.length ?? 0), 0);
  }

  private createDraft(req: GraphRequest, user: EmUser): GraphResponse {
    const body = req.body as Json;
    this.checkEntity(req, 'message', body);
    const m: StoredMessage = {
      restId: newId(),
      immutableId: newId('AAkAL'),
      mailbox: user.id,
      folder: 'drafts',
      data: this.newMessageData(user, body),
      extended: assertExtendedProperties(body['singleValueExtendedProperties']),
      sentAt: null,
    };
    if (this.recipientCount(m.data) > 500) fail(400, 'ErrorTooManyRecipients', 'A message can have at most 500 recipients.');
    this.ctx.state.messages.push(m);
    this.ctx.count('draftsCreated');
    return { status: 201, body: this.renderMessage(req, m) };
  }

  /** Exchange Online's per-mailbox sending limits (30 messages a minute, 10,000 recipients a day). */
  private assertSendAllowed(user: EmUser, recipients: number): void {
    const now = this.ctx.state.clock.now();
    const lastMinute = this.ctx.state.sendsSince(user.id, MINUTE_MS);
    if (lastMinute.length >= this.ctx.settings.sendsPerMinute) {
      const wait = Math.max(1, Math.ceil((MINUTE_MS - (now - (lastMinute[0]?.at ?? now))) / 1000));
      fail(429, 'ApplicationThrottled', `Message rate limit exceeded: at most ${this.ctx.settings.sendsPerMinute} messages per minute from this mailbox.`, { 'Retry-After': String(wait) });
    }
    const lastDay = this.ctx.state.sendsSince(user.id, DAY_MS);
    const used = lastDay.reduce((n, s) => n + s.recipients, 0);
    if (used + recipients > this.ctx.settings.recipientsPerDay) {
      const wait = Math.max(1, Math.ceil((DAY_MS - (now - (lastDay[0]?.at ?? now))) / 1000));
      fail(429, 'ErrorSubmissionQuotaExceeded', `Cannot send: the mailbox exceeded its recipient rate limit of ${this.ctx.settings.recipientsPerDay} recipients per day.`, { 'Retry-After': String(wait) });
    }
  }

  private recordSend(user: EmUser, recipients: number): void {
    const list = this.ctx.state.sends.get(user.id) ?? [];
    list.push({ at: this.ctx.state.clock.now(), recipients });
    this.ctx.state.sends.set(user.id, list);
    this.ctx.count(`messagesSent:${user.mail.toLowerCase()}`);
    this.ctx.count('messagesSent');
  }

  private sendDraft(req: GraphRequest, user: EmUser, mid: string): GraphResponse {
    const m = this.findMessage(user, mid);
    if (req.body !== undefined && req.body !== null && Object.keys(req.body as Json).length > 0) this.checkAction(req, 'send', 'message', req.body);
    if (m.folder !== 'drafts') fail(400, 'ErrorInvalidOperation', 'The message has already been sent.');
    const recipients = this.recipientCount(m.data);
    if (recipients === 0) fail(400, 'ErrorInvalidRecipients', 'At least one recipient isn\'t valid., A message can\'t be sent because it contains no recipients.');
    this.assertSendAllowed(user, recipients);
    const now = new Date(this.ctx.state.clock.now()).toISOString();
    m.folder = 'sentitems';
    m.restId = newId();
    m.sentAt = this.ctx.state.clock.now();
    m.data['sentDateTime'] = now;
    m.data['receivedDateTime'] = now;
    m.data['lastModifiedDateTime'] = now;
    this.recordSend(user, recipients);
    return { status: 202 };
  }

  private sendMail(req: GraphRequest, user: EmUser): GraphResponse {
    this.checkAction(req, 'sendMail', 'user', req.body);
    // Action parameters are matched without regard to case (the CSDL says Message, the docs' examples message).
    const param = (name: string): unknown => Object.entries((req.body as Json | undefined) ?? {}).find(([k]) => lc(k) === lc(name))?.[1];
    const message = (param('Message') ?? {}) as Json;
    const data = this.newMessageData(user, message);
    const recipients = this.recipientCount(data);
    if (recipients === 0) fail(400, 'ErrorInvalidRecipients', 'A message can\'t be sent because it contains no recipients.');
    if (recipients > 500) fail(400, 'ErrorTooManyRecipients', 'A message can have at most 500 recipients.');
    this.assertSendAllowed(user, recipients);
    const at = this.ctx.state.clock.now();
    const now = new Date(at).toISOString();
    data['sentDateTime'] = now;
    data['receivedDateTime'] = now;
    if (param('SaveToSentItems') !== false) {
      const delay = this.ctx.settings.sentCopyDelayMs;
      this.ctx.state.messages.push({ restId: newId(), immutableId: newId('AAkAL'), mailbox: user.id, folder: 'sentitems', data, extended: assertExtendedProperties(message['singleValueExtendedProperties']), sentAt: at, ...(delay > 0 ? { filedAt: at + delay } : {}) });
    }
    this.recordSend(user, recipients);
    return { status: 202 };
  }

  private listMessages(req: GraphRequest, user: EmUser, folder: FolderName | null): GraphResponse {
    const filter = req.query.get('$filter');
    const f = filter ? parseFilter(filter) : null;
    const list = this.ctx.state.messages
      .filter((m) => m.mailbox === user.id && (folder === null || m.folder === folder) && this.filed(m))
      .filter((m) => !f || matchesFilter(f, { ...m.data, id: m.restId, isDraft: m.folder === 'drafts' }, { singleValueExtendedProperties: m.extended }))
      .map((m) => this.renderMessage(req, m));
    const top = Math.min(Number(req.query.get('$top') ?? '10') || 10, 1000);
    const skip = Number(req.query.get('$skip') ?? '0') || 0;
    const body: Json = { value: list.slice(skip, skip + top) };
    if (skip + top < list.length) {
      const q = new URLSearchParams(req.query);
      q.set('$skip', String(skip + top));
      body['@odata.nextLink'] = `${this.ctx.baseUrl()}/v1.0${req.path}?${q.toString()}`;
    }
    return { status: 200, body };
  }

  // ---------- workbook ----------

  private workbookRoute(req: GraphRequest, m: string, driveId: string, itemId: string, sub: string[]): GraphResponse {
    const wb = this.ctx.state.workbook(driveId, itemId);
    if (!wb) return fail(404, 'itemNotFound', 'The resource could not be found.');
    const [a, b, c] = sub;
    const toSheet = (ws: Worksheet): Json => ({ '@odata.id': `/drives('${driveId}')/items('${itemId}')/workbook/worksheets(%27${encodeURIComponent(ws.id)}%27)`, id: ws.id, name: ws.name, position: ws.position, visibility: 'Visible' });
    if (a !== 'worksheets' && !(a ?? '').startsWith('worksheets(')) return fail(400, 'BadRequest', `Unsupported workbook path ${sub.join('/')}`);
    const inline = /^worksheets\('(.+)'\)$/.exec(a ?? '');
    const sheetRef = inline ? inline[1] : b;
    const after = inline ? sub.slice(1) : sub.slice(2);
    if (!inline && b === undefined) {
      if (m === 'GET') return { status: 200, body: { value: wb.sheets.map(toSheet) } };
      if (m === 'POST') return this.addSheet(req, wb, toSheet, 'workbookWorksheet');
    }
    if (!inline && b === 'add' && m === 'POST' && c === undefined) return this.addSheet(req, wb, toSheet, 'add');
    const ws = wb.sheets.find((s) => s.id === sheetRef || lc(s.name) === lc(sheetRef ?? ''));
    if (!ws) return fail(404, 'ItemNotFound', `The requested resource doesn't exist.`);
    const [op] = after;
    if (op === undefined && m === 'GET') return { status: 200, body: toSheet(ws) };
    const rangeMatch = /^range\(address='([^']*)'\)$/.exec(op ?? '');
    if (rangeMatch) {
      const addr = parseAddress(rangeMatch[1] ?? '');
      if (!addr) return fail(400, 'InvalidArgument', 'The argument is invalid or missing or has an incorrect format.');
      if (m === 'GET' && after[1] === undefined) return { status: 200, body: this.renderRange(req, ws, addr) };
      if (m === 'PATCH' && after[1] === undefined) return this.patchRange(req, ws, addr);
      if (m === 'POST' && after[1] === 'delete') {
        this.checkAction(req, 'delete', 'workbookRange', req.body);
        const shift = String((req.body as Json | undefined)?.['shift'] ?? '');
        if (shift !== 'Up' && shift !== 'Left') fail(400, 'InvalidArgument', "shift must be 'Up' or 'Left'.");
        deleteRange(ws, addr, shift as 'Up' | 'Left');
        return { status: 204 };
      }
    }
    const used = /^usedRange(?:\(valuesOnly=(true|false)\))?$/.exec(op ?? '');
    if (used && m === 'GET') return { status: 200, body: this.renderRange(req, ws, usedRange(ws, used[1] === 'true')) };
    return fail(400, 'BadRequest', `Unsupported workbook path ${sub.join('/')}`);
  }

  private addSheet(req: GraphRequest, wb: { sheets: Worksheet[] }, toSheet: (ws: Worksheet) => Json, kind: 'add' | 'workbookWorksheet'): GraphResponse {
    if (kind === 'add') this.checkAction(req, 'add', 'Collection(microsoft.graph.workbookWorksheet)', req.body);
    else this.checkEntity(req, 'workbookWorksheet', req.body);
    const name = String((req.body as Json | undefined)?.['name'] ?? `Sheet${wb.sheets.length + 1}`);
    if (wb.sheets.some((s) => lc(s.name) === lc(name))) fail(409, 'ItemAlreadyExists', `A worksheet named '${name}' already exists.`);
    if (name.length > 31 || /[\\/?*[\]:]/.test(name)) fail(400, 'InvalidArgument', 'The worksheet name is not valid.');
    const ws = this.ctx.state.addWorksheet(wb as Parameters<GraphState['addWorksheet']>[0], name);
    return { status: 201, body: toSheet(ws) };
  }

  private renderRange(req: GraphRequest, ws: Worksheet, r: RangeAddress): Json {
    const grid = <T>(f: (row: number, col: number) => T): T[][] => Array.from({ length: r.rows }, (_, i) => Array.from({ length: r.cols }, (_, j) => f(r.row + i, r.col + j)));
    const body: Json = {
      address: formatAddress(ws.name, r),
      addressLocal: formatAddress(ws.name, r),
      cellCount: r.rows * r.cols,
      columnCount: r.cols,
      columnHidden: false,
      columnIndex: r.col,
      rowCount: r.rows,
      rowHidden: false,
      rowIndex: r.row,
      hidden: false,
      values: grid((i, j) => getCell(ws, i, j).value),
      text: grid((i, j) => String(getCell(ws, i, j).value)),
      formulas: grid((i, j) => getCell(ws, i, j).formula ?? getCell(ws, i, j).value),
      numberFormat: grid((i, j) => getCell(ws, i, j).numberFormat),
      valueTypes: grid((i, j) => {
        const v = getCell(ws, i, j).value;
        return v === '' ? 'Empty' : typeof v === 'number' ? 'Double' : typeof v === 'boolean' ? 'Boolean' : String(v).startsWith('#') ? 'Error' : 'String';
      }),
    };
    const selected = applySelect(body, req.query.get('$select'));
    this.checkResponse(req, 'workbookRange', selected);
    return selected;
  }

  private patchRange(req: GraphRequest, ws: Worksheet, r: RangeAddress): GraphResponse {
    const body = req.body as Json;
    this.checkEntity(req, 'workbookRange', body);
    const shape = (v: unknown, name: string): unknown[][] | null => {
      if (v === undefined) return null;
      if (!Array.isArray(v) || v.length !== r.rows || v.some((row) => !Array.isArray(row) || row.length !== r.cols)) {
        // Excel broadcasts a single value [[x]] over the range; any other shape mismatch is rejected.
        if (Array.isArray(v) && v.length === 1 && Array.isArray(v[0]) && v[0].length === 1) return Array.from({ length: r.rows }, () => Array.from({ length: r.cols }, () => (v[0] as unknown[])[0]));
        return fail(400, 'InvalidArgument', `The number of rows or columns in the input array doesn't match the size or dimensions of the range (${name}).`);
      }
      return v as unknown[][];
    };
    const formats = shape(body['numberFormat'], 'numberFormat');
    const values = shape(body['values'], 'values');
    const formulas = shape(body['formulas'], 'formulas');
    // Number formats apply before values, so text-formatted cells keep '=...' as text (as Excel does within one PATCH).
    formats?.forEach((row, i) => row.forEach((f, j) => f !== null && writeNumberFormat(ws, r.row + i, r.col + j, String(f))));
    values?.forEach((row, i) => row.forEach((v, j) => writeValue(ws, r.row + i, r.col + j, v)));
    formulas?.forEach((row, i) => row.forEach((v, j) => writeValue(ws, r.row + i, r.col + j, v)));
    this.ctx.count('rangesWritten');
    return { status: 200, body: this.renderRange(req, ws, r) };
  }
}
