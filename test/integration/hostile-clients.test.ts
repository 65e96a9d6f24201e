/**
 * Hostile clients (issue 18): well over a thousand sessions that go away in
 * the middle of a message — mid-DATA and mid-BDAT, with FIN and with RST, at
 * random byte offsets, in cleartext and after STARTTLS, or abandon a BDAT
 * transaction with RSET between chunks — run concurrently
 * with well-behaved sessions whose messages are relayed to a loopback MX.
 * Afterwards the daemon must be alive, every good message must have arrived
 * once and byte for byte, no dropped message may have been queued or left a
 * spool file, and the daemon's open descriptors must be back at their
 * baseline. Before the fix, a few dozen such sessions aborted the daemon
 * (a spool descriptor closed twice; its number reused by a socket).
 *
 * Sessions of random and mutated command lines run among them: every reply
 * well formed, each closed by the server after QUIT.
 *
 * Bounded: a fixed number of sessions from a seeded generator (the seed is
 * printed; HOSTILE_SEED repeats a run). `npm run bench:hostile` runs the
 * longer acceptance runs.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { garbageSession, goodSession as sendGood, hostileSession, makeMessage, seededRandom, type GarbageOutcome, type HostileOutcome } from '../helpers/hostile-client.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { stripTraceHeaders, withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { openFds } from '../helpers/fds.js';

const HOSTILE_SESSIONS = 2000;
const GOOD_MESSAGES = 120;
const GARBAGE_SESSIONS = 150;
const CONCURRENCY = 24;
const SEED = Number(process.env.HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** At most this many BDAT chunks per session, so one session stays a few hundred round trips. */
const MAX_CHUNKS = 400;

/** A random BDAT chunk size for a message of `length` bytes: 1 byte up to the whole message, but no more than MAX_CHUNKS chunks. */
function chunkSize(draw: number, length: number): number {
  return Math.max(1 + Math.floor(draw * length), Math.ceil(length / MAX_CHUNKS));
}

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let sink: MxServer;

async function spoolFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  const msgDir = join(dataDir, 'spool', 'msg');
  for (const shard of await readdir(msgDir)) for (const f of await readdir(join(msgDir, shard))) out.push(`msg/${shard}/${f}`);
  for (const f of await readdir(join(dataDir, 'spool', 'tmp'))) out.push(`tmp/${f}`);
  // small messages' content lives in the database (queue.inlineMaxBytes)
  for (const { id } of await withDb(dataDir, (db) => db.all<{ id: string }>('SELECT id FROM spool_inline'))) out.push(`inline/${id}`);
  return out;
}

async function queuedIds(): Promise<string[]> {
  return withDb(setup.dataDir, async (db) => (await db.all<{ id: string }>('SELECT id FROM messages ORDER BY id')).map((r) => r.id));
}

