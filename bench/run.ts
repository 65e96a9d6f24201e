/**
 * npm run bench: throughput figures on loopback, not a test. Two parts, each
 * against Postfix in the same run (a private instance from
 * test/helpers/postfix.ts, never the system one):
 *
 * ingress  how many messages per second Sealgate accepts (250 only after the
 *          encrypted spool file is fsync'd and the queue rows are committed)
 *          from Postfix's smtp-source (-d: connection reuse, 10 sessions),
 *          cleartext; then the same load into a Postfix whose delivery is
 *          paused (defer_transports = smtp), i.e. Postfix's own durable queue
 *          acceptance; then that Postfix flushes its queue into Sealgate over
 *          STARTTLS with certificate verification and a client certificate,
 *          the Microsoft 365 connector path (smtp-source has no TLS).
 *          Delivery and inspection are off in Sealgate here.
 * relay    end to end: smtp-source → Sealgate (inspection, decision,
 *          delivery) → smtp-sink, against smtp-source → Postfix relay →
 *          smtp-sink. Both relays run side by side; each first carries one
 *          2 KB load right after it starts (printed as the cold row), then
 *          the timed loads that the targets use (a gateway runs for weeks,
 *          its code compiled): BENCH_ROUNDS (3) rounds a size of a Sealgate
 *          load and a Postfix load back to back, the medians reported.
 *          Also the daemon's peak RSS (VmHWM) after the 2 KB loads.
 * latency  accept → delivered p50/p95/p99 at half of the relay part's 2 KB
 *          rate (or BENCH_LATENCY_RATE), Sealgate and Postfix, through the
 *          bench's own SMTP client and server (bench/latency.ts).
 * backlog  BENCH_BACKLOG (100 000) messages deferred behind a down MX:
 *          ingress beside them, `queue list`/`summary` time, drain time
 *          when the MX comes back (bench/backlog.ts).
 * cluster  one and two nodes on PostgreSQL and an S3-compatible store
 *          (the tests' private servers, on this machine), end to end, beside
 *          the relay part's one node on SQLite (bench/cluster.ts).
 * portal   deposits and page views per second (bench/portal.ts).
 * e2e      OpenPGP and S/MIME encryption MB/s for 1 MB and 25 MB messages
 *          next to gpg and openssl cms on the same data (bench/e2e.ts).
 * archive  archive write cost per message, and search latency over
 *          1,000,000 entries (bench/archive.ts).
 *
 *   npm run bench                   # every part
 *   npm run bench -- ingress        # one part
 *   BENCH_2K=4000 BENCH_100K=1000 npm run bench
 *   BENCH_2K=300 BENCH_BACKLOG=2000 npm run bench -- ingress relay latency backlog
 *
 * At the end: the Targets table of issue 16 beside this run's figures
 * (bench/report.ts), and the whole run as JSON in bench/results/.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { issueCertificate } from '../src/tls/x509.js';
import { startDnsZone } from '../test/helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../test/helpers/gateway.js';
import { relayGatewaySetup } from './relay-setup.js';
import { haveTool } from '../test/helpers/peers.js';
import { freePort, postfixVersion, startPostfix, type PostfixInstance } from '../test/helpers/postfix.js';
import { withDb } from '../test/helpers/spool-reader.js';
import { archiveBench } from './archive.js';
import { backlogPart } from './backlog.js';
import { clusterPart } from './cluster.js';
import { e2eBench } from './e2e.js';
import { latencyPart } from './latency.js';
import { FROM, peakRss, POSTFIX_IP, SESSIONS, SINK_IP, SIZES, seconds, smtpSource, startSink, waitUntil, type Size } from './load.js';
import { portalBench } from './portal.js';
import { benchEnv, medianRate, rateOf, renderTargetsTable, resultFileName, runResult, type Figures, type Rate } from './report.js';

const run = promisify(execFile);

/** Rounds of the relay part a size (BENCH_ROUNDS): each a Sealgate load and a Postfix load back to back. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rate = (n: number, s: number): string => (n / s).toFixed(0);
const ratio = (a: number, b: number): string => (a / b).toFixed(2);

async function queuedInSealgate(setup: TestSetup): Promise<number> {
  return withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n ?? 0);
}

function sentCount(maillog: string): number {
  return maillog.match(/ status=sent /g)?.length ?? 0;
}

async function ingress(figures: Figures): Promise<string[]> {
  const setup = await setupGateway();
  const certs = join(setup.dir, 'certs');
  const client = await issueCertificate(setup.pki.ca, { commonName: 'mail.tenant.test', dnsNames: ['mail.tenant.test'], usage: 'client' });
  await writeFile(join(certs, 'client.crt'), client.certPem + setup.pki.ca.certPem);
  await writeFile(join(certs, 'client.key'), client.keyPem, { mode: 0o600 });
  await setup.writeConfig({
    listeners: [
      { name: 'plain', host: '127.0.0.1', port: 0, tls: 'none', connectors: ['plain'] },
      { name: 'tls', host: '127.0.0.1', port: 0, tls: 'starttls', certFile: join(certs, 'server.crt'), keyFile: join(certs, 'server.key'), connectors: ['m365'] },
    ],
    connectors: [
      { name: 'plain', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false },
      { name: 'm365', kind: 'm365', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireClientCert: { names: ['mail.tenant.test'], caFiles: [setup.pki.caFile] } },
    ],
    // accepting only: nothing else runs beside the ingress (the archive stage, on by default since 2026-12-05, archives
    // every message right after its 250 when inspection is off: it ran beside the ingress until 2026-12-07)
    extra: { log: { level: 'info', pretty: false }, inspection: { enabled: false }, delivery: { enabled: false }, archive: { enabled: false } },
  });
  let gw: RunningGateway | undefined;
  let pf: PostfixInstance | undefined;
  const rows: string[] = [];
  try {
    gw = await startGateway(setup.configPath);
    const plainPort = gw.ports.get('plain');
    const tlsPort = gw.ports.get('tls');
    if (!plainPort || !tlsPort) throw new Error('listeners missing');
    pf = await startPostfix({
      smtpd: { host: POSTFIX_IP, port: await freePort(POSTFIX_IP) },
      hostname: 'mail.tenant.test',
      bindAddress: POSTFIX_IP,
      relayhost: { host: '127.0.0.1', port: tlsPort },
      tls: { level: 'verify', caFile: setup.pki.caFile, match: 'gw.test', certFile: join(certs, 'client.crt'), keyFile: join(certs, 'client.key') },
      pauseDelivery: true,
      mainCf: { default_destination_concurrency_limit: '20', smtp_tls_connection_reuse: 'yes' },
    });
    let sealgateTotal = 0;
    let sent = 0;
    for (const size of SIZES) {
      const sg = await smtpSource('127.0.0.1', plainPort, size, 'bob@example.net');
      sealgateTotal += size.count;
      const queued = await queuedInSealgate(setup);
      if (queued !== sealgateTotal) throw new Error(`Sealgate queued ${queued} messages, expected ${sealgateTotal}`);

      const pfAccept = await smtpSource(POSTFIX_IP, pf.smtpd.port, size, 'bob@example.net');
      // postqueue -j reads the queue directories one after another, so a message qmgr moves meanwhile (incoming → active
      // → deferred) can be listed twice or not at all: count distinct queue ids, until qmgr has settled (a few seconds)
      const postfix = pf;
      let inQueue = 0;
      await waitUntil(async () => (inQueue = new Set((await postfix.queue()).map((e) => e.queue_id)).size) === size.count, 10_000, 'Postfix queue listing').catch(() => undefined);
      if (inQueue !== size.count) {
        const entries = await pf.queue();
        const odd = entries.filter((e) => e.sender !== FROM || e.recipients.length !== 1);
        throw new Error(`Postfix holds ${inQueue} messages, expected ${size.count}; ${JSON.stringify(odd.slice(0, 3))}; log: ${(await pf.maillog()).split('\n').filter((l) => /warning|error|fatal|reject|timeout|lost/i.test(l)).slice(0, 8).join(' | ')}`);
      }

      // Postfix delivers its queue into Sealgate over STARTTLS with its client certificate
      const start = process.hrtime.bigint();
      await pf.flush();
      const instance = pf;
      // a message qmgr was deferring ("deferred transport") at the moment of postqueue -f misses that
      // flush and would wait for its next queue run: flush again every 5 s until all are sent
      let flushed = Date.now();
      await waitUntil(
        async () => {
          if (sentCount(await instance.maillog()) >= sent + size.count) return true;
          if (Date.now() - flushed > 5000) {
            flushed = Date.now();
            await instance.flush();
          }
          return false;
        },
        600_000,
        `Postfix to deliver ${size.count} messages`,
      );
      const drain = seconds(start);
      sent += size.count;
      sealgateTotal += size.count;
      const queuedTls = await queuedInSealgate(setup);
      if (queuedTls !== sealgateTotal) throw new Error(`Sealgate queued ${queuedTls} messages, expected ${sealgateTotal}`);

      (figures.ingress ??= {})[size.label] = { sealgate: rateOf(size.count, sg), postfix: rateOf(size.count, pfAccept), starttls: rateOf(size.count, drain) };
      rows.push(`| ${size.label} | ${size.count} | ${rate(size.count, sg)} | ${rate(size.count, pfAccept)} | ${ratio(pfAccept, sg)} | ${rate(size.count, drain)} |`);
    }
    const log = await pf.maillog();
    const tls = /Verified TLS connection established to [^:]+:\d+: (TLSv1\.\d)/.exec(log)?.[1] ?? '?';
    return [
      '## ingress: messages/second answered 250 (Sealgate: after fsync and SQLite commit; Postfix: queue file fsync)',
      '',
      `smtp-source -d -s ${SESSIONS} -m N -l SIZE, cleartext, into Sealgate (inspection and delivery off) and into a Postfix with delivery paused (defer_transports = smtp);`,
      `then that Postfix flushes (postqueue -f) into Sealgate over STARTTLS (${tls}, verify + client certificate, TLS connection reuse, up to 20 connections);\nsmtp-source has no TLS, so Postfix's own SMTP client is the TLS sender there and may be what bounds that column.`,
      '',
      '| size | messages | Sealgate msg/s | Postfix msg/s | Sealgate/Postfix | Postfix → Sealgate STARTTLS msg/s |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
    ];
  } finally {
    await pf?.cleanup().catch(() => undefined);
    await gw?.stop();
    await setup.cleanup();
  }
}

async function relay(figures: Figures): Promise<string[]> {
  const zone = await startDnsZone([
    { name: 'bench.test', type: 'MX', exchange: 'sink.bench.test', priority: 10 },
    { name: 'sink.bench.test', type: 'A', address: SINK_IP },
  ]);
  const sinkPort = await freePort(SINK_IP);
  const sink = await startSink(sinkPort);
  const setup = await relayGatewaySetup(zone.server, sinkPort);
  const results: { size: Size; rounds: { sealgate: Rate; postfix: Rate }[] }[] = [];
  // each relay first carries one 2 KB load right after it starts (reported as the cold figure), then the timed ones:
  // a long-running daemon's code is compiled and its caches are warm, as a Postfix's processes are running
  const first = SIZES[0] as Size;
  const cold = { sealgate: 0, postfix: 0 };
  const measure = async (host: string, port: number, size: Size): Promise<number> => {
    const before = sink.count;
    const start = process.hrtime.bigint();
    await smtpSource(host, port, size, 'bob@bench.test');
    await waitUntil(async () => sink.count - before >= size.count, 600_000, `${size.count} messages at the sink`);
    return seconds(start);
  };
  let gw: RunningGateway | undefined;
  let pf: PostfixInstance | undefined;
  try {
    // both relays run side by side and take turns: a Sealgate load and a Postfix load back to back, ROUNDS times a
    // size, so each ratio compares loads run within seconds of each other (this machine's speed moves by the minute)
    gw = await startGateway(setup.configPath);
    pf = await startPostfix({
      smtpd: { host: POSTFIX_IP, port: await freePort(POSTFIX_IP) },
      relayhost: { host: SINK_IP, port: sinkPort },
      mainCf: { default_destination_concurrency_limit: '20', smtp_tls_security_level: 'may' },
    });
    const sealgate = gw;
    const postfix = pf;
    // Sealgate's load is over when its queue is empty too (the rows of the last delivered messages still leave it), so
    // nothing of it runs beside the Postfix load after it
    const sealgateLoad = async (size: Size): Promise<number> => {
      const took = await measure('127.0.0.1', sealgate.port, size);
      await waitUntil(async () => (await queuedInSealgate(setup)) === 0, 60_000, 'Sealgate\'s queue empty');
      return took;
    };
    const postfixLoad = (size: Size): Promise<number> => measure(POSTFIX_IP, postfix.smtpd.port, size);
    cold.sealgate = await sealgateLoad(first);
    cold.postfix = await postfixLoad(first);
    for (const size of SIZES) {
      const rounds: { sealgate: Rate; postfix: Rate }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // who goes first alternates, so neither always runs right after the other
        let sg: number;
        let pfTime: number;
        if (round % 2 === 0) {
          sg = await sealgateLoad(size);
          pfTime = await postfixLoad(size);
        } else {
          pfTime = await postfixLoad(size);
          sg = await sealgateLoad(size);
        }
        rounds.push({ sealgate: rateOf(size.count, sg), postfix: rateOf(size.count, pfTime) });
      }
      results.push({ size, rounds });
      // the daemon's peak resident set after the 2 KB loads (VmHWM: the high-water mark since it started)
      if (size === SIZES[0] && sealgate.proc.pid !== undefined) figures.peakRssBytes = await peakRss(sealgate.proc.pid);
    }
    for (const r of results) {
      const sg = medianRate(r.rounds.map((x) => x.sealgate));
      const pfRate = medianRate(r.rounds.map((x) => x.postfix));
      if (sg && pfRate) (figures.relay ??= {})[r.size.label] = { sealgate: sg, postfix: pfRate, rounds: r.rounds };
    }
    figures.relayCold = { label: first.label, sealgate: rateOf(first.count, cold.sealgate), postfix: rateOf(first.count, cold.postfix) };
  } finally {
    await pf?.cleanup().catch(() => undefined);
    await gw?.stop();
    sink.stop();
    await zone.close();
    await setup.cleanup();
  }
  const perSecond = (r: Rate): string => r.perSecond.toFixed(0);
  return [
    '## relay: end to end, messages/second until smtp-sink has them all',
    '',
    `smtp-source -d -s ${SESSIONS} → relay → smtp-sink; Sealgate inspects every message, spools it encrypted with fsync, commits to SQLite before 250, decides and delivers.`,
    `Both relays run side by side and take turns: after one ${first.label} load of ${first.count} messages each right after they start (the cold row),`,
    `each size is measured in ${ROUNDS} rounds of a Sealgate load and a Postfix load back to back (who goes first alternates; Sealgate's load ends when the sink has every message and its queue is empty).`,
    'The rates are the medians of the rounds; the last column lists each round\'s ratio.',
    '',
    '| size | messages | Sealgate msg/s | Postfix msg/s | Sealgate/Postfix | each round: Sealgate / Postfix msg/s, ratio |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${first.label}, cold (first load after start) | ${first.count} | ${rate(first.count, cold.sealgate)} | ${rate(first.count, cold.postfix)} | ${ratio(cold.postfix, cold.sealgate)} | |`,
    ...results.map((r) => {
      const f = figures.relay?.[r.size.label];
      const each = r.rounds.map((x) => `${perSecond(x.sealgate)} / ${perSecond(x.postfix)}, ${ratio(x.postfix.seconds, x.sealgate.seconds)}`).join('; ');
      return `| ${r.size.label} | ${r.size.count} | ${f ? perSecond(f.sealgate) : '?'} | ${f ? perSecond(f.postfix) : '?'} | ${f ? ratio(f.postfix.seconds, f.sealgate.seconds) : '?'} | ${each} |`;
    }),
    '',
    `peak RSS of the daemon after the 2 KB loads (VmHWM): ${figures.peakRssBytes === undefined ? '?' : `${(figures.peakRssBytes / 1024 / 1024).toFixed(0)} MB`}`,
  ];
}

/** The paced rate of the latency part: half of this run's relay 2 KB maximum, or BENCH_LATENCY_RATE. */
function latencyRate(figures: Figures): { rate: number; source: string } {
  if (process.env.BENCH_LATENCY_RATE) return { rate: Number(process.env.BENCH_LATENCY_RATE), source: 'BENCH_LATENCY_RATE' };
  const max = figures.relay?.['2 KB']?.sealgate.perSecond;
  if (max === undefined) throw new Error('the latency part needs the relay part in the same run (it paces at half its 2 KB rate) or BENCH_LATENCY_RATE');
  return { rate: max / 2, source: `half of the relay part's 2 KB ${max.toFixed(0)} msg/s` };
}

