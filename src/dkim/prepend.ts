/** A message stream with header fields (DKIM-Signature) put on top of it. */
import { Readable } from 'node:stream';

/**
 * The bytes of `header`, then those of `body()`. Destroying the result
 * destroys the body stream too (the generator's return reaches it), so a
 * transaction that fails half-way leaves no spool read stream open.
 */
export function prepend(header: Buffer, body: () => Readable): () => Readable {
  return () => {
    async function* bytes(): AsyncGenerator<Buffer> {
      yield header;
      yield* body();
    }
    return Readable.from(bytes(), { objectMode: false });
  };
}