/** One well-behaved session; its queue id (a refusal fails the test). */
async function goodSession(message: Buffer, rcpt: string, opts: { tls: boolean; bdatChunk?: number | undefined }): Promise<string> {
  const r = await sendGood(gw.port, message, rcpt, { starttlsCa: opts.tls ? setup.pki.ca.certPem : undefined, bdatChunk: opts.bdatChunk });
  if (!r.id) throw new Error(`good message refused: ${r.error ?? ''}`);
  return r.id;
}

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.sink.test', dnsNames: ['mx.sink.test'], usage: 'server' });
  sink = await startMxServer({ ip: '127.0.0.20', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  zone = await startDnsZone([
    { name: 'sink.test', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.20' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    listener: { chunking: true },
    // garbage sessions may start STARTTLS and never speak TLS: the handshake limit closes them
    smtp: { maxConnections: 500, maxConnectionsPerIp: 200, tlsHandshakeTimeoutMs: 2000 },
    extra: {
      log: { level: 'info', pretty: false },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: sink.port, defaultRequirement: 'verify', connectionIdle: '1s' },
    },
  });
  gw = await startGateway(setup.configPath);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await sink?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('hostile clients', () => {
  it(`survives ${HOSTILE_SESSIONS} sessions dropped mid-DATA and mid-BDAT (FIN, RST, RSET between chunks; cleartext and STARTTLS) among ${GOOD_MESSAGES} good ones and ${GARBAGE_SESSIONS} of random command lines, losing nothing and leaking nothing`, async () => {
    console.log(`hostile-clients seed: ${SEED} (HOSTILE_SEED=${SEED} repeats this run)`);
    const random = seededRandom(SEED);
    const pid = gw.proc.pid ?? 0;
    const context = (): string => `seed ${SEED}; gateway stderr: ${gw.stderr.slice(-1500)}; log tail: ${gw.stdout.slice(-1500)}`;

    // warm-up: the first deliveries open what the daemon keeps open (database, pooled threads); then the baseline
    const warm = Array.from({ length: 3 }, (_, i) => makeMessage(`warm-${i}-${SEED}`, 2000, random));
    for (const [i, m] of warm.entries()) await goodSession(m, `warm${i}@sink.test`, { tls: i % 2 === 0 });
    await until('warm-up delivered', async () => sink.received.length >= warm.length && (await queuedIds()).length === 0, { context });
    await new Promise((r) => setTimeout(r, 1500)); // the pooled outbound connection's idle time (1 s) passes
    const baseline = await openFds(pid);

    // the plan: every session's parameters come from the seed
    type Plan =
      | { kind: 'hostile'; run: () => Promise<HostileOutcome> }
      | { kind: 'good'; marker: string; message: Buffer; run: () => Promise<string> }
      | { kind: 'garbage'; run: () => Promise<GarbageOutcome> };
    const plans: Plan[] = [];
    const good = new Map<string, Buffer>();
    const hostilePlans = new Map<string, unknown>();
    for (let i = 0; i < HOSTILE_SESSIONS; i++) {
      const message = makeMessage(`hostile-${i}-${SEED}`, 500 + Math.floor(random() * 40_000), random);
      const dropAfter = Math.floor(random() * message.length);
      const transfer = random() < 0.5 ? 'data' : 'bdat';
      const bdatChunk = chunkSize(random(), message.length);
      const dropDraw = random();
      // BDAT may also be abandoned with RSET between chunks (the session then QUITs)
      const drop = transfer === 'bdat' && dropDraw < 1 / 3 ? 'rset' : dropDraw < 2 / 3 ? 'fin' : 'rst';
      const opts = {
        port: gw.port,
        localAddress: `127.0.1.${1 + (i % 50)}`,
        starttlsCa: random() < 0.5 ? setup.pki.ca.certPem : undefined,
        transfer,
        drop,
        message,
        dropAfter,
        bdatChunk,
      } as const;
      plans.push({ kind: 'hostile', run: () => hostileSession(opts) });
      hostilePlans.set(`hostile-${i}-${SEED}`, { transfer, drop: opts.drop, tls: opts.starttlsCa !== undefined, dropAfter, size: message.length, bdatChunk });
    }
    for (let i = 0; i < GOOD_MESSAGES; i++) {
      const marker = `good-${i}-${SEED}`;
      const message = makeMessage(marker, 200 + Math.floor(random() * 60_000), random);
      good.set(marker, message);
      const tls = random() < 0.5;
      const bdatChunk = random() < 0.5 ? chunkSize(random(), message.length) : undefined;
      // spread the good ones through the run
      plans.splice(Math.floor(random() * plans.length), 0, { kind: 'good', marker, message, run: () => goodSession(message, `good${i}@sink.test`, { tls, bdatChunk }) });
    }

    for (let i = 0; i < GARBAGE_SESSIONS; i++) {
      const garbageRandom = seededRandom(SEED + 1000 + i);
      plans.splice(Math.floor(random() * plans.length), 0, { kind: 'garbage', run: () => garbageSession(gw.port, garbageRandom, 30_000, `127.0.3.${1 + (i % 50)}`) });
    }

    const outcomes: Record<string, number> = {};
    const garbage: GarbageOutcome[] = [];
    const goodIds: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < plans.length) {
          const plan = plans[next++];
          if (!plan) break;
          if (plan.kind === 'good') goodIds.push(await plan.run());
          else if (plan.kind === 'garbage') garbage.push(await plan.run());
          else {
            const o = await plan.run();
            const key = o.kind === 'refused' ? `refused ${o.reply}` : o.kind === 'broken' ? `broken at ${o.step}` : 'dropped';
            outcomes[key] = (outcomes[key] ?? 0) + 1;
          }
        }
      }),
    );
    console.log('hostile outcomes', outcomes);

    // the daemon is alive and every hostile session reached its drop point
    expect(gw.proc.exitCode).toBe(null);
    expect(outcomes).toEqual({ dropped: HOSTILE_SESSIONS });
    expect(goodIds).toHaveLength(GOOD_MESSAGES);
    // random and mutated command lines: every reply well formed, every session closed by the server after QUIT
    expect(garbage.flatMap((g) => g.malformed)).toEqual([]);
    expect(garbage.filter((g) => !g.closed).map((g) => g.sent)).toEqual([]);
    expect(garbage.reduce((n, g) => n + g.replies, 0)).toBeGreaterThan(GARBAGE_SESSIONS);

    // every good message arrives once, byte for byte (after the gateway's Received header); no dropped one arrives
    const markerOf = (body: Buffer): string => /^Subject: (\S+)\r$/m.exec(body.toString('latin1'))?.[1] ?? '?';
    await until('every good message delivered', () => sink.received.length >= warm.length + GOOD_MESSAGES, { timeoutMs: 180_000, context });
    await until('queue empty', async () => (await queuedIds()).length === 0, { timeoutMs: 60_000, context });
    const delivered = sink.received.slice(warm.length);
    // a dropped message that arrived anyway, with the session that sent it
    expect(delivered.filter((m) => !good.has(markerOf(m.body))).map((m) => ({ marker: markerOf(m.body), bytes: m.body.length, session: hostilePlans.get(markerOf(m.body)) }))).toEqual([]);
    expect(delivered.map((m) => markerOf(m.body)).sort()).toEqual([...good.keys()].sort());
    for (const m of delivered) expect(stripTraceHeaders(m.body).equals(good.get(markerOf(m.body)) ?? Buffer.alloc(0))).toBe(true);

    // nothing orphaned: no spool file (temporary or queued), no queue row
    expect(await spoolFiles(setup.dataDir)).toEqual([]);
    expect(await queuedIds()).toEqual([]);

    // no descriptor leaked: back to the baseline once pooled outbound connections idle out
    let fds = 0;
    await until('descriptors back to baseline', async () => (fds = await openFds(pid)) <= baseline, { timeoutMs: 60_000, context: () => `${fds} open, baseline ${baseline}; ${context()}` });

    // no storage failure, no EBADF anywhere in the log; each drop logged as the client going away
    const lines = gw.logLines();
    expect(lines.filter((l) => l.reason === 'SG_STORAGE_FAILED' || JSON.stringify(l).includes('EBADF'))).toEqual([]);
    expect(lines.filter((l) => l.event === 'MESSAGE_REJECTED' && l.reason === 'SG_CLIENT_GONE').length).toBe(HOSTILE_SESSIONS);
    expect(gw.stderr).toBe('');

    // and a fresh session still gets its 250
    const after = makeMessage(`after-${SEED}`, 1000, random);
    expect(await goodSession(after, 'after@sink.test', { tls: true })).toMatch(/^[0-9A-Z]{20}$/);
  }, 600_000);
});
