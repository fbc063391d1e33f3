// Roster sync into the shared Google Sheet: a full first sync of N rows, then people edit a few cells and Muster syncs again; counts the Sheets requests each sync makes against the emulator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import type { ProviderSet } from '../src/app/context.js';
import { syncRecords } from '../src/app/records-sync.js';
import { GMAIL_LIMITS } from '../src/domain/budget.js';
import { TAB } from '../src/domain/records.js';
import { createGoogleProviders, DELEGATION_SCOPES } from '../src/providers/google/index.js';
import { startGoogleEmulator } from '../test/emulators/google/index.js';
import { ORGANIZER_GOOGLE, silentLogger } from './names.js';
import { googleCost } from './quota-model.js';
import { seedProgram } from './seed.js';

export interface SyncFigures {
  requests: number;
  reads: number;
  writes: number;
  /** One read of every tab (values.batchGet or spreadsheets.get) and one write carrying every change (batchUpdate, or one values write by key). */
  lowerBound: number;
  written: number;
  imported: number;
  wallMs: number;
}

export interface RosterSyncFigures {
  rows: number;
  edits: number;
  initial: SyncFigures;
  afterEdits: SyncFigures;
}

export async function runRosterSync(scale: { rows: number; edits: number }): Promise<RosterSyncFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'muster-bench-sync-'));
  const em = await startGoogleEmulator({ simulatedClock: true, startTime: Date.now() });
  try {
    em.state.addUser({ email: ORGANIZER_GOOGLE, name: 'Casey Coordinator' });
    const key = em.createServiceAccountKey({ delegatedScopes: [...DELEGATION_SCOPES] });
    const spreadsheetId = em.state.createSpreadsheet('Muster records');
    const config = loadConfig({ MUSTER_DATA_DIR: dataDir, MUSTER_LOG_LEVEL: 'silent', MUSTER_WORKER: 'off', MUSTER_SEED_DEMO: 'false' });
    const rt = await createRuntime(config, { clock: { now: () => new Date(em.clock.now()) }, logger: silentLogger });
    const g = createGoogleProviders({ serviceAccountKey: key, impersonate: ORGANIZER_GOOGLE, spreadsheetId, rootUrl: em.rootUrl, tokenUrl: em.tokenUrl }, { logger: silentLogger, sleep: async (ms) => em.clock.advance(ms), random: () => 0.5 });
    const set: ProviderSet = { calendar: g.calendar, mailer: g.mailer, directory: null, recordsFor: () => g.records, sender: { email: ORGANIZER_GOOGLE, name: 'Training coordination' }, limits: { ...GMAIL_LIMITS }, renderInvitation: null };
    rt.ctx.providersFor = async () => set;
    const { program } = await seedProgram(rt.store, { tenantId: config.MUSTER_TENANT, learners: scale.rows, perSession: 50, launched: true, now: em.clock.now() });

    const measure = async (): Promise<SyncFigures> => {
      const from = em.calls().length;
      const t0 = performance.now();
      const r = await syncRecords(rt.ctx, set, program);
      const wallMs = performance.now() - t0;
      const calls = em.calls().slice(from);
      const costs = calls.map((c) => googleCost(c.methodId));
      return {
        requests: calls.length,
        reads: costs.filter((c) => c['sheets.reads']).length,
        writes: costs.filter((c) => c['sheets.writes']).length,
        lowerBound: 2,
        written: r.written,
        imported: r.imported,
        wallMs,
      };
    };
    const initial = await measure();
    // People edit the Department of rows spread over the Roster tab, as a manager would in the Sheet.
    const view = em.state.spreadsheet(spreadsheetId);
    const values = view.values(TAB.roster);
    const col = values[0]!.indexOf('Department');
    if (col < 0) throw new Error('the Roster tab has no Department column');
    const letter = String.fromCharCode(65 + col);
    const dataRows = values.length - 1;
    for (let k = 0; k < scale.edits; k++) {
      const row = 2 + Math.floor((k * dataRows) / scale.edits);
      em.state.setCellAsUser(spreadsheetId, TAB.roster, `${letter}${row}`, `Edited ${k}`);
    }
    em.clock.advance(60_000);
    const afterEdits = await measure();
    await rt.close();
    return { rows: scale.rows, edits: scale.edits, initial, afterEdits };
  } finally {
    await em.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
