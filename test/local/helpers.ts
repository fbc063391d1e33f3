// Shared test helpers for the local providers: a recording logger, temporary folders and a small MIME tree reader; no assertions live here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, OutgoingMessage } from '../../src/ports/index.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (event: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, event, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `muster-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function sampleMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    tenantId: 'tenant-a',
    key: 'invite:session-1:learner-1:g0:s0',
    messageId: '<invite-s1-l1@muster.local>',
    from: { name: 'Ina Coordinator', email: 'ina@example.org' },
    to: [{ name: 'Lea Learner', email: 'lea@example.org' }],
    subject: 'Security 101: Cohort A, day 1',
    text: 'You are invited to Security 101.',
    html: '<p>You are invited to <b>Security 101</b>.</p>',
    ...overrides,
  };
}

export interface MimePart {
  contentType: string;
  params: Record<string, string>;
  body: string;
  children: MimePart[];
}

function parseHeaderParams(value: string): { type: string; params: Record<string, string> } {
  const [type = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Reads a MIME message's part structure (content types and nesting), enough to check where each part sits. */
export function mimeTree(raw: string): MimePart {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const ctLine = head.split('\r\n').find((l) => /^content-type:/i.test(l)) ?? 'Content-Type: text/plain';
  const { type, params } = parseHeaderParams(ctLine.slice(ctLine.indexOf(':') + 1));
  const part: MimePart = { contentType: type, params, body, children: [] };
  if (type.startsWith('multipart/') && params.boundary) {
    const delimiter = `--${params.boundary}`;
    const pieces = body.split(delimiter).slice(1);
    for (const piece of pieces) {
      if (piece.startsWith('--')) break;
      part.children.push(mimeTree(piece.replace(/^\r\n/, '').replace(/\r\n$/, '')));
    }
  }
  return part;
}
