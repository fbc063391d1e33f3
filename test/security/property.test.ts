// Property tests on the HTTP API with arbitrary bodies: program creation, roster rows (JSON and CSV text) and attendance never answer 500, and a roster import loses no row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestService, type TestService } from '../support/service.js';

const RUNS = 50;
const HEADERS = ['Email', 'Name', 'Manager Email', 'Time Zone', 'Session', 'Department', 'Language'];

/** Cell text people paste: quotes, commas, CR/LF, formula starts, unicode, blanks, plausible and implausible addresses. */
const cell = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', ' ', '"', '""', ',', '\r', '\n', '\r\n', '=1+2', '+SUM(A1)', '-3', '@cmd', '=HYPERLINK("http://x","y")', '\uFEFF', 'Zoë Ñandú', '李雷', '🙂', 'Europe/Berlin', 'Mars/Olympus', 'Day 1', 'Day 9'),
  fc.emailAddress(),
  fc.emailAddress().map((e) => ` ${e.toUpperCase()} `),
);

/** A roster row as a header → value map; some rows are blank on purpose. */
const rosterRow = fc.record(Object.fromEntries(HEADERS.map((h) => [h, cell])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] });

/** A row that should import, with hostile text in the free-text columns. */
const plausibleRow = fc.record({
  Email: fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}@[a-z]{2,8}\.(org|com|de)$/),
  Name: fc.oneof(cell, fc.constantFrom('Ada Lovelace', '=1+2', '李雷', 'Zoë "Z" Ñandú')),
  'Manager Email': fc.constantFrom('', 'boss@example.org'),
  'Time Zone': fc.constantFrom('Europe/Berlin', 'America/New_York', ''),
  Session: fc.constantFrom('', 'Day 1', 'Day 2'),
});
const anyRow: fc.Arbitrary<Record<string, string | undefined>> = fc.oneof({ arbitrary: plausibleRow, weight: 2 }, { arbitrary: rosterRow, weight: 1 });

