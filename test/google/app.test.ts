// The whole Muster service on Google Workspace (the emulator): a 3-session, 60-learner launch, reminders by Gmail, and the shared Sheet as people use it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/index.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import { startTestService, type TestService } from '../support/service.js';
import { runDue } from '../../src/app/jobs.js';
import { simpleParser } from 'mailparser';

const COORDINATOR = 'coord@acme.example';

/** RFC 2047 encoded words in a raw header, decoded (subjects with non-ASCII characters arrive that way). */
function decodeWords(header: string): string {
  return header
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
      enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64').toString('utf8') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}
const TRICKY = '=HYPERLINK("http://x","y")';

describe('Muster on Google Workspace', () => {
  let emulator: GoogleEmulator;
  let svc: TestService;
  let spreadsheetId: string;

  beforeAll(async () => {
    // One simulated clock for the emulator's quotas and Muster's schedule, so minutes pass without waiting.
    emulator = await startGoogleEmulator({ meetPendingReads: 1, simulatedClock: true, startTime: Date.parse('2027-04-01T08:00:00Z') });
    emulator.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
    const key = emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES });
    spreadsheetId = emulator.state.createSpreadsheet('Muster records');
    const dir = mkdtempSync(join(tmpdir(), 'muster-google-'));
    const keyFile = join(dir, 'key.json');
    writeFileSync(keyFile, JSON.stringify(key));
    svc = await startTestService({
      seedDemo: false,
      env: {
        MUSTER_PROVIDER: 'google',
        GOOGLE_SERVICE_ACCOUNT_KEY_FILE: keyFile,
        GOOGLE_IMPERSONATE: COORDINATOR,
        GOOGLE_SPREADSHEET_ID: spreadsheetId,
        GOOGLE_API_ROOT_URL: emulator.rootUrl,
        GOOGLE_TOKEN_URL: emulator.tokenUrl,
      },
    });
    svc.service.runtime.ctx.clock = { now: () => new Date(emulator.clock.now()) };

    const sessions = [1, 2, 3].map((n) => ({
      label: `Day ${n}`,
      start: `2027-05-1${n}T09:00`,
      end: `2027-05-1${n}T12:00`,
      zone: 'Europe/Berlin',
      room: 'Room Ada',
      roomEmail: 'room-ada@resource.acme.example',
      backupPlan: 'Room Grace',
      instructors: ['ines@acme.example'],
      capacity: 100,
    }));
    const created = await svc.api('POST', '/api/programs', { name: 'Security Basics', code: 'SEC101', owner: COORDINATOR, sessions });
    expect(created.status).toBe(201);
    const rows = ['Email,Name,Manager Email,Time Zone'];
    for (let i = 1; i <= 60; i++) rows.push(`learner${i}@acme.example,${i === 7 ? `"${TRICKY.replace(/"/g, '""')}"` : `Learner ${i}`},boss${i % 3}@acme.example,Europe/Berlin`);
    const imported = await svc.api('POST', '/api/programs/SEC101/roster', rows.join('\n'));
    expect(imported.body.imported).toBe(60);
    const launch = await svc.api('POST', '/api/programs/SEC101/launch', { force: true, reason: 'test program without owners' });
    expect(launch.status, JSON.stringify(launch.body)).toBe(200);
    await svc.runDue();
  }, 180_000);

  afterAll(async () => {
    await svc?.close();
    await emulator?.close();
  });

  it('when the program launches, then there are 3 events with Meet links, the room and invitations sent by the calendar', () => {
    const events = emulator.state.events(COORDINATOR).filter((e) => e.status !== 'cancelled');
    expect(events).toHaveLength(3);
    for (const e of events) {
      expect(e.hangoutLink ?? e.conferenceData?.entryPoints?.[0]?.uri).toBeTruthy();
      const emails = (e.attendees as Array<{ email: string; resource?: boolean }>).map((a) => a.email);
      expect(emails).toContain('room-ada@resource.acme.example');
      expect(emails.filter((x) => x.startsWith('learner'))).toHaveLength(60);
    }
    const invites = emulator.state.invitationsSent().filter((i) => i.kind === 'invite' && i.email.startsWith('learner'));
    expect(invites).toHaveLength(180);
    // Google sends the invitations; Muster sends no invitation mail of its own.
    expect(emulator.state.sentMessages(COORDINATOR).filter((m) => /invite/i.test(m.subject ?? ''))).toHaveLength(0);
  });

  it('when the Sheet is written, then it has every tab and a learner named like a formula reads back as that exact text', () => {
    const sheet = emulator.state.spreadsheet(spreadsheetId);
    expect(sheet.tabs()).toEqual(expect.arrayContaining(['Roster', 'Sessions', 'Attendance', 'Completion', 'Managers', 'Questions', 'Checklist', 'Messages']));
    const roster = sheet.values('Roster');
    const header = roster[0]!;
    const name = roster.find((r) => r[header.indexOf('Email')] === 'learner7@acme.example')![header.indexOf('Name')];
    expect(name).toBe(TRICKY);
  });

  it('when run-due runs one day before the first session, then each learner gets one Gmail reminder, once', async () => {
    emulator.clock.advance(Date.parse('2027-05-10T07:00:00Z') - emulator.clock.now());
    // Everything due now goes out within the mailbox's per-minute budget, a simulated minute at a time.
    for (let minute = 0; minute < 15; minute++) {
      await runDue(svc.service.runtime.ctx);
      emulator.clock.advance(60_000);
    }
    await runDue(svc.service.runtime.ctx);
    const sent = emulator.state.sentMessages(COORDINATOR);
    const reminders = sent.filter((m) => /Day 1/.test(decodeWords(m.subject ?? '')) && /learner/.test(m.to ?? ''));
    const perLearner = new Map<string, number>();
    for (const m of reminders) {
      const to = /<([^>]+)>/.exec(m.to ?? '')?.[1] ?? m.to ?? '';
      perLearner.set(to, (perLearner.get(to) ?? 0) + 1);
    }
    expect(perLearner.size).toBe(60);
    expect([...perLearner.values()].every((n) => n === 1)).toBe(true);
    // The session has no link of its own: the reminder carries the Meet link Google created for its event.
    const day1 = emulator.state.events(COORDINATOR).find((e) => /Day 1/.test(String(e.summary)) && e.status !== 'cancelled')!;
    const meet = String(day1.hangoutLink);
    expect(meet).toMatch(/^https:\/\/meet\.google\.com\//);
    for (const m of reminders.slice(0, 3)) {
      const parsed = await simpleParser(Buffer.from(m.raw, 'base64url'));
      expect(parsed.text).toContain(`Join online: ${meet}`);
      expect(String(parsed.html)).toContain(`<a href="${meet}">`);
    }
  });

  it('when the records are written, then each manager has a saved filter view of their people on Attendance and Completion', () => {
    const sheet = emulator.state.spreadsheet(spreadsheetId);
    for (const tab of ['Attendance', 'Completion']) {
      const views = (sheet.sheet(tab).filterViews ?? []) as Array<{ title: string; filterSpecs: Array<{ filterCriteria: { condition: { values: Array<{ userEnteredValue: string }> } } }> }>;
      expect(views.map((v) => v.title).sort()).toEqual(['Muster: boss0@acme.example', 'Muster: boss1@acme.example', 'Muster: boss2@acme.example']);
      expect(views[0]!.filterSpecs[0]!.filterCriteria.condition.values[0]!.userEnteredValue).toMatch(/^boss\d@acme\.example$/);
    }
  });

  it('when a manager sorts the Attendance tab and Muster then marks an attendance, then the right row changes', async () => {
    emulator.state.sortSheet(spreadsheetId, 'Attendance', { column: 'Email', descending: true });
    const state = await svc.api('GET', '/api/programs/SEC101/sessions');
    const day1 = state.body.find((s: { label: string }) => s.label === 'Day 1');
    const r = await svc.api('POST', `/api/sessions/${day1.id}/attendance`, { entries: [{ email: 'learner42@acme.example', attendance: 'present' }] });
    expect(r.status).toBe(200);
    await svc.runDue();
    const values = emulator.state.spreadsheet(spreadsheetId).values('Attendance');
    const h = values[0]!;
    const marked = values.filter((row) => row[h.indexOf('Attendance')] === 'Present');
    expect(marked).toHaveLength(1);
    expect(marked[0]![h.indexOf('Email')]).toBe('learner42@acme.example');
    expect(marked[0]![h.indexOf('Session ID')]).toBe(day1.id);
  });

  it('when a manager adds two learners and edits a Completion cell, then the next sync imports one, explains the other, and keeps the edit as a conflict', async () => {
    const roster = emulator.state.spreadsheet(spreadsheetId).values('Roster');
    const h = roster[0]!;
    const row = (values: Record<string, string>) => h.map((col) => values[col] ?? '');
    emulator.state.insertRowsAsUser(spreadsheetId, 'Roster', roster.length + 1, [
      row({ Email: 'newbie@acme.example', Name: 'New Bie', 'Manager Email': 'boss1@acme.example', 'Time Zone': 'Europe/Berlin', Session: 'Day 3' }),
      row({ Name: 'No Email', 'Manager Email': 'boss1@acme.example', 'Time Zone': 'Europe/Berlin' }),
    ]);
    const completion = emulator.state.spreadsheet(spreadsheetId).values('Completion');
    const ch = completion[0]!;
    const statusCol = String.fromCharCode(65 + ch.indexOf('Status'));
    emulator.state.setCellAsUser(spreadsheetId, 'Completion', `${statusCol}2`, 'Done (paper form)');

    const sync = await svc.api('POST', '/api/programs/SEC101/sync');
    expect(sync.status, JSON.stringify(sync.body)).toBe(200);
    expect(sync.body.imported).toBe(1);
    expect(sync.body.rejected).toBe(1);
    expect(sync.body.conflicts).toEqual([expect.objectContaining({ tab: 'Completion', column: 'Status', theirs: 'Done (paper form)' })]);

    const after = emulator.state.spreadsheet(spreadsheetId).values('Roster');
    const ah = after[0]!;
    expect(after.filter((r) => r[ah.indexOf('Email')] === 'newbie@acme.example')).toHaveLength(1);
    const noEmail = after.find((r) => r[ah.indexOf('Name')] === 'No Email')!;
    expect(noEmail[ah.indexOf('Status')]).toContain('missing email');
    expect(emulator.state.spreadsheet(spreadsheetId).values('Completion')[1]![ch.indexOf('Status')]).toBe('Done (paper form)');
    const learners = await svc.api('GET', '/api/programs/SEC101/roster');
    expect(learners.body.learners.map((l: { email: string }) => l.email)).toContain('newbie@acme.example');
  });

  it('when a learner\'s mail bounces, then the next sync marks them undeliverable on the roster and the checklist', async () => {
    emulator.state.addBounce(COORDINATOR, { recipient: 'learner9@acme.example' });
    await svc.api('POST', '/api/programs/SEC101/sync');
    const roster = emulator.state.spreadsheet(spreadsheetId).values('Roster');
    const h = roster[0]!;
    expect(roster.find((r) => r[h.indexOf('Email')] === 'learner9@acme.example')![h.indexOf('Status')]).toBe('Undeliverable');
    const checklist = await svc.api('GET', '/api/programs/SEC101/checklist');
    expect(checklist.body.items.find((i: { id: string }) => i.id === 'roster.undeliverable').reason).toContain('learner9@acme.example');
  });

  it('when the suite has run, then every request body the emulator received validated against the discovery documents', () => {
    expect(emulator.violations()).toEqual([]);
  });
});
