// The naive baseline: a client written the obvious way (one call per learner per item, no batching, one event per learner) with the same real SDKs against the same emulators; it waits what the vendor says by moving the simulated clock.
import { AuthenticationHandler, Client, GraphError, HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import { google } from 'googleapis';
import { GraphAuth } from '../src/providers/microsoft/graph-auth.js';
import { CLIENT_SCOPES, createJwtClient, parseServiceAccountKey } from '../src/providers/google/google-auth.js';
import { DELEGATION_SCOPES } from '../src/providers/google/index.js';
import { startGraphEmulator } from '../test/emulators/graph/index.js';
import { startGoogleEmulator } from '../test/emulators/google/index.js';
import { graphFigures, googleFigures, learnerEmail, ORGANIZER_GOOGLE, ORGANIZER_MS, sessionPlan, silentLogger, type LaunchFigures } from './launch.js';
import type { Scale } from './scale.js';

const MAX_TRIES = 1_000;

interface NaiveItem {
  email: string;
  name: string;
  sessionIndex: number;
}

function items(scale: Scale['launch']): NaiveItem[] {
  const perSession = Math.ceil(scale.learners / scale.sessions);
  return Array.from({ length: scale.learners }, (_, i) => ({ email: learnerEmail(i), name: `Learner ${i}`, sessionIndex: Math.floor(i / perSession) }));
}

function sessionTimes(scale: Scale['launch'], now: number): Array<{ start: string; end: string }> {
  // The same wall-clock plan Muster gets, as UTC instants (Berlin is UTC+1 or +2; one hour either way changes no count).
  return sessionPlan(scale.sessions, now).map((s) => ({ start: new Date(`${s.start}:00Z`).toISOString(), end: new Date(`${s.end}:00Z`).toISOString() }));
}

/** Seconds a refused call says to wait: Retry-After, else a "Retry after <date>" in the message, else a minute. */
function waitMsFrom(retryAfter: string | null | undefined, message: string, now: number): number {
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) return Math.max(1, Number(retryAfter)) * 1000;
  const at = /Retry after (\S+)/.exec(message)?.[1];
  if (at && !Number.isNaN(Date.parse(at))) return Math.max(1_000, Date.parse(at) - now + 1_000);
  return 60_000;
}

function usage(cpu0: NodeJS.CpuUsage, t0: number): { cpuMs: number; peakRssMb: number; wallMs: number } {
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, wallMs: performance.now() - t0 };
}

/** Graph the naive way: an event per learner, a sendMail per learner per reminder, each its own request. */
export async function runNaiveGraph(scale: Scale['launch']): Promise<LaunchFigures> {
  const em = await startGraphEmulator({ simulatedClock: true });
  try {
    em.state.addUser({ mail: ORGANIZER_MS, displayName: 'Training Team' });
    const auth = new GraphAuth({ authorityHost: em.authorityHost, logger: silentLogger, credential: { clientId: em.clientId, clientSecret: em.clientSecret } });
    const client = Client.initWithMiddleware({
      baseUrl: em.baseUrl,
      defaultVersion: 'v1.0',
      customHosts: new Set([new URL(em.baseUrl).hostname]),
      middleware: [new AuthenticationHandler({ getAccessToken: () => auth.appToken(em.tenantId) }), new HTTPMessageHandler()],
    });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    em.resetCounters();
    const call = async (path: string, body: unknown): Promise<void> => {
      for (let i = 0; i < MAX_TRIES; i++) {
        try {
          await client.api(path).post(body);
          return;
        } catch (err) {
          if (!(err instanceof GraphError) || err.statusCode !== 429) throw err;
          const headers = err.headers as { get?: (n: string) => string | null } | undefined;
          em.clock.advance(waitMsFrom(headers?.get?.('Retry-After'), err.message, em.clock.now()));
        }
      }
      throw new Error(`naive Graph call to ${path} was refused ${MAX_TRIES} times`);
    };
    const times = sessionTimes(scale, em.clock.now());
    const base = `/users/${encodeURIComponent(ORGANIZER_MS)}`;
    const list = items(scale);
    for (const l of list) {
      const t = times[l.sessionIndex]!;
      await call(`${base}/events`, {
        subject: `Benchmark Safety: ${l.name}`,
        body: { contentType: 'html', content: '<p>Fire exits and first aid</p>' },
        start: { dateTime: t.start.slice(0, 19), timeZone: 'UTC' },
        end: { dateTime: t.end.slice(0, 19), timeZone: 'UTC' },
        location: { displayName: 'Room 4.01' },
        attendees: [{ emailAddress: { address: l.email, name: l.name }, type: 'required' }],
      });
    }
    for (const step of scale.offsetsMinutes) {
      for (const l of list) {
        await call(`${base}/sendMail`, {
          Message: { subject: `Reminder (${step} min): Benchmark Safety`, body: { contentType: 'html', content: '<p>See you soon.</p>' }, toRecipients: [{ emailAddress: { address: l.email, name: l.name } }] },
          SaveToSentItems: true,
        });
      }
    }
    return { provider: 'microsoft', client: 'naive', learners: scale.learners, sessions: scale.sessions, ...graphFigures(em, ORGANIZER_MS), maxLatenessMs: null, ...usage(cpu0, t0) };
  } finally {
    await em.close();
  }
}

