// Standalone entry for the Google emulator: starts it, prints {rootUrl, tokenUrl, serviceAccountKey, spreadsheetId} as one JSON line, and stays up until SIGTERM/SIGINT; state lives only in this process.
import { startGoogleEmulator } from './index.js';

const emulator = await startGoogleEmulator({ simulatedClock: process.env.GOOGLE_EMULATOR_SIMULATED_CLOCK === '1' });
// A test key (generated now, never a real credential) and an empty spreadsheet, so a child process can be driven at once.
const serviceAccountKey = emulator.createServiceAccountKey();
const spreadsheetId = emulator.state.createSpreadsheet('Muster records');
for (const admin of (process.env.GOOGLE_EMULATOR_ADMINS ?? '').split(',').filter(Boolean)) emulator.state.setAdmin(admin, true);
process.stdout.write(`${JSON.stringify({ rootUrl: emulator.rootUrl, tokenUrl: emulator.tokenUrl, serviceAccountKey, spreadsheetId })}\n`);

const stop = (): void => {
  emulator.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`google emulator: close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
