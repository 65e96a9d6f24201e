/**
 * The inspection threads: real worker threads running the compiled
 * inspection (npm test builds first) on real hostile messages built here
 * (test/fixtures/bombs.ts). A message is inspected there with the same
 * verdict as on the main thread; one that never finishes arriving is cut at
 * the time limit, counted as not fully scanned, and its thread replaced.
 *
 * Scheduling (src/inspect/schedule.ts) through the real pool: a small clean
 * message gets its verdict while bombs are still running — on the
 * small-message thread, or on a burst thread when every thread has been
 * busy on one message past burstAfter — and never more threads than the
 * cap. The small-message thread starts only when first needed. Memory: the thread that ran a large message, or whose heap grew, is
 * replaced after the job, and every job is still settled exactly once.
 * Assertions are about the order of completions and the pool's events and
 * counters, never about elapsed time or RSS.
 */
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { InspectionPool, type PoolEvent, type PoolOptions } from '../../src/inspect/inspect-pool.js';
import type { InspectionResult } from '../../src/inspect/inspect-thread.js';
import { workerUrl } from '../../src/workers/worker-url.js';
import { base64Bomb, cleanMessage, manyPartsBomb, nestedMultipartBomb, nestedZipBomb, pdfBomb, zipBomb } from '../fixtures/bombs.js';

const url = workerUrl(new URL('../../src/daemon.ts', import.meta.url).href, 'inspect/inspect-thread');
const pool = new InspectionPool({ threads: 1, url, maxHeapMb: 256 });

afterAll(async () => {
  await pool.close();
});

const message = (body: string): { source: () => Readable; size: number } => {
  const bytes = Buffer.from(`From: a@example.com\r\nSubject: Results for DOB 04/17/1968\r\n\r\n${body}\r\n`);
  return { source: () => Readable.from([bytes]), size: bytes.length };
};

/** The message as the spool hands it over: 64 KiB chunks. */
const chunked = (bytes: Buffer) => (): Readable =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
    })(),
  );

/**
 * A bomb whose first kilobyte arrives at once and the rest only when the
 * test opens the gate: its thread is busy on it until then, as long as the
 * test needs, and then it is inspected for real.
 */
function gated(bytes: Buffer): { source: () => Readable; size: number; open: () => void } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const source = (): Readable =>
    Readable.from(
      (async function* () {
        yield bytes.subarray(0, 1024);
        await gate;
        for (let i = 1024; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
      })(),
    );
  return { source, size: bytes.length, open };
}

