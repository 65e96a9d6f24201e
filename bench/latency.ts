/**
 * The latency part of `npm run bench`: accept → delivered, per message, at a
 * paced rate (half of the measured end-to-end maximum), through Sealgate and
 * then through Postfix. Both ends are in this process, so both timestamps
 * come from one clock: the bench's own SMTP client (a few sessions, each
 * reused) notes when it read the 250 to DATA; the bench's own loopback SMTP
 * server (smtp-server) notes when that message's DATA ended there. Each
 * message carries a unique X-Bench-Id header that ties the two together.
 */
import { SMTPServer } from 'smtp-server';
import { startDnsZone } from '../test/helpers/dns-zone.js';
import { startGateway, type RunningGateway } from '../test/helpers/gateway.js';
import { relayGatewaySetup } from './relay-setup.js';
import { freePort, startPostfix, type PostfixInstance } from '../test/helpers/postfix.js';
import { dataPayload, RawSmtp } from '../test/helpers/smtp-client.js';
import { FROM, POSTFIX_IP, SINK_IP, waitUntil } from './load.js';
import { summariseLatency, type Figures, type LatencySummary } from './report.js';

const SESSIONS = Number(process.env.BENCH_LATENCY_SESSIONS ?? 4);
const COUNT = Number(process.env.BENCH_LATENCY_COUNT ?? 1000);
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

export function benchIdOf(message: Buffer): string | undefined {
  const end = message.indexOf('\r\n\r\n');
  return /^X-Bench-Id: (\S+)\r?$/im.exec(message.subarray(0, end < 0 ? message.length : end).toString('latin1'))?.[1];
}

interface Sink {
  readonly port: number;
  /** Bench id → hrtime (ns) when its DATA ended here. */
  readonly delivered: Map<string, bigint>;
  close(): Promise<void>;
}

async function startLatencySink(): Promise<Sink> {
  const port = await freePort(SINK_IP);
  const delivered = new Map<string, bigint>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const at = process.hrtime.bigint();
        const id = benchIdOf(Buffer.concat(chunks));
        if (id !== undefined && !delivered.has(id)) delivered.set(id, at);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, SINK_IP, () => resolve());
  });
  return { port, delivered, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Sends `count` messages to host:port, message i due at start + i/rate, over
 * `sessions` reused sessions; returns bench id → hrtime when its 250 was read.
 */
async function pacedSend(host: string, port: number, prefix: string, count: number, rate: number, sessions: number): Promise<{ accepted: Map<string, bigint>; seconds: number }> {
  const accepted = new Map<string, bigint>();
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    const { client } = await RawSmtp.connect(port, { host });
    const expect = (code: number, r: { code: number; text: string }, what: string): void => {
      if (r.code !== code) throw new Error(`${what} answered ${r.text}`);
    };
    expect(250, await client.command('EHLO bench.client.test'), 'EHLO');
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
  await Promise.all(Array.from({ length: sessions }, worker));
  return { accepted, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function measure(host: string, port: number, sink: Sink, prefix: string, rate: number): Promise<LatencySummary & { achievedRate: number }> {
  const sent = await pacedSend(host, port, prefix, COUNT, rate, SESSIONS);
  await waitUntil(async () => [...sent.accepted.keys()].every((id) => sink.delivered.has(id)), 600_000, `${COUNT} messages at the latency sink`, 100);
  const ms = [...sent.accepted].map(([id, at]) => Number((sink.delivered.get(id) ?? at) - at) / 1e6);
  const summary = summariseLatency(ms);
  if (!summary) throw new Error('no latency sample');
  return { ...summary, achievedRate: COUNT / sent.seconds };
}

export async function latencyPart(rate: number, rateSource: string, figures: Figures): Promise<string[]> {
  if (!(rate > 0)) throw new Error(`latency rate ${rate} is not a positive number (BENCH_LATENCY_RATE)`);
  const sink = await startLatencySink();
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
    sealgate = await measure('127.0.0.1', gw.port, sink, 's', rate);
    await gw.stop();
    pf = await startPostfix({
      smtpd: { host: POSTFIX_IP, port: await freePort(POSTFIX_IP) },
      relayhost: { host: SINK_IP, port: sink.port },
      mainCf: { default_destination_concurrency_limit: '20', smtp_tls_security_level: 'may' },
    });
    postfix = await measure(POSTFIX_IP, pf.smtpd.port, sink, 'p', rate);
  } finally {
    await pf?.cleanup().catch(() => undefined);
    await gw?.stop();
    await sink.close();
    await zone.close();
    await setup.cleanup();
  }
  figures.latency = { rate, rateSource, sessions: SESSIONS, sealgate, postfix };
  const row = (name: string, s: LatencySummary & { achievedRate: number }): string =>
    `| ${name} | ${s.count} | ${s.achievedRate.toFixed(0)} | ${s.p50Ms.toFixed(1)} | ${s.p95Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.maxMs.toFixed(1)} |`;
  return [
    '## latency: accept → delivered at half of the maximum end-to-end rate',
    '',
    `${COUNT} × 2 KB paced at ${rate.toFixed(0)} msg/s (${rateSource}) from the bench's SMTP client (${SESSIONS} reused sessions) → relay → the bench's SMTP server;`,
    "accepted = the client read 250 to DATA, delivered = the sink's DATA ended (one clock). Sealgate as in the relay part (inspection and archive on).",
    '',
    '| relay | messages | sent msg/s | p50 ms | p95 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('Sealgate', sealgate),
    row('Postfix', postfix),
  ];
}
