// GraphMailer against the Graph emulator: one sendMail per message (alone or 20 to a $batch) carrying Muster's key, never retried; unknown outcomes settled by finding the key, with a grace for a late Sent Items copy.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMicrosoftProviders } from '../../src/providers/microsoft/index.js';
import { SENT_COPY_FINDABLE_AFTER_MS } from '../../src/providers/microsoft/constants.js';
import type { OutgoingMessage } from '../../src/ports/index.js';
import { ORGANIZER, type Rig, assertNoSecretsLogged, captureLogger, sampleMessage, startRig } from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ simulatedClock: true, sendsPerMinute: 10_000 });
});

afterEach(() => {
  rig.em.faults.clear();
  rig.em.settings.sentCopyDelayMs = 0;
  rig.em.settings.sendsPerMinute = 10_000;
  rig.em.clock.advance(61_000);
});

afterAll(async () => {
  try {
    expect(rig.em.counters().named['requestBodiesValidated']).toBeGreaterThan(0);
    expect(rig.em.violations()).toEqual([]);
    assertNoSecretsLogged(rig.logger, [rig.config.clientSecret ?? '']);
  } finally {
    await rig.em.close();
  }
});

const sentWith = (subject: string) => rig.em.state.messagesSent(ORGANIZER).filter((m) => m.subject === subject);
const endpoint = (name: string) => rig.em.counters().perEndpoint[name] ?? 0;
const SEND_MAIL = 'POST /users/{id}/sendMail';
const GRACE = SENT_COPY_FINDABLE_AFTER_MS;

function messages(n: number, subject: string): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => sampleMessage({ subject: `${subject} ${i}`, to: [{ email: `learner${i}@contoso.com`, name: `Learner ${i}` }] }));
}

