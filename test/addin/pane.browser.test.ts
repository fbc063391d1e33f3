// Headless Chromium against the running service: the pane inside a cross-origin frame under its own headers, the demo program's checklist, reminders into the outbox, attendance into the records, and a 350 px screenshot.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from 'playwright-core';
import { loadPaneBundle } from './bundle.js';
import { apiGet, BROWSER_SKIP_REASON, ROOT, startHarness, startService, type Harness, type TestService } from './browser-harness.js';

let svc: TestService;
let h: Harness;
let pane: Frame;

function outboxFiles(): string[] {
  const dir = join(svc.dataDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
}

describe.skipIf(BROWSER_SKIP_REASON !== null)(`web console in Outlook's frame${BROWSER_SKIP_REASON ? ` (skipped: ${BROWSER_SKIP_REASON})` : ''}`, () => {
  beforeAll(async () => {
    await loadPaneBundle();
    svc = await startService();
    h = await startHarness(svc);
    pane = await h.openPane('/addin/pane.html');
    await pane.waitForSelector('#signin:not([hidden])');
  });

  afterAll(async () => {
    await h?.close();
    await svc?.close();
  });

  it('when Outlook frames the pane from another origin, then it loads under its headers with no console errors', async () => {
    expect(new URL(h.page.url()).origin).not.toBe(new URL(svc.url).origin);
    expect(new URL(pane.url()).origin).toBe(new URL(svc.url).origin);
    const res = await fetch(`${svc.url}/addin/pane.html`);
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors 'self'`);
    expect(res.headers.get('content-security-policy')).toContain('https://outlook.office.com');
    expect(await pane.locator('h1').textContent()).toBe('Muster');
    expect(await pane.getByLabel('API token').isVisible()).toBe(true);
    expect(h.consoleErrors).toEqual([]);
    expect(h.blockedRequests).toEqual([]);
  });

  it('when the coordinator signs in and picks the demo program, then its checklist renders, blocking items first', async () => {
    await pane.getByLabel('API token').fill(svc.token);
    await pane.getByRole('button', { name: 'Sign in' }).click();
    await pane.waitForSelector('#pick:not([hidden])');
    const programs = await apiGet<{ id: string; code: string }[]>(svc, '/api/programs');
    const demo = programs[0];
    expect(demo).toBeDefined();
    await pane.getByLabel('Program').selectOption(demo?.id ?? '');
    await pane.waitForSelector('#checklist-items li');

    const checklist = await apiGet<{ items: { status: string; reason: string }[]; blocking: number }>(svc, `/api/programs/${demo?.id}/checklist`);
    const shown = await pane.locator('#checklist-items li').evaluateAll((lis) => lis.map((li) => ({ status: (li as HTMLElement).dataset.status, text: li.textContent ?? '' })));
    expect(shown).toHaveLength(checklist.items.length);
    const rank = { blocking: 0, warning: 1, ok: 2 } as Record<string, number>;
    const ranks = shown.map((s) => rank[s.status ?? ''] ?? 9);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const item of checklist.items) expect(shown.some((s) => s.text.includes(item.reason))).toBe(true);
    expect(h.consoleErrors).toEqual([]);
  });

  it('when "Send reminder now" is pressed for a session, then the messages land in the outbox', async () => {
    const select = pane.getByLabel('Session', { exact: true });
    const firstSession = await select.locator('option').nth(1).getAttribute('value');
    await select.selectOption(firstSession ?? '');
    await pane.waitForSelector('#state:not([hidden]) #learners li');
    const before = outboxFiles().length;
    await pane.getByRole('button', { name: 'Send reminder now' }).click();
    await pane.locator('#status', { hasText: /^Sent \d+ reminder/ }).waitFor();
    const said = (await pane.locator('#status').textContent()) ?? '';
    const sent = Number(/^Sent (\d+)/.exec(said)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(outboxFiles().length - before).toBe(sent);
    expect(await pane.locator('#alert').textContent()).toBe('');
  });

  it('when attendance is marked, then the records say so', async () => {
    const sessionId = await pane.getByLabel('Session', { exact: true }).inputValue();
    const first = pane.locator('#learners li select').first();
    const email = await first.getAttribute('data-email');
    await first.selectOption('present');
    await pane.getByRole('button', { name: 'Save attendance' }).click();
    await pane.locator('#status', { hasText: /^Saved attendance for 1 learner/ }).waitFor();
    const state = await apiGet<{ learners: { email: string; attendance: string | null }[]; counts: { present: number } }>(svc, `/api/sessions/${sessionId}/state`);
    expect(state.learners.find((l) => l.email === email)?.attendance).toBe('present');
    expect(state.counts.present).toBeGreaterThanOrEqual(1);
    expect(await pane.locator('#learners li select').first().inputValue()).toBe('present');
    expect(h.consoleErrors).toEqual([]);
  });

  it('when the run ends, then a 350 px wide screenshot of the pane is saved', async () => {
    mkdirSync(resolve(ROOT, 'test-results'), { recursive: true });
    const file = resolve(ROOT, 'test-results/pane-350.png');
    await pane.evaluate(() => window.scrollTo(0, 0));
    const png = await h.page.locator('iframe#pane').screenshot({ path: file });
    expect(png.readUInt32BE(16)).toBe(350);
    expect(existsSync(file)).toBe(true);
  });
});
