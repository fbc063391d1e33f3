// Acceptance: the built add-on script, in the Apps Script sandbox, against the real running Muster service with Google identity tokens signed by a local JWKS: marking three selected rows present records three attendances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildAppsScript } from '../../appsscript/build.mjs';
import { TAB, TABS } from '../../src/domain/records.js';
import { startSandbox, type AppsScriptSandbox, type CallOutcome } from './sandbox.js';
import { startLocalGoogleIdp, TEST_CLIENT_ID, TEST_DOMAIN, type LocalGoogleIdp } from './google-idp.js';

const SERVICE_SUPPORT = resolve(import.meta.dirname, '../support/service.ts');
const haveService = existsSync(SERVICE_SUPPORT);

/** What this test uses of test/support/service.ts (loaded by path so the file can land later without breaking type-checking). */
interface TestServiceLike {
  url: string;
  token: string;
  service: { runtime: { config: { MUSTER_TENANT: string }; store: { updateTenant(id: string, patch: Record<string, unknown>): Promise<void> } } };
  close(): Promise<void>;
}
type StartTestService = (opts: { env?: Record<string, string>; seedDemo?: boolean }) => Promise<TestServiceLike>;

interface StateLearner {
  email: string;
  attendance: string | null;
  status: string;
}

let idp: LocalGoogleIdp;
let svc: TestServiceLike;
let sandbox: AppsScriptSandbox;
let workDir: string;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(svc.url + path, {
    method,
    headers: { authorization: `Bearer ${svc.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

function ok(outcome: CallOutcome): unknown {
  if (!outcome.result.ok) throw new Error(`expected success, got: ${outcome.result.error.message}`);
  return outcome.result.value;
}

describe.skipIf(!haveService)('the add-on against the real Muster service', () => {
  let programId: string;
  let sessionId: string;
  let learners: StateLearner[];

  beforeAll(async () => {
    idp = await startLocalGoogleIdp();
    const mod = (await import(pathToFileURL(SERVICE_SUPPORT).href)) as { startTestService: StartTestService };
    svc = await mod.startTestService({ env: { GOOGLE_ADDON_CLIENT_ID: TEST_CLIENT_ID, GOOGLE_ID_JWKS_URL: idp.jwksUrl, GOOGLE_DOMAIN: TEST_DOMAIN }, seedDemo: true });
    // The admin's install for the Workspace domain: with MUSTER_PROVIDER=local the service does not map GOOGLE_DOMAIN to the tenant itself (see the report).
    await svc.service.runtime.store.updateTenant(svc.service.runtime.config.MUSTER_TENANT, { external_id: TEST_DOMAIN, consent_state: 'granted' });

    const programs = await api<Array<{ id: string }>>('GET', '/api/programs');
    programId = programs[0]!.id;
    const sessions = await api<Array<{ id: string }>>('GET', `/api/programs/${programId}/sessions`);
    sessionId = sessions[0]!.id;
    learners = (await api<{ learners: StateLearner[] }>('GET', `/api/sessions/${sessionId}/state`)).learners.filter((l) => l.status === 'enrolled');
    if (learners.length < 5) throw new Error(`the demo session has only ${learners.length} enrolled learners`);

    workDir = mkdtempSync(join(tmpdir(), 'muster-acceptance-'));
    buildAppsScript({ serviceUrl: svc.url, out: workDir, allowHttpLoopback: true });
    const headers = TABS.attendance.headers;
    const rows = learners.slice(0, 5).map((l, i) => headers.map((h) => ({ Key: `k${i}`, 'Session ID': sessionId, Session: 'Cohort A', Email: l.email, Attendance: '' })[h] ?? ''));
    sandbox = await startSandbox({
      buildDir: workDir,
      sheets: [{ name: TAB.attendance, rows: [[...headers], ...rows] }],
      activeSheet: TAB.attendance,
      documentProperties: {},
      identityToken: await idp.mint({ email: `coordinator@${TEST_DOMAIN}` }),
    });
  });

  afterAll(async () => {
    await sandbox?.close();
    await svc?.close();
    await idp?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('when the coordinator chooses the program for the Sheet, then the service lists it for a Google identity token', async () => {
    const state = ok(await sandbox.run('getSidebarState')) as { programs: Array<{ id: string }>; programId: string | null };
    expect(state.programs.map((p) => p.id)).toContain(programId);
    expect(state.programId).toBeNull();
    const out = await sandbox.run('chooseProgram', programId);
    ok(out);
    expect(out.documentProperties).toEqual({ musterProgramId: programId });
  });

  it('when three selected rows are marked present, then the service records exactly those three attendances', async () => {
    // Rows 2-3 as one range, row 5 as a second (Ctrl-click) range; rows 4 and 6 stay unselected.
    await sandbox.configure({ selection: ['A2:J3', 'B5'] });
    const out = await sandbox.run('markSelectedAttendance', 'present');
    expect(ok(out)).toEqual({ attendance: 'present', selected: 3, updated: 3, skippedRows: [] });
    expect(out.events.fetches).toEqual([expect.objectContaining({ method: 'POST', authorization: 'identity-token', status: 200 })]);

    const state = await api<{ counts: { present: number }; learners: StateLearner[] }>('GET', `/api/sessions/${sessionId}/state`);
    expect(state.counts.present).toBe(3);
    const present = state.learners.filter((l) => l.attendance === 'present').map((l) => l.email).sort();
    expect(present).toEqual([learners[0]!.email, learners[1]!.email, learners[3]!.email].sort());
  });

  it('when the checklist and questions are read, then the sidebar gets the service\'s own data', async () => {
    const checklist = ok(await sandbox.run('getChecklist')) as { items: Array<{ status: string }>; blocking: number };
    expect(checklist.items.length).toBeGreaterThan(0);
    expect(checklist.blocking).toBe(checklist.items.filter((i) => i.status === 'blocking').length);
    ok(await sandbox.run('logQuestion', { text: 'Is the session recorded?', learnerEmail: learners[0]!.email }));
    const questions = ok(await sandbox.run('getQuestions')) as { questions: Array<{ text: string }> };
    expect(questions.questions.map((q) => q.text)).toContain('Is the session recorded?');
  });

  it('when a coordinator from a domain that has not installed Muster opens the sidebar, then the real service\'s refusal reads as a sentence', async () => {
    await sandbox.configure({ identityToken: await idp.mint({ hd: 'elsewhere.example', email: 'someone@elsewhere.example' }) });
    try {
      const out = await sandbox.run('getSidebarState');
      expect(out.result.ok).toBe(false);
      expect(out.result.ok ? '' : out.result.error.message).toMatch(/^Muster is not installed for your domain yet — ask your Google Workspace admin/);
    } finally {
      await sandbox.configure({ identityToken: await idp.mint({ email: `coordinator@${TEST_DOMAIN}` }) });
    }
  });
});
