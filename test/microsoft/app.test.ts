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
