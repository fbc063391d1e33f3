// The emulated Microsoft identity platform: tenants, app registrations, OpenID configuration, the v2.0 token endpoint (secret, certificate assertion, on-behalf-of) and Graph token checks; it holds no Graph data.
import { createHash, generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, decodeProtectedHeader, importX509, exportJWK } from 'jose';

export const DEFAULT_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const DEFAULT_TENANT_DOMAIN = 'contoso.onmicrosoft.com';
export const DEFAULT_CLIENT_ID = '22222222-2222-4222-8222-222222222222';
export const DEFAULT_CLIENT_SECRET = 'emulator-test-secret';
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

export interface AppRegistration {
  clientId: string;
  displayName: string;
  secrets: Array<{ value: string; expiresAt: number }>;
  /** PEM certificates whose private keys may sign client assertions. */
  certificates: string[];
  /** Application permissions granted by admin consent (Graph app roles). */
  roles: string[];
}

export interface Tenant {
  id: string;
  domains: string[];
  /** Client ids with admin consent (a service principal) in this tenant. */
  consented: Set<string>;
}

export interface TokenClaims {
  tid: string;
  appid: string;
  idtyp: 'app' | 'user';
  oid?: string;
  upn?: string;
  roles?: string[];
  scp?: string;
}

export class IdentityError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body['error_description'] ?? body['error']));
  }
}

function aadError(status: number, error: string, code: number, description: string): IdentityError {
  return new IdentityError(status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  });
}

export class Identity {
  readonly tenants = new Map<string, Tenant>();
  readonly apps = new Map<string, AppRegistration>();
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid = randomUUID();
  /** Token requests seen, by grant type (tests assert caching). */
  readonly tokenRequests: Array<{ tenant: string; clientId: string; grantType: string; credential: 'secret' | 'certificate' | 'none' }> = [];

