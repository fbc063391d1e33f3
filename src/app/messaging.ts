// Delivers one message at most once: reserve its key in the ledger, respect the mailbox's budget, settle unknown outcomes before any resend; in three phases (prepare, send, record) so a runner can send several prepared messages in one provider round trip.
import { createHash } from 'node:crypto';
import { budgetState } from '../domain/budget.js';
import type { ErrorCode } from '../domain/errors.js';
import type { OutgoingMessage, Person, SendOutcome } from '../ports/index.js';
import type { MessageRow } from '../store/store.js';
import type { AppContext, ProviderSet } from './context.js';
import { nowIso } from './context.js';

export interface Delivery {
  tenantId: string;
  key: string;
  kind: string;
  programId: string | null;
  sessionId: string | null;
  learnerId: string | null;
  to: Person;
  cc?: Person[];
  subject: string;
  text: string;
  html: string;
  calendar?: OutgoingMessage['calendar'];
}

export type DeliveryResult =
  | { status: 'sent' | 'already-sent' }
  | { status: 'unknown'; reason: string }
  | { status: 'failed'; reason: string; retryable: boolean; pauseMailbox: boolean; code: ErrorCode }
  | { status: 'deferred'; until: string; reason: string };

/** Muster's own RFC 5322 Message-ID for a ledger key: the same key always gives the same id, so a Gmail send can be found again. */
export function messageIdFor(tenantId: string, key: string, senderEmail: string): string {
  const domain = senderEmail.split('@')[1] ?? 'muster.invalid';
  return `<muster.${createHash('sha256').update(`${tenantId}\u0000${key}`).digest('hex').slice(0, 40)}@${domain}>`;
}

/** A message ready to go: reserved, settled, within budget and its attempt claimed; nothing was sent yet. */
export interface PreparedSend {
  delivery: Delivery;
  msg: OutgoingMessage;
  row: MessageRow;
  /** Set when an earlier attempt recorded a provider id: the mailer checks it before sending (never batched). */
  previous: { providerId: string } | undefined;
  /** When this attempt began (Muster's clock), for settling it if its outcome turns out unknown. */
  attemptedAt: string;
  /** Whether that instant was stored on the row (sent_at while pending); a failure clears it again. */
  attemptRecorded: boolean;
}

export type Prepared = { status: 'done'; result: DeliveryResult } | { status: 'ready'; send: PreparedSend };

export interface PrepareOptions {
  /**
   * Sends from the same mailbox already prepared in this round trip and not yet recorded: the budget counts them as
   * sent, so a batch never takes the mailbox over its budget.
   */
  inFlight?: number;
  /** Store this attempt's start on the ledger row before sending (sent_at while pending), so a crash can be settled with its age. */
  recordAttemptStart?: boolean;
}

const ageMs = (ctx: AppContext, since: string | null): number | null => (since ? Math.max(0, ctx.clock.now().getTime() - Date.parse(since)) : null);

/** Everything before the send: the ledger reservation, settling an earlier attempt in doubt, the budget and the claim. */
export async function prepareDelivery(ctx: AppContext, providers: ProviderSet, d: Delivery, opts: PrepareOptions = {}): Promise<Prepared> {
  const { store } = ctx;
  const { mailer, sender } = providers;
  const done = (result: DeliveryResult): Prepared => ({ status: 'done', result });
  const msg: OutgoingMessage = {
    tenantId: d.tenantId,
    key: d.key,
    messageId: messageIdFor(d.tenantId, d.key, sender.email),
    from: sender,
    to: [d.to],
    ...(d.cc && d.cc.length > 0 ? { cc: d.cc } : {}),
    subject: d.subject,
    text: d.text,
    html: d.html,
    ...(d.calendar ? { calendar: d.calendar } : {}),
  };
  const row = await store.reserveMessage({
    tenant_id: d.tenantId,
    id: createHash('sha256').update(`${d.tenantId}\u0000${d.key}`).digest('hex').slice(0, 32),
    key: d.key,
    program_id: d.programId,
    session_id: d.sessionId,
    learner_id: d.learnerId,
    kind: d.kind,
    recipient: d.to.email,
    subject: d.subject,
    provider: mailer.provider,
    mailbox: sender.email,
    message_id: msg.messageId,
    created_at: nowIso(ctx),
  });
  if (row.status === 'sent') return done({ status: 'already-sent' });
  if (row.status === 'failed') return done({ status: 'failed', reason: row.error ?? 'failed earlier', retryable: false, pauseMailbox: false, code: 'PROVIDER_REJECTED' });

  // An attempt began before and its outcome was never recorded (a crash), or the provider could not say: settle first.
  if (row.status === 'unknown' || (row.status === 'pending' && row.attempts > 0)) {
    if (!mailer.canSettle) {
      const reason = row.error ?? 'the mail server connection ended before it confirmed the message; it is not sent again';
      if (row.status !== 'unknown') await store.updateMessage(d.tenantId, d.key, { status: 'unknown', error: reason });
      return done({ status: 'unknown', reason });
    }
    // sent_at holds when the attempt in doubt began (or, for an unknown row, when it was found unknown).
    const settled = await mailer.settle(msg, row.provider_id, ageMs(ctx, row.sent_at));
    if (settled === 'sent') {
      await store.updateMessage(d.tenantId, d.key, { status: 'sent', sent_at: nowIso(ctx), error: null });
      ctx.logger.info('mail.settled', { key: d.key, outcome: 'sent' });
      return done({ status: 'already-sent' });
    }
    if (settled === 'unknown') {
      // Still undecided: keep it unknown (reported) and look again on a later attempt; never resend blindly.
      await store.updateMessage(d.tenantId, d.key, { status: 'unknown', error: row.error ?? 'the provider could not tell whether it was sent' });
      return done({ status: 'failed', reason: 'the provider could not tell whether it was sent', retryable: true, pauseMailbox: false, code: 'OUTCOME_UNKNOWN' });
    }
    ctx.logger.info('mail.settled', { key: d.key, outcome: 'not-sent' });
    // Not sent after all: the row is an ordinary pending send again, which this attempt may claim.
    if (row.status !== 'pending') await store.updateMessage(d.tenantId, d.key, { status: 'pending' });
  }

  const now = ctx.clock.now();
  const inFlight = opts.inFlight ?? 0;
  // The store returns the whole day's history once the day's count plus one reaches the limit; with messages in flight
  // that point comes that many messages earlier.
  const asked = inFlight === 0 ? providers.limits : { ...providers.limits, perDay: Math.max(1, providers.limits.perDay - inFlight), recipientsPerDay: Math.max(1, providers.limits.recipientsPerDay - inFlight) };
  // Only the part of the history that decides the budget, so a check costs the same late in a busy day.
  const history = await store.budgetHistory(sender.email, now.toISOString(), asked);
  for (let i = 0; i < inFlight; i++) history.push({ at: now.toISOString(), recipients: 1 });
  const budget = budgetState(history, now.toISOString(), providers.limits);
  if (!budget.canSend) {
    return done({ status: 'deferred', until: budget.waitUntil ?? new Date(now.getTime() + 60_000).toISOString(), reason: `the send budget of ${sender.email} is used up for now` });
  }

  // Only one worker may begin this attempt: another that read the same row (its lease lapsed) stands back.
  if (!(await store.claimMessageAttempt(d.tenantId, d.key, row.attempts))) {
    return done({ status: 'deferred', until: new Date(now.getTime() + 60_000).toISOString(), reason: 'another worker is sending this message' });
  }
  const attemptedAt = now.toISOString();
  if (opts.recordAttemptStart) await store.updateMessage(d.tenantId, d.key, { sent_at: attemptedAt });
  return { status: 'ready', send: { delivery: d, msg, row, previous: row.provider_id ? { providerId: row.provider_id } : undefined, attemptedAt, attemptRecorded: opts.recordAttemptStart === true } };
}

