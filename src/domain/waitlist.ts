// Seats and waitlists for one session: decides who is enrolled, who waits and who is promoted; never sends invites or writes records.
import type { Enrollment, EnrollmentStatus } from './types.js';
import { MusterError } from './errors.js';

function assertCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new MusterError('VALIDATION_FAILED', `A session's capacity must be a whole number of seats, not ${capacity}`, {
      details: [{ field: 'capacity', message: 'must be a non-negative integer' }],
    });
  }
}

/** Waitlisted enrollments in the order they will be promoted: wait position, then time of enrollment, then id. */
export function waitOrder(enrollments: Enrollment[]): Enrollment[] {
  return enrollments
    .filter((e) => e.status === 'waitlisted')
    .sort(
      (a, b) =>
        (a.waitPosition ?? Number.MAX_SAFE_INTEGER) - (b.waitPosition ?? Number.MAX_SAFE_INTEGER) ||
        (a.enrolledAt < b.enrolledAt ? -1 : a.enrolledAt > b.enrolledAt ? 1 : 0) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

/** Seats taken: enrollments with status 'enrolled'. A declined RSVP still holds its seat until the coordinator cancels it. */
export function seatsTaken(enrollments: Enrollment[]): number {
  return enrollments.filter((e) => e.status === 'enrolled').length;
}

export function freeSeats(enrollments: Enrollment[], capacity: number): number {
  assertCapacity(capacity);
  return Math.max(0, capacity - seatsTaken(enrollments));
}

/**
 * Where a new enrollment goes, given the session's existing enrollments (any status; cancelled ones are ignored):
 * a free seat when nobody is already waiting, otherwise the end of the waitlist.
 */
export function placeEnrollment(active: Enrollment[], capacity: number): { status: Exclude<EnrollmentStatus, 'cancelled'>; waitPosition: number | null } {
  assertCapacity(capacity);
  const waiting = active.filter((e) => e.status === 'waitlisted');
  if (seatsTaken(active) < capacity && waiting.length === 0) return { status: 'enrolled', waitPosition: null };
  const last = waiting.reduce((max, e) => Math.max(max, e.waitPosition ?? 0), 0);
  return { status: 'waitlisted', waitPosition: last + 1 };
}

/**
 * Who moves up after a cancellation (or a capacity increase): as many waitlisted enrollments as there are free seats,
 * in wait order. The caller enrolls them and sends each the invite. RSVPs play no part: a decline is shown to the
 * coordinator and never changes a status here.
 */
export function promoteAfterCancellation(enrollments: Enrollment[], capacity: number): Enrollment[] {
  const free = freeSeats(enrollments, capacity);
  return waitOrder(enrollments).slice(0, free);
}

/** Everyone a session cancellation must tell: enrolled and waiting learners alike. */
export function affectedByCancellation(enrollments: Enrollment[]): Enrollment[] {
  return enrollments.filter((e) => e.status === 'enrolled' || e.status === 'waitlisted');
}
