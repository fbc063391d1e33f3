// Deletes outbox messages that mention a person (by address or name), decoding MIME transfer encodings before looking; sends nothing.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The searchable text of a raw MIME message: quoted-printable soft breaks joined, base64 parts decoded. */
export function searchableText(raw: string): string {
  const unfolded = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  const decoded: string[] = [unfolded];
  const b64 = /Content-Transfer-Encoding:\s*base64\s*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/gi;
  for (const m of raw.matchAll(b64)) decoded.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('utf8'));
  const encodedWords = /=\?utf-8\?([bq])\?([^?]*)\?=/gi;
  for (const m of raw.matchAll(encodedWords)) {
    decoded.push(m[1]!.toLowerCase() === 'b' ? Buffer.from(m[2]!, 'base64').toString('utf8') : m[2]!.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))));
  }
  return decoded.join('\n');
}

export async function eraseOutboxMentions(outboxDir: string, needles: string[]): Promise<number> {
  let files: string[];
  try {
    files = (await readdir(outboxDir)).filter((f) => f.endsWith('.eml'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const wanted = needles.filter((n) => n.trim().length > 2).map((n) => n.toLowerCase());
  let removed = 0;
  for (const f of files) {
    const text = searchableText(await readFile(join(outboxDir, f), 'utf8')).toLowerCase();
    if (wanted.some((n) => text.includes(n))) {
      await unlink(join(outboxDir, f));
      removed++;
    }
  }
  return removed;
}
