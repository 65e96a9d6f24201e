/**
 * Clients that go away in the middle of a message, as an attacker or an
 * unlucky network does: a session (optionally after STARTTLS) that sends
 * MAIL, RCPT and DATA or BDAT, then a given number of message bytes, then
 * closes its side with FIN (`end()`) or RST (`resetAndDestroy()` on the TCP
 * socket, under TLS too) — or, with BDAT, abandons the transaction with RSET
 * after one or more whole chunks and ends the session with QUIT. Also the seeded random source and the message
 * generator the hostile-client suite and `npm run bench:hostile` share.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { dataPayload, queueIdOf, RawSmtp, type Reply } from './smtp-client.js';

/** FIN or RST on the connection; or (BDAT only) RSET after whole chunks, abandoning the transaction, then QUIT. */
/** How long a session waits for one reply before it counts the server as hung. */
export const REPLY_TIMEOUT_MS = 60_000;

export type DropKind = 'fin' | 'rst' | 'rset';
export type TransferKind = 'data' | 'bdat';

export interface HostileSession {
  readonly port: number;
  readonly host?: string;
  /** Source address on loopback (spreads sessions over 127.0.0.0/8 below per-IP limits). */
  readonly localAddress?: string;
  /** STARTTLS before MAIL; the value is the CA to trust (PEM). */
  readonly starttlsCa?: string | undefined;
  readonly transfer: TransferKind;
  readonly drop: DropKind;
  /** The message bytes sent before the drop (the message itself is longer). */
  readonly message: Buffer;
  readonly dropAfter: number;
  /** BDAT only: size of the chunks the message is cut into (the last one announced LAST). */
  readonly bdatChunk?: number;
}

/** How a hostile session ended on the client side. */
export type HostileOutcome =
  | { readonly kind: 'dropped'; readonly bytesSent: number }
  /** The server refused a command before the message started (its reply line). */
  | { readonly kind: 'refused'; readonly reply: string }
  /** The connection broke before the drop point (e.g. the server closed it). */
  | { readonly kind: 'broken'; readonly step: string };

/** A tiny line-oriented SMTP conversation over a socket that may be upgraded to TLS. */
class Conversation {
  private buffer = '';
  private waiter: (() => void) | undefined;
  private ended = false;
  /** A reply did not come within REPLY_TIMEOUT_MS. */
  timedOut = false;
  socket: Socket | TLSSocket;

  constructor(readonly raw: Socket) {
    // each command and each BDAT chunk goes out at once: with Nagle, a write after an unacknowledged one waits for the peer's delayed ACK (about 40 ms per chunk)
    raw.setNoDelay(true);
    this.socket = raw;
    this.listen(raw);
  }

  private listen(s: Socket | TLSSocket): void {
    s.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.wake();
    });
    s.on('close', () => {
      this.ended = true;
      this.wake();
    });
    s.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /**
   * The next complete reply's last line, or undefined if the connection ended
   * first. A server that has not answered within REPLY_TIMEOUT_MS is a hang:
   * `timedOut` is set and the connection is destroyed.
   */
  async reply(): Promise<string | undefined> {
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.socket.destroy();
    }, REPLY_TIMEOUT_MS);
    try {
      return await this.nextReply();
    } finally {
      clearTimeout(timer);
    }
  }

  private async nextReply(): Promise<string | undefined> {
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3}(?: |$)/.test(lines[i] ?? '')) {
          this.buffer = lines.slice(i + 1).join('\r\n');
          return lines[i];
        }
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<string | undefined> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  async upgrade(ca: string): Promise<boolean> {
    this.raw.removeAllListeners('data');
    const tls = await new Promise<TLSSocket | undefined>((resolve) => {
      const s = tlsConnect({ socket: this.raw, ca, servername: 'localhost' }, () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    if (!tls) return false;
    this.socket = tls;
    this.listen(tls);
    return true;
  }

  /** Waits until the bytes written so far have left for the kernel. */
  async flushed(): Promise<void> {
    if (this.socket.writableNeedDrain) await new Promise<void>((resolve) => {
      this.socket.once('drain', resolve);
      this.socket.once('close', resolve);
    });
  }
}

function connectTcp(port: number, host: string, localAddress: string | undefined): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host, localAddress }, () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}

