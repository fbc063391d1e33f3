import { describe, expect, it } from 'vitest';
import { MESSAGE_KINDS, describeLead, learnerVars, programVars, renderMessage, sessionVars, validateTemplate, type TemplateVars } from '../../src/domain/templates.js';
import { isMusterError } from '../../src/domain/errors.js';
import { makeLearner, makeProgram, makeSession } from './fixtures.js';

const program = makeProgram();
const session = makeSession({ onlineUrl: 'https://meet.example.com/sec101?a=1&b=2' });
const learner = makeLearner();

function fullVars(language = 'en'): TemplateVars {
  return {
    ...programVars(program),
    ...sessionVars(session, learner.zone, language),
    ...learnerVars(learner),
    lead: describeLead(1440, language),
    assessmentLink: 'https://quiz.example.com/sec101',
    nextStep: 'Install the password manager',
    nextSessionLabel: 'Cohort B',
    nextSessionTime: 'Tuesday 10 March 2026, 09:00 CET',
    enrollLink: 'https://muster.example.com/enroll/p1',
    dueDate: 'Tuesday 17 March 2026',
    expiryDate: 'Wednesday 3 March 2027',
    managerName: 'Boris Boss',
    digest: 'Anna Berg: overdue\nBen Ode: completed',
    reason: 'The trainer is ill.',
    message: 'Please bring your laptop.',
    previousSessionTime: 'Monday 2 March 2026, 09:00 CET',
    acceptUrl: 'https://muster.example.com/rsvp/accept?t=abc',
    tentativeUrl: 'https://muster.example.com/rsvp/tentative?t=abc',
    declineUrl: 'https://muster.example.com/rsvp/decline?t=abc',
    coordinatorName: 'Clara Coord',
  };
}

describe('templates', () => {
  it('when every kind is rendered in English and German, then each has the canonical subject and no leftover placeholders', () => {
    for (const language of ['en', 'de']) {
      for (const kind of MESSAGE_KINDS) {
        const m = renderMessage(kind, language, fullVars(language));
        expect(m.language).toBe(language);
        expect(m.subject.startsWith('[SEC101] Security Basics — ')).toBe(true);
        expect(m.text).not.toMatch(/\{\{|\}\}/);
        expect(m.html).not.toMatch(/\{\{|\}\}/);
      }
    }
    expect(renderMessage('invite', 'en', fullVars()).subject).toBe('[SEC101] Security Basics — Cohort A');
    expect(renderMessage('reminder', 'de', fullVars('de')).subject).toBe('[SEC101] Security Basics — Erinnerung: Cohort A');
  });

  it('when a reminder is rendered in German, then the time is the learner-local German text given by the caller', () => {
    const m = renderMessage('reminder', 'de-AT', fullVars('de'));
    expect(m.text).toContain('beginnt in 1 Tag');
    expect(m.text).toContain('Dienstag, 3. März 2026, 09:00 Uhr MEZ');
  });

  it('when a value holds markup, then the HTML body escapes it and the text keeps it as typed', () => {
    const m = renderMessage('nudge', 'en', { ...fullVars(), learnerName: 'Tom & "Jerry" <script>alert(1)</script>' });
    expect(m.html).toContain('Tom &amp; &quot;Jerry&quot; &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).not.toContain('<script>');
    expect(m.text).toContain('Tom & "Jerry" <script>alert(1)</script>');
  });

  it('when a value is a bare link, then the HTML body makes it a link with an escaped address', () => {
    const m = renderMessage('invite', 'en', fullVars());
    expect(m.html).toContain('<a href="https://meet.example.com/sec101?a=1&amp;b=2">https://meet.example.com/sec101?a=1&amp;b=2</a>');
    expect(m.text).toContain('Join online: https://meet.example.com/sec101?a=1&b=2');
  });

  it('when an optional value is missing, then its section disappears', () => {
    const m = renderMessage('invite', 'en', { ...fullVars(), onlineUrl: null, acceptUrl: null, tentativeUrl: null, declineUrl: null });
    expect(m.text).not.toContain('Join online');
    expect(m.text).not.toContain('Will you be there');
    expect(m.text).toContain('Where: Room 4.01');
  });

  it('when a coordinator override uses an unknown placeholder, then rendering fails naming it', () => {
    try {
      renderMessage('reminder', 'en', fullVars(), { reminder: { en: 'Hi {{learnerName}}, see {{roomNumber}}' } });
      expect.unreachable();
    } catch (err) {
      expect(isMusterError(err, 'VALIDATION_FAILED')).toBe(true);
      expect((err as Error).message).toContain('{{roomNumber}}');
    }
    expect(() => validateTemplate('{{#location}}x')).toThrow(/never closed/);
  });

  it('when a required value is missing, then rendering fails naming the placeholder', () => {
    expect(() => renderMessage('nudge', 'en', { ...fullVars(), message: null })).toThrow(/\{\{message\}\}/);
  });

  it('when the coordinator overrides English only, then English learners get it and German learners keep the German default', () => {
    const overrides = { reminder: { en: 'Hi {{learnerName}}, {{programName}} starts {{lead}}.' } };
    expect(renderMessage('reminder', 'en', fullVars(), overrides).text).toBe('Hi Anna Berg, Security Basics starts in 1 day.\n');
    expect(renderMessage('reminder', 'de', fullVars('de'), overrides).text).toContain('Hallo Anna Berg');
    expect(renderMessage('reminder', 'fr', fullVars(), overrides).language).toBe('en');
  });

  it('when leads are described, then days, hours and minutes read naturally', () => {
    expect(describeLead(10080)).toBe('in 7 days');
    expect(describeLead(60)).toBe('in 1 hour');
    expect(describeLead(90)).toBe('in 90 minutes');
    expect(describeLead(1440, 'de')).toBe('in 1 Tag');
  });
});

describe('template links', () => {
  it('when a list value holds links among text, then each link is clickable and the text around it escaped', () => {
    const m = renderMessage('prerequisite', 'en', { ...fullVars(), prerequisites: '- VPN <guide>: https://intra.example.com/vpn.\n- Access: https://intra.example.com/a?x=1&y=2' });
    expect(m.html).toContain('- VPN &lt;guide&gt;: <a href="https://intra.example.com/vpn">https://intra.example.com/vpn</a>.<br>');
    expect(m.html).toContain('<a href="https://intra.example.com/a?x=1&amp;y=2">');
  });

  it('when a name, room or reason holds a URL, then the HTML shows it as escaped text and links only the link placeholders', () => {
    const m = renderMessage('invite', 'en', { ...fullVars(), learnerName: '=HYPERLINK("http://evil.example","x")', location: 'Room http://evil.example/room', onlineUrl: 'https://meet.example.com/ok' });
    expect(m.html).not.toContain('href="http://evil.example');
    expect(m.html).toContain('=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;)');
    expect(m.html).toContain('<a href="https://meet.example.com/ok">');
  });
});
