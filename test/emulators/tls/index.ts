// Loads the committed test CA and server certificate for the local HTTPS emulators; it never generates keys or touches the system trust store.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/tls');

export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
}

let cached: TlsMaterial | undefined;

/** The server key, certificate and CA (PEM) every emulator serves with. */
export function loadTestTls(): TlsMaterial {
  cached ??= {
    key: readFileSync(resolve(FIXTURES, 'server-key.pem'), 'utf8'),
    cert: readFileSync(resolve(FIXTURES, 'server-cert.pem'), 'utf8'),
    ca: readFileSync(resolve(FIXTURES, 'ca.pem'), 'utf8'),
  };
  return cached;
}

/** Path of the CA file, for NODE_EXTRA_CA_CERTS in child processes. */
export const TEST_CA_PATH = resolve(FIXTURES, 'ca.pem');

const DISPATCHER = Symbol.for('undici.globalDispatcher.1');
let trusted = false;

/**
 * Makes this process's fetch (used by msal-node and the Graph client) trust the test CA next to the system roots.
 * Needed when NODE_EXTRA_CA_CERTS was already set to something else before the process started (Node reads it only then).
 * Node 20 bundles undici without exporting Agent, so the Agent class is taken from fetch's own default dispatcher.
 */
export async function trustTestCaInProcess(): Promise<void> {
  if (trusted) return;
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  if (extra && resolve(extra) === TEST_CA_PATH) {
    trusted = true;
    return;
  }
  await (await fetch('data:,init')).text();
  const holder = globalThis as unknown as Record<symbol, { constructor: new (opts: unknown) => unknown } | undefined>;
  const current = holder[DISPATCHER];
  if (!current) throw new Error('fetch has no global dispatcher to extend with the test CA');
  const { rootCertificates } = await import('node:tls');
  const ca = [...rootCertificates, loadTestTls().ca];
  if (extra && existsSync(extra)) ca.push(readFileSync(extra, 'utf8'));
  holder[DISPATCHER] = new current.constructor({ connect: { ca } }) as { constructor: new (opts: unknown) => unknown };
  trusted = true;
}
