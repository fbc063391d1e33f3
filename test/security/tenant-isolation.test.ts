// Tenant isolation through every route of the API table: tenant A's valid token, tenant B's real ids, never B's data, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../src/http/api.routes.js';
import { startTestService, type TestService } from '../support/service.js';
import { createTestDatabase, pgUnavailableReason, type TestDatabase } from '../support/pg.js';
import { API_CLIENT_ID, startLocalEntra, type LocalEntra } from './entra-tokens.js';

const TID_A = '11111111-1111-4111-8111-111111111111';
const TID_B = '22222222-2222-4222-8222-222222222222';
const pgSkip = await pgUnavailableReason();

/** Bodies that pass each route's schema, so a 404 comes from the tenant lookup and not from validation. */
function sampleBody(method: string, path: string, b: { sessionId: string; email: string }): unknown {
  const key = `${method} ${path}`;
  const bodies: Record<string, unknown> = {
    'post /api/programs': { name: 'A program', code: 'APROG2', owner: 'owner@a.example' },
    'patch /api/programs/:programId': { name: 'Renamed by A' },
    'post /api/programs/:programId/clone': { code: 'ACLONE' },
    'post /api/programs/:programId/launch': { force: true, reason: 'A tries' },
    'post /api/programs/:programId/checklist/:itemId/signoff': { note: 'A signs' },
    'post /api/programs/:programId/sessions': { label: 'A', start: '2031-01-01T09:00', end: '2031-01-01T10:00', zone: 'UTC' },
    'patch /api/sessions/:sessionId': { label: 'moved by A' },
    'post /api/sessions/:sessionId/cancel': { message: 'A cancels' },
    'post /api/sessions/:sessionId/reschedule': { label: 'again' },
    'post /api/sessions/:sessionId/attendance': { entries: [{ email: b.email, attendance: 'present' }] },
    'post /api/programs/:programId/roster': { learners: [{ Email: 'intruder@a.example', Name: 'Intruder', Session: 'Cohort B1' }] },
    'post /api/programs/:programId/enrollments': { email: 'intruder@a.example', sessionId: b.sessionId },
    'post /api/enrollments/:enrollmentId/decision': { decision: 'cancel' },
    'post /api/programs/:programId/attendance': { entries: [{ sessionId: b.sessionId, email: b.email, attendance: 'absent' }] },
    'post /api/programs/:programId/completions': { entries: [{ email: b.email, completedAt: '2031-01-02', score: 1 }] },
    'post /api/programs/:programId/reminders/preview': { sessionId: b.sessionId },
    'post /api/programs/:programId/templates': { kind: 'reminder', subject: 'A', body: 'A' },
    'post /api/programs/:programId/templates/preview': { kind: 'reminder', learnerEmail: b.email, sessionId: b.sessionId },
    'post /api/programs/:programId/questions': { text: 'A asks about B?', learnerEmail: null },
  };
  return bodies[key] ?? (method === 'get' ? undefined : {});
}

