/**
 * A time limit on each command line, from its first byte to its line end.
 *
 * smtp-server's only timer is the socket idle timeout, and every byte the
 * client sends resets it: a client that trickles a command line one byte
 * every few seconds keeps its session (and a slot of smtp.maxConnections)
 * for as long as it likes. DATA is bounded as a whole by smtp.dataTimeoutMs;
 * this bounds a command line the same way (smtp.commandTimeoutMs). AUTH
 * continuation lines (the base64 user name and password of AUTH LOGIN, a
 * PLAIN response sent after "334") reach the same parser as commands, so they
 * are covered too.
 *
 * One small extension, installed once (as bdat.ts and half-close.ts do):
 *
 *   SMTPConnection._createParser   wrapped: on each parser it creates (the
 *                                  first one, and the TLS session's after
 *                                  STARTTLS) it wraps, per instance,
 *     parser.oncommand             a complete line is dispatched: the line's
 *                                  timer stops
 *     parser._write                after each chunk is processed: if a partial
 *                                  line is left over (`_remainder`, in command
 *                                  mode) and no timer runs, one starts
 *
 * When a timer expires with that line still unfinished, the session gets
 * `421 4.4.2 <hostname> Command line timeout` and is closed (smtp-server's
 * send() closes the connection after any 421). Time the server itself spends
 * (a handler that has not called back yet) never counts: the parser does not
 * take the next chunk until then, and a timer starts only once a chunk has
 * been processed.
 *
 * The limit and a notification hook are read from the server's options on
 * every line, so a reload applies to open sessions. These internals belong
 * to the pinned smtp-server version; test/smtp/command-timeout.test.ts fails
 * if an upgrade changes them.
 */
import type { Writable } from 'node:stream';
import type { SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { ERROR_CODES } from '../errors.js';

/** The server options this extension reads (set them beside smtp-server's own). */
export interface CommandTimeoutOptions {
  /** Longest a command line may take from its first byte to its line end; 0 or absent: no limit. */
  commandTimeoutMs?: number;
  /** Called when a session is closed for a slow command line, before the 421. */
  onCommandTimeout?: (session: SMTPServerSession) => void;
}

type WriteDone = (err?: Error | null) => void;

interface ParserInternals extends Writable {
  _dataMode: boolean;
  _remainder: string;
  isClosed: boolean;
  oncommand: (command: Buffer, callback?: () => void) => void;
  _write(chunk: Buffer, encoding: string, done: WriteDone): void;
  _sealgateLineTimer?: NodeJS.Timeout | undefined;
}

interface ConnectionInternals {
  _parser: ParserInternals | false;
  _closing: boolean;
  _closed: boolean;
  name: string;
  session: SMTPServerSession;
  _server: { options: CommandTimeoutOptions };
  send(code: number, data?: unknown, context?: unknown): void;
  _createParser(): ParserInternals;
}

const TIMEOUT = ERROR_CODES.SG_COMMAND_TIMEOUT;

function stopLineTimer(parser: ParserInternals): void {
  if (parser._sealgateLineTimer) clearTimeout(parser._sealgateLineTimer);
  parser._sealgateLineTimer = undefined;
}

/** True while this parser holds part of a command line and waits for the rest. */
function midLine(conn: ConnectionInternals, parser: ParserInternals): boolean {
  return conn._parser === parser && !parser.isClosed && !conn._closing && !conn._closed && !parser._dataMode && parser._remainder.length > 0;
}

function afterChunk(conn: ConnectionInternals, parser: ParserInternals): void {
  if (!midLine(conn, parser)) return stopLineTimer(parser);
  if (parser._sealgateLineTimer) return; // the line started earlier: its deadline stands
  const ms = Number(conn._server.options.commandTimeoutMs) || 0;
  if (ms <= 0) return;
  const timer = setTimeout(() => {
    parser._sealgateLineTimer = undefined;
    if (!midLine(conn, parser)) return;
    conn._server.options.onCommandTimeout?.(conn.session);
    conn.send(TIMEOUT.smtp.code, `${TIMEOUT.smtp.enhanced} ${conn.name} ${TIMEOUT.message}`);
  }, ms);
  timer.unref();
  parser._sealgateLineTimer = timer;
}

/** Wraps one parser of `conn`: a dispatched line stops its timer, a chunk that leaves a partial line starts one. */
function watchParser(conn: ConnectionInternals, parser: ParserInternals): ParserInternals {
  const oncommand = parser.oncommand;
  parser.oncommand = function (this: ParserInternals, command: Buffer, callback?: () => void) {
    stopLineTimer(parser);
    return oncommand.call(this, command, callback);
  };
  const write = parser._write;
  parser._write = function (this: ParserInternals, chunk: Buffer, encoding: string, done: WriteDone) {
    write.call(this, chunk, encoding, (err?: Error | null) => {
      afterChunk(conn, parser);
      done(err);
    });
  };
  // a closed parser (QUIT, STARTTLS hands over to a new one, the socket went away) has no line pending
  parser.once('close', () => stopLineTimer(parser));
  return parser;
}

let installed = false;

/** Installs the command line time limit into smtp-server (idempotent). */
export function installCommandTimeout(): void {
  if (installed) return;
  installed = true;
  const proto = (SMTPConnection as unknown as { prototype: ConnectionInternals }).prototype;
  const create = proto._createParser;
  proto._createParser = function (this: ConnectionInternals) {
    return watchParser(this, create.call(this));
  };
}
