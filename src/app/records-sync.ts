// Syncs a program's records tabs: read first, merge three ways against the last synced copy, import people's edits, write only what changed.
import { randomUUID } from 'node:crypto';
import { cellText, mergeTab, rowText } from '../domain/merge.js';
import { ALL_TABS, COL, TAB, TABS } from '../domain/records.js';
import { checkRosterRows } from '../domain/roster.js';
import type { Attendance, Program } from '../domain/types.js';
import type { RecordRow, RecordsPort, TabSpec } from '../ports/index.js';
import type { AppContext, ProviderSet } from './context.js';
import { nowIso } from './context.js';
import { buildRecordTabs } from './records-view.js';
import { buildReport } from './reports.js';
import { programChecklist } from './checklist.js';
import { questionGroups } from './questions.js';
import { pullResponses } from './rsvp.js';

/** Learners whose mail bounced are marked so no more mail goes to them and the roster says why. */
async function markUndeliverable(ctx: AppContext, providers: ProviderSet, tenantId: string): Promise<void> {
  if (!providers.undeliverable) return;
  for (const email of await providers.undeliverable()) {
    const l = await ctx.store.learnerByEmail(tenantId, email);
    if (l && !l.undeliverable) await ctx.store.updateLearner({ ...l, undeliverable: true }, nowIso(ctx));
  }
}

export interface SyncConflict {
  tab: string;
  key: string;
  column: string;
  /** What the cell held at the last sync. */
  base: string;
  /** What Muster would write now. */
  ours: string;
  /** What a person put there; it is kept. */
  theirs: string;
  reason: string;
}

export interface SyncReport {
  written: number;
  deleted: number;
  imported: number;
  rejected: number;
  conflicts: SyncConflict[];
}

const SYSTEM_ACTOR = (tenantId: string) => ({ tenantId, actor: 'records-sync', surface: 'system' as const });

/** Columns people may change in a tab and have Muster take the change in. Everything else belongs to Muster. */
const IMPORTED_COLUMNS: Record<string, string[]> = {
  [TAB.roster]: ['Name', 'Manager Email', 'Time Zone', 'Department', 'Language'],
  [TAB.attendance]: [COL.attendance],
};

const ATTENDANCE_VALUES = new Set(['present', 'late', 'excused', 'absent']);

/**
 * One sync. Where the records store reads and writes every tab at once (readTabs and applyChanges), that is one read
 * and one write (Sheets: one spreadsheets.get; one batchUpdate, plus one by key for changed rows); otherwise tab by tab.
 */
