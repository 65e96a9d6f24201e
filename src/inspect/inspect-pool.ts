/**
 * The inspection threads (src/inspect/inspect-thread.ts). Each thread
 * inspects one message at a time; the message is streamed to it in
 * acknowledged chunks, so no more than one chunk per thread is in flight.
 * Which thread takes which message, when a burst thread is added and when a
 * thread is replaced is decided by the pure functions of
 * src/inspect/schedule.ts; this class carries the decisions out.
 *
 * Bounds: a thread past the time limit, out of memory (resourceLimits) or
 * crashed is terminated and replaced, and the message counts as not fully
 * scanned — fail closed, never retried forever, never a stalled main thread.
 * A thread that ran a large message or whose heap grew is replaced after the
 * job (its result already delivered), so its memory goes back to the system.
 * Every job is settled exactly once, by the one thread it was given to.
 */
import { totalmem } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { CustomIdentifier } from './detect/personal.js';
import type { FromThread, InspectionResult, ToThread } from './inspect-thread.js';
import { afterJob, defaultMaxThreadMemoryMb, mayTake, plan, POOL_DEFAULTS, recycleReason, type ScheduleSettings, type ThreadRole } from './schedule.js';

export interface PoolOptions {
  /** General threads (any message). */
  readonly threads: number;
  readonly url: URL;
  /** Heap limit per thread (MiB). */
  readonly maxHeapMb: number;
  /** Threads reserved for messages up to smallMessageBytes (default 1). */
  readonly smallThreads?: number;
  readonly smallMessageBytes?: number;
  /** Extra threads started when every thread has been busy on one message for burstAfterMs (default 2). */
  readonly burstThreads?: number;
  readonly burstAfterMs?: number;
  /** Heap limits of all threads together (MiB); burst threads start only within it (default: a quarter of the memory, 1 to 4 GiB). */
  readonly maxThreadMemoryMb?: number;
  /** A thread that ran a message larger than this (bytes) is replaced after it. */
  readonly recycleBytes?: number;
  /** A thread whose heap is above this (MiB) after a message is replaced. */
  readonly recycleHeapMb?: number;
  /** Thread starts, replacements and stops (no message content: ids, sizes, reasons). */
  readonly onEvent?: (e: PoolEvent) => void;
  readonly now?: () => number;
}

export interface InspectJob {
  readonly source: () => Readable;
  readonly custom: readonly (CustomIdentifier & { identifier?: boolean })[];
  readonly timeoutMs: number;
  /** Message size in bytes (decides the lane and whether the thread is recycled after it). */
  readonly size: number;
}

export type PoolEvent =
  | { readonly type: 'spawn'; readonly thread: number; readonly role: ThreadRole }
  | { readonly type: 'start'; readonly job: number; readonly thread: number; readonly role: ThreadRole; readonly size: number }
  | { readonly type: 'done'; readonly job: number; readonly thread: number; readonly heapMb?: number | undefined; readonly failed: boolean }
  | { readonly type: 'recycle'; readonly thread: number; readonly replacement: number; readonly role: ThreadRole; readonly reason: string }
  | { readonly type: 'retire'; readonly thread: number };

export interface PoolStats {
  /** Threads running now (starting ones included), by role. */
  readonly threads: Readonly<Record<ThreadRole, number>>;
  readonly busy: number;
  readonly waiting: number;
  /** Burst threads started so far. */
  readonly burstStarted: number;
  /** Threads replaced after a job (large message, heap, failure). */
  readonly recycled: number;
  /** Burst threads stopped. */
  readonly retired: number;
  /** Most threads that ran at once. */
  readonly peakThreads: number;
}

interface Queued {
  readonly id: number;
  readonly job: InspectJob;
  readonly resolve: (r: InspectionResult) => void;
  readonly reject: (e: Error) => void;
}

interface Thread {
  readonly id: number;
  readonly role: ThreadRole;
  readonly worker: Worker;
  job?: { readonly id: number; readonly size: number; readonly since: number } | undefined;
  /** Set when the pool stops it (an exit then is expected). */
  stopping: boolean;
}

/** Messages up to this size (bytes as spooled) go to their thread in one transfer instead of acknowledged chunks. */
export const WHOLE_TRANSFER_BYTES = 256 * 1024;

/** What a message that could not be inspected counts as: not fully scanned, nothing found. */
export function unscanned(reason: string): InspectionResult {
  return {
    extracted: { subject: '', visibleRecipients: [], attachments: [], dicom: false, encrypted: false, notFullyScanned: true, reasons: [reason] },
    verdict: { findings: [], phi: false, categories: [], notFullyScanned: true, scanReasons: [reason] },
    subjectSensitive: false,
  };
}

/**
 * The bytes of `chunks` (`total` of them) in memory of their own, to be
 * transferred to the thread (and so taken from this one). One chunk that
 * is alone in its memory — a small message's decrypted content, read in
 * one piece — is that memory itself: copying it would make one more
 * buffer of the message's size for the collector to find. Anything else
 * (several chunks, a view into Node's shared pool of small Buffers) is
 * copied.
 */
