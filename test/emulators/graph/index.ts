// Starts the Microsoft Graph + identity platform emulator and hands tests its state, faults, violations and counters; the one entry point other tests import.
import { trustTestCaInProcess } from '../tls/index.js';
import { loadCsdl } from './csdl.js';
import { handleControl } from './control.js';
import { type EmulatorClock, realClock, simulatedClock } from './clock.js';
import { Faults } from './faults.js';
import { GraphRoutes, type RouteSettings, type Violation } from './graph-routes.js';
import { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_DOMAIN, DEFAULT_TENANT_ID, Identity } from './identity.js';
import { type Counters, EmulatorServer } from './server.js';
import { GraphState } from './state.js';

export { DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_DOMAIN, DEFAULT_TENANT_ID } from './identity.js';
export { addinPropertyId, PS_PUBLIC_STRINGS } from './state.js';
export type { EventView, MessageView, EmUser, AttendeeResponseType } from './state.js';
export type { Fault, FaultRule, FaultMatch, RandomFaults } from './faults.js';
export type { Violation } from './graph-routes.js';
export type { Counters } from './server.js';
export type { GraphState } from './state.js';
export type { Identity } from './identity.js';
export type { Faults } from './faults.js';

export interface GraphEmulatorOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** transactionId dedupe window in ms (default 10 minutes; 0 turns dedupe off). */
  transactionIdWindowMs?: number;
  /** Use a clock that only moves on emulator.clock.advance(ms) (send rates, dedupe window). */
  simulatedClock?: boolean;
  maxConcurrentPerMailbox?: number;
  maxBatchSize?: number;
  maxAttendees?: number;
  sendsPerMinute?: number;
  recipientsPerDay?: number;
  /** How long Exchange takes to file a sendMail's Sent Items copy (default 0: at once). */
  sentCopyDelayMs?: number;
  /** Default page size for directory lists (default 100). */
  pageSize?: number;
}

export interface GraphEmulator {
  /** Graph base without /v1.0, e.g. https://127.0.0.1:PORT. */
  readonly baseUrl: string;
  /** Identity platform host, e.g. https://127.0.0.1:PORT (same server). */
  readonly authorityHost: string;
  /** host:port, as msal's knownAuthorities wants it. */
  readonly knownAuthority: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly state: GraphState;
  readonly identity: Identity;
  readonly faults: Faults;
  readonly clock: EmulatorClock;
  readonly settings: RouteSettings;
  /** Every CSDL violation seen in request (and response) bodies; a test suite fails if this is not empty. */
  violations(): Violation[];
  counters(): Counters;
  resetCounters(): void;
  close(): Promise<void>;
}

export async function startGraphEmulator(opts: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
  await trustTestCaInProcess();
  const csdl = loadCsdl();
  const clock = opts.simulatedClock ? simulatedClock() : realClock();
  const state = new GraphState(clock);
  const violations: Violation[] = [];
  const newCounters = (): Counters => ({ requests: 0, perMailbox: {}, perEndpoint: {}, batchItems: {}, batches: {}, named: {} });
  let counters = newCounters();
  const settings: RouteSettings = {
    transactionIdWindowMs: opts.transactionIdWindowMs ?? 10 * 60 * 1000,
    maxAttendees: opts.maxAttendees ?? 500,
    sendsPerMinute: opts.sendsPerMinute ?? 30,
    recipientsPerDay: opts.recipientsPerDay ?? 10_000,
    pageSize: opts.pageSize ?? 100,
    sentCopyDelayMs: opts.sentCopyDelayMs ?? 0,
  };
  let origin = '';
  const identity = new Identity(() => origin);
  const faults = new Faults();
  const routes = new GraphRoutes({
    state,
    csdl,
    settings,
    baseUrl: () => origin,
    recordViolation: (v) => violations.push(v),
    count: (name, n = 1) => {
      counters.named[name] = (counters.named[name] ?? 0) + n;
    },
  });
  const server = new EmulatorServer({
    state,
    identity,
    faults,
    routes,
    get counters() {
      return counters;
    },
    maxConcurrentPerMailbox: opts.maxConcurrentPerMailbox ?? 4,
    maxBatchSize: opts.maxBatchSize ?? 20,
    control: (method, path, query, body) => handleControl({ state, faults, clock, settings, violations: () => [...violations], counters: () => counters }, method, path, query, body),
  });
  await server.listen(opts.port ?? 0);
  origin = server.origin;
  return {
    baseUrl: origin,
    authorityHost: origin,
    knownAuthority: `127.0.0.1:${server.port}`,
    tenantId: DEFAULT_TENANT_ID,
    clientId: DEFAULT_CLIENT_ID,
    clientSecret: DEFAULT_CLIENT_SECRET,
    state,
    identity,
    faults,
    clock,
    settings,
    violations: () => violations.map((v) => ({ ...v, errors: [...v.errors] })),
    counters: () => structuredClone(counters),
    resetCounters: () => {
      counters = newCounters();
    },
    close: () => server.close(),
  };
}

/** Default tenant domain, for tests that address the tenant by name. */
export const EMULATOR_TENANT_DOMAIN = DEFAULT_TENANT_DOMAIN;
