/**
 * Deterministic pseudo-random bytes for an injected `random(n)` port: a
 * SHA-256 counter stream from a seed. `given` records every buffer handed
 * out, so a test can check where the random values ended up.
 */
import { createHash } from 'node:crypto';

export function seededBytes(seed: string): { random: (n: number) => Buffer; given: Buffer[] } {
  let counter = 0;
  const given: Buffer[] = [];
  return {
    given,
    random: (n) => {
      const parts: Buffer[] = [];
      let have = 0;
      while (have < n) {
        const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
        parts.push(block);
        have += block.length;
      }
      const out = Buffer.concat(parts).subarray(0, n);
      given.push(Buffer.from(out));
      return out;
    },
  };
}
