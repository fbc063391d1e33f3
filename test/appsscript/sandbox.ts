// Runs the built Apps Script add-on (appsscript/build/*.js) in node:vm inside a worker thread with the fakes from fakes.ts, so UrlFetchApp.fetch can block like Apps Script's while this thread performs the real HTTP request; it never edits the built files.
import vm from 'node:vm';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, MessageChannel, parentPort, receiveMessageOnPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { createAppsScriptGlobals, emptyEvents, type AuthModeName, type FakeEnvironment, type FetchReply, type FetchRequest, type SandboxEvents, type SheetSpec } from './fakes.js';

export type { AuthModeName, SandboxEvents, SheetSpec } from './fakes.js';

export interface SandboxOptions {
  /** The output of appsscript/build.mjs. */
  buildDir: string;
  sheets?: SheetSpec[];
  activeSheet?: string | null;
  selection?: string[];
  documentProperties?: Record<string, string>;
  identityToken?: string | null;
}

export type CallResult = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string } };
export interface CallOutcome {
  result: CallResult;
  /** What the script did during this call only. */
  events: SandboxEvents;
  /** The Sheet's document properties after the call. */
  documentProperties: Record<string, string>;
}

export interface AppsScriptSandbox {
  /** Fires a simple trigger (onOpen, onInstall) with an event object in the given authorization mode. */
  trigger(name: 'onOpen' | 'onInstall', authMode: AuthModeName): Promise<CallOutcome>;
  /** Calls a server function as google.script.run does: AuthMode.FULL, arguments and result limited to what it can carry. */
  run(functionName: string, ...args: unknown[]): Promise<CallOutcome>;
  /** Calls a function as a menu item does (AuthMode.FULL, no arguments). */
  menu(functionName: string): Promise<CallOutcome>;
  /** Loads another build (a fresh global scope), or changes the Sheet, what the user has open or selected, its document properties, or the identity token ScriptApp hands out. */
  configure(change: SandboxChange): Promise<void>;
  /** Names of the script's global functions. */
  functionNames(): Promise<string[]>;
  close(): Promise<void>;
}

export type SandboxChange = Partial<Pick<SandboxOptions, 'buildDir' | 'sheets' | 'activeSheet' | 'selection' | 'documentProperties' | 'identityToken'>>;

type Op =
  | { op: 'call'; kind: 'trigger' | 'run' | 'menu'; name: string; args: unknown[]; authMode: AuthModeName }
  | { op: 'configure'; change: SandboxChange }
  | { op: 'functions' };

const FETCH_TIMEOUT_MS = 60_000;

/** Starts a sandbox worker that has loaded the built script. */
export async function startSandbox(opts: SandboxOptions): Promise<AppsScriptSandbox> {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1: fetchPort, port2: workerFetchPort } = new MessageChannel();
  const worker = new Worker(new URL('./sandbox-boot.mjs', import.meta.url), {
    workerData: { appsScriptSandbox: true, opts, signal, fetchPort: workerFetchPort },
    transferList: [workerFetchPort],
  });

  fetchPort.on('message', (req: FetchRequest) => {
    void performFetch(req).then((reply) => {
      fetchPort.postMessage(reply);
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
  });

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let failure: Error | null = null;
  worker.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.value);
  });
  worker.on('error', (err) => {
    failure = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });

  const send = <T>(op: Op): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, ...op });
    });
  };

  await send<void>({ op: 'configure', change: {} });

  return {
    trigger: (name, authMode) => send<CallOutcome>({ op: 'call', kind: 'trigger', name, args: [], authMode }),
    run: (functionName, ...args) => send<CallOutcome>({ op: 'call', kind: 'run', name: functionName, args, authMode: 'FULL' }),
    menu: (functionName) => send<CallOutcome>({ op: 'call', kind: 'menu', name: functionName, args: [], authMode: 'FULL' }),
    configure: (change) => send<void>({ op: 'configure', change }),
    functionNames: () => send<string[]>({ op: 'functions' }),
    close: async () => {
      fetchPort.close();
      await worker.terminate();
    },
  };
}

async function performFetch(req: FetchRequest): Promise<FetchReply> {
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: req.followRedirects ? 'follow' : 'manual',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return { status: res.status, headers, body: await res.text() };
  } catch (err) {
    return { networkError: err instanceof Error ? err.message : String(err) };
  }
}

// ------------------------------------------------------------------ worker side

/** google.script.run carries primitives, arrays and plain objects only; anything else arrives as null in Apps Script, which the sandbox reports loudly instead. */
function assertScriptRunValue(value: unknown, path: string): void {
  if (value === null || value === undefined) return;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return;
  if (t !== 'object') throw new Error(`Sandbox: google.script.run cannot carry a ${t} at ${path}.`);
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertScriptRunValue(v, `${path}[${i}]`));
    return;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== null && Object.getPrototypeOf(proto) !== null) {
    throw new Error(`Sandbox: google.script.run cannot carry ${Object.prototype.toString.call(value)} at ${path} (Apps Script would deliver null).`);
  }
  for (const [k, v] of Object.entries(value as object)) assertScriptRunValue(v, `${path}.${k}`);
}