function quoteCsv(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

function isDataRow(row: Record<string, string | undefined>): boolean {
  return HEADERS.some((h) => (row[h] ?? '').trim() !== '');
}

describe('the API under arbitrary input', () => {
  let svc: TestService;
  let sessionId: string;
  let programCount = 0;
  const seen = { imported: 0, rejected: 0 };

  beforeAll(async () => {
    svc = await startTestService({ seedDemo: false, env: { MUSTER_RATE_LIMIT_PER_MINUTE: '100000', MUSTER_LOG_LEVEL: 'error' } });
    const created = await svc.api('POST', '/api/programs', {
      name: 'Props',
      code: 'PROPS',
      owner: 'owner@example.org',
      sessions: [
        { label: 'Day 1', start: '2027-03-01T09:00', end: '2027-03-01T12:00', zone: 'Europe/Berlin', room: 'R1', backupPlan: 'R2', instructors: ['i@example.org'], capacity: 1000 },
        { label: 'Day 2', start: '2027-03-02T09:00', end: '2027-03-02T12:00', zone: 'Europe/Berlin', room: 'R1', backupPlan: 'R2', instructors: ['i@example.org'], capacity: 1000 },
      ],
    });
    expect(created.status).toBe(201);
    sessionId = created.body.sessions[0].id;
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
  });

  it('when program-create bodies are arbitrary, then the answer is never a 500 and a 201 returns the program', async () => {
    const sessionLike = fc.record(
      { label: cell, start: fc.oneof(cell, fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 16))), end: cell, zone: cell, room: cell, backupPlan: cell, instructors: fc.array(cell, { maxLength: 3 }), capacity: fc.oneof(fc.integer(), fc.double(), cell) },
      { requiredKeys: [] },
    );
    const plausibleSession = fc.record({
      label: fc.oneof(cell, fc.constant('Day 1')),
      start: fc.constantFrom('2027-04-01T09:00', '2027-04-01T25:00', '2027-02-30T09:00'),
      end: fc.constantFrom('2027-04-01T12:00', '2027-04-01T08:00'),
      zone: fc.constantFrom('Europe/Berlin', 'Mars/Olympus', 'UTC'),
      room: cell,
      backupPlan: cell,
      instructors: fc.constantFrom(['i@example.org'], [], ['not-an-email']),
      capacity: fc.oneof(fc.integer({ min: -5, max: 600 }), fc.constant(20)),
    });
    const plausible = fc.record({
      name: fc.oneof(cell, fc.constant('Safety'), fc.constant('=cmd|\' /C calc\'!A0'), fc.constant('Zoë 🙂')),
      code: fc.stringMatching(/^[A-Z][A-Z0-9_-]{1,12}$/),
      owner: fc.constantFrom('owner@example.org', 'owner@example.org', 'owner@example.org', 'nobody', ''),
      sessions: fc.array(plausibleSession, { maxLength: 3 }),
    });
    const body = fc.oneof(
      { arbitrary: fc.anything(), weight: 1 },
      { arbitrary: plausible, weight: 3 },
      { arbitrary: fc.record({ name: cell, code: fc.oneof(cell, fc.stringMatching(/^[A-Za-z0-9_-]{2,20}$/)), owner: cell, sessions: fc.array(sessionLike, { maxLength: 3 }), reviewWindowDays: fc.oneof(fc.integer(), cell), policy: fc.anything() }, { requiredKeys: [] }), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await svc.api('POST', '/api/programs', b);
        expect(r.status, JSON.stringify(r.body)).not.toBeGreaterThanOrEqual(500);
        if (r.status === 201) {
          programCount++;
          expect(typeof r.body.program?.id, JSON.stringify(r.body)).toBe('string');
        } else expect(r.body.error?.code, JSON.stringify(r.body)).toBeTypeOf('string');
      }),
      { numRuns: RUNS },
    );
    expect(programCount).toBeGreaterThan(0);
  });

  it('when JSON roster rows are arbitrary, then never a 500 and imported + rejected equals the rows sent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyRow, { maxLength: 12 }), async (rows) => {
        const r = await svc.api('POST', '/api/programs/PROPS/roster', { learners: rows });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.imported + r.body.rejected.length).toBe(rows.length);
        seen.imported += r.body.imported;
        seen.rejected += r.body.rejected.length;
      }),
      { numRuns: RUNS },
    );
    // The generator reaches both sides: rows that import and rows that are rejected.
    expect(seen.imported).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('when CSV rosters hold quotes, BOM, CR, formulas, unicode and empty lines, then never a 500 and imported + rejected equals the data rows sent', async () => {
    const csv = fc.record({
      bom: fc.boolean(),
      eol: fc.constantFrom('\n', '\r\n'),
      rows: fc.array(fc.tuple(anyRow, fc.boolean()), { maxLength: 12 }),
    });
    await fc.assert(
      fc.asyncProperty(csv, async ({ bom, eol, rows }) => {
        const lines = [HEADERS.join(',')];
        for (const [row, blankBefore] of rows) {
          if (blankBefore) lines.push('');
          lines.push(HEADERS.map((h) => quoteCsv(row[h] ?? '')).join(','));
        }
        const text = (bom ? '\uFEFF' : '') + lines.join(eol) + eol;
        const r = await svc.api('POST', '/api/programs/PROPS/roster', text);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        const dataRows = rows.filter(([row]) => isDataRow(row)).length;
        expect(r.body.imported + r.body.rejected.length, text).toBe(dataRows);
      }),
      { numRuns: RUNS },
    );
  });

  it('when the CSV text is arbitrary, then the answer is a 200 or a 4xx with an error code, never a 500', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.oneof(cell, fc.constantFrom('"', '\r', '\n', ',', '\uFEFF', '""x"')), { maxLength: 40 }).map((parts) => parts.join('')),
      fc.array(cell, { maxLength: 20 }).map((parts) => `Email,Name\n${parts.join(',')}`),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        const r = await svc.api('POST', '/api/programs/PROPS/roster', t);
        expect(r.status, JSON.stringify(r.body)).not.toBeGreaterThanOrEqual(500);
        if (r.status === 200) expect(r.body.imported + r.body.rejected.length).toBeGreaterThanOrEqual(0);
        else expect(r.body.error?.code, JSON.stringify(r.body)).toBeTypeOf('string');
      }),
      { numRuns: RUNS },
    );
  });

  it('when attendance bodies are arbitrary, then the answer is never a 500', async () => {
    const entry = fc.record(
      { email: fc.oneof(cell, fc.constantFrom('learner@example.org')), attendance: fc.oneof(cell, fc.constantFrom('present', 'late', 'excused', 'absent')), sessionId: fc.oneof(cell, fc.constant('SESSION')) },
      { requiredKeys: [] },
    );
    const body = fc.oneof(fc.anything(), fc.record({ entries: fc.array(entry, { maxLength: 8 }) }));
    await svc.api('POST', '/api/programs/PROPS/roster', { learners: [{ Email: 'learner@example.org', Name: 'Lea Learner', 'Time Zone': 'Europe/Berlin' }] });
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (b, perSession) => {
        const withId = JSON.parse(JSON.stringify(b ?? null).replace(/"SESSION"/g, JSON.stringify(sessionId))) as unknown;
        const r = perSession ? await svc.api('POST', `/api/sessions/${sessionId}/attendance`, withId) : await svc.api('POST', '/api/programs/PROPS/attendance', withId);
        expect(r.status, JSON.stringify(r.body)).not.toBeGreaterThanOrEqual(500);
        if (r.status !== 200) expect(r.body.error?.code, JSON.stringify(r.body)).toBeTypeOf('string');
      }),
      { numRuns: RUNS },
    );
  });
});
