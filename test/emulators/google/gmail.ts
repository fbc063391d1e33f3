// Gmail v1 behaviour of the emulator: sent messages parsed from raw MIME, bounces placed by tests, search by rfc822msgid; it does not deliver mail anywhere.
import { createHash } from 'node:crypto';
import { ApiError, badRequest, notFound, type CallContext, type Handler, queryInt } from './common.js';

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: string;
  headers: Array<{ name: string; value: string }>;
  internalDate: number;
  user: string;
}

export class GmailState {
  readonly mailboxes = new Map<string, StoredMessage[]>();
  private seq = 0;

  mailbox(user: string): StoredMessage[] {
    const key = user.toLowerCase();
    let box = this.mailboxes.get(key);
    if (!box) {
      box = [];
      this.mailboxes.set(key, box);
    }
    return box;
  }

  add(user: string, raw: string, labelIds: string[], now: number): StoredMessage {
    this.seq += 1;
    const headers = parseHeaders(raw);
    const id = createHash('sha1').update(`${user}:${this.seq}`).digest('hex').slice(0, 16);
    const msg: StoredMessage = { id, threadId: id, labelIds, raw, headers, internalDate: now, user: user.toLowerCase() };
    this.mailbox(user).push(msg);
    return msg;
  }

  sentMessages(user: string): Array<StoredMessage & { messageId: string | undefined; to: string | undefined; subject: string | undefined }> {
    return this.mailbox(user)
      .filter((m) => m.labelIds.includes('SENT'))
      .map((m) => ({ ...m, messageId: header(m, 'message-id'), to: header(m, 'to'), subject: header(m, 'subject') }));
  }

  /** Places a delivery failure notice in the user's inbox, as Gmail's mailer-daemon would. */
  addBounce(user: string, opts: { recipient: string; originalMessageId?: string; now: number }): StoredMessage {
    const lines = [
      'From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
      `To: ${user}`,
      'Subject: Delivery Status Notification (Failure)',
      `Message-ID: <bounce-${this.seq + 1}-${Date.now()}@mx.google.com>`,
      `X-Failed-Recipients: ${opts.recipient}`,
      ...(opts.originalMessageId ? [`References: ${opts.originalMessageId}`, `In-Reply-To: ${opts.originalMessageId}`] : []),
      'Content-Type: text/plain; charset=UTF-8',
      '',
      `Address not found: your message wasn't delivered to ${opts.recipient} because the address couldn't be found.`,
      '',
    ];
    return this.add(user, Buffer.from(lines.join('\r\n')).toString('base64url'), ['INBOX', 'UNREAD', 'CATEGORY_UPDATES'], opts.now);
  }
}

function header(m: StoredMessage, name: string): string | undefined {
  return m.headers.find((h) => h.name.toLowerCase() === name)?.value;
}

/** Reads the header block of an RFC 5322 message given as base64url (unfolding continuation lines). */
export function parseHeaders(raw: string): Array<{ name: string; value: string }> {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const block = end === -1 ? text : text.slice(0, end);
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  const out: Array<{ name: string; value: string }> = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
  }
  return out;
}

