/**
 * `stream/promises` `pipeline` for a chain of Node streams, without its
 * AbortController: Node's pipeline aborts one at the end of every run, which
 * makes a DOMException with a captured stack each time — about 20 µs of the
 * main thread per message on the spool's write path (measured: a 2 KB chain
 * of four streams 28 – 30 µs through pipeline, 10 – 12 µs through this;
 * docs/performance.md, round nine).
 *
 * The same contract as pipeline for what the spool needs: the streams are
 * piped in order (backpressure as `pipe` gives it); the promise resolves once
 * the last one has finished; the first error of any stream, or a stream that
 * closes before it has ended (ERR_STREAM_PREMATURE_CLOSE, as when a client
 * disconnects in the middle of DATA and smtp-server destroys the message
 * stream), destroys every stream with that error and rejects with it. Each
 * stream is watched with `stream.finished`, Node's own end-of-stream test.
 */
import { finished, type Readable, type Transform, type Writable } from 'node:stream';

/** `source` piped through `stages` into `sink`; see the file comment. */
export function chain(source: Readable, stages: readonly Transform[], sink: Writable): Promise<void> {
  const streams = [source, ...stages, sink];
  return new Promise((resolve, reject) => {
    let settled = false;
    // the watchers stay: an error a stream emits later (one destroyed here, or after the sink finished) still has a
    // listener, and comes here to be ignored instead of reaching the process as an uncaught 'error'
    const settle = (err?: Error | null): void => {
      if (settled) return;
      settled = true;
      if (err) {
        for (const s of streams) if (!s.destroyed) s.destroy(err);
        reject(err);
      } else resolve();
    };
    let from: Readable = source;
    // every stream but the sink is watched as a readable (it must end), the sink as a writable (it must finish)
    finished(source, { writable: false }, (err) => (err ? settle(err) : undefined));
    for (const stage of stages) {
      from = from.pipe(stage);
      finished(stage, { writable: false }, (err) => (err ? settle(err) : undefined));
    }
    from.pipe(sink);
    finished(sink, { readable: false }, (err) => settle(err));
  });
}
