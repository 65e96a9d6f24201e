/** Small stream and promise helpers for the object store tests. */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';

/** Everything an async iterable yields (a listing), in order. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const k of it) out.push(k);
  return out;
}

/** The error `p` rejects with, or the string 'no error'. */
export async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'no error',
    (e: unknown) => e,
  );
}

/** A source that sends `before` random bytes (64 KiB at a time, minding backpressure) and then fails. */
export function failingSource(before: number): PassThrough {
  const src = new PassThrough();
  src.on('error', () => undefined);
  let sent = 0;
  const pump = (): void => {
    if (sent >= before) {
      src.destroy(new Error('source failed'));
      return;
    }
    const n = Math.min(64 * 1024, before - sent);
    sent += n;
    if (src.write(randomBytes(n))) setImmediate(pump);
    else src.once('drain', pump);
  };
  setImmediate(pump);
  return src;
}