function matchesQuery(m: StoredMessage, q: string): boolean {
  const tokens = q.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  for (const token of tokens) {
    const [op, ...restParts] = token.split(':');
    const rest = restParts.join(':').replace(/^"|"$/g, '').toLowerCase();
    if (restParts.length === 0) {
      if (!Buffer.from(m.raw, 'base64url').toString('utf8').toLowerCase().includes(token.toLowerCase())) return false;
      continue;
    }
    switch (op!.toLowerCase()) {
      case 'rfc822msgid': {
        const want = rest.replace(/^<|>$/g, '');
        const have = (header(m, 'message-id') ?? '').toLowerCase().replace(/^<|>$/g, '');
        if (want !== have) return false;
        break;
      }
      case 'in':
        if (!m.labelIds.includes(rest.toUpperCase())) return false;
        break;
      case 'label':
        if (!m.labelIds.map((l) => l.toLowerCase()).includes(rest)) return false;
        break;
      case 'from':
        if (!(header(m, 'from') ?? '').toLowerCase().includes(rest)) return false;
        break;
      case 'to':
        if (!(header(m, 'to') ?? '').toLowerCase().includes(rest)) return false;
        break;
      case 'subject':
        if (!(header(m, 'subject') ?? '').toLowerCase().includes(rest)) return false;
        break;
      case 'after':
      case 'newer': {
        const t = /^\d+$/.test(rest) ? Number(rest) * 1000 : Date.parse(rest.replace(/\//g, '-'));
        if (m.internalDate < t) return false;
        break;
      }
      default:
        throw badRequest(`Invalid search query: unsupported operator ${op}`);
    }
  }
  return true;
}

function userOf(ctx: CallContext): string {
  const id = ctx.pathParams.userId!;
  if (id === 'me' || id.toLowerCase() === ctx.user) return ctx.user;
  throw new ApiError(403, 'forbidden', 'Delegation denied for ' + ctx.user);
}

export function gmailHandlers(state: GmailState): Record<string, Handler> {
  return {
    'gmail.users.messages.send': (ctx) => {
      const user = userOf(ctx);
      const raw: unknown = ctx.body?.raw;
      if (typeof raw !== 'string' || raw.length === 0) throw badRequest("'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument');
      const normalised = Buffer.from(raw, raw.includes('+') || raw.includes('/') ? 'base64' : 'base64url').toString('base64url');
      const headers = parseHeaders(normalised);
      if (!headers.some((h) => /^(to|cc|bcc)$/i.test(h.name))) throw badRequest('Recipient address required', 'invalidArgument');
      const msg = state.add(user, normalised, ['SENT'], ctx.now);
      if (!msg.headers.some((h) => h.name.toLowerCase() === 'message-id')) {
        msg.headers.push({ name: 'Message-ID', value: `<${msg.id}@mail.gmail.com>` });
      }
      return { body: { id: msg.id, threadId: msg.threadId, labelIds: msg.labelIds } };
    },

    'gmail.users.messages.list': (ctx) => {
      const user = userOf(ctx);
      const q = ctx.query.get('q');
      if (q !== null && ctx.scopes.includes('https://www.googleapis.com/auth/gmail.metadata') && !ctx.scopes.some((s) => /gmail\.(readonly|modify)$|mail\.google\.com/.test(s))) {
        throw new ApiError(403, 'forbidden', "Metadata scope does not support 'q' parameter");
      }
      const labels = ctx.query.getAll('labelIds');
      const max = Math.min(queryInt(ctx.query, 'maxResults') ?? 100, 500);
      const start = Number(ctx.query.get('pageToken') ?? 0);
      const found = [...state.mailbox(user)]
        .reverse()
        .filter((m) => labels.every((l) => m.labelIds.includes(l)))
        .filter((m) => (q ? matchesQuery(m, q) : true));
      const page = found.slice(start, start + max);
      const body: Record<string, unknown> = { resultSizeEstimate: found.length };
      if (page.length > 0) body.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
      if (start + max < found.length) body.nextPageToken = String(start + max);
      return { body };
    },

    'gmail.users.messages.get': (ctx) => {
      const user = userOf(ctx);
      const msg = state.mailbox(user).find((m) => m.id === ctx.pathParams.id);
      if (!msg) throw notFound('Requested entity was not found.');
      const format = ctx.query.get('format') ?? 'full';
      const base = { id: msg.id, threadId: msg.threadId, labelIds: msg.labelIds, sizeEstimate: msg.raw.length, internalDate: String(msg.internalDate), historyId: String(msg.internalDate) };
      if (format === 'raw') return { body: { ...base, raw: msg.raw } };
      if (format === 'minimal') return { body: base };
      const wanted = ctx.query.getAll('metadataHeaders').map((h) => h.toLowerCase());
      const headers = format === 'metadata' && wanted.length > 0 ? msg.headers.filter((h) => wanted.includes(h.name.toLowerCase())) : msg.headers;
      return { body: { ...base, snippet: '', payload: { partId: '', mimeType: 'message/rfc822', filename: '', headers } } };
    },
  };
}