/** A pool whose events the test can read and wait for. */
function observedPool(options: Omit<PoolOptions, 'url' | 'onEvent'>): { pool: InspectionPool; events: PoolEvent[]; when: (match: (e: PoolEvent) => boolean) => Promise<PoolEvent> } {
  const events: PoolEvent[] = [];
  const waiters: { match: (e: PoolEvent) => boolean; resolve: (e: PoolEvent) => void }[] = [];
  const p = new InspectionPool({
    ...options,
    url,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) {
        if (!w.match(e)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    },
  });
  const when = (match: (e: PoolEvent) => boolean): Promise<PoolEvent> => {
    const seen = events.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { pool: p, events, when };
}

/** Records the order in which jobs finish. */
function completions(): { order: string[]; track: (name: string, p: Promise<InspectionResult>) => Promise<InspectionResult> } {
  const order: string[] = [];
  return {
    order,
    track: (name, p) =>
      p.then((r) => {
        order.push(name);
        return r;
      }),
  };
}

/** Every job started exactly once and finished exactly once (none lost, none inspected twice). */
function expectEachJobOnce(events: readonly PoolEvent[], jobs: number): void {
  const starts = events.filter((e) => e.type === 'start').map((e) => (e.type === 'start' ? e.job : 0));
  const dones = events.filter((e) => e.type === 'done').map((e) => (e.type === 'done' ? e.job : 0));
  expect(new Set(starts).size).toBe(starts.length);
  expect(new Set(dones).size).toBe(dones.length);
  expect(starts.length).toBe(jobs);
  expect([...dones].sort((a, b) => a - b)).toEqual([...starts].sort((a, b) => a - b));
}

const startOf = (events: readonly PoolEvent[], job: number): Extract<PoolEvent, { type: 'start' }> | undefined =>
  events.find((e): e is Extract<PoolEvent, { type: 'start' }> => e.type === 'start' && e.job === job);

describe('InspectionPool', () => {
  it('inspects in a thread: the verdict, the subject check and custom detectors, but never the text', async () => {
    const r = await pool.inspect({
      ...message('Member number ACM123456789 was diagnosed with asthma.'),
      custom: [{ id: 'acme', category: 'MEMBER_NO', pattern: '\\bACM\\d{9}\\b', keywords: ['member number'], keywordRequired: true, window: 40, validator: 'none', minCount: 1, identifier: true }],
      timeoutMs: 30_000,
    });
    expect(r.verdict.phi).toBe(true);
    expect(r.verdict.findings.map((f) => f.category)).toContain('MEMBER_NO');
    expect(r.subjectSensitive).toBe(true);
    expect(r.extracted.subject).toBe('Results for DOB 04/17/1968');
    expect(Object.keys(r.extracted)).not.toContain('texts');
    expect(JSON.stringify(r)).not.toContain('ACM123456789');
  });

  it('cuts a message at the time limit, fails closed, and the next message is inspected by a fresh thread', async () => {
    const stuck = new Readable({ read() {} });
    stuck.push('Subject: slow\r\n\r\nPatient SSN 536-22-1234');
    const r = await pool.inspect({ source: () => stuck, custom: [], timeoutMs: 300, size: 100 });
    expect(r.verdict).toMatchObject({ notFullyScanned: true, phi: false, scanReasons: ['time limit reached (0 s)'] });
    expect(stuck.destroyed).toBe(true);
    expect(pool.stats().recycled).toBe(1);
    const next = await pool.inspect({ ...message('Nothing to see.'), custom: [], timeoutMs: 30_000 });
    expect(next.verdict).toMatchObject({ notFullyScanned: false, phi: false });
  });

  it('runs more messages than threads, one after another', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => pool.inspect({ ...message(`note ${i}`), custom: [], timeoutMs: 30_000 })));
    expect(results.map((r) => r.verdict.notFullyScanned)).toEqual([false, false, false, false, false]);
  });
});

