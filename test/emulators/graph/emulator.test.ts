// The Graph emulator's own behaviour: strictness against the CSDL, documented limits, dedupe window, formula evaluation and injected faults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addinPropertyId, type GraphEmulator, startGraphEmulator } from './index.js';
import { appToken, rawGraph } from './raw-client.js';

let em: GraphEmulator;
let graph: ReturnType<typeof rawGraph>;
const ORG = 'organizer@contoso.com';

const event = (extra: Record<string, unknown> = {}) => ({
  subject: 'Safety 101',
  start: { dateTime: '2030-03-04T09:00:00', timeZone: 'Europe/Berlin' },
  end: { dateTime: '2030-03-04T10:00:00', timeZone: 'Europe/Berlin' },
  attendees: [{ type: 'required', emailAddress: { address: 'ann@contoso.com', name: 'Ann' } }],
  ...extra,
});

beforeAll(async () => {
  em = await startGraphEmulator({ simulatedClock: true, transactionIdWindowMs: 60_000 });
  em.state.addUser({ mail: ORG });
  em.state.addUser({ mail: 'noteams@contoso.com', allowedOnlineMeetingProviders: [] });
  graph = rawGraph(em, await appToken(em));
});

afterAll(async () => {
  await em.close();
});

describe('strictness', () => {
  it('when an event body has a property the CSDL does not define, then 400 with a Graph error body and a recorded violation', async () => {
    const before = em.violations().length;
    const res = await graph('POST', `/users/${ORG}/events`, event({ title: 'not a Graph field' }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('RequestBodyRead');
    expect(res.body.error.message).toContain("'title'");
    expect(em.violations().length).toBe(before + 1);
    expect(em.state.events(ORG)).toHaveLength(0);
  });

  it('when a nested type or an enum value is wrong, then 400', async () => {
    const wrongType = await graph('POST', `/users/${ORG}/events`, event({ isOnlineMeeting: 'yes' }));
    expect(wrongType.status).toBe(400);
    const wrongEnum = await graph('POST', `/users/${ORG}/events`, event({ onlineMeetingProvider: 'zoom' }));
    expect(wrongEnum.status).toBe(400);
    const wrongNested = await graph('POST', `/users/${ORG}/events`, event({ attendees: [{ type: 'required', emailAddress: { address: 'a@b.c', display: 'A' } }] }));
    expect(wrongNested.status).toBe(400);
    expect(wrongNested.body.error.message).toContain('display');
  });

  it('when a valid event is created, then its response validates too and nothing new is recorded', async () => {
    const before = em.violations().length;
    const res = await graph('POST', `/users/${ORG}/events`, event());
    expect(res.status).toBe(201);
    expect(res.body.start).toEqual({ dateTime: '2030-03-04T08:00:00.0000000', timeZone: 'UTC' });
    expect(res.body.attendees[0].status.response).toBe('none');
    expect(em.violations().length).toBe(before);
  });
});

describe('limits', () => {
  it('when a $batch holds 21 requests, then 400; with 20, then 200 with per-item statuses', async () => {
    const item = (i: number) => ({ id: String(i), method: 'GET', url: `/users/${ORG}` });
    const tooMany = await graph('POST', '/$batch', { requests: Array.from({ length: 21 }, (_, i) => item(i)) });
    expect(tooMany.status).toBe(400);
    const ok = await graph('POST', '/$batch', { requests: [...Array.from({ length: 19 }, (_, i) => item(i)), { id: 'bad', method: 'GET', url: '/users/nobody@contoso.com' }] });
    expect(ok.status).toBe(200);
    expect(ok.body.responses).toHaveLength(20);
    expect(ok.body.responses.find((r: { id: string }) => r.id === 'bad').status).toBe(404);
  });

  it('when a $batch item depends on one that failed, then it answers 424 and is not run', async () => {
    const res = await graph('POST', '/$batch', {
      requests: [
        { id: 'a', method: 'GET', url: '/users/nobody@contoso.com' },
        { id: 'b', method: 'POST', url: `/users/${ORG}/events`, headers: { 'Content-Type': 'application/json' }, body: event({ subject: 'never created' }), dependsOn: ['a'] },
      ],
    });
    expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual([404, 424]);
    expect(em.state.events(ORG).filter((e) => e.subject === 'never created')).toHaveLength(0);
  });

  it('when an event has 501 attendees, then 400', async () => {
    const attendees = Array.from({ length: 501 }, (_, i) => ({ type: 'required', emailAddress: { address: `l${i}@contoso.com` } }));
    const res = await graph('POST', `/users/${ORG}/events`, event({ attendees }));
    expect(res.status).toBe(400);
  });

  it('when more than 4 requests for one mailbox are in flight, then the extra ones get 429 MailboxConcurrency with Retry-After', async () => {
    const undo = em.faults.inject({ match: { path: '/users/', method: 'GET' }, times: 6, fault: { kind: 'slow', ms: 300 } });
    const results = await Promise.all(Array.from({ length: 6 }, () => graph('GET', `/users/${ORG}/calendar`)));
    undo();
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    expect(throttled[0]?.body.error.message).toContain('MailboxConcurrency');
    expect(throttled[0]?.headers.get('retry-after')).toBe('1');
  });

  it('when a mailbox sends a 31st message within a minute, then 429 until the simulated clock moves on', async () => {
    const sender = em.state.addUser({ mail: 'bulk@contoso.com' });
    const mail = { Message: { subject: 'Hi', body: { contentType: 'text', content: 'x' }, toRecipients: [{ emailAddress: { address: 'ann@contoso.com' } }] } };
    for (let i = 0; i < 30; i++) expect((await graph('POST', `/users/${sender.mail}/sendMail`, mail)).status).toBe(202);
    const over = await graph('POST', `/users/${sender.mail}/sendMail`, mail);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    em.clock.advance(61_000);
    expect((await graph('POST', `/users/${sender.mail}/sendMail`, mail)).status).toBe(202);
    expect(em.state.messagesSent(sender.mail)).toHaveLength(31);
  });
});

describe('transactionId dedupe window', () => {
  it('when the same transactionId is posted within the window, then one event; after the window, then a second one', async () => {
    const mailbox = em.state.addUser({ mail: 'dedupe@contoso.com' }).mail;
    const body = event({ transactionId: '7f1f9c1e-1d2b-4c3d-8e4f-000000000001' });
    const a = await graph('POST', `/users/${mailbox}/events`, body);
    const b = await graph('POST', `/users/${mailbox}/events`, body);
    expect(b.body.id).toBe(a.body.id);
    expect(em.state.events(mailbox)).toHaveLength(1);
    em.clock.advance(61_000);
    const c = await graph('POST', `/users/${mailbox}/events`, body);
    expect(c.body.id).not.toBe(a.body.id);
    expect(em.state.events(mailbox)).toHaveLength(2);
  });
});

describe('events', () => {
  it('when an event carries an extended property, then $filter finds it and $expand returns it', async () => {
    const propId = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name MusterCreateKey';
    await graph('POST', `/users/${ORG}/events`, event({ singleValueExtendedProperties: [{ id: propId, value: 'tenant/session-9/1' }] }));
    const filter = encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${propId}' and ep/value eq 'tenant/session-9/1')`);
    const expand = encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${propId}')`);
    const res = await graph('GET', `/users/${ORG}/events?$filter=${filter}&$expand=${expand}`);
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(1);
    expect(res.body.value[0].singleValueExtendedProperties[0].value).toBe('tenant/session-9/1');
    const none = await graph('GET', `/users/${ORG}/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${propId}' and ep/value eq 'other')`)}`);
    expect(none.body.value).toHaveLength(0);
  });

  it('when an event is created from Outlook with the add-in, then Graph finds it by the cecp- property', async () => {
    const addinId = '{5C1E3A4B-0000-4000-8000-ABCDEF012345}';
    em.state.createEventFromOutlook({ mailbox: ORG, addinId, customProperties: { musterSessionId: 's-42' }, subject: 'From Outlook', start: '2030-05-01T08:00:00Z', end: '2030-05-01T09:00:00Z' });
    const id = addinPropertyId(addinId);
    expect(id).toBe('String {00020329-0000-0000-C000-000000000046} Name cecp-5c1e3a4b-0000-4000-8000-abcdef012345');
    const res = await graph('GET', `/users/${ORG}/events?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${id}' and ep/value ne null)`)}&$expand=${encodeURIComponent(`singleValueExtendedProperties($filter=id eq '${id}')`)}`);
    expect(res.body.value).toHaveLength(1);
    expect(JSON.parse(res.body.value[0].singleValueExtendedProperties[0].value)).toEqual({ musterSessionId: 's-42' });
  });

  it('when the mailbox does not allow teamsForBusiness, then 201 without a join URL', async () => {
    const res = await graph('POST', '/users/noteams@contoso.com/events', event({ isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' }));
    expect(res.status).toBe(201);
    expect(res.body.onlineMeeting).toBeNull();
    const ok = await graph('POST', `/users/${ORG}/events`, event({ isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' }));
    expect(ok.body.onlineMeeting.joinUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);
  });

  it('when an event is cancelled with a comment, then it is marked cancelled and keeps the comment', async () => {
    const created = await graph('POST', `/users/${ORG}/events`, event());
    const res = await graph('POST', `/users/${ORG}/events/${created.body.id}/cancel`, { Comment: 'Room flooded' });
    expect(res.status).toBe(202);
    expect(em.state.event(created.body.id)).toMatchObject({ isCancelled: true, cancelComment: 'Room flooded' });
  });
});

describe('mail', () => {
  it('when a draft made with an immutable id is sent, then the old REST id is gone but the immutable id finds it in Sent Items', async () => {
    const draft = await graph('POST', `/users/${ORG}/messages`, { subject: 'Reminder', body: { contentType: 'html', content: '<p>x</p>' }, toRecipients: [{ emailAddress: { address: 'ann@contoso.com' } }] }, { Prefer: 'IdType="ImmutableId"' });
    expect(draft.status).toBe(201);
    expect(draft.body.isDraft).toBe(true);
    const restId = em.state.drafts(ORG)[0]?.id;
    expect((await graph('POST', `/users/${ORG}/messages/${draft.body.id}/send`)).status).toBe(202);
    expect((await graph('GET', `/users/${ORG}/messages/${restId ?? ''}`)).status).toBe(404);
    const after = await graph('GET', `/users/${ORG}/messages/${draft.body.id}`, undefined, { Prefer: 'IdType="ImmutableId"' });
    expect(after.body.isDraft).toBe(false);
    expect(after.body.id).toBe(draft.body.id);
    const sent = await graph('GET', `/users/${ORG}/mailFolders/sentitems`);
    expect(after.body.parentFolderId).toBe(sent.body.id);
  });
});

describe('workbook formulas', () => {
  it('when =HYPERLINK(...) is written to a General cell, then it evaluates; to a text (@) cell, then it stays text', async () => {
    em.state.addWorkbook('drive1', 'item1', ['Roster']);
    const base = "/drives/drive1/items/item1/workbook/worksheets/Roster/range(address='A1:B1')";
    const evil = '=HYPERLINK("https://evil.example","click")';
    expect((await graph('PATCH', base, { values: [[evil, evil]] })).status).toBe(200);
    expect(em.state.cell('drive1', 'item1', 'Roster', 'A1')).toMatchObject({ value: 'click', formula: evil });
    const asText = await graph('PATCH', "/drives/drive1/items/item1/workbook/worksheets/Roster/range(address='A2:B2')", { numberFormat: [['@', '@']], values: [[evil, 42]] });
    expect(asText.body.values).toEqual([[evil, '42']]);
    expect(em.state.cell('drive1', 'item1', 'Roster', 'A2')).toMatchObject({ value: evil, formula: null, numberFormat: '@' });
    const used = await graph('GET', '/drives/drive1/items/item1/workbook/worksheets/Roster/usedRange(valuesOnly=true)');
    expect(used.body.address).toBe('Roster!A1:B2');
  });
});

describe('faults', () => {
  it('when a 429 with Retry-After is injected, then the next matching request gets it and the one after succeeds', async () => {
    em.faults.inject({ match: { path: '/calendar' }, fault: { kind: 'status', status: 429, retryAfter: 7 } });
    const first = await graph('GET', `/users/${ORG}/calendar`);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await graph('GET', `/users/${ORG}/calendar`)).status).toBe(200);
  });

  it('when the connection is dropped after the work, then the client sees a socket error but the event exists', async () => {
    const mailbox = em.state.addUser({ mail: 'drop@contoso.com' }).mail;
    em.faults.inject({ match: { method: 'POST', path: '/events' }, fault: { kind: 'drop', afterEffect: true } });
    await expect(graph('POST', `/users/${mailbox}/events`, event())).rejects.toThrow(/fetch failed/);
    expect(em.state.events(mailbox)).toHaveLength(1);
  });

  it('when the random mode is on with a seed, then the same seed fails the same requests', async () => {
    const run = async (): Promise<number[]> => {
      em.faults.setRandom({ rate: 0.3, seed: 7, faults: [{ kind: 'status', status: 503 }], match: { path: '/calendar' } });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await graph('GET', `/users/${ORG}/calendar`)).status);
      em.faults.setRandom(null);
      return statuses;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(0);
  });
});

describe('sendMail', () => {
  const KEY_PROP = 'String {8f0c2a5e-5a8e-4c3b-9d7e-6c2b1d0e4f3a} Name MusterMessageKey';
  const mail = (key: string, to = 'ann@contoso.com') => ({
    message: { subject: `Mail ${key}`, body: { contentType: 'html', content: '<p>x</p>' }, toRecipients: [{ emailAddress: { address: to } }], singleValueExtendedProperties: [{ id: KEY_PROP, value: key }] },
    saveToSentItems: true,
  });
  const byKey = (mailbox: string, key: string) => graph('GET', `/users/${mailbox}/messages?$filter=${encodeURIComponent(`singleValueExtendedProperties/Any(ep: ep/id eq '${KEY_PROP}' and ep/value eq '${key}')`)}&$select=isDraft`);
  const item = (mailbox: string, key: string, i: number) => ({ id: String(i), method: 'POST', url: `/users/${mailbox}/sendMail`, headers: { 'Content-Type': 'application/json' }, body: mail(key) });

  it('when a message is sent (camel-case parameters, as in the docs), then 202 with no body, and its Sent Items copy keeps the extended property and is found by $filter', async () => {
    const sender = em.state.addUser({ mail: 'sendmail@contoso.com' }).mail;
    const before = em.violations().length;
    const res = await graph('POST', `/users/${sender}/sendMail`, mail('t/k1'));
    expect(res.status).toBe(202);
    expect(res.body).toBeUndefined();
    expect(em.violations().length).toBe(before);
    const found = await byKey(sender, 't/k1');
    expect(found.status).toBe(200);
    expect(found.body.value).toHaveLength(1);
    expect(found.body.value[0].isDraft).toBe(false);
    expect(em.state.messagesSent(sender).map((m) => m.subject)).toEqual(['Mail t/k1']);
    expect(em.state.drafts(sender)).toHaveLength(0);
    expect((await byKey(sender, 't/other')).body.value).toHaveLength(0);
  });

  it('when a parameter is not in the CSDL, then 400 and nothing is sent', async () => {
    const sender = em.state.addUser({ mail: 'sendmail-bad@contoso.com' }).mail;
    const res = await graph('POST', `/users/${sender}/sendMail`, { ...mail('t/bad'), saveToDrafts: true });
    expect(res.status).toBe(400);
    expect(em.state.messagesSent(sender)).toHaveLength(0);
  });

  it('when Exchange files the Sent Items copy late, then the send counts at once but $filter finds the copy only after the delay', async () => {
    const sender = em.state.addUser({ mail: 'slowfiling@contoso.com' }).mail;
    em.settings.sentCopyDelayMs = 90_000;
    try {
      expect((await graph('POST', `/users/${sender}/sendMail`, mail('t/late'))).status).toBe(202);
      expect(em.state.messagesSent(sender)).toHaveLength(1);
      expect((await byKey(sender, 't/late')).body.value).toHaveLength(0);
      em.clock.advance(90_000);
      expect((await byKey(sender, 't/late')).body.value).toHaveLength(1);
    } finally {
      em.settings.sentCopyDelayMs = 0;
    }
  });

  it('when 20 sendMail requests come in one $batch, then each item answers 202 with no body, and the 30-a-minute limit applies per item', async () => {
    em.clock.advance(61_000);
    const sender = em.state.addUser({ mail: 'batchmail@contoso.com' }).mail;
    const first = await graph('POST', '/$batch', { requests: Array.from({ length: 20 }, (_, i) => item(sender, `t/b${i}`, i + 1)) });
    expect(first.status).toBe(200);
    expect(first.body.responses.map((r: { status: number }) => r.status)).toEqual(Array(20).fill(202));
    expect(first.body.responses.every((r: { body?: unknown }) => r.body === undefined)).toBe(true);
    const second = await graph('POST', '/$batch', { requests: Array.from({ length: 20 }, (_, i) => item(sender, `t/c${i}`, i + 1)) });
    const statuses = second.body.responses.map((r: { status: number }) => r.status);
    expect(statuses.filter((s: number) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s: number) => s === 429)).toHaveLength(10);
    expect(em.state.messagesSent(sender)).toHaveLength(30);
    expect(em.counters().batches['POST /users/{id}/sendMail']).toBeGreaterThanOrEqual(2);
    expect(em.counters().batchItems['POST /users/{id}/sendMail']).toBeGreaterThanOrEqual(40);
  });

  it('when a drop fault hits a $batch item, then that item answers 504, after doing the work when the fault says so', async () => {
    em.clock.advance(61_000);
    const sender = em.state.addUser({ mail: 'batchdrop@contoso.com' }).mail;
    em.faults.inject({ match: { path: /\/sendMail$/, mailbox: sender }, skip: 1, fault: { kind: 'drop', afterEffect: true } });
    // Skips count per rule: the second rule also saw only the first item before the first rule took the second.
    em.faults.inject({ match: { path: /\/sendMail$/, mailbox: sender }, skip: 1, fault: { kind: 'drop', afterEffect: false } });
    const res = await graph('POST', '/$batch', { requests: Array.from({ length: 4 }, (_, i) => item(sender, `t/d${i}`, i + 1)) });
    expect(res.body.responses.map((r: { status: number }) => r.status)).toEqual([202, 504, 504, 202]);
    expect(em.state.messagesSent(sender).map((m) => m.subject).sort()).toEqual(['Mail t/d0', 'Mail t/d1', 'Mail t/d3']);
  });

  it('when the whole $batch connection drops after the work, then every item was sent and no answer came', async () => {
    em.clock.advance(61_000);
    const sender = em.state.addUser({ mail: 'wholedrop@contoso.com' }).mail;
    em.faults.inject({ match: { path: '/$batch' }, fault: { kind: 'drop', afterEffect: true } });
    await expect(graph('POST', '/$batch', { requests: Array.from({ length: 3 }, (_, i) => item(sender, `t/w${i}`, i + 1)) })).rejects.toThrow();
    expect(em.state.messagesSent(sender)).toHaveLength(3);
  });
});
