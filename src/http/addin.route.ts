// Serves the Outlook add-in (manifest, task pane, sign-in dialog, bundles, icons) with the pane's own security headers, which let Outlook frame it and keep sign-in popups working; it serves no API and sets nothing outside /addin.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { renderXmlManifest } from '../../addin-manifest/generate.js';
import {
  ADDIN_PATHS,
  ENTRA_LOGIN_ORIGIN,
  OFFICE_JS_ORIGIN,
  OUTLINE_ICON_FILE,
  OUTLOOK_FRAME_ANCESTORS,
  PANE_SURFACES,
} from '../addin/constants.js';
import { isIconSize, renderIconPng, renderOutlineIconPng } from '../addin/icons.js';
import { renderAuthDialogHtml, renderCommandsHtml, renderPaneHtml } from '../addin/pane-html.js';
import { MusterError } from '../domain/errors.js';

export interface AddinRouterOptions {
  /** The service's public origin (what Outlook loads the pane from). */
  publicUrl: string;
  /** The add-in's GUID in the manifest. */
  appId: string;
  /** Muster API app registration's client id, for nested app authentication in the pane. */
  entraClientId?: string;
  /** Where the esbuild output lives; default dist/public/addin. */
  bundleDir?: string;
}

/** The pane's Content-Security-Policy: framed by Outlook hosts only, scripts from self and Office.js, connections to self and Entra. */
export const PANE_CSP = [
  "default-src 'self'",
  `script-src 'self' ${OFFICE_JS_ORIGIN}`,
  `connect-src 'self' ${ENTRA_LOGIN_ORIGIN}`,
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  `frame-ancestors 'self' ${OUTLOOK_FRAME_ANCESTORS.join(' ')}`,
].join('; ');

/** For the manifest download: nothing may run or frame it. */
export const MANIFEST_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Headers the pane must not carry: they blank the frame (X-Frame-Options) or cut the sign-in popup off (COOP, COEP). */
const FORBIDDEN_PANE_HEADERS = ['X-Frame-Options', 'Cross-Origin-Opener-Policy', 'Cross-Origin-Embedder-Policy', 'Content-Security-Policy'];

function setPaneHeaders(res: Response): void {
  for (const h of FORBIDDEN_PANE_HEADERS) res.removeHeader(h);
  res.setHeader('Content-Security-Policy', PANE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('Cache-Control', 'no-cache');
}

function defaultBundleDir(): string {
  // Compiled: dist/src/http → dist/public/addin. Bundled: dist/service → dist/public/addin. From sources (tsx, vitest): src/http → dist/public/addin.
  const candidates = [resolve(import.meta.dirname, '../../public/addin'), resolve(import.meta.dirname, '../public/addin'), resolve(import.meta.dirname, '../../dist/public/addin')];
  return candidates.find((c) => existsSync(c)) ?? (candidates[0] as string);
}

const BUNDLE_FILE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.(js|css|map|txt)$/;
const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

export function createAddinRouter(opts: AddinRouterOptions): express.Router {
  let manifestXml: string;
  try {
    manifestXml = renderXmlManifest({ host: opts.publicUrl, appId: opts.appId });
  } catch (err) {
    throw new MusterError('CONFIG_INVALID', 'The public URL or add-in id cannot make an Outlook manifest.', { cause: err });
  }
  const bundleDir = opts.bundleDir ?? defaultBundleDir();
  const paneInOffice = renderPaneHtml({ entraClientId: opts.entraClientId, inOffice: true });
  const paneInBrowser = renderPaneHtml({ entraClientId: opts.entraClientId, inOffice: false });
  const commandsHtml = renderCommandsHtml();
  const dialogHtml = renderAuthDialogHtml({ entraClientId: opts.entraClientId });

  const router = express.Router();

  router.get(ADDIN_PATHS.manifest, (_req, res) => {
    res.removeHeader('X-Frame-Options');
    res.setHeader('Content-Security-Policy', MANIFEST_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', 'inline; filename="manifest.xml"');
    res.type('application/xml').send(manifestXml);
  });

  router.get(ADDIN_PATHS.pane, (req: Request, res: Response) => {
    setPaneHeaders(res);
    const surface = typeof req.query.surface === 'string' ? req.query.surface : '';
    const inOffice = (PANE_SURFACES as readonly string[]).includes(surface);
    res.type('html').send(inOffice ? paneInOffice : paneInBrowser);
  });

  router.get(ADDIN_PATHS.commands, (_req, res) => {
    setPaneHeaders(res);
    res.type('html').send(commandsHtml);
  });

  router.get(ADDIN_PATHS.authDialog, (_req, res) => {
    setPaneHeaders(res);
    res.type('html').send(dialogHtml);
  });

  router.get(`${ADDIN_PATHS.assets}/:file`, (req: Request, res: Response, next: NextFunction) => {
    const file = String(req.params.file);
    const m = /^icon-(\d{1,3})\.png$/.exec(file);
    let png: Buffer | null = null;
    if (file === OUTLINE_ICON_FILE) png = renderOutlineIconPng();
    else if (m && isIconSize(Number(m[1]))) png = renderIconPng(Number(m[1]) as Parameters<typeof renderIconPng>[0]);
    if (!png) return next();
    setPaneHeaders(res);
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('png').send(png);
  });

  router.get(`${ADDIN_PATHS.base}/:file`, (req: Request, res: Response, next: NextFunction) => {
    const file = String(req.params.file);
    if (!BUNDLE_FILE.test(file)) return next();
    const ext = file.slice(file.lastIndexOf('.') + 1);
    readFile(resolve(bundleDir, file)).then(
      (body) => {
        setPaneHeaders(res);
        res.setHeader('Content-Type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
        res.send(body);
      },
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? next() : next(err)),
    );
  });

  return router;
}
