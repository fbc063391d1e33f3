// Measures the completion report over a seeded data folder inside this process: the JSON GET /report streams (reportHead, writeReportJson) written to a sink that counts bytes, with CPU time, wall time and this process's peak RSS; it seeds nothing.
import { createRuntime } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { reportHead, writeReportJson, type ReportSink } from '../src/app/reports.js';
import { silentLogger } from './names.js';

export interface ReportFigures {
  enrollments: number;
  wallMs: number;
  cpuMs: number;
  /** Peak RSS of the whole process (Node, modules, store) up to the end of the report. */
  peakRssMb: number;
  /** RSS just before the report, for comparison. */
  rssBeforeMb: number;
  jsonBytes: number;
}

export async function measureReport(dataDir: string, programId: string): Promise<ReportFigures> {
  const config = loadConfig({ MUSTER_DATA_DIR: dataDir, MUSTER_LOG_LEVEL: 'silent', MUSTER_WORKER: 'off', MUSTER_SEED_DEMO: 'false' });
  const rt = await createRuntime(config, { logger: silentLogger });
  try {
    const enrollments = await rt.ctx.store.db.selectFrom('enrollments').select((eb) => eb.fn.countAll<number>().as('n')).where('program_id', '=', programId).executeTakeFirstOrThrow();
    const rssBeforeMb = process.memoryUsage().rss / 1048576;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // What GET /api/programs/:id/report does: the head, then the learners a page at a time into the response.
    const sink: ReportSink = { write: () => true, once: () => sink, off: () => sink };
    const head = await reportHead(rt.ctx, config.MUSTER_TENANT, programId);
    const jsonBytes = await writeReportJson(rt.ctx, head, { includeScores: true }, sink);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { enrollments: Number(enrollments.n), wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, rssBeforeMb, jsonBytes };
  } finally {
    await rt.close();
  }
}