export function wholeForTransfer(chunks: readonly Buffer[], total: number): Uint8Array<ArrayBuffer> {
  const only = chunks.length === 1 ? chunks[0] : undefined;
  if (only && only.byteOffset === 0 && only.byteLength === only.buffer.byteLength && only.buffer instanceof ArrayBuffer) return only as Uint8Array<ArrayBuffer>;
  const whole = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  return whole;
}

class PoolClosed extends Error {
  constructor() {
    super('inspection pool closed');
  }
}

/** Young generation of an inspection thread's heap (MiB; see spawn). */
const INSPECTION_YOUNG_GENERATION_MB = 8;

export class InspectionPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Queued[] = [];
  private readonly settings: ScheduleSettings;
  private readonly now: () => number;
  private closed = false;
  private exiting = 0;
  private nextThread = 1;
  private nextJob = 1;
  private recheck: NodeJS.Timeout | undefined;
  private counts = { burstStarted: 0, recycled: 0, retired: 0, peakThreads: 0 };

  constructor(private readonly options: PoolOptions) {
    this.now = options.now ?? Date.now;
    this.settings = {
      threads: Math.max(1, options.threads),
      smallThreads: options.smallThreads ?? POOL_DEFAULTS.smallThreads,
      smallMessageBytes: options.smallMessageBytes ?? POOL_DEFAULTS.smallMessageBytes,
      burstThreads: options.burstThreads ?? POOL_DEFAULTS.burstThreads,
      burstAfterMs: options.burstAfterMs ?? POOL_DEFAULTS.burstAfterMs,
      threadMemoryMb: options.maxHeapMb,
      maxThreadMemoryMb: options.maxThreadMemoryMb ?? defaultMaxThreadMemoryMb(totalmem()),
      recycleBytes: options.recycleBytes ?? POOL_DEFAULTS.recycleBytes,
      recycleHeapMb: options.recycleHeapMb ?? POOL_DEFAULTS.recycleHeapMb,
    };
    // small-message threads start when first needed (schedule.ts)
    for (let i = 0; i < this.settings.threads; i++) this.spawn('general');
  }

  private spawn(role: ThreadRole): Thread {
    // a young generation of 8 MiB instead of V8's default (up to 48): each thread's resident memory is about 15 MB
    // lower under load, for a few more scavenges of the short-lived objects a scan makes (daemon CPU per relayed message unchanged)
    const worker = new Worker(this.options.url, { resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb, maxYoungGenerationSizeMb: INSPECTION_YOUNG_GENERATION_MB } });
    worker.unref();
    worker.on('error', () => undefined); // reported to the job through 'exit'
    const thread: Thread = { id: this.nextThread++, role, worker, stopping: false };
    worker.once('exit', () => {
      // died on its own while idle (a busy one is handled by its job): replace it
      if (!thread.stopping && !thread.job && !this.closed && this.threads.includes(thread)) {
        this.remove(thread);
        if (role !== 'burst') this.spawn(role);
        this.schedule();
      }
    });
    this.threads.push(thread);
    this.counts.peakThreads = Math.max(this.counts.peakThreads, this.threads.length);
    this.options.onEvent?.({ type: 'spawn', thread: thread.id, role });
    return thread;
  }

  private remove(thread: Thread): void {
    const i = this.threads.indexOf(thread);
    if (i >= 0) this.threads.splice(i, 1);
  }

  /** Terminates a thread; its memory counts until it has exited. */
  private stop(thread: Thread): void {
    thread.stopping = true;
    this.remove(thread);
    this.exiting++;
    void thread.worker.terminate().finally(() => {
      this.exiting--;
      if (!this.closed) this.schedule();
    });
  }

  /** Carries out the plan for this moment: jobs to threads, burst threads started and stopped, the next look. */
  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.recheck);
    this.recheck = undefined;
    for (let round = 0; round <= this.settings.burstThreads + this.settings.smallThreads; round++) {
      const now = this.now();
      const p = plan(
        this.threads.map((t) => ({ id: t.id, role: t.role, job: t.job })),
        this.queue.map((q) => ({ id: q.id, size: q.job.size })),
        now,
        this.settings,
        this.exiting,
      );
      for (const { thread, job } of p.assign) {
        const t = this.threads.find((x) => x.id === thread);
        const qi = this.queue.findIndex((q) => q.id === job);
        const q = this.queue[qi];
        if (!t || !q) continue;
        this.queue.splice(qi, 1);
        this.run(t, q, now);
      }
      for (const id of p.retire) {
        const t = this.threads.find((x) => x.id === id);
        if (!t) continue;
        this.stop(t);
        this.counts.retired++;
        this.options.onEvent?.({ type: 'retire', thread: id });
      }
      if (p.spawnSmall) {
        this.spawn('small');
        continue; // plan again: the new thread takes what it may
      }
      if (p.spawn) {
        this.spawn('burst');
        this.counts.burstStarted++;
        continue; // plan again: the new thread takes the queue
      }
      if (p.recheckAt !== undefined) {
        this.recheck = setTimeout(() => this.schedule(), Math.max(0, p.recheckAt - now));
        this.recheck.unref();
      }
      return;
    }
  }

  inspect(job: InspectJob): Promise<InspectionResult> {
    if (this.closed) return Promise.reject(new PoolClosed());
    return new Promise<InspectionResult>((resolve, reject) => {
      this.queue.push({ id: this.nextJob++, job, resolve, reject });
      this.schedule();
    });
  }

  /** Runs one job on one thread, then decides the thread's fate and settles the job (once). */
  private run(thread: Thread, queued: Queued, now: number): void {
    const { job } = queued;
    thread.job = { id: queued.id, size: job.size, since: now };
    this.options.onEvent?.({ type: 'start', job: queued.id, thread: thread.id, role: thread.role, size: job.size });
    const worker = thread.worker;
    let settle: (r: { result: InspectionResult; heapMb?: number | undefined } | Error) => void = () => undefined;
    const outcome = new Promise<{ result: InspectionResult; heapMb?: number | undefined } | Error>((resolve) => (settle = resolve));
    let ackWaiter: (() => void) | undefined;
    let broken = false;
    const onMessage = (msg: FromThread): void => {
      if (msg.type === 'ack') {
        const w = ackWaiter;
        ackWaiter = undefined;
        w?.();
      } else if (msg.type === 'result') settle({ result: msg.result, heapMb: msg.heapMb });
      // mailparser gave up on it: retrying would fail the same way, so it counts as not fully scanned
      else settle({ result: unscanned('the message could not be parsed'), heapMb: msg.heapMb });
    };
    const onExit = (code: number): void => {
      broken = true;
      ackWaiter?.();
      settle(this.closed ? new PoolClosed() : { result: unscanned(code === 1 ? 'inspection ran out of memory or failed' : `inspection thread stopped (${code})`) });
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    const timer = setTimeout(() => {
      broken = true;
      ackWaiter?.();
      settle({ result: unscanned(`time limit reached (${Math.round(job.timeoutMs / 1000)} s)`) });
    }, job.timeoutMs);
    const source = job.source();
    const pump = async (): Promise<void> => {
      if (job.size <= WHOLE_TRANSFER_BYTES) {
        // small: read whole and sent in one transfer (one message to the thread instead of start, chunks with their
        // acknowledgements, and end); the size is the spooled size, so this holds at most that much
        const chunks: Buffer[] = [];
        let total = 0;
        for await (const chunk of source) {
          if (broken) return;
          chunks.push(chunk as Buffer);
          total += (chunk as Buffer).length;
        }
        const whole = wholeForTransfer(chunks, total);
        worker.postMessage({ type: 'whole', custom: job.custom, data: whole } satisfies ToThread, [whole.buffer]);
        return;
      }
      worker.postMessage({ type: 'start', custom: job.custom } satisfies ToThread);
      for await (const chunk of source) {
        if (broken) break;
        const copy = new Uint8Array(chunk as Buffer); // its own buffer, transferred
        const acked = new Promise<void>((resolve) => (ackWaiter = resolve));
        worker.postMessage({ type: 'chunk', data: copy } satisfies ToThread, [copy.buffer]);
        await acked;
      }
      if (!broken) worker.postMessage({ type: 'end' } satisfies ToThread);
    };
    pump().catch((err: unknown) => settle(err instanceof Error ? err : new Error(String(err))));
    void outcome.then((out) => {
      clearTimeout(timer);
      source.destroy();
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      // a stuck, dead or confused thread is not reused
      const failed = broken || out instanceof Error;
      const heapMb = out instanceof Error ? undefined : out.heapMb;
      this.options.onEvent?.({ type: 'done', job: queued.id, thread: thread.id, heapMb, failed });
      thread.job = undefined;
      if (!this.closed && this.threads.includes(thread)) {
        const finished = { role: thread.role, size: job.size, heapMb, failed, waitingForIt: this.queue.filter((q) => mayTake(thread.role, q.job.size, this.settings)).length };
        const fate = afterJob(finished, this.settings);
        if (fate === 'recycle') {
          this.stop(thread);
          const fresh = this.spawn(thread.role);
          this.counts.recycled++;
          this.options.onEvent?.({ type: 'recycle', thread: thread.id, replacement: fresh.id, role: thread.role, reason: recycleReason(finished, this.settings) ?? 'failed' });
        } else if (fate === 'retire') {
          this.stop(thread);
          this.counts.retired++;
          this.options.onEvent?.({ type: 'retire', thread: thread.id });
        }
      }
      if (out instanceof Error) queued.reject(out);
      else queued.resolve(out.result);
      this.schedule();
    });
  }

  stats(): PoolStats {
    const threads: Record<ThreadRole, number> = { general: 0, small: 0, burst: 0 };
    for (const t of this.threads) threads[t.role]++;
    return { threads, busy: this.threads.filter((t) => t.job).length, waiting: this.queue.length, ...this.counts };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.recheck);
    // not inspected: left for the next start, never counted as scanned or not
    for (const q of this.queue.splice(0)) q.reject(new PoolClosed());
    const all = this.threads.splice(0);
    for (const t of all) t.stopping = true;
    await Promise.all(all.map((t) => t.worker.terminate()));
  }
}
