// Google Directory provider against the emulator: managers from relations, paged group members, admin-only access, and a clear answer when no admin subject is configured.
import { describe, expect, test } from 'vitest';
import { isMusterError } from '../../src/domain/errors.js';
import { callsOf, expectNoViolations, googleWorld } from './helpers.js';

describe('Google directory provider', () => {
  test('when a learner has a manager relation, then managerOf returns it; without one null; unknown user null', async () => {
    const { emulator, providers } = await googleWorld();
    emulator.state.addUser({ email: 'lea@acme.example', managerEmail: 'Boss@acme.example' });
    emulator.state.addUser({ email: 'solo@acme.example' });
    expect(await providers.directory.managerOf('lea@acme.example')).toBe('boss@acme.example');
    expect(await providers.directory.managerOf('solo@acme.example')).toBeNull();
    expect(await providers.directory.managerOf('nobody@acme.example')).toBeNull();
    expectNoViolations(emulator);
  });

  test('when a group has more members than one page, then all of them are returned', async () => {
    const { emulator, providers } = await googleWorld();
    const members = Array.from({ length: 450 }, (_, i) => `m${i}@acme.example`);
    emulator.state.addGroup({ email: 'sales@acme.example', members });
    const people = await providers.directory.groupMembers('sales@acme.example');
    expect(people.map((p) => p.email)).toEqual(members);
    expect(callsOf(emulator, 'directory.members.list')).toBe(3);
    expectNoViolations(emulator);
  });

  test('when the directory subject is not an admin, then Google refuses and the error says so', async () => {
    const { emulator, providers } = await googleWorld({ directorySubject: 'plain@acme.example' });
    emulator.state.addUser({ email: 'plain@acme.example' });
    const err = await providers.directory.managerOf('lea@acme.example').catch((e: unknown) => e);
    expect(isMusterError(err, 'PROVIDER_REJECTED')).toBe(true);
    expect((err as Error).message).toContain('Not Authorized to access this resource/api');
    expectNoViolations(emulator);
  });

  test('when no directory subject is configured, then managers are "cannot tell" and group enrollment fails clearly', async () => {
    const { emulator, providers } = await googleWorld({ directorySubject: null });
    expect(await providers.directory.managerOf('lea@acme.example')).toBeUndefined();
    const err = await providers.directory.groupMembers('sales@acme.example').catch((e: unknown) => e);
    expect(isMusterError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('GOOGLE_DIRECTORY_SUBJECT');
    expect(emulator.calls()).toHaveLength(0);
  });
});
