// Entry of the task pane bundle: decides whether it runs inside Outlook or as the web console and wires the view; Office.onReady only wires, all logic lives in the other modules.
import { createApiClient } from './api.js';
import { createConsoleTokenStore, createOfficeTokenSource, tabStorage } from './auth.js';
import { parseSurface } from './logic.js';
import type { OfficeLike } from './office.js';
import { PaneView } from './view.js';

function entraClientId(): string | null {
  const v = document.querySelector<HTMLMetaElement>('meta[name="muster-entra-client-id"]')?.content ?? '';
  return v.length > 0 ? v : null;
}

function startConsole(): Promise<void> {
  const auth = createConsoleTokenStore(tabStorage());
  const view = new PaneView({ doc: document, api: createApiClient({ getToken: auth.getToken }), surface: 'console', consoleAuth: auth });
  return view.start();
}

function startInOffice(office: OfficeLike): Promise<void> {
  const getToken = createOfficeTokenSource({ office, clientId: entraClientId(), origin: location.origin });
  const view = new PaneView({ doc: document, api: createApiClient({ getToken }), surface: parseSurface(location.search), office });
  return view.start();
}

const surface = parseSurface(location.search);
const office = (globalThis as { Office?: OfficeLike }).Office;
if (surface !== 'console' && office?.onReady) {
  void office.onReady().then((info) => (info.host ? startInOffice(office) : startConsole()));
} else {
  void startConsole();
}
