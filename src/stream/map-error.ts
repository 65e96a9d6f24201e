/**
 * A readable stream whose failure is renamed: the same chunks as `source`,
 * in order and pulled as the reader asks (backpressure reaches `source`),
 * but an error of `source` arrives as `map(error)`. Lets the producer of a
 * stream give its failures their own name before a consumer that cannot
 * tell them apart (a spool write: its file-system errors vs. its data's)
 * sees them. Destroying the result destroys `source`.
 */
import { Readable } from 'node:stream';

export function mapStreamError(source: Readable, map: (err: unknown) => unknown): Readable {
  async function* run(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) yield chunk as Buffer;
    } catch (err) {
      throw map(err);
    }
  }
  const out = Readable.from(run(), { objectMode: false });
  // a reader that stops before the first read never starts run(): release the source here too
  out.once('close', () => source.destroy());
  return out;
}
