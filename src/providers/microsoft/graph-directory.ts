// DirectoryPort on Entra ID through Graph (managers, transitive group members) plus a reader of non-delivery reports in the organizer's inbox; it only reads.
import { isMusterError } from '../../domain/errors.js';
import type { DirectoryPort, Logger, Person } from '../../ports/index.js';
import { MESSAGE_CLASS_PROPERTY_ID, NDR_MESSAGE_CLASS } from './constants.js';
import { type MusterGraphClient, query } from './graph-client.js';
import { MICROSOFT_PROVIDER } from './graph-calendar.js';

export interface GraphDirectoryOptions {
  client: MusterGraphClient;
  logger: Logger;
}

interface DirectoryObject {
  '@odata.type'?: string;
  id: string;
  mail?: string | null;
  userPrincipalName?: string | null;
  displayName?: string | null;
}

export class GraphDirectory implements DirectoryPort {
  readonly provider = MICROSOFT_PROVIDER;

  constructor(private readonly o: GraphDirectoryOptions) {}

  async managerOf(email: string): Promise<string | null | undefined> {
    const user = `/users/${encodeURIComponent(email)}`;
    try {
      const m = await this.o.client.get<DirectoryObject>(`${user}/manager${query({ $select: 'id,mail,userPrincipalName,displayName' })}`);
      // A user manager has mail (or at least a UPN); an org contact has mail.
      return m.mail ?? (m['@odata.type'] === '#microsoft.graph.orgContact' ? null : (m.userPrincipalName ?? null));
    } catch (err) {
      if (!isMusterError(err, 'NOT_FOUND')) throw err;
    }
    // 404 means either "no manager" or "no such user": ask which.
    try {
      await this.o.client.get<DirectoryObject>(`${user}${query({ $select: 'id' })}`);
      return null;
    } catch (err) {
      if (isMusterError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /** Members of a group (by address or id), following nested groups; users only, each once. */
  async groupMembers(group: string): Promise<Person[]> {
    let groupId = group;
    if (group.includes('@')) {
      const found = await this.o.client.get<{ value: DirectoryObject[] }>(`/groups${query({ $filter: `mail eq '${group.replace(/'/g, "''")}'`, $select: 'id' })}`);
      const first = found.value[0];
      if (!first) return [];
      groupId = first.id;
    }
    // An OData cast on a directory relationship is an advanced query: ConsistencyLevel: eventual and $count=true.
    const members = await this.o.client.getAll<DirectoryObject>(
      `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user${query({ $count: 'true', $select: 'id,mail,userPrincipalName,displayName', $top: 999 })}`,
      { retry: 'idempotent', headers: { ConsistencyLevel: 'eventual' } },
    );
    const seen = new Set<string>();
    const out: Person[] = [];
    for (const m of members) {
      const email = m.mail ?? m.userPrincipalName;
      if (!email || seen.has(email.toLowerCase())) continue;
      seen.add(email.toLowerCase());
      out.push({ email, name: m.displayName ?? email });
    }
    return out;
  }
}

const MAILTO = /mailto:([^"'<>\s?]+)/gi;

/**
 * Addresses that non-delivery reports in the organizer's inbox say could not be reached (lower case, each once),
 * optionally only reports received at or after `sinceIso`.
 */
export async function readUndeliverableAddresses(client: MusterGraphClient, organizer: string, opts: { sinceIso?: string; logger?: Logger } = {}): Promise<string[]> {
  const filter = `singleValueExtendedProperties/Any(ep: ep/id eq '${MESSAGE_CLASS_PROPERTY_ID}' and ep/value eq '${NDR_MESSAGE_CLASS}')`;
  const reports = await client.getAll<{ receivedDateTime?: string; body?: { content?: string } }>(
    `/users/${encodeURIComponent(organizer)}/mailFolders/inbox/messages${query({ $filter: filter, $select: 'receivedDateTime,body', $top: 50 })}`,
    { mailbox: organizer, retry: 'idempotent' },
  );
  const since = opts.sinceIso ? Date.parse(opts.sinceIso) : null;
  const out = new Set<string>();
  for (const r of reports) {
    if (since !== null && r.receivedDateTime && Date.parse(r.receivedDateTime) < since) continue;
    for (const m of (r.body?.content ?? '').matchAll(MAILTO)) {
      const address = decodeURIComponent(m[1] ?? '').toLowerCase();
      if (address.includes('@') && address !== organizer.toLowerCase()) out.add(address);
    }
  }
  opts.logger?.info('graph.ndr.read', { reports: reports.length, addresses: out.size });
  return [...out];
}
