// MailerPort over SMTP (SMTP_URL) with nodemailer's SMTP client: one attempt per call, and a connection lost after the message data went out is reported as unknown, never resent.
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { MusterError, type ErrorDetail } from '../../domain/errors.js';
import type { Logger, MailerPort, OutgoingMessage, SendOutcome } from '../../ports/index.js';
import { composeMessage, toEnvelope } from './mime.js';

export const SMTP_PROVIDER = 'smtp';

/** Prefix of the detail message that marks an address the server refused for good (5.x.x): the learner is undeliverable. */
export const UNDELIVERABLE_DETAIL = 'Undeliverable:';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://). */
  secure: boolean;
  /** Refuse to send unless the server upgrades with STARTTLS (?requireTLS=true). */
  requireTLS: boolean;
  user: string | null;
  pass: string | null;
}

export interface SmtpTimeouts {
  connectionMs: number;
  greetingMs: number;
  /** Inactivity allowed while waiting for any reply, including the final one after the data. */
  socketMs: number;
}

const DEFAULT_TIMEOUTS: SmtpTimeouts = { connectionMs: 30_000, greetingMs: 30_000, socketMs: 120_000 };

/** Parses smtp://user:pass@host:port or smtps://…; throws MusterError 'CONFIG_INVALID' naming SMTP_URL (never echoing the password). */
export function parseSmtpUrl(smtpUrl: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch (cause) {
    throw new MusterError('CONFIG_INVALID', 'SMTP_URL is not a URL; use smtp://user:pass@host:port or smtps://user:pass@host:port.', {
      cause,
      details: [{ field: 'SMTP_URL', message: 'Not a URL.' }],
    });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new MusterError('CONFIG_INVALID', 'SMTP_URL must start with smtp:// or smtps://.', {
      details: [{ field: 'SMTP_URL', message: `The scheme ${url.protocol} is not supported.` }],
    });
  }
  if (!url.hostname) {
    throw new MusterError('CONFIG_INVALID', 'SMTP_URL names no host.', { details: [{ field: 'SMTP_URL', message: 'No host.' }] });
  }
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const requireTLS = url.searchParams.get('requireTLS') === 'true';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    secure,
    requireTLS,
    user: url.username ? decodeURIComponent(url.username) : null,
    pass: url.password ? decodeURIComponent(url.password) : null,
  };
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejected?: string[];
  rejectedErrors?: SmtpError[];
  recipient?: string;
}

/** Field paths (to.N.email / cc.N.email) of the addresses the server refused for good. */
function undeliverableDetails(msg: OutgoingMessage, err: SmtpError): ErrorDetail[] {
  const refusals = err.rejectedErrors?.length ? err.rejectedErrors : err.recipient ? [err] : [];
  const details: ErrorDetail[] = [];
  for (const r of refusals) {
    if (!r.responseCode || r.responseCode < 500) continue;
    const address = r.recipient ?? '';
    const toIndex = msg.to.findIndex((p) => p.email.toLowerCase() === address.toLowerCase());
    const ccIndex = (msg.cc ?? []).findIndex((p) => p.email.toLowerCase() === address.toLowerCase());
    const field = toIndex >= 0 ? `to.${toIndex}.email` : ccIndex >= 0 ? `cc.${ccIndex}.email` : 'to';
    details.push({ field, message: `${UNDELIVERABLE_DETAIL} ${address} was refused for good by the mail server (${r.response ?? r.responseCode}).` });
  }
  return details;
}

/** The addresses a failed SMTP send marked as undeliverable (5.x.x recipient refusals). */
export function undeliverableAddresses(error: MusterError): string[] {
  return error.details
    .filter((d) => d.message.startsWith(UNDELIVERABLE_DETAIL))
    .map((d) => d.message.slice(UNDELIVERABLE_DETAIL.length).trim().split(' ')[0] ?? '')
    .filter((a) => a !== '');
}