describe('a heavy message cannot hold up small ones', () => {
  it('a clean message sent after a flood of bombs gets its verdict on the small-message thread before the bombs are done; every bomb ends safely', async () => {
    const { pool: p, events } = observedPool({ threads: 1, smallThreads: 1, burstThreads: 0, maxHeapMb: 512 });
    try {
      const { order, track } = completions();
      const bombs = [nestedZipBomb(), pdfBomb(), base64Bomb(), nestedMultipartBomb(480), manyPartsBomb(900), zipBomb()];
      const running = bombs.map((b, i) => track(`bomb ${i + 1}`, p.inspect({ source: chunked(b), custom: [], timeoutMs: 120_000, size: b.length })));
      const clean = cleanMessage();
      const verdict = await track('clean', p.inspect({ source: chunked(clean), custom: [], timeoutMs: 120_000, size: clean.length }));
      expect(verdict.verdict).toMatchObject({ phi: false, notFullyScanned: false, findings: [] });
      // it ran on the thread reserved for small messages, which a large bomb can never occupy
      expect(startOf(events, bombs.length + 1)?.role).toBe('small');

      const results = await Promise.all(running);
      // the clean verdict came while bombs were still being inspected: at most the two that were running when it arrived finished first
      // (the small-message thread was on the nested multipart, the general one on the nested zip)
      expect(order.indexOf('clean')).toBeLessThan(order.length - 1);
      expect(order.indexOf('clean')).toBeLessThanOrEqual(2);
      // handled safely, as before: the archive, PDF, text and multipart bombs are not fully scanned; the deep nesting is just walked
      expect(results.map((r) => r.verdict.notFullyScanned)).toEqual([true, true, true, false, true, true]);
      expectEachJobOnce(events, bombs.length + 1);
    } finally {
      await p.close();
    }
  });

  it('when every thread has been busy on one message past burstAfter, a burst thread takes the waiting clean message; the cap stops more threads; burst threads stop when idle', async () => {
    const { pool: p, events, when } = observedPool({ threads: 1, smallThreads: 1, burstThreads: 1, burstAfterMs: 200, smallMessageBytes: 2 * 1024 * 1024, maxHeapMb: 256 });
    try {
      const { order, track } = completions();
      // two small bombs, held mid-message: both threads are busy on them
      const a = gated(nestedMultipartBomb(480));
      const b = gated(pdfBomb());
      const bombA = track('bomb A', p.inspect({ source: a.source, custom: [], timeoutMs: 120_000, size: a.size }));
      const bombB = track('bomb B', p.inspect({ source: b.source, custom: [], timeoutMs: 120_000, size: b.size }));
      await when((e) => e.type === 'start' && e.job === 2);
      const clean = cleanMessage(1);
      await track('clean', p.inspect({ source: chunked(clean), custom: [], timeoutMs: 120_000, size: clean.length }));
      // the clean verdict came while both bombs were still running, from a burst thread
      expect(order).toEqual(['clean']);
      expect(startOf(events, 3)?.role).toBe('burst');
      // nothing left for it: the burst thread stopped after its job
      expect(p.stats()).toMatchObject({ burstStarted: 1, retired: 1, threads: { general: 1, small: 1, burst: 0 } });

      // a third bomb: another burst thread takes it, which is the cap (1 + 1 + 1 threads)
      const c = gated(nestedZipBomb());
      const bombC = track('bomb C', p.inspect({ source: c.source, custom: [], timeoutMs: 120_000, size: c.size }));
      await when((e) => e.type === 'start' && e.job === 4);
      expect(startOf(events, 4)?.role).toBe('burst');
      // at the cap a clean message waits for the first thread to finish: no fourth thread, however long it waits
      const clean2 = track('clean 2', p.inspect({ source: chunked(cleanMessage(2)), custom: [], timeoutMs: 120_000, size: cleanMessage(2).length }));
      // let three burstAfter periods pass: time enough for another burst thread, were one allowed
      await new Promise((r) => setTimeout(r, 600));
      expect(p.stats()).toMatchObject({ waiting: 1, peakThreads: 3, threads: { general: 1, small: 1, burst: 1 } });
      a.open();
      await clean2;
      // it went to the first thread that came free, ahead of nothing else
      expect(order).toEqual(['clean', 'bomb A', 'clean 2']);
      b.open();
      c.open();
      const [ra, rb, rc] = await Promise.all([bombA, bombB, bombC]);
      expect([ra.verdict.notFullyScanned, rb.verdict.notFullyScanned, rc.verdict.notFullyScanned]).toEqual([false, true, true]);
      expect(p.stats()).toMatchObject({ peakThreads: 3, threads: { general: 1, small: 1, burst: 0 } });
      expectEachJobOnce(events, 5);
    } finally {
      await p.close();
    }
  });
});

describe('the small-message lane starts when first needed', () => {
  it('small mail alone runs on the general thread; a large message starts the lane, which takes the small one that follows', async () => {
    const { pool: p, events, when } = observedPool({ threads: 1, smallThreads: 1, burstThreads: 0, smallMessageBytes: 4096, maxHeapMb: 256 });
    try {
      for (let i = 0; i < 3; i++) {
        const clean = cleanMessage(i);
        const r = await p.inspect({ source: chunked(clean), custom: [], timeoutMs: 30_000, size: clean.length });
        expect(r.verdict).toMatchObject({ phi: false, notFullyScanned: false });
      }
      // three messages, one thread: no small-message thread was started for them
      expect(p.stats()).toMatchObject({ peakThreads: 1, threads: { general: 1, small: 0, burst: 0 } });
      expect(events.filter((e) => e.type === 'spawn').map((e) => (e.type === 'spawn' ? e.role : ''))).toEqual(['general']);

      // a large message, held mid-message: the general thread is busy on it, and the lane starts
      const big = gated(nestedZipBomb());
      expect(big.size).toBeGreaterThan(4096);
      const { order, track } = completions();
      const bomb = track('bomb', p.inspect({ source: big.source, custom: [], timeoutMs: 120_000, size: big.size }));
      await when((e) => e.type === 'spawn' && e.role === 'small');
      const clean = cleanMessage(9);
      await track('clean', p.inspect({ source: chunked(clean), custom: [], timeoutMs: 30_000, size: clean.length }));
      expect(order).toEqual(['clean']);
      expect(startOf(events, 5)?.role).toBe('small');
      big.open();
      await bomb;
      // once started, the lane stays
      expect(p.stats()).toMatchObject({ peakThreads: 2, threads: { general: 1, small: 1, burst: 0 } });
      expectEachJobOnce(events, 5);
    } finally {
      await p.close();
    }
  });
});

