// Test runner settings: real processes (forks) so the emulated identity platform's test CA is trusted from process start.
import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

// Node reads NODE_EXTRA_CA_CERTS only at start-up; forks inherit it from here.
process.env.NODE_EXTRA_CA_CERTS ??= resolve(import.meta.dirname, 'test/fixtures/tls/ca.pem');

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
