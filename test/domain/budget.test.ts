import { describe, expect, it } from 'vitest';
import { DAILY_BUDGET_BLOCKING_FRACTION, EXCHANGE_LIMITS, GMAIL_LIMITS, budgetState, type SentRecord } from '../../src/domain/budget.js';

const NOW = '2026-03-03T12:00:00.000Z';
const at = (msAgo: number) => new Date(Date.parse(NOW) - msAgo).toISOString();

describe('send budgets', () => {
  it('when 29 messages went out in the last minute from Exchange, then one more may go', () => {
    const history = Array.from({ length: 29 }, (_, i) => ({ at: at(1000 * (i + 1)), recipients: 1 }));
    expect(budgetState(history, NOW, EXCHANGE_LIMITS).canSend).toBe(true);
  });

  it('when 30 went out in the last minute, then the next waits until the oldest leaves the window', () => {
    const history = Array.from({ length: 30 }, (_, i) => ({ at: at(1000 * (i + 1)), recipients: 1 }));
    const s = budgetState(history, NOW, EXCHANGE_LIMITS);
    expect(s.canSend).toBe(false);
    // The oldest was sent 30 s ago, so it leaves the rolling minute in 30 s.
    expect(s.waitUntil).toBe('2026-03-03T12:00:30.000Z');
    expect(s.reason).toMatch(/30 messages a minute/);
  });

  it('when messages are older than the windows, then they no longer count', () => {
    const history = [
      ...Array.from({ length: 30 }, () => ({ at: at(61_000), recipients: 10 })),
      { at: at(25 * 3600_000), recipients: 9_000 },
    ];
    const s = budgetState(history, NOW, EXCHANGE_LIMITS);
    expect(s).toMatchObject({ canSend: true, sentLastMinute: 0, sentLastDay: 30, recipientsLastDay: 300 });
  });

  it('when Exchange recipients for the day run out, then the next waits for enough to roll out of the 24 hours', () => {
    const history: SentRecord[] = [
      { at: at(23 * 3600_000), recipients: 5000 },
      { at: at(2 * 3600_000), recipients: 4000 },
      { at: at(3600_000), recipients: 900 },
    ];
    const s = budgetState(history, NOW, EXCHANGE_LIMITS, 200);
    expect(s.canSend).toBe(false);
    expect(s.waitUntil).toBe('2026-03-03T13:00:00.000Z');
    expect(s.dailyUsedFraction).toBeCloseTo(0.99);
    expect(s.dailyUsedFraction).toBeGreaterThanOrEqual(DAILY_BUDGET_BLOCKING_FRACTION);
  });

  it('when Gmail has sent 1,800 messages today, then 90% of the daily budget is used but sending continues', () => {
    const history = Array.from({ length: 1800 }, (_, i) => ({ at: at(30_000 * (i + 3)), recipients: 1 }));
    const s = budgetState(history, NOW, GMAIL_LIMITS);
    expect(s.canSend).toBe(true);
    expect(s.dailyUsedFraction).toBeCloseTo(0.9);
  });

  it('when one message has more recipients than a day allows, then it can never go and there is no wait time', () => {
    const s = budgetState([], NOW, EXCHANGE_LIMITS, 10_001);
    expect(s).toMatchObject({ canSend: false, waitUntil: null });
  });

  it('when a limit is zero, then the limits are refused', () => {
    expect(() => budgetState([], NOW, { perMinute: 0, perDay: 1, recipientsPerDay: 1 })).toThrow(/perMinute/);
  });
});
