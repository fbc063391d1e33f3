// MailerPort through Graph: one sendMail per message (alone, or 20 to a $batch) carrying Muster's key, retries off; an unknown outcome is settled by finding that key in the mailbox, never by resending blindly; it never logs bodies.
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { Logger, MailerPort, OutgoingMessage, Person, SendOutcome } from '../../ports/index.js';
import { GRAPH_LIMITS, MUSTER_PROPERTY_SET, PREFER_IMMUTABLE_ID, SENT_COPY_FINDABLE_AFTER_MS } from './constants.js';
import { type BatchItem, type BatchItemResult, type MusterGraphClient, query } from './graph-client.js';
import { MICROSOFT_PROVIDER } from './graph-calendar.js';

/** The message's copy of Muster's idempotency key: the Sent Items copy keeps it, so a send in doubt can be found. */
export const MESSAGE_KEY_PROPERTY_ID = `String ${MUSTER_PROPERTY_SET} Name MusterMessageKey`;

const MAX_RECIPIENTS = 500;

export interface GraphMailerOptions {
  client: MusterGraphClient;
  /** The mailbox that sends (MS_ORGANIZER, or a shared training mailbox). */
  organizer: string;
  logger: Logger;
  /** How long an attempt that cannot be found stays 'unknown' before it counts as not sent (default SENT_COPY_FINDABLE_AFTER_MS). */
  findableAfterMs?: number;
}

interface GraphMessage {
  id: string;
  isDraft?: boolean;
  parentFolderId?: string;
}

const recipient = (p: Person) => ({ emailAddress: { address: p.email, name: p.name } });

/** The message resource for an outgoing message; only X- headers travel (Graph's rule for internetMessageHeaders). */
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

/**
 * The sendMail action's body. The CSDL names the parameters `Message` and `SaveToSentItems` (the docs' examples write
 * them in camel case; Graph takes either). SaveToSentItems defaults to true; it is spelled out because settling depends
 * on the Sent Items copy.
 */
export function toSendMailBody(msg: OutgoingMessage, organizer: string): Record<string, unknown> {
  return { Message: toGraphMessage(msg, organizer), SaveToSentItems: true };
}

function failed(error: MusterError): SendOutcome {
  // Graph refused the message before taking it: a later attempt may send it, unless the refusal is permanent.
  const retryable = ['PROVIDER_THROTTLED', 'PROVIDER_UNAVAILABLE', 'LIMIT_EXCEEDED', 'NOT_FOUND'].includes(error.code);
  const pauseMailbox = error.code === 'LIMIT_EXCEEDED' || error.code === 'PROVIDER_AUTH_FAILED';
  return { status: 'failed', error, retryable, pauseMailbox };
}

/** Whether Graph itself answered with this error (its body was read), as opposed to a request that never left (no token). */
const answeredByGraph = (err: MusterError): boolean => err.details.some((d) => d.field === 'graph.code');

/**
 * What a failed sendMail (alone, or a whole $batch) means. Throttling (429), refusals (4xx) and a request that never
 * left (no token) are failures: nothing was sent. A dropped connection, a timeout (504) or any other 5xx answer from
 * Graph is unknown: see `itemOutcome` for why a 5xx is not taken as "not sent".
 */
function outcomeOfError(err: MusterError): 'unknown' | 'failed' {
  if (err.code === 'OUTCOME_UNKNOWN') return 'unknown';
  if (err.code === 'PROVIDER_UNAVAILABLE' && answeredByGraph(err)) return 'unknown';
  return 'failed';
}

export class GraphMailer implements MailerPort {
  readonly provider = MICROSOFT_PROVIDER;
  readonly canSettle = true;
  readonly batchSize = GRAPH_LIMITS.batchSize;

  constructor(private readonly o: GraphMailerOptions) {}

  private get base(): string {
    return `/users/${encodeURIComponent(this.o.organizer)}`;
  }

  private opts(retry: 'idempotent' | 'keyed' | 'never') {
    return { mailbox: this.o.organizer, retry, headers: { Prefer: PREFER_IMMUTABLE_ID } };
  }

