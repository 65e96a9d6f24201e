/**
 * A raw SMTP client for tests: sends exactly the bytes a test gives it and
 * returns replies verbatim, so tests can check reply lines word for word and
 * send protocol violations (smuggling sequences) that real clients refuse to.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface Reply {
  readonly code: number;
  readonly lines: string[];
  /** Last line, e.g. "250 2.0.0 Ok: queued as 01...". */
  readonly text: string;
}

export class RawSmtp {
  private buffer = '';
  private waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  static async connect(port: number, options: { host?: string; localAddress?: string; tls?: ConnectionOptions; proxyHeader?: string } = {}): Promise<{ client: RawSmtp; greeting: Reply }> {
    const host = options.host ?? '127.0.0.1';
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const s = options.tls
        ? tlsConnect({ host, port, ...options.tls }, () => resolve(s))
        : netConnect({ host, port, localAddress: options.localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    // tests send many small writes (commands, BDAT chunks): no Nagle delay waiting for the server's delayed ACK
    socket.setNoDelay(true);
    if (options.proxyHeader) socket.write(options.proxyHeader);
    const client = new RawSmtp(socket);
    const greeting = await client.read();
    return { client, greeting };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The TLS socket once the session is encrypted (implicit TLS or after STARTTLS). */
  get tlsSocket(): TLSSocket | undefined {
    return 'encrypted' in this.socket ? this.socket : undefined;
  }

  /** Resolves when the server has closed the connection. */
  async closedByPeer(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection still open after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Reads one (possibly multi-line) reply. */
  async read(timeoutMs = 30_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        const line = lines[i] ?? '';
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          const replyLines = lines.slice(0, i + 1);
          this.buffer = lines.slice(i + 1).join('\r\n');
          return { code: Number(line.slice(0, 3)), lines: replyLines, text: line };
        }
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Writes and waits for the socket to drain (for large bodies). */
  async writeDrained(data: Buffer): Promise<void> {
    if (!this.socket.write(data)) await new Promise<void>((resolve) => this.socket.once('drain', () => resolve()));
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  async starttls(options: ConnectionOptions): Promise<Reply> {
    const r = await this.command('STARTTLS');
    if (r.code !== 220) return r;
    const plain = this.socket;
    plain.removeAllListeners('data');
    this.socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, ...options }, () => resolve(s));
      s.once('error', reject);
    });
    this.attach(this.socket);
    return r;
  }

  /** DATA, the raw bytes as given (they must end the data themselves), reply. */
  async data(raw: string | Buffer): Promise<Reply> {
    const go = await this.command('DATA');
    if (go.code !== 354) return go;
    this.write(raw);
    return this.read();
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      this.write('QUIT\r\n');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        this.socket.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Dot-stuffs a CRLF message and appends the end-of-data sequence. */
export function dataPayload(message: string | Buffer): Buffer {
  const text = Buffer.isBuffer(message) ? message.toString('latin1') : message;
  const body = text.endsWith('\r\n') ? text : `${text}\r\n`;
  return Buffer.from(`${body.replace(/^\./gm, '..')}.\r\n`, 'latin1');
}

export function queueIdOf(reply: Reply): string | undefined {
  return /queued as ([0-9A-Z]{20})/.exec(reply.text)?.[1];
}

/** One message through a fresh session (EHLO, MAIL, RCPT…, DATA, QUIT); its queue id. */
export async function sendMessage(port: number, from: string, to: readonly string[], message: string): Promise<string> {
  const { client } = await RawSmtp.connect(port);
  await client.command('EHLO client.test');
  await client.command(`MAIL FROM:<${from}>`);
  for (const t of to) await client.command(`RCPT TO:<${t}>`);
  const id = queueIdOf(await client.data(dataPayload(message)));
  await client.quit();
  return id ?? '';
}
