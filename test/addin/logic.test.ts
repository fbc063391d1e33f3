// Pane decisions without Office or a DOM: surface detection, checklist order, questions taken from mail, the console's token store and the Outlook token source's fallbacks.
import { describe, expect, it } from 'vitest';
import { describeChecklist, formatSessionTime, orderChecklist, parseSurface, toQuestionFromMail } from '../../src/addin/pane/logic.js';
import { createConsoleTokenStore, createOfficeTokenSource, parseDialogAuthMessage, tabStorage } from '../../src/addin/pane/auth.js';
import { PaneError, type ChecklistItem } from '../../src/addin/pane/api.js';
import type { DialogLike, OfficeLike } from '../../src/addin/pane/office.js';

function item(id: string, status: ChecklistItem['status']): ChecklistItem {
  return { id, area: 'roster', status, reason: id, owner: null, signedOff: null };
}

describe('pane logic', () => {
  it('when the URL names an Office surface, then that surface is used; anything else is the console', () => {
    expect(parseSurface('?surface=organizer')).toBe('organizer');
    expect(parseSurface('?surface=read&x=1')).toBe('read');
    expect(parseSurface('?surface=attendee')).toBe('attendee');
    expect(parseSurface('')).toBe('console');
    expect(parseSurface('?surface=<script>')).toBe('console');
  });

  it('when the checklist mixes statuses, then blocking items come first, then warnings, keeping their order', () => {
    const ordered = orderChecklist([item('a', 'ok'), item('b', 'warning'), item('c', 'blocking'), item('d', 'ok'), item('e', 'blocking')]);
    expect(ordered.map((i) => i.id)).toEqual(['c', 'e', 'b', 'a', 'd']);
    expect(describeChecklist(2, 1)).toBe('2 blocking items and 1 warning.');
    expect(describeChecklist(0, 0)).toBe('Nothing blocks the launch.');
  });

  it("when a learner's mail is open, then the question is its subject without reply prefixes and the sender is the learner", () => {
    expect(toQuestionFromMail({ itemType: 'message', subject: 'RE: Fwd: Is the lab laptop provided?', from: { emailAddress: 'ana@contoso.example' } })).toEqual({
      text: 'Is the lab laptop provided?',
      learnerEmail: 'ana@contoso.example',
    });
    expect(toQuestionFromMail({ itemType: 'appointment', subject: 'Security Basics', from: null })).toBeNull();
    expect(toQuestionFromMail({ itemType: 'message', subject: '  ', from: null })).toBeNull();
  });

  it("when a session time is shown, then it is in the session's zone", () => {
    expect(formatSessionTime('2026-03-03T08:00:00Z', 'Europe/Berlin')).toMatch(/^Tue,? 3 Mar 2026, 09:00 \(Europe\/Berlin\)$/);
    expect(formatSessionTime('2026-03-03T08:00:00Z', 'Not/AZone')).toBe('2026-03-03 08:00 UTC');
  });
});

describe('console sign-in', () => {
  it('when a token is pasted, then it is kept in session storage until sign-out', async () => {
    const map = new Map<string, string>();
    const storage = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), removeItem: (k: string) => void map.delete(k) };
    const store = createConsoleTokenStore(storage);
    await expect(store.getToken()).rejects.toBeInstanceOf(PaneError);
    store.set('  tok-123 \n');
    expect(map.get('muster.apiToken')).toBe('tok-123');
    await expect(store.getToken()).resolves.toBe('tok-123');
    store.clear();
    expect(store.get()).toBeNull();
  });

  it('when the frame is denied sessionStorage, then the token is kept in memory instead of failing', async () => {
    const denied = () => {
      const e = new Error("Failed to read the 'sessionStorage' property from 'Window': Access is denied for this document.");
      e.name = 'SecurityError';
      throw e;
    };
    const store = createConsoleTokenStore(tabStorage(denied));
    store.set('tok-9');
    await expect(store.getToken()).resolves.toBe('tok-9');
    expect(() => tabStorage(() => { throw new TypeError('boom'); })).toThrow(TypeError);
  });
});

