// Launching a program: the checklist decides, a forced launch is logged with its reason, then events, invites and reminders are set in motion.
import { assertLaunchable } from '../domain/checklist.js';
import type { ChecklistItem, Program } from '../domain/types.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { programChecklist } from './checklist.js';
import { getProgramOrThrow } from './programs.js';
import { scheduleLaunch } from './jobs.js';

export async function launchProgram(ctx: AppContext, actor: Actor, programId: string, opts: { force: boolean; reason: string }): Promise<{ program: Program; checklist: ChecklistItem[]; jobsAdded: number; forced: boolean }> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const checklist = await programChecklist(ctx, program, { withProviders: true });
  const blocking = checklist.filter((i) => i.status === 'blocking' && !i.signedOff);
  assertLaunchable(checklist, opts.force, opts.reason);
  const now = nowIso(ctx);
  const launched: Program = { ...program, status: 'launched' };
  await ctx.store.tx(async (st) => {
    await st.updateProgram(launched, now);
    await st.audit(
      {
        ...actor,
        action: blocking.length > 0 ? 'program.launch-forced' : 'program.launch',
        entity: 'program',
        entityId: program.id,
        detail: blocking.length > 0 ? { reason: opts.reason, blocking: blocking.map((b) => b.reason) } : {},
      },
      now,
    );
  });
  const jobsAdded = await scheduleLaunch(ctx, launched);
  return { program: launched, checklist, jobsAdded, forced: blocking.length > 0 };
}
