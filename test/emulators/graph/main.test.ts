// The standalone emulator process (main.ts): it prints where it listens, serves the real SDK clients, and is arranged and inspected through /_emulator/.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMicrosoftProviders } from '../../../src/providers/microsoft/index.js';
import { TEST_CA_PATH, trustTestCaInProcess } from '../tls/index.js';
import { captureLogger, sampleSession } from '../../microsoft/helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
let child: ChildProcess;
let info: { baseUrl: string; authorityHost: string; tenantId: string; clientId: string; clientSecret: string };

const control = async (method: string, path: string, body?: unknown): Promise<any> => {
  const res = await fetch(`${info.baseUrl}/_emulator${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
};

beforeAll(async () => {
  await trustTestCaInProcess();
  child = spawn(resolve(ROOT, 'node_modules/.bin/tsx'), [resolve(ROOT, 'test/emulators/graph/main.ts'), '0', '--seed-user=organizer@contoso.com'], {
    cwd: ROOT,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA_PATH },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  info = JSON.parse(first);
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
});

describe('standalone emulator', () => {
  it('when started as a process, then it prints its URLs and the real clients create an event exactly once through a dropped connection', async () => {
    expect(info.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const providers = createMicrosoftProviders(
      { tenantId: info.tenantId, clientId: info.clientId, clientSecret: info.clientSecret, organizer: 'organizer@contoso.com', authorityHost: info.authorityHost, graphBaseUrl: info.baseUrl, addinId: null, appOnlyWorkbook: false },
      { logger: captureLogger(), clientTuning: { sleep: async () => undefined } },
    );
    await control('POST', '/faults', { match: { method: 'POST', path: 're:/events$' }, fault: { kind: 'drop', afterEffect: true } });
    const ev = sampleSession({ organizer: { email: 'organizer@contoso.com', name: 'Org' }, roomEmail: null });
    const ref = await providers.calendar.ensureEvent(ev);
    const events = (await control('GET', '/state/events?mailbox=organizer@contoso.com')).value as Array<{ id: string }>;
    expect(events.map((e) => e.id)).toEqual([ref.externalId]);
    expect((await control('GET', '/violations')).value).toEqual([]);
    expect((await control('GET', '/counters')).named.dropped).toBe(1);
  });
});
