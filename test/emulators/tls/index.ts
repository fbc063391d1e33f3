// Loads the committed test CA and server certificate for the local HTTPS emulators; it never generates keys or touches the system trust store.
import { readFileSync } from 'node:fs';
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
