/**
 * CHUNKING / BDAT (RFC 3030) for smtp-server, which has no BDAT (its issue
 * #109). Exchange Online sends messages that contain bare line feeds only
 * with BDAT, and bounces them (550 5.6.11) at a smart host without CHUNKING.
 *
 * smtp-server stays the protocol engine; this module adds one command and a
 * byte-counting read mode to it, as small prototype extensions installed once:
 *
 *   SMTPConnection.handler_BDAT   the command (a `handler_*` method is how
 *                                 smtp-server dispatches every command, and
 *                                 `disabledCommands: ['BDAT']` turns it off)
 *   SMTPConnection.handler_EHLO   wrapped: adds CHUNKING when BDAT is enabled
 *   SMTPConnection.handler_DATA   wrapped: DATA inside a BDAT transaction → 503
 *   SMTPConnection.handler_RCPT   wrapped: RCPT inside a BDAT transaction → 503
 *                                 (onData has taken the envelope with the first
 *                                 chunk: a later recipient would get 250 and
 *                                 never be queued)
 *   SMTPConnection._resetSession  wrapped: RSET/EHLO abort a BDAT transaction
 *   SMTPStream._feedDataStream    wrapped: while a chunk is being read, exactly
 *                                 its size in bytes goes to the message
 *                                 stream, no dot-unstuffing, no terminator
 *
 * The message stream given to `onData` is the same kind of stream DATA gives
 * (with `sizeExceeded`), set as the connection's `_dataStream` so that
 * smtp-server destroys it if the client disconnects. The message therefore
 * takes the same streaming, encrypted, fsync'd spool path as DATA, and the
 * 250 for `BDAT n LAST` is sent only once onData has committed it.
 *
 * These internals belong to the pinned smtp-server version (package.json);
 * test/smtp/bdat-internals.test.ts fails loudly if an upgrade changes them.
 */
import { PassThrough } from 'node:stream';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { whenDrained } from '../stream/when-drained.js';

type Callback = () => void;
type SendFn = (code: number, data?: unknown, context?: unknown) => unknown;

/** A BDAT message stream: what onData receives. */
type MessageStream = PassThrough & { byteLength: number; sizeExceeded: boolean; chunked: true };

interface Reply {
  readonly code: number;
  readonly text: string;
}

/** One BDAT transaction (from the first chunk to LAST, RSET or an error). */
interface BdatTransaction {
  readonly stream: MessageStream;
  bytes: number;
  /** Set once a chunk failed: later chunks are read and discarded, and get this reply. */
  failed?: Reply | undefined;
  /** onData's verdict, once it has called back. */
  result?: Reply | undefined;
  onResult?: (() => void) | undefined;
}

/** The chunk being read by the parser. */
interface ChunkRead {
  remaining: number;
  /** Where the bytes go; undefined: read and discard. */
  readonly sink: MessageStream | undefined;
  readonly complete: (resume: Callback) => void;
}

interface ConnectionInternals {
  session: { envelope: { mailFrom: unknown; rcptTo: unknown[] } };
  _server: { options: { size?: number }; onData: (stream: MessageStream, session: unknown, cb: (err?: (Error & { responseCode?: number }) | null, message?: string) => void) => void };
  _parser: (StreamInternals & object) | false;
  _dataStream: unknown;
  _transactionCounter: number;
  _unrecognizedCommands: number;
  _sealgateBdat?: BdatTransaction | undefined;
  send: SendFn;
  _isSupported(command: string): boolean;
  _resetSession(): void;
  handler_EHLO(command: Buffer, callback: Callback): void;
  handler_DATA(command: Buffer, callback: Callback): void;
  handler_RCPT(command: Buffer, callback: Callback): void;
  handler_BDAT?: (command: Buffer, callback: Callback) => void;
}

interface StreamInternals {
  _dataMode: boolean;
  _sealgateChunk?: ChunkRead | undefined;
  _write(chunk: Buffer, encoding: string, done: (err?: Error | null) => void): void;
  _feedDataStream(chunk: Buffer, done: (err?: Error | null) => void): void;
}

