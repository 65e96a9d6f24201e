/**
 * src/stream/chain.ts against Node's own `stream/promises` pipeline, which it
 * stands in for on the spool's write path: for each way a chain can end —
 * done, an error in any of its streams, a stream destroyed before it ended
 * (a client gone in the middle of DATA), a sink that pushes back — the same
 * outcome, the same error, the same streams destroyed, the same bytes.
 */
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { chain } from '../../src/stream/chain.js';

interface Chain {
  readonly source: Readable;
  readonly stages: Transform[];
  readonly sink: Writable;
  readonly received: () => Buffer;
}

/** A source that gives `chunks` over several turns of the event loop, then ends (or fails / is destroyed, as `end` says). */
function source(chunks: number, end: 'end' | 'error' | 'destroy'): Readable {
  let sent = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (sent < chunks) this.push(Buffer.alloc(1024, 0x41 + (sent++ % 26)));
        else if (end === 'end') this.push(null);
        else if (end === 'error') this.destroy(new Error('source failed'));
        else this.destroy();
      });
    },
  });
}

function stage(failAt?: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (++seen === failAt) return done(new Error('stage failed'));
      done(null, chunk);
    },
  });
}

/** A sink taking one chunk every turn (highWaterMark 1 KiB: it pushes back), failing at chunk `failAt`. */
function sink(failAt?: number): { sink: Writable; received: () => Buffer } {
  const parts: Buffer[] = [];
  let seen = 0;
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, done) {
      if (++seen === failAt) return done(new Error('sink failed'));
      parts.push(chunk);
      setImmediate(done);
    },
  });
  return { sink: out, received: () => Buffer.concat(parts) };
}

type Case = [string, () => Chain];

const cases: Case[] = [
  ['every stream ends: the bytes arrive', () => ({ source: source(40, 'end'), stages: [stage(), new PassThrough()], ...sink() })],
  ['no stage', () => ({ source: source(5, 'end'), stages: [], ...sink() })],
  ['the source fails', () => ({ source: source(5, 'error'), stages: [stage()], ...sink() })],
  ['the source is destroyed before it ends (a client gone in DATA)', () => ({ source: source(5, 'destroy'), stages: [stage(), stage()], ...sink() })],
  ['a stage fails', () => ({ source: source(20, 'end'), stages: [new PassThrough(), stage(3)], ...sink() })],
  ['the sink fails', () => ({ source: source(20, 'end'), stages: [stage()], ...sink(4) })],
];

async function outcome(run: (c: Chain) => Promise<void>, make: () => Chain): Promise<unknown> {
  const c = make();
  const result = await run(c).then(
    () => 'resolved',
    (err: NodeJS.ErrnoException) => `rejected: ${err.code ?? ''} ${err.message}`,
  );
  // what the streams are once it settled (a turn later, as destroy completes asynchronously)
  await new Promise((r) => setImmediate(r));
  return {
    result,
    destroyed: [c.source, ...c.stages, c.sink].map((s) => s.destroyed || (s as Writable).writableFinished),
    bytes: c.received().length,
  };
}

describe('chain', () => {
  it.each(cases)('%s: as pipeline', async (_name, make) => {
    const theirs = await outcome((c) => pipeline([c.source, ...c.stages, c.sink]), make);
    const ours = await outcome((c) => chain(c.source, c.stages, c.sink), make);
    expect(ours).toEqual(theirs);
  });

  it('a sink that pushes back gets every byte in order', async () => {
    const c = { source: source(200, 'end'), stages: [stage()], ...sink() };
    await chain(c.source, c.stages, c.sink);
    const got = c.received();
    expect(got.length).toBe(200 * 1024);
    for (let i = 0; i < 200; i++) expect(got[i * 1024]).toBe(0x41 + (i % 26));
  });

  it('an error a stream emits after the chain settled is not an uncaught error', async () => {
    const c = { source: source(3, 'end'), stages: [new PassThrough()], ...sink() };
    await chain(c.source, c.stages, c.sink);
    const uncaught: unknown[] = [];
    const note = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', note);
    try {
      (c.stages[0] as PassThrough).destroy(new Error('late'));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('uncaughtException', note);
    }
    expect(uncaught).toEqual([]);
  });
});