/** Runs one session that drops mid-message. Never throws. */
export async function hostileSession(o: HostileSession): Promise<HostileOutcome> {
  const raw = await connectTcp(o.port, o.host ?? '127.0.0.1', o.localAddress);
  if (!raw) return { kind: 'broken', step: 'connect' };
  const c = new Conversation(raw);
  try {
    const expect = async (step: string, line: string | undefined, code: string): Promise<HostileOutcome | undefined> => {
      if (line === undefined) return { kind: 'broken', step: c.timedOut ? `${step} (no reply in ${REPLY_TIMEOUT_MS} ms)` : step };
      return line.startsWith(code) ? undefined : { kind: 'refused', reply: line };
    };
    let bad = await expect('greeting', await c.reply(), '220');
    if (bad) return bad;
    bad = await expect('ehlo', await c.command('EHLO hostile.test'), '250');
    if (bad) return bad;
    if (o.starttlsCa !== undefined) {
      bad = await expect('starttls', await c.command('STARTTLS'), '220');
      if (bad) return bad;
      if (!(await c.upgrade(o.starttlsCa))) return { kind: 'broken', step: 'tls' };
      bad = await expect('ehlo', await c.command('EHLO hostile.test'), '250');
      if (bad) return bad;
    }
    bad = await expect('mail', await c.command('MAIL FROM:<mallory@example.com>'), '250');
    if (bad) return bad;
    bad = await expect('rcpt', await c.command('RCPT TO:<victim@sink.test>'), '250');
    if (bad) return bad;
    // DATA carries the message dot-stuffed (a line that is only "." would end it early); BDAT as it is
    const payload = o.transfer === 'data' ? Buffer.from(o.message.toString('latin1').replace(/^\./gm, '..'), 'latin1') : o.message;
    const part = payload.subarray(0, Math.min(o.dropAfter, payload.length - 1));
    if (o.transfer === 'data') {
      bad = await expect('data', await c.command('DATA'), '354');
      if (bad) return bad;
      c.write(part);
    } else if (o.drop === 'rset') {
      // whole chunks, never the last one, up to the drop point; then RSET abandons the transaction
      const size = Math.max(1, Math.min(o.bdatChunk ?? payload.length, Math.ceil(payload.length / 2)));
      let at = 0;
      do {
        const len = Math.min(size, payload.length - at - 1);
        c.write(Buffer.concat([Buffer.from(`BDAT ${len}\r\n`), payload.subarray(at, at + len)]));
        bad = await expect('bdat', await c.reply(), '250');
        if (bad) return bad;
        at += len;
      } while (at < part.length && at < payload.length - 1);
      bad = await expect('rset', await c.command('RSET'), '250');
      if (bad) return bad;
      bad = await expect('quit', await c.command('QUIT'), '221');
      if (bad) return bad;
      return { kind: 'dropped', bytesSent: at };
    } else {
      // chunks as announced; the connection goes before the last one is complete
      const size = Math.max(1, o.bdatChunk ?? payload.length);
      let at = 0;
      while (at < payload.length) {
        const len = Math.min(size, payload.length - at);
        const last = at + len >= payload.length;
        const upto = Math.min(at + len, part.length);
        c.write(Buffer.concat([Buffer.from(`BDAT ${len}${last ? ' LAST' : ''}\r\n`), part.subarray(at, Math.max(at, upto))]));
        if (part.length < at + len) break;
        // a complete chunk that is not the last one: its reply comes before the next
        bad = await expect('bdat', await c.reply(), '250');
        if (bad) return bad;
        at += len;
      }
    }
    await c.flushed();
    return { kind: 'dropped', bytesSent: part.length };
  } finally {
    if (o.drop === 'rst') raw.resetAndDestroy();
    else {
      c.socket.end();
      // a FIN'd client still reads until the server closes; do not hold sockets past that
      c.socket.setTimeout(30_000, () => c.socket.destroy());
    }
  }
}

