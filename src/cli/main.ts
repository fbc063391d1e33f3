// The `muster` command: the same use cases as the API, for coordinators and scripts on the service's machine.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createRuntime, type Runtime } from '../bootstrap.js';
import { MusterError } from '../domain/errors.js';
import type { Actor } from '../app/context.js';
import { programInput } from '../app/schemas.js';
import { createProgram, getProgramOrThrow } from '../app/programs.js';
import { importRoster, parseRosterCsv } from '../app/roster.js';
import { launchProgram } from '../app/launch.js';
import { runDue } from '../app/jobs.js';
import { buildReport, reportToJson } from '../app/reports.js';
import { programChecklist } from '../app/checklist.js';
import { syncRecords } from '../app/records-sync.js';
import { seedDemo } from '../app/demo.js';
import { fromZod } from '../http/errors.js';
import { createLogger } from '../logger.js';

const HELP = `Usage: muster <command> [options]

Commands:
  program create FILE.json          Create a program (and its sessions) from a JSON file
  import-roster FILE.csv [--program CODE]
                                    Import learners; bad rows are reported with row numbers and kept
  launch PROGRAM [--force --reason TEXT]
                                    Launch a program (blocked by checklist items unless forced)
  run-due [--now ISO-8601]          Run every job due as of that instant (default: now)
  status PROGRAM [--json]           Checklist, sessions, completion and messages of a program
  sync PROGRAM                      Write the records workbook or Sheet now
  demo                              Create and launch the demo program
  help                              This text

Configuration comes from the environment (see README); the data folder is MUSTER_DATA_DIR (default ./data).`;

type Out = { log: (s: string) => void; err: (s: string) => void };

