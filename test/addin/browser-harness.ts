// Shared set-up for the pane's browser tests: the lead's test service, an HTTPS parent posing as Outlook on the web, and headless Chromium that can reach nothing but those two.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Frame, Page, Route } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The lead's harness: runs the real app on port 0 with the demo program. */
export const SERVICE_MODULE = resolve(ROOT, 'test/support/service.ts');
export const CHROMIUM = '/usr/bin/chromium';
/** The parent page poses as Outlook on the web: Chromium resolves this host to the local parent server. */
export const OUTLOOK_HOST = 'outlook.office.com';
export const OFFICE_JS_URL = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';

export const BROWSER_SKIP_REASON: string | null = !existsSync(SERVICE_MODULE)
  ? 'test/support/service.ts (startTestService) is not in the tree yet'
  : !existsSync(CHROMIUM)
    ? `${CHROMIUM} is missing`
    : null;

export interface TestService {
  url: string;
  token: string;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts the lead's test service; `env` adds configuration (e.g. MS_API_CLIENT_ID for the pane inside Outlook). */
export async function startService(env?: Record<string, string>): Promise<TestService> {
  const { startTestService } = (await import(SERVICE_MODULE)) as { startTestService: (opts?: { env?: Record<string, string> }) => Promise<TestService> };
  return startTestService(env ? { env } : {});
}

export interface Harness {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  parent: Server;
  consoleErrors: string[];
  blockedRequests: string[];
  /** Opens the parent with the pane at `panePath` in a 350 px frame and returns the frame. */
  openPane(panePath: string): Promise<Frame>;
  close(): Promise<void>;
}

export async function startHarness(svc: TestService, opts: { officeJs?: string } = {}): Promise<Harness> {
  let panePath = '/addin/pane.html';
  const tls = resolve(ROOT, 'test/fixtures/tls');
  const parent = createServer({ cert: readFileSync(join(tls, 'server-cert.pem')), key: readFileSync(join(tls, 'server-key.pem')) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Outlook (test parent)</title></head><body style="margin:0">
<iframe id="pane" title="Muster" src="${svc.url}${panePath}" style="width:350px;height:1000px;border:0"></iframe></body></html>`);
  });
  await new Promise<void>((done) => parent.listen(0, '127.0.0.1', done));
  const parentPort = (parent.address() as AddressInfo).port;

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
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
  const context = await browser.newContext({ viewport: { width: 800, height: 1100 }, ignoreHTTPSErrors: true });
  const consoleErrors: string[] = [];
  const blockedRequests: string[] = [];
  // Nothing leaves the machine: the parent host and the local service only; office.js is the test's stand-in when given.
  await context.route('**/*', (route: Route) => {
    const url = route.request().url();
    const u = new URL(url);
    if (url === OFFICE_JS_URL && opts.officeJs !== undefined) {
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: opts.officeJs });
    }
    if (u.hostname === OUTLOOK_HOST || u.hostname === '127.0.0.1') return route.continue();
    blockedRequests.push(u.origin);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

  return {
    browser,
    context,
    page,
    parent,
    consoleErrors,
    blockedRequests,
    async openPane(path: string): Promise<Frame> {
      panePath = path;
      await page.goto(`https://${OUTLOOK_HOST}/mail/`);
      const handle = await page.waitForSelector('iframe#pane');
      const frame = await handle.contentFrame();
      if (!frame) throw new Error('The pane frame did not load.');
      return frame;
    },
    async close(): Promise<void> {
      await browser.close();
      await new Promise<void>((done) => parent.close(() => done()));
    },
  };
}

export async function apiGet<T>(svc: TestService, path: string): Promise<T> {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${svc.token}` } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
  return (await res.json()) as T;
}
