// Turns an OutgoingMessage into one RFC 5322 MIME message with nodemailer's MailComposer; it delivers nothing and reads no files or URLs.
import MailComposer from 'nodemailer/lib/mail-composer';
import { MusterError } from '../../domain/errors.js';
import type { OutgoingMessage, Person } from '../../ports/index.js';

/** Header that carries the message's idempotency key, so a copy in any mailbox or outbox can be traced to its send. */
export const KEY_HEADER = 'X-Muster-Key';

const MESSAGE_ID = /^<[^<>\s@]+@[^<>\s@]+>$/;

function toAddress(p: Person): { name: string; address: string } {
  return { name: p.name, address: p.email };
}

function assertMessage(msg: OutgoingMessage): void {
  if (!MESSAGE_ID.test(msg.messageId)) {
    throw new MusterError('VALIDATION_FAILED', 'A message needs a Message-ID of the form <local@domain>.', {
      details: [{ field: 'messageId', message: 'Use the form <local@domain>, with the angle brackets.' }],
    });
  }
  if (!msg.key) {
    throw new MusterError('VALIDATION_FAILED', 'A message needs an idempotency key.', { details: [{ field: 'key', message: 'The key is empty.' }] });
  }
  if (msg.to.length === 0) {
    throw new MusterError('VALIDATION_FAILED', 'A message needs at least one recipient.', { details: [{ field: 'to', message: 'No recipient.' }] });
  }
}

/** The SMTP envelope: the sender and every To and Cc address. */
export function toEnvelope(msg: OutgoingMessage): { from: string; to: string[] } {
  return { from: msg.from.email, to: [...msg.to, ...(msg.cc ?? [])].map((p) => p.email) };
}

/** Builds the MIME message: multipart/alternative text + html, plus a text/calendar alternative (and .ics attachment) when msg.calendar is set. */
export async function composeMessage(msg: OutgoingMessage, date: Date = new Date()): Promise<Buffer> {
  assertMessage(msg);
  const headers: Record<string, string> = { ...(msg.headers ?? {}) };
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === KEY_HEADER.toLowerCase()) delete headers[name];
  }
  headers[KEY_HEADER] = msg.key;
  const composer = new MailComposer({
    from: toAddress(msg.from),
    to: msg.to.map(toAddress),
    cc: msg.cc && msg.cc.length > 0 ? msg.cc.map(toAddress) : undefined,
    subject: msg.subject,
    messageId: msg.messageId,
    date,
    text: msg.text,
    html: msg.html,
    icalEvent: msg.calendar
      ? { method: msg.calendar.method, content: msg.calendar.ics, filename: msg.calendar.method === 'CANCEL' ? 'cancel.ics' : 'invite.ics' }
      : undefined,
    headers,
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'win',
  });
  return composer.compile().build();
}
