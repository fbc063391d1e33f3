// A mail whose send outcome is unknown (the connection dropped after the provider took it) goes out at most once: Graph (a $batch of sendMail) and Gmail settle it by lookup, SMTP marks it "outcome unknown" and shows it on the checklist.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGraphEmulator, type GraphEmulator } from '../emulators/graph/index.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { startTestService, type TestService } from '../support/service.js';

const LEARNERS = 3;

function program(owner: string, domain: string) {
  return {
    name: 'Unknown Outcomes',
    code: 'UNK1',
    owner,
    sessions: [{ label: 'Day 1', start: '2027-06-14T09:00', end: '2027-06-14T12:00', zone: 'Europe/Berlin', room: 'Room 1', roomEmail: `room1@${domain}`, backupPlan: 'Room 2', instructors: [`ines@${domain}`], capacity: 20 }],
  };
}

function roster(domain: string, learners = LEARNERS): string {
  return ['Email,Name,Manager Email,Time Zone', ...Array.from({ length: learners }, (_, i) => `learner${i}@${domain},Learner ${i},boss@${domain},Europe/Berlin`)].join('\n');
}

/** Creates, fills and launches the program, then runs what is due so only the "send now" reminders are new. */
async function launched(svc: TestService, owner: string, domain: string, settle: () => Promise<void>, learners = LEARNERS): Promise<void> {
  expect((await svc.api('POST', '/api/programs', program(owner, domain))).status).toBe(201);
  expect((await svc.api('POST', '/api/programs/UNK1/roster', roster(domain, learners))).body.imported).toBe(learners);
  const launch = await svc.api('POST', '/api/programs/UNK1/launch', { force: true, reason: 'test without owners' });
  expect(launch.status, JSON.stringify(launch.body)).toBe(200);
  await settle();
}

function perLearner(addresses: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of addresses) {
    const email = (/<([^>]+)>/.exec(a)?.[1] ?? a).toLowerCase();
    if (email.startsWith('learner')) m.set(email, (m.get(email) ?? 0) + 1);
  }
  return m;
}

async function reminderLedger(svc: TestService): Promise<string[]> {
  return (await svc.service.runtime.store.listMessages('default', {})).filter((m) => m.kind === 'reminder' && m.key.startsWith('reminder-now')).map((m) => m.status);
}

describe('an unknown send outcome on Microsoft Graph', () => {
  let em: GraphEmulator;
  let svc: TestService;
  const ORGANIZER = 'training@contoso.com';
  /** One $batch: 20 learners' "send now" reminders go out in one round trip. */
  const GRAPH_LEARNERS = 20;
  /** Muster's clock runs ahead of real time by this much, so jobs re-queued with a backoff come due. */
  let ahead = 0;
  const laterRuns = async () => {
    for (let i = 0; i < 3; i++) {
      await svc.runDue();
      ahead += 3_600_000;
    }
  };
  const sentPerLearner = () => perLearner(em.state.messagesSent(ORGANIZER).flatMap((m) => m.to));
  const expectOneMoreEach = (before: Map<string, number>) => {
    const after = sentPerLearner();
    for (let i = 0; i < GRAPH_LEARNERS; i++) {
      const email = `learner${i}@contoso.com`;
      expect((after.get(email) ?? 0) - (before.get(email) ?? 0), email).toBe(1);
    }
  };
  const batches = () => em.counters().batches['POST /users/{id}/sendMail'] ?? 0;

  afterAll(async () => {
    await svc?.close();
    await em?.close();
  });

  it('when the connection drops after Graph ran a $batch of 20 reminders, then 20 unknowns are settled by lookup and each learner has exactly one', async () => {
    em = await startGraphEmulator({ sendsPerMinute: 10_000 });
    em.state.addUser({ mail: ORGANIZER, displayName: 'Training Team' });
    em.state.addRoom({ mail: 'room1@contoso.com', displayName: 'Room 1' });
    svc = await startTestService({
      seedDemo: false,
      env: { MUSTER_PROVIDER: 'microsoft', MS_TENANT_ID: em.tenantId, MS_CLIENT_ID: em.clientId, MS_CLIENT_SECRET: em.clientSecret, MS_ORGANIZER: ORGANIZER, MS_AUTHORITY_HOST: em.authorityHost, GRAPH_BASE_URL: em.baseUrl, MUSTER_LOG_LEVEL: 'error' },
    });
    svc.service.runtime.ctx.clock = { now: () => new Date(Date.now() + ahead) };
    await launched(svc, ORGANIZER, 'contoso.com', async () => void (await svc.runDue()), GRAPH_LEARNERS);
    ahead += 3_600_000;
    const before = sentPerLearner();
    const batchesBefore = batches();

    em.faults.inject({ match: { method: 'POST', path: '/$batch' }, fault: { kind: 'drop', afterEffect: true } });
    const now = await svc.api('POST', '/api/programs/UNK1/reminders/send-now');
    expect(now.status).toBe(200);
    expect(em.faults.pending()).toBe(0);
    expect(batches() - batchesBefore).toBe(1);
    await laterRuns();

    expectOneMoreEach(before);
    // Settled by lookup, never by a second $batch.
    expect(batches() - batchesBefore).toBe(1);
    expect(await reminderLedger(svc)).toEqual(Array(GRAPH_LEARNERS).fill('sent'));
  });

  // A send the provider never took is settled as not sent once the findable-after grace has passed, and sent again: none goes missing.
  it('when the connection drops before Graph ran the $batch, then the reminders stay unknown within the grace and a later runDue sends each exactly once', async () => {
    const before = sentPerLearner();
    em.faults.inject({ match: { method: 'POST', path: '/$batch' }, fault: { kind: 'drop', afterEffect: false } });
    expect((await svc.api('POST', '/api/programs/UNK1/reminders/send-now')).status).toBe(200);
    expect(em.faults.pending()).toBe(0);
    const ledger = (await svc.service.runtime.store.listMessages('default', {})).filter((m) => m.key.startsWith('reminder-now') && m.created_at >= new Date(Date.now() + ahead - 60_000).toISOString());
    expect(ledger.map((m) => m.status)).toEqual(Array(GRAPH_LEARNERS).fill('unknown'));
    expect(sentPerLearner()).toEqual(before);
    await laterRuns();
    expectOneMoreEach(before);
  });

  it('when single items of the $batch time out (504) after Graph sent them, then those are settled as sent and nobody gets a second one', async () => {
    ahead += 3_600_000;
    const before = sentPerLearner();
    em.faults.inject({ match: { method: 'POST', path: /\/sendMail$/ }, skip: 2, times: 3, fault: { kind: 'drop', afterEffect: true } });
    expect((await svc.api('POST', '/api/programs/UNK1/reminders/send-now')).status).toBe(200);
    await laterRuns();
    expect(em.faults.pending()).toBe(0);
    expectOneMoreEach(before);
  });
});

