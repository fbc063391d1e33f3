// Coordinator-edited templates: a bad placeholder is refused by name, a preview shows the chosen learner's own words and time zone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';
import { formatLocal } from '../../src/domain/time.js';

describe('message templates', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => svc?.close());

  it('when a template names an unknown placeholder, then saving it fails naming the placeholder', async () => {
    const r = await svc.api('POST', '/api/programs/SEC101/templates', { kind: 'reminder', language: 'en', subject: '', body: 'Hi {{learnerNmae}}' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('learnerNmae');
  });

  it('when a coordinator edits the German reminder and previews it for a learner, then the preview uses that text, the canonical subject and the learner’s zone', async () => {
    const saved = await svc.api('POST', '/api/programs/SEC101/templates', { kind: 'reminder', language: 'de', subject: '', body: 'Hallo {{learnerName}}, {{programName}} beginnt {{sessionTime}}.' });
    expect(saved.status).toBe(200);
    const roster = await svc.api('GET', '/api/programs/SEC101/roster');
    const chen = roster.body.learners.find((l: { email: string }) => l.email === 'chen.li@example.com');
    const program = await svc.api('GET', '/api/programs/SEC101');
    const session = program.body.sessions[0];
    // Chen reads German from now on.
    const { enrollments: _enrollments, ...learner } = chen;
    await svc.service.runtime.store.updateLearner({ ...learner, language: 'de' }, new Date().toISOString());
    const preview = await svc.api('POST', '/api/programs/SEC101/templates/preview', { kind: 'reminder', learnerEmail: 'chen.li@example.com', sessionId: session.id });
    expect(preview.status).toBe(200);
    expect(preview.body.subject).toContain('[SEC101] Security Basics');
    expect(preview.body.text).toContain(`Hallo Chen Li, Security Basics beginnt ${formatLocal(session.start, 'Asia/Singapore', 'de')}.`);
  });
});