describe('send', () => {
  it('when a message is sent, then it is one sendMail request, lands once in Sent Items with its key, and no draft is left', async () => {
    const msg = sampleMessage({ subject: 'plain send' });
    const before = { sendMail: endpoint(SEND_MAIL), mailbox: rig.em.counters().perMailbox[ORGANIZER] ?? 0, requests: rig.em.counters().requests };
    const outcome = await rig.providers.mailer.send(msg);
    expect(outcome).toEqual({ status: 'sent', providerId: null });
    const [sent, ...more] = sentWith('plain send');
    expect(more).toHaveLength(0);
    expect(sent?.to).toEqual(['lena.learner@contoso.com']);
    expect(endpoint(SEND_MAIL) - before.sendMail).toBe(1);
    expect((rig.em.counters().perMailbox[ORGANIZER] ?? 0) - before.mailbox).toBe(1);
    expect(rig.em.state.drafts(ORGANIZER)).toHaveLength(0);
    // The key travels on the message: the Sent Items copy is found by it.
    expect(await rig.providers.mailer.findByKey(msg)).toMatchObject({ isDraft: false });
  });

  it('when the connection drops after Graph sent the mail, then the outcome is unknown and settle finds it by key: sent, one mail', async () => {
    const msg = sampleMessage({ subject: 'dropped after send' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/sendMail$/ }, fault: { kind: 'drop', afterEffect: true } });
    const first = await rig.providers.mailer.send(msg);
    expect(first).toMatchObject({ status: 'unknown', providerId: null });
    expect(await rig.providers.mailer.settle(msg, null, 0)).toBe('sent');
    expect(await rig.providers.mailer.send(msg, { providerId: null })).toMatchObject({ status: 'sent' });
    expect(sentWith('dropped after send')).toHaveLength(1);
  });

  it('when the connection drops before Graph sent it, then settle says unknown within the grace and not-sent after it, and the retry sends once', async () => {
    const msg = sampleMessage({ subject: 'dropped before send' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/sendMail$/ }, fault: { kind: 'drop', afterEffect: false } });
    expect((await rig.providers.mailer.send(msg)).status).toBe('unknown');
    expect(await rig.providers.mailer.settle(msg, null, 0)).toBe('unknown');
    expect(await rig.providers.mailer.settle(msg, null, GRACE - 1)).toBe('unknown');
    expect(await rig.providers.mailer.settle(msg, null, GRACE)).toBe('not-sent');
    // An attempt of unknown age counts as old.
    expect(await rig.providers.mailer.settle(msg, null, null)).toBe('not-sent');
    expect(await rig.providers.mailer.send(msg)).toMatchObject({ status: 'sent' });
    expect(sentWith('dropped before send')).toHaveLength(1);
  });

  it('when Exchange files the Sent Items copy late, then a settle inside the grace says unknown (never not-sent) and a later one says sent', async () => {
    const msg = sampleMessage({ subject: 'filed late' });
    rig.em.settings.sentCopyDelayMs = 2 * 60_000;
    rig.em.faults.inject({ match: { method: 'POST', path: /\/sendMail$/ }, fault: { kind: 'drop', afterEffect: true } });
    expect((await rig.providers.mailer.send(msg)).status).toBe('unknown');
    expect(await rig.providers.mailer.settle(msg, null, 0)).toBe('unknown');
    rig.em.clock.advance(2 * 60_000);
    expect(await rig.providers.mailer.settle(msg, null, 2 * 60_000)).toBe('sent');
    expect(sentWith('filed late')).toHaveLength(1);
  });

  it('when Graph answers sendMail with 504 or 503, then the client does not retry and the outcome is unknown', async () => {
    for (const status of [504, 503] as const) {
      const msg = sampleMessage({ subject: `answered ${status}` });
      const before = endpoint(SEND_MAIL);
      rig.em.faults.inject({ match: { method: 'POST', path: /\/sendMail$/ }, fault: { kind: 'status', status, afterEffect: true, retryAfter: 0 } });
      expect((await rig.providers.mailer.send(msg)).status).toBe('unknown');
      expect(endpoint(SEND_MAIL) - before).toBe(1);
      expect(sentWith(`answered ${status}`)).toHaveLength(1);
      expect(await rig.providers.mailer.settle(msg, null, 0)).toBe('sent');
    }
  });

  it('when the send is throttled, then it fails retryable with the wait, and nothing was sent or retried', async () => {
    const msg = sampleMessage({ subject: 'throttled send' });
    const before = endpoint(SEND_MAIL);
    rig.em.faults.inject({ match: { method: 'POST', path: /\/sendMail$/ }, fault: { kind: 'status', status: 429, retryAfter: 30 } });
    const outcome = await rig.providers.mailer.send(msg);
    expect(outcome).toMatchObject({ status: 'failed', retryable: true, pauseMailbox: false });
    expect(outcome.status === 'failed' && outcome.error.retryAfterSeconds).toBe(30);
    expect(endpoint(SEND_MAIL) - before).toBe(1);
    expect(sentWith('throttled send')).toHaveLength(0);
  });

  it('when the tenant credentials are refused, then the send fails (not unknown) and pauses the mailbox', async () => {
    const broken = createMicrosoftProviders({ ...rig.config, clientSecret: 'wrong-secret' }, { logger: captureLogger() });
    const outcome = await broken.mailer.send(sampleMessage({ subject: 'bad credentials' }));
    expect(outcome).toMatchObject({ status: 'failed', retryable: false, pauseMailbox: true });
    expect(outcome.status === 'failed' && outcome.error.code).toBe('PROVIDER_AUTH_FAILED');
    expect(sentWith('bad credentials')).toHaveLength(0);
  });

  it('when a message has no recipients, then it fails without a request', async () => {
    const before = rig.em.counters().requests;
    const outcome = await rig.providers.mailer.send(sampleMessage({ to: [] }));
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    expect(rig.em.counters().requests).toBe(before);
  });
});