export async function syncRecords(ctx: AppContext, providers: ProviderSet, program: Program): Promise<SyncReport> {
  // The program's own Sheet or workbook, else the configured one. Either holds one program: one held by another is
  // refused (CONFIG_INVALID, naming both) at the first read, before anything is written; the job then fails and the
  // checklist shows it.
  const records = providers.recordsFor(program.code, program.recordsSheet ?? null, program.id);
  const t = program.tenantId;
  const report: SyncReport = { written: 0, deleted: 0, imported: 0, rejected: 0, conflicts: [] };
  const batched = !!records.readTabs && !!records.applyChanges;
  // The batched write creates missing tabs itself.
  if (!batched) await records.ensureTabs(ALL_TABS);
  await pullResponses(ctx, t, program.id);
  await markUndeliverable(ctx, providers, t);

  // 1. Read the input tabs first and take in what people changed since the last sync.
  const claims = new Map<string, RecordRow[]>();
  const theirsByTab = batched ? await records.readTabs!(ALL_TABS) : await readTabByTab(records, ALL_TABS);
  await importRosterEdits(ctx, program, theirsByTab.get(TAB.roster) ?? [], claims, report);
  await importAttendanceEdits(ctx, program, theirsByTab.get(TAB.attendance) ?? [], report);

  // 2. Build what Muster wants now (after the imports) and merge it cell by cell.
  const tabs = buildRecordTabs({
    report: await buildReport(ctx, t, program.id),
    rejects: await ctx.store.listRosterRejects(t, program.id),
    questions: await ctx.store.listQuestions(t, program.id),
    questionGroups: await questionGroups(ctx, program),
    checklist: await programChecklist(ctx, program, { withProviders: false }),
    messages: await ctx.store.listMessages(t, { programId: program.id }),
  });
  const changes: Array<{ tab: TabSpec; upserts: RecordRow[]; deletes: string[] }> = [];
  const baselines = new Map<string, Map<string, Record<string, unknown>>>();
  for (const { tab, rows } of tabs) {
    const base = (await ctx.store.getBaseline(t, program.id, tab.name)) as Map<string, Record<string, string>>;
    const theirs = new Map<string, Record<string, string>>();
    for (const r of theirsByTab.get(tab.name) ?? []) if (r.key) theirs.set(r.key, rowText(tab.headers, r));
    const merged = mergeTab({ headers: tab.headers, ours: rows, theirs, base, importedColumns: IMPORTED_COLUMNS[tab.name] ?? [], claims: claims.get(tab.name) ?? [] });
    for (const c of merged.conflicts) report.conflicts.push({ tab: tab.name, ...c, reason: 'edited in the sheet; Muster kept the edit and did not overwrite it' });
    changes.push({ tab, upserts: merged.write, deletes: merged.stale });
    baselines.set(tab.name, merged.nextBase);
    report.written += merged.write.length;
    report.deleted += merged.stale.length;
  }
  // Each manager finds their people through a saved view on the tabs they read (where the records store has views).
  const managers = records.ensurePersonViews
    ? [...new Set((await ctx.store.learnersForProgram(t, program.id)).map((l) => l.managerEmail).filter((m): m is string => !!m))].sort()
    : [];
  const views = [TABS.attendance, TABS.completion];
  if (batched) {
    // Asked for between the read and the write, the views go in the same write.
    if (records.ensurePersonViews) for (const tab of views) await records.ensurePersonViews(tab, 'Manager Email', managers);
    // Every tab, even unchanged ones, so a missing tab is created.
    const built = new Set(changes.map((c) => c.tab.name));
    await records.applyChanges!([...changes, ...ALL_TABS.filter((tab) => !built.has(tab.name)).map((tab) => ({ tab, upserts: [], deletes: [] }))]);
    for (const [name, next] of baselines) await ctx.store.replaceBaseline(t, program.id, name, next);
  } else {
    for (const { tab, upserts, deletes } of changes) {
      if (upserts.length > 0) await records.upsertRows(tab, upserts);
      if (deletes.length > 0) await records.deleteRows(tab, deletes);
      await ctx.store.replaceBaseline(t, program.id, tab.name, baselines.get(tab.name)!);
    }
    if (records.ensurePersonViews) for (const tab of views) await records.ensurePersonViews(tab, 'Manager Email', managers);
  }
  await ctx.store.replaceBaseline(t, program.id, '#conflicts', new Map(report.conflicts.map((c) => [`${c.tab}:${c.key}:${c.column}`, c as unknown as Record<string, unknown>])));
  // A sync converges the whole program: earlier failed syncs are fixed by this one and leave the checklist.
  await ctx.store.supersedeFailedJobs(t, { programId: program.id, kind: 'records-sync' }, 'superseded by a later successful sync', nowIso(ctx));
  ctx.logger.info('records.synced', { program: program.code, written: report.written, imported: report.imported, conflicts: report.conflicts.length });
  return report;
}

async function readTabByTab(records: RecordsPort, tabs: TabSpec[]): Promise<Map<string, RecordRow[]>> {
  const out = new Map<string, RecordRow[]>();
  for (const spec of tabs) out.set(spec.name, await records.readTab(spec));
  return out;
}

