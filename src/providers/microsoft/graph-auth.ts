// Tokens for Graph through msal-node (one confidential client and token cache per tenant; client credentials with a secret or certificate; on-behalf-of) and the admin-consent URL and its answer; it never logs tokens or secrets.
import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import { MusterError } from '../../domain/errors.js';
import type { Logger } from '../../ports/index.js';
import { DEFAULT_AUTHORITY_HOST, GRAPH_APP_SCOPE } from './constants.js';

export interface GraphCredential {
  clientId: string;
  clientSecret?: string;
  /** PEM certificate (public part); its SHA-256 thumbprint is computed when no thumbprint is given. */
  certificatePem?: string;
  /** Hex thumbprint: 40 characters is SHA-1, 64 is SHA-256. */
  certificateThumbprint?: string;
  privateKeyPem?: string;
}

export interface GraphAuthOptions {
  authorityHost?: string;
  credential: GraphCredential;
  logger: Logger;
}

export type AdminConsentResult =
  | { ok: true; tenantId: string; state: string | null }
  | { ok: false; error: string; description: string; state: string | null };

/** Reasons from Microsoft's AADSTS codes, in a coordinator's words. */
const AADSTS_REASONS: Array<[RegExp, string]> = [
  [/AADSTS7000222/, 'the app registration\'s client secret has expired; an administrator must add a new secret and update Muster'],
  [/AADSTS7000215/, 'the client secret Muster uses is wrong'],
  [/AADSTS700027|AADSTS700024/, 'the certificate Muster signs with is not accepted (expired, or not uploaded to the app registration)'],
  [/AADSTS700016/, 'the app is not consented in this tenant (admin consent missing or revoked); an administrator must grant consent again'],
  [/AADSTS90002/, 'the tenant was not found'],
  [/AADSTS65001/, 'consent is missing for the requested permissions'],
  [/AADSTS50013|AADSTS500133/, 'the signed-in user\'s token is not valid for this app (expired or for another audience)'],
];

/** Translates an msal failure into a MusterError; the only place auth errors are translated. */
export function toAuthError(err: unknown, tenantId: string): MusterError {
  const e = err as { errorCode?: string; errorMessage?: string; message?: string; name?: string };
  const text = `${e.errorCode ?? ''} ${e.errorMessage ?? e.message ?? ''}`;
  const hit = AADSTS_REASONS.find(([re]) => re.test(text));
  const code = /AADSTS\d+/.exec(text)?.[0];
  if (hit || /invalid_client|unauthorized_client|invalid_grant|invalid_scope/.test(text)) {
    const reason = hit?.[1] ?? 'Microsoft refused Muster\'s credentials';
    return new MusterError('PROVIDER_AUTH_FAILED', `Microsoft 365 sign-in failed for tenant ${tenantId}: ${reason}${code ? ` (${code})` : ''}.`, { cause: err });
  }
  return new MusterError('PROVIDER_UNAVAILABLE', `The Microsoft identity platform could not be reached for tenant ${tenantId}.`, { cause: err });
}

function thumbprintOptions(c: GraphCredential): { thumbprint?: string; thumbprintSha256?: string } {
  if (c.certificateThumbprint) {
    const hex = c.certificateThumbprint.replace(/[^0-9a-fA-F]/g, '');
    return hex.length === 64 ? { thumbprintSha256: hex } : { thumbprint: hex };
  }
  if (!c.certificatePem) throw new MusterError('CONFIG_INVALID', 'A certificate credential needs certificatePem or certificateThumbprint.');
  const raw = new X509Certificate(c.certificatePem).raw;
  return { thumbprintSha256: createHash('sha256').update(raw).digest('hex') };
}

export class GraphAuth {
  private readonly clients = new Map<string, ConfidentialClientApplication>();
  readonly authorityHost: string;