describe('sendBatch', () => {
  it('when 20 messages go together, then one $batch HTTP request of 20 sendMail items: each sent once, 20 mailbox requests', async () => {
    const msgs = messages(20, 'batched');
    const before = { requests: rig.em.counters().requests, batches: rig.em.counters().batches[SEND_MAIL] ?? 0, mailbox: rig.em.counters().perMailbox[ORGANIZER] ?? 0 };
    const outcomes = await rig.providers.mailer.sendBatch(msgs);
    expect(outcomes).toEqual(Array(20).fill({ status: 'sent', providerId: null }));
    for (let i = 0; i < 20; i++) expect(sentWith(`batched ${i}`), `batched ${i}`).toHaveLength(1);
    const c = rig.em.counters();
    expect(c.requests - before.requests).toBe(1);
    expect((c.batches[SEND_MAIL] ?? 0) - before.batches).toBe(1);
    expect((c.perMailbox[ORGANIZER] ?? 0) - before.mailbox).toBe(20);
    expect(rig.providers.mailer.batchSize).toBe(20);
    await expect(rig.providers.mailer.sendBatch(messages(21, 'too many'))).rejects.toThrow(/at most 20/);
  });

  it('when items fail one by one, then 429 is a retryable failure, 503 and 504 are unknown, the rest are sent, and nothing is retried', async () => {
    const msgs = messages(6, 'per item');
    const at = (skip: number, fault: Parameters<typeof rig.em.faults.inject>[0]['fault']) => rig.em.faults.inject({ match: { path: /\/sendMail$/ }, skip, fault });
    // Each rule counts only the items it saw: item 2 (429), item 4 (503, before the work), item 6 (504, after the work).
    at(1, { kind: 'status', status: 429, retryAfter: 20 });
    at(2, { kind: 'status', status: 503, retryAfter: 0 });
    at(3, { kind: 'status', status: 504, afterEffect: true, retryAfter: 0 });
    const before = rig.em.counters().batchItems[SEND_MAIL] ?? 0;
    const outcomes = await rig.providers.mailer.sendBatch(msgs);
    expect(outcomes.map((o) => o.status)).toEqual(['sent', 'failed', 'sent', 'unknown', 'sent', 'unknown']);
    expect(outcomes[1]).toMatchObject({ status: 'failed', retryable: true, pauseMailbox: false });
    expect((rig.em.counters().batchItems[SEND_MAIL] ?? 0) - before).toBe(6);
    expect(sentWith('per item 1')).toHaveLength(0);
    expect(sentWith('per item 3')).toHaveLength(0);
    expect(sentWith('per item 5')).toHaveLength(1);
    // The 503 item never reached Exchange: unknown within the grace, not sent after it; the 504 one is found.
    expect(await rig.providers.mailer.settle(msgs[3]!, null, 0)).toBe('unknown');
    expect(await rig.providers.mailer.settle(msgs[3]!, null, GRACE)).toBe('not-sent');
    expect(await rig.providers.mailer.settle(msgs[5]!, null, 0)).toBe('sent');
  });

  it('when the mailbox is past 30 messages a minute, then the items over it fail retryable (throttled) and are not sent', async () => {
    rig.em.settings.sendsPerMinute = 30;
    const outcomes = [...(await rig.providers.mailer.sendBatch(messages(20, 'rate a'))), ...(await rig.providers.mailer.sendBatch(messages(20, 'rate b')))];
    expect(outcomes.filter((o) => o.status === 'sent')).toHaveLength(30);
    const refused = outcomes.filter((o) => o.status === 'failed');
    expect(refused).toHaveLength(10);
    expect(refused.every((o) => o.status === 'failed' && o.retryable && o.error.code === 'PROVIDER_THROTTLED')).toBe(true);
  });

  it('when a $batch of 20 drops after Graph sent them, then 20 unknowns, all settled by lookup as sent, none sent twice', async () => {
    const msgs = messages(20, 'dropped batch');
    rig.em.faults.inject({ match: { path: '/$batch' }, fault: { kind: 'drop', afterEffect: true } });
    const outcomes = await rig.providers.mailer.sendBatch(msgs);
    expect(outcomes.map((o) => o.status)).toEqual(Array(20).fill('unknown'));
    for (const m of msgs) expect(await rig.providers.mailer.settle(m, null, 0)).toBe('sent');
    for (let i = 0; i < 20; i++) expect(sentWith(`dropped batch ${i}`)).toHaveLength(1);
  });

  it('when a $batch of 20 drops before Graph ran it, then 20 unknowns that stay unknown within the grace, then not-sent, and one resend each', async () => {
    const msgs = messages(20, 'lost batch');
    rig.em.faults.inject({ match: { path: '/$batch' }, fault: { kind: 'drop', afterEffect: false } });
    expect((await rig.providers.mailer.sendBatch(msgs)).map((o) => o.status)).toEqual(Array(20).fill('unknown'));
    for (const m of msgs) expect(await rig.providers.mailer.settle(m, null, 1_000)).toBe('unknown');
    for (const m of msgs) expect(await rig.providers.mailer.settle(m, null, GRACE)).toBe('not-sent');
    expect((await rig.providers.mailer.sendBatch(msgs)).map((o) => o.status)).toEqual(Array(20).fill('sent'));
    for (let i = 0; i < 20; i++) expect(sentWith(`lost batch ${i}`)).toHaveLength(1);
  });

  it('when the whole $batch is throttled, then every item fails retryable and nothing was sent', async () => {
    const msgs = messages(3, 'throttled batch');
    rig.em.faults.inject({ match: { path: '/$batch' }, fault: { kind: 'status', status: 429, retryAfter: 5 } });
    const outcomes = await rig.providers.mailer.sendBatch(msgs);
    expect(outcomes.every((o) => o.status === 'failed' && o.retryable)).toBe(true);
    expect(sentWith('throttled batch 0')).toHaveLength(0);
  });
});
