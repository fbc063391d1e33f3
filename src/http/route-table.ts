// Declares routes once (method, path, zod schemas, handler) so Express registration and /openapi.json cannot drift apart.
import type { Request, Response, Router } from 'express';
import { z, type ZodType } from 'zod';
import { MusterError } from '../domain/errors.js';
import type { Actor, AppContext } from '../app/context.js';
import type { Principal } from './auth/principal.js';
import { fromZod } from './errors.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface HandlerInput<B, Q> {
  ctx: AppContext;
  principal: Principal;
  actor: Actor;
  params: Record<string, string>;
  body: B;
  query: Q;
  req: Request;
  res: Response;
}

export interface RouteDef<B = unknown, Q = unknown> {
  method: Method;
  /** Express-style path, e.g. /api/programs/:programId */
  path: string;
  summary: string;
  tag: string;
  body?: ZodType<B>;
  query?: ZodType<Q>;
  /** Also accept text/csv bodies (the handler gets the text as `body.csv`). */
  acceptsCsv?: boolean;
  status?: number;
  handler: (input: HandlerInput<B, Q>) => Promise<unknown>;
}

export function route<B = undefined, Q = undefined>(def: RouteDef<B, Q>): RouteDef<unknown, unknown> {
  return def as unknown as RouteDef<unknown, unknown>;
}

/** Registers authenticated API routes; `principalOf` reads what the auth middleware put on the request. */
export function registerRoutes(router: Router, routes: RouteDef[], ctx: AppContext, principalOf: (req: Request) => Principal): void {
  for (const r of routes) {
    router[r.method](r.path, async (req: Request, res: Response) => {
      const principal = principalOf(req);
      let body: unknown = undefined;
      if (r.acceptsCsv && typeof req.body === 'string') body = { csv: req.body };
      else if (r.body) {
        const parsed = r.body.safeParse(req.body ?? {});
        if (!parsed.success) throw fromZod(parsed.error);
        body = parsed.data;
      }
      let query: unknown = undefined;
      if (r.query) {
        const parsed = r.query.safeParse(req.query);
        if (!parsed.success) throw fromZod(parsed.error, 'The query string');
        query = parsed.data;
      }
      const actor: Actor = { tenantId: principal.tenantId, actor: principal.email ?? principal.subject, surface: principal.surface === 'api' ? 'api' : principal.surface };
      const result = await r.handler({ ctx, principal, actor, params: req.params as Record<string, string>, body, query, req, res });
      if (res.headersSent) return;
      if (result === undefined) res.status(r.status ?? 204).end();
      else res.status(r.status ?? 200).json(result);
    });
  }
}

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function schemaOf(t: ZodType): unknown {
  try {
    return z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' });
  } catch (err) {
    throw new MusterError('INTERNAL', 'A route schema could not be described for OpenAPI', { cause: err });
  }
}

/** OpenAPI 3.1 from the same route table the server registers. */
export function openApiDocument(routes: RouteDef[], info: { title: string; version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = toOpenApiPath(r.path);
    const params = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      security: [{ bearer: [] }],
      parameters: params,
      responses: {
        [String(r.status ?? 200)]: { description: 'Success' },
        '400': { description: 'Invalid input; `error.details` names each field (and row, for CSV)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '401': { description: 'No valid token' },
        '404': { description: 'Not found in your tenant' },
      },
    };
    if (r.query) {
      const qs = schemaOf(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(qs.properties ?? {})) (op.parameters as unknown[]).push({ name, in: 'query', required: qs.required?.includes(name) ?? false, schema });
    }
    if (r.body) {
      const content: Record<string, unknown> = { 'application/json': { schema: schemaOf(r.body) } };
      if (r.acceptsCsv) content['text/csv'] = { schema: { type: 'string', description: 'CSV with a header row (Email, Name, Manager Email, Time Zone, Department, Language, Session)' } };
      op.requestBody = { required: true, content };
    }
    (paths[p] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    servers: [{ url: info.serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The install API token, an Entra access token (Outlook) or a Google identity token (Sheets)' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' }, row: { type: 'integer' } } } } },
            },
          },
        },
      },
    },
    paths,
  };
}
