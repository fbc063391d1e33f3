// Google credentials for Muster: the scopes it asks for (each with its reason) and JWT clients acting as one Workspace user; it makes no API calls itself and never logs keys or tokens.
import { google } from 'googleapis';
import { MusterError } from '../../domain/errors.js';

/** Every scope Muster requests, in one place. Domain-wide delegation must list each of these exactly. */
export const SCOPES = {
  /** Create, patch and delete the session events on the coordinator's calendar (and read them back by id). */
  calendarEvents: 'https://www.googleapis.com/auth/calendar.events',
  /** freebusy.query for instructors, learners and rooms: calendar.events does not cover it. */
  calendarFreeBusy: 'https://www.googleapis.com/auth/calendar.freebusy',
  /** Send reminders and follow-ups from the coordinator's mailbox. */
  gmailSend: 'https://www.googleapis.com/auth/gmail.send',
  /** Find a sent message by its Message-ID (rfc822msgid: search) before any resend, and read bounces; gmail.metadata cannot search with q. */
  gmailRead: 'https://www.googleapis.com/auth/gmail.readonly',
  /** Read and write the shared records spreadsheet. */
  spreadsheets: 'https://www.googleapis.com/auth/spreadsheets',
  /** Learners' managers (the `relations` of type manager), acting as the directory admin subject. */
  directoryUsers: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  /** Group members for group enrollment, acting as the directory admin subject. */
  directoryGroupMembers: 'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
} as const;

/** What each client asks for: the narrowest set for the calls it makes. */
export const CLIENT_SCOPES = {
  calendar: [SCOPES.calendarEvents, SCOPES.calendarFreeBusy],
  gmail: [SCOPES.gmailSend, SCOPES.gmailRead],
  sheets: [SCOPES.spreadsheets],
  directory: [SCOPES.directoryUsers, SCOPES.directoryGroupMembers],
} as const;

/** The scopes an admin pastes into the domain-wide delegation entry (Google Admin console). */
export const DELEGATION_SCOPES: string[] = [...new Set(Object.values(CLIENT_SCOPES).flat())];

/** Google's own token endpoint: the JWT client always posts here, whatever the key file says. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  client_id?: string;
  private_key_id?: string;
}

export function parseServiceAccountKey(json: unknown): ServiceAccountKey {
  const k = json as Partial<ServiceAccountKey> | null;
  if (!k || typeof k.client_email !== 'string' || typeof k.private_key !== 'string') {
    throw new MusterError('CONFIG_INVALID', 'The Google service account key file needs client_email and private_key.', {
      details: [{ field: 'GOOGLE_SERVICE_ACCOUNT_KEY_FILE', message: 'client_email and private_key are required' }],
    });
  }
  return { client_email: k.client_email, private_key: k.private_key, client_id: k.client_id, private_key_id: k.private_key_id };
}

/** google-auth-library's JWT class, taken from googleapis so the clients and the auth share one copy of the library. */
const JWT = google.auth.JWT;
export type JwtClient = InstanceType<typeof JWT>;

/**
 * A JWT client acting as `subject` (domain-wide delegation) with the given scopes. When `tokenUrl`
 * differs from Google's, a request interceptor on the client's own transporter rewrites the token
 * request's URL (the client ignores the key file's token_uri).
 */
export function createJwtClient(key: ServiceAccountKey, subject: string, scopes: readonly string[], tokenUrl?: string): JwtClient {
  const client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: [...scopes], subject });
  if (tokenUrl && tokenUrl !== GOOGLE_TOKEN_URL) {
    const target = new URL(tokenUrl);
    client.transporter.interceptors.request.add({
      resolved: async (config) => {
        const url = config.url instanceof URL ? config.url : new URL(String(config.url));
        if (url.href === GOOGLE_TOKEN_URL) config.url = target;
        return config;
      },
    });
  }
  return client;
}
