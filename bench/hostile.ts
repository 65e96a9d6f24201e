/**
 * npm run bench:hostile — the longer hostile-client runs of issue 18, on
 * loopback, against the real daemon relaying to a loopback MX. Not a test:
 * it prints what happened and exits 1 if the daemon died, hung, leaked
 * descriptors or lost or duplicated a good message.
 *
 * repro   the first-run reproduction: one client, one session at a time,
 *         STARTTLS, MAIL, RCPT, DATA, 5 KB, then FIN — 600 sessions; then
 *         the same with RST; then the same mid-BDAT (FIN, then RST). After
 *         each batch: daemon alive, descriptors at baseline.
 * fuzz    10 000 mixed sessions, 32 at a time: drops mid-DATA / mid-BDAT
 *         (FIN/RST, cleartext/STARTTLS, random offsets), well-behaved
 *         messages (delivered once, byte-compared at the MX), and sessions
 *         of random and mutated command lines (every reply well formed, the
 *         session closes after QUIT). Then a fresh session must get 250.
 *
 *   npm run bench:hostile               # both
 *   npm run bench:hostile -- repro      # one part
 *   HOSTILE_SESSIONS=2000 HOSTILE_SEED=42 npm run bench:hostile -- fuzz
 */
import { readFile } from 'node:fs/promises';
import { issueCertificate } from '../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../test/helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../test/helpers/gateway.js';
import { garbageSession, goodSession as sendGood, hostileSession, makeMessage, seededRandom, type DropKind, type TransferKind } from '../test/helpers/hostile-client.js';
import { startMxServer, type MxServer } from '../test/helpers/mx-server.js';
import { stripTraceHeaders, withDb } from '../test/helpers/spool-reader.js';
import { openFds } from '../test/helpers/fds.js';

const REPRO_SESSIONS = Number(process.env.HOSTILE_REPRO ?? 600);
const FUZZ_SESSIONS = Number(process.env.HOSTILE_SESSIONS ?? 10_000);
const CONCURRENCY = 32;
const SEED = Number(process.env.HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Env {
  readonly setup: TestSetup;
  readonly gw: RunningGateway;
  readonly sink: MxServer;
  readonly zone: DnsZone;
}

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

async function rssMb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function queued(env: Env): Promise<number> {
  return withDb(env.setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n ?? -1);
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(200);
  }
  console.log(`  (gave up waiting for ${what})`);
  return false;
}

