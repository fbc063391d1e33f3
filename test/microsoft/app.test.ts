// The whole Muster service on Microsoft 365 (the Graph emulator): launch, move, cancel, RSVPs, a meeting adopted from Outlook, a mailbox without Teams.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../emulators/graph/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { daySessions, numberedRosterCsv } from '../support/program-fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ORGANIZER = 'training@contoso.com';
const ADDIN_ID = '5d6f1d4e-6c1a-4a39-9a55-3f3f6c1e7a01';
const VENUE = { room: 'Room 4.01', roomEmail: 'room401@contoso.com', backupPlan: 'Room 2.03', instructor: 'ines@contoso.com' };
const sessions = (n: number, day0: number) => daySessions(n, day0, VENUE, 100);
const roster = (n: number) => numberedRosterCsv(n, 'contoso.com');



describe('Muster on Microsoft 365', () => {
  let em: GraphEmulator;
  let svc: TestService;
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-ms-'));
  let env: Record<string, string>;

  beforeAll(async () => {
    em = await startGraphEmulator();
    em.state.addUser({ mail: ORGANIZER, displayName: 'Training Team' });
    em.state.addRoom({ mail: 'room401@contoso.com', displayName: 'Room 4.01' });
    svc = await startTestService({
      seedDemo: false,
      dataDir,
      keepData: true,
      env: env = {
        MUSTER_PROVIDER: 'microsoft',
        MS_TENANT_ID: em.tenantId,
        MS_CLIENT_ID: em.clientId,
        MS_CLIENT_SECRET: em.clientSecret,
        MS_ORGANIZER: ORGANIZER,
        MS_AUTHORITY_HOST: em.authorityHost,
        GRAPH_BASE_URL: em.baseUrl,
        MS_ADDIN_ID: ADDIN_ID,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await em?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when a program of 3 sessions and 60 learners launches, then there are exactly 3 events with attendees, the room and a Teams link; one was adopted from Outlook', async () => {
    const created = await svc.api('POST', '/api/programs', { name: 'Safety Basics', code: 'SAFE1', owner: ORGANIZER, sessions: sessions(3, 6) });
    expect(created.status).toBe(201);
    const [s1, s2] = created.body.sessions as Array<{ id: string; start: string; end: string }>;
    expect((await svc.api('POST', '/api/programs/SAFE1/roster', roster(60))).body.imported).toBe(60);
    // The coordinator already sent Day 2 from Outlook with the add-in: Muster must adopt it, not create a second meeting.
    const fromOutlook = em.state.createEventFromOutlook({ mailbox: ORGANIZER, addinId: ADDIN_ID, customProperties: { musterSessionId: s2!.id }, subject: '[SAFE1] Safety Basics — Day 2', start: s2!.start, end: s2!.end });
    const launch = await svc.api('POST', '/api/programs/SAFE1/launch', { force: true, reason: 'owners not set in this test' });
    expect(launch.status, JSON.stringify(launch.body)).toBe(200);
    await svc.runDue();

    const events = em.state.events(ORGANIZER).filter((e) => !e.isCancelled);
    expect(events).toHaveLength(3);
    expect(events.map((e) => e.id)).toContain(fromOutlook);
    for (const e of events) {
      expect(e.attendees.filter((a) => a.email.startsWith('learner'))).toHaveLength(60);
      expect(e.attendees.find((a) => a.email === 'room401@contoso.com')?.type).toBe('resource');
      expect(e.joinUrl).toMatch(/^https:\/\//);
    }
    const event1 = events.find((e) => e.subject.includes('Day 1'))!;
    expect(event1.bodyContent).toContain('Safety Basics');
    expect(em.violations()).toEqual([]);

    // Moving a session patches its one event.
    const moved = await svc.api('PATCH', `/api/sessions/${s1!.id}`, { start: '2027-09-06T13:00', end: '2027-09-06T16:00' });
    expect(moved.status).toBe(200);
    await svc.runDue();
    const after = em.state.events(ORGANIZER).filter((e) => !e.isCancelled);
    expect(after).toHaveLength(3);
    expect(after.find((e) => e.id === event1.id)!.start).toMatch(/^2027-09-06T11:00/);
  });

  it('when learners answer in Outlook, then their answers show in the roster; cancelling a session cancels its event', async () => {
    const list = await svc.api('GET', '/api/programs/SAFE1/sessions');
    const day3 = list.body.find((s: { label: string }) => s.label === 'Day 3');
    const event = em.state.events(ORGANIZER).find((e) => e.subject.includes('Day 3') && !e.isCancelled)!;
    em.state.setResponse(event.id, 'learner5@contoso.com', 'declined');
    em.state.setResponse(event.id, 'learner6@contoso.com', 'accepted');
    expect((await svc.api('POST', '/api/programs/SAFE1/sync')).status).toBe(200);
    const state = await svc.api('GET', `/api/sessions/${day3.id}/state`);
    const by = new Map(state.body.learners.map((l: { email: string; rsvp: string }) => [l.email, l.rsvp]));
    expect(by.get('learner5@contoso.com')).toBe('declined');
    expect(by.get('learner6@contoso.com')).toBe('accepted');

    const cancelled = await svc.api('POST', `/api/sessions/${day3.id}/cancel`, { message: 'The trainer is ill.' });
    expect(cancelled.status).toBe(200);
    await svc.runDue();
    const ev = em.state.event(event.id)!;
    expect(ev.isCancelled).toBe(true);
    expect(ev.cancelComment).toContain('The trainer is ill.');
    expect(em.state.events(ORGANIZER).filter((e) => !e.isCancelled)).toHaveLength(2);
  });

  it('when the organizer mailbox may not create Teams meetings, then launching is blocked with the reason', async () => {
    em.state.setAllowedOnlineMeetingProviders(ORGANIZER, []);
    const created = await svc.api('POST', '/api/programs', { name: 'No Teams', code: 'NOTEAMS', owner: ORGANIZER, sessions: sessions(1, 20) });
    expect(created.status).toBe(201);
    await svc.api('POST', '/api/programs/NOTEAMS/roster', roster(2));
    await svc.api('PATCH', '/api/programs/NOTEAMS', { rosterApproved: true });
    const launch = await svc.api('POST', '/api/programs/NOTEAMS/launch', {});
    expect(launch.status).toBe(422);
    expect(launch.body.error.code).toBe('LAUNCH_BLOCKED');
    expect(launch.body.error.message).toMatch(/Teams/);
    em.state.setAllowedOnlineMeetingProviders(ORGANIZER, ['teamsForBusiness']);
  });

  it("when the app's secret expires, then the tenant's jobs stop with a blocking checklist item instead of failing silently", async () => {
    em.identity.expireSecrets(em.clientId);
    // A restart drops the cached access token, as its expiry would in production.
    await svc.close();
    svc = await startTestService({ seedDemo: false, dataDir, keepData: true, env });
    const r = await svc.api('POST', '/api/programs/SAFE1/reminders/send-now');
    expect(r.status).toBe(200);
    expect(r.body.sent).toBe(0);
    const checklist = await svc.api('GET', '/api/programs/SAFE1/checklist');
    const item = checklist.body.items.find((i: { id: string }) => i.id === 'provider.credentials');
    expect(item).toMatchObject({ status: 'blocking' });
    expect(item.reason).toMatch(/stopped working/);
    const pending = await svc.service.runtime.store.listJobs('default', { status: ['failed'] });
    expect(pending).toHaveLength(0);
  });

  it('when the suite has run, then every request body the emulator received validated against the CSDL', () => {
    expect(em.violations()).toEqual([]);
  });
});

describe('Muster on Microsoft 365: reminders go out 20 to a $batch within the mailbox budget', () => {
  let em: GraphEmulator;
  let svc: TestService;
  const LEARNERS = 45;
  const SEND_MAIL = 'POST /users/{id}/sendMail';

  beforeAll(async () => {
    // The emulator enforces Exchange's 30 messages a minute; Muster's budget must keep every $batch item under it.
    em = await startGraphEmulator({ simulatedClock: true });
    em.clock.advance(Date.parse('2027-08-30T08:00:00Z') - em.clock.now());
    em.state.addUser({ mail: ORGANIZER, displayName: 'Training Team' });
    em.state.addRoom({ mail: 'room401@contoso.com', displayName: 'Room 4.01' });
    svc = await startTestService({
      seedDemo: false,
      env: { MUSTER_PROVIDER: 'microsoft', MS_TENANT_ID: em.tenantId, MS_CLIENT_ID: em.clientId, MS_CLIENT_SECRET: em.clientSecret, MS_ORGANIZER: ORGANIZER, MS_AUTHORITY_HOST: em.authorityHost, GRAPH_BASE_URL: em.baseUrl, MUSTER_LOG_LEVEL: 'error' },
    });
    const clock = em.clock;
    svc.service.runtime.ctx.clock = { now: () => new Date(clock.now()) };
    expect((await svc.api('POST', '/api/programs', { name: 'Batch Basics', code: 'BATCH1', owner: ORGANIZER, sessions: sessions(1, 20) })).status).toBe(201);
    expect((await svc.api('POST', '/api/programs/BATCH1/roster', roster(LEARNERS))).body.imported).toBe(LEARNERS);
    expect((await svc.api('POST', '/api/programs/BATCH1/launch', { force: true, reason: 'owners not set in this test' })).status).toBe(200);
    await svc.runDue();
    em.clock.advance(61_000);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await em?.close();
  });

  it('when 45 reminders are due at once, then 30 go in this minute as a $batch of 20 and one of 10, the rest wait for the budget, none is refused, and each learner gets one', async () => {
    em.resetCounters();
    const first = await svc.api('POST', '/api/programs/BATCH1/reminders/send-now');
    expect(first.status).toBe(200);
    let c = em.counters();
    expect(c.batches[SEND_MAIL]).toBe(2);
    expect(c.batchItems[SEND_MAIL]).toBe(30);
    expect(c.perEndpoint[SEND_MAIL]).toBe(30);
    expect(c.named['throttled'] ?? 0).toBe(0);
    const ledger = async () => (await svc.service.runtime.store.listMessages('default', {})).filter((m) => m.key.startsWith('reminder-now'));
    expect((await ledger()).filter((m) => m.status === 'sent')).toHaveLength(30);

    // Nothing more fits this minute: a run now sends nothing.
    await svc.runDue();
    expect(em.counters().perEndpoint[SEND_MAIL]).toBe(30);

    em.clock.advance(61_000);
    await svc.runDue();
    c = em.counters();
    expect(c.batches[SEND_MAIL]).toBe(3);
    expect(c.perEndpoint[SEND_MAIL]).toBe(LEARNERS);
    // One mailbox request per message: nothing is looked up or drafted on the way.
    expect(c.perMailbox[ORGANIZER]).toBe(LEARNERS);
    expect(c.named['throttled'] ?? 0).toBe(0);
    expect((await ledger()).map((m) => m.status)).toEqual(Array(LEARNERS).fill('sent'));
    const keys = new Set((await ledger()).map((m) => `default/${m.key}`));
    const sentKeys = em.state.messagesSent(ORGANIZER).flatMap((m) => m.extended.map((p) => p.value)).filter((k) => keys.has(k));
    expect(sentKeys.sort()).toEqual([...keys].sort());
    expect(em.violations()).toEqual([]);
  });
});
