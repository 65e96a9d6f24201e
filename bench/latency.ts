/**
 * The latency part of `npm run bench`: accept → delivered, per message, at a
 * paced rate (half of the measured end-to-end maximum), through Sealgate and
 * then through Postfix. Both ends are in this process, so both timestamps
 * come from one clock: the bench's own SMTP client (a few sessions, each
 * reused) notes when it read the 250 to DATA; the bench's own loopback SMTP
 * sink (latency-sink.ts, which greets at once) notes when that message's
 * DATA ended there. Both relays first carry BENCH_LATENCY_WARMUP messages the
 * same way, not measured. Each
 * message carries a unique X-Bench-Id header that ties the two together.
 */
import { startDnsZone } from '../test/helpers/dns-zone.js';
import { startGateway, type RunningGateway } from '../test/helpers/gateway.js';
import { relayGatewaySetup } from './relay-setup.js';
import { freePort, startPostfix, type PostfixInstance } from '../test/helpers/postfix.js';
import { dataPayload, RawSmtp } from '../test/helpers/smtp-client.js';
import { FROM, POSTFIX_IP, SINK_IP, waitUntil } from './load.js';
import { summariseLatency, type Figures, type LatencySummary } from './report.js';
import { startLatencySink, type LatencySink } from './latency-sink.js';

/**
 * Most messages a second one session is asked to carry: each message is
 * three round trips and a 250 that waits for an fsync and a commit, about
 * 10 – 20 ms under load, so one session cannot keep a faster pace (at 249
 * msg/s, four sessions sent 219 a second).
 */
const RATE_PER_SESSION = 40;

/** Pure: the sessions the paced client uses: BENCH_LATENCY_SESSIONS, else enough that none is asked for more than RATE_PER_SESSION (at least 4). */
export function latencySessions(rate: number, env: NodeJS.ProcessEnv = process.env): number {
  const set = env.BENCH_LATENCY_SESSIONS;
  if (set !== undefined && set !== '') return Number(set);
  return Math.max(4, Math.ceil(rate / RATE_PER_SESSION));
}
const COUNT = Number(process.env.BENCH_LATENCY_COUNT ?? 1000);
/** Messages sent the same way before the measured ones, not measured: the latency of a running relay, not of one just started (its first messages wait for compilation, its first MX lookups and connections). */
const WARMUP = Number(process.env.BENCH_LATENCY_WARMUP ?? 500);
const BYTES = 2 * 1024;
const TO = 'bob@bench.test';

