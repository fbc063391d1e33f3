// Three-way merge of one records tab (the last synced copy, Muster's wish, the sheet now), cell by cell: a person's edit is never overwritten, it is kept and shown as a conflict; reads and writes no sheet.
import type { Cell, RecordRow } from '../ports/index.js';

/** One comparable text per cell, so what a records store reads back equals what Muster wrote. */
export function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'object') {
    const t = Date.parse(c.date);
    return Number.isNaN(t) ? c.date : new Date(t).toISOString().slice(0, 16);
  }
  return String(c).trim();
}

/**
 * Whether two cell texts say the same. A date read back at midnight equals the same day with a time: some records
 * stores keep date columns as whole days, and that is not a person's edit.
 */
export function sameText(a: string | undefined, b: string | undefined): boolean {
  const x = a ?? '';
  const y = b ?? '';
  if (x === y) return true;
  const day = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/;
  const mx = day.exec(x);
  const my = day.exec(y);
  return !!mx && !!my && mx[1] === my[1] && (mx[2] === '00:00' || my[2] === '00:00');
}

/** A row's cells as comparable texts, one per header. */
export function rowText(headers: string[], row: RecordRow): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h, cellText(row.cells[h])]));
}

export interface TabMergeInput {
  headers: string[];
  /** The rows Muster wants now, each with its key. */
  ours: RecordRow[];
  /** The keyed rows the sheet holds now, as texts (rowText). */
  theirs: Map<string, Record<string, string>>;
  /** The last synced copy by key, as texts. */
  base: Map<string, Record<string, string>>;
  /**
   * Columns whose edits Muster has already taken in (the caller imported them before building `ours`): a person's
   * value that now equals Muster's, ignoring case, is not a conflict.
   */
  importedColumns: string[];
  /** Rows people typed that Muster now claims for a key (the anchor says which row): written even when unchanged. */
  claims: RecordRow[];
}

export interface TabConflict {
  key: string;
  column: string;
  /** What the cell held at the last sync. */
  base: string;
  /** What Muster would write now. */
  ours: string;
  /** What a person put there; it is kept. */
  theirs: string;
}

export interface TabMergeResult {
  /** Rows to upsert: only the cells Muster may write (a person's edited cells are left out), with the claim's anchor. */
  write: RecordRow[];
  /** Keys in the sheet that Muster no longer has. */
  stale: string[];
  /** What to keep as the last synced copy: a kept edit keeps its old base, so the next sync still sees it and keeps it. */
  nextBase: Map<string, Record<string, string>>;
  conflicts: TabConflict[];
}

/**
 * Merges per cell against the last synced copy. A cell a person did not change gets Muster's value. A cell a person
 * changed, in any column, is kept as they typed it and reported as a conflict, unless it already equals what Muster
 * wants (or, in an imported column, equals it ignoring case). A row with no synced copy yet, or missing from the
 * sheet, is written whole. Keys only the sheet has are stale.
 */
export function mergeTab(input: TabMergeInput): TabMergeResult {
  const { headers, theirs, base } = input;
  const imported = new Set(input.importedColumns);
  const claimed = new Map(input.claims.filter((c) => c.key !== null).map((c) => [c.key!, c]));
  const result: TabMergeResult = { write: [], stale: [], nextBase: new Map(), conflicts: [] };
  for (const row of input.ours) {
    const key = row.key!;
    const ours = rowText(headers, row);
    const their = theirs.get(key);
    const b = base.get(key);
    const out: Record<string, Cell> = { ...row.cells };
    const settled: Record<string, string> = { ...ours };
    if (their && b) {
      for (const h of headers) {
        if (h === 'Key') continue;
        // Unchanged by people, or changed to exactly what Muster wants: nothing to keep apart.
        if (sameText(their[h], b[h]) || sameText(their[h], ours[h])) continue;
        if (imported.has(h) && (their[h] ?? '').toLowerCase() === (ours[h] ?? '').toLowerCase()) continue;
        // A person changed a cell Muster owns, or Muster changed it too: keep theirs, show the conflict.
        result.conflicts.push({ key, column: h, base: b[h] ?? '', ours: ours[h] ?? '', theirs: their[h] ?? '' });
        delete out[h];
        settled[h] = b[h] ?? '';
      }
    }
    result.nextBase.set(key, b && their ? settled : ours);
    const claim = claimed.get(key);
    const differs = !their || headers.some((h) => h in out && !sameText(their[h], ours[h]));
    if (claim || differs) result.write.push({ key, cells: out, ...(claim?.anchor ? { anchor: claim.anchor } : {}) });
  }
  const wanted = new Set(input.ours.map((r) => r.key!));
  result.stale = [...theirs.keys()].filter((k) => !wanted.has(k));
  return result;
}
