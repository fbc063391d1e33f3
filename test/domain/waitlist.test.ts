import { describe, expect, it } from 'vitest';
import { affectedByCancellation, placeEnrollment, promoteAfterCancellation } from '../../src/domain/waitlist.js';
import { makeEnrollment } from './fixtures.js';
import type { Enrollment } from '../../src/domain/types.js';

function seats(n: number, over: Partial<Enrollment> = {}): Enrollment[] {
  return Array.from({ length: n }, (_, i) => makeEnrollment({ id: `e${i}`, learnerId: `l${i}`, ...over }));
}

describe('waitlist', () => {
  it('when a seat is free and nobody waits, then the new learner is enrolled', () => {
    expect(placeEnrollment(seats(2), 3)).toEqual({ status: 'enrolled', waitPosition: null });
  });

  it('when the session is full, then the new learner waits at the end of the line', () => {
    const list = [...seats(2), makeEnrollment({ id: 'w1', status: 'waitlisted', waitPosition: 4 })];
    expect(placeEnrollment(list, 2)).toEqual({ status: 'waitlisted', waitPosition: 5 });
    expect(placeEnrollment(seats(2), 2)).toEqual({ status: 'waitlisted', waitPosition: 1 });
  });

  it('when someone is already waiting, then a newcomer does not jump the line even if a seat is free', () => {
    const list = [...seats(1), makeEnrollment({ id: 'w1', status: 'waitlisted', waitPosition: 1 })];
    expect(placeEnrollment(list, 2).status).toBe('waitlisted');
  });

  it('when cancelled enrollments are in the list, then they free their seats', () => {
    expect(placeEnrollment(seats(3, { status: 'cancelled' }), 1).status).toBe('enrolled');
  });

  it('when one learner cancels, then the first in wait order is promoted', () => {
    const list = [
      ...seats(1),
      makeEnrollment({ id: 'e1', learnerId: 'l1', status: 'cancelled' }),
      makeEnrollment({ id: 'w2', status: 'waitlisted', waitPosition: 2 }),
      makeEnrollment({ id: 'w1', status: 'waitlisted', waitPosition: 1 }),
    ];
    expect(promoteAfterCancellation(list, 2).map((e) => e.id)).toEqual(['w1']);
  });

  it('when capacity grows by two, then two are promoted in order', () => {
    const list = [
      ...seats(2),
      makeEnrollment({ id: 'w3', status: 'waitlisted', waitPosition: 3 }),
      makeEnrollment({ id: 'w1', status: 'waitlisted', waitPosition: 1 }),
      makeEnrollment({ id: 'w2', status: 'waitlisted', waitPosition: 2 }),
    ];
    expect(promoteAfterCancellation(list, 4).map((e) => e.id)).toEqual(['w1', 'w2']);
  });

  it('when an enrolled learner declined the invite, then their seat is still held and nobody is promoted', () => {
    const list = [...seats(1), makeEnrollment({ id: 'd', status: 'enrolled', rsvp: 'declined' }), makeEnrollment({ id: 'w1', status: 'waitlisted', waitPosition: 1 })];
    expect(promoteAfterCancellation(list, 2)).toEqual([]);
  });

  it('when a session is cancelled, then enrolled and waiting learners are told, cancelled ones are not', () => {
    const list = [makeEnrollment({ id: 'a' }), makeEnrollment({ id: 'b', status: 'waitlisted', waitPosition: 1 }), makeEnrollment({ id: 'c', status: 'cancelled' })];
    expect(affectedByCancellation(list).map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('when capacity is not a whole number, then it is refused', () => {
    expect(() => placeEnrollment([], -1)).toThrow(/capacity/);
    expect(() => promoteAfterCancellation([], 1.5)).toThrow(/capacity/);
  });
});
