// Runs the built add-on script in the Apps Script sandbox against a scripted Muster API on 127.0.0.1: menus by authorization mode, the sidebar, reading the selection, the fixed service origin, and error sentences.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { buildAppsScript, parseServiceOrigin } from '../../appsscript/build.mjs';
import { COL, TAB, TABS } from '../../src/domain/records.js';
import { startSandbox, type AppsScriptSandbox, type CallOutcome, type SandboxChange, type SheetSpec } from './sandbox.js';
import { startFakeMusterApi, type FakeMusterApi } from './fake-muster-api.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.sandbox-identity-token.signature';
const PROGRAM = 'prog-sec101';

let api: FakeMusterApi;
let workDir: string;
let buildDir: string;
let shared: AppsScriptSandbox;

function attendanceSheet(): SheetSpec {
  const headers = TABS.attendance.headers;
  const row = (key: string, session: string, email: string, name: string): string[] =>
    headers.map((h) => ({ Key: key, 'Session ID': session, Session: 'Day 1', Email: email, Name: name, Attendance: '' })[h] ?? '');
  return {
    name: TAB.attendance,
    rows: [
      [...headers],
      row('k1', 'sess-1', 'ada@school.example', 'Ada'),
      row('k2', 'sess-1', 'ben@school.example', 'Ben'),
      row('k3', 'sess-1', 'cy@school.example', 'Cy'),
      row('k4', 'sess-2', 'dee@school.example', 'Dee'),
      row('k5', 'sess-2', 'eve@school.example', 'Eve'),
    ],
  };
}

const sheets = (): SheetSpec[] => [{ name: TAB.roster, rows: [[...TABS.roster.headers]] }, attendanceSheet()];

function ok(outcome: CallOutcome): unknown {
  if (!outcome.result.ok) throw new Error(`expected success, got: ${outcome.result.error.message}`);
  return outcome.result.value;
}
function failure(outcome: CallOutcome): string {
  if (outcome.result.ok) throw new Error('expected the call to fail');
  return outcome.result.error.message;
}

