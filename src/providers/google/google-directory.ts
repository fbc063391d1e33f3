// DirectoryPort on the Admin SDK Directory: a learner's manager from `relations` and a group's members, acting as the directory admin subject; without one it says "cannot tell" instead of guessing.
import type { admin_directory_v1 } from 'googleapis';
import { MusterError, isMusterError } from '../../domain/errors.js';
import type { DirectoryPort, Person } from '../../ports/index.js';
import { withRetry, type RetryDeps } from './google-errors.js';

const PAGE_SIZE = 200;

export function managerFromUser(user: admin_directory_v1.Schema$User): string | null {
  const relations = (user.relations ?? []) as Array<{ type?: string; value?: string }>;
  const manager = relations.find((r) => r.type === 'manager')?.value;
  return manager ? manager.toLowerCase() : null;
}

export interface GoogleDirectoryOptions {
  /** Absent when no GOOGLE_DIRECTORY_SUBJECT is configured: managers then come from the roster, group enrollment is off. */
  directory: admin_directory_v1.Admin | undefined;
  retry: RetryDeps;
}

export class GoogleDirectory implements DirectoryPort {
  readonly provider = 'google';
  private readonly admin: admin_directory_v1.Admin | undefined;
  private readonly retry: RetryDeps;

  constructor(opts: GoogleDirectoryOptions) {
    this.admin = opts.directory;
    this.retry = opts.retry;
  }

  async managerOf(email: string): Promise<string | null | undefined> {
    if (!this.admin) return undefined;
    const admin = this.admin;
    try {
      const res = await withRetry('directory.users.get', () => admin.users.get({ userKey: email, projection: 'basic', viewType: 'admin_view' }), this.retry);
      return managerFromUser(res.data);
    } catch (err) {
      if (isMusterError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  async groupMembers(group: string): Promise<Person[]> {
    if (!this.admin) {
      throw new MusterError('CONFIG_INVALID', 'Group enrollment needs GOOGLE_DIRECTORY_SUBJECT (a Workspace admin with a read-only role) so Muster can read group members.', {
        details: [{ field: 'GOOGLE_DIRECTORY_SUBJECT', message: 'not configured' }],
      });
    }
    const admin = this.admin;
    const people: Person[] = [];
    let pageToken: string | undefined;
    do {
      const res = await withRetry('directory.members.list', () => admin.members.list({ groupKey: group, maxResults: PAGE_SIZE, pageToken }), this.retry);
      for (const m of res.data.members ?? []) {
        if (m.email && (m.type ?? 'USER') === 'USER' && (m.status ?? 'ACTIVE') === 'ACTIVE') people.push({ email: m.email.toLowerCase(), name: m.email.split('@')[0]! });
      }
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    return people;
  }
}
