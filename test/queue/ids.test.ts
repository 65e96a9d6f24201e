import { describe, expect, it } from 'vitest';
import { generateQueueId, isQueueId, queueIdTime } from '../../src/queue/ids.js';

describe('queue ids', () => {
  it.each([
    [0, Buffer.alloc(10, 0), '00000000000000000000'],
    // expected value computed independently (Python, Crockford base32 of the ms timestamp)
    [Date.UTC(2026, 10, 24), Buffer.alloc(10, 31), '01M85DMB00ZZZZZZZZZZ'],
  ])('id for t=%i', (now, random, expected) => {
    const id = generateQueueId(now, () => random);
    expect(id).toBe(expected);
    expect(isQueueId(id)).toBe(true);
    expect(queueIdTime(id)).toBe(now);
  });

  it('sorts by time', () => {
    const a = generateQueueId(1_000, () => Buffer.alloc(10, 31));
    const b = generateQueueId(2_000, () => Buffer.alloc(10, 0));
    expect(a < b).toBe(true);
  });

  it.each(['', 'abc', '0000000000000000000I', '000000000000000000000'])('rejects %j', (text) => {
    expect(isQueueId(text)).toBe(false);
    expect(queueIdTime(text)).toBeUndefined();
  });
});
