// GraphMailer against the Graph emulator: draft with an immutable id, send once, settle unknown outcomes by reading the draft, never resend blindly.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMicrosoftProviders } from '../../src/providers/microsoft/index.js';
import { ORGANIZER, type Rig, assertNoSecretsLogged, captureLogger, sampleMessage, startRig } from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ simulatedClock: true });
});

afterEach(() => {
  rig.em.faults.clear();
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

describe('send', () => {
  it('when a message is sent, then it lands once in Sent Items and the outcome carries its immutable id', async () => {
    const msg = sampleMessage({ subject: 'plain send' });
    const outcome = await rig.providers.mailer.send(msg);
    expect(outcome).toMatchObject({ status: 'sent' });
    const [sent, ...more] = sentWith('plain send');
    expect(more).toHaveLength(0);
    expect(outcome.status === 'sent' && outcome.providerId).toBe(sent?.immutableId);
    expect(sent?.to).toEqual(['lena.learner@contoso.com']);
  });

  it('when the connection drops after Graph sent the mail, then the outcome is unknown, settle says sent, and a second send reuses it: one mail', async () => {
    const msg = sampleMessage({ subject: 'dropped after send' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/send$/ }, fault: { kind: 'drop', afterEffect: true } });
    const first = await rig.providers.mailer.send(msg);
    expect(first.status).toBe('unknown');
    const providerId = first.status === 'unknown' ? first.providerId : null;
    expect(await rig.providers.mailer.settle(msg, providerId)).toBe('sent');
    const again = await rig.providers.mailer.send(msg, { providerId });
    expect(again).toMatchObject({ status: 'sent', providerId });
    expect(sentWith('dropped after send')).toHaveLength(1);
  });

  it('when the connection drops before Graph sent it, then settle says not-sent and the retry sends the same draft once', async () => {
    const msg = sampleMessage({ subject: 'dropped before send' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/send$/ }, fault: { kind: 'drop', afterEffect: false } });
    const first = await rig.providers.mailer.send(msg);
    expect(first.status).toBe('unknown');
    const providerId = first.status === 'unknown' ? first.providerId : null;
    expect(await rig.providers.mailer.settle(msg, providerId)).toBe('not-sent');
    expect(await rig.providers.mailer.send(msg, { providerId })).toMatchObject({ status: 'sent', providerId });
    expect(sentWith('dropped before send')).toHaveLength(1);
    expect(rig.em.state.drafts(ORGANIZER).filter((d) => d.subject === 'dropped before send')).toHaveLength(0);
  });

  it('when Graph answers the send with 504 after sending, then the client does not retry and the outcome is unknown', async () => {
    const msg = sampleMessage({ subject: 'gateway timeout' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/send$/ }, fault: { kind: 'status', status: 504, afterEffect: true } });
    const outcome = await rig.providers.mailer.send(msg);
    expect(outcome.status).toBe('unknown');
    expect(sentWith('gateway timeout')).toHaveLength(1);
    expect(rig.em.counters().perEndpoint['POST /users/{id}/messages/{id}/send']).toBeGreaterThanOrEqual(1);
  });

  it('when the process crashed before the draft id was stored, then a send with an empty previous id finds the draft by key and sends it once', async () => {
    const msg = sampleMessage({ subject: 'crash before store' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/messages$/ }, fault: { kind: 'drop', afterEffect: true } });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/send$/ }, fault: { kind: 'drop', afterEffect: false } });
    const first = await rig.providers.mailer.send(msg);
    expect(first.status).toBe('unknown');
    expect(rig.em.state.drafts(ORGANIZER).filter((d) => d.subject === 'crash before store')).toHaveLength(1);
    expect(await rig.providers.mailer.settle(msg, null)).toBe('not-sent');
    expect(await rig.providers.mailer.send(msg, { providerId: null })).toMatchObject({ status: 'sent' });
    expect(sentWith('crash before store')).toHaveLength(1);
    expect(rig.em.state.drafts(ORGANIZER).filter((d) => d.subject === 'crash before store')).toHaveLength(0);
  });

  it('when the send is throttled, then it fails retryable with the wait, and nothing was sent or retried', async () => {
    const msg = sampleMessage({ subject: 'throttled send' });
    rig.em.faults.inject({ match: { method: 'POST', path: /\/send$/ }, fault: { kind: 'status', status: 429, retryAfter: 30 } });
    const outcome = await rig.providers.mailer.send(msg);
    expect(outcome).toMatchObject({ status: 'failed', retryable: true, pauseMailbox: false });
    expect(outcome.status === 'failed' && outcome.error.retryAfterSeconds).toBe(30);
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
    const outcome = await rig.providers.mailer.send(sampleMessage({ to: [] }));
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
  });
});
