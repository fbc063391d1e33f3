// MailerPort on Gmail: builds a real MIME message with Muster's Message-ID, sends it once, and settles unknown outcomes by searching Sent for that id; it never resends blindly and never logs bodies.
import MailComposer from 'nodemailer/lib/mail-composer';
import type { gmail_v1 } from 'googleapis';
import type { MailerPort, OutgoingMessage, Person, SendOutcome } from '../../ports/index.js';
import { GoogleProviderError, isRetryable, toMusterError, withRetry, type RetryDeps } from './google-errors.js';

function address(p: Person): { name: string; address: string } {
  return { name: p.name, address: p.email };
}

/** The RFC 5322 message as bytes: multipart/alternative text + HTML (+ text/calendar when given), Muster's own Message-ID. */
export async function buildMime(msg: OutgoingMessage): Promise<Buffer> {
  const composer = new MailComposer({
    from: address(msg.from),
    to: msg.to.map(address),
    cc: msg.cc?.map(address),
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    messageId: msg.messageId,
    headers: { ...msg.headers, 'X-Muster-Key': msg.key },
    icalEvent: msg.calendar ? { method: msg.calendar.method, content: msg.calendar.ics } : undefined,
  });
  return composer.compile().build();
}

/** The Gmail search that finds a message by its Message-ID among the mailbox's sent mail. */
export function sentQueryFor(messageId: string): string {
  return `rfc822msgid:${messageId.replace(/^<|>$/g, '')} in:sent`;
}

export interface GmailMailerOptions {
  gmail: gmail_v1.Gmail;
  retry: RetryDeps;
}

export class GmailMailer implements MailerPort {
  readonly provider = 'google';
  readonly canSettle = true;
  private readonly gmail: gmail_v1.Gmail;
  private readonly retry: RetryDeps;

  constructor(opts: GmailMailerOptions) {
    this.gmail = opts.gmail;
    this.retry = opts.retry;
  }

  async send(msg: OutgoingMessage, previous?: { providerId: string | null }): Promise<SendOutcome> {
    if (previous) {
      const settled = await this.settle(msg, previous.providerId);
      if (settled === 'sent') return { status: 'sent', providerId: previous.providerId };
      if (settled === 'unknown') return { status: 'unknown', providerId: previous.providerId, reason: 'The earlier attempt could not be settled yet.' };
    }
    const raw = (await buildMime(msg)).toString('base64url');
    try {
      // Deliberately not retried: Gmail has no idempotency key, so a repeat could be a second mail.
      const res = await this.gmail.users.messages.send({ userId: 'me', requestBody: { raw } });
      return { status: 'sent', providerId: res.data.id ?? null };
    } catch (err) {
      const e = toMusterError(err);
      if (e.code === 'OUTCOME_UNKNOWN' || (e.code === 'PROVIDER_UNAVAILABLE' && e instanceof GoogleProviderError && e.httpStatus !== undefined)) {
        this.retry.logger.warn('gmail.send.unknown', { key: msg.key, code: e.code });
        return { status: 'unknown', providerId: null, reason: e.message };
      }
      const pauseMailbox = e instanceof GoogleProviderError && e.pauseMailbox;
      return { status: 'failed', error: e, retryable: isRetryable(e), pauseMailbox };
    }
  }

  async settle(msg: OutgoingMessage, providerId: string | null): Promise<'sent' | 'not-sent' | 'unknown'> {
    try {
      if (providerId) {
        const got = await withRetry('gmail.users.messages.get', () => this.gmail.users.messages.get({ userId: 'me', id: providerId, format: 'minimal' }), this.retry).then(
          () => true,
          (err: unknown) => {
            if (toMusterError(err).code === 'NOT_FOUND') return false;
            throw err;
          },
        );
        if (got) return 'sent';
      }
      const res = await withRetry('gmail.users.messages.list', () => this.gmail.users.messages.list({ userId: 'me', q: sentQueryFor(msg.messageId), maxResults: 1 }), this.retry);
      return (res.data.messages ?? []).length > 0 ? 'sent' : 'not-sent';
    } catch (err) {
      this.retry.logger.warn('gmail.settle.failed', { key: msg.key, code: toMusterError(err).code });
      return 'unknown';
    }
  }

  /** Addresses Gmail reported undeliverable (mailer-daemon notices in the inbox), optionally only after a time. */
  async readBounces(since?: Date): Promise<string[]> {
    const q = `from:mailer-daemon in:inbox${since ? ` after:${Math.floor(since.getTime() / 1000)}` : ''}`;
    const found = new Set<string>();
    let pageToken: string | undefined;
    do {
      const res = await withRetry('gmail.users.messages.list', () => this.gmail.users.messages.list({ userId: 'me', q, maxResults: 100, pageToken }), this.retry);
      for (const m of res.data.messages ?? []) {
        const full = await withRetry('gmail.users.messages.get', () => this.gmail.users.messages.get({ userId: 'me', id: m.id!, format: 'metadata', metadataHeaders: ['X-Failed-Recipients'] }), this.retry);
        const failed = full.data.payload?.headers?.find((h) => h.name?.toLowerCase() === 'x-failed-recipients')?.value;
        for (const a of (failed ?? '').split(',')) if (a.trim()) found.add(a.trim().toLowerCase());
      }
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    return [...found];
  }
}