describe('giving memory back: the thread that ran a large job is replaced', () => {
  it('after a message above recycleSize its thread is replaced; the messages queued behind it are inspected once each, by the new thread', async () => {
    const { pool: p, events } = observedPool({ threads: 1, smallThreads: 0, burstThreads: 0, recycleBytes: 8 * 1024 * 1024, maxHeapMb: 512 });
    try {
      const big = base64Bomb();
      const after = [cleanMessage(1), cleanMessage(2)];
      const results = await Promise.all([
        p.inspect({ source: chunked(big), custom: [], timeoutMs: 120_000, size: big.length }),
        ...after.map((m) => p.inspect({ source: chunked(m), custom: [], timeoutMs: 120_000, size: m.length })),
      ]);
      expect(results.map((r) => r.verdict.notFullyScanned)).toEqual([true, false, false]);
      // the bomb went first (the thread was idle); the clean ones waited and ran on its replacement
      const recycle = events.find((e) => e.type === 'recycle');
      expect(recycle).toMatchObject({ type: 'recycle', reason: 'large message', role: 'general' });
      const bombThread = events.find((e) => e.type === 'start' && e.job === 1);
      expect(bombThread?.type === 'start' && recycle?.type === 'recycle' && recycle.thread === bombThread.thread).toBe(true);
      expect(p.stats()).toMatchObject({ recycled: 1, threads: { general: 1, small: 0, burst: 0 } });
      const replacement = recycle?.type === 'recycle' ? recycle.replacement : -1;
      expect([startOf(events, 2)?.thread, startOf(events, 3)?.thread]).toEqual([replacement, replacement]);
      expectEachJobOnce(events, 3);
    } finally {
      await p.close();
    }
  });

  it('a thread whose heap grew past recycleHeap is replaced, whatever the message size', async () => {
    const { pool: p, events } = observedPool({ threads: 1, smallThreads: 0, recycleBytes: 1024 * 1024 * 1024, recycleHeapMb: 64, maxHeapMb: 512 });
    try {
      const clean = cleanMessage();
      await p.inspect({ source: chunked(clean), custom: [], timeoutMs: 120_000, size: clean.length });
      expect(p.stats().recycled).toBe(0);
      const bomb = nestedZipBomb();
      const r = await p.inspect({ source: chunked(bomb), custom: [], timeoutMs: 120_000, size: bomb.length });
      expect(r.verdict.notFullyScanned).toBe(true);
      expect(events.find((e) => e.type === 'recycle')).toMatchObject({ reason: 'heap' });
      expect(p.stats().recycled).toBe(1);
    } finally {
      await p.close();
    }
  });

  it('a thread that dies on its heap limit mid-message fails the message closed, and the next one gets a fresh thread', async () => {
    const { pool: p, events } = observedPool({ threads: 1, smallThreads: 0, maxHeapMb: 48 });
    try {
      const bomb = nestedZipBomb();
      const r = await p.inspect({ source: chunked(bomb), custom: [], timeoutMs: 120_000, size: bomb.length });
      expect(r.verdict).toMatchObject({ notFullyScanned: true, phi: false, scanReasons: ['inspection ran out of memory or failed'] });
      expect(events.find((e) => e.type === 'recycle')).toMatchObject({ reason: 'failed' });
      const clean = cleanMessage();
      const next = await p.inspect({ source: chunked(clean), custom: [], timeoutMs: 120_000, size: clean.length });
      expect(next.verdict.notFullyScanned).toBe(false);
      expect(startOf(events, 2)?.thread).not.toBe(startOf(events, 1)?.thread);
    } finally {
      await p.close();
    }
  });
});
