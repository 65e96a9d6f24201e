/** The claim's pure parts (src/queue/claim.ts): the fairness interleave and the node id. */
import { describe, expect, it } from 'vitest';
import { interleave, newNodeId } from '../../src/queue/claim.js';

describe('interleave', () => {
  const cases: [name: string, fresh: string[], retries: string[], expected: string[]][] = [
    ['both empty', [], [], []],
    ['fresh only', ['f1', 'f2'], [], ['f1', 'f2']],
    ['retries only', [], ['r1', 'r2'], ['r1', 'r2']],
    ['as many of each: alternating, fresh first', ['f1', 'f2'], ['r1', 'r2'], ['f1', 'r1', 'f2', 'r2']],
    ['more retries: the rest at the end', ['f1'], ['r1', 'r2', 'r3'], ['f1', 'r1', 'r2', 'r3']],
    ['more fresh: the rest at the end', ['f1', 'f2', 'f3'], ['r1'], ['f1', 'r1', 'f2', 'f3']],
  ];
  it.each(cases)('%s', (_name, fresh, retries, expected) => {
    expect(interleave(fresh, retries)).toEqual(expected);
  });
});

describe('newNodeId', () => {
  const cases: [name: string, host: string, pid: number, random: string, expected: string][] = [
    ['host, process and random part', 'gw1.example.org', 4711, '9f3a2c1b', 'gw1.example.org/4711/9f3a2c1b'],
    ['characters outside [A-Za-z0-9.-] replaced', 'gw 1/ä:x', 1, '00000001', 'gw_1___x/1/00000001'],
    ['an empty host name', '', 2, 'ffffffff', 'node/2/ffffffff'],
    ['a long host name cut at 100 characters', 'h'.repeat(300), 3, '01020304', `${'h'.repeat(100)}/3/01020304`],
  ];
  it.each(cases)('%s', (_name, host, pid, random, expected) => {
    expect(newNodeId(host, pid, Buffer.from(random, 'hex'))).toBe(expected);
  });

  it('differs between two processes on one host (random part)', () => {
    expect(newNodeId('gw1', 1)).not.toBe(newNodeId('gw1', 1));
  });
});