function toPlain(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function runWorker(): void {
  const data = workerData as { opts: SandboxOptions; signal: Int32Array; fetchPort: MessagePort };
  const { opts, signal, fetchPort } = data;

  const fetchSync = (req: FetchRequest): FetchReply => {
    Atomics.store(signal, 0, 0);
    fetchPort.postMessage(req);
    const deadline = Date.now() + FETCH_TIMEOUT_MS + 5_000;
    for (;;) {
      const got = receiveMessageOnPort(fetchPort);
      if (got) {
        Atomics.store(signal, 0, 0);
        return got.message as FetchReply;
      }
      if (Date.now() > deadline) return { networkError: 'timeout' };
      Atomics.wait(signal, 0, 0, 50);
    }
  };

  const env: FakeEnvironment = {
    buildDir: opts.buildDir,
    sheets: opts.sheets ?? [],
    activeSheet: opts.activeSheet ?? null,
    selection: opts.selection ?? [],
    documentProperties: { ...(opts.documentProperties ?? {}) },
    identityToken: opts.identityToken ?? null,
    authMode: 'FULL',
    events: emptyEvents(),
    fetchSync,
  };

  let globals: Record<string, unknown> = {};
  let ctx: vm.Context = vm.createContext({});
  /** Loads a build into a fresh global scope, as a new script project would start. */
  const load = (dir: string): void => {
    env.buildDir = dir;
    const context = vm.createContext({});
    globals = createAppsScriptGlobals(env, () => context);
    Object.assign(context, globals);
    // Apps Script loads every server file into one global scope, in the project's file order (clasp pushes alphabetically).
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.js') || f.endsWith('.gs'))
      .sort();
    for (const f of files) vm.runInContext(readFileSync(join(dir, f), 'utf8'), context, { filename: f });
    ctx = context;
  };
  load(opts.buildDir);

  const builtins = new Set(vm.runInContext('Object.getOwnPropertyNames(globalThis)', vm.createContext({})) as string[]);
  const functionNames = (): string[] =>
    (vm.runInContext('Object.getOwnPropertyNames(globalThis)', ctx) as string[]).filter(
      (n) => !builtins.has(n) && !(n in globals) && typeof (vm.runInContext(`typeof ${n} === 'function' ? ${n} : null`, ctx) as unknown) === 'function',
    );

  parentPort!.on('message', (m: { id: number } & Op) => {
    try {
      if (m.op === 'configure') {
        if (m.change.buildDir !== undefined) load(m.change.buildDir);
        if (m.change.sheets !== undefined) env.sheets = m.change.sheets;
        if (m.change.documentProperties !== undefined) env.documentProperties = { ...m.change.documentProperties };
        if (m.change.activeSheet !== undefined) env.activeSheet = m.change.activeSheet;
        if (m.change.selection !== undefined) env.selection = [...m.change.selection];
        if (m.change.identityToken !== undefined) env.identityToken = m.change.identityToken;
        parentPort!.postMessage({ id: m.id, value: null });
        return;
      }
      if (m.op === 'functions') {
        parentPort!.postMessage({ id: m.id, value: functionNames() });
        return;
      }
      env.events = emptyEvents();
      env.authMode = m.authMode;
      let result: CallResult;
      try {
        const fn = vm.runInContext(`typeof ${m.name} === 'function' ? ${m.name} : null`, ctx) as ((...a: unknown[]) => unknown) | null;
        if (!fn) throw new Error(`Script function not found: ${m.name}`);
        if (m.name.endsWith('_') && m.kind === 'run') throw new Error(`Sandbox: google.script.run cannot call the private function ${m.name}.`);
        let args = m.args;
        if (m.kind === 'trigger') {
          const authMode = (globals.ScriptApp as { AuthMode: Record<string, object> }).AuthMode[m.authMode];
          args = [{ authMode, triggerUid: 'sandbox-trigger' }];
        }
        if (m.kind === 'run') m.args.forEach((a, i) => assertScriptRunValue(a, `argument ${i}`));
        const value = fn(...args);
        if (m.kind === 'run') assertScriptRunValue(value, 'result');
        result = { ok: true, value: toPlain(value) };
      } catch (err) {
        // Errors thrown by the script come from the vm's realm: `instanceof Error` is false for them.
        const e = err as { name?: unknown; message?: unknown } | null;
        const isErrorLike = typeof e === 'object' && e !== null && typeof e.message === 'string';
        result = { ok: false, error: { name: isErrorLike && typeof e.name === 'string' ? e.name : 'Error', message: isErrorLike ? (e.message as string) : String(err) } };
      }
      env.authMode = 'FULL';
      parentPort!.postMessage({ id: m.id, value: { result, events: env.events, documentProperties: { ...env.documentProperties } } });
    } catch (err) {
      parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  });
}

if (!isMainThread && (workerData as { appsScriptSandbox?: boolean } | null)?.appsScriptSandbox === true) runWorker();
