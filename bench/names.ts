// Names the benchmark gives its synthetic people and mailboxes, and its silent logger, in one place; no logic.
import type { Logger } from '../src/ports/index.js';

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export const ORGANIZER_MS = 'training@contoso.com';
export const ORGANIZER_GOOGLE = 'coord@acme.example';

export function learnerEmail(i: number): string {
  return `learner${String(i).padStart(6, '0')}@people.example`;
}