describe('an unknown send outcome on Gmail', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  const COORDINATOR = 'coord@acme.example';
  const dir = mkdtempSync(join(tmpdir(), 'muster-unknown-gmail-'));

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the connection drops after Gmail sent each reminder, then runDue settles by lookup and each learner has exactly one', async () => {
    emulator = await startGoogleEmulator({ simulatedClock: true, startTime: Date.parse('2027-05-01T08:00:00Z') });
    emulator.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
    const keyFile = join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES })));
    svc = await startTestService({
      seedDemo: false,
      env: {
        MUSTER_PROVIDER: 'google',
        GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile,
        GOOGLE_IMPERSONATE: COORDINATOR,
        GOOGLE_SPREADSHEET_ID: emulator.state.createSpreadsheet('Muster records'),
        GOOGLE_API_ROOT_URL: emulator.rootUrl,
        GOOGLE_TOKEN_URL: emulator.tokenUrl,
        MUSTER_LOG_LEVEL: 'error',
      },
    });
    svc.service.runtime.ctx.clock = { now: () => new Date(emulator.clock.now()) };
    const drain = async () => {
      for (let minute = 0; minute < 5; minute++) {
        await svc.runDue();
        emulator.clock.advance(60_000);
      }
    };
    await launched(svc, COORDINATOR, 'acme.example', drain);
    const before = perLearner(emulator.state.sentMessages(COORDINATOR).map((m) => m.to ?? ''));

    emulator.faults.inject({ method: 'gmail.users.messages.send', kind: 'drop-after-work', times: LEARNERS });
    expect((await svc.api('POST', '/api/programs/UNK1/reminders/send-now')).status).toBe(200);
    await drain();
    expect(emulator.faults.injected().filter((f) => f.kind === 'drop-after-work')).toHaveLength(LEARNERS);

    const after = perLearner(emulator.state.sentMessages(COORDINATOR).map((m) => m.to ?? ''));
    for (let i = 0; i < LEARNERS; i++) {
      const email = `learner${i}@acme.example`;
      expect((after.get(email) ?? 0) - (before.get(email) ?? 0), email).toBe(1);
    }
    expect(await reminderLedger(svc)).toEqual(Array(LEARNERS).fill('sent'));
  });
});

describe('an unknown send outcome over SMTP', () => {
  let smtp: TestSmtpServer;
  let svc: TestService;

  afterAll(async () => {
    await svc?.close();
    await smtp?.close();
  });

  it('when the SMTP server drops the connection after DATA, then the reminder is marked outcome unknown, never resent, and named on the checklist', async () => {
    smtp = await startSmtpServer();
    svc = await startTestService({ seedDemo: false, env: { SMTP_URL: smtp.url, MAIL_FROM: 'training@example.org', MUSTER_LOG_LEVEL: 'error' } });
    await launched(svc, 'owner@example.org', 'example.org', async () => void (await svc.runDue()));
    const before = perLearner(smtp.messages.flatMap((m) => m.to));

    smtp.behave({ dropAfterData: true });
    expect((await svc.api('POST', '/api/programs/UNK1/reminders/send-now')).status).toBe(200);
    smtp.behave({ dropAfterData: false });
    for (let i = 0; i < 3; i++) await svc.runDue();

    const after = perLearner(smtp.messages.flatMap((m) => m.to));
    for (let i = 0; i < LEARNERS; i++) {
      const email = `learner${i}@example.org`;
      expect((after.get(email) ?? 0) - (before.get(email) ?? 0), email).toBe(1);
    }
    expect(smtp.messages.filter((m) => m.outcome === 'dropped')).toHaveLength(LEARNERS);
    expect(await reminderLedger(svc)).toEqual(Array(LEARNERS).fill('unknown'));

    const checklist = await svc.api('GET', '/api/programs/UNK1/checklist');
    expect(checklist.status).toBe(200);
    const item = (checklist.body.items as Array<{ id: string; reason: string }>).find((i) => i.id === 'sending.unknown');
    expect(item, JSON.stringify(checklist.body.items.map((i: { id: string }) => i.id))).toBeDefined();
    expect(item!.reason).toContain(`${LEARNERS} message(s)`);
    expect(item!.reason).toContain('learner0@example.org');
  });
});
