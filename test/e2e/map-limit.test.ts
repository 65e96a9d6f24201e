import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/e2e/map-limit.js';

describe('mapLimit', () => {
  it.each([
    [[], 3],
    [[1], 3],
    [[1, 2, 3, 4, 5, 6, 7], 3],
    [[1, 2, 3], 10],
    [[1, 2, 3], 0],
  ])('%j with limit %i: results in order, never more than the limit running', async (items, limit) => {
    let running = 0;
    let most = 0;
    const out = await mapLimit(items, limit, async (x, i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return `${i}:${x * 2}`;
    });
    expect(out).toEqual(items.map((x, i) => `${i}:${x * 2}`));
    expect(most).toBeLessThanOrEqual(Math.max(1, limit));
  });

  it('a failure rejects the whole', async () => {
    await expect(mapLimit([1, 2, 3], 2, async (x) => (x === 2 ? Promise.reject(new Error('no')) : x))).rejects.toThrow('no');
  });
});
