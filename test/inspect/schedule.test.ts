/**
 * The inspection scheduler's decisions (src/inspect/schedule.ts), as tables:
 * which waiting message goes to which thread, when a burst thread starts and
 * when the caps stop it, what becomes of a thread after a job. Then a small
 * discrete simulation driven only by those decisions: however many bombs are
 * ahead of it, a clean message starts within burstAfter while the caps allow
 * a thread, and within the first bomb's end when they do not.
 */
import { describe, expect, it } from 'vitest';
import { afterJob, defaultMaxThreadMemoryMb, maxThreads, plan, priorityOrder, recycleReason, type FinishedJob, type JobView, type Plan, type ScheduleSettings, type ThreadView } from '../../src/inspect/schedule.js';

const S: ScheduleSettings = {
  threads: 1,
  smallThreads: 1,
  smallMessageBytes: 100,
  burstThreads: 2,
  burstAfterMs: 1000,
  threadMemoryMb: 100,
  maxThreadMemoryMb: 1000,
  recycleBytes: 1000,
  recycleHeapMb: 50,
};

const G = (id: number, job?: [number, number, number]): ThreadView => ({ id, role: 'general', job: job && { id: job[0], size: job[1], since: job[2] } });
const SM = (id: number, job?: [number, number, number]): ThreadView => ({ id, role: 'small', job: job && { id: job[0], size: job[1], since: job[2] } });
const B = (id: number, job?: [number, number, number]): ThreadView => ({ id, role: 'burst', job: job && { id: job[0], size: job[1], since: job[2] } });
const J = (id: number, size: number): JobView => ({ id, size });

describe('priorityOrder: smallest first, equal sizes in arrival order', () => {
  it.each<[string, JobView[], number[]]>([
    ['empty', [], []],
    ['by size', [J(1, 500), J(2, 50), J(3, 200)], [2, 3, 1]],
    ['ties keep arrival order', [J(1, 50), J(2, 10), J(3, 50), J(4, 10)], [2, 4, 1, 3]],
    ['a clean message behind a flood of larger bombs goes first', [...Array.from({ length: 25 }, (_, i) => J(i + 1, 60_000)), J(99, 2_000)], [99, ...Array.from({ length: 25 }, (_, i) => i + 1)]],
  ])('%s', (_name, waiting, expected) => {
    expect(priorityOrder(waiting).map((j) => j.id)).toEqual(expected);
  });
});

