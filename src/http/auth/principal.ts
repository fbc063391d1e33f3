// Who is calling, as established from a verified token: the tenant never comes from anything else.

export type PrincipalSurface = 'outlook' | 'sheets' | 'console' | 'cli' | 'api';

export interface Principal {
  tenantId: string;
  /** Stable subject of the caller within its identity provider. */
  subject: string;
  email: string | null;
  name: string | null;
  surface: PrincipalSurface;
}

/** Verifies a bearer token and returns its principal, or throws MusterError 'UNAUTHENTICATED'. */
export type TokenVerifier = (token: string) => Promise<Principal>;