/** Records what the provider said about a prepared send; an unknown outcome is settled by lookup at once where the mailer can. */
export async function recordDelivery(ctx: AppContext, providers: ProviderSet, p: PreparedSend, outcome: SendOutcome): Promise<DeliveryResult> {
  const { store } = ctx;
  const { mailer } = providers;
  const d = p.delivery;
  switch (outcome.status) {
    case 'sent':
      await store.updateMessage(d.tenantId, d.key, { status: 'sent', sent_at: nowIso(ctx), provider_id: outcome.providerId, error: null });
      return { status: 'sent' };
    case 'unknown': {
      // Counted against the budget as if sent: it may have been.
      await store.updateMessage(d.tenantId, d.key, { status: 'unknown', sent_at: nowIso(ctx), provider_id: outcome.providerId, error: outcome.reason });
      ctx.logger.warn('mail.outcome_unknown', { key: d.key, provider: mailer.provider });
      if (mailer.canSettle) {
        const settled = await mailer.settle(p.msg, outcome.providerId, ageMs(ctx, p.attemptedAt)).catch(() => 'unknown' as const);
        if (settled === 'sent') {
          await store.updateMessage(d.tenantId, d.key, { status: 'sent', error: null });
          return { status: 'sent' };
        }
        if (settled === 'unknown') {
          return { status: 'failed', reason: `outcome unknown: ${outcome.reason}`, retryable: true, pauseMailbox: false, code: 'OUTCOME_UNKNOWN' };
        }
        if (settled === 'not-sent') {
          // The provider never took it: a later attempt (settling first again) sends it, so nothing goes missing.
          await store.updateMessage(d.tenantId, d.key, { status: 'pending', sent_at: null, error: outcome.reason });
          return { status: 'failed', reason: `not sent: ${outcome.reason}`, retryable: true, pauseMailbox: false, code: 'PROVIDER_UNAVAILABLE' };
        }
      }
      return { status: 'unknown', reason: outcome.reason };
    }
    case 'failed': {
      const reason = `${outcome.error.code}: ${outcome.error.message}`;
      // A failure means the provider did not take it, so a later attempt may send it; a permanent one is final.
      await store.updateMessage(d.tenantId, d.key, {
        status: outcome.retryable ? 'pending' : 'failed',
        attempts: outcome.retryable ? 0 : p.row.attempts + 1,
        error: reason,
        ...(p.attemptRecorded ? { sent_at: null } : {}),
      });
      return { status: 'failed', reason, retryable: outcome.retryable, pauseMailbox: outcome.pauseMailbox, code: outcome.error.code };
    }
  }
}

/** One message, one round trip: prepare, send, record. */
export async function deliver(ctx: AppContext, providers: ProviderSet, d: Delivery): Promise<DeliveryResult> {
  const p = await prepareDelivery(ctx, providers, d);
  if (p.status === 'done') return p.result;
  const outcome = await providers.mailer.send(p.send.msg, p.send.previous);
  return recordDelivery(ctx, providers, p.send, outcome);
}
