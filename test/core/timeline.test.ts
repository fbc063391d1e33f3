// Steps a whole program's timeline hour by hour on the local providers, with a restart half-way: each message once, at its local time.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/bootstrap.js';
import { createLogger } from '../../src/logger.js';
import { createProgram } from '../../src/app/programs.js';
import { importRoster } from '../../src/app/roster.js';
import { launchProgram } from '../../src/app/launch.js';
import { runDue } from '../../src/app/jobs.js';
import { markAttendance, recordCompletion } from '../../src/app/attendance.js';
import type { Actor } from '../../src/app/context.js';

const HOUR = 3600_000;

describe('a program timeline on embedded defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'muster-timeline-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when run-due steps hour by hour from launch to after the due dates, with a restart half-way, then every expected message goes out once at its local time', async () => {
    let now = new Date('2027-03-01T00:00:00Z');
    const clock = { now: () => now };
    const config = loadConfig({ MUSTER_DATA_DIR: dir, MUSTER_LOG_LEVEL: 'error', MUSTER_WORKER: 'off' });
    const open = () => createRuntime(config, { clock, logger: createLogger('error') });
    let rt: Runtime = await open();
    const actor: Actor = { tenantId: 'default', actor: 'coordinator@example.com', surface: 'cli' };

    const { program, sessions } = await createProgram(rt.ctx, actor, {
      name: 'Security Basics',
      code: 'SEC101',
      owner: 'coordinator@example.com',
      audience: 'All staff',
      agenda: 'Phishing and passwords',
      materials: [{ title: 'VPN guide', kind: 'prerequisite', link: 'https://intranet.example.com/vpn', owner: 'it@example.com', lastReviewed: '2027-02-01' }],
      reviewWindowDays: 180,
      assessmentName: null,
      policy: {},
      owners: {},
      showScoresToManagers: false,
      enrollmentPath: null,
      // The day after Europe's spring-forward change (28 March 2027): 09:00 CEST is 07:00Z.
      sessions: [{ label: 'Cohort A', start: '2027-03-30T09:00', end: '2027-03-30T11:00', zone: 'Europe/Berlin', room: 'Room 1', roomEmail: null, onlineUrl: null, backupPlan: 'Room 2', instructors: ['ines@example.com'], capacity: 10 }],
    });
    await importRoster(
      rt.ctx,
      actor,
      program.id,
      [
        { row: 2, values: { Email: 'anna@example.com', Name: 'Anna', 'Manager Email': 'ma@example.com', 'Time Zone': 'Europe/Berlin' } },
        { row: 3, values: { Email: 'bob@example.com', Name: 'Bob', 'Manager Email': 'mb@example.com', 'Time Zone': 'America/New_York' } },
      ],
      'json',
    );
    await launchProgram(rt.ctx, actor, program.id, { force: true, reason: 'timeline test: owners left unset on purpose' });

    const end = new Date('2027-04-20T00:00:00Z');
    const restartAt = new Date('2027-03-26T00:00:00Z').getTime();
    let restarted = false;
    while (now < end) {
      await runDue(rt.ctx);
      if (now.toISOString() === '2027-03-30T09:00:00.000Z') {
        await markAttendance(rt.ctx, actor, program.id, [
          { sessionId: sessions[0]!.id, email: 'anna@example.com', attendance: 'present' },
          { sessionId: sessions[0]!.id, email: 'bob@example.com', attendance: 'absent' },
        ]);
      }
      if (now.toISOString() === '2027-04-05T12:00:00.000Z') await recordCompletion(rt.ctx, actor, program.id, [{ email: 'anna@example.com', completedAt: '2027-04-05', score: 88 }]);
      now = new Date(now.getTime() + HOUR);
      if (!restarted && now.getTime() >= restartAt) {
        await rt.close();
        rt = await open();
        restarted = true;
      }
    }
    const messages = (await rt.store.listMessages('default', { programId: program.id })).filter((m) => m.kind !== 'digest');
    const digests = (await rt.store.listMessages('default', { programId: program.id })).filter((m) => m.kind === 'digest');
    await rt.close();

    const got = messages.map((m) => ({ to: m.recipient, kind: m.kind, at: m.sent_at, status: m.status })).sort((a, b) => (a.at! < b.at! ? -1 : 1));
    // Planned instant → the first hourly step at or after it.
    const step = (iso: string) => new Date(Math.ceil(Date.parse(iso) / HOUR) * HOUR).toISOString();
    const expected = [
      { to: 'anna@example.com', kind: 'invite', at: step('2027-03-01T00:00:00Z') },
      { to: 'bob@example.com', kind: 'invite', at: step('2027-03-01T00:00:00Z') },
      // 7 days before, same local time (09:00 CET = 08:00Z); for Bob that is 04:00 in New York, inside quiet hours,
      // so it goes the evening before at 20:59 EDT (00:59Z).
      { to: 'bob@example.com', kind: 'reminder', at: step('2027-03-23T00:59:00Z') },
      { to: 'anna@example.com', kind: 'reminder', at: step('2027-03-23T08:00:00Z') },
      { to: 'bob@example.com', kind: 'prerequisite', at: step('2027-03-27T00:59:00Z') },
      { to: 'anna@example.com', kind: 'prerequisite', at: step('2027-03-27T08:00:00Z') },
      // 1 day before across the DST change: still 09:00 local in Berlin (now CEST, 07:00Z).
      { to: 'bob@example.com', kind: 'reminder', at: step('2027-03-29T00:59:00Z') },
      { to: 'anna@example.com', kind: 'reminder', at: step('2027-03-29T07:00:00Z') },
      // 1 hour before: 08:00 CEST for Anna; for Bob 02:00 EDT, and moving it to 20:59 would more than double its lead: skipped.
      { to: 'anna@example.com', kind: 'reminder', at: step('2027-03-30T06:00:00Z') },
      { to: 'anna@example.com', kind: 'follow-up-present', at: step('2027-03-30T10:00:00Z') },
      // Bob's follow-up falls at 06:00 EDT, inside quiet hours: it waits until 07:00 EDT (11:00Z).
      { to: 'bob@example.com', kind: 'follow-up-absent', at: step('2027-03-30T11:00:00Z') },
      // Completion due 14 days after the session (11:00 CEST = 05:00 EDT on 13 April); the notice 2 days before, after quiet hours.
      { to: 'bob@example.com', kind: 'completion-due', at: step('2027-04-11T11:00:00Z') },
      { to: 'mb@example.com', kind: 'escalation', at: step('2027-04-13T11:00:00Z') },
    ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.to < b.to ? -1 : 1));
    expect(got.map(({ to, kind, at }) => ({ to, kind, at: new Date(at!).toISOString() })).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.to < b.to ? -1 : 1))).toEqual(expected);
    expect(got.every((m) => m.status === 'sent')).toBe(true);

    // Weekly digests: one per manager per Monday at 08:00 in the manager's zone, none twice.
    const byManager = new Map<string, string[]>();
    for (const d of digests) byManager.set(d.recipient, [...(byManager.get(d.recipient) ?? []), d.sent_at!]);
    expect([...byManager.keys()].sort()).toEqual(['ma@example.com', 'mb@example.com']);
    const mondays = ['2027-03-01', '2027-03-08', '2027-03-15', '2027-03-22', '2027-03-29', '2027-04-05', '2027-04-12', '2027-04-19'];
    expect(byManager.get('ma@example.com')!.map((t) => t.slice(0, 10))).toEqual(mondays);
    expect(byManager.get('ma@example.com')).toContain('2027-03-29T06:00:00.000Z'); // 08:00 CEST after the change
    expect(byManager.get('mb@example.com')!.map((t) => t.slice(0, 10))).toEqual(mondays);
  });
});
