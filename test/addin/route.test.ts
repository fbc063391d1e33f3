// The add-in router over real HTTP: pane headers that let Outlook frame it, the manifest for the public URL, real PNG icons and the bundles; helmet stays on everything else.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateSync } from 'node:zlib';
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAddinRouter, PANE_CSP } from '../../src/http/addin.route.js';
import { isMusterError } from '../../src/domain/errors.js';
import { OUTLOOK_FRAME_ANCESTORS } from '../../src/addin/constants.js';
import { loadPaneBundle } from './bundle.js';

const APP_ID = '0f6a3c1e-8a4b-4c5d-9e7f-1a2b3c4d5e6f';
const CLIENT_ID = '6f1c7b0e-3d7a-4c59-9a53-2f0d1e6b8c41';
let server: Server;
let base: string;

beforeAll(async () => {
  const PANE_OUTDIR = await loadPaneBundle();
  const app = express();
  app.use(helmet());
  app.use(createAddinRouter({ publicUrl: 'https://muster.example.com', appId: APP_ID, entraClientId: CLIENT_ID, bundleDir: PANE_OUTDIR }));
  app.get('/api/other', (_req, res) => res.json({ ok: true }));
  server = createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

function pngSize(buf: Buffer): { width: number; height: number; pixels: number } {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const idatLen = buf.readUInt32BE(33);
  const raw = inflateSync(buf.subarray(41, 41 + idatLen));
  return { width, height, pixels: (raw.length - height) / 4 };
}

describe('add-in routes', () => {
  it('when the pane is requested, then it may be framed by Outlook hosts and keeps popups working', async () => {
    const res = await fetch(`${base}/addin/pane.html?surface=organizer`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
    expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(PANE_CSP);
    const directives = new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('frame-ancestors')).toEqual(["'self'", ...OUTLOOK_FRAME_ANCESTORS]);
    expect(directives.get('frame-ancestors')).toContain('https://outlook.office.com');
    expect(directives.get('script-src')).toEqual(["'self'", 'https://appsforoffice.microsoft.com']);
    expect(directives.get('connect-src')).toEqual(["'self'", 'https://login.microsoftonline.com']);
    expect(directives.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('when opened from an Office surface, then the page loads office.js; in a plain browser it does not', async () => {
    const inOffice = await (await fetch(`${base}/addin/pane.html?surface=read`)).text();
    const console = await (await fetch(`${base}/addin/pane.html`)).text();
    expect(inOffice).toContain('<script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>');
    expect(console).not.toContain('appsforoffice');
    expect(console).toContain(`<meta name="muster-entra-client-id" content="${CLIENT_ID}">`);
    expect(console).not.toMatch(/<script>(?!<\/script>)/);
    expect(console).toContain('<label for="program">Program</label>');
  });

  it('when another route answers, then helmet\'s strict defaults are untouched there', async () => {
    const res = await fetch(`${base}/api/other`);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('outlook');
  });

  it('when the manifest is requested, then it is the XML manifest for the public URL and cannot be framed', async () => {
    const res = await fetch(`${base}/addin/manifest.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const xml = await res.text();
    expect(xml).toContain(`<Id>${APP_ID}</Id>`);
    expect(xml).toContain('DefaultValue="https://muster.example.com/addin/pane.html?surface=attendee"');
  });

  it('when each icon the manifests name is requested, then a real PNG of that size comes back', async () => {
    for (const size of [16, 32, 64, 80, 128, 192]) {
      const res = await fetch(`${base}/addin/assets/icon-${size}.png`);
      expect(res.status, `icon-${size}`).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const { width, height, pixels } = pngSize(Buffer.from(await res.arrayBuffer()));
      expect([width, height, pixels]).toEqual([size, size, size * size]);
    }
    expect((await fetch(`${base}/addin/assets/icon-outline-32.png`)).status).toBe(200);
    expect((await fetch(`${base}/addin/assets/icon-17.png`)).status).toBe(404);
  });

  it('when the bundles are requested, then JavaScript and CSS come with their types and pane headers; other paths 404', async () => {
    const js = await fetch(`${base}/addin/pane.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('x-frame-options')).toBeNull();
    const css = await fetch(`${base}/addin/pane.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base}/addin/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/addin/nothing-here.js`)).status).toBe(404);
  });

  it('when the function file and the sign-in dialog are requested, then both are served under pane headers', async () => {
    for (const path of ['/addin/commands.html', '/addin/auth-dialog.html']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(PANE_CSP);
      expect(await res.text()).toContain('office.js');
    }
  });

  it('when the public URL is plain HTTP on a public host, then the router refuses to start', () => {
    let err: unknown = null;
    try {
      createAddinRouter({ publicUrl: 'http://muster.example.com', appId: APP_ID });
    } catch (e) {
      err = e;
    }
    expect(isMusterError(err, 'CONFIG_INVALID')).toBe(true);
  });
});
