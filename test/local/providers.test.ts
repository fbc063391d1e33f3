// Tests the local provider set end to end: a session becomes an ICS event ref, its invitation mail lands in the outbox or at an SMTP server, and records go to the data folder.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { TABS } from '../../src/domain/records.js';
import type { SessionEvent } from '../../src/ports/index.js';
import { toSessionInvite, uidForCreateKey } from '../../src/providers/local/ics-calendar.js';
import { createLocalProviders } from '../../src/providers/local/index.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { recordingLogger, sampleMessage, tempDir } from './helpers.js';

function sessionEvent(overrides: Partial<SessionEvent> = {}): SessionEvent {
  return {
    tenantId: 'tenant-a',
    sessionId: 'session-1',
    createKey: 'tenant-a:session-1:g0',
    subject: 'Security 101: Cohort A, day 1',
    bodyHtml: '<p>Bring your laptop.</p>',
    bodyText: 'Bring your laptop.',
    start: '2026-03-30T07:00:00.000Z',
    end: '2026-03-30T09:00:00.000Z',
    zone: 'Europe/Berlin',
    location: 'Room 4.12',
    roomEmail: null,
    onlineUrl: null,
    wantOnlineMeeting: false,
    organizer: { name: 'Ina Coordinator', email: 'ina@example.org' },
    attendees: [{ name: 'Lea Learner', email: 'lea@example.org', role: 'learner' }],
    sequence: 0,
    ...overrides,
  };
}

describe('local providers', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('local');
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('when a session is ensured and updated, then the event ref is its UID, stable across updates and new for a new generation', async () => {
    const { calendar } = createLocalProviders({ dataDir: dir.path, logger: recordingLogger() });
    expect(calendar.invitesByMail).toBe(true);
    const ref = await calendar.ensureEvent(sessionEvent());
    expect(ref.externalId).toBe(uidForCreateKey('tenant-a:session-1:g0'));
    expect(ref.externalId).toMatch(/^[0-9a-f]{32}@muster\.local$/);
    expect(await calendar.ensureEvent(sessionEvent())).toEqual(ref);
    const moved = await calendar.updateEvent(ref, sessionEvent({ start: '2026-03-31T07:00:00.000Z', end: '2026-03-31T09:00:00.000Z', sequence: 1 }));
    expect(moved.externalId).toBe(ref.externalId);
    const reborn = await calendar.ensureEvent(sessionEvent({ createKey: 'tenant-a:session-1:g1' }));
    expect(reborn.externalId).not.toBe(ref.externalId);
    expect(await calendar.readResponses(ref)).toEqual([]);
    expect((await calendar.freeBusy(['lea@example.org'], '2026-03-30T00:00:00Z', '2026-03-31T00:00:00Z')).size).toBe(0);
    expect(await calendar.readiness()).toEqual([]);
  });

  it('when a Berlin 09:00 session after the DST change is invited through the outbox, then the mail’s calendar part starts at 09:00 Berlin time', async () => {
    const providers = createLocalProviders({ dataDir: dir.path, logger: recordingLogger() });
    expect(providers.mailer.provider).toBe('outbox');
    // 29 March 2026 is the switch to summer time in Europe/Berlin; the sessions straddle it.
    for (const [day, sessionId] of [['2026-03-27', 's-before'], ['2026-03-30', 's-after']] as const) {
      const local = DateTime.fromISO(`${day}T09:00`, { zone: 'Europe/Berlin' });
      const ev = sessionEvent({ sessionId, createKey: `tenant-a:${sessionId}:g0`, start: local.toUTC().toISO()!, end: local.plus({ hours: 2 }).toUTC().toISO()! });
      const ref = await providers.calendar.ensureEvent(ev);
      const learner = ev.attendees[0]!;
      const outcome = await providers.mailer.send(
        sampleMessage({ key: `invite:${sessionId}:lea`, messageId: `<invite-${sessionId}-lea@muster.local>`, calendar: { method: 'REQUEST', ics: toSessionInvite(ev, learner, 'REQUEST', '2026-03-01T10:00:00Z') } }),
      );
      expect(outcome.status).toBe('sent');
      const file = (await readdir(providers.outboxDir)).find((f) => f.startsWith(`invite_${sessionId}_lea`))!;
      const parsed = await simpleParser(await readFile(join(providers.outboxDir, file)));
      const part = parsed.attachments.find((a) => a.contentType === 'text/calendar')!;
      const vevent = new ICAL.Component(ICAL.parse(part.content.toString('utf8'))).getFirstSubcomponent('vevent')!;
      expect(vevent.getFirstPropertyValue('uid')).toBe(ref.externalId);
      const dtstart = vevent.getFirstPropertyValue('dtstart') as ICAL.Time;
      expect(DateTime.fromJSDate(dtstart.toJSDate(), { zone: 'Europe/Berlin' }).toFormat('yyyy-MM-dd HH:mm')).toBe(`${day} 09:00`);
    }
  });

  it('when SMTP_URL is set, then the mailer sends over SMTP and writes no outbox', async () => {
    const server = await startSmtpServer();
    try {
      const providers = createLocalProviders({ dataDir: dir.path, smtpUrl: server.url, logger: recordingLogger() });
      expect(providers.mailer.provider).toBe('smtp');
      expect(providers.mailer.canSettle).toBe(false);
      expect((await providers.mailer.send(sampleMessage())).status).toBe('sent');
      expect(server.messages).toHaveLength(1);
      await expect(stat(providers.outboxDir)).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('when records are asked for by program, then the workbook lives in the records folder and a path-like name is refused', async () => {
    const providers = createLocalProviders({ dataDir: dir.path, logger: recordingLogger() });
    const records = providers.recordsFor('SEC101');
    expect(providers.recordsFor('SEC101.xlsx')).toBe(records);
    await records.ensureTabs([TABS.roster]);
    expect((await readdir(join(dir.path, 'records')))).toEqual(['SEC101.xlsx']);
    for (const bad of ['../escape', 'a/b.xlsx', '', '.hidden']) {
      try {
        providers.recordsFor(bad);
        expect.unreachable(`accepted ${bad}`);
      } catch (err) {
        expect(isMusterError(err, 'VALIDATION_FAILED')).toBe(true);
      }
    }
  });
});