/** The seeded generator (mulberry32) the DLP corpus uses, so a failing run can be repeated from its seed. */
export { rng as seededRandom } from '../fixtures/dlp-corpus/values.js';

/**
 * A plain message of about `bytes` bytes with a unique marker, CRLF lines,
 * some lines starting with a dot (dot-stuffing is exercised), ending in CRLF.
 */
export function makeMessage(marker: string, bytes: number, random: () => number): Buffer {
  const head = `From: sender@example.com\r\nTo: rcpt@sink.test\r\nSubject: ${marker}\r\nMessage-ID: <${marker}@example.com>\r\n\r\n`;
  const lines: string[] = [];
  let size = head.length;
  while (size < bytes) {
    const len = 1 + Math.floor(random() * 76);
    let line = '';
    for (let i = 0; i < len; i++) line += String.fromCharCode(0x20 + Math.floor(random() * 95));
    if (random() < 0.05) line = `.${line}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(`${head}${lines.join('\r\n')}\r\n${marker}\r\n`, 'latin1');
}

const VERBS = ['EHLO', 'HELO', 'MAIL FROM:', 'RCPT TO:', 'RSET', 'NOOP', 'VRFY', 'EXPN', 'HELP', 'AUTH PLAIN', 'AUTH LOGIN', 'STARTTLS', 'XCLIENT', 'ETRN', 'TURN'];
const ARGS = ['<a@example.com>', '<>', '<b@sink.test> SIZE=99999999999', '<x@[127.0.0.1]>', 'client.test', '<"q uoted"@example.com>', 'SMTPUTF8', 'BODY=8BITMIME', '<@route:a@example.com>', 'NOTIFY=NEVER ORCPT=rfc822;x@y'];

/** A random command line (no CRLF): mostly mutated real commands, sometimes raw bytes. */
function randomLine(random: () => number): string {
  const r = random();
  if (r < 0.15) {
    let s = '';
    const n = Math.floor(random() * 600);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(random() * 256);
      // CR and LF end lines; keep them out so the line count is known
      s += String.fromCharCode(c === 10 || c === 13 ? 0x20 : c);
    }
    return s;
  }
  const verb = VERBS[Math.floor(random() * VERBS.length)] ?? 'NOOP';
  const arg = random() < 0.7 ? (ARGS[Math.floor(random() * ARGS.length)] ?? '') : '';
  let line = `${random() < 0.2 ? verb.toLowerCase() : verb}${verb.endsWith(':') ? '' : ' '}${arg}`;
  if (random() < 0.2) line = line.slice(0, Math.floor(random() * line.length));
  if (random() < 0.1) line += '\0';
  if (random() < 0.05) line += 'X'.repeat(1000 + Math.floor(random() * 4000));
  return line;
}

/** How a garbage session ended: replies seen, malformed reply lines, and whether QUIT closed it. */
export interface GarbageOutcome {
  readonly replies: number;
  readonly malformed: string[];
  /** The server closed the connection after QUIT (or earlier, e.g. 421 too many errors), not our time limit. */
  readonly closed: boolean;
  /** The lines sent before QUIT (to report a failing case). */
  readonly sent: readonly string[];
}

/**
 * A session of random and mutated command lines (never DATA or BDAT, so the
 * session stays in command mode), then QUIT. Every reply line must be
 * well formed (`NNN` + space or hyphen); the server must close the
 * connection within `quitTimeoutMs` after QUIT — if not, it hangs.
 */
export async function garbageSession(port: number, random: () => number, quitTimeoutMs = 30_000, localAddress?: string): Promise<GarbageOutcome> {
  const raw = await connectTcp(port, '127.0.0.1', localAddress);
  if (!raw) return { replies: 0, malformed: ['connect failed'], closed: false, sent: [] };
  let text = '';
  let closed = false;
  raw.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const done = new Promise<void>((resolve) => {
    raw.on('close', () => {
      closed = true;
      resolve();
    });
    raw.on('error', () => undefined);
  });
  // wait for the greeting: smtp-server drops clients that talk first
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, quitTimeoutMs);
    const check = (): void => {
      if (text.includes('\r\n') || closed) {
        clearTimeout(t);
        raw.off('data', check);
        resolve();
      }
    };
    raw.on('data', check);
    raw.once('close', check);
  });
  const lines = 1 + Math.floor(random() * 12);
  const batch: string[] = [];
  for (let i = 0; i < lines; i++) batch.push(randomLine(random));
  // sometimes pipelined in one write, sometimes line by line
  if (random() < 0.5) raw.write(Buffer.from(batch.map((l) => `${l}\r\n`).join(''), 'latin1'));
  else for (const l of batch) raw.write(Buffer.from(`${l}\r\n`, 'latin1'));
  raw.write('QUIT\r\n');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    raw.destroy();
  }, quitTimeoutMs);
  await done;
  clearTimeout(timer);
  const replyLines = text.split('\r\n').filter((l) => l.length > 0);
  return {
    replies: replyLines.filter((l) => /^\d{3} /.test(l)).length,
    malformed: replyLines.filter((l) => !/^[2-5]\d{2}[ -]/.test(l)),
    closed: closed && !timedOut,
    sent: batch,
  };
}

/**
 * A well-behaved session: EHLO, optional STARTTLS (trusting `ca`), MAIL,
 * RCPT, the message by DATA (dot-stuffed) or by BDAT in `bdatChunk`-sized
 * chunks, QUIT. Returns the queue id, or `error` with what went wrong.
 */
export async function goodSession(port: number, message: Buffer, rcpt: string, opts: { starttlsCa?: string | undefined; bdatChunk?: number | undefined }): Promise<{ id?: string; error?: string }> {
  let client: RawSmtp | undefined;
  try {
    ({ client } = await RawSmtp.connect(port));
    const step = async (what: string, line: string, code: number): Promise<void> => {
      const r = await (client as RawSmtp).command(line);
      if (r.code !== code) throw new Error(`${what}: ${r.text}`);
    };
    await step('ehlo', 'EHLO good.test', 250);
    if (opts.starttlsCa !== undefined) {
      const r = await client.starttls({ ca: opts.starttlsCa, servername: 'localhost' });
      if (r.code !== 220) throw new Error(`starttls: ${r.text}`);
      await step('ehlo', 'EHLO good.test', 250);
    }
    await step('mail', 'MAIL FROM:<alice@example.com>', 250);
    await step('rcpt', `RCPT TO:<${rcpt}>`, 250);
    let reply: Reply | undefined;
    if (opts.bdatChunk) {
      for (let at = 0; at < message.length; at += opts.bdatChunk) {
        const chunk = message.subarray(at, at + opts.bdatChunk);
        const last = at + opts.bdatChunk >= message.length;
        await client.writeDrained(Buffer.concat([Buffer.from(`BDAT ${chunk.length}${last ? ' LAST' : ''}\r\n`), chunk]));
        reply = await client.read();
        if (!last && reply.code !== 250) throw new Error(`bdat: ${reply.text}`);
      }
    } else reply = await client.data(dataPayload(message));
    const id = reply ? queueIdOf(reply) : undefined;
    return id ? { id } : { error: `refused: ${reply?.text ?? 'no reply'}` };
  } catch (err) {
    return { error: (err as Error).message.slice(0, 200) };
  } finally {
    await client?.quit().catch(() => undefined);
  }
}
