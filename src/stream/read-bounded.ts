/**
 * Reads a stream into one buffer, up to `maxBytes`: undefined when it holds
 * more. The stream is destroyed either way (a reader that stops early must
 * not leave its source paused with a descriptor open).
 */
import type { Readable } from 'node:stream';

export async function readBounded(stream: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      total += b.length;
      if (total > maxBytes) return undefined;
      chunks.push(b);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, total);
}