/** A 2 KB message whose X-Bench-Id header names it. */
export function latencyMessage(id: string, bytes = BYTES): Buffer {
  const head = [`From: <${FROM}>`, `To: <${TO}>`, `Subject: bench ${id}`, `Message-ID: <${id}@bench.test>`, `X-Bench-Id: ${id}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', ''].join('\r\n');
  const line = `${'x'.repeat(76)}\r\n`;
  let body = '';
  while (head.length + body.length + line.length <= bytes) body += line;
  return Buffer.from(head + body, 'latin1');
}

/**
 * Sends `count` messages to host:port, message i due at start + i/rate, over
 * `sessions` reused sessions; returns bench id → hrtime when its 250 was read.
 */
async function pacedSend(host: string, port: number, prefix: string, count: number, rate: number, sessions: number): Promise<{ accepted: Map<string, bigint>; seconds: number }> {
  const accepted = new Map<string, bigint>();
  const expect = (code: number, r: { code: number; text: string }, what: string): void => {
    if (r.code !== code) throw new Error(`${what} answered ${r.text}`);
  };
  // the sessions are open (greeted, EHLO answered) before the clock starts: connecting is not what is measured, and a
  // relay that greets late (smtp-server waits 100 ms) would otherwise start with a burst of the messages due meanwhile
  const clients = await Promise.all(
    Array.from({ length: sessions }, async () => {
      const { client } = await RawSmtp.connect(port, { host });
      expect(250, await client.command('EHLO bench.client.test'), 'EHLO');
      return client;
    }),
  );
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (client: RawSmtp): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const due = start + BigInt(Math.round((i * 1e9) / rate));
      const wait = Number(due - process.hrtime.bigint()) / 1e6;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `${prefix}${i}`;
      expect(250, await client.command(`MAIL FROM:<${FROM}>`), 'MAIL FROM');
      expect(250, await client.command(`RCPT TO:<${TO}>`), 'RCPT TO');
      expect(250, await client.data(dataPayload(latencyMessage(id))), 'DATA');
      accepted.set(id, process.hrtime.bigint());
    }
    await client.quit();
  };
  await Promise.all(clients.map(worker));
  return { accepted, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function measure(host: string, port: number, sink: LatencySink, prefix: string, rate: number, sessions: number): Promise<LatencySummary & { achievedRate: number }> {
  if (WARMUP > 0) {
    const warm = await pacedSend(host, port, `${prefix}w`, WARMUP, rate, sessions);
    await waitUntil(async () => [...warm.accepted.keys()].every((id) => sink.delivered.has(id)), 600_000, `${WARMUP} warm-up messages at the latency sink`, 100);
  }
  const sent = await pacedSend(host, port, prefix, COUNT, rate, sessions);
  await waitUntil(async () => [...sent.accepted.keys()].every((id) => sink.delivered.has(id)), 600_000, `${COUNT} messages at the latency sink`, 100);
  const ms = [...sent.accepted].map(([id, at]) => Number((sink.delivered.get(id) ?? at) - at) / 1e6);
  const summary = summariseLatency(ms);
  if (!summary) throw new Error('no latency sample');
  return { ...summary, achievedRate: COUNT / sent.seconds };
}

export async function latencyPart(rate: number, rateSource: string, figures: Figures): Promise<string[]> {
  if (!(rate > 0)) throw new Error(`latency rate ${rate} is not a positive number (BENCH_LATENCY_RATE)`);
  const sessions = latencySessions(rate);
  if (!(Number.isInteger(sessions) && sessions > 0)) throw new Error(`BENCH_LATENCY_SESSIONS ${String(sessions)} is not a positive whole number`);
  const sink = await startLatencySink(SINK_IP, await freePort(SINK_IP));
  const zone = await startDnsZone([
    { name: 'bench.test', type: 'MX', exchange: 'sink.bench.test', priority: 10 },
    { name: 'sink.bench.test', type: 'A', address: SINK_IP },
  ]);
  // the relay part's configuration: inspection on, archive on (unless BENCH_ARCHIVE=off)
  const setup = await relayGatewaySetup(zone.server, sink.port);
  let gw: RunningGateway | undefined;
  let pf: PostfixInstance | undefined;
  let sealgate: LatencySummary & { achievedRate: number };
  let postfix: LatencySummary & { achievedRate: number };
  try {
    gw = await startGateway(setup.configPath);
    sealgate = await measure('127.0.0.1', gw.port, sink, 's', rate, sessions);
    await gw.stop();
    pf = await startPostfix({
      smtpd: { host: POSTFIX_IP, port: await freePort(POSTFIX_IP) },
      relayhost: { host: SINK_IP, port: sink.port },
      mainCf: { default_destination_concurrency_limit: '20', smtp_tls_security_level: 'may' },
    });
    postfix = await measure(POSTFIX_IP, pf.smtpd.port, sink, 'p', rate, sessions);
  } finally {
    await pf?.cleanup().catch(() => undefined);
    await gw?.stop();
    await sink.close();
    await zone.close();
    await setup.cleanup();
  }
  figures.latency = { rate, rateSource, sessions, sealgate, postfix };
  const row = (name: string, s: LatencySummary & { achievedRate: number }): string =>
    `| ${name} | ${s.count} | ${s.achievedRate.toFixed(0)} | ${s.p50Ms.toFixed(1)} | ${s.p95Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.maxMs.toFixed(1)} |`;
  return [
    '## latency: accept → delivered at half of the maximum end-to-end rate',
    '',
    `${COUNT} × 2 KB paced at ${rate.toFixed(0)} msg/s (${rateSource}) from the bench's SMTP client (${sessions} reused sessions) → relay → the bench's SMTP sink (greets at once), after ${WARMUP} unmeasured warm-up messages;`,
    "accepted = the client read 250 to DATA, delivered = the sink's DATA ended (one clock). Sealgate as in the relay part (inspection and archive on).",
    '',
    '| relay | messages | sent msg/s | p50 ms | p95 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('Sealgate', sealgate),
    row('Postfix', postfix),
  ];
}
