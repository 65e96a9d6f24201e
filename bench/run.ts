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
 *          smtp-sink.
 * portal   deposits and page views per second (bench/portal.ts).
 * e2e      OpenPGP and S/MIME encryption MB/s for 1 MB and 25 MB messages
 *          next to gpg and openssl cms on the same data (bench/e2e.ts).
 * archive  archive write cost per message, and search latency over
 *          1,000,000 entries (bench/archive.ts).
 *
 *   npm run bench                   # every part
 *   npm run bench -- ingress        # one part
 *   BENCH_2K=4000 BENCH_100K=1000 npm run bench
 */
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { issueCertificate } from '../src/tls/x509.js';
import { startDnsZone } from '../test/helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../test/helpers/gateway.js';
import { haveTool } from '../test/helpers/peers.js';
import { freePort, postfixVersion, startPostfix, type PostfixInstance } from '../test/helpers/postfix.js';
import { withDb } from '../test/helpers/spool-reader.js';
import { archiveBench } from './archive.js';
import { e2eBench } from './e2e.js';
import { portalBench } from './portal.js';

const run = promisify(execFile);

interface Size {
  readonly label: string;
  readonly bytes: number;
  readonly count: number;
}

const SIZES: readonly Size[] = [
  { label: '2 KB', bytes: 2 * 1024, count: Number(process.env.BENCH_2K ?? 2000) },
  { label: '100 KB', bytes: 100 * 1024, count: Number(process.env.BENCH_100K ?? 500) },
];
const SESSIONS = 10;
const FROM = 'alice@example.com';
const POSTFIX_IP = '127.0.0.30';
const SINK_IP = '127.0.0.100';

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
const rate = (n: number, s: number): string => (n / s).toFixed(0);
const ratio = (a: number, b: number): string => (a / b).toFixed(2);

/** smtp-source -d -s 10 -m N -l SIZE; returns seconds from start until it exited (every 250 received). */
async function smtpSource(host: string, port: number, size: Size, to: string): Promise<number> {
  const start = process.hrtime.bigint();
  await run('smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(size.count), '-l', String(size.bytes), '-f', FROM, '-t', to, `${host}:${port}`], { maxBuffer: 1 << 24 });
  return seconds(start);
}

async function queuedInSealgate(setup: TestSetup): Promise<number> {
  return withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n ?? 0);
}

