// Marking attendance over HTTP: each entry is matched to its session and enrollment in one read; entries that match none are reported by index, nothing is half-recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedProgram, type Seeded } from '../../bench/seed.js';
import { startTestService, type TestService } from '../support/service.js';

describe('attendance over HTTP', () => {
  let svc: TestService;
  let a: Seeded;
  let otherProgramSession: string;

  beforeAll(async () => {
    svc = await startTestService({ seedDemo: false });
    const store = svc.service.runtime.ctx.store;
    a = await seedProgram(store, { tenantId: 'default', learners: 120, perSession: 50, launched: false, now: Date.now(), code: 'ATT-A' });
    const now = new Date().toISOString();
    const b = { ...a.program, id: 'program-b', code: 'ATT-B', createdAt: now };
    await store.insertProgram(b);
    await store.insertSession({ ...a.sessions[0]!, id: 'session-b', programId: b.id }, now);
    otherProgramSession = 'session-b';
  });
  afterAll(async () => svc?.close());

  const enrollmentOf = async (sessionId: string, email: string) => {
    const st = svc.service.runtime.ctx.store;
    const learner = (await st.learnerByEmail('default', email))!;
    return (await st.listEnrollments('default', { sessionId, learnerId: learner.id }))[0]!;
  };

  it('when entries name enrolled learners (in any letter case), then their attendance is stored and the rest is untouched', async () => {
    const [s0, s1] = [a.samples[0]!, a.samples[a.samples.length - 1]!];
    const res = await svc.api('POST', `/api/programs/${a.program.id}/attendance`, { entries: [{ ...s0, email: s0.email.toUpperCase(), attendance: 'late' }, { ...s1, attendance: 'present' }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ updated: 2 });
    expect((await enrollmentOf(s0.sessionId, s0.email)).attendance).toBe('late');
    expect((await enrollmentOf(s1.sessionId, s1.email)).attendance).toBe('present');
    expect((await enrollmentOf(a.samples[1]!.sessionId, a.samples[1]!.email)).attendance).toBeNull();
  });

  it("when entries name another program's session, a stranger, a learner of another session or a cancelled enrollment, then nothing is recorded and each is reported by index", async () => {
    const st = svc.service.runtime.ctx.store;
    const ok = a.samples[2]!;
    const cancelled = a.samples[3]!;
    await st.updateEnrollment('default', (await enrollmentOf(cancelled.sessionId, cancelled.email)).id, { status: 'cancelled' }, new Date().toISOString());
    const otherSession = a.sessions.find((s) => s.id !== ok.sessionId)!;
    const res = await svc.api('POST', `/api/programs/${a.program.id}/attendance`, {
      entries: [
        { ...ok, attendance: 'absent' },
        { sessionId: otherProgramSession, email: ok.email, attendance: 'present' },
        { sessionId: ok.sessionId, email: 'nobody@example.com', attendance: 'present' },
        { sessionId: otherSession.id, email: ok.email, attendance: 'present' },
        { ...cancelled, attendance: 'present' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual([
      { field: 'entries.1.sessionId', message: `no session ${otherProgramSession} in ATT-A` },
      { field: 'entries.2.email', message: `nobody@example.com is not enrolled in ${a.sessions.find((s) => s.id === ok.sessionId)!.label}` },
      { field: 'entries.3.email', message: `${ok.email} is not enrolled in ${otherSession.label}` },
      { field: 'entries.4.email', message: `${cancelled.email} is not enrolled in ${a.sessions.find((s) => s.id === cancelled.sessionId)!.label}` },
    ]);
    expect((await enrollmentOf(ok.sessionId, ok.email)).attendance).toBeNull();
  });
});
