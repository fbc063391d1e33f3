// The records sync's three-way merge of one tab: people's edits are kept and shown as conflicts, never overwritten.
import { describe, expect, it } from 'vitest';
import { cellText, mergeTab, rowText, sameText, type TabMergeInput } from '../../src/domain/merge.js';
import { TABS } from '../../src/domain/records.js';
import type { RecordRow } from '../../src/ports/index.js';

const headers = TABS.roster.headers;
const imported = ['Name', 'Manager Email', 'Time Zone', 'Department', 'Language'];
const row = (key: string | null, cells: RecordRow['cells']): RecordRow => ({ key, cells });
const anna = { Key: 'l1', Email: 'anna@example.com', Name: 'Anna Berg', 'Manager Email': 'boss@example.com', 'Time Zone': 'Europe/Berlin', Department: 'Finance', Language: 'en', Session: 'Cohort A', Status: 'enrolled' };
const text = (cells: RecordRow['cells']): Record<string, string> => rowText(headers, row('l1', cells));

/** Merges one roster row: the last synced copy, what Muster wants, what the sheet holds (absent: the row is missing). */
function merge(base: RecordRow['cells'] | null, ours: RecordRow['cells'], theirs: RecordRow['cells'] | null, more: Partial<TabMergeInput> = {}) {
  return mergeTab({
    headers,
    ours: [row('l1', ours)],
    theirs: new Map(theirs ? [['l1', text(theirs)]] : []),
    base: new Map(base ? [['l1', text(base)]] : []),
    importedColumns: imported,
    claims: [],
    ...more,
  });
}

describe('three-way merge of a records tab', () => {
  it('when nobody changed anything, then nothing is written and the base stays', () => {
    const r = merge(anna, anna, anna);
    expect(r).toMatchObject({ write: [], stale: [], conflicts: [] });
    expect(r.nextBase.get('l1')).toEqual(text(anna));
  });

  it('when only Muster changed cells, then the row is written with them and they become the base', () => {
    const r = merge(anna, { ...anna, Status: 'cancelled', Session: 'Cohort B' }, anna);
    expect(r.write).toEqual([row('l1', { ...anna, Status: 'cancelled', Session: 'Cohort B' })]);
    expect(r.conflicts).toEqual([]);
    expect(r.nextBase.get('l1')!.Status).toBe('cancelled');
  });

  it('when a person changed a column Muster owns, then the edit is kept (not written over) and shown as a conflict, sync after sync', () => {
    const r = merge(anna, anna, { ...anna, Status: 'done (paper form)' });
    expect(r.conflicts).toEqual([{ key: 'l1', column: 'Status', base: 'enrolled', ours: 'enrolled', theirs: 'done (paper form)' }]);
    // Nothing else differs, so nothing is written at all; the edited cell would be left out of any write.
    expect(r.write).toEqual([]);
    expect(r.nextBase.get('l1')!.Status).toBe('enrolled');
    const again = merge(Object.fromEntries(Object.entries(r.nextBase.get('l1')!)), { ...anna, Session: 'Cohort B' }, { ...anna, Status: 'done (paper form)' });
    expect(again.conflicts.map((c) => c.column)).toEqual(['Status']);
    expect(again.write).toHaveLength(1);
    expect(again.write[0]!.cells).not.toHaveProperty('Status');
    expect(again.write[0]!.cells.Session).toBe('Cohort B');
  });

  it('when a person and Muster both changed a cell differently, then the person\'s value is kept and the conflict says both', () => {
    const r = merge(anna, { ...anna, 'Time Zone': 'Europe/London', Status: 'waitlisted' }, { ...anna, 'Time Zone': 'America/New_York' });
    expect(r.conflicts).toEqual([{ key: 'l1', column: 'Time Zone', base: 'Europe/Berlin', ours: 'Europe/London', theirs: 'America/New_York' }]);
    expect(r.write).toEqual([row('l1', { ...Object.fromEntries(Object.entries(anna).filter(([h]) => h !== 'Time Zone')), Status: 'waitlisted' })]);
    expect(r.nextBase.get('l1')).toMatchObject({ 'Time Zone': 'Europe/Berlin', Status: 'waitlisted' });
  });

  it('when a person\'s edit in an imported column was taken in (same text, other case), then it is no conflict and Muster\'s spelling is written', () => {
    const r = merge(anna, { ...anna, 'Manager Email': 'new.boss@example.com' }, { ...anna, 'Manager Email': 'New.Boss@Example.com' });
    expect(r.conflicts).toEqual([]);
    expect(r.write).toEqual([row('l1', { ...anna, 'Manager Email': 'new.boss@example.com' })]);
    expect(r.nextBase.get('l1')!['Manager Email']).toBe('new.boss@example.com');
    // The same case-only difference in a column Muster owns is a person's edit.
    const owned = merge(anna, { ...anna, Status: 'enrolled' }, { ...anna, Status: 'Enrolled' });
    expect(owned.conflicts.map((c) => c.column)).toEqual(['Status']);
  });

  it('when both made the same change, then nothing is written and there is no conflict', () => {
    const same = { ...anna, Session: 'Cohort C' };
    expect(merge(anna, same, same)).toMatchObject({ write: [], conflicts: [] });
  });

  it('when the row is missing from the sheet, or has no synced copy yet, then it is written whole without conflicts', () => {
    expect(merge(anna, anna, null).write).toEqual([row('l1', anna)]);
    const fresh = merge(null, anna, { ...anna, Name: 'Anna (typed)' });
    expect(fresh.conflicts).toEqual([]);
    expect(fresh.write).toEqual([row('l1', anna)]);
    expect(fresh.nextBase.get('l1')).toEqual(text(anna));
  });

  it('when a row people typed is claimed, then it is written with its anchor even if nothing differs; keys Muster no longer has are stale', () => {
    const r = mergeTab({
      headers,
      ours: [row('l1', anna)],
      theirs: new Map([['l1', text(anna)], ['gone', text({ ...anna, Key: 'gone' })]]),
      base: new Map([['l1', text(anna)]]),
      importedColumns: imported,
      claims: [{ key: 'l1', cells: {}, anchor: 'cells:abc' }],
    });
    expect(r.write).toEqual([{ key: 'l1', cells: anna, anchor: 'cells:abc' }]);
    expect(r.stale).toEqual(['gone']);
  });

  it('when dates and numbers come back in another form, then equal values are not changes', () => {
    const spec = TABS.completion;
    const cells = { Key: 'c1', 'Completed On': { date: '2026-03-05T09:30:00.000Z' }, Due: { date: '2026-04-01T00:00:00.000Z' }, Score: 87 };
    const back = { Key: 'c1', 'Completed On': { date: '2026-03-05T09:30:00Z' }, Due: { date: '2026-04-01' }, Score: '87' };
    const r = mergeTab({ headers: spec.headers, ours: [row('c1', cells)], theirs: new Map([['c1', rowText(spec.headers, row('c1', back))]]), base: new Map([['c1', rowText(spec.headers, row('c1', cells))]]), importedColumns: [], claims: [] });
    expect(r).toMatchObject({ write: [], conflicts: [] });
    expect(cellText({ date: '2026-04-01' })).toBe('2026-04-01T00:00');
    expect(sameText('2026-04-01T00:00', '2026-04-01T10:00')).toBe(true);
    expect(sameText('2026-04-01T09:00', '2026-04-01T10:00')).toBe(false);
  });
});
