// Learner questions: log them, group those that ask the same thing, and raise an improvement note when a group grows.
import { randomUUID } from 'node:crypto';
import { groupQuestions, improvementNoteText } from '../domain/questions.js';
import type { Program, Question } from '../domain/types.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { getProgramOrThrow } from './programs.js';
import { enqueueRecordsSync } from './jobs.js';

export const IMPROVEMENT_THRESHOLD = 3;

/** Question id → the group it belongs to (only groups of two or more). */
export async function questionGroups(ctx: AppContext, program: Program): Promise<Map<string, { key: string; text: string; learners: number }>> {
  const questions = await ctx.store.listQuestions(program.tenantId, program.id);
  const out = new Map<string, { key: string; text: string; learners: number }>();
  for (const g of groupQuestions(questions, { threshold: 2 })) {
    for (const id of g.questionIds) out.set(id, { key: g.key, text: g.text, learners: g.learners });
  }
  return out;
}

export async function logQuestion(ctx: AppContext, actor: Actor, programId: string, input: { text: string; learnerEmail: string | null }): Promise<{ question: Question; note: string | null }> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const now = nowIso(ctx);
  const question: Question = { id: randomUUID(), tenantId: actor.tenantId, programId: program.id, learnerEmail: input.learnerEmail, text: input.text, createdAt: now };
  await ctx.store.insertQuestion(question);
  await ctx.store.audit({ ...actor, action: 'question.log', entity: 'program', entityId: program.id, detail: { questionId: question.id } }, now);
  let note: string | null = null;
  const all = await ctx.store.listQuestions(actor.tenantId, program.id);
  for (const g of groupQuestions(all, { threshold: IMPROVEMENT_THRESHOLD })) {
    if (!g.questionIds.includes(question.id) || g.learners < IMPROVEMENT_THRESHOLD) continue;
    note = improvementNoteText(g);
    await ctx.store.upsertImprovementNote({ id: randomUUID(), tenantId: actor.tenantId, programId: program.id, groupKey: g.key, text: note, owner: program.owners.improvements ?? program.owner, status: 'open', learners: g.learners, createdAt: now });
  }
  if (program.status === 'launched') await enqueueRecordsSync(ctx, program);
  return { question, note };
}

export async function questionsWithGroups(ctx: AppContext, tenantId: string, programId: string) {
  const program = await getProgramOrThrow(ctx, tenantId, programId);
  const questions = await ctx.store.listQuestions(tenantId, program.id);
  const groups = groupQuestions(questions, { threshold: 2 }).map((g) => ({ key: g.key, text: g.text, learners: g.learners, questions: g.questionIds.length }));
  return { questions, groups, improvementNotes: await ctx.store.listImprovementNotes(tenantId, program.id) };
}
