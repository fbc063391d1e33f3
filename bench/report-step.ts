// Measures the completion report over a seeded data folder inside this process: the real buildReport and its JSON, with CPU time, wall time and this process's peak RSS; it seeds nothing.
import { createRuntime } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { buildReport, reportToJson } from '../src/app/reports.js';
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
    const rssBeforeMb = process.memoryUsage().rss / 1048576;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // What GET /api/programs/:id/report does: build, shape for the coordinator, serialize.
    const report = await buildReport(rt.ctx, config.MUSTER_TENANT, programId);
    const body = JSON.stringify(reportToJson(report, { includeScores: true }));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { enrollments: report.learners.reduce((n, l) => n + l.enrollments.length, 0), wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024, rssBeforeMb, jsonBytes: Buffer.byteLength(body) };
  } finally {
    await rt.close();
  }
}
