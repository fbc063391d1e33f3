// Runs the sidebar HTML, as the sandbox's HtmlService renders it, in headless Chromium with a google.script.run stand-in answered from this test: the checklist renders, each control calls the right server function, errors are shown; no network.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildAppsScript } from '../../appsscript/build.mjs';
import { startSandbox } from './sandbox.js';

const CHROMIUM = '/usr/bin/chromium';
const SIDEBAR_URL = 'https://sidebar.muster.test/';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

type Answer = { ok: true; value: unknown } | { ok: false; message: string };
type Handler = (args: unknown[]) => unknown;

let workDir: string;
let sidebarHtml: string;
let serverFunctions: string[];
let browser: Browser;
let page: Page;
let handlers: Record<string, Handler>;
let calls: Array<{ name: string; args: unknown[] }>;

const PROGRAMS = [
  { id: 'prog-sec101', name: 'Security Basics', code: 'SEC101', status: 'draft', sessions: 2, learners: 12 },
  { id: 'prog-lead', name: 'Leading Teams', code: 'LEAD', status: 'launched', sessions: 4, learners: 30 },
];
const CHECKLIST = {
  items: [
    { id: 'owners', area: 'owners', status: 'ok', reason: 'Every follow-up has an owner.', owner: null, signedOffBy: null },
    { id: 'materials', area: 'materials', status: 'warning', reason: 'The slide deck was last reviewed 400 days ago.', owner: 'kim@school.example', signedOffBy: null },
    { id: 'roster', area: 'roster', status: 'blocking', reason: 'The roster has not been approved.', owner: 'pat@school.example', signedOffBy: null },
  ],
  blocking: 1,
  warnings: 1,
};
const QUESTIONS = { groups: [{ key: 'parking', text: 'Where do I park?', learners: 3 }], questions: [{ id: 'q1', text: 'Where do I park?', learnerEmail: null, createdAt: '2026-11-02T09:00:00Z' }] };

function defaultHandlers(): Record<string, Handler> {
  return {
    getSidebarState: () => ({ serviceHost: 'muster.example.com', programId: 'prog-sec101', programName: 'Security Basics', storedProgramMissing: false, programs: PROGRAMS }),
    getChecklist: () => CHECKLIST,
    getQuestions: () => QUESTIONS,
  };
}