// RFC 3030: "BDAT" SP chunk-size [ SP "LAST" ]; runs of SP and trailing SP tolerated, no other
// separator: the size decides where the next command starts, so a TAB, a bare CR, VT, FF or NBSP
// that a peer could read differently is refused
const BDAT_SYNTAX = /^BDAT +([0-9]{1,15})( +LAST)? *$/i;
const MAX_CHUNK = Number.MAX_SAFE_INTEGER;

/** Pure: parses a BDAT command line. */
export function parseBdat(line: string): { size: number; last: boolean } | undefined {
  const m = BDAT_SYNTAX.exec(line);
  if (!m) return undefined;
  const size = Number(m[1]);
  if (!Number.isSafeInteger(size) || size > MAX_CHUNK) return undefined;
  return { size, last: m[2] !== undefined };
}

function newMessageStream(): MessageStream {
  const stream = new PassThrough() as MessageStream;
  stream.byteLength = 0;
  stream.sizeExceeded = false;
  stream.chunked = true;
  return stream;
}

/** Starts reading `size` bytes of chunk data on the connection's parser. */
function readChunk(conn: ConnectionInternals, size: number, sink: MessageStream | undefined, complete: (resume: Callback) => void, callback: Callback): void {
  const parser = conn._parser;
  if (!parser) return callback();
  if (size === 0) {
    complete(callback);
    return;
  }
  parser._sealgateChunk = { remaining: size, sink, complete };
  // the parser hands whatever follows the command line to _feedDataStream
  parser._dataMode = true;
  callback();
}

function finishTransaction(conn: ConnectionInternals): void {
  conn._sealgateBdat = undefined;
  conn._dataStream = null;
  conn._transactionCounter++;
  conn._unrecognizedCommands = 0;
  conn._resetSession();
}

function handlerBdat(this: ConnectionInternals, command: Buffer, callback: Callback): void {
  const parsed = parseBdat(command.toString('latin1'));
  if (!parsed) {
    // without a size we cannot know how much data follows: the session cannot go on safely
    this.send(501, '5.5.4 Syntax: BDAT <size> [LAST]');
    return callback();
  }
  const { size, last } = parsed;
  const envelope = this.session.envelope;
  let tx = this._sealgateBdat;
  // refusals before the transaction exists: the chunk's bytes still follow and are discarded
  const refuse = (reply: Reply): void => {
    readChunk(this, size, undefined, (resume) => {
      this.send(reply.code, reply.text);
      resume();
    }, callback);
  };
  if (!tx) {
    if (!envelope.mailFrom) return refuse({ code: 503, text: '5.5.1 Error: need MAIL command' });
    if (!envelope.rcptTo.length) return refuse({ code: 503, text: '5.5.1 Error: need RCPT command' });
    const stream = newMessageStream();
    const started: BdatTransaction = { stream, bytes: 0 };
    tx = started;
    this._sealgateBdat = started;
    this._dataStream = stream;
    this._server.onData(stream, this.session, (err, message) => {
      started.result = err ? { code: err.responseCode ?? 450, text: err.message } : { code: 250, text: typeof message === 'string' ? message : '2.0.0 Ok: queued' };
      // a verdict before LAST (a storage error, say) fails the rest of the transaction
      if (!started.failed && err && !started.onResult) started.failed = started.result;
      const waiting = started.onResult;
      started.onResult = undefined;
      waiting?.();
    });
  }
  const current = tx;
  const maxBytes = Number(this._server.options.size) || Infinity;
  const overLimit = !current.failed && current.bytes + size > maxBytes;
  if (overLimit) {
    current.failed = { code: 552, text: `5.3.4 Message size exceeds fixed maximum message size of ${maxBytes} bytes` };
    current.stream.sizeExceeded = true;
  }
  const sink = current.failed ? undefined : current.stream;
  readChunk(this, size, sink, (resume) => {
    if (sink) {
      current.bytes += size;
      current.stream.byteLength = current.bytes;
    }
    if (!last) {
      const failed = current.failed;
      if (failed) this.send(failed.code, failed.text);
      else this.send(250, `2.0.0 ${size} octets received`);
      return resume();
    }
    // LAST: the message is complete; answer only once onData has decided
    const answer = (): void => {
      const reply = current.failed ?? current.result ?? { code: 451, text: '4.3.0 Local error in processing' };
      finishTransaction(this);
      this.send(reply.code, reply.text);
      resume();
    };
    if (!current.stream.writableEnded && !current.stream.destroyed) current.stream.end();
    if (current.result) answer();
    else current.onResult = answer;
  }, callback);
}

