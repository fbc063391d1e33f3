// Test runner settings: real processes (forks) so the emulated identity platform's test CA is trusted from process start.
import { defineConfig } from 'vitest/config';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Node reads NODE_EXTRA_CA_CERTS only at start-up, so forks inherit it from here. A machine may already name a bundle
// of its own (this one names the system bundle): keep it and add the test CA, rather than replace it.
const testCa = resolve(import.meta.dirname, 'test/fixtures/tls/ca.pem');
const existing = process.env.NODE_EXTRA_CA_CERTS;
if (existing !== testCa && !existing?.includes('muster-ca-')) {
  const parts = [existing && existsSync(existing) ? readFileSync(existing, 'utf8') : '', readFileSync(testCa, 'utf8')];
  const bundle = join(mkdtempSync(join(tmpdir(), 'muster-ca-')), 'bundle.pem');
  writeFileSync(bundle, parts.filter(Boolean).join('\n'));
  process.env.NODE_EXTRA_CA_CERTS = bundle;
}

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
