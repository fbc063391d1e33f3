// Chooses the verifier for a bearer token (the install's local token, an Entra token, a Google identity token) and returns its principal.
import { createHash, timingSafeEqual } from 'node:crypto';
import { MusterError } from '../../domain/errors.js';
import type { Principal, TokenVerifier } from './principal.js';

export interface AuthenticatorOptions {
  /** The embedded install's API token and the tenant it acts for; null where only SSO is accepted. */
  local: { token: string; tenantId: string } | null;
  entra: TokenVerifier | null;
  google: TokenVerifier | null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The unverified issuer of a compact JWT, only to choose which verifier checks it (that verifier checks everything,
 * the issuer included). Read by hand so the start-up does not load a JOSE library the install may never use.
 */
function issuerOf(token: string): string {
  const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new Error('not a JWT payload');
  return String((payload as { iss?: unknown }).iss ?? '');
}

export function createAuthenticator(opts: AuthenticatorOptions): TokenVerifier {
  const localDigest = opts.local ? digest(opts.local.token) : null;
  return async (token: string): Promise<Principal> => {
    if (!token) throw new MusterError('UNAUTHENTICATED', 'Sign in to Muster first.');
    if (token.split('.').length === 3) {
      let iss = '';
      try {
        iss = issuerOf(token);
      } catch {
        throw new MusterError('UNAUTHENTICATED', 'The token is not a readable JWT.');
      }
      if (/accounts\.google\.com$/.test(iss)) {
        if (!opts.google) throw new MusterError('UNAUTHENTICATED', 'Sign-in with Google is not configured on this Muster service.');
        return opts.google(token);
      }
      if (!opts.entra) throw new MusterError('UNAUTHENTICATED', 'Sign-in with Microsoft is not configured on this Muster service.');
      return opts.entra(token);
    }
    if (localDigest && opts.local && timingSafeEqual(digest(token), localDigest)) {
      return { tenantId: opts.local.tenantId, subject: 'local-coordinator', email: null, name: 'Coordinator', surface: 'api' };
    }
    throw new MusterError('UNAUTHENTICATED', 'The access token is not valid for this Muster service.');
  };
}

export function bearerToken(header: string | undefined): string {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m ? m[1]!.trim() : '';
}
