// A minimal SMTP server for tests (EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT on 127.0.0.1) that records what it receives; it relays nothing.
import { createServer, type Server, type Socket } from 'node:net';

export interface ReceivedMessage {
  from: string;
  to: string[];
  /** The message data, dot-unstuffed, without the terminating line. */
  raw: Buffer;
  /** What the server did after the data: its reply line, or 'dropped'. */
  outcome: string;
}

export interface SmtpBehaviour {
  /** Reply to RCPT TO for an address; null accepts it with 250. */
  rcptReply: (address: string) => string | null;
  /** Reply after the message data; null gives 250 with a queue id. */
  dataReply: string | null;
  /** Accept the whole message, record it, then close the connection without replying. */
  dropAfterData: boolean;
  /** Close the connection without a reply when this command (e.g. 'RCPT') arrives. */
  dropOnCommand: string | null;
  /** Require AUTH with these credentials before MAIL. */
  auth: { user: string; pass: string } | null;
}

export interface TestSmtpServer {
  port: number;
  /** smtp://127.0.0.1:<port>, with the credentials when auth is required. */
  url: string;
  messages: ReceivedMessage[];
  /** Number of connections the server has accepted. */
  connections(): number;
  behave(change: Partial<SmtpBehaviour>): void;
  close(): Promise<void>;
}

const DEFAULTS: SmtpBehaviour = { rcptReply: () => null, dataReply: null, dropAfterData: false, dropOnCommand: null, auth: null };

function addressOf(arg: string): string {
  const m = /<([^>]*)>/.exec(arg);
  return (m ? m[1] : arg.trim().split(/\s+/)[0]) ?? '';
}

export async function startSmtpServer(initial: Partial<SmtpBehaviour> = {}): Promise<TestSmtpServer> {
  let behaviour: SmtpBehaviour = { ...DEFAULTS, ...initial };
  const messages: ReceivedMessage[] = [];
  const sockets = new Set<Socket>();
  let connectionCount = 0;
  let queueId = 0;

  const server: Server = createServer((socket) => {
    connectionCount += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());

    let buffer = '';
    let mode: 'command' | 'data' | 'auth-plain' | 'auth-login-user' | 'auth-login-pass' = 'command';
    let authed = false;
    let loginUser = '';
    let from: string | null = null;
    let to: string[] = [];

    const reply = (line: string): void => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };
    const checkCredentials = (user: string, pass: string): void => {
      if (behaviour.auth && user === behaviour.auth.user && pass === behaviour.auth.pass) {
        authed = true;
        reply('235 2.7.0 Authentication successful');
      } else {
        reply('535 5.7.8 Authentication credentials invalid');
      }
    };
    const resetTransaction = (): void => {
      from = null;
      to = [];
    };

    const onCommand = (line: string): void => {
      if (mode === 'auth-plain') {
        mode = 'command';
        const [, user = '', pass = ''] = Buffer.from(line, 'base64').toString('utf8').split('\u0000');
        return checkCredentials(user, pass);
      }
      if (mode === 'auth-login-user') {
        loginUser = Buffer.from(line, 'base64').toString('utf8');
        mode = 'auth-login-pass';
        return reply('334 UGFzc3dvcmQ6');
      }
      if (mode === 'auth-login-pass') {
        mode = 'command';
        return checkCredentials(loginUser, Buffer.from(line, 'base64').toString('utf8'));
      }
      const [verbRaw = '', ...rest] = line.split(' ');
      const verb = verbRaw.toUpperCase();
      const arg = rest.join(' ');
      if (behaviour.dropOnCommand !== null && verb === behaviour.dropOnCommand.toUpperCase()) {
        socket.destroy();
        return;
      }
      switch (verb) {
        case 'EHLO':
          resetTransaction();
          socket.write('250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n' + (behaviour.auth ? '250-AUTH PLAIN LOGIN\r\n' : '') + '250 SIZE 10485760\r\n');
          return;
        case 'HELO':
          resetTransaction();
          return reply('250 127.0.0.1');
        case 'AUTH': {
          const [mech = '', initialResponse] = arg.split(' ');
          if (mech.toUpperCase() === 'PLAIN') {
            if (initialResponse) {
              const [, user = '', pass = ''] = Buffer.from(initialResponse, 'base64').toString('utf8').split('\u0000');
              return checkCredentials(user, pass);
            }
            mode = 'auth-plain';
            return reply('334 ');
          }
          if (mech.toUpperCase() === 'LOGIN') {
            if (initialResponse) {
              loginUser = Buffer.from(initialResponse, 'base64').toString('utf8');
              mode = 'auth-login-pass';
              return reply('334 UGFzc3dvcmQ6');
            }
            mode = 'auth-login-user';
            return reply('334 VXNlcm5hbWU6');
          }
          return reply('504 5.5.4 Unrecognized authentication type');
        }
        case 'MAIL':
          if (behaviour.auth && !authed) return reply('530 5.7.0 Authentication required');
          from = addressOf(arg.replace(/^FROM:/i, ''));
          to = [];
          return reply('250 2.1.0 Ok');
        case 'RCPT': {
          if (from === null) return reply('503 5.5.1 Need MAIL first');
          const address = addressOf(arg.replace(/^TO:/i, ''));
          const custom = behaviour.rcptReply(address);
          if (custom) return reply(custom);
          to.push(address);
          return reply('250 2.1.5 Ok');
        }
        case 'DATA':
          if (from === null || to.length === 0) return reply('503 5.5.1 Need RCPT first');
          mode = 'data';
          return reply('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
          resetTransaction();
          return reply('250 2.0.0 Ok');
        case 'NOOP':
          return reply('250 2.0.0 Ok');
        case 'QUIT':
          reply('221 2.0.0 Bye');
          socket.end();
          return;
        default:
          return reply('502 5.5.2 Command not recognized');
      }
    };

    const onMessage = (data: string): void => {
      mode = 'command';
      const raw = Buffer.from(data.replace(/^\.\./gm, '.'), 'latin1');
      const envelope = { from: from ?? '', to: [...to] };
      resetTransaction();
      if (behaviour.dropAfterData) {
        messages.push({ ...envelope, raw, outcome: 'dropped' });
        socket.destroy();
        return;
      }
      queueId += 1;
      const line = behaviour.dataReply ?? `250 2.0.0 Ok: queued as Q${queueId}`;
      messages.push({ ...envelope, raw, outcome: line });
      reply(line);
    };

    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (socket.destroyed) return;
        if (mode === 'data') {
          const withLeadingBreak = `\r\n${buffer}`;
          const end = withLeadingBreak.indexOf('\r\n.\r\n');
          if (end < 0) return;
          // end is an index into "\r\n" + buffer: the data is buffer[0 .. end - 2 + 2) including its last line break.
          const data = end === 0 ? '' : buffer.slice(0, end);
          buffer = buffer.slice(end + 3);
          onMessage(data);
          continue;
        }
        const lineEnd = buffer.indexOf('\r\n');
        if (lineEnd < 0) return;
        const line = buffer.slice(0, lineEnd);
        buffer = buffer.slice(lineEnd + 2);
        onCommand(line);
      }
    });
    reply('220 127.0.0.1 ESMTP Muster test server');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The test SMTP server has no TCP port.');
  const port = address.port;
  const credentials = behaviour.auth ? `${encodeURIComponent(behaviour.auth.user)}:${encodeURIComponent(behaviour.auth.pass)}@` : '';

  return {
    port,
    url: `smtp://${credentials}127.0.0.1:${port}`,
    messages,
    connections: () => connectionCount,
    behave(change) {
      behaviour = { ...behaviour, ...change };
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
