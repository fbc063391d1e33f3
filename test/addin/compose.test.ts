// The Outlook compose flow against office-addin-mock (host outlook): what picking a session puts on the organizer's appointment, and the attendee limits.
import { describe, expect, it } from 'vitest';
import { applyInviteToAppointment, InviteRefusedError, suggestSplit, toInviteBodyHtml, toRecipientBatches } from '../../src/addin/pane/compose.js';
import type { SessionInvite } from '../../src/addin/pane/api.js';
import { isComposeItem, OfficeCallError, type ComposeAppointment } from '../../src/addin/pane/office.js';
import { createOutlookComposeMock } from './outlook-mock.js';

function roster(n: number): SessionInvite['attendees'] {
  return Array.from({ length: n }, (_, i) => ({ email: `learner${String(i + 1).padStart(3, '0')}@contoso.example`, name: `Learner ${i + 1}` }));
}

function invite(over: Partial<SessionInvite> = {}): SessionInvite {
  return {
    sessionId: 'ses_01HZX',
    programId: 'prg_sec101',
    subject: 'Security Basics (SEC101): Cohort A, day 1',
    start: '2026-03-03T08:00:00.000Z',
    end: '2026-03-03T11:30:00.000Z',
    zone: 'Europe/Berlin',
    localTimeText: 'Tuesday 3 March 2026, 09:00–12:30 (Europe/Berlin)',
    location: 'Room 4.12, Berlin office',
    onlineUrl: 'https://meet.example/sec101-a',
    bodyHtml: '<h2>Security Basics</h2><p>Tuesday 3 March 2026, 09:00–12:30 (Europe/Berlin)</p><h3>Prerequisites</h3><ul><li>Phishing quiz</li></ul>',
    attendees: roster(3),
    ...over,
  };
}

function composeItem(office: ReturnType<typeof createOutlookComposeMock>['office']): ComposeAppointment {
  const item = office.context.mailbox.item;
  if (!isComposeItem(item)) throw new Error('the mock item should be in compose mode');
  return item;
}

