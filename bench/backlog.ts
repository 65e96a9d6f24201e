/**
 * The backlog part of `npm run bench`: BENCH_BACKLOG (default 100 000) 2 KB
 * messages accepted while the MX is down, so they sit deferred in the queue;
 * then
 *   (a) the ingress rate (the ingress part's smtp-source load) with that
 *       backlog in the queue, against the same daemon's rate on an empty queue;
 *   (b) `sealgate queue list` and `queue summary` wall time on it (the CLI as
 *       an admin runs it: a new Node process, the daemon's config);
 *   (c) the MX comes back: the time until the sink has the whole queue.
 *
 * The MX is "down" by answering every connection `421 4.3.2` (the way a
 * host under maintenance does; a refused connection would instead be
 * remembered as a dead host). The retry schedule is one hour so the
 * backlog sits still while it is measured; when the MX is back the bench
 * makes the queue due the way an admin would, `sealgate queue retry --all`,
 * and that command's time counts in the drain.
 */
import { createServer, type Server } from 'node:net';
import { startDnsZone } from '../test/helpers/dns-zone.js';
import { runCli, startGateway, type RunningGateway, type TestSetup } from '../test/helpers/gateway.js';
import { relayGatewaySetup } from './relay-setup.js';
import { freePort } from '../test/helpers/postfix.js';
import { withDb } from '../test/helpers/spool-reader.js';
import { SESSIONS, SINK_IP, SIZES, seconds, smtpSource, startSink, waitUntil, type Size } from './load.js';
import { bestAndMedian, rateOf, type Figures } from './report.js';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 100_000);
const QUEUE_RUNS = Number(process.env.BENCH_QUEUE_RUNS ?? 5);
const TO = 'bob@bench.test';
const HOURS = 3 * 3600_000;

function progress(line: string): void {
  process.stderr.write(`backlog: ${line}\n`);
}

async function counts(setup: TestSetup): Promise<{ messages: number; deferred: number }> {
  return withDb(setup.dataDir, async (db) => {
    const m = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages');
    const d = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM recipients WHERE state = 'deferred'");
    return { messages: m?.n ?? 0, deferred: d?.n ?? 0 };
  });
}

/** Waits until `total` recipients are deferred, reporting progress every 10 s. */
async function untilDeferred(setup: TestSetup, total: number): Promise<void> {
  let last = 0;
  await waitUntil(
    async () => {
      const c = await counts(setup);
      if (Date.now() - last > 10_000) {
        last = Date.now();
        progress(`${c.messages} queued, ${c.deferred} of ${total} deferred`);
      }
      return c.deferred >= total;
    },
    HOURS,
    `${total} deferred recipients`,
    1000,
  );
}

/** An MX that is down: every connection gets 421 and is closed. */
async function downMx(port: number): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('421 4.3.2 Service not available (bench: MX down)\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, SINK_IP, () => resolve());
  });
  return server;
}