describe('tenant isolation', () => {
  let entra: LocalEntra;
  let svc: TestService;
  let db: TestDatabase | null = null;
  let tokenA: string;
  let tokenB: string;
  const b = { programId: '', sessionId: '', enrollmentId: '', email: 'bea.b@b.example', name: 'Beatrix Bravo', itemId: '' };

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(svc.url + path, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    entra = await startLocalEntra();
    if (!pgSkip) db = await createTestDatabase();
    svc = await startTestService({
      seedDemo: false,
      env: { MS_API_CLIENT_ID: API_CLIENT_ID, MS_JWKS_URL: entra.jwksUrl, MS_AUTHORITY_HOST: entra.authorityHost, MUSTER_RATE_LIMIT_PER_MINUTE: '100000', ...(db ? { DATABASE_URL: db.url } : {}) },
    });
    const store = svc.service.runtime.store;
    const now = new Date().toISOString();
    for (const [id, tid] of [['tenant-a', TID_A], ['tenant-b', TID_B]] as const) {
      await store.ensureTenant(id, id, 'microsoft', now);
      await store.updateTenant(id, { external_id: tid, consent_state: 'granted' });
    }
    tokenA = await entra.token(TID_A);
    tokenB = await entra.token(TID_B);

    const created = await call(tokenB, 'post', '/api/programs', {
      name: 'B secret program', code: 'BSECRET', owner: 'owner@b.example',
      sessions: [{ label: 'Cohort B1', start: '2031-03-03T09:00', end: '2031-03-03T11:00', zone: 'Europe/Berlin', room: 'B room', backupPlan: 'B backup' }],
    });
    expect(created.status, created.text).toBe(201);
    const prog = JSON.parse(created.text) as { program: { id: string } };
    b.programId = prog.program.id;
    const full = JSON.parse((await call(tokenB, 'get', `/api/programs/${b.programId}`)).text) as { sessions: Array<{ id: string }> };
    b.sessionId = full.sessions[0]!.id;
    const roster = await call(tokenB, 'post', `/api/programs/${b.programId}/roster`, { learners: [{ Email: b.email, Name: b.name, Session: 'Cohort B1' }] });
    expect(roster.status, roster.text).toBe(200);
    const r = JSON.parse((await call(tokenB, 'get', `/api/programs/${b.programId}/roster`)).text) as { learners: Array<{ enrollments: Array<{ id: string }> }> };
    b.enrollmentId = r.learners[0]!.enrollments[0]!.id;
    await call(tokenB, 'post', `/api/programs/${b.programId}/questions`, { text: 'Where is room B?', learnerEmail: b.email });
    const checklist = JSON.parse((await call(tokenB, 'get', `/api/programs/${b.programId}/checklist`)).text) as { items: Array<{ id: string }> };
    b.itemId = checklist.items[0]!.id;
    expect(b.enrollmentId).not.toBe('');
  });

  afterAll(async () => {
    await svc?.close();
    await db?.drop();
    await entra?.close();
  });

  it(`when tenant A's token is used on every route with tenant B's ids${pgSkip ? ` (SQLite: ${pgSkip})` : ' (PostgreSQL)'}, then each answers 404 or a validation 400, never 2xx with B's data and never 500`, async () => {
    const before = (await call(tokenB, 'get', `/api/programs/${b.programId}/roster`)).text;
    // What A never sent: B's words. (B's ids and the address are in A's own request, so an error may name them back.)
    const bData = [b.name, 'B secret program', 'BSECRET', 'Where is room B?', 'B room', 'B backup'];
    const bIds = [b.programId, b.sessionId, b.enrollmentId, b.email];
    const outcomes: Array<{ route: string; status: number }> = [];
    for (const r of API_ROUTES) {
      const path = r.path
        .replace(':programId', b.programId)
        .replace(':sessionId', b.sessionId)
        .replace(':enrollmentId', b.enrollmentId)
        .replace(':email', encodeURIComponent(b.email))
        .replace(':itemId', b.itemId);
      expect(path, `${r.path} has a parameter this walk does not fill`).not.toMatch(/:[A-Za-z]/);
      const res = await call(tokenA, r.method, path, sampleBody(r.method, r.path, b));
      const route = `${r.method.toUpperCase()} ${r.path}`;
      outcomes.push({ route, status: res.status });
      expect(res.status, `${route}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
      for (const s of res.status < 300 ? [...bData, ...bIds] : bData) expect(res.text.includes(s), `${route} leaked "${s}"`).toBe(false);
      const scoped = /:(programId|sessionId|enrollmentId|email)/.test(r.path);
      if (scoped) {
        const ok = res.status === 404 || (res.status === 400 && /VALIDATION_FAILED/.test(res.text));
        expect(ok, `${route} answered ${res.status}: ${res.text.slice(0, 300)}`).toBe(true);
      }
    }
    // Every scoped route with a valid sample body reached the tenant lookup (404), not just validation.
    const scopedOutcomes = outcomes.filter((o) => /:(programId|sessionId|enrollmentId|email)/.test(o.route));
    expect(scopedOutcomes.length).toBeGreaterThan(30);
    expect(scopedOutcomes.filter((o) => o.status !== 404)).toEqual([]);
    // And nothing of B's changed.
    expect((await call(tokenB, 'get', `/api/programs/${b.programId}/roster`)).text).toBe(before);
    const bProgram = JSON.parse((await call(tokenB, 'get', `/api/programs/${b.programId}`)).text) as { name: string; status: string; sessions: Array<{ status: string; label: string }> };
    expect(bProgram).toMatchObject({ name: 'B secret program', status: 'draft' });
    expect(bProgram.sessions.map((s) => [s.label, s.status])).toEqual([['Cohort B1', 'scheduled']]);
    expect(JSON.parse((await call(tokenA, 'get', '/api/programs')).text).map((p: { code: string }) => p.code)).not.toContain('BSECRET');
  });

  it('when a token names a tenant without granted consent, then every route answers 401', async () => {
    const stranger = await entra.token('33333333-3333-4333-8333-333333333333');
    const res = await call(stranger, 'get', `/api/programs/${b.programId}`);
    expect(res.status).toBe(401);
  });
});