describe('compose flow: picking a session fills the organizer appointment', () => {
  it('when a session is picked, then subject, UTC times, location, body, attendees and the session id property are set exactly', async () => {
    const mock = createOutlookComposeMock({ mailboxVersion: '1.3' });
    const inv = invite();
    const result = await applyInviteToAppointment(composeItem(mock.office), inv, mock.office.context.requirements);

    expect(mock.state.subject).toBe('Security Basics (SEC101): Cohort A, day 1');
    expect(mock.state.start?.toISOString()).toBe('2026-03-03T08:00:00.000Z');
    expect(mock.state.end?.toISOString()).toBe('2026-03-03T11:30:00.000Z');
    expect(mock.state.location).toBe('Room 4.12, Berlin office');
    expect(mock.state.enhancedLocations).toEqual([]);
    expect(mock.state.body).toEqual({ html: inv.bodyHtml, coercionType: 'html' });
    expect(mock.state.requiredAttendees).toEqual([
      { emailAddress: 'learner001@contoso.example', displayName: 'Learner 1' },
      { emailAddress: 'learner002@contoso.example', displayName: 'Learner 2' },
      { emailAddress: 'learner003@contoso.example', displayName: 'Learner 3' },
    ]);
    expect(mock.state.savedCustomProperties).toEqual({ musterSessionId: 'ses_01HZX' });
    expect(result).toEqual({ attendeesAdded: 3, attendeesAlreadyPresent: 0, batches: 1, usedEnhancedLocation: false });
    expect(mock.calls.map((c) => c.method)).toEqual([
      'requiredAttendees.getAsync',
      'subject.setAsync',
      'start.setAsync',
      'end.setAsync',
      'location.setAsync',
      'body.setAsync',
      'requiredAttendees.addAsync',
      'loadCustomPropertiesAsync',
      'customProperties.set',
      'customProperties.saveAsync',
    ]);
  });

  it('when Mailbox 1.8 is supported, then the location goes to enhancedLocation instead of location.setAsync', async () => {
    const mock = createOutlookComposeMock({ mailboxVersion: '1.8' });
    const result = await applyInviteToAppointment(composeItem(mock.office), invite(), mock.office.context.requirements);
    expect(mock.state.enhancedLocations).toEqual([{ id: 'Room 4.12, Berlin office', type: 'custom' }]);
    expect(mock.calls.some((c) => c.method === 'location.setAsync')).toBe(false);
    expect(result.usedEnhancedLocation).toBe(true);
  });

  it('when the session has no room, then the online link is the location', async () => {
    const mock = createOutlookComposeMock();
    await applyInviteToAppointment(composeItem(mock.office), invite({ location: null }), mock.office.context.requirements);
    expect(mock.state.location).toBe('https://meet.example/sec101-a');
  });

  it("when the service's body lacks the local time, then the body starts with the session's local time", async () => {
    const mock = createOutlookComposeMock();
    await applyInviteToAppointment(composeItem(mock.office), invite({ bodyHtml: '<p>Agenda</p>', localTimeText: 'Tue 3 Mar, 09:00 <CET>' }), mock.office.context.requirements);
    expect(mock.state.body?.html).toBe('<p>Tue 3 Mar, 09:00 &lt;CET&gt;</p><p>Agenda</p>');
  });

  it('when the body is a whole HTML document stating only the start time, then it is kept; without it the time goes inside <body>', () => {
    const doc = '<!DOCTYPE html>\n<html><body class="m">\n<p>When: Tuesday 8 December 2026, 09:00 CET</p></body></html>';
    const text = 'Tuesday 8 December 2026, 09:00 CET – Tuesday 8 December 2026, 11:00 CET';
    expect(toInviteBodyHtml(invite({ bodyHtml: doc, localTimeText: text }))).toBe(doc);
    const bare = '<!DOCTYPE html>\n<html><body class="m">\n<p>Agenda</p></body></html>';
    expect(toInviteBodyHtml(invite({ bodyHtml: bare, localTimeText: text }))).toBe(
      `<!DOCTYPE html>\n<html><body class="m"><p>${text}</p>\n<p>Agenda</p></body></html>`,
    );
  });

  it('when the roster has 230 learners, then attendees are added in three calls of 100, 100 and 30', async () => {
    const mock = createOutlookComposeMock();
    await applyInviteToAppointment(composeItem(mock.office), invite({ attendees: roster(230) }), mock.office.context.requirements);
    const adds = mock.calls.filter((c) => c.method === 'requiredAttendees.addAsync').map((c) => (c.args[0] as unknown[]).length);
    expect(adds).toEqual([100, 100, 30]);
    expect(mock.state.requiredAttendees).toHaveLength(230);
    expect(mock.state.requiredAttendees[229]).toEqual({ emailAddress: 'learner230@contoso.example', displayName: 'Learner 230' });
  });

  it('when the roster has 600 learners, then it is refused with a split offer and Outlook is not touched', async () => {
    const mock = createOutlookComposeMock();
    const err = await applyInviteToAppointment(composeItem(mock.office), invite({ attendees: roster(600) }), mock.office.context.requirements).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InviteRefusedError);
    expect((err as InviteRefusedError).splitSizes).toEqual([300, 300]);
    expect((err as Error).message).toMatch(/600 required attendees; Outlook allows at most 500\. Split the session into 2 sessions/);
    expect(mock.calls.map((c) => c.method)).toEqual(['requiredAttendees.getAsync']);
    expect(mock.state.subject).toBe('');
    expect(mock.state.requiredAttendees).toEqual([]);
  });

  it('when exactly 500 learners, then they are accepted in five calls', async () => {
    const mock = createOutlookComposeMock();
    const result = await applyInviteToAppointment(composeItem(mock.office), invite({ attendees: roster(500) }), mock.office.context.requirements);
    expect(result.batches).toBe(5);
  });

  it('when some learners are already on the meeting, then they are not added twice and count towards the 500', async () => {
    const existing = [{ emailAddress: 'LEARNER001@contoso.example', displayName: 'Learner 1' }, { emailAddress: 'instructor@contoso.example' }];
    const mock = createOutlookComposeMock({ existingAttendees: existing });
    const result = await applyInviteToAppointment(composeItem(mock.office), invite(), mock.office.context.requirements);
    expect(result).toMatchObject({ attendeesAdded: 2, attendeesAlreadyPresent: 2 });
    expect(mock.state.requiredAttendees.map((a) => a.emailAddress)).toEqual([
      'LEARNER001@contoso.example',
      'instructor@contoso.example',
      'learner002@contoso.example',
      'learner003@contoso.example',
    ]);

    const crowded = createOutlookComposeMock({ existingAttendees: roster(450).map((a) => ({ emailAddress: `x-${a.email}` })) });
    await expect(applyInviteToAppointment(composeItem(crowded.office), invite({ attendees: roster(60) }), crowded.office.context.requirements)).rejects.toBeInstanceOf(InviteRefusedError);
  });

  it('when Outlook fails a call, then the promise rejects with an Error naming the step, not a string', async () => {
    const mock = createOutlookComposeMock();
    mock.failing.add('body.setAsync');
    const err = await applyInviteToAppointment(composeItem(mock.office), invite(), mock.office.context.requirements).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OfficeCallError);
    expect((err as Error).message).toMatch(/^Outlook could not set the body/);
    expect(mock.state.savedCustomProperties).toEqual({});
  });
});

describe('attendee batching helpers', () => {
  it('when splitting rosters, then parts are balanced and at most 500', () => {
    expect(suggestSplit(500)).toEqual([500]);
    expect(suggestSplit(501)).toEqual([251, 250]);
    expect(suggestSplit(1001)).toEqual([334, 334, 333]);
    expect(toRecipientBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(toRecipientBatches([], 100)).toEqual([]);
  });
});
