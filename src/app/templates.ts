// Coordinator-edited message templates: checked before saving, previewed for a chosen learner before anything is sent.
import { MusterError } from '../domain/errors.js';
import { MESSAGE_KINDS, validateTemplate, type MessageKind } from '../domain/templates.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { composeLearnerMessage } from './compose.js';
import { getProgramOrThrow, getSessionOrThrow } from './programs.js';

function assertKind(kind: string): asserts kind is MessageKind {
  if (!(MESSAGE_KINDS as readonly string[]).includes(kind)) {
    throw new MusterError('VALIDATION_FAILED', `There is no message kind "${kind}"`, { details: [{ field: 'kind', message: `use one of ${MESSAGE_KINDS.join(', ')}` }] });
  }
}

export async function saveTemplate(ctx: AppContext, actor: Actor, programId: string, input: { kind: string; language: string; subject: string; body: string }) {
  assertKind(input.kind);
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  validateTemplate(input.body, `${input.kind}.${input.language}`);
  const now = nowIso(ctx);
  await ctx.store.putTemplate(actor.tenantId, program.id, input.kind, input.language, '', input.body, now);
  await ctx.store.audit({ ...actor, action: 'template.save', entity: 'program', entityId: program.id, detail: { kind: input.kind, language: input.language } }, now);
  return { kind: input.kind, language: input.language, body: input.body };
}

export async function previewTemplate(ctx: AppContext, tenantId: string, programId: string, input: { kind: string; learnerEmail: string; sessionId?: string | undefined }) {
  assertKind(input.kind);
  const program = await getProgramOrThrow(ctx, tenantId, programId);
  const learner = await ctx.store.learnerByEmail(tenantId, input.learnerEmail);
  if (!learner) throw new MusterError('NOT_FOUND', `${input.learnerEmail} is not on the roster`, { details: [{ field: 'learnerEmail', message: 'not on the roster' }] });
  const sessions = await ctx.store.listSessions(tenantId, program.id);
  const session = input.sessionId ? await getSessionOrThrow(ctx, tenantId, input.sessionId) : sessions.find((s) => s.status === 'scheduled') ?? null;
  const enrollment = session ? (await ctx.store.listEnrollments(tenantId, { sessionId: session.id, learnerId: learner.id }))[0] ?? null : null;
  const providers = await ctx.providersFor(tenantId);
  return composeLearnerMessage(ctx, providers, { kind: input.kind, program, session, learner, enrollment, extra: { offsetMinutes: 1440 } });
}
