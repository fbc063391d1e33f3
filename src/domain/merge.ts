// Three-way merge of records rows (last synced copy, Muster's wish, the sheet now) so a person's edit is never overwritten silently; reads and writes no sheet.
import type { Cell, RecordRow } from '../ports/index.js';

export interface MergeInput {
  /** The rows as Muster last wrote or read them (the last synced copy). */
  base: RecordRow[];
  /** The rows Muster wants now. */
  ours: RecordRow[];
  /** The rows the sheet holds now; key null marks a row a person added. */
  theirs: RecordRow[];
  /** Columns people may edit; Muster owns the rest. */
  editableColumns: string[];
}

export interface CellConflict {
  key: string;
  column: string;
  /** Undefined when there is no synced copy of the row yet. */
  base: Cell | undefined;
  ours: Cell;
  theirs: Cell;
}

export interface MergeResult {
  /** Whole rows to upsert by key; kept and conflicting cells carry the sheet's value, so writing them changes nothing people typed. */
  write: RecordRow[];
  /** Cells a person edited in an editable column that Muster did not change: kept in the sheet; the caller may take them into the store. */
  keep: Array<{ key: string; column: string; value: Cell }>;
  /** Cells changed by both sides differently: left as the person wrote them, shown to the coordinator. */
  conflicts: CellConflict[];
  /** Rows a person added (no key). */
  added: RecordRow[];
  /** Cells a person changed in a column Muster owns: set back to Muster's value and reported, not silently. */
  overwritten: Array<{ key: string; column: string; theirs: Cell; ours: Cell }>;
  /** Keys Muster wants that were missing from the sheet (deleted by hand or new): written again. */
  reappended: string[];
  /** Keys in the sheet that Muster no longer has. */
  orphaned: string[];
  /** Keys that appear more than once in the sheet; only the first is merged. */
  duplicates: string[];
  /** What to store as the last synced copy once `write` is done: kept and conflicting cells keep their old base, so they stay kept or conflicting next time. */
  nextBase: RecordRow[];
}

/** A cell's comparable form: empty, numbers and booleans as text, dates by their date (a midnight date-time equals its date). */
function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return '';
  if (typeof c === 'object') return c.date.replace(/T00:00(:00(\.000)?)?(Z|[+-]00:?00)?$/, '');
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : '';
  if (typeof c === 'boolean') return c ? 'TRUE' : 'FALSE';
  return c;
}

export function cellsEqual(a: Cell | undefined, b: Cell | undefined): boolean {
  return cellText(a) === cellText(b);
}

/**
 * Merges per cell. In an editable column: changed only by the person → kept; changed only by Muster → written;
 * changed by both, differently → a conflict, not overwritten (with no synced copy yet, any difference from a non-empty
 * sheet value is a conflict). In a column Muster owns, Muster's value is written and a person's change is reported in
 * `overwritten`. Columns only the sheet has are left alone.
 */
export function mergeRows(input: MergeInput): MergeResult {
  const editable = new Set(input.editableColumns);
  const base = new Map(input.base.filter((r) => r.key !== null).map((r) => [r.key!, r]));
  const theirs = new Map<string, RecordRow>();
  const result: MergeResult = { write: [], keep: [], conflicts: [], added: [], overwritten: [], reappended: [], orphaned: [], duplicates: [], nextBase: [] };
  for (const r of input.theirs) {
    if (r.key === null) result.added.push(r);
    else if (theirs.has(r.key)) {
      if (!result.duplicates.includes(r.key)) result.duplicates.push(r.key);
    } else theirs.set(r.key, r);
  }
  const ourKeys = new Set<string>();
  for (const o of input.ours) {
    if (o.key === null) continue;
    const key = o.key;
    ourKeys.add(key);
    const t = theirs.get(key);
    const b = base.get(key);
    if (!t) {
      if (b) result.reappended.push(key);
      result.write.push({ key, cells: { ...o.cells } });
      result.nextBase.push({ key, cells: { ...o.cells } });
      continue;
    }
    const merged: Record<string, Cell> = {};
    const next: Record<string, Cell> = {};
    let changed = false;
    for (const [column, ov] of Object.entries(o.cells)) {
      const tv = t.cells[column] ?? null;
      const bv = b ? b.cells[column] : undefined;
      if (cellsEqual(ov, tv)) {
        merged[column] = tv;
        next[column] = ov;
        continue;
      }
      if (!editable.has(column)) {
        if (b && !cellsEqual(tv, bv)) result.overwritten.push({ key, column, theirs: tv, ours: ov });
        merged[column] = ov;
        next[column] = ov;
        changed = true;
        continue;
      }
      const theirsChanged = b ? !cellsEqual(tv, bv) : cellText(tv) !== '';
      const oursChanged = b ? !cellsEqual(ov, bv) : true;
      if (theirsChanged && !oursChanged) {
        result.keep.push({ key, column, value: tv });
        merged[column] = tv;
        next[column] = bv ?? null;
      } else if (!theirsChanged) {
        merged[column] = ov;
        next[column] = ov;
        changed = true;
      } else {
        result.conflicts.push({ key, column, base: bv, ours: ov, theirs: tv });
        merged[column] = tv;
        next[column] = bv ?? null;
      }
    }
    if (changed) result.write.push({ key, cells: merged });
    result.nextBase.push({ key, cells: next });
  }
  for (const key of theirs.keys()) if (!ourKeys.has(key)) result.orphaned.push(key);
  return result;
}
