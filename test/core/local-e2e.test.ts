// A whole program on embedded defaults, through the real service: invites, RSVP links, attendance into the workbook, roster import.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import ICAL from 'ical.js';
import { join } from 'node:path';
import { startTestService, type TestService } from '../support/service.js';
import { workbookRows } from '../support/xlsx.js';

function calendarPart(raw: string): string {
  const m = /Content-Type: text\/calendar[^\r\n]*(?:\r?\n[^\r\n]+)*\r?\n\r?\n([\s\S]*?)\r?\n--/i.exec(raw);
  if (!m) throw new Error('no text/calendar part');
  const header = m[0];
  const body = m[1]!;
  if (/Content-Transfer-Encoding:\s*base64/i.test(header)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/Content-Transfer-Encoding:\s*quoted-printable/i.test(header)) return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
  return body;
}


describe('a program on embedded defaults', () => {
  let svc: TestService;
  let programId: string;

  beforeAll(async () => {
    svc = await startTestService();
    const programs = await svc.api('GET', '/api/programs');
    programId = programs.body[0].id;
  });
  afterAll(async () => svc?.close());

  it('when the service starts on an empty data folder, then /healthz answers and the demo has sessions and learners', async () => {
    const h = await fetch(svc.url + '/healthz');
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ ok: true });
    const p = await svc.api('GET', '/api/programs');
    expect(p.body).toHaveLength(1);
    expect(p.body[0].sessions).toBeGreaterThanOrEqual(2);
    expect(p.body[0].learners).toBeGreaterThanOrEqual(8);
  });

  it('when the demo launched, then the outbox holds one invite per learner per session, each a calendar REQUEST', async () => {
    const report = await svc.api('GET', `/api/programs/${programId}/report`);
    const expected = report.body.learners.reduce((n: number, l: { sessions: Array<{ status: string }> }) => n + l.sessions.filter((s) => s.status === 'enrolled').length, 0);
    const invites = svc.outbox().filter((m) => m.file.startsWith('invite'));
    expect(invites).toHaveLength(expected);
    const uids = new Map<string, number>();
    for (const m of invites) {
      const mail = await simpleParser(m.raw);
      expect(mail.messageId).toMatch(/^<muster\./);
      const ics = calendarPart(m.raw);
      const cal = new ICAL.Component(ICAL.parse(ics));
      expect(cal.getFirstPropertyValue('method')).toBe('REQUEST');
      const ev = cal.getFirstSubcomponent('vevent')!;
      for (const prop of ['uid', 'dtstamp', 'dtstart', 'organizer', 'attendee']) expect(ev.getFirstProperty(prop), prop).toBeTruthy();
      expect(ev.getAllProperties('attendee')).toHaveLength(1);
      const attendee = String(ev.getFirstPropertyValue('attendee')).toLowerCase();
      expect(attendee).toBe(`mailto:${(mail.to as { value: Array<{ address: string }> }).value[0]!.address}`.toLowerCase());
      const tzid = ev.getFirstProperty('dtstart')!.getParameter('tzid');
      if (tzid) expect(cal.getAllSubcomponents('vtimezone').map((z) => z.getFirstPropertyValue('tzid'))).toContain(tzid);
      const uid = String(ev.getFirstPropertyValue('uid'));
      uids.set(uid, (uids.get(uid) ?? 0) + 1);
    }
    // One UID per session, shared by every learner's invitation to it.
    expect(uids.size).toBe(report.body.sessions.length);
  });

  it('when a learner follows the Decline link, then the roster records the decline; a tampered link is refused', async () => {
    const invite = svc.outbox().find((m) => m.file.startsWith('invite'))!;
    const mail = await simpleParser(invite.raw);
    const links = (mail.text ?? '').match(/https?:\/\/\S+\/rsvp\/\S+/g)!;
    expect(links).toHaveLength(3);
    const decline = links[2]!;
    const tampered = decline.slice(0, -3) + (decline.endsWith('AAA') ? 'BBB' : 'AAA');
    const bad = await fetch(tampered);
    expect(bad.status).toBe(403);
    const ok = await fetch(decline);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('You declined');
    const to = (mail.to as { value: Array<{ address: string }> }).value[0]!.address;
    const roster = await svc.api('GET', `/api/programs/${programId}/roster`);
    const learner = roster.body.learners.find((l: { email: string }) => l.email === to);
    expect(learner.enrollments.map((e: { rsvp: string }) => e.rsvp)).toContain('declined');
    // Declining does not cancel the seat: the coordinator decides.
    expect(learner.enrollments.every((e: { status: string }) => e.status === 'enrolled')).toBe(true);
  });

  it('when attendance is marked through the API, then the workbook and /reports say the same', async () => {
    const state = await svc.api('GET', `/api/programs/${programId}`);
    const session = state.body.sessions[0];
    const roster = await svc.api('GET', `/api/programs/${programId}/roster`);
    const [a, b] = roster.body.learners as Array<{ email: string }>;
    const r = await svc.api('POST', `/api/sessions/${session.id}/attendance`, { entries: [{ email: a!.email, attendance: 'present' }, { email: b!.email, attendance: 'absent' }] });
    expect(r.status).toBe(200);
    expect(r.body.updated).toBe(2);
    await svc.api('POST', `/api/programs/${programId}/completions`, { entries: [{ email: a!.email, completedAt: '2026-12-20', score: 91 }] });
    await svc.api('POST', `/api/programs/${programId}/sync`);
    const file = join(svc.dataDir, 'records', 'SEC101.xlsx');
    const attendance = await workbookRows(file, 'Attendance');
    const rowA = attendance.find((x) => x.Email === a!.email && x['Session ID'] === session.id)!;
    const rowB = attendance.find((x) => x.Email === b!.email && x['Session ID'] === session.id)!;
    expect(rowA.Attendance).toBe('Present');
    expect(rowB.Attendance).toBe('Absent');
    const report = await svc.api('GET', `/api/programs/${programId}/report`);
    const s0 = report.body.sessions.find((s: { id: string }) => s.id === session.id);
    expect(s0.present).toBe(attendance.filter((x) => x['Session ID'] === session.id && x.Attendance === 'Present').length);
    expect(s0.absent).toBe(attendance.filter((x) => x['Session ID'] === session.id && x.Attendance === 'Absent').length);
    const completion = await workbookRows(file, 'Completion');
    expect(completion.filter((x) => x.Status === 'Completed')).toHaveLength(report.body.totals.completed);
    expect(completion.find((x) => x.Email === a!.email)!.Status).toBe('Completed');
    // Scores stay out of the managers' workbook unless the program shows them.
    expect(completion.find((x) => x.Email === a!.email)!.Score).toBeNull();
  });

  it('when a roster CSV has 3 bad rows among 100, then 97 are imported and the 3 are reported with row numbers and kept', async () => {
    const created = await svc.api('POST', '/api/programs', {
      name: 'Data Handling',
      code: 'DATA200',
      owner: 'training@example.com',
      sessions: [{ label: 'Cohort A', start: '2027-03-02T09:00', end: '2027-03-02T11:00', zone: 'Europe/Berlin', capacity: 200, room: 'Room 1', backupPlan: 'Room 2', instructors: ['ines@example.com'] }],
    });
    expect(created.status).toBe(201);
    const lines = ['Email,Name,Manager Email,Time Zone,Department'];
    for (let i = 0; i < 100; i++) lines.push(`p${i}@example.com,Person ${i},boss@example.com,Europe/Berlin,Ops`);
    lines[10] = ',No Email,boss@example.com,Europe/Berlin,Ops'; // row 11
    lines[20] = 'p19x@example.com,Bad Zone,boss@example.com,Mars/Olympus,Ops'; // row 21
    lines[30] = 'p5@example.com,Duplicate,boss@example.com,Europe/Berlin,Ops'; // row 31
    const r = await svc.api('POST', '/api/programs/DATA200/roster', lines.join('\n'));
    expect(r.status).toBe(200);
    expect(r.body.imported).toBe(97);
    expect(r.body.rejected.map((x: { row: number }) => x.row)).toEqual([11, 21, 31]);
    expect(r.body.rejected[0].reasons[0]).toMatchObject({ field: 'email', message: 'missing email', row: 11 });
    expect(r.body.rejected[1].reasons[0].message).toContain('Mars/Olympus');
    expect(r.body.rejected[2].reasons[0].message).toContain('duplicate');
    const roster = await svc.api('GET', '/api/programs/DATA200/roster');
    expect(roster.body.learners).toHaveLength(97);
    expect(roster.body.rejected.map((x: { rowNumber: number }) => x.rowNumber)).toEqual([11, 21, 31]);
    expect(roster.body.rejected[1].data.Name).toBe('Bad Zone');
  });

  it('when input is invalid, then the error names the field', async () => {
    const r = await svc.api('POST', '/api/programs', { name: 'X', code: 'bad code!', owner: 'not-an-email' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    const fields = r.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['code', 'owner']));
  });

  it('when no token or a wrong token is sent, then the API answers 401', async () => {
    expect((await fetch(svc.url + '/api/programs')).status).toBe(401);
    expect((await fetch(svc.url + '/api/programs', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('when /openapi.json is read, then it describes the routes with their request schemas', async () => {
    const doc = (await (await fetch(svc.url + '/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> };
    expect(doc.openapi).toBe('3.1.0');
    const create = doc.paths['/api/programs']!.post!;
    expect(Object.keys(create.requestBody!.content['application/json']!.schema.properties!)).toEqual(expect.arrayContaining(['name', 'code', 'owner', 'sessions']));
    expect(doc.paths['/api/programs/{programId}/roster']!.post!.requestBody!.content['text/csv']).toBeTruthy();
  });
});
