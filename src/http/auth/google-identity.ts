// Verifies Google identity tokens from the Sheets add-on (ScriptApp.getIdentityToken) against Google's published keys and maps the token's Workspace domain to an installed Muster tenant; it never logs or echoes a token and takes the tenant from nothing but the verified hd claim.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { MusterError } from '../../domain/errors.js';
import type { Principal, TokenVerifier } from './principal.js';

export const GOOGLE_DEFAULT_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
/** Google signs ID tokens with either issuer spelling (OpenID Connect discovery names the https one). */
export const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'] as const;
/** The only signing algorithm Google uses for ID tokens; anything else (none, HS256…) is refused. */
export const GOOGLE_ALGORITHMS = ['RS256'] as const;
/** The detail field that marks "this account's domain cannot use Muster", so the add-on can say so plainly. */
export const GOOGLE_DOMAIN_DETAIL_FIELD = 'hd';

export interface GoogleIdentityVerifierOptions {
  /** The add-on's OAuth client id (GOOGLE_ADDON_CLIENT_ID): the `aud` of every identity token Apps Script mints for it. */
  clientId: string;
  /** Default https://www.googleapis.com/oauth2/v3/certs. */
  jwksUrl?: string;
  /** Muster tenant id for an installed Google Workspace domain, or null. Consulted only after the token is verified. */
  tenantForDomain: (hd: string) => Promise<string | null>;
  /** Allowed clock skew for exp, iat and nbf; default 60 seconds. */
  clockToleranceSec?: number;
  /** Least time between two key-set fetches caused by an unknown kid; default 30 seconds. */
  jwksCooldownSec?: number;
}

function unauthenticated(message: string, opts: { cause?: unknown; domainProblem?: boolean } = {}): MusterError {
  return new MusterError('UNAUTHENTICATED', message, {
    ...(opts.cause === undefined ? {} : { cause: opts.cause }),
    ...(opts.domainProblem ? { details: [{ field: GOOGLE_DOMAIN_DETAIL_FIELD, message }] } : {}),
  });
}

/** Turns a jose failure into a short sentence; the token itself is never part of it. */
function toGoogleAuthError(err: unknown): MusterError {
  if (err instanceof MusterError) return err;
  if (err instanceof joseErrors.JWTExpired) return unauthenticated('Your Google sign-in has expired; reload the Sheet and try again.', { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return unauthenticated("The Google identity token was issued for another application, not Muster's add-on.", { cause: err });
    if (err.claim === 'iss') return unauthenticated('The identity token was not issued by Google.', { cause: err });
    if (err.claim === 'nbf' || err.claim === 'iat') return unauthenticated('The Google identity token is not valid yet.', { cause: err });
    return unauthenticated(`The Google identity token's "${err.claim}" claim is not acceptable.`, { cause: err });
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return unauthenticated('The identity token is not signed with an accepted algorithm.', { cause: err });
  if (err instanceof joseErrors.JWKSNoMatchingKey) return unauthenticated('The identity token was signed with a key Google does not publish.', { cause: err });
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return unauthenticated("The identity token's signature is not valid.", { cause: err });
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JOSENotSupported) {
    return unauthenticated('The identity token is malformed.', { cause: err });
  }
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
    return unauthenticated("Google's signing keys could not be read; try again in a moment.", { cause: err });
  }
  return unauthenticated('The Google identity token could not be verified.', { cause: err });
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const v = payload[name];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Builds a verifier for Apps Script identity tokens; one instance keeps one cached key set, refetched when a kid is unknown. */
export function createGoogleIdentityVerifier(opts: GoogleIdentityVerifierOptions): TokenVerifier {
  if (!opts.clientId) throw new MusterError('CONFIG_INVALID', 'GOOGLE_ADDON_CLIENT_ID is required to verify the Sheets add-on.');
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl ?? GOOGLE_DEFAULT_JWKS_URL), {
    cooldownDuration: (opts.jwksCooldownSec ?? 30) * 1000,
  });
  const clockTolerance = opts.clockToleranceSec ?? 60;

  return async function verifyGoogleIdentityToken(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw unauthenticated('A bearer token is required.');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: [...GOOGLE_ALGORITHMS],
        issuer: [...GOOGLE_ISSUERS],
        audience: opts.clientId,
        clockTolerance,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (err) {
      throw toGoogleAuthError(err);
    }
    const subject = stringClaim(payload, 'sub');
    if (subject === null) throw unauthenticated('The identity token does not name a user.');
    if (payload.email_verified !== true) throw unauthenticated('Your Google account email address is not verified.');
    const email = stringClaim(payload, 'email');
    if (email === null) throw unauthenticated('The identity token carries no email address; the add-on must ask for the userinfo.email scope.');

    const hd = stringClaim(payload, 'hd')?.toLowerCase() ?? null;
    if (hd === null) {
      throw unauthenticated('Muster works with Google Workspace accounts only; this is a personal Google account.', { domainProblem: true });
    }
    const tenantId = await opts.tenantForDomain(hd);
    if (tenantId === null) {
      throw unauthenticated(`Muster is not installed for the Google Workspace domain ${hd}; ask your Google Workspace admin.`, { domainProblem: true });
    }

    return { tenantId, subject, email, name: stringClaim(payload, 'name'), surface: 'sheets' };
  };
}
