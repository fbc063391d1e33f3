// Headless Chromium against the running service: the pane inside a cross-origin frame under its own headers, the demo program's checklist, reminders into the outbox, attendance into the records, and a 350 px screenshot.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Frame, Page } from 'playwright-core';
import { loadPaneBundle } from './bundle.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** The lead's harness: runs the real app on port 0 with the demo program. */
const SERVICE_MODULE = resolve(ROOT, 'test/support/service.ts');
const CHROMIUM = '/usr/bin/chromium';
/** The parent page poses as Outlook on the web: Chromium resolves this host to the local parent server. */
const OUTLOOK_HOST = 'outlook.office.com';
const SKIP_REASON = !existsSync(SERVICE_MODULE)
  ? 'test/support/service.ts (startTestService) is not in the tree yet'
  : !existsSync(CHROMIUM)
    ? `${CHROMIUM} is missing`
    : null;

interface TestService {
  url: string;
  token: string;
  dataDir: string;
  close(): Promise<void>;
}

let svc: TestService;
let parent: Server;
let parentPort: number;
let browser: Browser;
let page: Page;
let pane: Frame;
const consoleErrors: string[] = [];
const blockedRequests: string[] = [];

function outboxFiles(): string[] {
  const dir = join(svc.dataDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${svc.token}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

describe.skipIf(SKIP_REASON !== null)(`task pane in a browser${SKIP_REASON ? ` (skipped: ${SKIP_REASON})` : ''}`, () => {
  beforeAll(async () => {
    await loadPaneBundle();
    const { startTestService } = (await import(SERVICE_MODULE)) as { startTestService: (opts?: unknown) => Promise<TestService> };
    svc = await startTestService();

    // The parent: an HTTPS server on another port, framing the pane at 350 px like Outlook's side pane.
    const tls = resolve(ROOT, 'test/fixtures/tls');
    parent = createServer({ cert: readFileSync(join(tls, 'server-cert.pem')), key: readFileSync(join(tls, 'server-key.pem')) }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Outlook (test parent)</title></head><body style="margin:0">
<iframe id="pane" title="Muster" src="${svc.url}/addin/pane.html" style="width:350px;height:1000px;border:0"></iframe></body></html>`);
    });
    await new Promise<void>((done) => parent.listen(0, '127.0.0.1', done));
    parentPort = (parent.address() as AddressInfo).port;

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--host-resolver-rules=MAP ${OUTLOOK_HOST} 127.0.0.1:${parentPort}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
        '--ignore-certificate-errors',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 800, height: 1500 }, ignoreHTTPSErrors: true });
    // Nothing leaves the machine: only the parent host and the local service may be fetched.
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === OUTLOOK_HOST || u.hostname === '127.0.0.1') return route.continue();
      blockedRequests.push(u.origin);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(`https://${OUTLOOK_HOST}/mail/`);
    const handle = await page.waitForSelector('iframe#pane');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('The pane frame did not load.');
    pane = frame;
    await pane.waitForSelector('#signin:not([hidden])');
  });

  afterAll(async () => {
    await browser?.close();
    if (parent) await new Promise<void>((done) => parent.close(() => done()));
    await svc?.close();
  });

  it('when Outlook frames the pane from another origin, then it loads under its headers with no console errors', async () => {
    expect(new URL(page.url()).origin).not.toBe(new URL(svc.url).origin);
    expect(new URL(pane.url()).origin).toBe(new URL(svc.url).origin);
    const res = await fetch(`${svc.url}/addin/pane.html`);
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors 'self'`);
    expect(res.headers.get('content-security-policy')).toContain('https://outlook.office.com');
    expect(await pane.locator('h1').textContent()).toBe('Muster');
    expect(await pane.getByLabel('API token').isVisible()).toBe(true);
    expect(consoleErrors).toEqual([]);
    expect(blockedRequests).toEqual([]);
  });

  it('when the coordinator signs in and picks the demo program, then its checklist renders, blocking items first', async () => {
    await pane.getByLabel('API token').fill(svc.token);
    await pane.getByRole('button', { name: 'Sign in' }).click();
    await pane.waitForSelector('#pick:not([hidden])');
    const programs = await api<{ id: string; code: string }[]>('/api/programs');
    const demo = programs[0];
    expect(demo).toBeDefined();
    await pane.getByLabel('Program').selectOption(demo?.id ?? '');
    await pane.waitForSelector('#checklist-items li');

    const checklist = await api<{ items: { status: string; reason: string }[]; blocking: number }>(`/api/programs/${demo?.id}/checklist`);
    const shown = await pane.locator('#checklist-items li').evaluateAll((lis) => lis.map((li) => ({ status: (li as HTMLElement).dataset.status, text: li.textContent ?? '' })));
    expect(shown).toHaveLength(checklist.items.length);
    const rank = { blocking: 0, warning: 1, ok: 2 } as Record<string, number>;
    const ranks = shown.map((s) => rank[s.status ?? ''] ?? 9);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const item of checklist.items) expect(shown.some((s) => s.text.includes(item.reason))).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  it('when "Send reminder now" is pressed for a session, then the messages land in the outbox', async () => {
    const select = pane.getByLabel('Session');
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
    const sessionId = await pane.getByLabel('Session').inputValue();
    const first = pane.locator('#learners li select').first();
    const email = await first.getAttribute('data-email');
    await first.selectOption('present');
    await pane.getByRole('button', { name: 'Save attendance' }).click();
    await pane.locator('#status', { hasText: /^Saved attendance for 1 learner/ }).waitFor();
    const state = await api<{ learners: { email: string; attendance: string | null }[]; counts: { present: number } }>(`/api/sessions/${sessionId}/state`);
    expect(state.learners.find((l) => l.email === email)?.attendance).toBe('present');
    expect(state.counts.present).toBeGreaterThanOrEqual(1);
    expect(await pane.locator('#learners li select').first().inputValue()).toBe('present');
    expect(consoleErrors).toEqual([]);
  });

  it('when the run ends, then a 350 px wide screenshot of the pane is saved', async () => {
    mkdirSync(resolve(ROOT, 'test-results'), { recursive: true });
    const file = resolve(ROOT, 'test-results/pane-350.png');
    await pane.evaluate(() => window.scrollTo(0, 0));
    const png = await page.locator('iframe#pane').screenshot({ path: file });
    expect(png.readUInt32BE(16)).toBe(350);
    expect(existsSync(file)).toBe(true);
  });
});
