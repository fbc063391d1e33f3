// Shared set-up for the Microsoft provider tests: an emulator, providers wired to it with recorded (not slept) waits, a capturing logger, and sample sessions.
import { startGraphEmulator, type GraphEmulator, type GraphEmulatorOptions } from '../emulators/graph/index.js';
import { createMicrosoftProviders, type MicrosoftConfig, type MicrosoftProviders } from '../../src/providers/microsoft/index.js';
import type { Logger, OutgoingMessage, SessionEvent } from '../../src/ports/index.js';

export const ORGANIZER = 'training@contoso.com';
export const ADDIN_ID = '{7D3A3F1E-2B7C-4C5D-9E8F-0A1B2C3D4E5F}';

export interface CapturedLog {
  level: string;
  event: string;
  fields: Record<string, unknown>;
}

export function captureLogger(): Logger & { lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const at = (level: string) => (event: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, event, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface Rig {
  em: GraphEmulator;
  providers: MicrosoftProviders;
  logger: ReturnType<typeof captureLogger>;
  /** Every wait the Graph client asked for, in ms (tests record waits instead of sleeping). */
  waits: number[];
  config: MicrosoftConfig;
}

export async function startRig(emOpts: GraphEmulatorOptions = {}, cfg: Partial<MicrosoftConfig> = {}): Promise<Rig> {
  const em = await startGraphEmulator(emOpts);
  em.state.addUser({ mail: ORGANIZER, displayName: 'Training Team' });
  const logger = captureLogger();
  const waits: number[] = [];
  const config: MicrosoftConfig = {
    tenantId: em.tenantId,
    clientId: em.clientId,
    clientSecret: em.clientSecret,
    organizer: ORGANIZER,
    authorityHost: em.authorityHost,
    graphBaseUrl: em.baseUrl,
    addinId: ADDIN_ID,
    appOnlyWorkbook: true,
    ...cfg,
  };
  const providers = createMicrosoftProviders(config, {
    logger,
    clientTuning: {
      sleep: async (ms: number) => {
        waits.push(ms);
      },
      baseBackoffMs: 5,
    },
  });
  return { em, providers, logger, waits, config };
}

let counter = 0;

export function sampleSession(overrides: Partial<SessionEvent> = {}): SessionEvent {
  counter++;
  const sessionId = overrides.sessionId ?? `session-${counter}-${Date.now()}`;
  return {
    tenantId: 't1',
    sessionId,
    createKey: `t1/${sessionId}/1`,
    subject: 'Safety 101: Cohort A, day 1',
    bodyHtml: '<p>Agenda: fire exits &amp; first aid</p>',
    bodyText: 'Agenda: fire exits & first aid',
    start: '2030-03-04T08:00:00.000Z',
    end: '2030-03-04T09:30:00.000Z',
    zone: 'Europe/Berlin',
    location: 'Room 4.01',
    roomEmail: 'room401@contoso.com',
    onlineUrl: null,
    wantOnlineMeeting: true,
    organizer: { email: ORGANIZER, name: 'Training Team' },
    attendees: [
      { email: 'ines.instructor@contoso.com', name: 'Ines Instructor', role: 'instructor' },
      { email: 'lena.learner@contoso.com', name: 'Lena Learner', role: 'learner' },
      { email: 'lars.learner@contoso.com', name: 'Lars Learner', role: 'learner' },
    ],
    sequence: 0,
    ...overrides,
  };
}

export function sampleMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  counter++;
  return {
    tenantId: 't1',
    key: `reminder/lena/${counter}/${Date.now()}`,
    messageId: `<muster-${counter}@muster.example>`,
    from: { email: ORGANIZER, name: 'Training Team' },
    to: [{ email: 'lena.learner@contoso.com', name: 'Lena Learner' }],
    subject: 'Reminder: Safety 101 tomorrow',
    text: 'See you tomorrow.',
    html: '<p>See you tomorrow.</p>',
    ...overrides,
  };
}

/** Fails when any log line carries something shaped like a token or a secret. */
export function assertNoSecretsLogged(logger: ReturnType<typeof captureLogger>, secrets: string[]): void {
  const text = JSON.stringify(logger.lines);
  if (/eyJ[A-Za-z0-9_-]{10,}\./.test(text) || /Bearer\s/i.test(text)) throw new Error('a token was logged');
  for (const s of secrets) if (s && text.includes(s)) throw new Error('a secret was logged');
}
