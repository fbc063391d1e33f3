// A whole launch with reminders, RSVPs, feeds, sign-ins and failures, with every log line kept: no token, secret, key or message body in any of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUnavailableReason } from '../support/pg.js';
import { API_CLIENT_ID, startLocalEntra, type LocalEntra } from './entra-tokens.js';
import { launchProgram, startRig, type Rig } from './service-rig.js';

const pgSkip = await pgUnavailableReason();
const TID = '44444444-4444-4444-8444-444444444444';
const CLIENT_SECRET = 'cs~ClientSecretThatMustNeverBeLogged.42';
const RSVP_SECRET = 'rsvp-signing-secret-never-logged-7f3a';
const BODY_MARKER = 'BodyMarker-only-in-message-bodies-5c2e';
const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----';

describe(`log hygiene${pgSkip ? ` (SQLite: ${pgSkip})` : ' (PostgreSQL)'}`, () => {
  let rig: Rig;
  let entra: LocalEntra;
  const secrets: Array<[string, string]> = [];

  beforeAll(async () => {
    entra = await startLocalEntra();
    rig = await startRig({
      postgres: !pgSkip,
      env: { MS_API_CLIENT_ID: API_CLIENT_ID, MS_JWKS_URL: entra.jwksUrl, MS_AUTHORITY_HOST: entra.authorityHost, MS_CLIENT_SECRET: CLIENT_SECRET, MUSTER_RSVP_SECRET: RSVP_SECRET },
    });
    await rig.runtime.store.updateTenant('default', { external_id: TID, consent_state: 'granted' });
    const bearer = await entra.token(TID);
    secrets.push(['API token', rig.runtime.apiToken], ['Entra bearer token', bearer], ['client secret', CLIENT_SECRET], ['RSVP secret', RSVP_SECRET], ['private key', PRIVATE_KEY], ['message body', BODY_MARKER]);

    const learners = Array.from({ length: 8 }, (_, i) => ({ Email: `learner${i}@example.com`, Name: `Learner ${i}`, 'Manager Email': 'boss@example.com', Session: i % 2 ? 'First' : 'Second' }));
    const p = await launchProgram(rig, 'LOGS1', learners, { agenda: `Agenda: ${BODY_MARKER}` });
    await rig.api('post', `/api/programs/${p.programId}/templates`, { kind: 'reminder', subject: 'Reminder', body: `Hello {{learnerName}}, ${BODY_MARKER}` });
    await rig.runDue();
    for (const s of p.sessions) {
      rig.clock.set(new Date(Date.parse(s.start) - 86_400_000 + 60_000));
      await rig.runDue();
      rig.clock.set(new Date(Date.parse(s.start) - 3600_000 + 60_000));
      await rig.runDue();
    }
    // RSVP links from the mail, a tampered one, the calendar feed, sign-in with Entra, bad tokens, invalid input.
    // Links expire a day after their session ends: answer them while every session still lies ahead.
    rig.clock.set(new Date(Date.parse(p.sessions[0]!.start) - 2 * 86_400_000));
    const rsvpTokens = new Set<string>();
    for (const m of rig.outbox()) for (const t of m.raw.replace(/=\r?\n/g, '').matchAll(/\/rsvp\/([A-Za-z0-9._~-]{20,})/g)) rsvpTokens.add(t[1]!);
    expect(rsvpTokens.size).toBeGreaterThan(0);
    const some = [...rsvpTokens].slice(0, 3);
    for (const t of some) {
      secrets.push(['RSVP token', t]);
      expect((await fetch(`${rig.url}/rsvp/${t}`)).status).toBe(200);
    }
    await fetch(`${rig.url}/rsvp/${some[0]!.slice(0, -4)}AAAA`);
    const feed = await rig.api('post', `/api/programs/${p.programId}/feed-token`);
    const feedUrl = String(JSON.stringify(feed.json).match(/https?:\/\/[^"]+\/feeds\/[^"]+/)?.[0] ?? '');
    expect(feedUrl).not.toBe('');
    secrets.push(['feed token', feedUrl.split('/feeds/')[1]!.replace(/\.ics$/, '')]);
    expect((await fetch(feedUrl)).status).toBe(200);
    expect((await rig.api('get', '/api/whoami', undefined, bearer)).status).toBe(200);
    expect((await rig.api('get', '/api/whoami', undefined, `${bearer.slice(0, -6)}xxxxxx`)).status).toBe(401);
    expect((await rig.api('get', '/api/programs', undefined, 'not-the-token')).status).toBe(401);
    expect((await rig.api('post', '/api/programs', { name: '' })).status).toBe(400);
    await rig.api('post', `/api/programs/${p.programId}/sync`);
  });
  afterAll(async () => {
    await rig?.close();
    await entra?.close();
  });

  it('when a launch with reminders, RSVPs, feeds and failed sign-ins has run, then no log line holds a token, a secret, a key or a message body', () => {
    // The run did produce mail with the body text and a fair number of log lines, so the check below can fail.
    expect(rig.outbox().some((m) => m.raw.includes(BODY_MARKER))).toBe(true);
    expect(rig.outbox().length).toBeGreaterThan(16);
    expect(rig.logLines.length).toBeGreaterThan(20);
    const all = rig.logLines.join('\n');
    for (const [what, value] of secrets) expect(all.includes(value), `${what} appears in the logs`).toBe(false);
    expect(all).not.toMatch(/Bearer\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}/);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    for (const line of rig.logLines) expect(() => JSON.parse(line)).not.toThrow();
  });
});
