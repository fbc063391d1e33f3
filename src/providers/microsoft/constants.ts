// Microsoft-side names in one place: scopes, default endpoints, extended-property ids and Prefer headers; no logic beyond spelling them.

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';

/** App-only scope for Graph (client credentials): every granted application permission. */
export const GRAPH_APP_SCOPE = 'https://graph.microsoft.com/.default';
/** Delegated scopes asked for on behalf of the signed-in coordinator (workbook access). */
export const GRAPH_DELEGATED_WORKBOOK_SCOPES = ['https://graph.microsoft.com/Files.ReadWrite'];

/** Muster's own MAPI named-property set for the event create key (a fixed GUID, never change it). */
export const MUSTER_PROPERTY_SET = '{8f0c2a5e-5a8e-4c3b-9d7e-6c2b1d0e4f3a}';
export const CREATE_KEY_PROPERTY_ID = `String ${MUSTER_PROPERTY_SET} Name MusterCreateKey`;

/** PS_PUBLIC_STRINGS: where Outlook add-ins keep custom properties (cecp-<add-in id>). */
export const PS_PUBLIC_STRINGS = '{00020329-0000-0000-C000-000000000046}';

/** PidTagMessageClass, to recognise non-delivery reports (REPORT.IPM.Note.NDR). */
export const MESSAGE_CLASS_PROPERTY_ID = 'String 0x001A';
export const NDR_MESSAGE_CLASS = 'REPORT.IPM.Note.NDR';

export const PREFER_IMMUTABLE_ID = 'IdType="ImmutableId"';
export const PREFER_UTC = 'outlook.timezone="UTC"';

export const TEAMS_PROVIDER = 'teamsForBusiness';

/** Graph's documented limits this provider plans around. */
export const GRAPH_LIMITS = {
  batchSize: 20,
  attendeesPerEvent: 500,
  concurrentPerMailbox: 4,
} as const;

/**
 * How long after a sendMail attempt a message that is not in the mailbox may still turn up there. Graph answers sendMail
 * with 202 Accepted before Exchange has processed it ("it does not indicate that the request processing has completed",
 * user-sendmail docs), and the Sent Items copy Muster looks its key up in is written when the transport submits the
 * message: normally within seconds, later when the mailbox is busy. Within this grace an attempt that cannot be found is
 * still 'unknown' (looked up again later, never resent); after it, 'not sent' (sent again). Five minutes is far above
 * the usual filing delay and costs an unknown message at most a few minutes of lateness.
 */
export const SENT_COPY_FINDABLE_AFTER_MS = 5 * 60_000;

/** Graph's spelling of an Outlook add-in's custom-properties property id (MS-OXCEXT: lower case, no braces, no urn:uuid:). */
export function addinPropertyId(addinId: string): string {
  const id = addinId.toLowerCase().replace(/[{}]/g, '').replace(/^urn:uuid:/, '');
  return `String ${PS_PUBLIC_STRINGS} Name cecp-${id}`;
}
