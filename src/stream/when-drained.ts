/**
 * Waiting for a writable stream that refused more (`write` returned false):
 * `next` runs once, when it drains or closes, whichever comes first. A
 * stream the application destroys never drains, it only closes; both
 * listeners go when either fires.
 */
import type { Writable } from 'node:stream';

export function whenDrained(stream: Writable, next: () => void): void {
  const resume = (): void => {
    stream.off('drain', resume);
    stream.off('close', resume);
    next();
  };
  stream.on('drain', resume);
  stream.on('close', resume);
}
