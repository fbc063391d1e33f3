// Gmail mailer against the emulator: a real MIME message with Muster's Message-ID, sent once even when the connection drops, bounces read back, sending limits pause the mailbox.
import { describe, expect, test } from 'vitest';
import { simpleParser } from 'mailparser';
import type { OutgoingMessage } from '../../src/ports/index.js';
import { COORDINATOR, callsOf, expectNoViolations, googleWorld } from './helpers.js';

function message(n = 1): OutgoingMessage {
  return {
    tenantId: 't1',
    key: `t1:reminder:lea:s1:${n}`,
    messageId: `<reminder-${n}.s1.t1@muster.acme.example>`,
    from: { email: COORDINATOR, name: 'Casey Coordinator' },
    to: [{ email: 'lea@acme.example', name: 'Lea Lernt' }],
    subject: 'SEC101: tomorrow at 10:00',
    text: 'See you tomorrow.',
    html: '<p>See you <b>tomorrow</b>.</p>',
  };
}

describe('Gmail mailer', () => {
  test('when a reminder is sent, then Gmail holds one multipart/alternative message with Muster’s Message-ID', async () => {
    const { emulator, providers } = await googleWorld();
    const outcome = await providers.mailer.send(message());
    expect(outcome.status).toBe('sent');
    const sent = emulator.state.sentMessages(COORDINATOR);
    expect(sent).toHaveLength(1);
    const parsed = await simpleParser(Buffer.from(sent[0]!.raw, 'base64url'));
    expect(parsed.messageId).toBe('<reminder-1.s1.t1@muster.acme.example>');
    expect(parsed.text?.trim()).toBe('See you tomorrow.');
    expect(parsed.html).toContain('<b>tomorrow</b>');
    expect(String(parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value: string }).value)).toBe('multipart/alternative');
    expectNoViolations(emulator);
  });

  test('when the connection drops after Gmail accepted the send, then the outcome is unknown, settles as sent, and no second mail goes out', async () => {
    const { emulator, providers } = await googleWorld();
    emulator.faults.inject({ method: 'gmail.users.messages.send', kind: 'drop-after-work' });
    const first = await providers.mailer.send(message());
    expect(first.status).toBe('unknown');
    expect(await providers.mailer.settle(message(), null)).toBe('sent');
    const again = await providers.mailer.send(message(), { providerId: null });
    expect(again.status).toBe('sent');
    expect(emulator.state.sentMessages(COORDINATOR)).toHaveLength(1);
    expect(callsOf(emulator, 'gmail.users.messages.send')).toBe(1);
    expectNoViolations(emulator);
  });

  test('when the connection drops before Gmail got the message, then settle says not-sent and the resend delivers exactly one', async () => {
    const { emulator, providers } = await googleWorld();
    emulator.faults.inject({ method: 'gmail.users.messages.send', kind: 'drop' });
    expect((await providers.mailer.send(message())).status).toBe('unknown');
    expect(await providers.mailer.settle(message(), null)).toBe('not-sent');
    expect((await providers.mailer.send(message(), { providerId: null })).status).toBe('sent');
    expect(emulator.state.sentMessages(COORDINATOR)).toHaveLength(1);
    expectNoViolations(emulator);
  });

  test('when Gmail throttles a send, then it fails retryable and nothing was sent', async () => {
    const { emulator, providers } = await googleWorld();
    emulator.faults.inject({ method: 'gmail.users.messages.send', kind: '403-user-rate' });
    const outcome = await providers.mailer.send(message());
    expect(outcome).toMatchObject({ status: 'failed', retryable: true, pauseMailbox: false });
    expect(emulator.state.sentMessages(COORDINATOR)).toHaveLength(0);
    expectNoViolations(emulator);
  });

  test('when the daily sending limit is reached, then the send fails with the mailbox paused and not retryable', async () => {
    const { emulator, providers } = await googleWorld({ quotas: { gmailMessagesPerDay: 2 } });
    expect((await providers.mailer.send(message(1))).status).toBe('sent');
    expect((await providers.mailer.send(message(2))).status).toBe('sent');
    const third = await providers.mailer.send(message(3));
    expect(third).toMatchObject({ status: 'failed', retryable: false, pauseMailbox: true });
    if (third.status === 'failed') expect(third.error.code).toBe('PROVIDER_THROTTLED');
    expect(emulator.state.sentMessages(COORDINATOR)).toHaveLength(2);
    expectNoViolations(emulator);
  });

  test('when bounces arrive, then the bounce reader returns the undeliverable addresses', async () => {
    const { emulator, providers } = await googleWorld();
    emulator.state.addBounce(COORDINATOR, { recipient: 'Gone@acme.example', originalMessageId: '<reminder-1.s1.t1@muster.acme.example>' });
    emulator.state.addBounce(COORDINATOR, { recipient: 'typo@acme.exmaple' });
    const bounced = await providers.mailer.readBounces();
    expect(bounced.sort()).toEqual(['gone@acme.example', 'typo@acme.exmaple']);
    expectNoViolations(emulator);
  });

  test('when a message body is sent, then the log carries neither its body nor a token', async () => {
    const { emulator, providers, logger } = await googleWorld();
    emulator.faults.inject({ method: 'gmail.users.messages.send', kind: 'drop-after-work' });
    await providers.mailer.send(message());
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain('See you');
    expect(text).not.toMatch(/ya29\.|private_key|BEGIN PRIVATE/);
    expectNoViolations(emulator);
  });
});
