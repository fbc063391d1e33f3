// Test wiring for the Google provider tests: a fresh emulator with simulated time, a delegated key, and providers whose backoff advances that time instead of waiting.
import { afterEach, expect } from 'vitest';
import { startGoogleEmulator, type GoogleEmulator, type GoogleEmulatorOptions } from '../emulators/google/index.js';
import { createGoogleProviders } from '../../src/providers/google/index.js';
import { DELEGATION_SCOPES } from '../../src/providers/google/google-auth.js';
import type { Logger } from '../../src/ports/index.js';

export const COORDINATOR = 'coord@acme.example';
export const ADMIN = 'it-admin@acme.example';

export interface LogLine {
  level: string;
  event: string;
  fields: Record<string, unknown> | undefined;
}

export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (event: string, fields?: Record<string, unknown>) => void lines.push({ level, event, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface GoogleWorld {
  emulator: GoogleEmulator;
  spreadsheetId: string;
  logger: ReturnType<typeof memoryLogger>;
  sleeps: number[];
  providers: ReturnType<typeof createGoogleProviders>;
  key: ReturnType<GoogleEmulator['createServiceAccountKey']>;
}

const open: GoogleEmulator[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

/** A running emulator (closed after each test) with a delegated key limited to the scopes Muster documents. */
export async function googleWorld(opts: GoogleEmulatorOptions & { directorySubject?: string | null } = {}): Promise<GoogleWorld> {
  const emulator = await startGoogleEmulator({ simulatedClock: true, startTime: Date.parse('2026-03-02T08:00:00Z'), ...opts });
  open.push(emulator);
  emulator.state.addUser({ email: COORDINATOR, name: 'Casey Coordinator' });
  emulator.state.addUser({ email: ADMIN, name: 'Ida Admin', isAdmin: true });
  const key = emulator.createServiceAccountKey({ delegatedScopes: DELEGATION_SCOPES });
  const spreadsheetId = emulator.state.createSpreadsheet('Muster records');
  const logger = memoryLogger();
  const sleeps: number[] = [];
  const providers = createGoogleProviders(
    {
      serviceAccountKey: key,
      impersonate: COORDINATOR,
      directorySubject: opts.directorySubject === null ? undefined : (opts.directorySubject ?? ADMIN),
      spreadsheetId,
      rootUrl: emulator.rootUrl,
      tokenUrl: emulator.tokenUrl,
    },
    {
      logger,
      sleep: async (ms) => {
        sleeps.push(ms);
        emulator.clock.advance(ms);
      },
      random: () => 0.5,
    },
  );
  return { emulator, spreadsheetId, logger, sleeps, providers, key };
}

/** Every request the emulator received validated against the discovery documents. */
export function expectNoViolations(emulator: GoogleEmulator): void {
  expect(emulator.violations()).toEqual([]);
}

export function callsOf(emulator: GoogleEmulator, methodId: string): number {
  return emulator.calls().filter((c) => c.methodId === methodId).length;
}