async function importRosterEdits(ctx: AppContext, program: Program, theirs: RecordRow[], claims: Map<string, RecordRow[]>, report: SyncReport): Promise<void> {
  const t = program.tenantId;
  const now = nowIso(ctx);
  const added = theirs.filter((r) => !r.key && Object.values(r.cells).some((c) => cellText(c) !== ''));
  if (added.length > 0) {
    const { importRoster } = await import('./roster.js');
    const sessions = (await ctx.store.listSessions(t, program.id)).filter((s) => s.status === 'scheduled');
    const rows = added.map((r, i) => ({ row: i, values: Object.fromEntries(Object.entries(r.cells).filter(([h]) => h !== 'Key' && h !== 'Status').map(([h, c]) => [h, cellText(c)])) }));
    const check = checkRosterRows(rows, { defaultZone: sessions[0]?.zone ?? null, knownSessions: (ref) => sessions.some((s) => s.id === ref || s.label.toLowerCase() === ref.toLowerCase()) });
    const list = claims.get(TAB.roster) ?? [];
    for (const v of check.valid) {
      await importRoster(ctx, SYSTEM_ACTOR(t), program.id, [{ row: v.row, values: rows[v.row]!.values }], 'sheet');
      const learner = await ctx.store.learnerByEmail(t, v.entry.email);
      if (learner) list.push({ key: learner.id, cells: {}, ...(added[v.row]!.anchor ? { anchor: added[v.row]!.anchor } : {}) });
      report.imported++;
    }
    for (const r of check.rejected) {
      // Kept in the sheet where the person typed it, with the reason in its Status cell.
      const id = randomUUID();
      await ctx.store.insertRosterRejects(t, [{ id, programId: program.id, source: 'sheet', rowNumber: r.row + 2, data: r.values, reasons: r.reasons, createdAt: now }]);
      list.push({ key: `reject:${id}`, cells: {}, ...(added[r.row]!.anchor ? { anchor: added[r.row]!.anchor } : {}) });
      report.rejected++;
    }
    claims.set(TAB.roster, list);
  }
  const base = await ctx.store.getBaseline(t, program.id, TAB.roster);
  for (const r of theirs) {
    if (!r.key || r.key.startsWith('reject:')) continue;
    const b = base.get(r.key) as Record<string, string> | undefined;
    const learner = await ctx.store.getLearner(t, r.key);
    if (!b || !learner) continue;
    const changed = IMPORTED_COLUMNS[TAB.roster]!.filter((h) => cellText(r.cells[h]) !== (b[h] ?? ''));
    if (changed.length === 0) continue;
    const next = { ...learner };
    for (const h of changed) {
      const v = cellText(r.cells[h]);
      if (h === 'Name' && v) next.name = v;
      if (h === 'Manager Email') next.managerEmail = v ? v.toLowerCase() : null;
      if (h === 'Time Zone' && v) next.zone = v;
      if (h === 'Department') next.department = v || null;
      if (h === 'Language' && v) next.language = v.toLowerCase();
    }
    const check = checkRosterRows([{ row: 0, values: { email: next.email, name: next.name, 'manager email': next.managerEmail ?? '', 'time zone': next.zone } }], { defaultZone: null });
    if (check.rejected.length > 0) continue;
    await ctx.store.updateLearner(next, now);
    await ctx.store.audit({ ...SYSTEM_ACTOR(t), surface: 'sheets', action: 'learner.update-from-sheet', entity: 'learner', entityId: learner.id, detail: { fields: changed } }, now);
    report.imported++;
  }
}

async function importAttendanceEdits(ctx: AppContext, program: Program, theirs: RecordRow[], report: SyncReport): Promise<void> {
  const t = program.tenantId;
  const base = await ctx.store.getBaseline(t, program.id, TAB.attendance);
  const now = nowIso(ctx);
  for (const r of theirs) {
    if (!r.key) continue;
    const b = base.get(r.key) as Record<string, string> | undefined;
    if (!b) continue;
    const v = cellText(r.cells[COL.attendance]).toLowerCase();
    if (v === (b[COL.attendance] ?? '').toLowerCase()) continue;
    const e = await ctx.store.getEnrollment(t, r.key);
    if (!e || !ATTENDANCE_VALUES.has(v) || (e.attendance !== null && e.attendance.toLowerCase() !== (b[COL.attendance] ?? '').toLowerCase())) continue;
    await ctx.store.updateEnrollment(t, e.id, { attendance: v as Attendance }, now);
    await ctx.store.audit({ tenantId: t, actor: 'records-sync', surface: 'sheets', action: 'attendance.mark', entity: 'enrollment', entityId: e.id, detail: { attendance: v } }, now);
    report.imported++;
  }
}

export type { RecordsPort };
