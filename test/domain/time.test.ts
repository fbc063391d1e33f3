import { describe, expect, it } from 'vitest';
import { formatLocal, isValidZone, localDateTime, parseInstant, addLocalDays } from '../../src/domain/time.js';
import { isMusterError } from '../../src/domain/errors.js';

describe('time', () => {
  it('when an instant is formatted for a Berlin learner in winter, then it reads as local CET time', () => {
    expect(formatLocal('2026-03-03T08:00:00Z', 'Europe/Berlin')).toBe('Tuesday 3 March 2026, 09:00 CET');
  });

  it('when the same instant is formatted in German, then day, month and zone are German', () => {
    expect(formatLocal('2026-03-03T08:00:00Z', 'Europe/Berlin', 'de')).toBe('Dienstag, 3. März 2026, 09:00 Uhr MEZ');
  });

  it('when formatted for a New York learner in summer, then the local hour and offset show', () => {
    expect(formatLocal('2026-07-03T08:00:00Z', 'America/New_York', 'en-US')).toBe('Friday 3 July 2026, 04:00 GMT-4');
  });

  it('when a zone is made up, then it is not valid and formatting refuses it', () => {
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
    expect(isValidZone('')).toBe(false);
    expect(() => formatLocal('2026-03-03T08:00:00Z', 'Mars/Olympus')).toThrow(/time zone/);
  });

  it('when the local date-time is read across the spring change, then the offset follows the zone', () => {
    const before = localDateTime('2026-03-28T08:00:00Z', 'Europe/Berlin');
    const after = localDateTime('2026-03-29T08:00:00Z', 'Europe/Berlin');
    expect(before).toMatchObject({ date: '2026-03-28', time: '09:00', offsetMinutes: 60, weekday: 6 });
    expect(after).toMatchObject({ date: '2026-03-29', time: '10:00', offsetMinutes: 120, isoLocal: '2026-03-29T10:00:00' });
  });

  it('when an instant is not ISO 8601, then parsing fails with VALIDATION_FAILED naming the field', () => {
    try {
      parseInstant('next tuesday', 'session.start');
      expect.unreachable();
    } catch (err) {
      expect(isMusterError(err, 'VALIDATION_FAILED')).toBe(true);
      expect((err as { details: Array<{ field: string }> }).details[0]!.field).toBe('session.start');
    }
  });

  it('when a local day is added across the autumn change, then the wall-clock time stays and 25 hours pass', () => {
    expect(addLocalDays('2026-10-24T07:00:00.000Z', 'Europe/Berlin', 1)).toBe('2026-10-25T08:00:00.000Z');
  });
});
