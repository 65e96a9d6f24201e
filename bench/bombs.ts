/**
 * What inspection bombs cost, and whether they hold up a clean message: a
 * measurement, not a test (it asserts nothing). Runs the real inspection
 * pool (real worker threads running dist/inspect/inspect-thread.js, with the
 * inspection settings a default config gets on this machine) on hostile
 * messages built in memory (test/fixtures/bombs.ts):
 *
 * flood     25 bombs submitted at once, then one small clean message: when
 *           its verdict came and how many bombs had finished by then, when
 *           the last bomb finished, the pool's thread changes, peak RSS and
 *           RSS afterwards (the whole process: main thread and threads).
 * one each  every kind of bomb alone: inspection time, peak RSS, the
 *           thread's memory after it (what it reports), whether the thread
 *           was replaced, RSS afterwards.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node --expose-gc dist-bench/bench/bombs.js
 *
 * BENCH_BOMBS=n changes the number of bombs in the flood; BENCH_SETTINGS
 * overrides inspection settings as JSON, e.g.
 * BENCH_SETTINGS='{"smallMessageThreads":0,"burstThreads":0}'.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../src/config/load.js';
import { InspectionPool, type PoolEvent } from '../src/inspect/inspect-pool.js';
import type { InspectionResult } from '../src/inspect/inspect-thread.js';
import { archivesBomb, base64Bomb, cleanMessage, manyPartsBomb, nestedMultipartBomb, nestedZipBomb, pdfBomb, zipBomb } from '../test/fixtures/bombs.js';

const MiB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MiB).toFixed(0);
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const threadScript = new URL('../../dist/inspect/inspect-thread.js', import.meta.url);

const KINDS: readonly { name: string; make: () => Buffer }[] = [
  { name: 'nested multipart (480 levels)', make: () => nestedMultipartBomb(480) },
  { name: 'multipart, 900 parts', make: () => manyPartsBomb(900) },
  { name: 'zip bomb (64 MiB of zeros)', make: () => zipBomb() },
  { name: 'nested zip, 6 × 16 MiB at ~150:1', make: () => nestedZipBomb() },
  { name: '5 such nested zips in one message', make: () => archivesBomb(5) },
  { name: 'base64 text part, 24 MiB', make: () => base64Bomb() },
  { name: 'PDF, 1,000 full pages', make: () => pdfBomb() },
];

/** The message as the spool hands it over: 64 KiB chunks. */
const source = (bytes: Buffer) => (): Readable =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
    })(),
  );