describe('plan: jobs to threads, burst threads, caps', () => {
  it.each<[string, ThreadView[], JobView[], number, number, Partial<Plan>]>([
    ['idle lanes: the small job to the small lane, the large one to the general thread', [G(1), SM(2)], [J(10, 500), J(11, 50)], 0, 0, { assign: [{ thread: 2, job: 11 }, { thread: 1, job: 10 }], spawn: false, retire: [] }],
    ['two small jobs: both lanes take one', [G(1), SM(2)], [J(10, 50), J(11, 60)], 0, 0, { assign: [{ thread: 2, job: 10 }, { thread: 1, job: 11 }], spawn: false }],
    ['the small lane never takes a large job', [G(1, [5, 500, 0]), SM(2)], [J(10, 500)], 100, 0, { assign: [], spawn: false, recheckAt: 1000 }],
    ['a large job waits behind a general thread busy past burstAfter: burst', [G(1, [5, 500, 0]), SM(2)], [J(10, 500)], 1000, 0, { assign: [], spawn: true }],
    ['a small job: the small lane busy briefly, so no burst yet, look again when it reaches burstAfter', [G(1, [5, 500, 0]), SM(2, [6, 50, 500])], [J(10, 10)], 1200, 0, { assign: [], spawn: false, recheckAt: 1500 }],
    ['a small job behind threads all busy past burstAfter: burst', [G(1, [5, 500, 0]), SM(2, [6, 50, 500])], [J(10, 10)], 1500, 0, { spawn: true }],
    ['a large job needs only the general threads stuck', [G(1, [5, 500, 0]), SM(2, [6, 50, 900])], [J(10, 500)], 1000, 0, { spawn: true }],
    ['the thread cap: no burst beyond threads + small + burst threads', [G(1, [5, 500, 0]), SM(2, [6, 50, 0]), B(3, [7, 500, 0]), B(4, [8, 500, 0])], [J(10, 10)], 5000, 0, { spawn: false, recheckAt: undefined }],
    ['threads still shutting down count against the cap', [G(1, [5, 500, 0]), SM(2, [6, 50, 0])], [J(10, 10)], 5000, 2, { spawn: false, recheckAt: undefined }],
    ['an idle burst thread takes a waiting job', [G(1, [5, 500, 0]), SM(2), B(3)], [J(10, 500)], 10, 0, { assign: [{ thread: 3, job: 10 }], spawn: false, retire: [] }],
    ['an idle burst thread with nothing to take stops; base threads stay', [G(1), SM(2), B(3)], [], 10, 0, { assign: [], spawn: false, retire: [3] }],
    ['a busy burst thread is left alone', [G(1), SM(2, [6, 50, 0]), B(3, [7, 500, 0])], [], 10, 0, { assign: [], retire: [] }],
    ['the general thread takes the smallest waiting job when the small lane is busy', [G(1), SM(2, [6, 50, 0])], [J(10, 300), J(11, 20), J(12, 20)], 10, 0, { assign: [{ thread: 1, job: 11 }] }],
    ['nothing waiting, nothing to do', [G(1, [5, 500, 0]), SM(2)], [], 5000, 0, { assign: [], spawn: false, retire: [], recheckAt: undefined }],
  ])('%s', (_name, threads, waiting, now, exiting, expected) => {
    expect(plan(threads, waiting, now, S, exiting)).toMatchObject(expected);
  });

  it.each<[string, number, boolean]>([
    ['room for a 100 MiB burst thread within 1000 MiB', 1000, true],
    ['the memory cap: 3 × 100 MiB would exceed 250 MiB', 250, false],
    ['exactly at the cap is allowed', 300, true],
  ])('%s', (_name, maxThreadMemoryMb, spawn) => {
    const p = plan([G(1, [5, 500, 0]), SM(2, [6, 50, 0])], [J(10, 10)], 5000, { ...S, maxThreadMemoryMb });
    expect(p.spawn).toBe(spawn);
  });

  it.each<[string, ThreadView[], JobView[], number, Partial<ScheduleSettings>, Partial<Plan>]>([
    ['general thread on a small job, a small job waits: no small lane yet, look again at burstAfter', [G(1, [5, 50, 0])], [J(10, 10)], 100, {}, { assign: [], spawn: false, spawnSmall: false, recheckAt: 1000 }],
    ['nothing but small mail, general thread idle: it takes the job, no small lane', [G(1)], [J(10, 10)], 0, {}, { assign: [{ thread: 1, job: 10 }], spawnSmall: false }],
    ['the general thread takes a large job: the small lane starts at once, before small mail waits', [G(1)], [J(10, 500)], 0, {}, { assign: [{ thread: 1, job: 10 }], spawn: false, spawnSmall: true }],
    ['the general thread already on a large job, nothing waiting: the small lane starts', [G(1, [5, 500, 0])], [], 10, {}, { spawnSmall: true }],
    ['two general threads, one on a small job: no small lane', [G(1, [5, 500, 0]), G(2, [6, 50, 0])], [], 10, { threads: 2 }, { spawnSmall: false }],
    ['a small job behind threads all busy past burstAfter: the small lane starts before any burst thread', [G(1, [5, 50, 0])], [J(10, 10)], 1000, {}, { spawn: false, spawnSmall: true }],
    ['no room for burst threads: a waiting small job still looks again for the small lane', [G(1, [5, 50, 500])], [J(10, 10)], 600, { burstThreads: 0 }, { spawn: false, spawnSmall: false, recheckAt: 1500 }],
    ['smallMessageThreads 0: never a small lane', [G(1, [5, 500, 0])], [J(10, 10)], 5000, { smallThreads: 0 }, { spawnSmall: false, spawn: true }],
    ['the lane already started: not again', [G(1, [5, 500, 0]), SM(2)], [], 10, {}, { spawnSmall: false }],
    ['a lane not started keeps its place under the thread cap: 1 general + 2 burst is the cap with 1 small lane', [G(1, [5, 50, 0]), B(2, [6, 50, 0]), B(3, [7, 50, 0])], [J(10, 500)], 5000, {}, { spawn: false, spawnSmall: false }],
    ['and under the memory cap: 2 running, 1 reserved and a burst thread would be 400 MiB, above 300', [G(1, [5, 50, 0]), B(2, [6, 50, 0])], [J(10, 500)], 5000, { maxThreadMemoryMb: 300 }, { spawn: false }],
  ])('small-message lane started when needed: %s', (_name, threads, waiting, now, settings, expected) => {
    expect(plan(threads, waiting, now, { ...S, ...settings })).toMatchObject(expected);
  });

  it('a small-message lane started by a plan takes the waiting small job in the next plan', () => {
    const stuck = [G(1, [5, 50, 0])];
    expect(plan(stuck, [J(10, 10)], 1000, S).spawnSmall).toBe(true);
    expect(plan([...stuck, SM(2)], [J(10, 10)], 1000, S)).toMatchObject({ assign: [{ thread: 2, job: 10 }], spawn: false, spawnSmall: false });
  });

  it('a burst thread started by a plan is what takes the waiting job in the next plan', () => {
    const stuck = [G(1, [5, 500, 0]), SM(2, [6, 50, 0])];
    expect(plan(stuck, [J(10, 10)], 2000, S).spawn).toBe(true);
    expect(plan([...stuck, B(3)], [J(10, 10)], 2000, S)).toMatchObject({ assign: [{ thread: 3, job: 10 }], spawn: false });
  });
});

