// Tests the outbox and SMTP mailers by parsing what they produce: .eml files and messages received by a local SMTP server.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { buildSessionInvite } from '../../src/providers/local/ics.js';
import { createOutboxMailer, outboxFileName } from '../../src/providers/local/outbox-mailer.js';
import { createSmtpMailer, parseSmtpUrl, undeliverableAddresses } from '../../src/providers/local/smtp-mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { mimeTree, recordingLogger, sampleMessage, tempDir } from './helpers.js';

const invite = buildSessionInvite({
  method: 'REQUEST',
  uid: 'c0ffee@muster.local',
  sequence: 2,
  dtstamp: '2026-03-01T10:00:00Z',
  start: '2026-03-30T07:00:00Z',
  end: '2026-03-30T08:30:00Z',
  summary: 'Security 101: Cohort A, day 1',
  description: 'Bring your laptop.',
  location: 'Room 4.12',
  url: 'https://meet.example.org/s101',
  organizer: { name: 'Ina Coordinator', email: 'ina@example.org' },
  attendee: { name: 'Lea Learner', email: 'lea@example.org' },
});

describe('outbox mailer', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('outbox');
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('when an invitation is sent, then one .eml holds a multipart/alternative with a text/calendar REQUEST part that ical.js reads', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    const msg = sampleMessage({ calendar: { method: 'REQUEST', ics: invite } });
    const outcome = await mailer.send(msg);
    expect(outcome.status).toBe('sent');

    const files = await readdir(dir.path);
    expect(files).toEqual([outboxFileName(msg.tenantId, msg.key)]);
    const raw = await readFile(join(dir.path, files[0]!));

    const parsed = await simpleParser(raw);
    expect(parsed.messageId).toBe('<invite-s1-l1@muster.local>');
    expect(parsed.headers.get('x-muster-key')).toBe(msg.key);
    expect(parsed.subject).toBe(msg.subject);
    expect(parsed.text?.trim()).toBe(msg.text);
    expect(parsed.html).toContain('<b>Security 101</b>');

    const tree = mimeTree(raw.toString('latin1'));
    const alternative = [tree, ...tree.children].find((p) => p.contentType === 'multipart/alternative');
    expect(alternative).toBeDefined();
    expect(alternative!.children.map((c) => c.contentType)).toEqual(['text/plain', 'text/html', 'text/calendar']);
    const calendarPart = alternative!.children[2]!;
    expect(calendarPart.params.method).toBe('REQUEST');
    expect(calendarPart.params.charset?.toUpperCase()).toBe('UTF-8');

    const calendar = parsed.attachments.find((a) => a.contentType === 'text/calendar');
    expect(calendar).toBeDefined();
    const vcal = new ICAL.Component(ICAL.parse(calendar!.content.toString('utf8')));
    expect(vcal.getFirstPropertyValue('method')).toBe('REQUEST');
    const vevent = vcal.getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('uid')).toBe('c0ffee@muster.local');
    expect(vevent.getFirstPropertyValue('sequence')).toBe(2);
    expect(String(vevent.getFirstPropertyValue('attendee'))).toBe('mailto:lea@example.org');
  });

  it('when the same key is sent twice, then the outbox keeps one file and the first content', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    const first = await mailer.send(sampleMessage());
    const second = await mailer.send(sampleMessage({ subject: 'A different subject' }));
    expect(second).toEqual(first);
    const files = await readdir(dir.path);
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(await readFile(join(dir.path, files[0]!)));
    expect(parsed.subject).toBe('Security 101: Cohort A, day 1');
  });

  it('when many sends of one key race, then exactly one complete .eml remains and no temporary file', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => mailer.send(sampleMessage())));
    expect(outcomes.every((o) => o.status === 'sent')).toBe(true);
    const files = await readdir(dir.path);
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(await readFile(join(dir.path, files[0]!)));
    expect(parsed.messageId).toBe('<invite-s1-l1@muster.local>');
  });

  it('when two tenants use the same key, then each gets its own file', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    await mailer.send(sampleMessage({ tenantId: 'tenant-a' }));
    await mailer.send(sampleMessage({ tenantId: 'tenant-b' }));
    expect(await readdir(dir.path)).toHaveLength(2);
  });

  it('when a key holds path characters, then the file still lands inside the outbox with a safe name', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    const outcome = await mailer.send(sampleMessage({ key: '../../etc/passwd' }));
    expect(outcome.status).toBe('sent');
    const files = await readdir(dir.path);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[A-Za-z0-9._-]+\.eml$/);
    expect(files[0]).not.toContain('..');
  });

  it('when settling, then a written key is sent and an unwritten key is not-sent', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    expect(mailer.canSettle).toBe(true);
    await mailer.send(sampleMessage());
    expect(await mailer.settle(sampleMessage(), null)).toBe('sent');
    expect(await mailer.settle(sampleMessage({ key: 'another' }), null)).toBe('not-sent');
  });

  it('when the Message-ID is malformed, then the send fails as not retryable and nothing is written', async () => {
    const mailer = createOutboxMailer(dir.path, recordingLogger());
    const outcome = await mailer.send(sampleMessage({ messageId: 'no-brackets@muster.local' }));
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(false);
      expect(outcome.error.code).toBe('VALIDATION_FAILED');
    }
    expect(await readdir(dir.path)).toHaveLength(0);
  });

  it('when the outbox path is a file, then the send fails retryable and says the folder could not be written', async () => {
    const blocker = join(dir.path, 'blocker');
    await writeFile(blocker, 'not a folder');
    const logger = recordingLogger();
    const outcome = await createOutboxMailer(blocker, logger).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(true);
      expect(outcome.error.code).toBe('PROVIDER_UNAVAILABLE');
    }
    expect(JSON.stringify(logger.lines)).not.toContain('You are invited');
  });
});

