// Chaos through the whole service on Google Workspace: a 200-learner launch with its reminder steps while 10% of Google API calls fail; events, Gmail and the Sheet stay once-only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import { startTestService, type TestService } from '../support/service.js';
import { ALL_TABS, COL } from '../../src/domain/records.js';
import { daySessions, numberedRosterCsv } from '../support/program-fixtures.js';

const COORDINATOR = 'coord@acme.example';
const LEARNERS = 200;
const SESSIONS = 4;



/** The address in a To header ("Name <a@b>" or "a@b"), lower-cased. */
function addressOf(to: string): string {
  return (/<([^>]+)>/.exec(to)?.[1] ?? to).trim().toLowerCase();
}

describe('a 200-learner launch on Google Workspace while 10% of Google API calls fail', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  let spreadsheetId: string;
  const dir = mkdtempSync(join(tmpdir(), 'muster-chaos-google-'));

  /** Runs due jobs and moves the shared simulated clock to the next pending job (at least a minute, so Gmail budgets refill). */
  async function drain(until: number): Promise<void> {
    for (let rounds = 0; ; rounds++) {
      await svc.runDue();
      const pending = await svc.service.runtime.store.listJobs('default', { status: ['pending'] });
      const next = Math.min(...pending.map((j) => Date.parse(j.run_at)));
      if (pending.length === 0 || next > until) return;
      if (rounds > 3000) throw new Error(`jobs still pending after ${rounds} rounds`);
      emulator.clock.advance(Math.max(60_000, next - emulator.clock.now() + 1));
    }
  }

  beforeAll(async () => {
    emulator = await startGoogleEmulator({ simulatedClock: true, startTime: Date.parse('2027-08-16T08:00:00Z') });
    emulator.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
    const keyFile = join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES })));
    spreadsheetId = emulator.state.createSpreadsheet('Muster records');
    svc = await startTestService({
      seedDemo: false,
      env: {
        MUSTER_PROVIDER: 'google',
        GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile,
        GOOGLE_IMPERSONATE: COORDINATOR,
        GOOGLE_SPREADSHEET_ID: spreadsheetId,
        GOOGLE_API_ROOT_URL: emulator.rootUrl,
        GOOGLE_TOKEN_URL: emulator.tokenUrl,
        MUSTER_LOG_LEVEL: 'error',
      },
    });
    svc.service.runtime.ctx.clock = { now: () => new Date(emulator.clock.now()) };
    const created = await svc.api('POST', '/api/programs', { name: 'Chaos Basics', code: 'CHAOS2', owner: COORDINATOR, sessions: daySessions(SESSIONS, 13, { room: 'Room Ada', roomEmail: 'room-ada@resource.acme.example', backupPlan: 'Room Grace', instructor: 'ines@acme.example' }, 60) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await svc.api('POST', '/api/programs/CHAOS2/roster', numberedRosterCsv(LEARNERS, 'acme.example', { sessions: SESSIONS, managers: 5 }))).body.imported).toBe(LEARNERS);

    emulator.faults.random({ rate: 0.1, seed: 5, kinds: ['429', '503', '500', 'drop', 'drop-after-work'] });
    const launch = await svc.api('POST', '/api/programs/CHAOS2/launch', { force: true, reason: 'chaos test without owners' });
    expect(launch.status, JSON.stringify(launch.body)).toBe(200);
    await drain(Date.parse('2027-09-20T00:00:00Z'));
    emulator.faults.random({ rate: 0, seed: 1 });
    await svc.api('POST', '/api/programs/CHAOS2/sync');
    await drain(emulator.clock.now());
  }, 180_000);

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the chaos ran, then every kind of fault was applied many times', () => {
    const injected = emulator.faults.injected();
    expect(injected.length).toBeGreaterThan(20);
    expect(new Set(injected.map((f) => f.kind)).size).toBe(5);
  });

  it('when the launch ran under chaos, then each session has exactly one event with each of its learners once', () => {
    const events = emulator.state.events(COORDINATOR).filter((e) => e.status !== 'cancelled');
    expect(events).toHaveLength(SESSIONS);
    const seen = new Set<string>();
    for (let d = 1; d <= SESSIONS; d++) {
      const mine = events.filter((e) => String(e.summary ?? '').includes(`Day ${d}`));
      expect(mine, `Day ${d}`).toHaveLength(1);
      const learners = (mine[0]!.attendees as Array<{ email: string }>).map((a) => a.email.toLowerCase()).filter((a) => a.startsWith('learner'));
      expect(new Set(learners).size).toBe(learners.length);
      expect(learners).toHaveLength(LEARNERS / SESSIONS);
      for (const l of learners) {
        expect(seen.has(l), `${l} on two events`).toBe(false);
        seen.add(l);
      }
    }
    expect(seen.size).toBe(LEARNERS);
  });

  it('when reminder steps ran under chaos, then Gmail never sent any ledger message twice', async () => {
    const ledger = await svc.service.runtime.store.listMessages('default', {});
    expect(new Set(ledger.map((m) => m.key)).size).toBe(ledger.length);
    const sent = emulator.state.sentMessages(COORDINATOR);
    const byRecipient = new Map<string, number>();
    for (const m of sent) byRecipient.set(addressOf(m.to ?? ''), (byRecipient.get(addressOf(m.to ?? '')) ?? 0) + 1);
    const ledgerByRecipient = new Map<string, number>();
    for (const m of ledger) ledgerByRecipient.set(m.recipient.toLowerCase(), (ledgerByRecipient.get(m.recipient.toLowerCase()) ?? 0) + 1);
    expect([...byRecipient.entries()].filter(([to, n]) => n > (ledgerByRecipient.get(to) ?? 0))).toEqual([]);
  });

  // A send the provider never took is sent again on a later run; one whose outcome stays unknown would be reported, never resent.
  it('when reminder steps ran under chaos, then every learner got a reminder and no message is left unsent or unknown', async () => {
    const ledger = await svc.service.runtime.store.listMessages('default', {});
    const reminded = new Set(ledger.filter((m) => m.kind === 'reminder' && m.status === 'sent').map((m) => m.learner_id));
    expect(reminded.size).toBe(LEARNERS);
    expect(ledger.filter((m) => m.status !== 'sent').map((m) => `${m.kind}:${m.status}:${m.error ?? ''}`)).toEqual([]);
  });

  it('when the records were synced after the chaos, then every tab of the Sheet has one row per key', () => {
    const sheet = emulator.state.spreadsheet(spreadsheetId);
    for (const tab of ALL_TABS) {
      const values = sheet.values(tab.name);
      const header = values[0] ?? [];
      const k = header.indexOf(COL.key);
      if (k < 0) continue;
      const keys = values.slice(1).map((r) => String(r[k] ?? '')).filter((x) => x !== '');
      expect(new Set(keys).size, `${tab.name} has a key twice`).toBe(keys.length);
      if (tab.name === 'Roster' || tab.name === 'Attendance' || tab.name === 'Completion') expect(keys, tab.name).toHaveLength(LEARNERS);
      if (tab.name === 'Sessions') expect(keys).toHaveLength(SESSIONS);
    }
  });
});
