/**
 * mapStreamError: the same bytes in order, a source's failure renamed, and
 * the source released when the reader stops.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { mapStreamError } from '../../src/stream/map-error.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('mapStreamError', () => {
  it('passes every chunk through in order; map is not called', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(`part ${i};`));
    let mapped = 0;
    const out = mapStreamError(Readable.from(parts), (e) => (mapped++, e));
    expect((await readAll(out)).equals(Buffer.concat(parts))).toBe(true);
    expect(mapped).toBe(0);
  });

  it("a source's failure part-way arrives renamed, after the bytes before it", async () => {
    const original = new TypeError('inside the library');
    const source = Readable.from(
      (async function* () {
        yield Buffer.from('first ');
        yield Buffer.from('second');
        throw original;
      })(),
    );
    const renamed = new Error('renamed', { cause: original });
    const got: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        got.push(chunk);
        done();
      },
    });
    await expect(pipeline(mapStreamError(source, (e) => (e === original ? renamed : e)), sink)).rejects.toBe(renamed);
    expect(Buffer.concat(got).toString()).toBe('first second');
  });

  it('destroying the result destroys the source, even before the first read', async () => {
    const source = new Readable({ read() {} });
    const out = mapStreamError(source, (e) => e);
    out.destroy();
    await new Promise((resolve) => out.once('close', resolve));
    expect(source.destroyed).toBe(true);
  });
});
