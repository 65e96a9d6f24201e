/**
 * The daemon's heap growth flag (src/runtime/heap-growth.ts): set unless
 * node's own command line sets it (an operator's choice wins, 0 included).
 * What the flag does to memory is a bench figure (docs/performance.md,
 * "Memory"), never asserted here.
 */
import { describe, expect, it } from 'vitest';
import { DAEMON_HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/runtime/heap-growth.js';

describe('heapGrowthFlag', () => {
  it.each<[string, string[], string | undefined]>([
    ['no node options: the daemon sets its own', [], `--heap-growing-percent=${DAEMON_HEAP_GROWING_PERCENT}`],
    ['other node options do not matter', ['--enable-source-maps', '--max-old-space-size=2048'], `--heap-growing-percent=${DAEMON_HEAP_GROWING_PERCENT}`],
    ['the operator sets it: theirs wins', ['--heap-growing-percent=100'], undefined],
    ['0 (V8 picks the factor) is an operator choice too', ['--heap-growing-percent=0'], undefined],
    ['underscores are the same flag to V8', ['--heap_growing_percent=30'], undefined],
    ['a flag that only starts alike is another flag', ['--heap-growing-percentage=30'], `--heap-growing-percent=${DAEMON_HEAP_GROWING_PERCENT}`],
  ])('%s', (_name, execArgv, expected) => {
    expect(heapGrowthFlag(execArgv)).toBe(expected);
  });

  it('the percent given is the one set', () => {
    expect(heapGrowthFlag([], 25)).toBe('--heap-growing-percent=25');
  });
});