beforeAll(async () => {
  api = await startFakeMusterApi();
  workDir = mkdtempSync(join(tmpdir(), 'muster-appsscript-'));
  buildDir = join(workDir, 'build');
  buildAppsScript({ serviceUrl: api.origin, out: buildDir, allowHttpLoopback: true });
  shared = await startSandbox({ buildDir });
});
afterAll(async () => {
  await shared.close();
  await api.close();
  rmSync(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  api.received.length = 0;
  api.routes.clear();
  api.routes.set('GET /api/programs', () => ({ status: 200, body: [{ id: PROGRAM, name: 'Security Basics', code: 'SEC101', status: 'draft', sessions: 2, learners: 5 }] }));
});

/** Runs `body` against the shared sandbox after resetting the Sheet, selection, properties and token to the defaults overridden by `change`. */
async function withSandbox<T>(change: SandboxChange, body: (sb: AppsScriptSandbox) => Promise<T>): Promise<T> {
  await shared.configure({ buildDir, sheets: sheets(), activeSheet: TAB.attendance, selection: [], identityToken: TOKEN, documentProperties: { musterProgramId: PROGRAM }, ...change });
  return body(shared);
}

describe('the add-on menu', () => {
  it('when onOpen runs in AuthMode.NONE, then it adds only "Open Muster" and touches no properties and no other service', async () => {
    await withSandbox({}, async (sb) => {
      const out = await sb.trigger('onOpen', 'NONE');
      ok(out);
      expect(out.events.menus).toEqual([{ items: [{ caption: 'Open Muster', functionName: 'showSidebar' }], addedToUi: true }]);
      expect(out.events.touches).toEqual(['SpreadsheetApp.getUi', 'Ui.createAddonMenu', 'Menu.addItem', 'Menu.addToUi']);
      expect(out.events.fetches).toEqual([]);
    });
  });

  it('when the add-on is installed (AuthMode.FULL), then onInstall builds the full menu and every item names a public script function', async () => {
    await withSandbox({}, async (sb) => {
      const out = await sb.trigger('onInstall', 'FULL');
      ok(out);
      const items = out.events.menus[0]?.items ?? [];
      expect(items.map((i) => i.caption ?? '---')).toEqual(['Open Muster', '---', 'Sync now']);
      const names = await sb.functionNames();
      for (const fn of items.flatMap((i) => (i.functionName ? [i.functionName] : []))) {
        expect(names).toContain(fn);
        expect(fn.endsWith('_')).toBe(false);
      }
      expect(out.events.touches).not.toContain('PropertiesService.getScriptProperties');
    });
  });

  it('when "Open Muster" is chosen, then the sidebar template is evaluated with the build\'s host and its script inlined', async () => {
    await withSandbox({}, async (sb) => {
      const out = await sb.menu('showSidebar');
      ok(out);
      expect(out.events.sidebars).toHaveLength(1);
      const { title, html } = out.events.sidebars[0]!;
      expect(title).toBe('Muster');
      expect(html).toContain(`Connected to <span id="service-host">${api.origin.replace('http://', '')}</span>`);
      expect(html).toContain('google.script.run');
      expect(html).not.toMatch(/<\?/);
    });
  });
});

describe('marking attendance for the selected rows', () => {
  it('when three rows are selected across two ranges, then one request carries their session ids and emails with the identity token', async () => {
    api.routes.set(`POST /api/programs/${PROGRAM}/attendance`, (req) => ({ status: 200, body: { updated: (req.body as { entries: unknown[] }).entries.length } }));
    await withSandbox({ selection: ['B3:E4', 'A6'] }, async (sb) => {
      const out = await sb.run('markSelectedAttendance', 'present');
      expect(ok(out)).toEqual({ attendance: 'present', selected: 3, updated: 3, skippedRows: [] });
      expect(api.received).toHaveLength(1);
      expect(api.received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(api.received[0]!.body).toEqual({
        entries: [
          { sessionId: 'sess-1', email: 'ben@school.example', attendance: 'present' },
          { sessionId: 'sess-1', email: 'cy@school.example', attendance: 'present' },
          { sessionId: 'sess-2', email: 'eve@school.example', attendance: 'present' },
        ],
      });
      expect(out.events.fetches.map((f) => f.authorization)).toEqual(['identity-token']);
    });
  });

  it('when the columns are in another order and the header row is part of the selection, then rows are still read by header name and the header is skipped', async () => {
    api.routes.set(`POST /api/programs/${PROGRAM}/attendance`, (req) => ({ status: 200, body: { updated: (req.body as { entries: unknown[] }).entries.length } }));
    const reordered: SheetSpec = { name: TAB.attendance, rows: [[COL.email, 'Notes', COL.sessionId], ['zed@school.example', 'front row', 'sess-9'], ['', 'empty', ''], ['yan@school.example', '', '']] };
    await withSandbox({ sheets: [reordered], selection: ['1:4'] }, async (sb) => {
      const out = await sb.run('markSelectedAttendance', 'late');
      expect(ok(out)).toEqual({ attendance: 'late', selected: 1, updated: 1, skippedRows: [4] });
      expect(api.received[0]!.body).toEqual({ entries: [{ sessionId: 'sess-9', email: 'zed@school.example', attendance: 'late' }] });
    });
  });

  it('when another tab is active, then nothing is sent and the coordinator is told where to select', async () => {
    await withSandbox({ activeSheet: TAB.roster, selection: ['A1:A1'] }, async (sb) => {
      expect(failure(await sb.run('markSelectedAttendance', 'present'))).toMatch(/Select the learners' rows in the Attendance tab/);
      expect(api.received).toEqual([]);
    });
  });

  it('when the attendance value is not one of the four, then nothing is sent', async () => {
    await withSandbox({ selection: ['A2'] }, async (sb) => {
      expect(failure(await sb.run('markSelectedAttendance', 'asleep'))).toMatch(/present, late, excused or absent/);
      expect(api.received).toEqual([]);
    });
  });
});

describe('the program this Sheet belongs to', () => {
  it('when a program is chosen, then it is the only document property written and nothing is kept in script or user properties', async () => {
    await withSandbox({ documentProperties: {} }, async (sb) => {
      const out = await sb.run('chooseProgram', PROGRAM);
      expect(ok(out)).toEqual({ programId: PROGRAM, programName: 'Security Basics' });
      expect(out.documentProperties).toEqual({ musterProgramId: PROGRAM });
      expect(out.events.touches.filter((t) => t.startsWith('PropertiesService.'))).toEqual(['PropertiesService.getDocumentProperties']);
    });
  });

  it('when no program is chosen yet, then actions say so instead of calling Muster', async () => {
    await withSandbox({ documentProperties: {} }, async (sb) => {
      expect(failure(await sb.run('getChecklist'))).toBe('Choose which Muster program this Sheet belongs to first.');
      expect(api.received).toEqual([]);
    });
  });
});

describe('the service origin fixed at build time', () => {
  it('when document properties name another service, then every request still goes to the built origin', async () => {
    api.routes.set(`GET /api/programs/${PROGRAM}/checklist`, () => ({ status: 200, body: { items: [], blocking: 0, warnings: 0 } }));
    const planted = { musterProgramId: PROGRAM, serviceUrl: 'https://evil.example', MUSTER_SERVICE_ORIGIN: 'https://evil.example', musterServiceUrl: 'https://evil.example' };
    await withSandbox({ documentProperties: planted }, async (sb) => {
      ok(await sb.run('getChecklist'));
      ok(await sb.run('getSidebarState'));
      const out = await sb.run('chooseProgram', PROGRAM);
      ok(out);
      expect(out.events.fetches.every((f) => f.url.startsWith(`${api.origin}/api/`))).toBe(true);
      expect(api.received.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/programs/${PROGRAM}/checklist`, 'GET /api/programs', 'GET /api/programs']);
    });
  });

  it('when the stored program id tries to climb out of the API path, then the script refuses before sending the token', async () => {
    await withSandbox({ documentProperties: { musterProgramId: '..' } }, async (sb) => {
      expect(failure(await sb.run('getChecklist'))).toMatch(/does not look right/);
    });
    await withSandbox({ documentProperties: { musterProgramId: '@evil.example/x' } }, async (sb) => {
      const out = await sb.run('syncNow');
      expect(failure(out)).toMatch(/does not look right/);
      expect(out.events.fetches).toEqual([]);
      expect(out.events.touches).not.toContain('ScriptApp.getIdentityToken');
    });
  });

  for (const tampered of ['https://muster.example.com@evil.example', 'http://evil.example', 'https://evil.example/steal?x=', 'javascript:alert(1)']) {
    it(`when Config.js is edited to "${tampered}", then the script refuses to send the identity token anywhere`, async () => {
      const dir = join(workDir, `tampered-${Math.abs(hash(tampered))}`);
      cpSync(buildDir, dir, { recursive: true });
      writeFileSync(join(dir, 'Config.js'), `const MUSTER_SERVICE_ORIGIN = ${JSON.stringify(tampered)};\n`);
      await withSandbox({ buildDir: dir }, async (sb) => {
        const out = await sb.run('getSidebarState');
        expect(failure(out)).toMatch(/no valid service address/);
        expect(out.events.fetches).toEqual([]);
        expect(out.events.touches).not.toContain('ScriptApp.getIdentityToken');
      });
    });
  }

  it('when the build is given anything but a bare public https origin, then it refuses', () => {
    expect(parseServiceOrigin('https://Muster.Example.com/')).toBe('https://muster.example.com');
    for (const bad of ['http://muster.example.com', 'https://muster.example.com/api', 'https://user:pw@muster.example.com', 'https://127.0.0.1', 'https://localhost:8443', 'https://intranet', 'muster.example.com', undefined]) {
      expect(() => parseServiceOrigin(bad)).toThrow();
    }
    expect(() => parseServiceOrigin('http://127.0.0.1:8080')).toThrow(/https/);
    expect(parseServiceOrigin('http://127.0.0.1:8080', { allowHttpLoopback: true })).toBe('http://127.0.0.1:8080');
  });

  it('when the add-on is built, then the manifest allows fetching only the service\'s API path', () => {
    const manifest = JSON.parse(readFileSync(join(buildDir, 'appsscript.json'), 'utf8')) as { urlFetchWhitelist: string[] };
    expect(manifest.urlFetchWhitelist).toEqual([`${api.origin}/api/`]);
    expect(readFileSync(join(buildDir, 'Config.js'), 'utf8')).toContain(`const MUSTER_SERVICE_ORIGIN = ${JSON.stringify(api.origin)};`);
  });
});

function hash(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}

describe('errors become sentences a coordinator understands', () => {
  const cases: Array<[string, { status: number; body?: unknown; text?: string; headers?: Record<string, string> }, RegExp]> = [
    ['the domain has not installed Muster', { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'Muster is not installed for the Google Workspace domain school.example; ask your Google Workspace admin.', details: [{ field: 'hd', message: 'Muster is not installed for the Google Workspace domain school.example.' }] } } }, /^Muster is not installed for your domain yet — ask your Google Workspace admin/],
    ['the account is a personal Google account', { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'Muster works with Google Workspace accounts only.', details: [{ field: 'hd', message: 'Muster works with Google Workspace accounts only; this is a personal Google account.' }] } } }, /only with Google Workspace accounts/],
    ['the sign-in expired', { status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'Your Google sign-in has expired.' } } }, /could not confirm who you are/],
    ['the caller may not act on the program', { status: 403, body: { error: { code: 'FORBIDDEN', message: 'Only the program\'s coordinators may do this.' } } }, /Only the program's coordinators may do this\. Your account is not allowed/],
    ['Muster is throttling', { status: 429, body: { error: { code: 'RATE_LIMITED', message: 'Too many requests.' } }, headers: { 'retry-after': '30' } }, /Wait 30 seconds and try again/],
    ['the calendar provider failed', { status: 502, body: { error: { code: 'PROVIDER_UNAVAILABLE', message: 'Google Calendar did not answer.' } } }, /could not get through to the calendar or mail service: Google Calendar did not answer\. Nothing was lost/],
    ['a proxy answers with an HTML page', { status: 500, text: '<html><body><h1>Internal Server Error</h1><script>x()</script></body></html>' }, /^Something went wrong inside Muster \(status 500\)/],
    ['the program is gone', { status: 404, body: { error: { code: 'NOT_FOUND', message: 'No such program.' } } }, /can't find that program or session/],
    ['the service redirects elsewhere', { status: 302, text: '', headers: { location: 'https://evil.example/' } }, /answered with a redirect/],
  ];
  for (const [when, answer, sentence] of cases) {
    it(`when ${when}, then the sidebar gets a sentence and never the raw body`, async () => {
      api.routes.set(`POST /api/programs/${PROGRAM}/sync`, () => answer);
      await withSandbox({}, async (sb) => {
        const message = failure(await sb.run('syncNow'));
        expect(message).toMatch(sentence);
        expect(message).not.toMatch(/<html|<script|\{"error"/);
        expect(message).not.toContain(TOKEN);
      });
    });
  }

  it('when a validation error names rows, then the sentence lists them', async () => {
    api.routes.set(`POST /api/programs/${PROGRAM}/questions`, () => ({ status: 422, body: { error: { code: 'VALIDATION_FAILED', message: 'The question could not be logged.', details: [{ field: 'learnerEmail', message: 'learnerEmail is not an email address.' }] } } }));
    await withSandbox({}, async (sb) => {
      expect(failure(await sb.run('logQuestion', { text: 'Is there parking?', learnerEmail: 'nobody' }))).toBe("Muster couldn't accept that: The question could not be logged. learnerEmail is not an email address.");
    });
  });

  it('when the service cannot be reached at all, then the coordinator is told to try again later and the log holds no token', async () => {
    const dir = join(workDir, 'unreachable');
    buildAppsScript({ serviceUrl: 'http://127.0.0.1:9', out: dir, allowHttpLoopback: true });
    await withSandbox({ buildDir: dir }, async (sb) => {
      const out = await sb.run('getQuestions');
      expect(failure(out)).toBe("Muster can't be reached at 127.0.0.1:9 right now. Try again in a few minutes; if it keeps happening, tell your Muster admin.");
      expect(out.events.logs.join('\n')).not.toContain(TOKEN);
    });
  });

  it('when Apps Script has no identity token to give, then nothing is sent and the coordinator is told to reopen and allow access', async () => {
    await withSandbox({ identityToken: null }, async (sb) => {
      const out = await sb.run('getChecklist');
      expect(failure(out)).toMatch(/allow access when Google asks/);
      expect(out.events.fetches).toEqual([]);
    });
  });
});

describe('the add-on\'s names agree with the records layout', () => {
  it('when Constants.js is loaded, then its tab and header names are the ones in src/domain/records.ts', () => {
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(join(buildDir, 'Constants.js'), 'utf8'), ctx);
    const read = (name: string): unknown => vm.runInContext(name, ctx);
    expect(read('TAB_ATTENDANCE')).toBe(TAB.attendance);
    expect(read('COL_SESSION_ID')).toBe(COL.sessionId);
    expect(read('COL_EMAIL')).toBe(COL.email);
    expect(TABS.attendance.headers).toEqual(expect.arrayContaining([COL.sessionId, COL.email]));
    expect(read('ATTENDANCE_VALUES')).toEqual(['present', 'late', 'excused', 'absent']);
  });
});