describe('smtp mailer', () => {
  let server: TestSmtpServer;
  beforeEach(async () => {
    server = await startSmtpServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('when the server accepts, then it receives one MIME message with the Message-ID, the key header and the calendar part', async () => {
    const logger = recordingLogger();
    const mailer = createSmtpMailer(server.url, logger);
    const msg = sampleMessage({ cc: [{ name: 'Max Manager', email: 'max@example.org' }], calendar: { method: 'REQUEST', ics: invite } });
    const outcome = await mailer.send(msg);
    expect(outcome).toEqual({ status: 'sent', providerId: '<invite-s1-l1@muster.local>' });
    expect(server.messages).toHaveLength(1);
    const received = server.messages[0]!;
    expect(received.from).toBe('ina@example.org');
    expect(received.to).toEqual(['lea@example.org', 'max@example.org']);
    const parsed = await simpleParser(received.raw);
    expect(parsed.messageId).toBe(msg.messageId);
    expect(parsed.headers.get('x-muster-key')).toBe(msg.key);
    const calendar = parsed.attachments.find((a) => a.contentType === 'text/calendar');
    const vcal = new ICAL.Component(ICAL.parse(calendar!.content.toString('utf8')));
    expect(vcal.getFirstPropertyValue('method')).toBe('REQUEST');
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain('You are invited');
    expect(logged).not.toContain('BEGIN:VCALENDAR');
  });

  it('when the server requires credentials from SMTP_URL, then the mailer logs in and sends', async () => {
    await server.close();
    server = await startSmtpServer({ auth: { user: 'muster@example.org', pass: 's3cret:with/odd@chars' } });
    const logger = recordingLogger();
    const outcome = await createSmtpMailer(server.url, logger).send(sampleMessage());
    expect(outcome.status).toBe('sent');
    expect(server.messages).toHaveLength(1);
    expect(JSON.stringify(logger.lines)).not.toContain('s3cret');
  });

  it('when the credentials are wrong, then the send fails as an auth failure that pauses the mailbox', async () => {
    await server.close();
    server = await startSmtpServer({ auth: { user: 'muster', pass: 'right' } });
    const url = server.url.replace(':right@', ':wrong@');
    const outcome = await createSmtpMailer(url, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.error.code).toBe('PROVIDER_AUTH_FAILED');
      expect(outcome.retryable).toBe(false);
      expect(outcome.pauseMailbox).toBe(true);
    }
    expect(server.messages).toHaveLength(0);
  });

  it('when the connection drops after the data was accepted, then the outcome is unknown, nothing is resent, and settle says unknown', async () => {
    server.behave({ dropAfterData: true });
    const mailer = createSmtpMailer(server.url, recordingLogger());
    const outcome = await mailer.send(sampleMessage());
    expect(outcome.status).toBe('unknown');
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]!.outcome).toBe('dropped');
    expect(server.connections()).toBe(1);
    expect(mailer.canSettle).toBe(false);
    expect(await mailer.settle(sampleMessage(), null)).toBe('unknown');
  });

  it('when the connection drops before the data was sent, then the send failed and may be retried', async () => {
    server.behave({ dropOnCommand: 'RCPT' });
    const outcome = await createSmtpMailer(server.url, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(true);
      expect(outcome.error.code).toBe('PROVIDER_UNAVAILABLE');
    }
    expect(server.messages).toHaveLength(0);
  });

  it('when the server answers 451 to the data, then the send failed and may be retried', async () => {
    server.behave({ dataReply: '451 4.3.0 Temporary local problem, try later' });
    const outcome = await createSmtpMailer(server.url, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(true);
      expect(outcome.error.code).toBe('PROVIDER_UNAVAILABLE');
      expect(outcome.error.message).toContain('451');
    }
    expect(server.connections()).toBe(1);
  });

  it('when the server refuses the data with 554, then the send failed for good', async () => {
    server.behave({ dataReply: '554 5.6.0 Message content rejected' });
    const outcome = await createSmtpMailer(server.url, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(false);
      expect(outcome.error.code).toBe('PROVIDER_REJECTED');
      expect(undeliverableAddresses(outcome.error)).toEqual([]);
    }
  });

  it('when the server refuses the learner with 550 5.1.1, then the send failed for good and names the learner undeliverable', async () => {
    server.behave({ rcptReply: (a) => (a === 'lea@example.org' ? '550 5.1.1 No such user' : null) });
    const outcome = await createSmtpMailer(server.url, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(false);
      expect(isMusterError(outcome.error, 'PROVIDER_REJECTED')).toBe(true);
      expect(outcome.error.details[0]?.field).toBe('to.0.email');
      expect(undeliverableAddresses(outcome.error)).toEqual(['lea@example.org']);
    }
    expect(server.messages).toHaveLength(0);
  });

  it('when the server defers the learner with 450, then the send failed, retryable, and nobody is marked undeliverable', async () => {
    server.behave({ rcptReply: () => '450 4.2.1 Mailbox busy' });
    const outcome = await createSmtpMailer(server.url, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(true);
      expect(undeliverableAddresses(outcome.error)).toEqual([]);
    }
  });

  it('when nothing listens on the port, then the send failed before any data and may be retried', async () => {
    const { port } = server;
    await server.close();
    const outcome = await createSmtpMailer(`smtp://127.0.0.1:${port}`, recordingLogger()).send(sampleMessage());
    expect(outcome.status).toBe('failed');
    if (outcome.status === 'failed') {
      expect(outcome.retryable).toBe(true);
      expect(outcome.error.code).toBe('PROVIDER_UNAVAILABLE');
    }
    server = await startSmtpServer();
  });

  it('when SMTP_URL is malformed, then parsing fails with CONFIG_INVALID and never echoes the password', () => {
    expect(() => parseSmtpUrl('http://user:hunter2@mail.example.org')).toThrow(/smtp:\/\//);
    try {
      parseSmtpUrl('ftp://user:hunter2@mail.example.org');
    } catch (err) {
      expect(isMusterError(err, 'CONFIG_INVALID')).toBe(true);
      expect(JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details })).not.toContain('hunter2');
    }
    expect(parseSmtpUrl('smtps://a%40b.org:p%3Aw@mail.example.org')).toEqual({
      host: 'mail.example.org',
      port: 465,
      secure: true,
      requireTLS: false,
      user: 'a@b.org',
      pass: 'p:w',
    });
  });
});