let installed = false;

/** Installs BDAT into smtp-server (idempotent). */
export function installBdat(): void {
  if (installed) return;
  installed = true;
  const conn = (SMTPConnection as unknown as { prototype: ConnectionInternals }).prototype;
  const stream = (SMTPStream as unknown as { prototype: StreamInternals }).prototype;

  conn.handler_BDAT = handlerBdat;

  const ehlo = conn.handler_EHLO;
  conn.handler_EHLO = function (this: ConnectionInternals, command: Buffer, callback: Callback) {
    if (!this._isSupported('BDAT')) return ehlo.call(this, command, callback);
    const send = this.send;
    this.send = function (this: ConnectionInternals, code: number, data?: unknown, context?: unknown) {
      return send.call(this, code, code === 250 && Array.isArray(data) ? [...(data as unknown[]), 'CHUNKING'] : data, context);
    };
    try {
      ehlo.call(this, command, callback);
    } finally {
      delete (this as Partial<ConnectionInternals>).send;
    }
  };

  const data = conn.handler_DATA;
  conn.handler_DATA = function (this: ConnectionInternals, command: Buffer, callback: Callback) {
    if (this._sealgateBdat) {
      // RFC 3030 §4.2: BDAT and DATA cannot be mixed in one transaction
      this.send(503, '5.5.1 Error: DATA not allowed after BDAT; send RSET');
      return callback();
    }
    data.call(this, command, callback);
  };

  const rcpt = conn.handler_RCPT;
  conn.handler_RCPT = function (this: ConnectionInternals, command: Buffer, callback: Callback) {
    if (this._sealgateBdat) {
      // the message is already on its way to the spool with the envelope of the first chunk
      this.send(503, '5.5.1 Error: RCPT not allowed after BDAT; send RSET');
      return callback();
    }
    rcpt.call(this, command, callback);
  };

  const reset = conn._resetSession;
  conn._resetSession = function (this: ConnectionInternals) {
    const tx = this._sealgateBdat;
    if (tx) {
      // RSET (or EHLO) in the middle of a BDAT transaction: the partial message is abandoned
      this._sealgateBdat = undefined;
      this._dataStream = null;
      const err = Object.assign(new Error('transaction reset before BDAT LAST'), { code: 'ECONNRESET' });
      tx.stream.destroy(tx.stream.listenerCount('error') ? err : undefined);
    }
    reset.call(this);
  };

  const feed = stream._feedDataStream;
  stream._feedDataStream = function (this: StreamInternals, chunk: Buffer, done: (err?: Error | null) => void) {
    const read = this._sealgateChunk;
    if (!read) return feed.call(this, chunk, done);
    const take = Math.min(read.remaining, chunk.length);
    const part = chunk.subarray(0, take);
    const rest = chunk.subarray(take);
    read.remaining -= take;
    const next = (): void => {
      if (read.remaining > 0) return done();
      this._sealgateChunk = undefined;
      this._dataMode = false;
      read.complete(() => (rest.length ? this._write(rest, 'buffer', done) : done()));
    };
    const sink = read.sink;
    if (!sink || part.length === 0 || sink.destroyed || sink.writableEnded) return next();
    if (sink.write(part)) return next();
    // backpressure: wait for the spool to take it (or for the stream to go away)
    whenDrained(sink, next);
  };
}