describe('defaultMaxThreadMemoryMb: a quarter of the memory, 1 to 4 GiB', () => {
  const GiB = 1024 * 1024 * 1024;
  it.each<[number, number]>([
    [2 * GiB, 1024],
    [4 * GiB, 1024],
    [8 * GiB, 2048],
    [12 * GiB, 3072],
    [24 * GiB, 4096],
    [256 * GiB, 4096],
  ])('%d bytes → %d MiB', (total, mb) => {
    expect(defaultMaxThreadMemoryMb(total)).toBe(mb);
  });

  it('on a small machine the default leaves no room for a burst thread beside the two base threads', () => {
    const p = plan([G(1, [5, 500, 0]), SM(2, [6, 50, 0])], [J(10, 10)], 5000, { ...S, threadMemoryMb: 1024, maxThreadMemoryMb: defaultMaxThreadMemoryMb(4 * GiB) });
    expect(p.spawn).toBe(false);
  });
});

describe('afterJob: keep, replace (recycle) or stop a thread', () => {
  const f = (o: Partial<FinishedJob>): FinishedJob => ({ role: 'general', size: 10, heapMb: 20, failed: false, waitingForIt: 0, ...o });
  it.each<[string, FinishedJob, ReturnType<typeof afterJob>, ReturnType<typeof recycleReason>]>([
    ['an ordinary job: kept', f({}), 'keep', undefined],
    ['a message larger than recycleSize: replaced', f({ size: 1001 }), 'recycle', 'large message'],
    ['exactly recycleSize: kept', f({ size: 1000 }), 'keep', undefined],
    ['heap grew past recycleHeap: replaced', f({ heapMb: 51 }), 'recycle', 'heap'],
    ['failed (time limit, crash, heap limit): replaced', f({ failed: true, heapMb: undefined }), 'recycle', 'failed'],
    ['a small-lane thread after a failure: replaced by a small-lane thread', f({ role: 'small', failed: true }), 'recycle', 'failed'],
    ['a burst thread with nothing left to take: stops', f({ role: 'burst' }), 'retire', undefined],
    ['a burst thread with work waiting: kept', f({ role: 'burst', waitingForIt: 2 }), 'keep', undefined],
    ['a burst thread that grew, with work waiting: replaced', f({ role: 'burst', waitingForIt: 2, heapMb: 900 }), 'recycle', 'heap'],
    ['a burst thread that failed with nothing waiting: stops', f({ role: 'burst', failed: true }), 'retire', 'failed'],
  ])('%s', (_name, job, fate, reason) => {
    expect(afterJob(job, S)).toBe(fate);
    expect(recycleReason(job, S)).toBe(reason);
  });
});

