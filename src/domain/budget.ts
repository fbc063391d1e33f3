// Rolling send budgets per sending mailbox: says whether the next message may go now or when; never counts or sends anything itself.
import { DateTime } from 'luxon';
import { MusterError } from './errors.js';
import { normalizeInstant, parseInstant, toUtcIso } from './time.js';

export interface SendLimits {
  /** Messages in any rolling 60 seconds. */
  perMinute: number;
  /** Messages in any rolling 24 hours. */
  perDay: number;
  /** Recipients (each message counts each recipient again) in any rolling 24 hours. */
  recipientsPerDay: number;
}

/** Exchange Online: 30 messages a minute, 10,000 recipients a day (rolling 24 h); no separate message count, so at most one per recipient. */
export const EXCHANGE_LIMITS: Readonly<SendLimits> = Object.freeze({ perMinute: 30, perDay: 10_000, recipientsPerDay: 10_000 });

/**
 * Google Workspace Gmail: 2,000 messages and 10,000 recipients a day (rolling 24 h). Per minute, the Gmail API's
 * per-user quota (6,000 units a minute in the 2026 page, messages.send costing 100) allows 60 sends.
 */
// 6,000 quota units a minute per user at 100 units a send is 60 sends; 50 leaves room for the lookups that settle unknown outcomes.
export const GMAIL_LIMITS: Readonly<SendLimits> = Object.freeze({ perMinute: 50, perDay: 2_000, recipientsPerDay: 10_000 });

/** Local SMTP or the .eml outbox: generous, only there to keep a runaway loop from flooding a relay. */
export const LOCAL_LIMITS: Readonly<SendLimits> = Object.freeze({ perMinute: 600, perDay: 100_000, recipientsPerDay: 1_000_000 });

/** At or above this share of a daily budget the launch checklist shows a blocking item naming the mailbox. */
export const DAILY_BUDGET_BLOCKING_FRACTION = 0.9;

export interface SentRecord {
  /** When the message was handed to the provider (UTC ISO). */
  at: string;
  recipients: number;
}

export interface BudgetState {
  canSend: boolean;
  /** The earliest instant the next message fits (UTC ISO); null when it can go now or never fits a day's budget. */
  waitUntil: string | null;
  /** The larger of messages/perDay and recipients/recipientsPerDay over the last 24 hours (may exceed 1). */
  dailyUsedFraction: number;
  sentLastMinute: number;
  sentLastDay: number;
  recipientsLastDay: number;
  /** Why the message has to wait, in a coordinator's words; null when it can go. */
  reason: string | null;
}

function assertLimits(limits: SendLimits): void {
  for (const [k, v] of Object.entries(limits)) {
    if (!(typeof v === 'number' && v > 0)) {
      throw new MusterError('VALIDATION_FAILED', `A send limit must be a positive number (${k} is ${String(v)})`, { details: [{ field: `limits.${k}`, message: 'must be positive' }] });
    }
  }
}

/** The instant at which enough of `entries` (oldest first) have left a window of `windowMs` to free `needed` units. */
function freedAt(entries: Array<{ t: number; units: number }>, needed: number, windowMs: number): number | null {
  let freed = 0;
  for (const e of entries) {
    freed += e.units;
    if (freed >= needed) return e.t + windowMs;
  }
  return null;
}

/**
 * Whether a message to `nextRecipients` recipients may be sent at `now` from a mailbox with this history, under
 * rolling windows of 60 seconds and 24 hours (a message sent at t counts until t + window). When it cannot go yet,
 * `waitUntil` is when the oldest messages will have left the windows.
 */
export function budgetState(history: SentRecord[], nowIso: string, limits: SendLimits, nextRecipients = 1): BudgetState {
  assertLimits(limits);
  const now = parseInstant(normalizeInstant(nowIso, 'now')).toMillis();
  const MIN = 60_000;
  const DAY = 86_400_000;
  const day = history
    .map((h) => ({ t: parseInstant(h.at, 'history.at').toMillis(), units: Math.max(0, h.recipients) }))
    .filter((h) => h.t > now - DAY)
    .sort((a, b) => a.t - b.t);
  const minute = day.filter((h) => h.t > now - MIN);
  const sentLastMinute = minute.length;
  const sentLastDay = day.length;
  const recipientsLastDay = day.reduce((n, h) => n + h.units, 0);
  const dailyUsedFraction = Math.max(sentLastDay / limits.perDay, recipientsLastDay / limits.recipientsPerDay);

  const waits: number[] = [];
  const reasons: string[] = [];
  let never = false;
  if (sentLastMinute + 1 > limits.perMinute) {
    const t = freedAt(minute.map((h) => ({ t: h.t, units: 1 })), sentLastMinute + 1 - limits.perMinute, MIN);
    if (t !== null) waits.push(t);
    reasons.push(`${limits.perMinute} messages a minute reached`);
  }
  if (sentLastDay + 1 > limits.perDay) {
    const t = freedAt(day.map((h) => ({ t: h.t, units: 1 })), sentLastDay + 1 - limits.perDay, DAY);
    if (t !== null) waits.push(t);
    reasons.push(`${limits.perDay} messages a day reached`);
  }
  if (nextRecipients > limits.recipientsPerDay) {
    never = true;
    reasons.push(`one message to ${nextRecipients} recipients is more than the ${limits.recipientsPerDay} allowed in a day`);
  } else if (recipientsLastDay + nextRecipients > limits.recipientsPerDay) {
    const t = freedAt(day, recipientsLastDay + nextRecipients - limits.recipientsPerDay, DAY);
    if (t !== null) waits.push(t);
    reasons.push(`${limits.recipientsPerDay} recipients a day reached`);
  }
  const canSend = reasons.length === 0;
  const waitUntil = canSend || never || waits.length === 0 ? null : toUtcIso(DateTime.fromMillis(Math.max(...waits), { zone: 'utc' }));
  return { canSend, waitUntil, dailyUsedFraction, sentLastMinute, sentLastDay, recipientsLastDay, reason: canSend ? null : reasons.join('; ') };
}
