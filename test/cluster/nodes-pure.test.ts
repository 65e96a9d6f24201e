/**
 * The pure parts of `sealgate nodes`: a node's state from its heartbeat,
 * durations as the listing shows them, and the text form.
 */
import { describe, expect, it } from 'vitest';
import { ago, formatNodes } from '../../src/cli/commands/nodes.js';
import { nodeState, type NodeState } from '../../src/cluster/nodes.js';

describe('nodeState', () => {
  it.each<[string, number, number | null, number, NodeState]>([
    ['a beat just now', 1000, null, 1000, 'live'],
    ['three intervals without a beat: still live', 0, null, 30_000, 'live'],
    ['past three intervals: stale', 0, null, 30_001, 'stale'],
    ['stopped cleanly, however recent', 1000, 1000, 1000, 'stopped'],
    ['a clock step back: live', 5000, null, 1000, 'live'],
  ])('%s', (_what, heartbeatAt, stoppedAt, now, expected) => {
    expect(nodeState(heartbeatAt, stoppedAt, now, 10_000)).toBe(expected);
  });
});

describe('ago', () => {
  it.each<[number, string]>([
    [-5, '0s'],
    [0, '0s'],
    [119_999, '119s'],
    [120_000, '2m'],
    [7_199_999, '119m'],
    [7_200_000, '2h'],
    [172_800_000, '2d'],
  ])('%i ms → %s', (ms, text) => {
    expect(ago(ms)).toBe(text);
  });
});

describe('formatNodes', () => {
  const at = Date.UTC(2026, 11, 6, 12);
  it('lists the nodes in columns, live first as given, and who holds each job', () => {
    const text = formatNodes({
      at,
      heartbeatMs: 10_000,
      nodes: [
        { id: 'gw1/100/0a0b0c0d', hostname: 'gw1', address: '0.0.0.0:25', version: '1.2.3', startedAt: at - 3_600_000, heartbeatAt: at - 4000, stoppedAt: null, state: 'live', claimed: 12 },
        { id: 'gw2/200/01020304', hostname: 'gw2', address: '', version: '1.2.3', startedAt: at - 7_200_000, heartbeatAt: at - 600_000, stoppedAt: null, state: 'stale', claimed: 3 },
      ],
      jobs: [
        { name: 'alerts', node: 'gw1/100/0a0b0c0d', leaseUntil: at + 25_000 },
        { name: 'tlsrpt-reports', node: 'gw2/200/01020304', leaseUntil: at - 300_000 },
      ],
    });
    expect(text.split('\n')).toEqual([
      '2 nodes, 1 live (heartbeat every 10s; stale after three missed)',
      '',
      'NODE              STATE  HEARTBEAT  UP   VERSION  CLAIMED  HOST  LISTENING',
      'gw1/100/0a0b0c0d  live   4s ago     60m  1.2.3         12  gw1   0.0.0.0:25',
      'gw2/200/01020304  stale  10m ago    -    1.2.3          3  gw2   -',
      '',
      'one-at-a-time jobs:',
      '  alerts          gw1/100/0a0b0c0d  lease 25s left',
      '  tlsrpt-reports  gw2/200/01020304  lease ran out 5m ago',
      '',
    ]);
  });

  it('no node and no job yet', () => {
    expect(formatNodes({ at, heartbeatMs: 10_000, nodes: [], jobs: [] })).toBe('0 nodes, 0 live (heartbeat every 10s; stale after three missed)\n\none-at-a-time jobs:\n  none held yet\n');
  });
});