async function timedCli(args: string[]): Promise<{ seconds: number; stdout: string }> {
  const start = process.hrtime.bigint();
  const r = await runCli(args);
  const s = seconds(start);
  if (r.code !== 0) throw new Error(`sealgate ${args.slice(2).join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return { seconds: s, stdout: r.stdout };
}

async function repeated(args: string[]): Promise<{ runs: number[]; best: number; median: number }> {
  const runs: number[] = [];
  for (let i = 0; i < QUEUE_RUNS; i++) runs.push((await timedCli(args)).seconds);
  const bm = bestAndMedian(runs);
  if (!bm) throw new Error('no queue command runs');
  return { runs, ...bm };
}

export async function backlogPart(figures: Figures): Promise<string[]> {
  if (!(BACKLOG > 0) || !(QUEUE_RUNS > 0)) throw new Error('BENCH_BACKLOG and BENCH_QUEUE_RUNS must be positive numbers');
  const small = SIZES[0];
  if (!small) throw new Error('no 2 KB size');
  const zone = await startDnsZone([
    { name: 'bench.test', type: 'MX', exchange: 'sink.bench.test', priority: 10 },
    { name: 'sink.bench.test', type: 'A', address: SINK_IP },
  ]);
  const port = await freePort(SINK_IP);
  let mx: Server | undefined = await downMx(port);
  let sink: Awaited<ReturnType<typeof startSink>> | undefined;
  // the relay part's configuration, with a retry schedule of one hour so the deferred backlog sits still
  const setup = await relayGatewaySetup(zone.server, port, { retry: { backoff: ['1h'] } });
  const cli = ['-c', setup.configPath];
  let gw: RunningGateway | undefined;
  try {
    gw = await startGateway(setup.configPath);
    const port0 = gw.port;
    let total = 0;

    // warm-up with the same load, so the empty-queue figure is not a cold start's (JIT, caches, first
    // deferrals) against a backlog figure taken after the fill has warmed everything
    const warm = small;
    await smtpSource('127.0.0.1', port0, warm, TO);
    total += warm.count;
    await untilDeferred(setup, total);
    const ingressEmpty = rateOf(small.count, await smtpSource('127.0.0.1', port0, small, TO));
    total += small.count;
    await untilDeferred(setup, total);

    progress(`filling ${BACKLOG} messages (MX down: 421)`);
    const fillSize: Size = { label: '2 KB', bytes: small.bytes, count: BACKLOG };
    const fillStart = process.hrtime.bigint();
    let filling = true;
    const ticker = (async () => {
      while (filling) {
        await new Promise((r) => setTimeout(r, 10_000));
        if (filling) progress(`${(await counts(setup)).messages - total} of ${BACKLOG} accepted`);
      }
    })();
    try {
      await smtpSource('127.0.0.1', port0, fillSize, TO);
    } finally {
      filling = false;
      await ticker;
    }
    const fill = rateOf(BACKLOG, seconds(fillStart));
    total += BACKLOG;
    await untilDeferred(setup, total);

    progress('ingress with the backlog deferred');
    const ingressWithBacklog = rateOf(small.count, await smtpSource('127.0.0.1', port0, small, TO));
    total += small.count;
    await untilDeferred(setup, total);

    progress(`queue list and summary, ${QUEUE_RUNS} runs each`);
    const queueList = await repeated([...cli, 'queue', 'list']);
    const queueSummary = { command: 'queue summary', ...(await repeated([...cli, 'queue', 'summary'])) };

    progress(`MX back; queue retry --all; draining ${total} messages`);
    await new Promise<void>((resolve) => mx?.close(() => resolve()));
    mx = undefined;
    sink = await startSink(port);
    const drainStart = process.hrtime.bigint();
    const flush = await timedCli([...cli, 'queue', 'retry', '--all']);
    const s = sink;
    let last = 0;
    await waitUntil(
      async () => {
        if (Date.now() - last > 10_000) {
          last = Date.now();
          progress(`${s.count} of ${total} at the sink`);
        }
        return s.count >= total;
      },
      HOURS,
      `${total} messages at the sink`,
      100,
    );
    const drain = rateOf(total, seconds(drainStart));

    figures.backlog = { messages: BACKLOG, fill, ingressEmpty, ingressWithBacklog, queueList, queueSummary, flush: { command: 'queue retry --all', seconds: flush.seconds }, drain };
    const fixed = (n: number, d = 2): string => n.toFixed(d);
    return [
      `## backlog: ${BACKLOG} × 2 KB deferred (MX answering 421, retry schedule 1h)`,
      '',
      `ingress: smtp-source -d -s ${SESSIONS} -m ${small.count} -l ${small.bytes} into the same daemon (relay configuration, inspection and archive on), after a warm-up of ${warm.count}: on an empty queue (only the warm-up deferred in it), then with the backlog deferred;`,
      `queue list (default --limit) and ${queueSummary.command}: ${QUEUE_RUNS} runs each of the CLI (a new process each); drain: the MX comes back (smtp-sink), \`sealgate queue retry --all\` makes the queue due (as an admin would), until smtp-sink has all ${total}.`,
      '',
      '| figure | value |',
      '| --- | --- |',
      `| fill (${BACKLOG} accepted while the MX was down) | ${fixed(fill.perSecond, 0)} msg/s (${fixed(fill.seconds, 0)} s) |`,
      `| ingress, empty queue | ${fixed(ingressEmpty.perSecond, 0)} msg/s |`,
      `| ingress, backlog deferred | ${fixed(ingressWithBacklog.perSecond, 0)} msg/s (${fixed(ingressWithBacklog.perSecond / ingressEmpty.perSecond)}×) |`,
      `| queue list | best ${fixed(queueList.best)} s, median ${fixed(queueList.median)} s |`,
      `| ${queueSummary.command} | best ${fixed(queueSummary.best)} s, median ${fixed(queueSummary.median)} s |`,
      `| queue retry --all (inside the drain) | ${fixed(flush.seconds, 1)} s |`,
      `| drain (${total} messages) | ${fixed(drain.perSecond, 0)} msg/s (${fixed(drain.seconds, 0)} s) |`,
    ];
  } finally {
    await gw?.stop();
    sink?.stop();
    await new Promise<void>((resolve) => (mx ? mx.close(() => resolve()) : resolve()));
    await zone.close();
    await setup.cleanup();
  }
}
