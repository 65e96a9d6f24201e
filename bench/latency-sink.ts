/**
 * The latency part's receiving MX: a minimal SMTP sink that greets at once
 * (as Postfix's smtpd and smtp-sink do) and notes, per message, when its DATA
 * ended. smtp-server, used before, holds every new connection 100 ms before
 * its greeting (its early-talker check, not configurable), so each connection
 * a relay opened added 100 ms to the message that waited for it: the sink's
 * pause, not the relay's latency.
 *
 * Commands: EHLO/HELO, MAIL, RCPT, RSET, NOOP, QUIT, DATA (pipelined or not);
 * anything else gets 502. A message is read up to its end line ("." alone),
 * bounded by MAX_MESSAGE; its X-Bench-Id header names it.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** Largest message or command buffer a session may hold (bytes). */
export const MAX_MESSAGE = 10 * 1024 * 1024;
const END_OF_DATA = Buffer.from('\r\n.\r\n');

export interface LatencySink {
  readonly port: number;
  /** Bench id → hrtime (ns) when its DATA ended here (the first time). */
  readonly delivered: Map<string, bigint>;
  close(): Promise<void>;
}

/** The X-Bench-Id of a message (its header section only). */
export function benchIdOf(message: Buffer): string | undefined {
  const end = message.indexOf('\r\n\r\n');
  return /^X-Bench-Id: (\S+)\r?$/im.exec(message.subarray(0, end < 0 ? message.length : end).toString('latin1'))?.[1];
}

/** The reply to one command line (undefined: DATA, answered by the session). Pure. */
export function sinkReply(line: string): { reply: string; data?: true; quit?: true } {
  const verb = line.slice(0, 4).toUpperCase();
  switch (verb) {
    case 'EHLO':
      return { reply: '250-sink.bench.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n' };
    case 'HELO':
    case 'MAIL':
    case 'RCPT':
    case 'RSET':
    case 'NOOP':
      return { reply: '250 2.0.0 Ok\r\n' };
    case 'DATA':
      return { reply: '354 End data with <CR><LF>.<CR><LF>\r\n', data: true };
    case 'QUIT':
      return { reply: '221 2.0.0 Bye\r\n', quit: true };
    default:
      return { reply: '502 5.5.2 Command not recognised\r\n' };
  }
}

function serveSession(socket: Socket, delivered: Map<string, bigint>): void {
  let buffer: Buffer = Buffer.alloc(0);
  let inData = false;
  socket.on('error', () => undefined);
  socket.write('220 sink.bench.test ESMTP\r\n');
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    const replies: string[] = [];
    for (;;) {
      if (inData) {
        // the DATA's first line may be the end line itself (an empty message): search with the CRLF before it
        const end = buffer.indexOf(END_OF_DATA);
        const empty = buffer.subarray(0, 3).equals(Buffer.from('.\r\n'));
        if (end < 0 && !empty) break;
        const message = empty ? Buffer.alloc(0) : buffer.subarray(0, end + 2);
        buffer = buffer.subarray(empty ? 3 : end + END_OF_DATA.length);
        inData = false;
        const id = benchIdOf(message);
        if (id !== undefined && !delivered.has(id)) delivered.set(id, process.hrtime.bigint());
        replies.push('250 2.0.0 Ok: queued\r\n');
        continue;
      }
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) break;
      const { reply, data, quit } = sinkReply(buffer.subarray(0, eol).toString('latin1'));
      buffer = buffer.subarray(eol + 2);
      replies.push(reply);
      if (data) inData = true;
      if (quit) {
        socket.end(replies.join(''));
        return;
      }
    }
    if (replies.length > 0) socket.write(replies.join(''));
    if (buffer.length > MAX_MESSAGE) socket.destroy();
  });
}

export async function startLatencySink(host: string, port: number): Promise<LatencySink> {
  const delivered = new Map<string, bigint>();
  const server: Server = createServer((socket) => serveSession(socket, delivered));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port,
    delivered,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
