// The authenticator picks a verifier by a token's unverified issuer and refuses what it cannot read; verifiers are stand-in functions here because choosing is all this unit does.
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/http/auth/authenticate.js';
import type { Principal } from '../../src/http/auth/principal.js';

const jwt = (payload: unknown) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
const principal = (subject: string): Principal => ({ tenantId: 't', subject, email: null, name: subject, surface: 'api' });

describe('choosing the verifier for a bearer token', () => {
  const auth = createAuthenticator({
    local: { token: 'local-token', tenantId: 'default' },
    entra: async () => principal('entra'),
    google: async () => principal('google'),
  });

  it('when the issuer is Google, then the Google verifier decides; any other issuer goes to Entra', async () => {
    expect((await auth(jwt({ iss: 'https://accounts.google.com' }))).subject).toBe('google');
    expect((await auth(jwt({ iss: 'https://login.microsoftonline.com/x/v2.0' }))).subject).toBe('entra');
  });

  it('when a three-part token has no JSON payload, then it is refused as unreadable', async () => {
    await expect(auth('a.b.c')).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'The token is not a readable JWT.' });
    await expect(auth(`x.${Buffer.from('[1]').toString('base64url')}.y`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('when the local token matches, then it acts for the install tenant; otherwise it is refused', async () => {
    expect((await auth('local-token')).tenantId).toBe('default');
    await expect(auth('wrong')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('when Google sign-in is not configured, then a Google token is refused with that reason', async () => {
    const entraOnly = createAuthenticator({ local: null, entra: async () => principal('entra'), google: null });
    await expect(entraOnly(jwt({ iss: 'https://accounts.google.com' }))).rejects.toMatchObject({ message: /Google is not configured/ });
  });
});
