// Seeds a program of N learners straight into the store with bulk inserts (fast enough for 100,000), shaped as the use cases leave it after a launch; it measures nothing and calls no provider.
import { randomUUID } from 'node:crypto';
import { DEFAULT_POLICY } from '../src/domain/program.js';
import type { Learner, Program, Session } from '../src/domain/types.js';
import { Store } from '../src/store/store.js';
import { learnerEmail } from './names.js';

export interface SeedOptions {
  tenantId: string;
  learners: number;
  perSession: number;
  /** A launched program also has its three pending reminders per enrollment, as scheduleLaunch leaves them. */
  launched: boolean;
  now: number;
  code?: string;
}

export interface Seeded {
  program: Program;
  sessions: Session[];
  /** A few (session id, email) pairs of enrolled learners, for requests that name one. */
  samples: Array<{ sessionId: string; email: string }>;
}

const CHUNK = 400;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

export async function seedProgram(store: Store, o: SeedOptions): Promise<Seeded> {
  const nowIso = new Date(o.now).toISOString();
  const t = o.tenantId;
  await store.ensureTenant(t, t, 'local', nowIso);
  const program: Program = {
    id: randomUUID(),
    tenantId: t,
    name: `Scale ${o.learners}`,
    code: o.code ?? `SCALE${o.learners}`,
    owner: 'owner@people.example',
    audience: 'Everyone',
    agenda: 'Fire exits and first aid',
    materials: [],
    reviewWindowDays: 180,
    assessmentName: null,
    policy: { ...DEFAULT_POLICY },
    owners: { missedSessions: null, lateCompletions: null, questions: null, improvements: null },
    showScoresToManagers: false,
    enrollmentPath: null,
    rosterApproved: true,
    status: o.launched ? 'launched' : 'draft',
    clonedFrom: null,
    createdAt: nowIso,
  };
  const sessionCount = Math.ceil(o.learners / o.perSession);
  const sessions: Session[] = Array.from({ length: sessionCount }, (_, i) => {
    const start = o.now + (14 + Math.floor(i / 2)) * 86_400_000 + (i % 2) * 5 * 3_600_000;
    return {
      id: randomUUID(), tenantId: t, programId: program.id, label: `Cohort ${i + 1}`, start: new Date(start).toISOString(), end: new Date(start + 2 * 3_600_000).toISOString(),
      zone: 'Europe/Berlin', room: `Room ${i % 10}`, roomEmail: null, onlineUrl: null, backupPlan: null, instructors: [], capacity: o.perSession, status: 'scheduled', generation: 1, sequence: 0,
    };
  });
  const learners: Learner[] = Array.from({ length: o.learners }, (_, i) => ({
    id: randomUUID(), tenantId: t, email: learnerEmail(i), name: `Learner ${i}`, managerEmail: `manager${i % 200}@people.example`, zone: 'Europe/Berlin', department: `Dept ${i % 7}`, language: 'en', undeliverable: false,
  }));
  await store.tx(async (st) => {
    await st.insertProgram(program);
    for (const s of sessions) await st.insertSession(s, nowIso);
    await insertChunked(learners, (c) => st.db.insertInto('learners').values(c.map((l) => Store.learnerRow(l, nowIso))).execute());
    const enrollments = learners.map((l, i) => ({
      tenant_id: t, id: randomUUID(), program_id: program.id, session_id: sessions[Math.floor(i / o.perSession)]!.id, learner_id: l.id, status: 'enrolled', wait_position: null,
      rsvp: (['none', 'accepted', 'tentative', 'declined'] as const)[i % 4]!, attendance: null, enrolled_at: nowIso, updated_at: nowIso,
    }));
    await insertChunked(enrollments, (c) => st.db.insertInto('enrollments').values(c).execute());
    const completions = learners.map((l, i) => ({
      tenant_id: t, program_id: program.id, learner_id: l.id, completed_at: i % 3 === 0 ? nowIso : null, score: i % 3 === 0 ? 80 + (i % 20) : null,
      due_at: new Date(o.now + (i % 2 === 0 ? -1 : 30) * 86_400_000).toISOString(), updated_at: nowIso,
    }));
    await insertChunked(completions, (c) => st.db.insertInto('completions').values(c).execute());
    if (o.launched) {
      const jobs = enrollments.flatMap((e) => {
        const s = sessions.find((x) => x.id === e.session_id) ?? sessions[0]!;
        return DEFAULT_POLICY.offsetsMinutes.map((m) => ({
          tenant_id: t, id: randomUUID(), key: `reminder:${e.learner_id}:${e.session_id}:${m}`, kind: 'reminder', program_id: program.id, session_id: e.session_id, learner_id: e.learner_id,
          run_at: new Date(Date.parse(s.start) - m * 60_000).toISOString(), payload: JSON.stringify({ offsetMinutes: m }), status: 'pending', attempts: 0, lease_owner: null, lease_until: null, last_error: null, created_at: nowIso, updated_at: nowIso,
        }));
      });
      await insertChunked(jobs, (c) => st.db.insertInto('jobs').values(c).execute());
    }
  });
  const step = Math.max(1, Math.floor(o.learners / 200));
  const samples: Seeded['samples'] = [];
  for (let i = 0; i < o.learners; i += step) samples.push({ sessionId: sessions[Math.floor(i / o.perSession)]!.id, email: learners[i]!.email });
  return { program, sessions, samples };
}
