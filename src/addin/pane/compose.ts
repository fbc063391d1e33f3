// Puts a session's invite on the organizer's Outlook appointment (subject, UTC times, location, HTML body, required attendees in batches, the session id custom property); it decides nothing about sessions and never sends the meeting.
import {
  CUSTOM_PROPERTY_SESSION_ID,
  MAILBOX_ENHANCED_LOCATION_VERSION,
  RECIPIENTS_PER_CALL,
  RECIPIENTS_PER_FIELD,
} from '../constants.js';
import type { SessionInvite } from './api.js';
import { callOffice, type ComposeAppointment, type CustomProperties, type EmailAddressDetails } from './office.js';

/** Refusal to touch the item, with a sentence for the coordinator and the proposed split. */
export class InviteRefusedError extends Error {
  readonly code = 'LIMIT_EXCEEDED';
  /** Sizes of the sessions the roster could be split into, each at most RECIPIENTS_PER_FIELD. */
  readonly splitSizes: number[];
  constructor(message: string, splitSizes: number[]) {
    super(message);
    this.name = 'InviteRefusedError';
    this.splitSizes = splitSizes;
  }
}

/** Balanced parts of at most `max` each, e.g. 600 → [300, 300], 1001 → [334, 334, 333]. */
export function suggestSplit(total: number, max = RECIPIENTS_PER_FIELD): number[] {
  if (total <= max) return [total];
  const parts = Math.ceil(total / max);
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

/** Slices recipients into Outlook-sized addAsync batches. */
export function toRecipientBatches<T>(recipients: readonly T[], size = RECIPIENTS_PER_CALL): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < recipients.length; i += size) batches.push(recipients.slice(i, i + size));
  return batches;
}

/** Throws InviteRefusedError when the meeting would carry more required attendees than Outlook allows. */
export function assertAttendeeCount(count: number): void {
  if (count <= RECIPIENTS_PER_FIELD) return;
  const split = suggestSplit(count);
  throw new InviteRefusedError(
    `This meeting would have ${count} required attendees; Outlook allows at most ${RECIPIENTS_PER_FIELD}. ` +
      `Split the session into ${split.length} sessions in Muster (${split.join(' + ')} learners), then send each from its own meeting.`,
    split,
  );
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The body Muster sends: the service's HTML, which must state the session's local time. When it does
 * not (neither the full local time text nor its start part), a paragraph with it goes first, inside
 * <body> when the HTML is a whole document.
 */
export function toInviteBodyHtml(invite: SessionInvite): string {
  const full = invite.localTimeText.trim();
  if (full.length === 0) return invite.bodyHtml;
  const startPart = full.split(/\s+[–-]\s+/)[0] ?? full;
  const states = [full, startPart].some((t) => invite.bodyHtml.includes(t) || invite.bodyHtml.includes(escapeHtml(t)));
  if (states) return invite.bodyHtml;
  const para = `<p>${escapeHtml(full)}</p>`;
  const bodyTag = /<body[^>]*>/i.exec(invite.bodyHtml);
  if (!bodyTag) return `${para}${invite.bodyHtml}`;
  const at = bodyTag.index + bodyTag[0].length;
  return `${invite.bodyHtml.slice(0, at)}${para}${invite.bodyHtml.slice(at)}`;
}

/** The text for the appointment's location line: the room, else the online link. */
export function toLocationText(invite: SessionInvite): string | null {
  return invite.location?.trim() || invite.onlineUrl?.trim() || null;
}

export interface ApplyInviteResult {
  attendeesAdded: number;
  attendeesAlreadyPresent: number;
  batches: number;
  usedEnhancedLocation: boolean;
}

export interface ApplyInviteEnv {
  isSetSupported(name: string, minVersion?: string): boolean;
}

/**
 * Fills the organizer's appointment from the invite. Checks the attendee count first so a refused
 * roster changes nothing; attendees already on the meeting are not added twice.
 */
export async function applyInviteToAppointment(item: ComposeAppointment, invite: SessionInvite, env: ApplyInviteEnv): Promise<ApplyInviteResult> {
  const existing = await callOffice<EmailAddressDetails[]>('read the required attendees', (cb) => item.requiredAttendees.getAsync(cb));
  const present = new Set(existing.map((r) => r.emailAddress.toLowerCase()));
  const seen = new Set<string>();
  const toAdd: EmailAddressDetails[] = [];
  for (const a of invite.attendees) {
    const key = a.email.toLowerCase();
    if (present.has(key) || seen.has(key)) continue;
    seen.add(key);
    toAdd.push({ emailAddress: a.email, displayName: a.name });
  }
  assertAttendeeCount(existing.length + toAdd.length);

  await callOffice<void>('set the subject', (cb) => item.subject.setAsync(invite.subject, cb));
  await callOffice<void>('set the start time', (cb) => item.start.setAsync(new Date(invite.start), cb));
  await callOffice<void>('set the end time', (cb) => item.end.setAsync(new Date(invite.end), cb));

  const location = toLocationText(invite);
  const useEnhanced = env.isSetSupported('Mailbox', MAILBOX_ENHANCED_LOCATION_VERSION) && item.enhancedLocation !== undefined;
  if (location !== null) {
    if (useEnhanced && item.enhancedLocation) {
      const enhanced = item.enhancedLocation;
      await callOffice<void>('set the location', (cb) => enhanced.addAsync([{ id: location, type: 'custom' }], cb));
    } else {
      await callOffice<void>('set the location', (cb) => item.location.setAsync(location, cb));
    }
  }

  await callOffice<void>('set the body', (cb) => item.body.setAsync(toInviteBodyHtml(invite), { coercionType: 'html' }, cb));

  const batches = toRecipientBatches(toAdd);
  for (const batch of batches) {
    await callOffice<void>('add the attendees', (cb) => item.requiredAttendees.addAsync(batch, cb));
  }

  const props = await callOffice<CustomProperties>('load the custom properties', (cb) => item.loadCustomPropertiesAsync(cb));
  props.set(CUSTOM_PROPERTY_SESSION_ID, invite.sessionId);
  await callOffice<void>('save the custom properties', (cb) => props.saveAsync(cb));

  return { attendeesAdded: toAdd.length, attendeesAlreadyPresent: existing.length, batches: batches.length, usedEnhancedLocation: useEnhanced && location !== null };
}

/** The session id stored on an item by an earlier compose, or null. */
export async function readSessionIdProperty(item: { loadCustomPropertiesAsync: ComposeAppointment['loadCustomPropertiesAsync'] }): Promise<string | null> {
  const props = await callOffice<CustomProperties>('load the custom properties', (cb) => item.loadCustomPropertiesAsync(cb));
  const v = props.get(CUSTOM_PROPERTY_SESSION_ID);
  return typeof v === 'string' && v.length > 0 ? v : null;
}
