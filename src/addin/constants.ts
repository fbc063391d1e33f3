// The Outlook add-in's fixed names in one place (paths, surfaces, icon sizes, hosts, header values); shared by the manifest generator, the route and the pane, and holding no logic.

/** Where the service serves the add-in; every URL in the manifest and the pane derives from these. */
export const ADDIN_PATHS = {
  base: '/addin',
  manifest: '/addin/manifest.xml',
  pane: '/addin/pane.html',
  commands: '/addin/commands.html',
  authDialog: '/addin/auth-dialog.html',
  assets: '/addin/assets',
} as const;

/** The `surface` query parameter the manifest puts on each button's pane URL. */
export const PANE_SURFACES = ['organizer', 'read', 'attendee'] as const;
export type PaneSurface = (typeof PANE_SURFACES)[number] | 'console';

/** Command surfaces (XML manifest extension points) and the pane surface each opens. */
export const COMMAND_SURFACES = [
  { extensionPoint: 'AppointmentOrganizerCommandSurface', surface: 'organizer', unifiedContext: 'meetingDetailsOrganizer' },
  { extensionPoint: 'MessageReadCommandSurface', surface: 'read', unifiedContext: 'mailRead' },
  { extensionPoint: 'AppointmentAttendeeCommandSurface', surface: 'attendee', unifiedContext: 'meetingDetailsAttendee' },
] as const;

/** Square icon sizes served under ADDIN_PATHS.assets as icon-<size>.png (16/32/80 for buttons, 64/128 for the add-in, 192 for the unified manifest). */
export const ICON_SIZES = [16, 32, 64, 80, 128, 192] as const;
export type IconSize = (typeof ICON_SIZES)[number];
/** The unified manifest's transparent white outline icon (32 px). */
export const OUTLINE_ICON_FILE = 'icon-outline-32.png';

export const OFFICE_JS_URL = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';
export const OFFICE_JS_ORIGIN = 'https://appsforoffice.microsoft.com';
export const ENTRA_LOGIN_ORIGIN = 'https://login.microsoftonline.com';

/** Hosts that frame the task pane: Outlook on the web (work and consumer), the new Outlook and Microsoft 365 shells. */
export const OUTLOOK_FRAME_ANCESTORS = [
  'https://outlook.office.com',
  'https://outlook.office365.com',
  'https://*.outlook.com',
  'https://outlook.live.com',
  'https://*.office.com',
  'https://*.office365.com',
  'https://*.microsoft.com',
  'https://*.cloud.microsoft',
] as const;

/** Requirement sets: the manifest declares the minimum; the pane detects newer ones at run time. */
export const MAILBOX_MIN_VERSION = '1.3';
export const MAILBOX_ENHANCED_LOCATION_VERSION = '1.8';
export const NESTED_APP_AUTH_SET = 'NestedAppAuth';
export const NESTED_APP_AUTH_VERSION = '1.1';

/** The item custom property that tells Muster which session an Outlook meeting belongs to. */
export const CUSTOM_PROPERTY_SESSION_ID = 'musterSessionId';

/** Outlook recipient limits (VENDOR-NOTES, LIMITS): per addAsync call and per field. */
export const RECIPIENTS_PER_CALL = 100;
export const RECIPIENTS_PER_FIELD = 500;

/** sessionStorage key holding the web console's pasted API token. */
export const CONSOLE_TOKEN_STORAGE_KEY = 'muster.apiToken';
