// MailerPort through Graph: each message is a draft with an immutable id (tagged with Muster's key), sent with retries off, and an unknown outcome is settled by reading that draft; it never resends blindly and never logs bodies.
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { Logger, MailerPort, OutgoingMessage, Person, SendOutcome } from '../../ports/index.js';
import { MUSTER_PROPERTY_SET, PREFER_IMMUTABLE_ID } from './constants.js';
import { type MusterGraphClient, query } from './graph-client.js';
import { MICROSOFT_PROVIDER } from './graph-calendar.js';

/** The draft's copy of Muster's idempotency key, to find it after a crash before its id was stored. */
export const MESSAGE_KEY_PROPERTY_ID = `String ${MUSTER_PROPERTY_SET} Name MusterMessageKey`;

const MAX_RECIPIENTS = 500;

export interface GraphMailerOptions {
  client: MusterGraphClient;
  /** The mailbox that sends (MS_ORGANIZER, or a shared training mailbox). */
  organizer: string;
  logger: Logger;
}

interface GraphMessage {
  id: string;
  isDraft?: boolean;
  parentFolderId?: string;
}

const recipient = (p: Person) => ({ emailAddress: { address: p.email, name: p.name } });

/** The draft body for an outgoing message; only X- headers travel (Graph's rule for internetMessageHeaders). */
export function toGraphMessage(msg: OutgoingMessage, organizer: string): Record<string, unknown> {
  const headers = Object.entries(msg.headers ?? {})
    .filter(([name]) => /^x-/i.test(name))
    .map(([name, value]) => ({ name, value }));
  return {
    subject: msg.subject,
    body: { contentType: 'html', content: msg.html },
    toRecipients: msg.to.map(recipient),
    ...(msg.cc && msg.cc.length > 0 ? { ccRecipients: msg.cc.map(recipient) } : {}),
    ...(msg.from.email.toLowerCase() !== organizer.toLowerCase() ? { from: recipient(msg.from) } : {}),
    ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
    singleValueExtendedProperties: [{ id: MESSAGE_KEY_PROPERTY_ID, value: `${msg.tenantId}/${msg.key}` }],
  };
}

function failed(error: MusterError): SendOutcome {
  // Nothing was sent when a draft step fails, even with an unknown outcome (a draft is never delivered): try again later.
  const retryable = ['PROVIDER_THROTTLED', 'PROVIDER_UNAVAILABLE', 'LIMIT_EXCEEDED', 'NOT_FOUND', 'OUTCOME_UNKNOWN'].includes(error.code);
  const pauseMailbox = error.code === 'LIMIT_EXCEEDED' || error.code === 'PROVIDER_AUTH_FAILED';
  return { status: 'failed', error, retryable, pauseMailbox };
}

export class GraphMailer implements MailerPort {
  readonly provider = MICROSOFT_PROVIDER;
  readonly canSettle = true;

  constructor(private readonly o: GraphMailerOptions) {}

  private get base(): string {
    return `/users/${encodeURIComponent(this.o.organizer)}`;
  }

  private opts(retry: 'idempotent' | 'keyed' | 'never') {
    return { mailbox: this.o.organizer, retry, headers: { Prefer: PREFER_IMMUTABLE_ID } };
  }

  /** Reads the message by its immutable id; null when the mailbox has no such message. */
  private async read(id: string): Promise<GraphMessage | null> {
    try {
      return await this.o.client.get<GraphMessage>(`${this.base}/messages/${encodeURIComponent(id)}${query({ $select: 'isDraft,parentFolderId' })}`, this.opts('idempotent'));
    } catch (err) {
      if (isMusterError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  /** Finds Muster's message by its key (draft or sent); null when none was ever created. */
  async findByKey(msg: OutgoingMessage): Promise<GraphMessage | null> {
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${MESSAGE_KEY_PROPERTY_ID}' and ep/value eq '${`${msg.tenantId}/${msg.key}`.replace(/'/g, "''")}')`;
    const page = await this.o.client.get<{ value: GraphMessage[] }>(`${this.base}/messages${query({ $filter: filter, $select: 'isDraft,parentFolderId', $top: 5 })}`, this.opts('idempotent'));
    return page.value.find((m) => m.isDraft === false) ?? page.value[0] ?? null;
  }

  private async createDraft(msg: OutgoingMessage): Promise<GraphMessage> {
    try {
      return await this.o.client.request<GraphMessage>('POST', `${this.base}/messages`, toGraphMessage(msg, this.o.organizer), this.opts('keyed'));
    } catch (err) {
      if (!isMusterError(err, 'OUTCOME_UNKNOWN')) throw err;
      // A draft is not a mail: look for it by key, and create it again only if it is not there.
      const found = await this.findByKey(msg);
      if (found) return found;
      return await this.o.client.request<GraphMessage>('POST', `${this.base}/messages`, toGraphMessage(msg, this.o.organizer), this.opts('keyed'));
    }
  }

  async send(msg: OutgoingMessage, previous?: { providerId: string | null }): Promise<SendOutcome> {
    const recipients = msg.to.length + (msg.cc?.length ?? 0);
    if (recipients === 0 || recipients > MAX_RECIPIENTS) {
      return failed(new MusterError('PROVIDER_REJECTED', `A message needs between 1 and ${MAX_RECIPIENTS} recipients; this one has ${recipients}.`));
    }
    let draft: GraphMessage | null = null;
    try {
      if (previous?.providerId) draft = await this.read(previous.providerId);
      else if (previous) draft = await this.findByKey(msg);
      if (draft && draft.isDraft === false) return { status: 'sent', providerId: draft.id };
      draft ??= await this.createDraft(msg);
    } catch (err) {
      if (isMusterError(err)) return failed(err);
      throw err;
    }
    try {
      await this.o.client.request('POST', `${this.base}/messages/${encodeURIComponent(draft.id)}/send`, undefined, this.opts('never'));
      return { status: 'sent', providerId: draft.id };
    } catch (err) {
      if (isMusterError(err, 'OUTCOME_UNKNOWN')) {
        this.o.logger.warn('graph.mail.send_unknown', { key: msg.key });
        return { status: 'unknown', providerId: draft.id, reason: err.message };
      }
      if (isMusterError(err)) return failed(err);
      throw err;
    }
  }

  async settle(msg: OutgoingMessage, providerId: string | null): Promise<'sent' | 'not-sent' | 'unknown'> {
    try {
      const m = providerId ? ((await this.read(providerId)) ?? (await this.findByKey(msg))) : await this.findByKey(msg);
      if (!m) return 'not-sent';
      return m.isDraft === false ? 'sent' : 'not-sent';
    } catch (err) {
      if (isMusterError(err)) {
        this.o.logger.warn('graph.mail.settle_failed', { key: msg.key, code: err.code });
        return 'unknown';
      }
      throw err;
    }
  }
}
