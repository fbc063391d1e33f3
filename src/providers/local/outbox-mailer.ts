// MailerPort that writes each message as one .eml file in an outbox folder, named by its key so a repeat is a no-op; it never sends over the network.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MusterError } from '../../domain/errors.js';
import type { Logger, MailerPort, OutgoingMessage, SendOutcome } from '../../ports/index.js';
import { composeMessage } from './mime.js';

export const OUTBOX_PROVIDER = 'outbox';

/** The .eml file name for a message: the key's safe characters (for people browsing the folder) and a hash of tenant and key (for uniqueness). */
export function outboxFileName(tenantId: string, key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80) || 'message';
  const hash = createHash('sha256').update(`${tenantId}\u0000${key}`, 'utf8').digest('hex').slice(0, 12);
  return `${readable}-${hash}.eml`;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Creates the outbox mailer: one .eml per key in `outboxDir`, written through a temporary file and a rename. */
export function createOutboxMailer(outboxDir: string, logger: Logger): MailerPort {
  let ready: Promise<unknown> | null = null;
  const ensureDir = (): Promise<unknown> => (ready ??= mkdir(outboxDir, { recursive: true }));

  async function send(msg: OutgoingMessage): Promise<SendOutcome> {
    const name = outboxFileName(msg.tenantId, msg.key);
    const target = join(outboxDir, name);
    try {
      await ensureDir();
      if (await fileExists(target)) {
        logger.info('mail.outbox.already_written', { key: msg.key, file: name });
        return { status: 'sent', providerId: name };
      }
      const raw = await composeMessage(msg);
      const tmp = join(outboxDir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, raw, { flag: 'wx' });
      try {
        await rename(tmp, target);
      } catch (err) {
        await unlink(tmp).catch((cleanupErr: unknown) => logger.warn('mail.outbox.tmp_left', { file: tmp, error: String(cleanupErr) }));
        throw err;
      }
      logger.info('mail.outbox.written', { key: msg.key, file: name, bytes: raw.length });
      return { status: 'sent', providerId: name };
    } catch (err) {
      if (err instanceof MusterError) return { status: 'failed', error: err, retryable: false, pauseMailbox: false };
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      logger.error('mail.outbox.write_failed', { key: msg.key, code });
      // A full disk or a permission problem: nothing was written under the final name, so trying again later is safe.
      return {
        status: 'failed',
        error: new MusterError('PROVIDER_UNAVAILABLE', `The outbox folder could not be written (${code}).`, { cause: err }),
        retryable: true,
        pauseMailbox: code === 'EACCES' || code === 'EPERM' || code === 'ENOSPC' || code === 'EROFS',
      };
    }
  }

  return {
    provider: OUTBOX_PROVIDER,
    canSettle: true,
    send,
    async settle(msg: OutgoingMessage): Promise<'sent' | 'not-sent' | 'unknown'> {
      return (await fileExists(join(outboxDir, outboxFileName(msg.tenantId, msg.key)))) ? 'sent' : 'not-sent';
    },
  };
}
