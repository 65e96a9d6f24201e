/**
 * DATA: from the client's byte stream to a durable, encrypted, queued
 * message. The body is streamed (line-ending normalisation, trace headers,
 * size guard, encryption) into the spool; the checks that need the whole
 * message (size, header size, hop count, bare line endings) are made once it has been
 * drained; then the spool file is fsync'd into place (or, for a small
 * message, its encrypted content joins the transaction as a row) and the
 * queue rows and the audit event commit in one transaction. Only after that commit does the
 * caller answer 250.
 */
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { maybeCommitted, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { SealgateError } from '../errors.js';
import { appendAuditAtCommit } from '../audit/log.js';
import type { AuditEventData } from '../audit/events.js';
import type { Spool } from '../spool/spool.js';
import { insertQueuedMessage, messageFactsRow, type MessageFactsRow, type QueuedMessage } from '../queue/store.js';
import { HeaderStage } from './header-stage.js';
import { LineEndingStream, type BareLineEndingMode } from './line-endings.js';
import { buildMessageIdHeader, buildReceivedHeader, type ReceivedInfo } from './trace-headers.js';

/** Counts input bytes and stops passing data on once the limit is passed. */
class SizeGuard extends Transform {
  bytes = 0;
  exceeded = false;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) this.exceeded = true;
    if (!this.exceeded) this.push(chunk);
    done();
  }
}

/** Reads and drops the rest of the session's DATA stream. */
function drain(stream: Readable, from: PassThrough): Promise<void> {
  stream.unpipe(from);
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.resume();
  });
}

export interface AcceptLimits {
  readonly maxMessageBytes: number;
  readonly maxHeaderBytes: number;
  /** Received fields allowed, ours included; more: 554 5.4.6 (a loop). */
  readonly maxReceivedHeaders: number;
  readonly dataTimeoutMs: number;
  readonly bareLineEndings: BareLineEndingMode;
}

export interface AcceptInput {
  readonly queueId: string;
  readonly stream: Readable & { sizeExceeded?: boolean };
  readonly received: Omit<ReceivedInfo, 'queueId'>;
  readonly hostname: string;
  /** Message row fields known from the session. */
  readonly envelope: Omit<QueuedMessage, 'id' | 'size' | 'spoolKeyId' | 'bareLineEndings' | 'createdAt'>;
  readonly sessionId: string;
  /** A rate-limit or burst hold: the recipients start held, and these audit events commit with the queue rows. */
  readonly hold?: readonly AuditEventData<'ingress:rate_limited'>[] | undefined;
  /** The rate-limit and burst counts this message adds (src/smtp/sender-limits.ts), written in the transaction that queues it. */
  readonly count?: ((tx: SqlQueryable, now: number) => Promise<void>) | undefined;
}

export interface AcceptDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly now: () => number;
  readonly spoolKeyId: () => string;
  /** This node's id (nodes.id), recorded on the message: it inspects and archives what it accepted. */
  readonly nodeId?: string | undefined;
}

export interface Accepted {
  readonly queueId: string;
  readonly size: number;
  readonly bareLineEndings: number;
  /** Its messages row's facts as committed (for the stages that take it next, without reading it back). */
  readonly facts: MessageFactsRow;
}

/**
 * Resolves once the message is queued; rejects with a SealgateError whose
 * `smtp` reply the session sends. Always drains `stream` (or destroys it on
 * timeout) and never leaves a spool file behind on failure.
 */
