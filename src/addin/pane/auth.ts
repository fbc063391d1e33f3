// Gets the pane a bearer token: nested app authentication inside Outlook (silent, then popup), the Office dialog where NestedAppAuth 1.1 is missing, or the console's pasted API token; it never logs or displays a token.
import { ADDIN_PATHS, CONSOLE_TOKEN_STORAGE_KEY, ENTRA_LOGIN_ORIGIN, NESTED_APP_AUTH_SET, NESTED_APP_AUTH_VERSION } from '../constants.js';
import { PaneError } from './api.js';
import { callOffice, type DialogLike, type OfficeLike } from './office.js';

/** The delegated scope Muster's API app registration exposes to the pane. */
export const API_SCOPE_NAME = 'access_as_user';
export const ENTRA_AUTHORITY = `${ENTRA_LOGIN_ORIGIN}/common`;

export function apiScopes(clientId: string): string[] {
  return [`api://${clientId}/${API_SCOPE_NAME}`];
}

/** What the auth dialog page sends back to the pane through messageParent. */
export type DialogAuthMessage = { status: 'ok'; accessToken: string; expiresOn: string | null } | { status: 'error'; message: string };

export function parseDialogAuthMessage(raw: string | undefined): DialogAuthMessage {
  try {
    const v = JSON.parse(raw ?? '') as Partial<{ status: string; accessToken: string; expiresOn: string | null; message: string }>;
    if (v.status === 'ok' && typeof v.accessToken === 'string' && v.accessToken.length > 0) {
      return { status: 'ok', accessToken: v.accessToken, expiresOn: typeof v.expiresOn === 'string' ? v.expiresOn : null };
    }
    if (v.status === 'error' && typeof v.message === 'string') return { status: 'error', message: v.message };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return { status: 'error', message: 'The sign-in window answered with something unexpected.' };
}

/** The web console's local sign-in: the install's API token, kept only for this browser tab. */
export interface ConsoleTokenStore {
  get(): string | null;
  set(token: string): void;
  clear(): void;
  getToken(): Promise<string>;
}

export function createConsoleTokenStore(storage: TokenStorage): ConsoleTokenStore {
  return {
    get: () => storage.getItem(CONSOLE_TOKEN_STORAGE_KEY),
    set: (token) => storage.setItem(CONSOLE_TOKEN_STORAGE_KEY, token.trim()),
    clear: () => storage.removeItem(CONSOLE_TOKEN_STORAGE_KEY),
    getToken: async () => {
      const t = storage.getItem(CONSOLE_TOKEN_STORAGE_KEY);
      if (!t) throw new PaneError('UNAUTHENTICATED', 'Sign in with the API token first.');
      return t;
    },
  };
}

type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * The tab's sessionStorage, or memory when the browser denies storage to this frame (a cross-origin
 * frame with third-party storage blocked throws a SecurityError on access); then sign-in lasts until reload.
 */
export function tabStorage(getSessionStorage: () => Storage = () => globalThis.sessionStorage): TokenStorage {
  try {
    const s = getSessionStorage();
    s.getItem(CONSOLE_TOKEN_STORAGE_KEY);
    return s;
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'SecurityError') throw err;
    const memory = new Map<string, string>();
    return {
      getItem: (k) => memory.get(k) ?? null,
      setItem: (k, v) => void memory.set(k, v),
      removeItem: (k) => void memory.delete(k),
    };
  }
}

type Msal = typeof import('@azure/msal-browser');

export interface OfficeTokenSourceOptions {
  office: OfficeLike;
  clientId: string | null;
  /** Origin serving the auth dialog page. */
  origin: string;
  /** Loads @azure/msal-browser only when it is needed (kept out of the console bundle's first load). */
  loadMsal?: () => Promise<Msal>;
}

/** Returns a token getter for Outlook: cached until a minute before expiry. */
export function createOfficeTokenSource(opts: OfficeTokenSourceOptions): () => Promise<string> {
  const loadMsal = opts.loadMsal ?? (() => import('@azure/msal-browser'));
  let cached: { token: string; expiresAt: number } | null = null;
  let nestable: Promise<import('@azure/msal-browser').IPublicClientApplication> | null = null;

  async function viaNestedAppAuth(clientId: string): Promise<{ token: string; expiresOn: Date | null }> {
    const msal = await loadMsal();
    nestable ??= msal.createNestablePublicClientApplication({ auth: { clientId, authority: ENTRA_AUTHORITY } });
    const pca = await nestable;
    const request = { scopes: apiScopes(clientId) };
    try {
      const r = await pca.acquireTokenSilent(request);
      return { token: r.accessToken, expiresOn: r.expiresOn };
    } catch (silentErr) {
      // Any MSAL failure of the silent call (interaction required, no account yet) falls back to the popup.
      if (!(silentErr instanceof msal.AuthError)) throw silentErr;
      const r = await pca.acquireTokenPopup(request);
      return { token: r.accessToken, expiresOn: r.expiresOn };
    }
  }

  async function viaDialog(): Promise<{ token: string; expiresOn: Date | null }> {
    const ui = opts.office.context.ui;
    if (!ui) throw new PaneError('UNAUTHENTICATED', 'This version of Outlook cannot open a sign-in window.');
    const dialog = await callOffice<DialogLike>('open the sign-in window', (cb) =>
      ui.displayDialogAsync(`${opts.origin}${ADDIN_PATHS.authDialog}`, { height: 60, width: 30, promptBeforeOpen: false }, cb),
    );
    const events = opts.office.EventType ?? { DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived' };
    const message = await new Promise<DialogAuthMessage>((resolve) => {
      dialog.addEventHandler(events.DialogMessageReceived, (arg) => resolve(parseDialogAuthMessage(arg.message)));
      dialog.addEventHandler(events.DialogEventReceived, () => resolve({ status: 'error', message: 'The sign-in window was closed before sign-in finished.' }));
    });
    dialog.close();
    if (message.status === 'error') throw new PaneError('UNAUTHENTICATED', message.message);
    return { token: message.accessToken, expiresOn: message.expiresOn ? new Date(message.expiresOn) : null };
  }

  return async function getOutlookToken(): Promise<string> {
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const clientId = opts.clientId;
    if (!clientId) throw new PaneError('CONFIG_INVALID', 'This Muster install has no Microsoft Entra client id; ask your administrator to configure it.');
    const useNaa = opts.office.context.requirements.isSetSupported(NESTED_APP_AUTH_SET, NESTED_APP_AUTH_VERSION);
    const got = useNaa ? await viaNestedAppAuth(clientId) : await viaDialog();
    const expiresAt = (got.expiresOn?.getTime() ?? Date.now() + 5 * 60_000) - 60_000;
    cached = { token: got.token, expiresAt };
    return got.token;
  };
}