/** Maps an SMTP failure to an outcome: 4xx retryable, 5xx final, no reply after the data went out unknown. */
export function toSendOutcome(msg: OutgoingMessage, err: SmtpError, dataStarted: boolean): SendOutcome {
  const code = err.responseCode;
  if (code === undefined || code < 400) {
    if (dataStarted) {
      return {
        status: 'unknown',
        providerId: null,
        reason: `The connection to the mail server ended after the message was sent, before the server confirmed it (${err.code ?? 'no reply'}).`,
      };
    }
    if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'ECONFIG') {
      return {
        status: 'failed',
        error: new MusterError('PROVIDER_AUTH_FAILED', 'The mail server refused the SMTP_URL credentials.', { cause: err }),
        retryable: false,
        pauseMailbox: true,
      };
    }
    return {
      status: 'failed',
      error: new MusterError('PROVIDER_UNAVAILABLE', `The mail server could not be reached or ended the session before the message was sent (${err.code ?? 'no reply'}).`, { cause: err }),
      retryable: true,
      pauseMailbox: false,
    };
  }
  if (code === 530 || code === 534 || code === 535 || code === 538) {
    return {
      status: 'failed',
      error: new MusterError('PROVIDER_AUTH_FAILED', `The mail server refused the SMTP_URL credentials (${code}).`, { cause: err }),
      retryable: false,
      pauseMailbox: true,
    };
  }
  if (code < 500) {
    return {
      status: 'failed',
      error: new MusterError('PROVIDER_UNAVAILABLE', `The mail server asked to try again later (${err.response ?? code}).`, { cause: err }),
      retryable: true,
      pauseMailbox: false,
    };
  }
  return {
    status: 'failed',
    error: new MusterError('PROVIDER_REJECTED', `The mail server refused the message for good (${err.response ?? code}).`, {
      cause: err,
      details: undeliverableDetails(msg, err),
    }),
    retryable: false,
    pauseMailbox: false,
  };
}

/** A readable that records when the SMTP client first pulls from it: that only happens after the server accepted DATA. */
class WatchedMessage extends Readable {
  started = false;
  private sent = false;
  constructor(private readonly raw: Buffer) {
    super();
  }
  override _read(): void {
    this.started = true;
    if (this.sent) return;
    this.sent = true;
    this.push(this.raw);
    this.push(null);
  }
}

/** Creates the SMTP mailer. Each send opens one connection, sends once and quits; nothing is retried here. */
export function createSmtpMailer(smtpUrl: string, logger: Logger, timeouts: Partial<SmtpTimeouts> = {}): MailerPort {
  const settings = parseSmtpUrl(smtpUrl);
  const t = { ...DEFAULT_TIMEOUTS, ...timeouts };

  function transmit(msg: OutgoingMessage, raw: Buffer): Promise<SendOutcome> {
    return new Promise((resolve) => {
      const body = new WatchedMessage(raw);
      const conn = new SMTPConnection({
        host: settings.host,
        port: settings.port,
        secure: settings.secure,
        requireTLS: settings.requireTLS,
        name: 'muster.local',
        connectionTimeout: t.connectionMs,
        greetingTimeout: t.greetingMs,
        socketTimeout: t.socketMs,
        logger: false,
      });
      let settled = false;
      const finish = (outcome: SendOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const fail = (err: SmtpError): void => {
        if (settled) return;
        const outcome = toSendOutcome(msg, err, body.started);
        // Settle before closing: close() emits 'end' synchronously, which must not be read as a second failure.
        finish(outcome);
        logger.warn('mail.smtp.not_sent', { key: msg.key, outcome: outcome.status, code: err.code ?? null, responseCode: err.responseCode ?? null });
        conn.close();
      };
      conn.on('error', (err: SmtpError) => fail(err));
      conn.on('end', () => fail(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })));
      conn.connect((connectErr) => {
        if (connectErr) return fail(connectErr);
        const afterLogin = (loginErr: SmtpError | null): void => {
          if (loginErr) return fail(loginErr);
          conn.send(toEnvelope(msg), body, (sendErr, info) => {
            if (sendErr) return fail(sendErr);
            if (info.rejected.length > 0) {
              logger.warn('mail.smtp.some_recipients_refused', { key: msg.key, refused: info.rejected.length, accepted: info.accepted.length });
            }
            logger.info('mail.smtp.sent', { key: msg.key, accepted: info.accepted.length });
            finish({ status: 'sent', providerId: info.serverMessageId ?? msg.messageId });
            conn.quit();
          });
        };
        if (settings.user !== null) {
          conn.login({ user: settings.user, pass: settings.pass ?? '' }, (err) => afterLogin(err));
        } else {
          afterLogin(null);
        }
      });
    });
  }

  return {
    provider: SMTP_PROVIDER,
    canSettle: false,
    async send(msg: OutgoingMessage): Promise<SendOutcome> {
      let raw: Buffer;
      try {
        raw = await composeMessage(msg);
      } catch (err) {
        if (err instanceof MusterError) return { status: 'failed', error: err, retryable: false, pauseMailbox: false };
        throw err;
      }
      return transmit(msg, raw);
    },
    async settle(): Promise<'sent' | 'not-sent' | 'unknown'> {
      // SMTP offers no way to ask what became of a message: an unknown outcome stays unknown.
      return 'unknown';
    },
  };
}
