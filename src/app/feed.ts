// The subscribable per-program calendar feed: a revocable secret link (calendar clients send no credentials), no attendee data.
import { createHash, randomBytes } from 'node:crypto';
import { inviteSubject } from '../domain/naming.js';
import { buildProgramFeed } from '../providers/local/ics.js';
import { uidForCreateKey } from '../providers/local/ics-calendar.js';
import { eventCreateKey } from '../domain/program.js';
import type { Actor, AppContext } from './context.js';
import { nowIso } from './context.js';
import { renderEventBody } from './compose.js';
import { getProgramOrThrow } from './programs.js';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Creates a new feed link for the program; the previous one stops working at once. */
export async function rotateFeedToken(ctx: AppContext, actor: Actor, programId: string): Promise<{ url: string }> {
  const program = await getProgramOrThrow(ctx, actor.tenantId, programId);
  const token = randomBytes(24).toString('base64url');
  const now = nowIso(ctx);
  await ctx.store.putFeedToken(actor.tenantId, program.id, hashToken(token), now);
  await ctx.store.audit({ ...actor, action: 'feed.rotate', entity: 'program', entityId: program.id }, now);
  return { url: `${ctx.publicUrl}/feeds/${token}.ics` };
}

/** The feed's iCalendar text for a token, or null when the token is unknown or revoked. */
export async function feedFor(ctx: AppContext, token: string): Promise<string | null> {
  const found = await ctx.store.feedByTokenHash(hashToken(token));
  if (!found) return null;
  const program = await ctx.store.getProgram(found.tenantId, found.programId);
  if (!program) return null;
  const sessions = await ctx.store.listSessions(found.tenantId, program.id);
  return buildProgramFeed({
    calendarName: `${program.name} (${program.code})`,
    dtstamp: ctx.clock.now(),
    sessions: sessions.map((s) => ({
      // The same UID as the session's invitations, so a subscribed calendar and an accepted invite are one entry.
      uid: uidForCreateKey(eventCreateKey(s.tenantId, s.id, s.generation)),
      sequence: s.sequence,
      start: s.start,
      end: s.end,
      summary: inviteSubject(program, s),
      description: renderEventBody(ctx, program, s).text,
      location: s.room,
      url: s.onlineUrl,
      status: s.status,
    })),
  });
}