export async function acceptMessage(input: AcceptInput, limits: AcceptLimits, deps: AcceptDeps): Promise<Accepted> {
  const guard = new SizeGuard(limits.maxMessageBytes);
  const lineEndings = new LineEndingStream();
  const headers = new HeaderStage({
    prepend: buildReceivedHeader({ ...input.received, queueId: input.queueId }),
    messageIdHeader: buildMessageIdHeader(input.queueId, input.hostname),
    maxHeaderBytes: limits.maxHeaderBytes,
    maxReceivedHeaders: limits.maxReceivedHeaders,
  });
  let spooledBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      spooledBytes += chunk.length;
      done(null, chunk);
    },
  });

  const timer = setTimeout(() => {
    guard.destroy(new SealgateError('SG_DATA_TIMEOUT', { detail: { timeoutMs: limits.dataTimeoutMs } }));
  }, limits.dataTimeoutMs);
  timer.unref();

  // The session's stream is piped in rather than put in the pipeline, so a
  // spool failure (ENOSPC, EIO) does not destroy it: it is drained to the end
  // of DATA and the refusal is the reply to the whole transfer.
  const entry = new PassThrough();
  // the spool pipeline reports entry's errors; this covers the moment before it is attached
  entry.on('error', () => undefined);
  input.stream.pipe(entry);
  // a source that closes without ending (the client went away) fails the write, so the
  // partial spool file is removed instead of waiting for an end that never comes
  const onSourceClose = (): void => {
    if (!input.stream.readableEnded) entry.destroy(new SealgateError('SG_CLIENT_GONE'));
  };
  const onSourceError = (err: Error): void => {
    entry.destroy(new SealgateError('SG_CLIENT_GONE', { cause: err }));
  };
  input.stream.once('close', onSourceClose);
  // stays attached: an error after the write (while draining) must not become an uncaught one
  input.stream.on('error', onSourceError);
  let pending;
  try {
    pending = await deps.spool.write(input.queueId, entry, [guard, lineEndings, headers, counter]);
  } catch (err) {
    clearTimeout(timer);
    if (err instanceof SealgateError && err.code === 'SG_DATA_TIMEOUT') {
      // a stalled transfer is not drained: the session is answered 421 and closed
      input.stream.unpipe(entry);
      input.stream.destroy();
    } else {
      await drain(input.stream, entry);
    }
    throw err;
  } finally {
    clearTimeout(timer);
    input.stream.off('close', onSourceClose);
  }

  const refusal = guard.exceeded || input.stream.sizeExceeded
    ? new SealgateError('SG_MESSAGE_TOO_BIG', { message: `Message size exceeds fixed maximum message size of ${limits.maxMessageBytes} bytes` })
    : headers.headerTooBig
      ? new SealgateError('SG_HEADER_TOO_BIG', { message: `Message header size exceeds limit of ${limits.maxHeaderBytes} bytes` })
      : headers.tooManyHops
        ? new SealgateError('SG_TOO_MANY_HOPS', { detail: { received: headers.receivedCount, limit: limits.maxReceivedHeaders } })
        : limits.bareLineEndings === 'reject' && lineEndings.bareCount > 0
          ? new SealgateError('SG_BARE_LINE_ENDING')
          : undefined;
  if (refusal) {
    await pending.discard();
    throw refusal;
  }

  // a file is made durable first (fsync, rename, directory fsync); small content instead commits with the rows below
  if (!pending.inline) await pending.commit();
  const createdAt = deps.now();
  const message: QueuedMessage = {
    ...input.envelope,
    id: input.queueId,
    createdAt,
    size: spooledBytes,
    spoolKeyId: deps.spoolKeyId(),
    bareLineEndings: lineEndings.bareCount,
    held: input.hold !== undefined && input.hold.length > 0,
    acceptedBy: deps.nodeId,
  };
  try {
    await deps.db.transaction(async (tx) => {
      // the rows and the inline content in one statement on SQLite, written with the group's COMMIT (src/queue/store.ts)
      await insertQueuedMessage(tx, message, pending.inline, { atCommit: true });
      await appendAuditAtCommit(
        tx,
        {
          type: 'ingress:message_accepted',
          data: {
            queueId: message.id,
            sessionId: input.sessionId,
            connector: message.connector,
            sender: message.sender,
            recipients: message.recipients.map((r) => r.address),
            size: message.size,
          },
        },
        createdAt,
      );
      for (const data of input.hold ?? []) await appendAuditAtCommit(tx, { type: 'ingress:rate_limited', data: { ...data, queueId: message.id } }, createdAt);
      // the shared count rows: locked in key order by every accepting transaction (the audit events go with the COMMIT on
      // PostgreSQL, whose chain lock is then taken last and waits for no row lock)
      await input.count?.(tx, createdAt);
      // keyed by the new message: it reads no row another transaction writes (the count rows are upserts, whole by
      // themselves), so the group commit runs it beside the verdicts and delivery records of other messages
    }, { rerunnable: true, key: message.id });
  } catch (err) {
    // a COMMIT whose answer was lost may have queued it: the content stays (the client is told 451 and may send it again)
    if (!maybeCommitted(err)) await pending.discard();
    throw new SealgateError('SG_STORAGE_FAILED', { cause: err, detail: { step: 'queue-commit' } });
  }
  return { queueId: input.queueId, size: spooledBytes, bareLineEndings: lineEndings.bareCount, facts: messageFactsRow(message) };
}
