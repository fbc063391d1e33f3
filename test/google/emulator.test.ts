// The Google emulator's own strictness, checked with real googleapis clients: discovery-shaped bodies and queries, scopes, tokens, event id rules, quotas, Sheets value semantics and seeded faults.
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { google } from 'googleapis';
import { startGoogleEmulator } from '../emulators/google/index.js';
import { createJwtClient } from '../../src/providers/google/google-auth.js';
import { COORDINATOR, googleWorld } from './helpers.js';

const CAL = 'https://www.googleapis.com/auth/calendar.events';

async function calendarClient(scopes = [CAL], quotas?: { calendarPerMinute: number }) {
  const world = await googleWorld({ quotas });
  const auth = createJwtClient(world.key, COORDINATOR, scopes, world.emulator.tokenUrl);
  return { ...world, cal: google.calendar({ version: 'v3', auth, rootUrl: world.emulator.rootUrl, retry: false }), auth };
}

const times = { start: { dateTime: '2026-03-10T09:00:00Z' }, end: { dateTime: '2026-03-10T10:00:00Z' } };
const fail = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: { status?: number; response?: { data?: any } }) => e); // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Google emulator strictness', () => {
  test('when a body has a field the discovery document lacks, then it is refused with Google’s error body and recorded', async () => {
    const { emulator, cal } = await calendarClient();
    const e = await fail(cal.events.insert({ calendarId: 'primary', requestBody: { ...times, title: 'x' } as never }));
    expect(e.status).toBe(400);
    expect(e.response!.data).toEqual({ error: { code: 400, message: expect.stringContaining('Unknown name "title"'), errors: [expect.objectContaining({ domain: 'global', reason: 'invalid' })], status: 'INVALID_ARGUMENT' } });
    expect(emulator.violations()).toEqual([expect.objectContaining({ kind: 'body', methodId: 'calendar.events.insert' })]);
  });

  test('when a nested field has the wrong type or a query parameter is unknown, then both are refused and recorded', async () => {
    const { emulator, cal } = await calendarClient();
    expect((await fail(cal.events.insert({ calendarId: 'primary', requestBody: { ...times, attendees: [{ email: 'a@x.example', optional: 'yes' }] } as never }))).status).toBe(400);
    expect((await fail(cal.events.insert({ calendarId: 'primary', sendInvites: true, requestBody: times } as never))).status).toBe(400);
    expect((await fail(cal.events.insert({ calendarId: 'primary', sendUpdates: 'everyone', requestBody: times } as never))).status).toBe(400);
    expect(emulator.violations().map((v) => v.kind)).toEqual(['body', 'query', 'query']);
  });

  test('when the token lacks every scope a method allows, then 403 insufficientPermissions', async () => {
    const { emulator, cal } = await calendarClient(['https://www.googleapis.com/auth/calendar.freebusy']);
    const e = await fail(cal.events.insert({ calendarId: 'primary', requestBody: times }));
    expect(e.status).toBe(403);
    expect(e.response!.data.error.errors[0].reason).toBe('insufficientPermissions');
    expect(emulator.violations()[0]!.kind).toBe('scope');
  });

  test('when an assertion is signed by a key the emulator never issued, then no token is granted', async () => {
    const { emulator } = await googleWorld();
    const other = await startGoogleEmulator();
    const stranger = other.createServiceAccountKey({ clientEmail: 'muster-1@muster-test.iam.gserviceaccount.com', freshKeyPair: true });
    await other.close();
    const auth = createJwtClient(stranger, COORDINATOR, [CAL], emulator.tokenUrl);
    const e = await fail(auth.getAccessToken());
    expect(e.response!.data.error).toBe('invalid_grant');
  });

  test('when event ids break the base32hex rule or are reused after deletion, then 400 and 409; a patch restores the cancelled event', async () => {
    const { emulator, cal } = await calendarClient();
    expect((await fail(cal.events.insert({ calendarId: 'primary', requestBody: { ...times, id: 'ABCDE' } }))).status).toBe(400);
    expect((await fail(cal.events.insert({ calendarId: 'primary', requestBody: { ...times, id: 'abcw1' } }))).status).toBe(400);
    expect((await fail(cal.events.insert({ calendarId: 'primary', requestBody: { ...times, id: 'abc1' } }))).status).toBe(400);
    await cal.events.insert({ calendarId: 'primary', requestBody: { ...times, id: 'abcv0123' } });
    await cal.events.delete({ calendarId: 'primary', eventId: 'abcv0123' });
    expect((await fail(cal.events.insert({ calendarId: 'primary', requestBody: { ...times, id: 'abcv0123' } }))).status).toBe(409);
    const restored = await cal.events.patch({ calendarId: 'primary', eventId: 'abcv0123', requestBody: { status: 'confirmed' } });
    expect(restored.data.status).toBe('confirmed');
    expect(emulator.violations()).toEqual([]);
  });

  test('when conferenceData is sent without conferenceDataVersion=1, then no Meet conference is created', async () => {
    const { emulator, cal } = await calendarClient();
    const res = await cal.events.insert({ calendarId: 'primary', requestBody: { ...times, conferenceData: { createRequest: { requestId: 'r1', conferenceSolutionKey: { type: 'hangoutsMeet' } } } } });
    expect(res.data.conferenceData).toBeUndefined();
    expect(res.data.hangoutLink).toBeUndefined();
    expect(emulator.violations()).toEqual([]);
  });

  test('when a user exceeds the per-minute Calendar quota, then 403 rateLimitExceeded until the simulated minute passes', async () => {
    const { emulator, cal } = await calendarClient([CAL], { calendarPerMinute: 3 });
    for (let i = 0; i < 3; i++) await cal.events.list({ calendarId: 'primary' });
    const e = await fail(cal.events.list({ calendarId: 'primary' }));
    expect(e.status).toBe(403);
    expect(e.response!.data.error.errors[0]).toMatchObject({ reason: 'rateLimitExceeded', domain: 'usageLimits' });
    emulator.clock.advance(60_001);
    expect((await cal.events.list({ calendarId: 'primary' })).status).toBe(200);
    expect(emulator.counters()[COORDINATOR]!.calendar.requests).toBe(4);
  });

  test('when Sheets values are written RAW and USER_ENTERED and read back, then formulas evaluate only when entered, and empty reads omit values', async () => {
    const { emulator, key, spreadsheetId } = await googleWorld();
    const auth = createJwtClient(key, COORDINATOR, ['https://www.googleapis.com/auth/spreadsheets'], emulator.tokenUrl);
    const sheets = google.sheets({ version: 'v4', auth, rootUrl: emulator.rootUrl, retry: false });
    await sheets.spreadsheets.values.batchUpdate({ spreadsheetId, requestBody: { valueInputOption: 'RAW', data: [{ range: 'Sheet1!A1', values: [['=1+1', '2026-03-10']] }] } });
    await sheets.spreadsheets.values.append({ spreadsheetId, range: 'Sheet1!A1', valueInputOption: 'USER_ENTERED', requestBody: { values: [['=1+1', '2026-03-10', '=IMPORTXML("http://x","//a")', '', '']] } });
    const got = await sheets.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1' });
    expect(got.data.values).toEqual([
      ['=1+1', '2026-03-10'],
      ['2', '2026-03-10', '#NAME?'],
    ]);
    const unformatted = await sheets.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!A2:B2', valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(unformatted.data.values).toEqual([[2, 46091]]);
    const empty = await sheets.spreadsheets.values.get({ spreadsheetId, range: 'Sheet1!D10:F12' });
    expect(empty.data).not.toHaveProperty('values');
    const missing = await fail(sheets.spreadsheets.values.append({ spreadsheetId, range: 'Sheet1!A1', requestBody: { values: [['x']] } }));
    expect(missing.status).toBe(400);
    expect(emulator.violations()).toEqual([]);
  });

  test('when Gmail is searched with only the metadata scope, then q is refused as Gmail refuses it', async () => {
    const { emulator } = await googleWorld();
    const key = emulator.createServiceAccountKey({ delegatedScopes: ['https://www.googleapis.com/auth/gmail.metadata'] });
    const auth = createJwtClient(key, COORDINATOR, ['https://www.googleapis.com/auth/gmail.metadata'], emulator.tokenUrl);
    const gmail = google.gmail({ version: 'v1', auth, rootUrl: emulator.rootUrl, retry: false });
    const e = await fail(gmail.users.messages.list({ userId: 'me', q: 'rfc822msgid:x@y' }));
    expect(e.status).toBe(403);
    expect((await gmail.users.messages.list({ userId: 'me' })).data).toEqual({ resultSizeEstimate: 0 });
  });

  test('when random faults are seeded, then the same seed injects the same faults in the same places', async () => {
    const runOnce = async () => {
      const { emulator, cal } = await calendarClient();
      emulator.faults.random({ rate: 0.3, seed: 42, kinds: ['429', '500'] });
      const outcomes: number[] = [];
      for (let i = 0; i < 20; i++) outcomes.push(await cal.events.list({ calendarId: 'primary' }).then((r) => r.status, (e: { status: number }) => e.status));
      return outcomes;
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(a).toEqual(b);
    expect(a.filter((s) => s !== 200).length).toBeGreaterThan(0);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(0);
  });

  test('when main.ts runs standalone, then it prints its root URL, token URL, a key and a spreadsheet id, and answers token requests', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/emulators/google/main.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const info = JSON.parse(line) as { rootUrl: string; tokenUrl: string; serviceAccountKey: { client_email: string; private_key: string }; spreadsheetId: string };
      expect(info.rootUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const auth = createJwtClient(info.serviceAccountKey, COORDINATOR, [CAL], info.tokenUrl);
      expect((await auth.getAccessToken()).token).toBeTruthy();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