/**
 * A discrete simulation of the pool driven by plan() and afterJob() alone:
 * jobs with known durations, threads that start at once; by default its
 * small-message lane has already started (as in a pool that has needed it). Returns when the
 * clean message started and the most threads that ever ran.
 */
function simulate(jobs: readonly { id: number; size: number; arrives: number; takes: number }[], s: ScheduleSettings, smallLaneStarted = true): { cleanStart: number; peak: number; order: number[]; final: number } {
  let nextThread = 1;
  const threads: (ThreadView & { job?: { id: number; size: number; since: number; ends: number } })[] = [];
  for (let i = 0; i < s.threads; i++) threads.push({ id: nextThread++, role: 'general' });
  // smallLaneStarted false: as a new pool, whose small-message threads start when a plan says so
  if (smallLaneStarted) for (let i = 0; i < s.smallThreads; i++) threads.push({ id: nextThread++, role: 'small' });
  const waiting: JobView[] = [];
  const pending = [...jobs].sort((a, b) => a.arrives - b.arrives);
  const order: number[] = [];
  let now = 0;
  let cleanStart = -1;
  let peak = threads.length;
  let recheck: number | undefined;
  for (let step = 0; step < 10_000 && (pending.length || waiting.length || threads.some((t) => t.job)); step++) {
    // arrivals and completions at `now`
    while (pending[0] && pending[0].arrives <= now) {
      const j = pending.shift();
      if (j) waiting.push({ id: j.id, size: j.size });
    }
    for (const t of [...threads]) {
      if (!t.job || t.job.ends > now) continue;
      order.push(t.job.id);
      const size = t.job.size;
      t.job = undefined;
      const fate = afterJob({ role: t.role, size, heapMb: 10, failed: false, waitingForIt: waiting.filter((w) => t.role !== 'small' || w.size <= s.smallMessageBytes).length }, s);
      if (fate === 'retire') threads.splice(threads.indexOf(t), 1);
    }
    for (let round = 0; round < 10; round++) {
      const p = plan(threads, waiting, now, s);
      for (const a of p.assign) {
        const t = threads.find((x) => x.id === a.thread);
        const wi = waiting.findIndex((w) => w.id === a.job);
        const job = jobs.find((x) => x.id === a.job);
        if (!t || wi < 0 || !job) throw new Error('plan assigned something that is not there');
        waiting.splice(wi, 1);
        t.job = { id: job.id, size: job.size, since: now, ends: now + job.takes };
        if (job.id === 0) cleanStart = now;
      }
      for (const id of p.retire) threads.splice(threads.findIndex((t) => t.id === id), 1);
      recheck = p.recheckAt;
      if (!p.spawn && !p.spawnSmall) break;
      threads.push({ id: nextThread++, role: p.spawnSmall ? 'small' : 'burst' });
      peak = Math.max(peak, threads.length);
    }
    const next = Math.min(pending[0]?.arrives ?? Infinity, ...threads.map((t) => t.job?.ends ?? Infinity), recheck ?? Infinity);
    if (!Number.isFinite(next)) break;
    now = next;
  }
  return { cleanStart, peak, order, final: threads.length };
}

