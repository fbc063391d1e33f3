// The `muster` CLI on a real data folder: run-due at a chosen instant sends each due reminder once, in the learner's own zone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { runCli } from '../../src/cli/main.js';
import { formatLocal } from '../../src/domain/time.js';
import { Store } from '../../src/store/store.js';

const quiet = { log: () => {}, err: () => {} };

function outbox(dir: string): Array<{ file: string; raw: string; key: string }> {
  const d = join(dir, 'outbox');
  return readdirSync(d)
    .filter((f) => f.endsWith('.eml'))
    .map((file) => {
      const raw = readFileSync(join(d, file), 'utf8');
      return { file, raw, key: /X-Muster-Key:\s*([^\r\n]+)/i.exec(raw.replace(/\r?\n[ \t]+/g, " "))![1]!.trim() };
    });
}

describe('muster run-due', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'muster-cli-'));
    env = { MUSTER_DATA_DIR: dir, MUSTER_LOG_LEVEL: 'error', PATH: process.env.PATH ?? '' };
    expect(await runCli(['demo'], env, quiet)).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when run one day before a session, then each enrolled learner gets one reminder showing the time in their zone, and a second run sends nothing', async () => {
    const store = await Store.open(`sqlite:${join(dir, 'muster.sqlite')}`);
    const [program] = await store.listPrograms('default');
    const [session] = await store.listSessions('default', program!.id);
    const enrolled = await store.listEnrollments('default', { sessionId: session!.id, status: 'enrolled' });
    const learners = new Map((await store.learnersForProgram('default', program!.id)).map((l) => [l.email, l]));
    await store.close();

    const before = outbox(dir).length;
    const oneDayBefore = new Date(Date.parse(session!.start) - 24 * 3600_000).toISOString();
    expect(await runCli(['run-due', '--now', oneDayBefore], env, quiet)).toBe(0);
    const after = outbox(dir);
    const reminders = after.filter((m) => m.key.startsWith('reminder:') || m.key.startsWith('catch-up:') || m.key.startsWith('prerequisite:'));
    expect(reminders).toHaveLength(enrolled.length);
    const perLearner = new Map<string, number>();
    for (const m of reminders) {
      const mail = await simpleParser(m.raw);
      const to = (mail.to as { value: Array<{ address: string }> }).value[0]!.address;
      perLearner.set(to, (perLearner.get(to) ?? 0) + 1);
      const learner = learners.get(to)!;
      expect(mail.text).toContain(formatLocal(session!.start, learner.zone, learner.language));
    }
    expect([...perLearner.values()].every((n) => n === 1)).toBe(true);
    expect(after.length).toBeGreaterThan(before);

    expect(await runCli(['run-due', '--now', oneDayBefore], env, quiet)).toBe(0);
    expect(outbox(dir)).toHaveLength(after.length);
  });

  it('when the bin is run with --help, then it prints the commands', () => {
    const text = execFileSync(process.execPath, [resolve('bin/muster.js'), '--help'], { encoding: 'utf8', env: { ...process.env, MUSTER_DATA_DIR: dir } });
    expect(text).toContain('run-due [--now ISO-8601]');
  });

  it('when --now is not a date, then it says so and exits non-zero', async () => {
    const errs: string[] = [];
    expect(await runCli(['run-due', '--now', 'tomorrow-ish'], env, { log: () => {}, err: (s) => errs.push(s) })).toBe(2);
    expect(errs.join('\n')).toContain('--now');
  });
});
