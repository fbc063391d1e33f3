import { describe, expect, it } from 'vitest';
import { mergeRows } from '../../src/domain/merge.js';
import { TABS } from '../../src/domain/records.js';
import type { RecordRow } from '../../src/ports/index.js';

const editable = TABS.roster.editableColumns;
const row = (key: string | null, cells: RecordRow['cells']): RecordRow => ({ key, cells });
const anna = { Key: 'l1', Email: 'anna@example.com', Name: 'Anna Berg', 'Manager Email': 'boss@example.com', 'Time Zone': 'Europe/Berlin', Status: 'enrolled' };

describe('three-way merge of records rows', () => {
  it('when only a person changed a cell, then it is kept and not written over', () => {
    const r = mergeRows({ base: [row('l1', anna)], ours: [row('l1', anna)], theirs: [row('l1', { ...anna, 'Manager Email': 'new.boss@example.com' })], editableColumns: editable });
    expect(r.keep).toEqual([{ key: 'l1', column: 'Manager Email', value: 'new.boss@example.com' }]);
    expect(r.write).toEqual([]);
    expect(r.conflicts).toEqual([]);
    // Next time, with Muster still holding the old value, the cell is still the person's: kept again, never overwritten.
    const again = mergeRows({ base: r.nextBase, ours: [row('l1', anna)], theirs: [row('l1', { ...anna, 'Manager Email': 'new.boss@example.com' })], editableColumns: editable });
    expect(again.keep).toHaveLength(1);
    expect(again.write).toEqual([]);
  });

  it('when only Muster changed a cell, then the row is written with it', () => {
    const r = mergeRows({ base: [row('l1', anna)], ours: [row('l1', { ...anna, Status: 'cancelled', Name: 'Anna Berg-Ode' })], theirs: [row('l1', anna)], editableColumns: editable });
    expect(r.write).toEqual([row('l1', { ...anna, Status: 'cancelled', Name: 'Anna Berg-Ode' })]);
    expect(r.nextBase[0]!.cells.Name).toBe('Anna Berg-Ode');
  });

  it('when both changed the same editable cell differently, then it is a conflict and the sheet keeps the person\'s value', () => {
    const r = mergeRows({
      base: [row('l1', anna)],
      ours: [row('l1', { ...anna, 'Time Zone': 'Europe/London', Status: 'waitlisted' })],
      theirs: [row('l1', { ...anna, 'Time Zone': 'America/New_York' })],
      editableColumns: editable,
    });
    expect(r.conflicts).toEqual([{ key: 'l1', column: 'Time Zone', base: 'Europe/Berlin', ours: 'Europe/London', theirs: 'America/New_York' }]);
    expect(r.write).toEqual([row('l1', { ...anna, 'Time Zone': 'America/New_York', Status: 'waitlisted' })]);
    // The conflict stays a conflict on the next sync until someone resolves it.
    const again = mergeRows({ base: r.nextBase, ours: [row('l1', { ...anna, 'Time Zone': 'Europe/London', Status: 'waitlisted' })], theirs: r.write, editableColumns: editable });
    expect(again.conflicts).toHaveLength(1);
  });

  it('when both made the same change, then nothing is written and there is no conflict', () => {
    const same = { ...anna, Name: 'Anna B.' };
    const r = mergeRows({ base: [row('l1', anna)], ours: [row('l1', same)], theirs: [row('l1', same)], editableColumns: editable });
    expect(r).toMatchObject({ write: [], keep: [], conflicts: [] });
  });

  it('when a person changed a column Muster owns, then Muster\'s value is written back and the change reported', () => {
    const r = mergeRows({ base: [row('l1', anna)], ours: [row('l1', anna)], theirs: [row('l1', { ...anna, Status: 'done!' })], editableColumns: editable });
    expect(r.overwritten).toEqual([{ key: 'l1', column: 'Status', theirs: 'done!', ours: 'enrolled' }]);
    expect(r.write[0]!.cells.Status).toBe('enrolled');
  });

  it('when a person added a row, removed one and duplicated another, then each is reported', () => {
    const ben = { ...anna, Key: 'l2', Email: 'ben@example.com', Name: 'Ben' };
    const r = mergeRows({
      base: [row('l1', anna), row('l2', ben)],
      ours: [row('l1', anna), row('l2', ben)],
      theirs: [row('l1', anna), row('l1', anna), row(null, { Email: 'new@example.com', Name: 'New Person' }), row('gone', { Name: 'x' })],
      editableColumns: editable,
    });
    expect(r.added).toEqual([row(null, { Email: 'new@example.com', Name: 'New Person' })]);
    expect(r.reappended).toEqual(['l2']);
    expect(r.write.map((w) => w.key)).toEqual(['l2']);
    expect(r.orphaned).toEqual(['gone']);
    expect(r.duplicates).toEqual(['l1']);
  });

  it('when dates and numbers come back in another form, then equal values are not changes', () => {
    const cells = { Key: 'c1', 'Completed On': { date: '2026-03-05' }, Score: 87 };
    const r = mergeRows({ base: [row('c1', cells)], ours: [row('c1', cells)], theirs: [row('c1', { Key: 'c1', 'Completed On': { date: '2026-03-05T00:00:00.000Z' }, Score: '87' })], editableColumns: TABS.completion.editableColumns });
    expect(r).toMatchObject({ write: [], keep: [], conflicts: [] });
  });

  it('when there is no synced copy yet and the sheet holds a different value, then it is a conflict, and an empty sheet cell is simply written', () => {
    const r = mergeRows({ base: [], ours: [row('l1', anna)], theirs: [row('l1', { ...anna, Name: 'Anna (typed)', Department: '' })], editableColumns: editable });
    expect(r.conflicts.map((c) => c.column)).toEqual(['Name']);
    const empty = mergeRows({ base: [], ours: [row('l1', { ...anna, Department: 'Finance' })], theirs: [row('l1', { ...anna, Department: null })], editableColumns: editable });
    expect(empty.write[0]!.cells.Department).toBe('Finance');
  });
});
