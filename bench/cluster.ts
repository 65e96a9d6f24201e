/**
 * The cluster part of `npm run bench` (issue 19's sizing figures): the
 * relay load (smtp-source, 2 KB, BENCH_CLUSTER messages, default BENCH_2K)
 * end to end through
 *   (a) one node on PostgreSQL and an S3-compatible store, and
 *   (b) two nodes on them (two processes, one master key), the load split
 *       between them (half the sessions each),
 * beside (c) one node on SQLite from the relay part of the same run, when
 * it ran. PostgreSQL is the tests' private server (test/helpers/postgres.ts,
 * fsync and synchronous_commit on) and the object store s3rver
 * (test/helpers/s3-server.ts) — both on this machine, sharing its cores
 * with the nodes: the figures show what the design costs and where it
 * stops scaling on one machine, not what a cluster of machines reaches.
 * Per node: messages accepted per second (every 250), and end to end (until
 * smtp-sink has them all).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startDnsZone, type DnsZone } from '../test/helpers/dns-zone.js';
import { runCli, startGateway, type RunningGateway, type TestSetup } from '../test/helpers/gateway.js';
import { freePort } from '../test/helpers/postfix.js';
import { startSharedStores, type SharedStores } from '../test/helpers/shared-stores.js';
import { FROM, SESSIONS, SINK_IP, SIZES, seconds, startSink, waitUntil } from './load.js';
import { relayGatewaySetup } from './relay-setup.js';
import { rateOf, type Figures, type Rate } from './report.js';

const run = promisify(execFile);
const MESSAGES = Number(process.env.BENCH_CLUSTER ?? SIZES[0]?.count ?? 2000);
const BYTES = 2 * 1024;
const TO = 'bob@bench.test';

/** smtp-source into one node with `sessions` sessions; resolves when every message was answered. */
async function source(port: number, count: number, sessions: number): Promise<void> {
  await run('smtp-source', ['-d', '-s', String(sessions), '-m', String(count), '-l', String(BYTES), '-f', FROM, '-t', TO, `127.0.0.1:${port}`], { maxBuffer: 1 << 24 });
}

async function nodeSetup(zone: DnsZone, sinkPort: number, shared: SharedStores, masterKeyFile: string | undefined): Promise<TestSetup> {
  return relayGatewaySetup(zone.server, sinkPort, { perDomainConcurrency: 20 }, {
    store: shared.store(),
    objects: shared.objects('bench/'),
    tls: { mtaSts: { enabled: false } },
    // the second node shares the first's master key: it reads the content the other encrypted
    ...(masterKeyFile ? { keys: { masterKeyFile, discovery: { wkd: false } } } : {}),
  });
}

/** One load through `nodes` (sessions split between them) until the sink has `before + MESSAGES`. */
async function measure(nodes: readonly RunningGateway[], sink: { readonly count: number }): Promise<{ ingress: Rate; endToEnd: Rate }> {
  const before = sink.count;
  const start = process.hrtime.bigint();
  const share = Math.floor(MESSAGES / nodes.length);
  await Promise.all(nodes.map((gw, i) => source(gw.port, i === nodes.length - 1 ? MESSAGES - share * (nodes.length - 1) : share, Math.max(1, Math.round(SESSIONS / nodes.length)))));
  const accepted = seconds(start);
  await waitUntil(async () => sink.count >= before + MESSAGES, 1_800_000, `${MESSAGES} messages at the sink`, 100);
  return { ingress: rateOf(MESSAGES, accepted), endToEnd: rateOf(MESSAGES, seconds(start)) };
}

export async function clusterPart(figures: Figures): Promise<string[]> {
  const shared = await startSharedStores();
  const zone = await startDnsZone([
    { name: 'bench.test', type: 'MX', exchange: 'sink.bench.test', priority: 10 },
    { name: 'sink.bench.test', type: 'A', address: SINK_IP },
  ]);
  const sinkPort = await freePort(SINK_IP);
  const sink = await startSink(sinkPort);
  const setups: TestSetup[] = [];
  const nodes: RunningGateway[] = [];
  try {
    const a = await nodeSetup(zone, sinkPort, shared, undefined);
    setups.push(a);
    const migrated = await runCli(['-c', a.configPath, 'db', 'migrate']);
    if (migrated.code !== 0) throw new Error(`db migrate: ${migrated.stderr}`);
    nodes.push(await startGateway(a.configPath));
    await nodes[0]?.waitForEvent('DAEMON_READY', 60_000);
    process.stderr.write(`cluster: one node on PostgreSQL, ${MESSAGES} × 2 KB\n`);
    const oneNode = await measure(nodes, sink);

    const b = await nodeSetup(zone, sinkPort, shared, a.masterKeyFile);
    setups.push(b);
    nodes.push(await startGateway(b.configPath));
    await nodes[1]?.waitForEvent('DAEMON_READY', 60_000);
    process.stderr.write(`cluster: two nodes on PostgreSQL, ${MESSAGES} × 2 KB\n`);
    const twoNodes = await measure(nodes, sink);

    figures.cluster = { messages: MESSAGES, oneNode, twoNodes };
    const sqlite = figures.relay?.['2 KB']?.sealgate;
    const fmt = (r: Rate): string => r.perSecond.toFixed(0);
    return [
      `## cluster: ${MESSAGES} × 2 KB end to end (smtp-source → node(s) → smtp-sink), ${SESSIONS} sessions in all`,
      '',
      'PostgreSQL (fsync and synchronous_commit on) and s3rver run on this same machine: every column shares its cores.',
      '',
      '| setup | accepted msg/s | end to end msg/s |',
      '| --- | --- | --- |',
      ...(sqlite ? [`| one node, SQLite (relay part) | – | ${fmt(sqlite)} |`] : []),
      `| one node, PostgreSQL + S3 | ${fmt(oneNode.ingress)} | ${fmt(oneNode.endToEnd)} |`,
      `| two nodes, PostgreSQL + S3 | ${fmt(twoNodes.ingress)} | ${fmt(twoNodes.endToEnd)} |`,
    ];
  } finally {
    for (const gw of nodes) await gw.stop().catch(() => undefined);
    sink.stop();
    await zone.close();
    for (const s of setups) await s.cleanup().catch(() => undefined);
    await shared.stop();
  }
}
