// The benchmark's small run as a test, so `npm run bench` cannot rot: every step runs against the emulators and the real service, and the figures it prints hold together.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runBenchmark, writeResults, type BenchResult } from '../../bench/run.js';
import { SMALL } from '../../bench/scale.js';
import { renderTable } from '../../bench/targets.js';

let result: BenchResult;
const out = mkdtempSync(join(tmpdir(), 'muster-bench-results-'));

beforeAll(async () => {
  result = await runBenchmark(SMALL, { inProcess: true });
}, 600_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('benchmark, small run', () => {
  test('when Muster launches on Microsoft and Google, then it creates one event per session and sends one mail per learner per reminder step', () => {
    const { learners, sessions, offsetsMinutes } = SMALL.launch;
    for (const p of ['microsoft', 'google', 'local'] as const) {
      const m = result.launch.muster.find((x) => x.provider === p)!;
      expect(m.events, p).toBe(sessions);
      // Local invitations travel as Muster's own mail, one per learner, on top of the reminders.
      expect(m.messages, p).toBe(learners * offsetsMinutes.length + (p === 'local' ? learners : 0));
    }
  });

  test('when the naive client does the same work, then it makes one event per learner and more calendar requests than Muster', () => {
    for (const p of ['microsoft', 'google'] as const) {
      const m = result.launch.muster.find((x) => x.provider === p)!;
      const n = result.launch.naive.find((x) => x.provider === p)!;
      expect(n.events).toBe(SMALL.launch.learners);
      expect(n.messages).toBe(m.messages);
      expect(n.http.calendar).toBeGreaterThan(m.http.calendar);
    }
  });

  test('when the figures are turned into the table, then every row has a status and quota rows carry their lower bound', () => {
    expect(result.rows.length).toBeGreaterThan(20);
    for (const r of result.rows) expect(['PASS', 'MISS', 'INFO']).toContain(r.status);
    for (const r of result.rows.filter((x) => x.target === '≤ 1.1× bound')) expect(r.bound, r.figure).not.toBeNull();
    expect(renderTable(result.rows)).toContain('simulated wait under quotas');
  });

  test('when the roster is synced and people edit cells, then the second sync imports exactly those edits', () => {
    expect(result.rosterSync.initial.requests).toBeGreaterThan(0);
    expect(result.rosterSync.afterEdits.imported).toBe(SMALL.rosterSync.edits);
  });

  test('when the service is measured, then it answered the checklist and attendance routes without errors and the report covered every enrollment', () => {
    expect(result.service.checklist.requests).toBeGreaterThan(0);
    expect(result.service.checklist.errors).toBe(0);
    expect(result.service.attendance.requests).toBeGreaterThan(0);
    expect(result.service.attendance.errors).toBe(0);
    expect(result.service.coldStart.runs).toHaveLength(SMALL.service.coldStarts);
    const sizes = result.growth.map((g) => g.learners);
    expect(sizes).toEqual(SMALL.report.growth);
    for (const g of result.growth) expect(g.report.enrollments).toBe(g.learners);
  });

  test('when the results are written, then latest and dated JSON files hold the same figures', () => {
    const [latest, dated] = writeResults(result, out);
    const a = JSON.parse(readFileSync(latest!, 'utf8')) as BenchResult & { markdown: string };
    expect(a.rows).toEqual(JSON.parse(JSON.stringify(result.rows)));
    expect(readFileSync(dated!, 'utf8')).toBe(readFileSync(latest!, 'utf8'));
    expect(a.markdown).toContain('| section |');
  });
});
