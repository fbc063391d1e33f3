// Entry of the Office dialog sign-in page (the fallback where NestedAppAuth 1.1 is missing): signs in with a redirect and hands the access token to the pane via messageParent; it shows no token and calls no Muster API.
import { createStandardPublicClientApplication } from '@azure/msal-browser';
import { ADDIN_PATHS } from '../constants.js';
import { apiScopes, ENTRA_AUTHORITY, type DialogAuthMessage } from './auth.js';
import type { OfficeLike } from './office.js';

function say(text: string): void {
  const el = document.getElementById('dialog-status');
  if (el) el.textContent = text;
}

async function signIn(office: OfficeLike): Promise<void> {
  const send = (m: DialogAuthMessage): void => office.context.ui?.messageParent?.(JSON.stringify(m));
  const clientId = document.querySelector<HTMLMetaElement>('meta[name="muster-entra-client-id"]')?.content ?? '';
  if (!clientId) {
    send({ status: 'error', message: 'This Muster install has no Microsoft Entra client id.' });
    return;
  }
  try {
    const pca = await createStandardPublicClientApplication({
      auth: { clientId, authority: ENTRA_AUTHORITY, redirectUri: `${location.origin}${ADDIN_PATHS.authDialog}` },
      cache: { cacheLocation: 'sessionStorage' },
    });
    const result = await pca.handleRedirectPromise();
    if (result) {
      say('Signed in. This window closes by itself.');
      send({ status: 'ok', accessToken: result.accessToken, expiresOn: result.expiresOn ? result.expiresOn.toISOString() : null });
      return;
    }
    say('Opening the Microsoft sign-in page…');
    await pca.loginRedirect({ scopes: apiScopes(clientId) });
  } catch (err) {
    send({ status: 'error', message: err instanceof Error ? `Sign-in failed: ${err.message}` : 'Sign-in failed.' });
  }
}

const office = (globalThis as { Office?: OfficeLike }).Office;
if (office?.onReady) {
  void office.onReady().then(() => signIn(office));
} else {
  say('Open this page from the Muster add-in in Outlook.');
}