export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, out: Out = { log: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      now: { type: 'string' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      reason: { type: 'string', default: '' },
      program: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd, ...rest] = positionals;
  if (!cmd || cmd === 'help' || values.help) {
    out.log(HELP);
    return cmd || values.help ? 0 : 1;
  }
  let fixedNow: Date | null = null;
  if (values.now) {
    const t = Date.parse(values.now);
    if (Number.isNaN(t)) {
      out.err(`--now: "${values.now}" is not an ISO-8601 instant (for example 2027-03-01T09:00:00Z)`);
      return 2;
    }
    fixedNow = new Date(t);
  }
  let runtime: Runtime | null = null;
  try {
    const config = loadConfig({ ...env, MUSTER_SEED_DEMO: 'false' });
    runtime = await createRuntime(config, { ...(fixedNow ? { clock: { now: () => fixedNow! } } : {}), logger: createLogger(config.MUSTER_LOG_LEVEL === 'info' ? 'warn' : config.MUSTER_LOG_LEVEL) });
    const ctx = runtime.ctx;
    const actor: Actor = { tenantId: config.MUSTER_TENANT, actor: env.USER ? `cli:${env.USER}` : 'cli', surface: 'cli' };
    const progress = (label: string) => (s: { ran: number; sent: number }) => out.err(`${label}: ${s.ran} jobs run, ${s.sent} messages sent…`);

    switch (cmd) {
      case 'program': {
        if (rest[0] !== 'create' || !rest[1]) throw new MusterError('VALIDATION_FAILED', 'Usage: muster program create FILE.json');
        const parsed = programInput.safeParse(JSON.parse(readFileSync(rest[1], 'utf8')));
        if (!parsed.success) throw fromZod(parsed.error, rest[1]);
        const { program, sessions } = await createProgram(ctx, actor, parsed.data);
        out.log(`Created ${program.code} "${program.name}" (${program.id}) with ${sessions.length} session(s).`);
        return 0;
      }
      case 'import-roster': {
        const file = rest[0];
        if (!file) throw new MusterError('VALIDATION_FAILED', 'Usage: muster import-roster FILE.csv [--program CODE]');
        const programs = await runtime.store.listPrograms(actor.tenantId);
        const code = values.program ?? (programs.length === 1 ? programs[0]!.code : undefined);
        if (!code) throw new MusterError('VALIDATION_FAILED', `Say which program with --program (one of: ${programs.map((p) => p.code).join(', ') || 'none yet'})`);
        const rows = parseRosterCsv(readFileSync(file, 'utf8'));
        out.err(`Importing ${rows.length} row(s) into ${code}…`);
        const r = await importRoster(ctx, actor, code, rows, 'csv');
        out.log(`Imported ${r.imported} learner(s): ${r.enrolled} enrolled, ${r.waitlisted} waitlisted.`);
        if (r.rejected.length > 0) {
          out.log(`${r.rejected.length} row(s) not imported (kept for correction; see the Roster tab or GET /api/programs/${code}/roster):`);
          for (const x of r.rejected) out.log(`  row ${x.row}: ${x.reasons.map((d) => `${d.field}: ${d.message}`).join('; ')}`);
        }
        await runDue(ctx, { tenantId: actor.tenantId });
        return r.rejected.length > 0 ? 3 : 0;
      }
      case 'launch': {
        const code = rest[0];
        if (!code) throw new MusterError('VALIDATION_FAILED', 'Usage: muster launch PROGRAM [--force --reason TEXT]');
        const r = await launchProgram(ctx, actor, code, { force: values.force, reason: values.reason ?? '' });
        out.log(`Launched ${r.program.code}${r.forced ? ' (forced: ' + values.reason + ')' : ''}; ${r.jobsAdded} job(s) scheduled.`);
        const s = await runDue(ctx, { tenantId: actor.tenantId, onProgress: progress('launch') });
        out.log(`Sent ${s.sent} message(s) now; the rest follow the schedule.`);
        return 0;
      }
      case 'run-due': {
        const s = await runDue(ctx, { onProgress: progress('run-due') });
        out.log(`As of ${ctx.clock.now().toISOString()}: ran ${s.ran} job(s); sent ${s.sent}, skipped ${s.skipped}, deferred ${s.deferred}, failed ${s.failed}, outcome unknown ${s.unknown}.`);
        return s.failed > 0 ? 4 : 0;
      }
      case 'status': {
        const code = rest[0];
        if (!code) throw new MusterError('VALIDATION_FAILED', 'Usage: muster status PROGRAM [--json]');
        const program = await getProgramOrThrow(ctx, actor.tenantId, code);
        const report = reportToJson(await buildReport(ctx, actor.tenantId, program.id), { includeScores: true });
        const checklist = await programChecklist(ctx, program, { withProviders: false });
        const messages = await runtime.store.listMessages(actor.tenantId, { programId: program.id });
        const pending = await runtime.store.listJobs(actor.tenantId, { programId: program.id, status: ['pending'] });
        if (values.json) {
          out.log(JSON.stringify({ ...report, checklist, messages: { total: messages.length, byStatus: countBy(messages.map((m) => m.status)) }, pendingJobs: pending.length }, null, 2));
          return 0;
        }
        out.log(`${program.name} (${program.code}) — ${program.status}`);
        out.log(`Learners ${report.totals.learners}: enrolled ${report.totals.enrolled}, waitlisted ${report.totals.waitlisted}, attended ${report.totals.attended}, completed ${report.totals.completed}, overdue ${report.totals.overdue}`);
        for (const s of report.sessions) out.log(`  ${s.label} ${s.start} (${s.zone}) ${s.status}: ${s.enrolled}/${s.capacity} enrolled, ${s.waitlisted} waiting, ${s.accepted} accepted, ${s.declined} declined, ${s.present + s.late} attended`);
        out.log(`Messages: ${messages.length} (${Object.entries(countBy(messages.map((m) => m.status))).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}); ${pending.length} job(s) scheduled`);
        const open = checklist.filter((i) => i.status !== 'ok' && !i.signedOff);
        out.log(open.length === 0 ? 'Checklist: all clear' : `Checklist (${open.length} open):`);
        for (const i of open.sort((a, b) => (a.status === b.status ? 0 : a.status === 'blocking' ? -1 : 1))) out.log(`  [${i.status}] ${i.reason}${i.owner ? ` — ${i.owner}` : ''}`);
        return 0;
      }
      case 'sync': {
        const code = rest[0];
        if (!code) throw new MusterError('VALIDATION_FAILED', 'Usage: muster sync PROGRAM');
        const program = await getProgramOrThrow(ctx, actor.tenantId, code);
        const r = await syncRecords(ctx, await ctx.providersFor(actor.tenantId), program);
        out.log(`Records of ${program.code}: ${r.written} row(s) written, ${r.imported} change(s) taken in, ${r.conflicts.length} conflict(s) kept.`);
        return 0;
      }
      case 'demo': {
        const r = await seedDemo(ctx, { ...actor, actor: 'muster-demo' });
        out.log(`Demo program created and launched (${r.programId}). Outbox: ${config.outboxDir}; records: ${config.recordsDir}`);
        return 0;
      }
      default:
        out.err(`Unknown command "${cmd}".\n\n${HELP}`);
        return 1;
    }
  } catch (err) {
    if (err instanceof MusterError) {
      out.err(err.message);
      for (const d of err.details) out.err(`  ${d.row ? `row ${d.row}, ` : ''}${d.field}: ${d.message}`);
      return err.code === 'CONFIG_INVALID' ? 78 : 1;
    }
    if (err instanceof SyntaxError) {
      out.err(`The file is not valid JSON: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await runtime?.close();
  }
}

function countBy(xs: string[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}