/** Installs google.script.run: only the script's public functions exist on it, as in Apps Script; each call is answered by this test. */
const STAND_IN = `(names) => {
  function runner(success, failure) {
    const r = {
      withSuccessHandler: (fn) => runner(fn, failure),
      withFailureHandler: (fn) => runner(success, fn),
      withUserObject: () => runner(success, failure),
    };
    for (const name of names) {
      r[name] = (...args) => {
        const plain = JSON.parse(JSON.stringify(args));
        window.__musterServer(name, plain).then((answer) => {
          if (answer.ok) { if (success) success(answer.value); }
          else if (failure) failure(new Error(answer.message));
        });
      };
    }
    return r;
  }
  window.google = { script: { run: runner(null, null), host: { close() {}, editor: { focus() {} } } } };
}`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install chromium (apt) before running the sidebar tests.`);
  workDir = mkdtempSync(join(tmpdir(), 'muster-sidebar-'));
  buildAppsScript({ serviceUrl: 'https://muster.example.com', out: workDir });
  const sandbox = await startSandbox({ buildDir: workDir });
  try {
    const out = await sandbox.menu('showSidebar');
    if (!out.result.ok) throw new Error(out.result.error.message);
    sidebarHtml = out.events.sidebars[0]!.html;
    serverFunctions = (await sandbox.functionNames()).filter((n) => !n.endsWith('_'));
  } finally {
    await sandbox.close();
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

beforeEach(async () => {
  handlers = defaultHandlers();
  calls = [];
  page = await browser.newPage();
  // The sidebar is served from one made-up origin (Apps Script serves it from its own sandbox domain); every other request is refused.
  await page.route('**/*', (route) => (route.request().url() === SIDEBAR_URL ? route.fulfill({ status: 200, contentType: 'text/html', body: sidebarHtml }) : route.abort()));
  await page.exposeFunction('__musterServer', async (name: string, args: unknown[]): Promise<Answer> => {
    calls.push({ name, args });
    const handler = handlers[name];
    if (!handler) return { ok: false, message: `No answer scripted for ${name}` };
    try {
      return { ok: true, value: handler(args) };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  });
  await page.addInitScript(`(${STAND_IN})(${JSON.stringify(serverFunctions)})`);
  await page.goto(SIDEBAR_URL);
});

afterEach(async () => {
  await page.close();
});

/** Polls patiently: the machine may be busy, and nothing here asserts timing. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });
const status = () => page.getByRole('status');
const alert = () => page.getByRole('alert');

describe('the sidebar in Chromium', () => {
  it('when the Sheet has a program, then the checklist renders with the blocking item first and the questions are listed', async () => {
    const items = page.getByRole('list').filter({ has: page.locator('.badge') }).getByRole('listitem');
    await poll(() => items.count()).toBe(3);
    expect(await items.allInnerTexts()).toEqual([
      expect.stringMatching(/^Blocking: The roster has not been approved\.\s+Owner: pat@school\.example$/),
      expect.stringMatching(/^Warning: The slide deck was last reviewed 400 days ago\./),
      expect.stringMatching(/^Done: Every follow-up has an owner\./),
    ]);
    expect(await page.locator('#checklist-summary').innerText()).toBe('1 item blocks the launch; 1 warning.');
    expect(await page.locator('#question-groups').innerText()).toContain('Where do I park? (3 learners)');
    expect(await page.getByLabel('Program', { exact: true }).inputValue()).toBe('prog-sec101');
    expect(calls.map((c) => c.name).sort()).toEqual(['getChecklist', 'getQuestions', 'getSidebarState']);
  });

  it('when the Sheet has no program yet, then only the program choice is offered and choosing one calls chooseProgram with its id', async () => {
    handlers.getSidebarState = () => ({ serviceHost: 'muster.example.com', programId: null, programName: null, storedProgramMissing: false, programs: PROGRAMS });
    await page.goto(SIDEBAR_URL);
    await poll(() => page.getByLabel('Program', { exact: true }).locator('option').count()).toBe(3);
    expect(await page.locator('#program-tools').isHidden()).toBe(true);
    handlers.chooseProgram = ([id]) => ({ programId: id, programName: 'Leading Teams' });
    await page.getByLabel('Program', { exact: true }).selectOption('prog-lead');
    await page.getByRole('button', { name: 'Use this program' }).click();
    await poll(() => status().innerText()).toBe('This Sheet now belongs to Leading Teams.');
    expect(calls.find((c) => c.name === 'chooseProgram')?.args).toEqual(['prog-lead']);
    await poll(() => page.locator('#program-tools').isVisible()).toBe(true);
  });

  it('when reminders are previewed, then who gets what is shown first and only confirming calls sendRemindersNow', async () => {
    handlers.previewReminders = () => ({
      messages: [
        { to: 'ada@school.example', name: 'Ada Lovelace', kind: 'reminder', subject: 'Security Basics starts tomorrow', sendAt: '2026-11-03T08:00:00Z' },
        { to: 'ben@school.example', name: '', kind: 'prerequisite', subject: 'Before Security Basics: finish the e-learning', sendAt: '2026-11-03T08:00:00Z' },
      ],
    });
    handlers.sendRemindersNow = () => ({ sent: 2, skipped: 0 });
    await page.getByRole('button', { name: 'Preview reminders' }).focus();
    await page.keyboard.press('Enter');
    const rows = page.locator('#reminders-table tbody tr');
    await poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).innerText()).toContain('Ada Lovelace <ada@school.example>');
    expect(await rows.nth(1).innerText()).toContain('Prerequisites: Before Security Basics');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reminders-preview-heading');
    expect(calls.some((c) => c.name === 'sendRemindersNow')).toBe(false);

    await page.getByRole('button', { name: 'Send 2 reminders now' }).click();
    await poll(() => status().innerText()).toBe('Sent 2 reminders.');
    expect(calls.filter((c) => c.name === 'sendRemindersNow')).toHaveLength(1);
    expect(await page.locator('#reminders-confirm').isHidden()).toBe(true);
  });

  it('when the preview is cancelled, then nothing is sent', async () => {
    handlers.previewReminders = () => ({ messages: [{ to: 'ada@school.example', name: 'Ada', kind: 'reminder', subject: 'Tomorrow', sendAt: '2026-11-03T08:00:00Z' }] });
    await page.getByRole('button', { name: 'Preview reminders' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await poll(() => status().innerText()).toBe('Nothing was sent.');
    expect(calls.some((c) => c.name === 'sendRemindersNow')).toBe(false);
  });

  it('when "Late" is chosen and the selected rows are marked, then markSelectedAttendance is called with "late" and the result is announced', async () => {
    handlers.markSelectedAttendance = ([value]) => ({ attendance: value, selected: 3, updated: 3, skippedRows: [] });
    await page.getByRole('radio', { name: 'Late' }).check();
    await page.getByRole('button', { name: 'Mark selected rows' }).click();
    await poll(() => status().innerText()).toBe('Marked 3 of 3 selected learners late.');
    expect(calls.find((c) => c.name === 'markSelectedAttendance')?.args).toEqual(['late']);
  });

  it('when "Sync now" is pressed, then syncNow is called and what it wrote is announced', async () => {
    handlers.syncNow = () => ({ written: 12, imported: 1, conflicts: 2 });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await poll(() => status().innerText()).toBe('Synced: wrote 12 rows, read 1 change back; 2 edits conflict with Muster and need a look.');
    expect(calls.filter((c) => c.name === 'syncNow')).toHaveLength(1);
  });

  it('when a question is logged, then logQuestion gets the text and learner email and the list is refreshed', async () => {
    handlers.logQuestion = ([form]) => ({ id: 'q2', text: (form as { text: string }).text });
    await page.getByLabel('Question', { exact: true }).fill('Is there a recording?');
    await page.getByLabel('Learner email (optional)').fill('ada@school.example');
    await page.getByRole('button', { name: 'Log question' }).click();
    await poll(() => status().innerText()).toBe('Question logged.');
    expect(calls.find((c) => c.name === 'logQuestion')?.args).toEqual([{ text: 'Is there a recording?', learnerEmail: 'ada@school.example' }]);
    expect(calls.filter((c) => c.name === 'getQuestions')).toHaveLength(2);
    expect(await page.getByLabel('Question', { exact: true }).inputValue()).toBe('');
  });

  it('when refreshing the checklist, then getChecklist is called again', async () => {
    await page.getByRole('button', { name: 'Refresh checklist' }).click();
    await poll(() => status().innerText()).toBe('Checklist updated.');
    expect(calls.filter((c) => c.name === 'getChecklist')).toHaveLength(2);
  });

  it('when a server function fails, then its sentence is shown in the alert region and the control can be used again', async () => {
    handlers.syncNow = () => {
      throw new Error('Muster is not installed for your domain yet — ask your Google Workspace admin to install it for everyone from the Google Workspace Marketplace.');
    };
    const button = page.getByRole('button', { name: 'Sync now' });
    await button.click();
    await poll(() => alert().innerText()).toBe('Muster is not installed for your domain yet — ask your Google Workspace admin to install it for everyone from the Google Workspace Marketplace.');
    expect(await status().innerText()).toBe('');
    expect(await button.isEnabled()).toBe(true);
  });

  it('when the sidebar cannot load its state, then the error is shown instead of an empty sidebar', async () => {
    handlers.getSidebarState = () => {
      throw new Error("Muster can't be reached at muster.example.com right now.");
    };
    await page.goto(SIDEBAR_URL);
    await poll(() => alert().innerText()).toBe("Muster can't be reached at muster.example.com right now.");
  });

  it('when data contains markup, then it is shown as text and never run', async () => {
    handlers.getChecklist = () => ({ items: [{ id: 'x', area: 'naming', status: 'blocking', reason: '<img src=x onerror="window.__pwned=1">', owner: null, signedOffBy: null }], blocking: 1, warnings: 0 });
    await page.goto(SIDEBAR_URL);
    await poll(() => page.locator('#checklist li').first().innerText()).toContain('<img src=x');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});
