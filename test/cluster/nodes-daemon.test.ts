/**
 * `sealgate nodes` against a running gateway (SQLite, the built CLI): the
 * daemon registers itself at start — its id, host, listening address and
 * version — beats while it runs, holds the alerts job's lease while its
 * alert monitor runs, and at a clean stop is listed as stopped with its
 * leases given back.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodesReport } from '../../src/cli/commands/nodes.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
let setup: TestSetup;
let gw: RunningGateway | undefined;

beforeAll(async () => {
  // alerts to a local address (never delivered: delivery is off) so the monitor runs and asks for its lease
  setup = await setupGateway({ extra: { store: { heartbeat: '1s' }, alerts: { to: ['ops@example.com'], checkInterval: '1s' } } });
  gw = await startGateway(setup.configPath);
  await gw.waitForEvent('DAEMON_READY');
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

async function nodes(): Promise<NodesReport> {
  const r = await runCli(['-c', setup.configPath, 'nodes', '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as NodesReport;
}

describe('sealgate nodes with a running gateway', () => {
  it('lists the running node as live, with its address, version and the alerts lease; the text form says the same', async () => {
    const running = gw as RunningGateway;
    let report = await nodes();
    // the alert monitor's first pass takes the lease; wait for the pass after a beat
    for (let i = 0; i < 100 && report.jobs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      report = await nodes();
    }
    expect(report.heartbeatMs).toBe(1000);
    expect(report.nodes).toHaveLength(1);
    const node = report.nodes[0];
    expect(node).toMatchObject({ state: 'live', version: VERSION, hostname: hostname(), address: `127.0.0.1:${running.port}`, claimed: 0, stoppedAt: null });
    expect(node?.id).toMatch(new RegExp(`^[^/]+/${running.proc.pid}/[0-9a-f]{8}$`));
    expect(report.jobs).toEqual([{ name: 'alerts', node: node?.id, leaseUntil: expect.any(Number) as number }]);

    const text = await runCli(['-c', setup.configPath, 'nodes']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('1 node, 1 live (heartbeat every 1s; stale after three missed)');
    expect(text.stdout).toMatch(new RegExp(`${node?.id.replace(/[.]/g, '\\.')}\\s+live\\s+\\d+s ago`));
    expect(text.stdout).toMatch(/alerts\s+\S+\s+lease \d+s left/);
  });

  it('the heartbeat moves while it runs; a clean stop lists it as stopped and gives its leases back', async () => {
    const first = (await nodes()).nodes[0]?.heartbeatAt ?? 0;
    let later = first;
    for (let i = 0; i < 60 && later === first; i++) {
      await new Promise((r) => setTimeout(r, 100));
      later = (await nodes()).nodes[0]?.heartbeatAt ?? 0;
    }
    expect(later).toBeGreaterThan(first);
    expect(await (gw as RunningGateway).stop()).toBe(0);
    gw = undefined;
    const after = await nodes();
    expect(after.nodes.map((n) => n.state)).toEqual(['stopped']);
    expect(after.jobs).toEqual([]);
  });
});
