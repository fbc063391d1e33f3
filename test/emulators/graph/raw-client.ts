// A bare HTTPS client for the emulator's own tests: gets an app token and sends raw Graph requests with fetch; providers never use it.
import type { GraphEmulator } from './index.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  body: any;
}

export async function appToken(em: GraphEmulator): Promise<string> {
  const form = new URLSearchParams({
    client_id: em.clientId,
    client_secret: em.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
    grant_type: 'client_credentials',
  });
  const res = await fetch(`${em.authorityHost}/${em.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: form });
  const json = (await res.json()) as { access_token?: string; error_description?: string };
  if (!json.access_token) throw new Error(`token request failed: ${json.error_description ?? res.status}`);
  return json.access_token;
}

export function rawGraph(em: GraphEmulator, token: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> => {
    const res = await fetch(`${em.baseUrl}/v1.0${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
  };
}