describe('Outlook token source', () => {
  function office(naa: boolean, dialogAnswer?: string): { office: OfficeLike; dialogs: string[] } {
    const dialogs: string[] = [];
    const o: OfficeLike = {
      context: {
        mailbox: { item: null },
        requirements: { isSetSupported: (name: string, v?: string) => naa && name === 'NestedAppAuth' && v === '1.1' },
        ui: {
          displayDialogAsync: (url, _opts, cb) => {
            dialogs.push(url);
            const handlers = new Map<string, (a: { message?: string }) => void>();
            const dialog: DialogLike = { addEventHandler: (t, h) => void handlers.set(t, h), close: () => undefined };
            cb({ status: 'succeeded', value: dialog });
            setTimeout(() => handlers.get('dialogMessageReceived')?.({ message: dialogAnswer ?? '' }), 0);
          },
        },
      },
      EventType: { DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived' },
    };
    return { office: o, dialogs };
  }

  class FakeAuthError extends Error {}

  function fakeMsal(silent: 'ok' | 'fail') {
    const calls: string[] = [];
    const pca = {
      acquireTokenSilent: async (r: { scopes: string[] }) => {
        calls.push(`silent:${r.scopes.join(',')}`);
        if (silent === 'fail') throw new FakeAuthError('interaction_required');
        return { accessToken: 'naa-silent', expiresOn: new Date(Date.now() + 3600_000) };
      },
      acquireTokenPopup: async (r: { scopes: string[] }) => {
        calls.push(`popup:${r.scopes.join(',')}`);
        return { accessToken: 'naa-popup', expiresOn: new Date(Date.now() + 3600_000) };
      },
    };
    const msal = {
      AuthError: FakeAuthError,
      InteractionRequiredAuthError: FakeAuthError,
      createNestablePublicClientApplication: async (cfg: { auth: { clientId: string } }) => {
        calls.push(`create:${cfg.auth.clientId}`);
        return pca;
      },
    };
    return { calls, loadMsal: async () => msal as never };
  }

  it('when NestedAppAuth 1.1 is there, then the token comes silently and is cached', async () => {
    const { office: o, dialogs } = office(true);
    const msal = fakeMsal('ok');
    const get = createOfficeTokenSource({ office: o, clientId: 'cid', origin: 'https://muster.example.com', loadMsal: msal.loadMsal });
    expect(await get()).toBe('naa-silent');
    expect(await get()).toBe('naa-silent');
    expect(msal.calls).toEqual(['create:cid', 'silent:api://cid/access_as_user']);
    expect(dialogs).toEqual([]);
  });

  it('when the silent call needs interaction, then the popup is used', async () => {
    const msal = fakeMsal('fail');
    const get = createOfficeTokenSource({ office: office(true).office, clientId: 'cid', origin: 'https://m.example', loadMsal: msal.loadMsal });
    expect(await get()).toBe('naa-popup');
    expect(msal.calls).toEqual(['create:cid', 'silent:api://cid/access_as_user', 'popup:api://cid/access_as_user']);
  });

  it('when NestedAppAuth is missing, then the Office dialog on the service signs in and its message carries the token', async () => {
    const { office: o, dialogs } = office(false, JSON.stringify({ status: 'ok', accessToken: 'dialog-token', expiresOn: null }));
    const msal = fakeMsal('ok');
    const get = createOfficeTokenSource({ office: o, clientId: 'cid', origin: 'https://muster.example.com', loadMsal: msal.loadMsal });
    expect(await get()).toBe('dialog-token');
    expect(dialogs).toEqual(['https://muster.example.com/addin/auth-dialog.html']);
    expect(msal.calls).toEqual([]);
  });

  it('when the dialog reports an error or garbage, then sign-in fails with a sentence', async () => {
    const bad = office(false, JSON.stringify({ status: 'error', message: 'AADSTS65001: consent required' }));
    await expect(createOfficeTokenSource({ office: bad.office, clientId: 'cid', origin: 'https://m.example' })()).rejects.toThrow(/consent required/);
    expect(parseDialogAuthMessage('not json')).toEqual({ status: 'error', message: 'The sign-in window answered with something unexpected.' });
  });

  it('when the install has no Entra client id, then sign-in explains it instead of trying', async () => {
    const err = await createOfficeTokenSource({ office: office(true).office, clientId: null, origin: 'https://m.example' })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaneError);
    expect((err as PaneError).code).toBe('CONFIG_INVALID');
  });
});
