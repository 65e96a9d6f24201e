import { describe, expect, it } from 'vitest';
import { FreeSpaceProbe, hasRoomFor, type FreeSpaceInput } from '../../src/spool/free-space.js';

const MiB = 1024 * 1024;

describe('hasRoomFor', () => {
  const cases: [string, FreeSpaceInput, boolean][] = [
    ['plenty of space, undeclared size', { availableBytes: 10_000 * MiB, minFreeBytes: 64 * MiB, declaredSize: undefined, maxMessageBytes: 150 * MiB }, true],
    ['undeclared size counts a quarter of the maximum', { availableBytes: 64 * MiB + 37.5 * MiB, minFreeBytes: 64 * MiB, declaredSize: undefined, maxMessageBytes: 150 * MiB }, true],
    ['one byte short for an undeclared message', { availableBytes: 64 * MiB + 37.5 * MiB - 1, minFreeBytes: 64 * MiB, declaredSize: undefined, maxMessageBytes: 150 * MiB }, false],
    ['declared small message fits where an undeclared would not', { availableBytes: 70 * MiB, minFreeBytes: 64 * MiB, declaredSize: 1 * MiB, maxMessageBytes: 150 * MiB }, true],
    ['declared message larger than the headroom', { availableBytes: 70 * MiB, minFreeBytes: 64 * MiB, declaredSize: 7 * MiB, maxMessageBytes: 150 * MiB }, false],
    ['exactly minFreeBytes left after the message', { availableBytes: 65 * MiB, minFreeBytes: 64 * MiB, declaredSize: 1 * MiB, maxMessageBytes: 150 * MiB }, true],
    ['below the floor already', { availableBytes: 10 * MiB, minFreeBytes: 64 * MiB, declaredSize: 0, maxMessageBytes: 150 * MiB }, false],
    ['no floor, no space', { availableBytes: 0, minFreeBytes: 0, declaredSize: 0, maxMessageBytes: 1024 }, true],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(hasRoomFor(input)).toBe(expected);
  });
});

describe('FreeSpaceProbe', () => {
  it('multiplies available blocks by block size and caches the reading for cacheMs', async () => {
    let clock = 1000;
    let calls = 0;
    let blocks = 100;
    const probe = new FreeSpaceProbe('/spool', () => clock, async (path) => {
      expect(path).toBe('/spool');
      calls++;
      return { bavail: BigInt(blocks), bsize: 4096 };
    }, 500);
    expect(await probe.availableBytes()).toBe(409_600);
    blocks = 1;
    clock += 499;
    expect(await probe.availableBytes()).toBe(409_600);
    clock += 1;
    expect(await probe.availableBytes()).toBe(4096);
    expect(calls).toBe(2);
  });
});