async function gitCommit(): Promise<string | null> {
  return run('git', ['describe', '--always', '--dirty']).then(
    (r) => r.stdout.trim(),
    () => null,
  );
}

async function main(): Promise<void> {
  const parts = process.argv.slice(2);
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a whole number of at least 1 (got ${process.env.BENCH_ROUNDS ?? ''})`);
  const all = ['ingress', 'relay', 'latency', 'backlog', 'cluster', 'portal', 'e2e', 'archive'];
  for (const p of parts) if (!all.includes(p)) throw new Error(`unknown part "${p}" (${all.join(', ')})`);
  // always in this order: latency paces at half of the relay part's rate, the drain compares with it
  const wanted = parts.length > 0 ? all.filter((p) => parts.includes(p)) : all;
  // portal and e2e run in this process (and gpg, openssl): no Postfix, no root
  const needsPostfix = wanted.some((p) => p === 'ingress' || p === 'relay' || p === 'latency' || p === 'backlog' || p === 'cluster');
  if (needsPostfix) {
    for (const tool of ['smtp-source', 'smtp-sink', 'postfix', 'script']) {
      if (!haveTool(tool)) throw new Error(`${tool} is not installed (apt-get install postfix)`);
    }
    if (process.getuid?.() !== 0) throw new Error('run as root: a private Postfix instance and smtp-sink need it');
  }
  if (wanted.includes('latency') && !wanted.includes('relay') && !process.env.BENCH_LATENCY_RATE) throw new Error('the latency part needs the relay part in the same run (it paces at half its 2 KB rate) or BENCH_LATENCY_RATE');
  const cpu = cpus();
  const startedAt = new Date();
  // read before the run: the tree may be edited while a long run goes on
  const commit = await gitCommit();
  const loadAtStart = loadavg();
  const pfVersion = needsPostfix ? await postfixVersion() : null;
  console.log(`machine: ${cpu.length} cores, ${cpu[0]?.model ?? '?'}, Node ${process.version}, Postfix ${pfVersion ?? '(not used)'}, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  const knobs = Object.entries({ BENCH_2K: String(SIZES[0]?.count), BENCH_100K: String(SIZES[1]?.count), ...benchEnv(process.env) }).map(([k, v]) => `${k}=${v}`);
  console.log(`reproduce: ${knobs.join(' ')} npm run bench -- ${wanted.join(' ')}`);
  console.log('  (knobs: BENCH_2K, BENCH_100K, BENCH_ROUNDS, BENCH_ARCHIVE, BENCH_LATENCY_RATE, BENCH_LATENCY_COUNT, BENCH_LATENCY_WARMUP, BENCH_LATENCY_SESSIONS, BENCH_BACKLOG, BENCH_QUEUE_RUNS, BENCH_CLUSTER, BENCH_PORTAL_DEPOSITS, BENCH_PORTAL_VIEWS, BENCH_E2E_REPS, BENCH_ARCHIVE_MESSAGES)');
  const started = process.hrtime.bigint();
  const figures: Figures = {};
  for (const p of wanted) {
    console.log('');
    let lines: string[];
    if (p === 'ingress') lines = await ingress(figures);
    else if (p === 'relay') lines = await relay(figures);
    else if (p === 'latency') {
      const { rate: r, source } = latencyRate(figures);
      lines = await latencyPart(r, source, figures);
    } else if (p === 'backlog') lines = await backlogPart(figures);
    else if (p === 'cluster') lines = await clusterPart(figures);
    else if (p === 'portal') lines = await portalBench();
    else if (p === 'archive') lines = await archiveBench();
    else lines = await e2eBench();
    console.log(lines.join('\n'));
  }
  const result = runResult(
    {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      parts: wanted,
      machine: { cores: cpu.length, cpuModel: cpu[0]?.model ?? '?', memoryBytes: totalmem(), loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg() },
      versions: { node: process.version, postfix: pfVersion, sealgate: (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version, commit },
      env: benchEnv(process.env),
    },
    figures,
  );
  console.log('');
  console.log('## targets (issue 16): ratios to Postfix in this run, same load, same sink');
  console.log('');
  console.log(renderTargetsTable(result.targets).join('\n'));
  const dir = resolve('bench/results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, resultFileName(startedAt));
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log('');
  console.log(`(bench took ${seconds(started).toFixed(0)} s, load average at the end ${result.machine.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}; written to bench/results/${resultFileName(startedAt)}; orientation figures from one run on this machine)`);
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
