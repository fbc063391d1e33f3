// Names the benchmark gives its synthetic people and mailboxes, in one place; no logic.

export const ORGANIZER_MS = 'training@contoso.com';
export const ORGANIZER_GOOGLE = 'coord@acme.example';

export function learnerEmail(i: number): string {
  return `learner${String(i).padStart(6, '0')}@people.example`;
}
