// Delivers one message at most once: reserve its key in the ledger, respect the mailbox's budget, settle unknown outcomes before any resend.
import { createHash } from 'node:crypto';
import { budgetState } from '../domain/budget.js';
import type { ErrorCode } from '../domain/errors.js';
import type { OutgoingMessage, Person } from '../ports/index.js';
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

export async function deliver(ctx: AppContext, providers: ProviderSet, d: Delivery): Promise<DeliveryResult> {
  const { store } = ctx;
  const { mailer, sender } = providers;
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
  if (row.status === 'sent') return { status: 'already-sent' };
  if (row.status === 'failed') return { status: 'failed', reason: row.error ?? 'failed earlier', retryable: false, pauseMailbox: false, code: 'PROVIDER_REJECTED' };

  // An attempt began before and its outcome was never recorded (a crash), or the provider could not say: settle first.
  if (row.status === 'unknown' || (row.status === 'pending' && row.attempts > 0)) {
    if (!mailer.canSettle) {
      const reason = row.error ?? 'the mail server connection ended before it confirmed the message; it is not sent again';
      if (row.status !== 'unknown') await store.updateMessage(d.tenantId, d.key, { status: 'unknown', error: reason });
      return { status: 'unknown', reason };
    }
    const settled = await mailer.settle(msg, row.provider_id);
    if (settled === 'sent') {
      await store.updateMessage(d.tenantId, d.key, { status: 'sent', sent_at: nowIso(ctx), error: null });
      ctx.logger.info('mail.settled', { key: d.key, outcome: 'sent' });
      return { status: 'already-sent' };
    }
    if (settled === 'unknown') {
      // Still undecided: keep it unknown (reported) and look again on a later attempt; never resend blindly.
      await store.updateMessage(d.tenantId, d.key, { status: 'unknown', error: row.error ?? 'the provider could not tell whether it was sent' });
      return { status: 'failed', reason: 'the provider could not tell whether it was sent', retryable: true, pauseMailbox: false, code: 'OUTCOME_UNKNOWN' };
    }
    ctx.logger.info('mail.settled', { key: d.key, outcome: 'not-sent' });
    // Not sent after all: the row is an ordinary pending send again, which this attempt may claim.
    if (row.status !== 'pending') await store.updateMessage(d.tenantId, d.key, { status: 'pending' });
  }

  const now = ctx.clock.now();
  // Only the part of the history that decides the budget, so a check costs the same late in a busy day.
  const history = await store.budgetHistory(sender.email, now.toISOString(), providers.limits);
  const budget = budgetState(history, now.toISOString(), providers.limits);
  if (!budget.canSend) {
    return { status: 'deferred', until: budget.waitUntil ?? new Date(now.getTime() + 60_000).toISOString(), reason: `the send budget of ${sender.email} is used up for now` };
  }

  // Only one worker may begin this attempt: another that read the same row (its lease lapsed) stands back.
  if (!(await store.claimMessageAttempt(d.tenantId, d.key, row.attempts))) {
    return { status: 'deferred', until: new Date(now.getTime() + 60_000).toISOString(), reason: 'another worker is sending this message' };
  }
  const outcome = await mailer.send(msg, row.provider_id ? { providerId: row.provider_id } : undefined);
  switch (outcome.status) {
    case 'sent':
      await store.updateMessage(d.tenantId, d.key, { status: 'sent', sent_at: nowIso(ctx), provider_id: outcome.providerId, error: null });
      return { status: 'sent' };
    case 'unknown': {
      // Counted against the budget as if sent: it may have been.
      await store.updateMessage(d.tenantId, d.key, { status: 'unknown', sent_at: nowIso(ctx), provider_id: outcome.providerId, error: outcome.reason });
      ctx.logger.warn('mail.outcome_unknown', { key: d.key, provider: mailer.provider });
      if (mailer.canSettle) {
        const settled = await mailer.settle(msg, outcome.providerId).catch(() => 'unknown' as const);
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
      await store.updateMessage(d.tenantId, d.key, { status: outcome.retryable ? 'pending' : 'failed', attempts: outcome.retryable ? 0 : row.attempts + 1, error: reason });
      return { status: 'failed', reason, retryable: outcome.retryable, pauseMailbox: outcome.pauseMailbox, code: outcome.error.code };
    }
  }
}
