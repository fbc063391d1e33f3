// Verifies Microsoft Entra v2.0 access tokens (the Outlook pane's nested app authentication) and maps the token's tenant to a consented Muster tenant; it never logs or echoes a token and never trusts a tenant from anything but a verified signature.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { MusterError } from '../../domain/errors.js';
import type { Principal, TokenVerifier } from './principal.js';

export const ENTRA_DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** The only signing algorithm Entra uses for access tokens; anything else (none, HS256…) is refused. */
export const ENTRA_ALGORITHMS = ['RS256'] as const;
/** Entra tenant ids are GUIDs; anything else never reaches the issuer comparison or the tenant lookup. */
const TID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface EntraVerifierOptions {
  /** Muster's API app registration (client) id: the expected audience, bare or as api://<clientId>. */
  clientId: string;
  /** Default https://login.microsoftonline.com (sovereign clouds and test emulators differ). */
  authorityHost?: string;
  /** Default <authorityHost>/common/discovery/v2.0/keys. */
  jwksUrl?: string;
  /** Muster tenant id of a tenant that has consented, or null. Consulted only after the token is verified. */
  tenantForTid: (tid: string) => Promise<string | null>;
  /** Allowed clock skew for exp and nbf; default 60 seconds. */
  clockToleranceSec?: number;
  /** Least time between two key-set fetches caused by an unknown kid; default 30 seconds. */
  jwksCooldownSec?: number;
}

function unauthenticated(message: string, cause?: unknown): MusterError {
  return new MusterError('UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}

/** Turns a jose failure into a short sentence; the token itself is never part of it. */
function toAuthError(err: unknown): MusterError {
  if (err instanceof MusterError) return err;
  if (err instanceof joseErrors.JWTExpired) return unauthenticated('The sign-in has expired; sign in again.', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return unauthenticated('The token is not valid yet.', err);
    if (err.claim === 'aud') return unauthenticated('The token was issued for another application.', err);
    return unauthenticated(`The token's "${err.claim}" claim is not acceptable.`, err);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return unauthenticated('The token is not signed with an accepted algorithm.', err);
  if (err instanceof joseErrors.JWKSNoMatchingKey) return unauthenticated('The token was signed with a key the identity platform does not publish.', err);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return unauthenticated("The token's signature is not valid.", err);
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JOSENotSupported) {
    return unauthenticated('The token is malformed.', err);
  }
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
    return unauthenticated("The identity platform's signing keys could not be read.", err);
  }
  return unauthenticated('The token could not be verified.', err);
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const v = payload[name];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Builds a verifier for Entra v2.0 access tokens; one instance keeps one cached key set. */
export function createEntraVerifier(opts: EntraVerifierOptions): TokenVerifier {
  if (!opts.clientId) throw new MusterError('CONFIG_INVALID', 'The Entra client id is required to verify Outlook tokens.');
  const authorityHost = (opts.authorityHost ?? ENTRA_DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl ?? `${authorityHost}/common/discovery/v2.0/keys`), {
    cooldownDuration: (opts.jwksCooldownSec ?? 30) * 1000,
  });
  const audience = [opts.clientId, `api://${opts.clientId}`];
  const clockTolerance = opts.clockToleranceSec ?? 60;

  return async function verifyEntraToken(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw unauthenticated('A bearer token is required.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: [...ENTRA_ALGORITHMS],
        audience,
        clockTolerance,
        requiredClaims: ['exp', 'tid', 'ver', 'iss'],
      }));
    } catch (err) {
      throw toAuthError(err);
    }
    if (payload.ver !== '2.0') throw unauthenticated('Only v2.0 access tokens are accepted.');
    const tid = stringClaim(payload, 'tid');
    if (tid === null || !TID_PATTERN.test(tid)) throw unauthenticated('The token does not name a tenant.');
    if (payload.iss !== `${authorityHost}/${tid}/v2.0`) throw unauthenticated("The token's issuer does not match its tenant.");
    const subject = stringClaim(payload, 'oid') ?? stringClaim(payload, 'sub');
    if (subject === null) throw unauthenticated('The token does not name a user.');

    const tenantId = await opts.tenantForTid(tid);
    if (tenantId === null) throw unauthenticated("This organisation has not consented to Muster; ask an administrator to grant consent.");

    return {
      tenantId,
      subject,
      email: stringClaim(payload, 'preferred_username') ?? stringClaim(payload, 'email') ?? stringClaim(payload, 'upn'),
      name: stringClaim(payload, 'name'),
      surface: 'outlook',
    };
  };
}
