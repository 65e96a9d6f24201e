#!/usr/bin/env node
/**
 * End-to-end relay benchmark (npm run bench): Postfix's smtp-source, with
 * connection reuse, sends to Sealgate, which inspects, queues durably and
 * relays to Postfix's smtp-sink; then the same workload through a private
 * Postfix relay set up here (its own config directory, never the system
 * instance). Prints messages/second for 2 KB and 100 KB messages and the
 * ratio Sealgate/Postfix from the same run. Loopback only.
 *
 *   npm run bench                 # both sizes
 *   BENCH_2K=2000 BENCH_100K=500 npm run bench
 */
import { execFile, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import net from 'node:net';
import dns2 from 'dns2';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
const SINK_IP = '127.0.0.100';
const SIZES = [
  { label: '2 KB', bytes: 2 * 1024, count: Number(process.env.BENCH_2K ?? 2000) },
  { label: '100 KB', bytes: 100 * 1024, count: Number(process.env.BENCH_100K ?? 500) },
];

function freePort(host = '127.0.0.1') {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function have(tool) {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

/** A dns2 zone: bench.test MX → the sink address. */
async function startZone() {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (req, send) => {
      const res = Packet.createResponseFromRequest(req);
      const q = req.questions[0];
      const name = q?.name.toLowerCase();
      if (name === 'bench.test' && q.type === Packet.TYPE.MX) res.answers.push({ name: q.name, type: Packet.TYPE.MX, class: Packet.CLASS.IN, ttl: 300, exchange: 'sink.bench.test', priority: 10 });
      else if (name === 'sink.bench.test' && q.type === Packet.TYPE.A) res.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 300, address: SINK_IP });
      send(res);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  return { server: `127.0.0.1:${server.addresses().udp.port}`, close: () => server.close() };
}

/** smtp-sink on the sink address, with its running counter parsed from stdout. */
async function startSink(port) {
  const proc = spawn('smtp-sink', ['-u', 'nobody', '-c', `${SINK_IP}:${port}`, '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let count = 0;
  proc.stdout.on('data', (d) => {
    const m = String(d).match(/(\d+)\s*$/);
    if (m) count = Number(m[1]);
  });
  await new Promise((r) => setTimeout(r, 300));
  return { get count() { return count; }, stop: () => proc.kill('SIGTERM') };
}

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One workload: smtp-source → target; time until the sink counted every message. */
async function measure(targetPort, sink, size) {
  const before = sink.count;
  const start = process.hrtime.bigint();
  await run('smtp-source', ['-d', '-s', '10', '-m', String(size.count), '-l', String(size.bytes), '-f', 'alice@example.com', '-t', 'bob@bench.test', `127.0.0.1:${targetPort}`], { maxBuffer: 1 << 24 });
  await waitFor(() => sink.count - before >= size.count, 600_000, `${size.count} messages at the sink`);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return size.count / seconds;
}

async function startSealgate(dir, zone, sinkPort) {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'sealgate.yaml');
  await writeFile(
    config,
    [
      `dataDir: ${join(dir, 'data')}`,
      'hostname: gw.bench.test',
      'log: { level: warn }',
      'smtp:',
      '  listeners:',
      `    - { name: relay, host: 127.0.0.1, port: ${port}, tls: none }`,
      'connectors:',
      '  - { name: bench, allowIps: [127.0.0.0/8], senderDomains: [example.com], requireTls: false }',
      `dns: { servers: ["${zone}"] }`,
      `delivery: { port: ${sinkPort}, defaultRequirement: may, concurrency: 20, perDomainConcurrency: 10 }`,
      `keys: { masterKeyFile: ${join(dir, 'master.key')} }`,
      '',
    ].join('\n'),
  );
  const proc = spawn(process.execPath, [CLI, '-c', config, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`sealgate did not start: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

async function startPostfix(dir, sinkPort) {
  const port = await freePort();
  const conf = join(dir, 'postfix');
  const queue = join(dir, 'queue');
  const data = join(dir, 'pfdata');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await mkdir(conf, { recursive: true });
  await mkdir(queue, { recursive: true });
  await mkdir(data, { recursive: true, mode: 0o700 });
  const { stdout: uid } = await run('id', ['-u', 'postfix']);
  const { stdout: gid } = await run('id', ['-g', 'postfix']);
  await chown(data, Number(uid), Number(gid));
  await writeFile(
    join(conf, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      `maillog_file = ${join(dir, 'maillog')}`,
      `maillog_file_prefixes = ${dir}`,
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'myhostname = postfix.bench.test',
      'mydestination =',
      'mynetworks = 127.0.0.0/8',
      `relayhost = [${SINK_IP}]:${sinkPort}`,
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      'in_flow_delay = 0',
      'default_destination_concurrency_limit = 20',
      'smtp_tls_security_level = may',
      'alias_maps =',
      'alias_database =',
      'local_recipient_maps =',
      '',
    ].join('\n'),
  );
  const { stdout: master } = await run('cat', ['/etc/postfix/master.cf']);
  const lines = master.split('\n').filter((l) => !/^smtp\s+inet/.test(l) && !/^postlog\s+unix-dgram/.test(l));
  lines.push(`127.0.0.1:${port} inet n - n - - smtpd`, 'postlog   unix-dgram n  -       n       -       1       postlogd');
  await writeFile(join(conf, 'master.cf'), lines.map((l) => l.replace(/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/, '$1n$2')).join('\n'));
  await run('postfix', ['-c', conf, 'start']).catch(async (e) => {
    const log = await run('cat', [join(dir, 'maillog')]).catch(() => ({ stdout: '' }));
    throw new Error(`postfix did not start: ${e.message} ${log.stdout.slice(-2000)}`);
  });
  await new Promise((r) => setTimeout(r, 1500));
  return { port, stop: () => run('postfix', ['-c', conf, 'stop']).catch(() => undefined) };
}

async function main() {
  for (const tool of ['smtp-source', 'smtp-sink', 'postfix']) {
    if (!(await have(tool))) {
      console.error(`bench: ${tool} is not installed (apt-get install postfix)`);
      process.exit(1);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-bench-'));
  // Postfix opens its data directory as its own user: the path to it must be traversable
  await chmod(dir, 0o755);
  const zone = await startZone();
  const sinkPort = await freePort(SINK_IP);
  const sink = await startSink(sinkPort);
  const results = [];
  try {
    const gw = await startSealgate(join(dir, 'sg'), zone.server, sinkPort);
    for (const size of SIZES) results.push({ size, sealgate: await measure(gw.port, sink, size) });
    await gw.stop();
    const pf = await startPostfix(join(dir, 'pf'), sinkPort);
    try {
      for (const r of results) r.postfix = await measure(pf.port, sink, r.size);
    } finally {
      await pf.stop();
    }
  } finally {
    sink.stop();
    await zone.close();
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  const { stdout: pfVersion } = await run('postconf', ['-d', '-h', 'mail_version']).catch(() => ({ stdout: '?' }));
  console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}, Postfix ${pfVersion.trim()}`);
  console.log('workload: smtp-source -d -s 10 (connection reuse) → relay → smtp-sink, all on loopback; Sealgate inspects every message, spools it encrypted with fsync and commits to SQLite before 250');
  console.log('| size | messages | Sealgate msg/s | Postfix msg/s | Sealgate/Postfix |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of results) console.log(`| ${r.size.label} | ${r.size.count} | ${r.sealgate.toFixed(0)} | ${r.postfix.toFixed(0)} | ${(r.sealgate / r.postfix).toFixed(2)} |`);
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