/** Samples process RSS (main thread and every worker thread) until stopped. */
function rssSampler(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** Waits, then collects the main thread's garbage (with --expose-gc), so RSS readings are about the threads, not the bench's own leftovers. */
const settle = async (ms: number): Promise<void> => {
  await new Promise((r) => setTimeout(r, ms));
  (globalThis as { gc?: () => void }).gc?.();
};

function verdictText(r: InspectionResult): string {
  return r.verdict.notFullyScanned ? `not fully scanned (${r.verdict.scanReasons.join('; ')})` : r.verdict.phi ? 'PHI' : 'inspected, nothing found';
}

async function main(): Promise<void> {
  if (!existsSync(fileURLToPath(threadScript))) throw new Error('dist/inspect/inspect-thread.js not found: run "npm run build" first');
  const overrides = JSON.parse(process.env.BENCH_SETTINGS ?? '{}') as Record<string, unknown>;
  const config = validateConfig({ smtp: { listeners: [{ name: 'relay', tls: 'none' }] }, connectors: [{ name: 'c', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'] }], inspection: overrides }, 'bench');
  const s = config.inspection;
  const events: PoolEvent[] = [];
  const pool = new InspectionPool({
    threads: s.threads,
    url: threadScript,
    maxHeapMb: s.threadMemory,
    smallThreads: s.smallMessageThreads,
    smallMessageBytes: s.smallMessageSize,
    burstThreads: s.burstThreads,
    burstAfterMs: s.burstAfter,
    maxThreadMemoryMb: s.maxThreadMemory,
    recycleBytes: s.recycleSize,
    recycleHeapMb: s.recycleHeap,
    onEvent: (e) => events.push(e),
  });
  const bombs = Number(process.env.BENCH_BOMBS ?? 25);
  const built = KINDS.map((k) => ({ ...k, bytes: k.make() }));
  const clean = cleanMessage(1);
  const out = (line = ''): void => {
    process.stdout.write(`${line}\n`);
  };
  const { customDetectors: _c, e2eDomains: _e, enabled: _n, ...shown } = s;
  out(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  out(`inspection settings: ${JSON.stringify(shown)}`);
  out(`MALLOC_MMAP_THRESHOLD_: ${process.env.MALLOC_MMAP_THRESHOLD_ ?? '(not set: glibc\'s dynamic threshold)'}${process.env.MALLOC_ARENA_MAX ? `, MALLOC_ARENA_MAX: ${process.env.MALLOC_ARENA_MAX}` : ''}`);
  const env = [
    process.env.MALLOC_MMAP_THRESHOLD_ ? `MALLOC_MMAP_THRESHOLD_=${process.env.MALLOC_MMAP_THRESHOLD_}` : '',
    process.env.MALLOC_ARENA_MAX ? `MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}` : '',
    Object.keys(overrides).length ? `BENCH_SETTINGS='${JSON.stringify(overrides)}'` : '',
  ].filter(Boolean);
  out(`reproduce: npm run build && npx tsc -p tsconfig.bench.json && ${env.length ? `${env.join(' ')} ` : ''}node --expose-gc dist-bench/bench/bombs.js`);
  if (!(globalThis as { gc?: unknown }).gc) out('(run with --expose-gc for steadier RSS readings)');
  out();

  // warm the threads up (module loading), so the figures are about the messages
  await Promise.all(Array.from({ length: s.threads + s.smallMessageThreads }, () => pool.inspect({ source: source(cleanMessage()), custom: [], timeoutMs: s.maxScanTime, size: cleanMessage().length })));
  await settle(500);
  const rssBefore = process.memoryUsage.rss();
  events.length = 0;

  out(`## flood: ${bombs} bombs at once, then one clean message (${clean.length} bytes)`);
  out();
  const sampler = rssSampler();
  const t0 = performance.now();
  let finishedBombs = 0;
  let lastBomb = 0;
  const verdicts = new Map<string, number>();
  const running: Promise<void>[] = [];
  for (let i = 0; i < bombs; i++) {
    const kind = built[i % built.length];
    if (!kind) continue;
    running.push(
      pool.inspect({ source: source(kind.bytes), custom: [], timeoutMs: s.maxScanTime, size: kind.bytes.length }).then((r) => {
        finishedBombs++;
        lastBomb = performance.now() - t0;
        const v = r.verdict.notFullyScanned ? 'not fully scanned' : 'inspected';
        verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
      }),
    );
  }
  const cleanStart = performance.now();
  let cleanAfter = 0;
  let bombsBeforeClean = 0;
  running.push(
    pool.inspect({ source: source(clean), custom: [], timeoutMs: s.maxScanTime, size: clean.length }).then(() => {
      cleanAfter = performance.now() - cleanStart;
      bombsBeforeClean = finishedBombs;
    }),
  );
  await Promise.all(running);
  const peak = sampler.stop();
  await settle(2000);
  const rssAfter = process.memoryUsage.rss();
  const stats = pool.stats();
  out('| clean verdict after | bombs finished before it | last bomb finished after | bomb verdicts | burst threads started | threads recycled | most threads at once | RSS before | peak RSS | RSS 2 s after |');
  out('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  out(
    `| ${secs(cleanAfter)} | ${bombsBeforeClean} of ${bombs} | ${secs(lastBomb)} | ${[...verdicts].map(([k, n]) => `${n} ${k}`).join(', ')} | ${stats.burstStarted} | ${stats.recycled} | ${stats.peakThreads} | ${mb(rssBefore)} MiB | ${mb(peak)} MiB | ${mb(rssAfter)} MiB |`,
  );
  out();

  out('## one bomb at a time (alone in the pool)');
  out();
  out('| bomb | message size | inspection time | peak RSS | thread memory after it | thread replaced | RSS 1 s after | verdict |');
  out('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const k of built) {
    events.length = 0;
    const sample = rssSampler();
    const start = performance.now();
    const r = await pool.inspect({ source: source(k.bytes), custom: [], timeoutMs: s.maxScanTime, size: k.bytes.length });
    const took = performance.now() - start;
    const p = sample.stop();
    await settle(1000);
    const done = events.find((e) => e.type === 'done');
    const heap = done?.type === 'done' && done.heapMb !== undefined ? `${done.heapMb.toFixed(0)} MiB` : '?';
    const recycled = events.find((e) => e.type === 'recycle');
    out(`| ${k.name} | ${(k.bytes.length / MiB).toFixed(2)} MiB | ${secs(took)} | ${mb(p)} MiB | ${heap} | ${recycled?.type === 'recycle' ? `yes (${recycled.reason})` : 'no'} | ${mb(process.memoryUsage.rss())} MiB | ${verdictText(r)} |`);
  }
  out();
  out(`RSS at the end: ${mb(process.memoryUsage.rss())} MiB (before the bombs: ${mb(rssBefore)} MiB; the bench itself holds the ${mb(built.reduce((n, k) => n + k.bytes.length, 0))} MiB of bombs)`);
  await pool.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
