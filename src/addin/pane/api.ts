// Talks to Muster's HTTP API for the pane (same origin, bearer token from the caller) and turns error bodies into PaneError; it holds no token itself and never logs one.

export type Attendance = 'present' | 'late' | 'excused' | 'absent';
export type CheckStatus = 'ok' | 'warning' | 'blocking';

export interface ProgramSummary {
  id: string;
  name: string;
  code: string;
  status: string;
  sessions: number;
  learners: number;
}

export interface SessionSummary {
  id: string;
  programId: string;
  label: string;
  start: string;
  end: string;
  zone: string;
  room: string | null;
  onlineUrl: string | null;
  status: string;
}

export interface SessionInvite {
  sessionId: string;
  programId: string;
  subject: string;
  start: string;
  end: string;
  zone: string;
  localTimeText: string;
  location: string | null;
  onlineUrl: string | null;
  bodyHtml: string;
  attendees: { email: string; name: string }[];
}

export interface ChecklistItem {
  id: string;
  area: string;
  status: CheckStatus;
  reason: string;
  owner: string | null;
  signedOff: { by: string; note: string; at: string } | null;
}

export interface Checklist {
  items: ChecklistItem[];
  blocking: number;
  warnings: number;
}

export interface SessionLearner {
  enrollmentId: string;
  learnerId: string;
  email: string;
  name: string;
  rsvp: string;
  attendance: Attendance | null;
  status: string;
  missingPrerequisites: string[];
}

export interface SessionState {
  session: SessionSummary;
  counts: Record<'enrolled' | 'waitlisted' | 'accepted' | 'tentative' | 'declined' | 'noResponse' | 'present' | 'late' | 'excused' | 'absent', number>;
  learners: SessionLearner[];
}

export interface WhoAmI {
  tenantId: string;
  email: string | null;
  name: string | null;
  surface: string;
}

/** An API failure with Muster's stable code and its sentence (or a network failure, code NETWORK). */
export class PaneError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: { field: string; message: string }[];
  constructor(code: string, message: string, status = 0, details: { field: string; message: string }[] = []) {
    super(message);
    this.name = 'PaneError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export interface ApiClientOptions {
  /** Origin of the Muster service; '' for same origin. */
  baseUrl?: string;
  /** Returns the bearer token for each call. */
  getToken: () => Promise<string>;
  fetch?: typeof fetch;
}

export interface ApiClient {
  whoami(): Promise<WhoAmI>;
  programs(): Promise<ProgramSummary[]>;
  sessions(programId: string): Promise<SessionSummary[]>;
  invite(sessionId: string): Promise<SessionInvite>;
  sessionState(sessionId: string): Promise<SessionState>;
  checklist(programId: string): Promise<Checklist>;
  sendRemindersNow(sessionId: string): Promise<{ sent: number; skipped: number }>;
  nudge(sessionId: string): Promise<{ sent: number }>;
  markAttendance(sessionId: string, entries: { email: string; attendance: Attendance }[]): Promise<{ updated: number }>;
  logQuestion(programId: string, text: string, learnerEmail: string | null): Promise<unknown>;
}

function parseErrorBody(body: unknown): { code: string; message: string; details: { field: string; message: string }[] } | null {
  if (typeof body !== 'object' || body === null) return null;
  const err = (body as { error?: unknown }).error;
  if (typeof err !== 'object' || err === null) return null;
  const { code, message, details } = err as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  return { code, message, details: Array.isArray(details) ? (details as { field: string; message: string }[]) : [] };
}

export function createApiClient(opts: ApiClientOptions): ApiClient {
  const base = (opts.baseUrl ?? '').replace(/\/+$/, '');
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const token = await opts.getToken();
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
    } catch (err) {
      throw new PaneError('NETWORK', 'Muster could not be reached; check the connection and try again.', 0, [{ field: 'network', message: err instanceof Error ? err.message : 'fetch failed' }]);
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!res.ok) {
      const e = parseErrorBody(parsed);
      if (e) throw new PaneError(e.code, e.message, res.status, e.details);
      throw new PaneError(res.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL', `Muster answered ${res.status} ${res.statusText}.`.replace(/ \./, '.'), res.status);
    }
    return parsed as T;
  }

  const id = encodeURIComponent;
  return {
    whoami: () => call('GET', '/api/whoami'),
    programs: () => call('GET', '/api/programs'),
    sessions: (programId) => call('GET', `/api/programs/${id(programId)}/sessions`),
    invite: (sessionId) => call('GET', `/api/sessions/${id(sessionId)}/invite`),
    sessionState: (sessionId) => call('GET', `/api/sessions/${id(sessionId)}/state`),
    checklist: (programId) => call('GET', `/api/programs/${id(programId)}/checklist`),
    sendRemindersNow: (sessionId) => call('POST', `/api/sessions/${id(sessionId)}/reminders/send-now`, {}),
    nudge: (sessionId) => call('POST', `/api/sessions/${id(sessionId)}/nudge`, {}),
    markAttendance: (sessionId, entries) => call('POST', `/api/sessions/${id(sessionId)}/attendance`, { entries }),
    logQuestion: (programId, text, learnerEmail) =>
      call('POST', `/api/programs/${id(programId)}/questions`, learnerEmail ? { text, learnerEmail } : { text }),
  };
}
