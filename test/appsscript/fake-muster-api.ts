// A scripted stand-in for the Muster HTTP API on 127.0.0.1, for the add-on tests that need a particular answer (an error body, a slow domain); it records what it received and must never be mistaken for the real service (the acceptance test uses that).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}
export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  /** Raw text instead of JSON (e.g. an HTML error page from a proxy). */
  text?: string;
  headers?: Record<string, string>;
}
export type Route = (req: ReceivedRequest) => ScriptedAnswer;

export interface FakeMusterApi {
  origin: string;
  received: ReceivedRequest[];
  /** Routes by "METHOD /path"; unmatched requests get 404 with a Muster error body. */
  routes: Map<string, Route>;
  close(): Promise<void>;
}

export async function startFakeMusterApi(): Promise<FakeMusterApi> {
  const api: FakeMusterApi = { origin: '', received: [], routes: new Map(), close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      if ((req.headers['content-type'] ?? '').startsWith('application/json') && raw) body = JSON.parse(raw) as unknown;
      const received: ReceivedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      api.received.push(received);
      const route = api.routes.get(`${received.method} ${received.path}`);
      const answer: ScriptedAnswer = route ? route(received) : { status: 404, body: { error: { code: 'NOT_FOUND', message: 'No such route.' } } };
      const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
      res.writeHead(answer.status, { 'content-type': answer.text === undefined ? 'application/json' : 'text/html', ...(answer.headers ?? {}) });
      res.end(text);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  api.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  };
  return api;
}
