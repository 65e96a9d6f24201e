/**
 * Two gateway nodes (the built daemon, two processes, two data
 * directories, one master key) on shared stores (shared-stores.ts), with a
 * loopback MX sink and a DNS zone pointing the given domains at it: the
 * fixture of the cluster tests. The nodes' config is the common part —
 * the loopback connector, the shared store and objects, DNS, delivery to
 * the sink with `may`, MTA-STS and key discovery off, the first node's
 * master key — with each test's additions merged over it (`delivery` key
 * by key). `sealgate db migrate` runs once; the first node starts (and
 * creates the master key) before the second.
 */
import { startDnsZone, type DnsZone } from './dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from './gateway.js';
import { startMxServer, type MxServer } from './mx-server.js';
import { startSharedStores, type SharedStores } from './shared-stores.js';

export interface TwoNodesOptions {
  /** The sink's loopback address, and how long it holds each DATA reply. */
  readonly sink: { readonly ip: string; readonly dataDelayMs?: number };
  /** Domains whose MX is the sink. */
  readonly domains: readonly string[];
  /** Key prefix of the nodes' objects in the bucket. */
  readonly objectsPrefix: string;
  /** Config added to the common part (top-level keys; `delivery` merged key by key); given the first node's setup for paths. */
  readonly extra?: (first: TestSetup, shared: SharedStores) => Record<string, unknown>;
  /** After a node started, before it is waited for ready (e.g. to wait for its console). */
  readonly started?: (gw: RunningGateway) => Promise<void>;
}

export interface TwoNodes {
  readonly shared: SharedStores;
  readonly mx: MxServer;
  readonly zone: DnsZone;
  readonly setups: readonly [TestSetup, TestSetup];
  readonly nodes: RunningGateway[];
  /** The end of each node's log, for a failure's message. */
  context(): string;
  stop(): Promise<void>;
}

/**
 * How often `mx` received each message of `run`, by the number in its
 * Message-ID (`<RUN-N@example.com>`): the load tests' count of deliveries
 * and duplicates.
 */
export function deliveriesOf(mx: MxServer, run: string): Map<number, number> {
  const counts = new Map<number, number>();
  const pattern = new RegExp(`Message-ID: <${run}-(\\d+)@example\\.com>`, 'i');
  for (const m of mx.received) {
    const n = pattern.exec(m.body.toString('latin1'));
    if (n) counts.set(Number(n[1]), (counts.get(Number(n[1])) ?? 0) + 1);
  }
  return counts;
}

export async function startTwoNodes(options: TwoNodesOptions): Promise<TwoNodes> {
  const shared = await startSharedStores();
  const mx = await startMxServer({ ip: options.sink.ip, port: 0, ...(options.sink.dataDelayMs !== undefined ? { dataDelayMs: options.sink.dataDelayMs } : {}) });
  const zone = await startDnsZone([
    ...options.domains.map((name) => ({ name, type: 'MX' as const, exchange: 'mx.sink.test', priority: 10 })),
    { name: 'mx.sink.test', type: 'A', address: options.sink.ip },
  ]);
  const setups = [await setupGateway({}), await setupGateway({})] as const;
  const [first] = setups;
  const { delivery, ...extra } = options.extra?.(first, shared) ?? {};
  for (const setup of setups) {
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        store: shared.store(),
        objects: shared.objects(options.objectsPrefix),
        dns: { servers: [zone.server] },
        delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', ...(delivery as Record<string, unknown> | undefined) },
        tls: { mtaSts: { enabled: false } },
        // one master key for the cluster: each node opens what the other sealed
        keys: { masterKeyFile: first.masterKeyFile, discovery: { wkd: false, dns: false } },
        ...extra,
      },
    });
  }
  const migrated = await runCli(['-c', first.configPath, 'db', 'migrate']);
  if (migrated.code !== 0 || migrated.stderr !== '') throw new Error(`db migrate: exit ${migrated.code}: ${migrated.stderr}`);
  const nodes: RunningGateway[] = [];
  for (const setup of setups) {
    const gw = await startGateway(setup.configPath);
    nodes.push(gw);
    await options.started?.(gw);
    await gw.waitForEvent('DAEMON_READY', 60_000);
  }
  return {
    shared,
    mx,
    zone,
    setups,
    nodes,
    context: () => nodes.map((gw, i) => `node ${i}: ${gw.stdout.slice(-1500)}`).join('\n'),
    async stop() {
      for (const gw of nodes) await gw.stop();
      await mx.close();
      await zone.close();
      for (const setup of setups) await setup.cleanup();
      await shared.stop();
    },
  };
}
