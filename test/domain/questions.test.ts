import { describe, expect, it } from 'vitest';
import { groupQuestions, improvementNoteText, normalizeQuestion } from '../../src/domain/questions.js';
import type { Question } from '../../src/domain/types.js';

let seq = 0;
function q(text: string, learnerEmail: string | null, minute = seq): Question {
  seq++;
  return { id: `q${seq}`, tenantId: 't1', programId: 'p1', learnerEmail, text, createdAt: new Date(Date.UTC(2026, 2, 3, 9, minute)).toISOString() };
}

describe('question grouping', () => {
  it('when questions differ in case, punctuation, stop words and plurals, then they normalise alike', () => {
    expect(normalizeQuestion('Where is the VPN guide?')).toBe('vpn guide');
    expect(normalizeQuestion('where can I find the vpn guides')).toBe('vpn guide');
    expect(normalizeQuestion('VPN guide link?')).toBe('vpn guide');
    expect(normalizeQuestion('Wo finde ich den VPN-Guide?')).toBe('vpn guide');
  });

  it('when three learners ask for the VPN guide in different words, then one group reaches the threshold and unrelated questions stay apart', () => {
    const questions = [
      q('Where is the VPN guide?', 'anna@example.com'),
      q('When does the session start?', 'ben@example.com'),
      q('where can I find the vpn guide', 'ben@example.com'),
      q('How do I reset my VPN password?', 'cara@example.com'),
      q('VPN guide link?', 'cara@example.com'),
      q('Where is the VPN guide??', 'ANNA@example.com'),
    ];
    const groups = groupQuestions(questions);
    const vpn = groups[0]!;
    expect(vpn).toMatchObject({ key: 'q:guide-vpn', learners: 3, reachedThreshold: true });
    expect(vpn.questionIds).toEqual([questions[0]!.id, questions[2]!.id, questions[4]!.id, questions[5]!.id]);
    expect(groups.filter((g) => g.reachedThreshold)).toHaveLength(1);
    expect(groups).toHaveLength(3);
    expect(improvementNoteText(vpn)).toBe('3 learners asked where the VPN guide is');
  });

  it('when more questions arrive later, then existing groups keep their keys', () => {
    const first = [q('Where is the VPN guide?', 'a@example.com'), q('Is there a recording?', 'b@example.com')];
    const before = groupQuestions(first).map((g) => g.key).sort();
    const after = groupQuestions([...first, q('VPN guide please', 'c@example.com'), q('recording of the session?', 'd@example.com')]);
    expect(after.map((g) => g.key).sort()).toEqual(before);
    expect(after.every((g) => g.learners === 2)).toBe(true);
  });

  it('when the threshold is raised, then the same group does not yet raise a note', () => {
    const groups = groupQuestions([q('Where is the VPN guide?', 'a@x'), q('VPN guide?', 'b@x'), q('vpn guide link', 'c@x')], { threshold: 5 });
    expect(groups[0]).toMatchObject({ learners: 3, reachedThreshold: false });
  });

  it('when notes are worded, then common question shapes become reported speech and others are quoted', () => {
    expect(improvementNoteText({ text: 'Where can I find the parking map?', learners: 7 })).toBe('7 learners asked where to find the parking map');
    expect(improvementNoteText({ text: 'Is there a recording?', learners: 4 })).toBe('4 learners asked whether there is a recording');
    expect(improvementNoteText({ text: 'How do I reset my password?', learners: 3 })).toBe('3 learners asked how to reset their password');
    expect(improvementNoteText({ text: 'VPN guide link?', learners: 1 })).toBe('1 learner asked "VPN guide link?"');
  });
});
