// Builders for the scale tests: programs, sessions and learners as plain domain data, and bulk seeding of a store (many rows in few statements).
import { randomUUID } from 'node:crypto';
import type { Learner, Program, Session } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';

export function makeProgram(id: string, tenantId: string, over: Partial<Program> = {}): Program {
  return {
    id, tenantId, name: `Program ${id}`, code: id.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 12) || 'P', owner: 'owner@example.com', audience: 'everyone', agenda: 'agenda',
    materials: [], reviewWindowDays: 180, assessmentName: null, showScoresToManagers: false, enrollmentPath: null, rosterApproved: true, status: 'launched', clonedFrom: null,
    createdAt: new Date().toISOString(),
    owners: { missedSessions: 'owner@example.com', lateCompletions: 'owner@example.com', questions: 'owner@example.com', improvements: 'owner@example.com' },
    policy: { offsetsMinutes: [1440, 60], prerequisiteMinutes: null, followUpMinutes: null, completionDueDays: null, escalateAfterDays: 0, recertifyAfterDays: null, recertifyNoticeDays: 30, digest: null, quietHours: null },
    ...over,
  };
}

export function makeSession(id: string, program: Program, start: Date, over: Partial<Session> = {}): Session {
  return {
    id, tenantId: program.tenantId, programId: program.id, label: id, start: start.toISOString(), end: new Date(start.getTime() + 2 * 3600_000).toISOString(), zone: 'Europe/Berlin',
    room: 'Room 1', roomEmail: null, onlineUrl: null, backupPlan: 'room 2', instructors: ['trainer@example.com'], capacity: 100_000, status: 'scheduled', generation: 0, sequence: 0, ...over,
  };
}

/**
 * Seeds `learners` enrolled learners spread over the sessions, each with one reminder job due at `dueAt`.
 * Returns the jobs' keys. Bulk inserts through the store's query builder: the use cases are not what is measured here.
 */
export async function seedDueReminders(store: Store, program: Program, sessions: Session[], learners: number, dueAt: Date): Promise<string[]> {
  const t = program.tenantId;
  const now = new Date().toISOString();
  await store.ensureTenant(t, t, 'local', now);
  await store.insertProgram(program);
  for (const s of sessions) await store.insertSession(s, now);
  const keys: string[] = [];
  const CHUNK = 500;
  for (let from = 0; from < learners; from += CHUNK) {
    const ls: Learner[] = [];
    for (let i = from; i < Math.min(learners, from + CHUNK); i++) {
      ls.push({ id: `L${String(i).padStart(6, '0')}`, tenantId: t, email: `learner${i}@example.com`, name: `Learner ${i}`, managerEmail: null, zone: 'Europe/Berlin', department: null, language: 'en', undeliverable: false });
    }
    await store.db.insertInto('learners').values(ls.map((l) => ({ tenant_id: t, id: l.id, email: l.email, data: JSON.stringify(l), updated_at: now }))).execute();
    await store.db
      .insertInto('enrollments')
      .values(ls.map((l, j) => ({ tenant_id: t, id: randomUUID(), program_id: program.id, session_id: sessions[(from + j) % sessions.length]!.id, learner_id: l.id, status: 'enrolled', wait_position: null, rsvp: 'none', attendance: null, enrolled_at: now, updated_at: now })))
      .execute();
    const jobs = ls.map((l, j) => {
      const s = sessions[(from + j) % sessions.length]!;
      return { key: `reminder:${l.id}:${s.id}:1440`, kind: 'reminder', programId: program.id, sessionId: s.id, learnerId: l.id, runAt: dueAt.toISOString(), payload: { offsetMinutes: 1440 } };
    });
    await store.addJobs(t, jobs, now);
    keys.push(...jobs.map((j) => j.key));
  }
  return keys;
}
