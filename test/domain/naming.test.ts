import { describe, expect, it } from 'vitest';
import { assessmentName, findNamingDrift, inviteSubject, mailSubject, materialTitle, tabTitle } from '../../src/domain/naming.js';
import { makeProgram, makeSession } from './fixtures.js';

const program = makeProgram();
const session = makeSession();

describe('naming', () => {
  it('when names are derived, then each starts from the code and the canonical name', () => {
    expect(inviteSubject(program, session)).toBe('[SEC101] Security Basics — Cohort A');
    expect(mailSubject(program, 'reminder', 'en', 'Cohort A')).toBe('[SEC101] Security Basics — Reminder: Cohort A');
    expect(mailSubject(program, 'escalation', 'de')).toBe('[SEC101] Security Basics — Abschluss überfällig');
    expect(materialTitle(program, { title: 'VPN guide' })).toBe('[SEC101] Security Basics — VPN guide');
    expect(assessmentName(program)).toBe('[SEC101] Security Basics — Assessment');
    expect(assessmentName(makeProgram({ assessmentName: 'Final quiz' }))).toBe('[SEC101] Security Basics — Final quiz');
  });

  it('when a title already carries the prefix, then it is not doubled', () => {
    expect(materialTitle(program, { title: '[SEC101] Security Basics — VPN guide' })).toBe('[SEC101] Security Basics — VPN guide');
  });

  it('when a tab title is derived, then it is safe for Excel and at most 31 characters', () => {
    expect(tabTitle(program, 'Roster')).toBe('SEC101 Roster');
    const long = tabTitle({ code: 'LEADERSHIP-2026/Q1' }, 'Attendance [old]');
    expect(long.length).toBeLessThanOrEqual(31);
    expect(long).not.toMatch(/[[\]:*?/\\]/);
  });

  it('when an invite subject was edited by hand, then the checklist flags it and keeps matching names ok', () => {
    const items = findNamingDrift(
      program,
      {
        inviteSubjects: [
          { sessionId: 's1', subject: 'Security training (moved!)' },
          { sessionId: 's2', subject: '[SEC101] Security Basics — Cohort B' },
        ],
        tabTitles: [{ tab: 'Roster', title: 'SEC101 Roster' }],
        materialTitles: [{ index: 0, title: 'vpn howto' }],
        mailSubjects: [{ key: 'reminder:l1:s1:60', subject: 'Fwd: reminder' }],
        assessmentName: '[SEC101] Security Basics — Assessment',
      },
      [session, makeSession({ id: 's2', label: 'Cohort B' })],
    );
    const byId = Object.fromEntries(items.map((i) => [i.id, i]));
    expect(byId['naming.invite.s1']).toMatchObject({
      status: 'warning',
      reason: `The invite for session 'Cohort A' is called "Security training (moved!)" instead of "[SEC101] Security Basics — Cohort A"`,
    });
    expect(byId['naming.invite.s2']!.status).toBe('ok');
    expect(byId['naming.tab.Roster']!.status).toBe('ok');
    expect(byId['naming.material.0']).toMatchObject({ status: 'warning', owner: 'it@example.com' });
    expect(byId['naming.mail.reminder:l1:s1:60']!.status).toBe('warning');
    expect(byId['naming.assessment']!.status).toBe('ok');
  });
});