async function start(): Promise<Env> {
  const setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.sink.test', dnsNames: ['mx.sink.test'], usage: 'server' });
  const sink = await startMxServer({ ip: '127.0.0.21', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  const zone = await startDnsZone([
    { name: 'sink.test', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.21' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    listener: { chunking: true },
    // a garbage session may start STARTTLS and never speak TLS: the handshake limit closes it within the client's patience
    smtp: { maxConnections: 1000, maxConnectionsPerIp: 200, tlsHandshakeTimeoutMs: 5000 },
    extra: {
      log: { level: 'info', pretty: false },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: sink.port, defaultRequirement: 'verify', connectionIdle: '1s' },
    },
  });
  const gw = await startGateway(setup.configPath);
  return { setup, gw, sink, zone };
}

async function stop(env: Env): Promise<void> {
  await env.gw.stop();
  await env.sink.close();
  await env.zone.close();
  await env.setup.cleanup();
}

/** One good message; its queue id, or an error text. */
async function goodSession(env: Env, message: Buffer, rcpt: string, tls: boolean, bdatChunk: number | undefined): Promise<string> {
  const r = await sendGood(env.gw.port, message, rcpt, { starttlsCa: tls ? env.setup.pki.ca.certPem : undefined, bdatChunk });
  return r.id ?? `failed: ${r.error ?? ''}`;
}

async function baselineFds(env: Env): Promise<number> {
  const random = seededRandom(SEED);
  await goodSession(env, makeMessage(`warm-${SEED}`, 2000, random), 'warm@sink.test', true, undefined);
  await waitFor('warm-up delivered', async () => env.sink.received.length >= 1 && (await queued(env)) === 0, 60_000);
  await sleep(1500);
  return openFds(env.gw.proc.pid ?? 0);
}

async function repro(): Promise<void> {
  console.log(`\nrepro: one client, one session at a time, STARTTLS, 5 KB into the message, then the connection goes (${REPRO_SESSIONS} sessions per case)`);
  const env = await start();
  try {
    const pid = env.gw.proc.pid ?? 0;
    const baseline = await baselineFds(env);
    const random = seededRandom(SEED);
    const cases: [TransferKind, DropKind][] = [['data', 'fin'], ['data', 'rst'], ['bdat', 'fin'], ['bdat', 'rst']];
    for (const [transfer, drop] of cases) {
      const t0 = process.hrtime.bigint();
      let dropped = 0;
      for (let i = 0; i < REPRO_SESSIONS && env.gw.proc.exitCode === null; i++) {
        const message = makeMessage(`repro-${transfer}-${drop}-${i}`, 12_000, random);
        const o = await hostileSession({ port: env.gw.port, starttlsCa: env.setup.pki.ca.certPem, transfer, drop, message, dropAfter: 5 * 1024 });
        if (o.kind === 'dropped') dropped++;
      }
      const alive = env.gw.proc.exitCode === null && env.gw.proc.signalCode === null;
      let fds = -1;
      const back = alive && (await waitFor('descriptors at baseline', async () => (fds = await openFds(pid)) <= baseline, 30_000));
      console.log(`  ${transfer} + ${drop}: ${dropped}/${REPRO_SESSIONS} dropped at 5 KB in ${seconds(t0).toFixed(1)} s; daemon ${alive ? 'alive' : `DEAD (${String(env.gw.proc.signalCode ?? env.gw.proc.exitCode)})`}; descriptors ${fds} (baseline ${baseline})`);
      check(alive, `daemon alive after ${transfer} + ${drop}`);
      check(back, `descriptors back at baseline after ${transfer} + ${drop}`);
      check(dropped === REPRO_SESSIONS, `every ${transfer} + ${drop} session reached its drop point`);
      if (!alive) break;
    }
    check(!/EBADF|SG_STORAGE_FAILED/.test(env.gw.stdout), 'no EBADF or storage failure in the log');
  } finally {
    await stop(env);
  }
}

async function fuzz(): Promise<void> {
  console.log(`\nfuzz: ${FUZZ_SESSIONS} mixed sessions, ${CONCURRENCY} at a time, seed ${SEED} (HOSTILE_SEED=${SEED} repeats it)`);
  const env = await start();
  try {
    const pid = env.gw.proc.pid ?? 0;
    const baseline = await baselineFds(env);
    const warm = env.sink.received.length;
    const random = seededRandom(SEED + 1);
    const good = new Map<string, Buffer>();
    const tally = { dropped: 0, dropNotReached: 0, good: 0, goodRefused: 0, garbage: 0, garbageReplies: 0, malformed: 0, hung: 0 };
    const examples: string[] = [];
    let n = 0;
    let peakRss = 0;
    const t0 = process.hrtime.bigint();
    const sampler = setInterval(() => void rssMb(pid).then((r) => (peakRss = Math.max(peakRss, r)), () => undefined), 500);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, lane) => {
        while (n < FUZZ_SESSIONS && env.gw.proc.exitCode === null) {
          const i = n++;
          const r = random();
          const localAddress = `127.0.2.${1 + (lane % 50)}`;
          if (r < 0.1) {
            const marker = `good-${i}-${SEED}`;
            const message = makeMessage(marker, 200 + Math.floor(random() * 60_000), random);
            good.set(marker, message);
            const id = await goodSession(env, message, `good${i}@sink.test`, random() < 0.5, random() < 0.5 ? 1 + Math.floor(random() * message.length) : undefined);
            if (/^[0-9A-Z]{20}$/.test(id)) tally.good++;
            else {
              tally.goodRefused++;
              if (examples.length < 5) examples.push(`good ${marker}: ${id}`);
            }
          } else if (r < 0.3) {
            const o = await garbageSession(env.gw.port, random, 30_000, localAddress);
            tally.garbage++;
            tally.garbageReplies += o.replies;
            tally.malformed += o.malformed.length;
            if (!o.closed) {
              tally.hung++;
              if (examples.length < 8) examples.push(`hung after: ${JSON.stringify(o.sent.map((l) => l.slice(0, 60)))}`);
            }
            if (o.malformed.length && examples.length < 5) examples.push(`malformed reply: ${JSON.stringify(o.malformed[0])}`);
          } else {
            const message = makeMessage(`hostile-${i}-${SEED}`, 500 + Math.floor(random() * 40_000), random);
            const transfer = random() < 0.5 ? 'data' : 'bdat';
            const dropDraw = random();
            const o = await hostileSession({
              port: env.gw.port,
              localAddress,
              starttlsCa: random() < 0.5 ? env.setup.pki.ca.certPem : undefined,
              transfer,
              drop: transfer === 'bdat' && dropDraw < 1 / 3 ? 'rset' : dropDraw < 2 / 3 ? 'fin' : 'rst',
              message,
              dropAfter: Math.floor(random() * message.length),
              bdatChunk: 1 + Math.floor(random() * message.length),
            });
            if (o.kind === 'dropped') tally.dropped++;
            else {
              tally.dropNotReached++;
              if (examples.length < 5) examples.push(`hostile not dropped: ${JSON.stringify(o)}`);
            }
          }
        }
      }),
    );
    const elapsed = seconds(t0);
    clearInterval(sampler);
    const alive = env.gw.proc.exitCode === null && env.gw.proc.signalCode === null;
    console.log(`  ${n} sessions in ${elapsed.toFixed(1)} s (${(n / elapsed).toFixed(0)} sessions/s); peak RSS ${peakRss} MB`);
    console.log(`  ${JSON.stringify(tally)}`);
    for (const e of examples) console.log(`  example: ${e}`);
    check(alive, 'daemon alive (0 crashes)');
    check(tally.hung === 0, 'no garbage session left hanging after QUIT');
    check(tally.malformed === 0, 'every reply line well formed');
    check(tally.dropNotReached === 0 && tally.goodRefused === 0, 'every session got the replies it needed');
    if (!alive) return;

    await waitFor('good messages delivered', async () => env.sink.received.length - warm >= good.size && (await queued(env)) === 0, 300_000);
    const markerOf = (body: Buffer): string => /^Subject: (\S+)\r$/m.exec(body.toString('latin1'))?.[1] ?? '?';
    const seen = new Map<string, number>();
    let intact = 0;
    for (const m of env.sink.received.slice(warm)) {
      const k = markerOf(m.body);
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (stripTraceHeaders(m.body).equals(good.get(k) ?? Buffer.alloc(0))) intact++;
    }
    check([...good.keys()].every((k) => seen.get(k) === 1) && seen.size === good.size, `every good message delivered exactly once (${good.size})`);
    check(intact === good.size, 'every good message byte-identical');
    check((await queued(env)) === 0, 'queue empty');
    let fds = -1;
    check(await waitFor('descriptors at baseline', async () => (fds = await openFds(pid)) <= baseline, 60_000), `descriptors back at baseline (${fds} vs ${baseline})`);
    const after = await goodSession(env, makeMessage(`after-${SEED}`, 1000, random), 'after@sink.test', true, undefined);
    check(/^[0-9A-Z]{20}$/.test(after), 'a fresh session gets 250 afterwards (0 hangs)');
    check(!/EBADF|SG_STORAGE_FAILED/.test(env.gw.stdout), 'no EBADF or storage failure in the log');
    console.log(`  RSS after: ${await rssMb(pid)} MB`);
  } finally {
    await stop(env);
  }
}

const parts = process.argv.slice(2);
if (parts.length === 0 || parts.includes('repro')) await repro();
if (parts.length === 0 || parts.includes('fuzz')) await fuzz();
console.log(failures.length ? `\n${failures.length} check(s) failed` : '\nall checks passed');
process.exit(failures.length ? 1 : 0);