  /** Reads a message by its immutable id (rows from the draft-based sends kept one); null when there is none. */
  private async read(id: string): Promise<GraphMessage | null> {
    try {
      return await this.o.client.get<GraphMessage>(`${this.base}/messages/${encodeURIComponent(id)}${query({ $select: 'isDraft,parentFolderId' })}`, this.opts('idempotent'));
    } catch (err) {
      if (isMusterError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  /** Finds Muster's message by its key in any folder (a sent copy before a draft); null when the mailbox has none. */
  async findByKey(msg: OutgoingMessage): Promise<GraphMessage | null> {
    const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${MESSAGE_KEY_PROPERTY_ID}' and ep/value eq '${`${msg.tenantId}/${msg.key}`.replace(/'/g, "''")}')`;
    const page = await this.o.client.get<{ value: GraphMessage[] }>(`${this.base}/messages${query({ $filter: filter, $select: 'isDraft,parentFolderId', $top: 5 })}`, this.opts('idempotent'));
    return page.value.find((m) => m.isDraft === false) ?? page.value[0] ?? null;
  }

  private invalid(msg: OutgoingMessage): SendOutcome | null {
    const recipients = msg.to.length + (msg.cc?.length ?? 0);
    if (recipients > 0 && recipients <= MAX_RECIPIENTS) return null;
    return failed(new MusterError('PROVIDER_REJECTED', `A message needs between 1 and ${MAX_RECIPIENTS} recipients; this one has ${recipients}.`));
  }

  private unknown(msg: OutgoingMessage, reason: string): SendOutcome {
    this.o.logger.warn('graph.mail.send_unknown', { key: msg.key });
    return { status: 'unknown', providerId: null, reason };
  }

  async send(msg: OutgoingMessage, previous?: { providerId: string | null }): Promise<SendOutcome> {
    const invalid = this.invalid(msg);
    if (invalid) return invalid;
    if (previous) {
      // An earlier attempt may have gone out: only a message not in the mailbox is sent (a leftover draft is not a send).
      try {
        const found = previous.providerId ? ((await this.read(previous.providerId)) ?? (await this.findByKey(msg))) : await this.findByKey(msg);
        if (found && found.isDraft === false) return { status: 'sent', providerId: found.id };
      } catch (err) {
        if (isMusterError(err)) return failed(err);
        throw err;
      }
    }
    try {
      await this.o.client.request('POST', `${this.base}/sendMail`, toSendMailBody(msg, this.o.organizer), this.opts('never'));
      return { status: 'sent', providerId: null };
    } catch (err) {
      if (!isMusterError(err)) throw err;
      return outcomeOfError(err) === 'unknown' ? this.unknown(msg, err.message) : failed(err);
    }
  }

  /** One $batch of up to 20 sendMail requests, sent once (retry 'never' for the $batch and each item). */
  async sendBatch(msgs: OutgoingMessage[]): Promise<SendOutcome[]> {
    if (msgs.length > this.batchSize) throw new MusterError('INTERNAL', `sendBatch takes at most ${this.batchSize} messages; it got ${msgs.length}.`);
    const out: Array<SendOutcome | null> = msgs.map((m) => this.invalid(m));
    const items: BatchItem[] = [];
    msgs.forEach((m, i) => {
      if (!out[i]) items.push({ id: String(i + 1), method: 'POST', url: `${this.base}/sendMail`, body: toSendMailBody(m, this.o.organizer) });
    });
    if (items.length === 0) return out as SendOutcome[];
    let results: BatchItemResult[];
    try {
      results = await this.o.client.batch(items, { mailbox: this.o.organizer, retry: 'never' });
    } catch (err) {
      if (!isMusterError(err)) throw err;
      // The whole $batch failed: a dropped connection or a 5xx may have come after some or all items ran.
      const whole = outcomeOfError(err);
      if (whole === 'unknown') this.o.logger.warn('graph.mail.batch_unknown', { items: items.length, code: err.code });
      for (const it of items) {
        const i = Number(it.id) - 1;
        out[i] = whole === 'unknown' ? { status: 'unknown', providerId: null, reason: err.message } : failed(err);
      }
      return out as SendOutcome[];
    }
    for (const r of results) {
      const i = Number(r.id) - 1;
      out[i] = this.itemOutcome(msgs[i]!, r);
    }
    return out as SendOutcome[];
  }

  /**
   * One $batch item's answer. 202: sent. 429: throttled, Exchange did not take it: failed, retryable (the mailbox's
   * daily quota pauses it). Other 4xx: refused, as for a single send. 5xx, 504 or no answer: unknown, settled by lookup.
   *
   * A 503 per item is unknown, not "not sent": Graph's front end answers 503 both when it sheds load before passing the
   * item on and when the Outlook back end it passed the item to failed or answered too late, and the item's answer does
   * not say which. Taking it as "not sent" would mail a learner twice whenever the back end had in fact submitted the
   * message; taking it as unknown costs one lookup and, when the message is not in the mailbox, a resend after the
   * findable-after grace (SENT_COPY_FINDABLE_AFTER_MS). The same holds for 500 and 502.
   */
  private itemOutcome(msg: OutgoingMessage, r: BatchItemResult): SendOutcome {
    if (!r.error && r.status >= 200 && r.status < 300) return { status: 'sent', providerId: null };
    const error = r.error ?? new MusterError('PROVIDER_REJECTED', `Microsoft Graph answered sendMail with HTTP ${r.status}.`);
    if (r.status === 0 || r.status >= 500 || error.code === 'OUTCOME_UNKNOWN') return this.unknown(msg, error.message);
    return failed(error);
  }

  async settle(msg: OutgoingMessage, providerId: string | null, attemptAgeMs?: number | null): Promise<'sent' | 'not-sent' | 'unknown'> {
    try {
      const m = providerId ? ((await this.read(providerId)) ?? (await this.findByKey(msg))) : await this.findByKey(msg);
      if (m && m.isDraft === false) return 'sent';
      // A draft left by the draft-based sends was never sent (sending moves it out of Drafts).
      if (m) return 'not-sent';
      // Not in the mailbox: Exchange may not have filed the Sent Items copy yet; only an old attempt is "not sent".
      if (attemptAgeMs !== undefined && attemptAgeMs !== null && attemptAgeMs < (this.o.findableAfterMs ?? SENT_COPY_FINDABLE_AFTER_MS)) return 'unknown';
      return 'not-sent';
    } catch (err) {
      if (isMusterError(err)) {
        this.o.logger.warn('graph.mail.settle_failed', { key: msg.key, code: err.code });
        return 'unknown';
      }
      throw err;
    }
  }
}
