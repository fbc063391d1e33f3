// Changes after launch on the local providers: a move sends one update per learner, a cancellation tells everyone, the waitlist moves up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { simpleParser } from 'mailparser';
import { startTestService, type TestService } from '../support/service.js';

function keyOf(raw: string): string {
  return /X-Muster-Key:\s*([^\r\n]+)/i.exec(raw.replace(/\r?\n[ \t]+/g, ' '))![1]!.trim();
}

async function calendarOf(raw: string): Promise<ICAL.Component> {
  const mail = await simpleParser(raw);
  const part = mail.attachments.find((a) => a.contentType.startsWith('text/calendar')) ?? null;
  const text = part ? part.content.toString('utf8') : /BEGIN:VCALENDAR[\s\S]*END:VCALENDAR/.exec(raw)![0];
  return new ICAL.Component(ICAL.parse(text));
}

describe('changes after launch', () => {
  let svc: TestService;
  let sessionId: string;

  beforeAll(async () => {
    svc = await startTestService({ seedDemo: false });
    const created = await svc.api('POST', '/api/programs', {
      name: 'First Aid',
      code: 'AID1',
      owner: 'coordinator@example.com',
      owners: { missedSessions: 'coordinator@example.com', lateCompletions: 'coordinator@example.com', questions: 'coordinator@example.com', improvements: 'coordinator@example.com' },
      audience: 'Floor wardens',
      enrollmentPath: 'Nominated by managers',
      materials: [{ title: 'Handbook', link: 'https://intranet.example.com/aid', owner: 'coordinator@example.com', lastReviewed: '2026-11-01' }],
      sessions: [
        { label: 'Morning', start: '2027-06-10T09:00', end: '2027-06-10T12:00', zone: 'Europe/Paris', room: 'Room A', backupPlan: 'Room B', instructors: ['medic@example.com'], capacity: 2 },
        { label: 'Later', start: '2027-06-24T09:00', end: '2027-06-24T12:00', zone: 'Europe/Paris', room: 'Room A', backupPlan: 'Room B', instructors: ['medic@example.com'], capacity: 5 },
      ],
    });
    expect(created.status).toBe(201);
    sessionId = created.body.sessions[0].id;
    const csv = ['Email,Name,Manager Email,Time Zone,Session', 'a@example.com,A,m@example.com,Europe/Paris,Morning', 'b@example.com,B,m@example.com,Europe/Paris,Morning', 'c@example.com,C,m@example.com,Europe/Paris,Morning'].join('\n');
    const imported = await svc.api('POST', '/api/programs/AID1/roster', csv);
    expect(imported.body).toMatchObject({ imported: 3, enrolled: 2, waitlisted: 1 });
    await svc.api('PATCH', '/api/programs/AID1', { rosterApproved: true });
    const launch = await svc.api('POST', '/api/programs/AID1/launch', {});
    expect(launch.status, JSON.stringify(launch.body)).toBe(200);
    await svc.runDue();
  });
  afterAll(async () => svc?.close());

  it('when the program launches with a full session, then only enrolled learners get invites and the third waits', async () => {
    const invites = svc.outbox().filter((m) => keyOf(m.raw).startsWith('invite:'));
    expect(invites).toHaveLength(2);
    const state = await svc.api('GET', `/api/sessions/${sessionId}/state`);
    expect(state.body.counts).toMatchObject({ enrolled: 2, waitlisted: 1 });
  });

  it('when a session moves, then each learner gets one update with a higher SEQUENCE and the new time, and unsent reminders move', async () => {
    const before = await svc.service.runtime.ctx.store.listJobs('default', { sessionId, status: ['pending'], kind: 'reminder' });
    const moved = await svc.api('PATCH', `/api/sessions/${sessionId}`, { start: '2027-06-11T14:00', end: '2027-06-11T17:00' });
    expect(moved.status).toBe(200);
    expect(moved.body.sequence).toBe(1);
    await svc.runDue();
    const updates = svc.outbox().filter((m) => keyOf(m.raw).startsWith('session-moved:'));
    expect(updates).toHaveLength(2);
    for (const u of updates) {
      const ev = (await calendarOf(u.raw)).getFirstSubcomponent('vevent')!;
      expect(Number(ev.getFirstPropertyValue('sequence'))).toBe(1);
      expect((ev.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString()).toBe('2027-06-11T12:00:00.000Z');
    }
    const after = await svc.service.runtime.ctx.store.listJobs('default', { sessionId, status: ['pending'], kind: 'reminder' });
    expect(after.map((j) => j.key).sort()).toEqual(before.map((j) => j.key).sort());
    expect(after.every((j) => !before.some((b) => b.key === j.key && b.run_at === j.run_at))).toBe(true);
  });

  it('when an enrolled learner cancels, then the first on the waitlist takes the seat and gets the invitation', async () => {
    const state = await svc.api('GET', `/api/sessions/${sessionId}/state`);
    const a = state.body.learners.find((l: { email: string }) => l.email === 'a@example.com');
    const r = await svc.api('POST', `/api/enrollments/${a.enrollmentId}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body.promoted).toHaveLength(1);
    await svc.runDue();
    const toC = [];
    for (const m of svc.outbox()) {
      const mail = await simpleParser(m.raw);
      if ((mail.to as { text: string }).text.includes('c@example.com')) toC.push(keyOf(m.raw));
    }
    expect(toC.filter((k) => k.startsWith('invite:'))).toHaveLength(1);
    const after = await svc.api('GET', `/api/sessions/${sessionId}/state`);
    expect(after.body.counts).toMatchObject({ enrolled: 2, waitlisted: 0 });
  });

  it('when a session is cancelled, then everyone enrolled gets a CANCEL for the same UID and no reminder follows', async () => {
    const invite = svc.outbox().find((m) => keyOf(m.raw).startsWith('invite:'))!;
    const uid = (await calendarOf(invite.raw)).getFirstSubcomponent('vevent')!.getFirstPropertyValue('uid');
    const r = await svc.api('POST', `/api/sessions/${sessionId}/cancel`, { message: 'The trainer is ill; we will offer a new date.' });
    expect(r.status).toBe(200);
    await svc.runDue();
    const cancels = svc.outbox().filter((m) => keyOf(m.raw).startsWith('session-cancelled:'));
    expect(cancels).toHaveLength(2);
    for (const c of cancels) {
      const cal = await calendarOf(c.raw);
      expect(cal.getFirstPropertyValue('method')).toBe('CANCEL');
      expect(cal.getFirstSubcomponent('vevent')!.getFirstPropertyValue('uid')).toBe(uid);
    }
    const pending = await svc.service.runtime.ctx.store.listJobs('default', { sessionId, status: ['pending'] });
    expect(pending).toHaveLength(0);
  });

  it('when the feed link is created, then it serves the sessions without attendees, and rotating it revokes the old link', async () => {
    const first = await svc.api('POST', '/api/programs/AID1/feed-token');
    const res = await fetch(first.body.url);
    expect(res.status).toBe(200);
    const text = await res.text();
    const cal = new ICAL.Component(ICAL.parse(text));
    expect(cal.getAllSubcomponents('vevent')).toHaveLength(2);
    expect(text).not.toMatch(/ATTENDEE|a@example\.com|b@example\.com/);
    const second = await svc.api('POST', '/api/programs/AID1/feed-token');
    expect((await fetch(first.body.url)).status).toBe(404);
    expect((await fetch(second.body.url)).status).toBe(200);
  });
});