  constructor(private readonly opts: GraphAuthOptions) {
    this.authorityHost = (opts.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    const c = opts.credential;
    if (!c.clientSecret && !(c.privateKeyPem && (c.certificatePem || c.certificateThumbprint))) {
      throw new MusterError('CONFIG_INVALID', 'Microsoft 365 needs a client secret or a certificate (certificate and private key).');
    }
  }

  get clientId(): string {
    return this.opts.credential.clientId;
  }

  /** One client per tenant: each new client fetches the OpenID configuration again and has its own cache. */
  private clientFor(tenantId: string): ConfidentialClientApplication {
    const existing = this.clients.get(tenantId);
    if (existing) return existing;
    const c = this.opts.credential;
    const host = new URL(this.authorityHost);
    const isMicrosoftHost = host.origin === DEFAULT_AUTHORITY_HOST;
    const logger = this.opts.logger;
    const config: Configuration = {
      auth: {
        clientId: c.clientId,
        authority: `${this.authorityHost}/${tenantId}`,
        // A host other than Microsoft's must be known (with its port) or msal tries instance discovery online.
        ...(isMicrosoftHost ? {} : { knownAuthorities: [host.host] }),
        ...(c.clientSecret
          ? { clientSecret: c.clientSecret }
          : { clientCertificate: { ...thumbprintOptions(c), privateKey: c.privateKeyPem ?? '', ...(c.certificatePem ? { x5c: c.certificatePem } : {}) } }),
      },
      system: {
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message, containsPii) => {
            if (containsPii) return;
            if (level === LogLevel.Error) logger.warn('msal.error', { tenantId, message: message.slice(0, 300) });
          },
        },
      },
    };
    const client = new ConfidentialClientApplication(config);
    this.clients.set(tenantId, client);
    return client;
  }

  /** An app-only Graph token for the tenant (msal serves it from its cache until it nears expiry). */
  async appToken(tenantId: string): Promise<string> {
    try {
      const result = await this.clientFor(tenantId).acquireTokenByClientCredential({ scopes: [GRAPH_APP_SCOPE] });
      if (!result?.accessToken) throw new MusterError('PROVIDER_AUTH_FAILED', `Microsoft 365 returned no token for tenant ${tenantId}.`);
      return result.accessToken;
    } catch (err) {
      if (err instanceof MusterError) throw err;
      throw toAuthError(err, tenantId);
    }
  }

  /** A delegated Graph token for the coordinator whose Muster API token is `userToken` (on-behalf-of). */
  async onBehalfOf(tenantId: string, userToken: string, scopes: string[]): Promise<string> {
    try {
      const result = await this.clientFor(tenantId).acquireTokenOnBehalfOf({ oboAssertion: userToken, scopes });
      if (!result?.accessToken) throw new MusterError('PROVIDER_AUTH_FAILED', `Microsoft 365 returned no delegated token for tenant ${tenantId}.`);
      return result.accessToken;
    } catch (err) {
      if (err instanceof MusterError) throw err;
      throw toAuthError(err, tenantId);
    }
  }

  /** Where to send an administrator to consent for a tenant ('organizations' lets them pick). */
  adminConsentUrl(input: { tenant?: string; redirectUri: string; state: string }): string {
    const url = new URL(`${this.authorityHost}/${encodeURIComponent(input.tenant ?? 'organizations')}/adminconsent`);
    url.searchParams.set('client_id', this.opts.credential.clientId);
    url.searchParams.set('redirect_uri', input.redirectUri);
    url.searchParams.set('state', input.state);
    return url.toString();
  }
}

/** Reads the admin-consent redirect's query: ?tenant=..&admin_consent=True&state=.. or ?error=..&error_description=.. */
export function parseAdminConsentReturn(query: URLSearchParams | Record<string, string | undefined>): AdminConsentResult {
  const get = (k: string): string | null => (query instanceof URLSearchParams ? query.get(k) : (query[k] ?? null));
  const state = get('state');
  const error = get('error');
  if (error) return { ok: false, error, description: get('error_description') ?? '', state };
  const tenant = get('tenant');
  const consent = get('admin_consent');
  if (!tenant || consent?.toLowerCase() !== 'true') {
    return { ok: false, error: 'consent_not_granted', description: 'The answer did not say admin consent was granted.', state };
  }
  return { ok: true, tenantId: tenant, state };
}
