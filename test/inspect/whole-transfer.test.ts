/**
 * wholeForTransfer: what the inspection pool transfers to its thread for a
 * message sent in one piece. A chunk alone in its memory is sent as it is
 * (no copy of the message); anything sharing memory, or in several chunks,
 * is copied — transferring would take memory from whatever else uses it.
 */
import { describe, expect, it } from 'vitest';
import { wholeForTransfer } from '../../src/inspect/inspect-pool.js';

const owned = (text: string): Buffer => {
  // memory of its own, as a decryption of more than Node's pool size returns
  const b = Buffer.from(new ArrayBuffer(text.length));
  b.write(text, 'latin1');
  return b;
};

describe('wholeForTransfer', () => {
  it.each<{ name: string; chunks: () => Buffer[]; sameMemory: boolean }>([
    { name: 'one chunk alone in its memory: itself', chunks: () => [owned('x'.repeat(5000))], sameMemory: true },
    { name: "one small chunk from Node's shared pool: copied", chunks: () => [Buffer.from('hello pool')], sameMemory: false },
    { name: 'one chunk viewing part of a larger memory: copied', chunks: () => [owned('abcdefgh').subarray(2, 6)], sameMemory: false },
    { name: 'one chunk viewing the end of its memory: copied', chunks: () => [owned('abcdefgh').subarray(1)], sameMemory: false },
    { name: 'several chunks: copied into one', chunks: () => [owned('abc'), owned('def'), Buffer.from('ghi')], sameMemory: false },
    { name: 'one chunk on shared memory: copied', chunks: () => [Buffer.from(new SharedArrayBuffer(4))], sameMemory: false },
    { name: 'nothing: an empty copy', chunks: () => [], sameMemory: false },
  ])('$name', ({ chunks, sameMemory }) => {
    const parts = chunks();
    const expected = Buffer.concat(parts);
    const whole = wholeForTransfer(parts, expected.length);
    expect(Buffer.from(whole).equals(expected)).toBe(true);
    expect(whole.buffer instanceof ArrayBuffer).toBe(true);
    if (sameMemory) expect(whole).toBe(parts[0]);
    else {
      // its own memory, which transferring cannot take from anything else
      expect(parts.some((p) => p.buffer === whole.buffer)).toBe(false);
      expect(whole.byteLength).toBe(whole.buffer.byteLength);
    }
  });

  it('a pooled chunk is left usable after its copy is transferred', () => {
    const pooled = Buffer.from('still here');
    const neighbour = Buffer.from('the pool neighbour');
    const whole = wholeForTransfer([pooled], pooled.length);
    structuredClone(whole, { transfer: [whole.buffer] });
    expect(whole.byteLength).toBe(0);
    expect(pooled.toString()).toBe('still here');
    expect(neighbour.toString()).toBe('the pool neighbour');
  });
});
