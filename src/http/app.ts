// Builds the Express app: strict headers except on pane routes, body limits, auth, per-tenant rate limits, the route table, one error handler.
import express, { type Request, type Response, type NextFunction } from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import { MusterError } from '../domain/errors.js';
import { formatLocal } from '../domain/time.js';
import { escapeHtml } from '../domain/templates.js';
import type { AppContext } from '../app/context.js';
import { recordRsvp } from '../app/rsvp.js';
import { feedFor } from '../app/feed.js';
import { API_ROUTES } from './api.routes.js';
import { bearerToken } from './auth/authenticate.js';
import type { Principal, TokenVerifier } from './auth/principal.js';
import { errorMiddleware } from './errors.js';
import { openApiDocument, registerRoutes } from './route-table.js';
import { createAddinRouter } from './addin.route.js';

export interface HttpOptions {
  ctx: AppContext;
  authenticate: TokenVerifier;
  version: string;
  bodyLimit: string;
  rateLimitPerMinute: number;
  addin: { appId: string; entraClientId?: string };
  /** Extra routers mounted before the API (e.g. the admin-consent flow). */
  extraRouters?: express.Router[];
}

const PRINCIPAL = Symbol('principal');
type WithPrincipal = Request & { [PRINCIPAL]?: Principal };

export function createHttpApp(opts: HttpOptions): express.Express {
  const { ctx } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  // The add-in pane lives in Outlook's cross-origin frame and signs in through popups: its router sets its own headers.
  const strict = helmet();
  app.use((req, res, next) => (req.path.startsWith('/addin/') ? next() : strict(req, res, next)));

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The route pattern, never the raw path: feed and RSVP paths carry secrets.
      const routePath = (req.route?.path as string | undefined) ?? (req.path.startsWith('/addin/') ? '/addin/*' : 'unmatched');
      ctx.logger.debug('http.request', { method: req.method, route: routePath, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
    next();
  });

  app.get('/healthz', async (_req, res) => {
    res.json({ ok: true, version: opts.version });
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(API_ROUTES, { title: 'Muster', version: opts.version, serverUrl: ctx.publicUrl }));
  });
  app.get('/', (_req, res) => res.redirect(302, '/addin/pane.html'));

  app.use(createAddinRouter({ publicUrl: ctx.publicUrl, appId: opts.addin.appId, ...(opts.addin.entraClientId ? { entraClientId: opts.addin.entraClientId } : {}) }));

  app.get('/rsvp/:token', async (req, res) => {
    try {
      const r = await recordRsvp(ctx, String(req.params.token));
      const words = { accepted: 'You are coming', tentative: 'You might come', declined: 'You declined', none: '' }[r.response];
      res
        .status(200)
        .type('html')
        .send(rsvpPage(`${words}: ${r.programName}, ${r.sessionLabel}`, `${formatLocal(r.start, r.zone, 'en')}. Your coordinator can see your answer. You can change it with another link from the same message.`));
    } catch (err) {
      const e = err instanceof MusterError ? err : new MusterError('INTERNAL', 'Something went wrong');
      if (!(err instanceof MusterError)) ctx.logger.error('rsvp.failed', { message: err instanceof Error ? err.message : String(err) });
      res.status(e.code === 'UNAUTHENTICATED' ? 403 : e.code === 'NOT_FOUND' ? 404 : 500).type('html').send(rsvpPage('This link does not work', e.message));
    }
  });

  app.get('/feeds/:file', async (req, res) => {
    const token = String(req.params.file).replace(/\.ics$/, '');
    const ics = await feedFor(ctx, token);
    if (!ics) {
      res.status(404).type('text/plain').send('No such calendar feed (the link may have been replaced).');
      return;
    }
    res.status(200).type('text/calendar; charset=utf-8').setHeader('Cache-Control', 'private, max-age=300').send(ics);
  });

  for (const r of opts.extraRouters ?? []) app.use(r);

  const api = express.Router();
  api.use(express.json({ limit: opts.bodyLimit }));
  api.use(express.text({ type: ['text/csv', 'application/csv'], limit: opts.bodyLimit }));
  api.use(async (req: WithPrincipal, _res: Response, next: NextFunction) => {
    try {
      req[PRINCIPAL] = await opts.authenticate(bearerToken(req.headers.authorization));
      next();
    } catch (err) {
      next(err);
    }
  });
  api.use(
    rateLimit({
      windowMs: 60_000,
      limit: opts.rateLimitPerMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => (req as WithPrincipal)[PRINCIPAL]!.tenantId,
      handler: (_req, _res, next) => next(new MusterError('RATE_LIMITED', 'Too many requests for your organisation; try again in a minute', { retryAfterSeconds: 60 })),
    }),
  );
  registerRoutes(api, API_ROUTES, ctx, (req) => (req as WithPrincipal)[PRINCIPAL]!);
  app.use((req, res, next) => (req.path.startsWith('/api/') ? api(req, res, next) : next()));

  app.use('/api', (_req, _res, next) => next(new MusterError('NOT_FOUND', 'There is no such API route')));
  app.use(errorMiddleware(ctx.logger));
  return app;
}

function rsvpPage(title: string, text: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}@media (prefers-color-scheme:dark){body{background:#1b1b1b;color:#eee}}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`;
}
