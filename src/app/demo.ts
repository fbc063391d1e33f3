// Seeds a realistic demo program on an empty install so a coordinator sees Muster work before configuring anything.
import { DateTime } from 'luxon';
import type { Actor, AppContext } from './context.js';
import { createProgram } from './programs.js';
import { importRoster } from './roster.js';
import { launchProgram } from './launch.js';
import { updateProgram } from './programs.js';
import { runDue } from './jobs.js';

export const DEMO_CODE = 'SEC101';

const LEARNERS: Array<[string, string, string, string, string]> = [
  ['ana.berg@example.com', 'Ana Berg', 'lena.vogel@example.com', 'Europe/Berlin', 'Finance'],
  ['ben.okafor@example.com', 'Ben Okafor', 'lena.vogel@example.com', 'Europe/London', 'Finance'],
  ['chen.li@example.com', 'Chen Li', 'omar.haddad@example.com', 'Asia/Singapore', 'Engineering'],
  ['dana.ruiz@example.com', 'Dana Ruiz', 'omar.haddad@example.com', 'America/New_York', 'Engineering'],
  ['emil.novak@example.com', 'Emil Novák', 'omar.haddad@example.com', 'Europe/Prague', 'Engineering'],
  ['fatima.sy@example.com', 'Fatima Sy', 'lena.vogel@example.com', 'Africa/Dakar', 'Sales'],
  ['greta.lund@example.com', 'Greta Lund', 'lena.vogel@example.com', 'Europe/Stockholm', 'Sales'],
  ['hiro.tanaka@example.com', 'Hiro Tanaka', 'omar.haddad@example.com', 'Asia/Tokyo', 'Support'],
];

/** Creates, fills and launches the demo program, then runs what is due (the invitations). */
export async function seedDemo(ctx: AppContext, actor: Actor): Promise<{ programId: string }> {
  const now = DateTime.fromJSDate(ctx.clock.now()).setZone('Europe/Berlin');
  const first = now.plus({ days: 10 }).set({ hour: 9, minute: 0, second: 0, millisecond: 0 });
  const second = now.plus({ days: 24 }).set({ hour: 14, minute: 0, second: 0, millisecond: 0 });
  const reviewed = now.minus({ days: 20 }).toISODate()!;
  const { program } = await createProgram(ctx, actor, {
    name: 'Security Basics',
    code: DEMO_CODE,
    owner: 'training@example.com',
    audience: 'Everyone who handles customer data',
    agenda: 'Phishing, passwords and passkeys, reporting an incident',
    materials: [
      { title: 'Slides', kind: 'material', link: 'https://intranet.example.com/security-basics/slides', owner: 'it-security@example.com', lastReviewed: reviewed },
      { title: 'VPN setup guide', kind: 'prerequisite', link: 'https://intranet.example.com/vpn', owner: 'it-helpdesk@example.com', lastReviewed: reviewed },
      { title: 'Room access badge', kind: 'access', link: 'https://intranet.example.com/badges', owner: 'facilities@example.com', lastReviewed: reviewed },
    ],
    reviewWindowDays: 180,
    assessmentName: 'Security Basics quiz',
    policy: {},
    owners: { missedSessions: 'training@example.com', lateCompletions: 'training@example.com', questions: 'it-security@example.com', improvements: 'training@example.com' },
    showScoresToManagers: false,
    enrollmentPath: 'Assigned by managers in the shared roster',
    sessions: [
      { label: 'Cohort A', start: first.toISO({ includeOffset: false })!.slice(0, 16), end: first.plus({ hours: 2 }).toISO({ includeOffset: false })!.slice(0, 16), zone: 'Europe/Berlin', room: 'Berlin HQ, room 4.12', roomEmail: null, onlineUrl: 'https://meet.example.com/sec101-a', backupPlan: 'If the room is unavailable we move to room 2.03; the online link stays the same', instructors: ['ines.keller@example.com'], capacity: 20 },
      { label: 'Cohort B', start: second.toISO({ includeOffset: false })!.slice(0, 16), end: second.plus({ hours: 2 }).toISO({ includeOffset: false })!.slice(0, 16), zone: 'Europe/Berlin', room: 'Berlin HQ, room 4.12', roomEmail: null, onlineUrl: 'https://meet.example.com/sec101-b', backupPlan: 'If the room is unavailable we move to room 2.03; the online link stays the same', instructors: ['ines.keller@example.com'], capacity: 20 },
    ],
  });
  await importRoster(
    ctx,
    actor,
    program.id,
    LEARNERS.map(([email, name, manager, zone, department], i) => ({ row: i + 2, values: { Email: email, Name: name, 'Manager Email': manager, 'Time Zone': zone, Department: department } })),
    'json',
  );
  await updateProgram(ctx, actor, program.id, { rosterApproved: true });
  await launchProgram(ctx, actor, program.id, { force: false, reason: '' });
  await runDue(ctx, { tenantId: actor.tenantId });
  return { programId: program.id };
}