/** Google the naive way: an event per learner, a Gmail send per learner per reminder, a Sheets append per learner per tab. */
export async function runNaiveGoogle(scale: Scale['launch']): Promise<LaunchFigures> {
  const em = await startGoogleEmulator({ simulatedClock: true, startTime: Date.now() });
  try {
    em.state.addUser({ email: ORGANIZER_GOOGLE, name: 'Casey Coordinator' });
    const key = parseServiceAccountKey(em.createServiceAccountKey({ delegatedScopes: [...DELEGATION_SCOPES] }));
    const spreadsheetId = em.state.createSpreadsheet('Naive records');
    const common = { rootUrl: em.rootUrl, retry: false } as const;
    const calendar = google.calendar({ version: 'v3', auth: createJwtClient(key, ORGANIZER_GOOGLE, CLIENT_SCOPES.calendar, em.tokenUrl), ...common });
    const gmail = google.gmail({ version: 'v1', auth: createJwtClient(key, ORGANIZER_GOOGLE, CLIENT_SCOPES.gmail, em.tokenUrl), ...common });
    const sheets = google.sheets({ version: 'v4', auth: createJwtClient(key, ORGANIZER_GOOGLE, CLIENT_SCOPES.sheets, em.tokenUrl), ...common });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const from = em.calls().length;
    const call = async (fn: () => Promise<unknown>): Promise<void> => {
      for (let i = 0; i < MAX_TRIES; i++) {
        try {
          await fn();
          return;
        } catch (err) {
          const e = err as { status?: number; message?: string; response?: { headers?: Record<string, string> | { get?: (n: string) => string | null } } };
          if (e.status !== 429 && e.status !== 403) throw err;
          const h = e.response?.headers;
          const ra = h && typeof (h as { get?: unknown }).get === 'function' ? (h as { get: (n: string) => string | null }).get('retry-after') : (h as Record<string, string> | undefined)?.['retry-after'];
          em.clock.advance(waitMsFrom(ra, e.message ?? '', em.clock.now()));
        }
      }
      throw new Error(`a naive Google call was refused ${MAX_TRIES} times`);
    };
    const times = sessionTimes(scale, em.clock.now());
    const list = items(scale);
    await call(() => sheets.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests: [{ addSheet: { properties: { title: 'Naive roster' } } }, { addSheet: { properties: { title: 'Naive attendance' } } }] } }));
    for (const l of list) {
      const t = times[l.sessionIndex]!;
      await call(() => calendar.events.insert({ calendarId: ORGANIZER_GOOGLE, sendUpdates: 'all', requestBody: { summary: `Benchmark Safety: ${l.name}`, description: 'Fire exits and first aid', location: 'Room 4.01', start: { dateTime: t.start }, end: { dateTime: t.end }, attendees: [{ email: l.email, displayName: l.name }] } }));
      await call(() => sheets.spreadsheets.values.append({ spreadsheetId, range: "'Naive roster'!A1", valueInputOption: 'RAW', requestBody: { values: [[l.email, l.name, 'enrolled']] } }));
      await call(() => sheets.spreadsheets.values.append({ spreadsheetId, range: "'Naive attendance'!A1", valueInputOption: 'RAW', requestBody: { values: [[`Cohort ${l.sessionIndex + 1}`, l.email, l.name, 'enrolled']] } }));
    }
    for (const step of scale.offsetsMinutes) {
      for (const l of list) {
        const mime = [`From: Training <${ORGANIZER_GOOGLE}>`, `To: ${l.name} <${l.email}>`, `Subject: Reminder (${step} min): Benchmark Safety`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '', 'See you soon.'].join('\r\n');
        await call(() => gmail.users.messages.send({ userId: 'me', requestBody: { raw: Buffer.from(mime).toString('base64url') } }));
      }
    }
    return { provider: 'google', client: 'naive', learners: scale.learners, sessions: scale.sessions, ...googleFigures(em, from), maxLatenessMs: null, ...usage(cpu0, t0) };
  } finally {
    await em.close();
  }
}
