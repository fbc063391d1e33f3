// Hostile names and notes stay inert text in the local records workbook, the CSV exports and the mail HTML.
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { toCsvCell } from '../../src/http/export.routes.js';
import { pgUnavailableReason } from '../support/pg.js';
import { launchProgram, startRig, type Rig } from './service-rig.js';

const pgSkip = await pgUnavailableReason();
/** HTML text escaping, written out here so the test does not trust Muster's own escaper. */
const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const HOSTILE = ['=HYPERLINK("http://evil.example","x")', '+SUM(1,2)', '-2+3', '@cmd', '\tTabbed', '\rCarriage', 'Eve <script>alert(1)</script>'];
const learners = HOSTILE.map((name, i) => ({ Email: `hostile${i}@example.com`, Name: name, Session: 'First' }));

describe(`hostile text${pgSkip ? ` (SQLite: ${pgSkip})` : ' (PostgreSQL)'}`, () => {
  let rig: Rig;
  let programId: string;

  beforeAll(async () => {
    rig = await startRig({ postgres: !pgSkip });
    const p = await launchProgram(rig, 'INJECT1', learners);
    programId = p.programId;
    await rig.runDue();
    await rig.api('post', `/api/programs/${programId}/sync`);
  });
  afterAll(async () => rig?.close());

  it('when a CSV cell starts like a formula, then it gets a leading apostrophe and quoting keeps commas, quotes and line ends inside the cell', () => {
    expect(toCsvCell('=1+1')).toBe("'=1+1");
    expect(toCsvCell('\rX')).toBe(`"'\rX"`);
    expect(toCsvCell('a,"b"')).toBe('"a,""b"""');
    expect(toCsvCell(-3)).toBe('-3');
    expect(toCsvCell('plain')).toBe('plain');
    // Every start a spreadsheet reads as a formula, including the tab and carriage return a roster file can carry.
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(toCsvCell(`${start}1+1`).replace(/^"/, '')).toBe(`'${start}1+1${start === '\r' ? '"' : ''}`);
  });

  it('when the roster and completion are exported as CSV, then every hostile name reads back as text with a leading apostrophe where it started like a formula', async () => {
    for (const file of ['roster.csv', 'completion.csv']) {
      const res = await fetch(`${rig.url}/api/programs/${programId}/export/${file}`, { headers: { authorization: `Bearer ${rig.runtime.apiToken}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const rows = parseCsv(await res.text(), { columns: true, relax_column_count: false }) as Array<Record<string, string>>;
      const names = rows.map((r) => r.Name);
      for (const cell of Object.values(rows).flatMap((r) => Object.values(r))) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      for (const h of HOSTILE) {
        const stored = (await rig.runtime.store.learnerByEmail('default', `hostile${HOSTILE.indexOf(h)}@example.com`))!.name;
        expect(names).toContain(/^[=+\-@\t\r]/.test(stored) ? `'${stored}` : stored);
      }
    }
  });

  it('when the records workbook is written, then hostile names are text cells, never formulas', async () => {
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(join(rig.runtime.config.recordsDir, 'INJECT1.xlsx'));
    let seen = 0;
    wb.eachSheet((ws) =>
      ws.eachRow((row) =>
        row.eachCell((cell) => {
          expect(cell.type, `${ws.name}!${cell.address}`).not.toBe(ExcelJS.ValueType.Formula);
          if (typeof cell.value === 'string' && HOSTILE.some((h) => cell.value === h.trim() || cell.value === h)) seen++;
        }),
      ),
    );
    expect(seen).toBeGreaterThanOrEqual(4);
  });

  it('when mail names a hostile learner, then its HTML holds the name escaped and no script element', async () => {
    const mails = rig.outbox().filter((m) => m.raw.includes('hostile6@example.com'));
    expect(mails.length).toBeGreaterThan(0);
    let named = 0;
    for (const m of mails) {
      const parsed = await simpleParser(m.raw);
      const html = String(parsed.html || '');
      expect(html).not.toMatch(/<script/i);
      if (html.includes('Eve')) {
        named++;
        expect(html).toContain('&lt;script&gt;');
      }
    }
    expect(named).toBeGreaterThan(0);
  });

  it('when mail names a learner whose name starts like a formula, then its HTML shows the name as escaped text', async () => {
    for (const [i, h] of HOSTILE.entries()) {
      if (h.includes('<script>') || h.includes('http')) continue;
      const stored = (await rig.runtime.store.learnerByEmail('default', `hostile${i}@example.com`))!.name;
      expect(stored, h).toMatch(/^[=+\-@]|^\w/);
      const html = await htmlTo(`hostile${i}@example.com`);
      expect(html.length, h).toBeGreaterThan(0);
      expect(html.some((x) => x.includes(`Hello ${escapeHtml(stored)},`)), h).toBe(true);
    }
  });

  // Only link placeholders (RSVP, join, assessment, materials) are made clickable: a URL typed into a name stays text.
  it('when a learner is named =HYPERLINK("http://evil…"), then no mail HTML links to that address', async () => {
    const html = await htmlTo('hostile0@example.com');
    expect(html.length).toBeGreaterThan(0);
    for (const x of html) expect(x).not.toMatch(/href="http:\/\/evil\.example/i);
  });

  /** The HTML bodies of every mail addressed to this learner. */
  async function htmlTo(email: string): Promise<string[]> {
    const mails = rig.outbox().filter((m) => m.raw.includes(email));
    return Promise.all(mails.map(async (m) => String((await simpleParser(m.raw)).html || '')));
  }
});