  constructor(private readonly authorityHost: () => string) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.addTenant({ id: DEFAULT_TENANT_ID, domains: [DEFAULT_TENANT_DOMAIN] });
    this.registerApp({ clientId: DEFAULT_CLIENT_ID, secret: DEFAULT_CLIENT_SECRET });
  }

  addTenant(input: { id: string; domains?: string[] }): Tenant {
    const t: Tenant = { id: input.id, domains: input.domains ?? [], consented: new Set() };
    for (const app of this.apps.keys()) t.consented.add(app);
    this.tenants.set(t.id, t);
    return t;
  }

  /** Registers a multi-tenant app; it is consented in every tenant until revokeConsent is called. */
  registerApp(input: { clientId: string; secret?: string; secretExpiresAt?: number; certificatePem?: string; roles?: string[]; displayName?: string }): AppRegistration {
    const app: AppRegistration = this.apps.get(input.clientId) ?? {
      clientId: input.clientId,
      displayName: input.displayName ?? 'Muster',
      secrets: [],
      certificates: [],
      roles: input.roles ?? ['Calendars.ReadWrite', 'Mail.Send', 'Mail.ReadWrite', 'User.Read.All', 'GroupMember.Read.All', 'Files.ReadWrite.All'],
    };
    if (input.secret) app.secrets.push({ value: input.secret, expiresAt: input.secretExpiresAt ?? Number.MAX_SAFE_INTEGER });
    if (input.certificatePem) app.certificates.push(input.certificatePem);
    this.apps.set(app.clientId, app);
    for (const t of this.tenants.values()) t.consented.add(app.clientId);
    return app;
  }

  revokeConsent(tenantId: string, clientId: string): void {
    this.requireTenant(tenantId).consented.delete(clientId);
  }

  grantConsent(tenantId: string, clientId: string): void {
    this.requireTenant(tenantId).consented.add(clientId);
  }

  /** Makes every secret of the app expired (AADSTS7000222 from then on). */
  expireSecrets(clientId: string): void {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`no app ${clientId}`);
    for (const s of app.secrets) s.expiresAt = 0;
  }

  findTenant(idOrDomain: string): Tenant | undefined {
    const key = idOrDomain.toLowerCase();
    return this.tenants.get(key) ?? [...this.tenants.values()].find((t) => t.id.toLowerCase() === key || t.domains.some((d) => d.toLowerCase() === key));
  }

  private requireTenant(idOrDomain: string): Tenant {
    const t = this.findTenant(idOrDomain);
    if (!t) throw new Error(`no tenant ${idOrDomain}`);
    return t;
  }

  /** The tenant's OpenID configuration; the issuer carries the authority's scheme, host and port. */
  openIdConfiguration(tenantSegment: string): Record<string, unknown> | null {
    const host = this.authorityHost();
    const t = this.findTenant(tenantSegment);
    const generic = ['common', 'organizations', 'consumers'].includes(tenantSegment.toLowerCase());
    if (!t && !generic) return null;
    const tid = t ? t.id : '{tenantid}';
    const seg = t ? tenantSegment : tenantSegment.toLowerCase();
    return {
      token_endpoint: `${host}/${seg}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${host}/${seg}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${host}/${tid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${host}/oidc/userinfo`,
      authorization_endpoint: `${host}/${seg}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${host}/${seg}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${host}/${seg}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'oid', 'preferred_username', 'name'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  async jwks(): Promise<Record<string, unknown>> {
    const jwk = await exportJWK(this.publicKey);
    return { keys: [{ ...jwk, kid: this.kid, use: 'sig', alg: 'RS256' }] };
  }

  /** A user token for the Muster API as the Outlook add-in (NAA) would hold it: audience api://<clientId>. */
  async issueUserToken(input: { tenantId?: string; clientId?: string; oid?: string; upn: string; name?: string; scp?: string; expiresInSeconds?: number }): Promise<string> {
    const tid = input.tenantId ?? DEFAULT_TENANT_ID;
    const aud = `api://${input.clientId ?? DEFAULT_CLIENT_ID}`;
    return new SignJWT({ tid, oid: input.oid ?? randomUUID(), upn: input.upn, preferred_username: input.upn, name: input.name ?? input.upn, scp: input.scp ?? 'access_as_user', ver: '2.0', azp: 'outlook-naa-client' })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(`${this.authorityHost()}/${tid}/v2.0`)
      .setAudience(aud)
      .setSubject(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (input.expiresInSeconds ?? 3600))
      .sign(this.privateKey);
  }

  private async graphToken(claims: TokenClaims, lifetimeSeconds: number): Promise<string> {
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setIssuer(`https://sts.windows.net/${claims.tid}/`)
      .setAudience(GRAPH_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + lifetimeSeconds)
      .sign(this.privateKey);
  }

  /** Verifies a Graph bearer token this emulator issued; null when it is not valid. */
  async verifyGraphToken(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, { audience: GRAPH_AUDIENCE });
      return payload as unknown as TokenClaims;
    } catch (err) {
      if (err instanceof Error) return null;
      throw err;
    }
  }

  private async assertClientCredential(app: AppRegistration, form: URLSearchParams, tokenEndpoint: string): Promise<'secret' | 'certificate'> {
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      const match = app.secrets.find((s) => s.value === secret);
      if (!match) throw aadError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
      if (match.expiresAt <= Date.now()) throw aadError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${app.clientId}' are expired.`);
      return 'secret';
    }
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') throw aadError(400, 'invalid_request', 90014, 'The client_assertion_type is missing or wrong.');
      const header = decodeProtectedHeader(assertion);
      for (const pem of app.certificates) {
        const x509 = new X509Certificate(pem);
        const sha1 = createHash('sha1').update(x509.raw).digest('base64url');
        const sha256 = createHash('sha256').update(x509.raw).digest('base64url');
        if (header['x5t'] !== sha1 && header['x5t#S256'] !== sha256) continue;
        const key = await importX509(pem, String(header.alg ?? 'RS256'));
        try {
          // Entra tolerates five minutes of clock skew (msal rounds nbf up to the next second).
          await jwtVerify(assertion, key, { audience: tokenEndpoint, issuer: app.clientId, subject: app.clientId, clockTolerance: 300 });
        } catch (err) {
          throw aadError(401, 'invalid_client', 700027, `Client assertion failed signature validation: ${err instanceof Error ? err.message : String(err)}`);
        }
        return 'certificate';
      }
      throw aadError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application '${app.clientId}'.`);
    }
    throw aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }

  /** Handles POST /{tenant}/oauth2/v2.0/token; returns the JSON body or throws IdentityError. */
  async token(tenantSegment: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const tokenEndpoint = `${this.authorityHost()}/${tenantSegment}/oauth2/v2.0/token`;
    const tenant = this.findTenant(tenantSegment);
    if (!tenant) throw aadError(400, 'invalid_request', 90002, `Tenant '${tenantSegment}' not found.`);
    const clientId = form.get('client_id') ?? '';
    const app = this.apps.get(clientId);
    if (!app) throw aadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantSegment}'.`);
    const grantType = form.get('grant_type') ?? '';
    const credential = await this.assertClientCredential(app, form, tokenEndpoint);
    this.tokenRequests.push({ tenant: tenant.id, clientId, grantType, credential });
    if (!tenant.consented.has(clientId)) {
      throw aadError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantSegment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    }
    const scope = form.get('scope') ?? '';
    if (grantType === 'client_credentials') {
      if (!scope.split(' ').includes(`${GRAPH_AUDIENCE}/.default`)) throw aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
      const access = await this.graphToken({ tid: tenant.id, appid: clientId, idtyp: 'app', roles: app.roles, oid: randomUUID() }, 3599);
      return { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: access };
    }
    if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && form.get('requested_token_use') === 'on_behalf_of') {
      const assertion = form.get('assertion') ?? '';
      let user: Record<string, unknown>;
      try {
        const { payload } = await jwtVerify(assertion, this.publicKey, { audience: [clientId, `api://${clientId}`], clockTolerance: 300 });
        user = payload as Record<string, unknown>;
      } catch (err) {
        throw aadError(400, 'invalid_grant', 50013, `Assertion failed signature validation or audience check: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (user['tid'] !== tenant.id) throw aadError(400, 'invalid_grant', 50013, 'Assertion audience/tenant does not match the token request.');
      const scopes = scope.split(' ').filter((s) => s.startsWith(`${GRAPH_AUDIENCE}/`) || !s.includes('/'));
      const scp = scopes.filter((s) => !['openid', 'profile', 'offline_access'].includes(s)).map((s) => s.replace(`${GRAPH_AUDIENCE}/`, '')).join(' ');
      const claims: TokenClaims = { tid: tenant.id, appid: clientId, idtyp: 'user', oid: String(user['oid'] ?? randomUUID()), upn: String(user['upn'] ?? user['preferred_username'] ?? ''), scp };
      const access = await this.graphToken(claims, 3599);
      const idToken = await new SignJWT({ tid: tenant.id, oid: claims.oid, preferred_username: claims.upn, name: String(user['name'] ?? claims.upn), ver: '2.0' })
        .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
        .setIssuer(`${this.authorityHost()}/${tenant.id}/v2.0`)
        .setAudience(clientId)
        .setSubject(String(user['sub'] ?? randomUUID()))
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
        .sign(this.privateKey);
      const clientInfo = Buffer.from(JSON.stringify({ uid: claims.oid, utid: tenant.id })).toString('base64url');
      return { token_type: 'Bearer', scope: scp, expires_in: 3599, ext_expires_in: 3599, access_token: access, id_token: idToken, client_info: clientInfo };
    }
    throw aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  }
}
