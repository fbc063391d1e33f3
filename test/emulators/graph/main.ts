// Runs the Graph emulator as its own process (for crash tests): prints {baseUrl, authorityHost, ...} as one JSON line and serves until SIGTERM/SIGINT; nothing else.
// Usage: npx tsx test/emulators/graph/main.ts [port] [--simulated-clock] [--txn-window-ms=N] [--seed-user=a@b.c ...]
import { startGraphEmulator } from './index.js';

const args = process.argv.slice(2);
const port = Number(args.find((a) => /^\d+$/.test(a)) ?? '0');
const windowArg = args.find((a) => a.startsWith('--txn-window-ms='));
const emulator = await startGraphEmulator({
  port,
  simulatedClock: args.includes('--simulated-clock'),
  ...(windowArg ? { transactionIdWindowMs: Number(windowArg.split('=')[1]) } : {}),
});
for (const a of args.filter((x) => x.startsWith('--seed-user='))) emulator.state.addUser({ mail: a.slice('--seed-user='.length) });

process.stdout.write(
  `${JSON.stringify({
    baseUrl: emulator.baseUrl,
    authorityHost: emulator.authorityHost,
    knownAuthority: emulator.knownAuthority,
    tenantId: emulator.tenantId,
    clientId: emulator.clientId,
    clientSecret: emulator.clientSecret,
    pid: process.pid,
  })}\n`,
);

const stop = (): void => {
  emulator.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`graph emulator: close failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
