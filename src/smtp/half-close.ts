/**
 * Clients that half-close (send FIN, keep reading).
 *
 * Exim, when the server offers CHUNKING, pipelines "BDAT n LAST", the data
 * and QUIT, then shuts down its side of the TCP connection and waits for the
 * replies. So listeners are created with `allowHalfOpen` (smtp-server passes
 * its options to net.createServer), and two small extensions make smtp-server
 * handle such a client the way an MTA should:
 *
 * 1. Replies still go out: smtp-server writes only while the socket's
 *    readyState is 'open', and a half-closed socket is 'writeOnly'
 *    (`answerAfterHalfClose`, applied to every listener socket and to the TLS
 *    socket after STARTTLS or implicit TLS).
 * 2. When the client's input has ended and every command it sent has been
 *    answered (the parser's 'finish'), the connection is closed from our side
 *    too. If the input ended in the middle of a message (DATA or a BDAT
 *    chunk), that message can never be completed: its stream is destroyed, so
 *    nothing is queued and the partial spool file is removed
 *    (`installHalfCloseHandling`). Without this, a client that sends FIN
 *    mid-message would hold its session open until the idle timeout.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

function readyStateGetter(socket: Socket): (() => string) | undefined {
  for (let proto: object | null = Object.getPrototypeOf(socket) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    const desc = Object.getOwnPropertyDescriptor(proto, 'readyState');
    if (desc?.get) return desc.get as () => string;
  }
  return undefined;
}

export function answerAfterHalfClose(socket: Socket): void {
  const original = readyStateGetter(socket);
  if (!original || Object.hasOwn(socket, 'readyState')) return;
  Object.defineProperty(socket, 'readyState', {
    configurable: true,
    get(this: Socket) {
      const state = original.call(this);
      return state === 'writeOnly' ? 'open' : state;
    },
  });
}

interface ParserInternals extends Writable {
  _dataMode: boolean;
}

interface ConnectionInternals {
  _parser: ParserInternals | false;
  _dataStream: (Writable & { destroyed: boolean; writableEnded: boolean; listenerCount(event: string): number }) | null | false | undefined;
  _createParser(): ParserInternals;
  close(): void;
}

function onInputEnded(conn: ConnectionInternals, parser: ParserInternals): void {
  if (conn._parser !== parser) return; // replaced by the TLS session's parser
  const stream = conn._dataStream;
  if (parser._dataMode && stream && !stream.writableEnded && !stream.destroyed) {
    const err = Object.assign(new Error('Connection closed before the message was received in full'), { code: 'ECONNECTION' });
    stream.destroy(stream.listenerCount('error') ? err : undefined);
  }
  conn.close();
}

let installed = false;

export function installHalfCloseHandling(): void {
  if (installed) return;
  installed = true;
  const proto = (SMTPConnection as unknown as { prototype: ConnectionInternals }).prototype;
  const create = proto._createParser;
  proto._createParser = function (this: ConnectionInternals) {
    const parser = create.call(this);
    parser.once('finish', () => onInputEnded(this, parser));
    return parser;
  };
}