function sentCount(maillog: string): number {
  return maillog.match(/ status=sent /g)?.length ?? 0;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ingress(): Promise<string[]> {
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
    // accepting only: nothing else runs beside the ingress
    extra: { log: { level: 'info', pretty: false }, inspection: { enabled: false }, delivery: { enabled: false } },
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
      const inQueue = (await pf.queue()).length;
      if (inQueue !== size.count) {
        const entries = await pf.queue();
        const odd = entries.filter((e) => e.sender !== FROM || e.recipients.length !== 1);
        throw new Error(`Postfix holds ${inQueue} messages, expected ${size.count}; ${JSON.stringify(odd.slice(0, 3))}; log: ${(await pf.maillog()).split('\n').filter((l) => /warning|error|fatal|reject|timeout|lost/i.test(l)).slice(0, 8).join(' | ')}`);
      }

      // Postfix delivers its queue into Sealgate over STARTTLS with its client certificate
      const start = process.hrtime.bigint();
      await pf.flush();
      const instance = pf;
      await waitUntil(async () => sentCount(await instance.maillog()) >= sent + size.count, 600_000, `Postfix to deliver ${size.count} messages`);
      const drain = seconds(start);
      sent += size.count;
      sealgateTotal += size.count;
      const queuedTls = await queuedInSealgate(setup);
      if (queuedTls !== sealgateTotal) throw new Error(`Sealgate queued ${queuedTls} messages, expected ${sealgateTotal}`);

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

/** smtp-sink on the sink address, with its running counter parsed from stdout. */
async function startSink(port: number): Promise<{ readonly count: number; stop(): void }> {
  const proc = spawn('smtp-sink', ['-u', 'nobody', '-c', `${SINK_IP}:${port}`, '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let count = 0;
  proc.stdout.on('data', (d: Buffer) => {
    const m = /(\d+)\s*$/.exec(d.toString('latin1'));
    if (m) count = Number(m[1]);
  });
  await new Promise((r) => setTimeout(r, 300));
  return {
    get count() {
      return count;
    },
    stop: () => proc.kill('SIGTERM'),
  };
}

async function relay(): Promise<string[]> {
  const zone = await startDnsZone([
    { name: 'bench.test', type: 'MX', exchange: 'sink.bench.test', priority: 10 },
    { name: 'sink.bench.test', type: 'A', address: SINK_IP },
  ]);
  const sinkPort = await freePort(SINK_IP);
  const sink = await startSink(sinkPort);
  const setup = await setupGateway({
    listeners: [{ name: 'relay', host: '127.0.0.1', port: 0, tls: 'none' }],
    connectors: [{ name: 'bench', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      log: { level: 'info', pretty: false },
      dns: { servers: [zone.server] },
      delivery: { port: sinkPort, defaultRequirement: 'may', concurrency: 20, perDomainConcurrency: 10 },
      // BENCH_ARCHIVE=off: the same run without the archive stage, to see what archiving costs end to end
      archive: { enabled: process.env.BENCH_ARCHIVE !== 'off' },
    },
  });
  const results: { size: Size; sealgate: number; postfix: number }[] = [];
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
    gw = await startGateway(setup.configPath);
    for (const size of SIZES) results.push({ size, sealgate: await measure('127.0.0.1', gw.port, size), postfix: 0 });
    await gw.stop();
    pf = await startPostfix({
      smtpd: { host: POSTFIX_IP, port: await freePort(POSTFIX_IP) },
      relayhost: { host: SINK_IP, port: sinkPort },
      mainCf: { default_destination_concurrency_limit: '20', smtp_tls_security_level: 'may' },
    });
    for (const r of results) r.postfix = await measure(POSTFIX_IP, pf.smtpd.port, r.size);
  } finally {
    await pf?.cleanup().catch(() => undefined);
    await gw?.stop();
    sink.stop();
    await zone.close();
    await setup.cleanup();
  }
  return [
    '## relay: end to end, messages/second until smtp-sink has them all',
    '',
    `smtp-source -d -s ${SESSIONS} → relay → smtp-sink; Sealgate inspects every message, spools it encrypted with fsync, commits to SQLite before 250, decides and delivers.`,
    '',
    '| size | messages | Sealgate msg/s | Postfix msg/s | Sealgate/Postfix |',
    '| --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.size.label} | ${r.size.count} | ${rate(r.size.count, r.sealgate)} | ${rate(r.size.count, r.postfix)} | ${ratio(r.postfix, r.sealgate)} |`),
  ];
}

async function main(): Promise<void> {
  const parts = process.argv.slice(2);
  const all = ['ingress', 'relay', 'portal', 'e2e', 'archive'];
  const wanted = parts.length > 0 ? parts : all;
  for (const p of wanted) if (!all.includes(p)) throw new Error(`unknown part "${p}" (${all.join(', ')})`);
  // portal and e2e run in this process (and gpg, openssl): no Postfix, no root
  const needsPostfix = wanted.some((p) => p === 'ingress' || p === 'relay');
  if (needsPostfix) {
    for (const tool of ['smtp-source', 'smtp-sink', 'postfix', 'script']) {
      if (!haveTool(tool)) throw new Error(`${tool} is not installed (apt-get install postfix)`);
    }
    if (process.getuid?.() !== 0) throw new Error('run as root: a private Postfix instance and smtp-sink need it');
  }
  const cpu = cpus();
  console.log(`machine: ${cpu.length} cores, ${cpu[0]?.model ?? '?'}, Node ${process.version}, Postfix ${needsPostfix ? await postfixVersion() : '(not used)'}`);
  console.log(`reproduce: npm run bench -- ${wanted.join(' ')}   (BENCH_2K=${SIZES[0]?.count} BENCH_100K=${SIZES[1]?.count} BENCH_PORTAL_DEPOSITS, BENCH_PORTAL_VIEWS, BENCH_E2E_REPS, BENCH_ARCHIVE_MESSAGES)`);
  const started = process.hrtime.bigint();
  for (const p of wanted) {
    console.log('');
    console.log((p === 'ingress' ? await ingress() : p === 'relay' ? await relay() : p === 'portal' ? await portalBench() : p === 'archive' ? await archiveBench() : await e2eBench()).join('\n'));
  }
  console.log('');
  console.log(`(bench took ${seconds(started).toFixed(0)} s; orientation figures from one run on this machine, not targets)`);
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