describe('the bound: how long a clean message waits behind N bombs (simulated with the scheduler decisions)', () => {
  const bombs = (n: number, size: number, takes = 60_000) => Array.from({ length: n }, (_, i) => ({ id: i + 1, size, arrives: 0, takes }));
  const clean = (arrives: number) => ({ id: 0, size: 20, arrives, takes: 50 });

  it.each<[string, number, number]>([
    ['1 large bomb', 1, 5_000],
    ['5 large bombs', 5, 5_000],
    ['50 large bombs', 50, 5_000],
    ['500 large bombs', 500, 5_000],
  ])('%s (each 60 s): the clean message starts at once on the small-message thread', (_name, n, size) => {
    const r = simulate([...bombs(n, size), clean(0)], S);
    expect(r.cleanStart).toBe(0);
    expect(r.peak).toBeLessThanOrEqual(maxThreads(S));
  });

  it.each<[string, number]>([
    ['2 small bombs', 2],
    ['5 small bombs', 5],
    ['50 small bombs', 50],
    ['500 small bombs', 500],
  ])('%s (larger than the clean message, each 60 s): it starts within burstAfter, on a burst thread', (_name, n) => {
    const r = simulate([...bombs(n, 90), clean(0)], S);
    expect(r.cleanStart).toBeLessThanOrEqual(S.burstAfterMs);
    expect(r.peak).toBeLessThanOrEqual(maxThreads(S));
  });

  it.each<[string, number]>([
    ['5 small bombs', 5],
    ['500 small bombs', 500],
  ])('%s that already fill every thread up to the cap: it waits for the first to finish, never longer (maxScanTime bounds that)', (_name, n) => {
    const r = simulate([...bombs(n, 90, 60_000), clean(10_000)], S);
    expect(r.peak).toBe(maxThreads(S));
    expect(r.cleanStart).toBe(60_000);
    // it went before every bomb still waiting
    expect(r.order.indexOf(0)).toBeLessThan(r.order.indexOf(n >= 5 ? 5 : n));
  });

  it('burst threads stop when the queue is empty: the pool ends at its base size', () => {
    const r = simulate([...bombs(6, 90, 3_000), clean(0)], S);
    expect(r.order).toHaveLength(7);
    expect(r.peak).toBe(maxThreads(S));
    expect(r.final).toBe(S.threads + S.smallThreads);
  });
});

describe('a new pool: the small-message lane starts when first needed (simulated)', () => {
  const ordinary = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, size: 20, arrives: i * 10, takes: 5 }));

  it('ordinary small mail only: the general thread keeps up, the lane never starts', () => {
    const r = simulate(ordinary(200), S, false);
    expect(r.order).toHaveLength(200);
    expect(r.peak).toBe(S.threads);
    expect(r.final).toBe(S.threads);
  });

  it.each<[string, number]>([
    ['1 large bomb', 1],
    ['50 large bombs', 50],
  ])('%s (each 60 s), then a clean message: the lane started with the first bomb takes it at once', (_name, n) => {
    const r = simulate([...Array.from({ length: n }, (_, i) => ({ id: i + 1, size: 5_000, arrives: 0, takes: 60_000 })), { id: 0, size: 20, arrives: 10, takes: 50 }], S, false);
    expect(r.cleanStart).toBe(10);
    expect(r.peak).toBeLessThanOrEqual(maxThreads(S));
    expect(r.final).toBe(S.threads + S.smallThreads);
  });

  it('small bombs hold the general thread, then a clean message: it starts within burstAfter; never above the cap', () => {
    const r = simulate([...Array.from({ length: 50 }, (_, i) => ({ id: i + 1, size: 90, arrives: 0, takes: 60_000 })), { id: 0, size: 20, arrives: 10, takes: 50 }], S, false);
    expect(r.cleanStart).toBeLessThanOrEqual(10 + S.burstAfterMs);
    expect(r.peak).toBe(maxThreads(S));
  });
});
