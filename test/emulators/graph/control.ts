// The emulator's test-control API under /_emulator/ (arrange state, program faults, read violations and counters) for tests that run it as a separate process; Graph clients never call it.
import type { EmulatorClock } from './clock.js';
import type { Fault, FaultRule, Faults } from './faults.js';
import type { GraphResponse, RouteSettings, Violation } from './graph-routes.js';
import type { Counters } from './server.js';
import type { AttendeeResponseType, GraphState } from './state.js';

export interface ControlDeps {
  state: GraphState;
  faults: Faults;
  clock: EmulatorClock;
  settings: RouteSettings;
  violations: () => Violation[];
  counters: () => Counters;
}

type Body = Record<string, unknown>;

const ok = (body: unknown = { ok: true }): GraphResponse => ({ status: 200, body });
const bad = (message: string): GraphResponse => ({ status: 400, body: { error: { code: 'BadControlRequest', message } } });

/** A JSON fault rule: match.path "re:<pattern>" is a regular expression, any other string a substring. */
function parseRule(b: Body): FaultRule {
  const match = (b['match'] ?? {}) as { method?: string; path?: string; mailbox?: string };
  const fault = b['fault'] as Fault & { retryAfterDate?: string };
  if (!fault || typeof fault !== 'object' || !('kind' in fault)) throw new Error('fault.kind is required');
  const parsedFault: Fault = fault.kind === 'status' && fault.retryAfterDate ? { ...fault, retryAfter: new Date(fault.retryAfterDate) } : fault;
  return {
    match: {
      ...(match.method ? { method: match.method } : {}),
      ...(match.mailbox ? { mailbox: match.mailbox } : {}),
      ...(match.path ? { path: match.path.startsWith('re:') ? new RegExp(match.path.slice(3)) : match.path } : {}),
    },
    ...(typeof b['times'] === 'number' ? { times: b['times'] } : {}),
    ...(typeof b['skip'] === 'number' ? { skip: b['skip'] } : {}),
    fault: parsedFault,
  };
}

export function handleControl(d: ControlDeps, method: string, path: string, query: URLSearchParams, body: unknown): GraphResponse {
  const b = (body ?? {}) as Body;
  const mailbox = query.get('mailbox') ?? '';
  try {
    switch (`${method} ${path}`) {
      case 'GET /_emulator/state/events':
        return ok({ value: d.state.events(mailbox) });
      case 'GET /_emulator/state/sent':
        return ok({ value: d.state.messagesSent(mailbox) });
      case 'GET /_emulator/state/drafts':
        return ok({ value: d.state.drafts(mailbox) });
      case 'POST /_emulator/state/users':
        return ok(d.state.addUser(b as { mail: string }));
      case 'POST /_emulator/state/rooms':
        return ok(d.state.addRoom(b as { mail: string }));
      case 'POST /_emulator/state/allowed-providers':
        d.state.setAllowedOnlineMeetingProviders(String(b['mailbox']), (b['providers'] as string[] | undefined) ?? []);
        return ok();
      case 'POST /_emulator/state/response':
        d.state.setResponse(String(b['eventId']), String(b['email']), String(b['response']) as AttendeeResponseType);
        return ok();
      case 'POST /_emulator/faults':
        d.faults.inject(parseRule(b));
        return ok();
      case 'POST /_emulator/faults/random':
        d.faults.setRandom({ rate: Number(b['rate']), seed: Number(b['seed']), faults: (b['faults'] as Fault[] | undefined) ?? [] });
        return ok();
      case 'DELETE /_emulator/faults':
        d.faults.clear();
        return ok();
      case 'POST /_emulator/clock/advance':
        d.clock.advance(Number(b['ms']));
        return ok({ now: new Date(d.clock.now()).toISOString() });
      case 'POST /_emulator/settings':
        if (typeof b['transactionIdWindowMs'] === 'number') d.settings.transactionIdWindowMs = b['transactionIdWindowMs'];
        if (typeof b['sentCopyDelayMs'] === 'number') d.settings.sentCopyDelayMs = b['sentCopyDelayMs'];
        return ok(d.settings);
      case 'GET /_emulator/violations':
        return ok({ value: d.violations() });
      case 'GET /_emulator/counters':
        return ok(d.counters());
      default:
        return { status: 404, body: { error: { code: 'UnknownControl', message: `No control endpoint ${method} ${path}` } } };
    }
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  }
}
