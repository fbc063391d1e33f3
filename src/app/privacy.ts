// Data protection: export one learner's data, or erase it from the store, the records, the outbox and the message log.
import { createHash } from 'node:crypto';
import { MusterError } from '../domain/errors.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { enqueueRecordsSync } from './jobs.js';

export async function exportLearner(ctx: AppContext, tenantId: string, email: string) {
  const learner = await ctx.store.learnerByEmail(tenantId, email);
  if (!learner) throw new MusterError('NOT_FOUND', `${email} is not on any roster`);
  const enrollments = await ctx.store.listEnrollments(tenantId, { learnerId: learner.id });
  const programs = [...new Set(enrollments.map((e) => e.programId))];
  const completions = [];
  const questions = [];
  for (const p of programs) {
    completions.push(...(await ctx.store.listCompletions(tenantId, p)).filter((c) => c.learnerId === learner.id));
    questions.push(...(await ctx.store.listQuestions(tenantId, p)).filter((q) => q.learnerEmail === learner.email));
  }
  const messages = (await ctx.store.listMessages(tenantId, { learnerId: learner.id })).map((m) => ({ kind: m.kind, subject: m.subject, status: m.status, sentAt: m.sent_at }));
  return { learner, enrollments, completions, questions, messages, exportedAt: nowIso(ctx) };
}

/**
 * Erases a learner: their row, enrollments, completions, jobs, messages and questions go; the records are re-synced so
 * their rows disappear; outbox files addressed to them are deleted; the audit log keeps one pseudonymous entry.
 */
export async function eraseLearner(ctx: AppContext, actor: Actor, email: string): Promise<{ erased: true; pseudonym: string; outboxFiles: number }> {
  const t = actor.tenantId;
  const learner = await ctx.store.learnerByEmail(t, email);
  if (!learner) throw new MusterError('NOT_FOUND', `${email} is not on any roster`);
  const pseudonym = `learner-${createHash('sha256').update(`${t}:${learner.id}`).digest('hex').slice(0, 16)}`;
  const enrollments = await ctx.store.listEnrollments(t, { learnerId: learner.id });
  const programIds = [...new Set(enrollments.map((e) => e.programId))];
  const now = nowIso(ctx);
  await ctx.store.tx(async (st) => {
    await st.eraseLearnerRows(t, learner.id, learner.email, learner.name);
    await st.audit({ ...actor, action: 'learner.erase', entity: 'learner', entityId: pseudonym, detail: { programs: programIds.length } }, now);
  });
  const providers = await ctx.providersFor(t);
  const outboxFiles = providers.eraseFromOutbox ? (await providers.eraseFromOutbox(learner.email)) + (await providers.eraseFromOutbox(learner.name)) : 0;
  for (const id of programIds) {
    const program = await ctx.store.getProgram(t, id);
    if (program && program.status === 'launched') {
      await enqueueRecordsSync(ctx, program);
    } else if (program) {
      const { syncRecords } = await import('./records-sync.js');
      await syncRecords(ctx, providers, program);
    }
  }
  return { erased: true, pseudonym, outboxFiles };
}
