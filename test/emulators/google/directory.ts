// Admin SDK Directory v1 behaviour of the emulator: users with manager relations, groups with paged members, admin-only access; it holds no other Workspace settings.
import { createHash } from 'node:crypto';
import { ApiError, notFound, type Handler, queryInt } from './common.js';

export interface DirectoryUser {
  primaryEmail: string;
  fullName: string;
  managerEmail?: string;
  isAdmin: boolean;
}

export class DirectoryState {
  readonly users = new Map<string, DirectoryUser>();
  readonly groups = new Map<string, { email: string; name: string; members: string[] }>();

  addUser(u: { email: string; name?: string; managerEmail?: string; isAdmin?: boolean }): void {
    const email = u.email.toLowerCase();
    this.users.set(email, { primaryEmail: email, fullName: u.name ?? email.split('@')[0]!, managerEmail: u.managerEmail?.toLowerCase(), isAdmin: u.isAdmin ?? false });
  }

  setAdmin(email: string, isAdmin: boolean): void {
    const u = this.users.get(email.toLowerCase());
    if (u) u.isAdmin = isAdmin;
    else this.addUser({ email, isAdmin });
  }

  addGroup(g: { email: string; name?: string; members: string[] }): void {
    this.groups.set(g.email.toLowerCase(), { email: g.email.toLowerCase(), name: g.name ?? g.email, members: g.members.map((m) => m.toLowerCase()) });
  }

  isAdmin(email: string): boolean {
    return this.users.get(email.toLowerCase())?.isAdmin === true;
  }
}

function numericId(email: string): string {
  return BigInt('0x' + createHash('sha1').update(email).digest('hex').slice(0, 15)).toString();
}

function toUser(u: DirectoryUser): Record<string, unknown> {
  const [given, ...family] = u.fullName.split(' ');
  const out: Record<string, unknown> = {
    kind: 'admin#directory#user',
    id: numericId(u.primaryEmail),
    primaryEmail: u.primaryEmail,
    name: { fullName: u.fullName, givenName: given ?? '', familyName: family.join(' ') },
    isAdmin: u.isAdmin,
    suspended: false,
  };
  if (u.managerEmail) out.relations = [{ value: u.managerEmail, type: 'manager' }];
  return out;
}

export function directoryHandlers(state: DirectoryState): Record<string, Handler> {
  const assertAdmin = (user: string): void => {
    if (!state.isAdmin(user)) throw new ApiError(403, 'forbidden', 'Not Authorized to access this resource/api');
  };
  return {
    'directory.users.get': (ctx) => {
      assertAdmin(ctx.user);
      const key = ctx.pathParams.userKey!.toLowerCase();
      const u = state.users.get(key) ?? [...state.users.values()].find((x) => numericId(x.primaryEmail) === key);
      if (!u) throw notFound('Resource Not Found: userKey');
      return { body: toUser(u) };
    },
    'directory.members.list': (ctx) => {
      assertAdmin(ctx.user);
      const g = state.groups.get(ctx.pathParams.groupKey!.toLowerCase());
      if (!g) throw notFound('Resource Not Found: groupKey');
      const max = Math.min(queryInt(ctx.query, 'maxResults') ?? 200, 200);
      const start = Number(ctx.query.get('pageToken') ?? 0);
      const page = g.members.slice(start, start + max).map((email) => ({
        kind: 'admin#directory#member',
        id: numericId(email),
        email,
        role: 'MEMBER',
        type: 'USER',
        status: 'ACTIVE',
      }));
      const body: Record<string, unknown> = { kind: 'admin#directory#members', members: page };
      if (start + max < g.members.length) body.nextPageToken = String(start + max);
      return { body };
    },
  };
}
