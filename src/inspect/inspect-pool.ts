/**
 * A small pool of inspection threads (src/inspect/inspect-thread.ts). Each
 * thread inspects one message at a time; the message is streamed to it in
 * acknowledged chunks, so no more than one chunk per thread is in flight.
 *
 * Bounds: a thread past the time limit, out of memory (resourceLimits) or
 * crashed is terminated and replaced, and the message counts as not fully
 * scanned — fail closed, never retried forever, never a stalled main thread.
 */
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { CustomIdentifier } from './detect/personal.js';
import type { FromThread, InspectionResult, ToThread } from './inspect-thread.js';

export interface PoolOptions {
  readonly threads: number;
  readonly url: URL;
  /** Heap limit per thread (MiB). */
  readonly maxHeapMb: number;
}

export interface InspectJob {
  readonly source: () => Readable;
  readonly custom: readonly (CustomIdentifier & { identifier?: boolean })[];
  readonly timeoutMs: number;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** What a message that could not be inspected counts as: not fully scanned, nothing found. */
export function unscanned(reason: string): InspectionResult {
  return {
    extracted: { subject: '', visibleRecipients: [], attachments: [], dicom: false, encrypted: false, notFullyScanned: true, reasons: [reason] },
    verdict: { findings: [], phi: false, categories: [], notFullyScanned: true, scanReasons: [reason] },
    subjectSensitive: false,
  };
}

export class InspectionPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private closed = false;

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < Math.max(1, options.threads); i++) this.slots.push({ worker: this.spawn(), busy: false });
  }

  private spawn(): Worker {
    const w = new Worker(this.options.url, { resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb } });
    w.unref();
    w.on('error', () => undefined); // reported to the job through 'exit'
    return w;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  private replace(slot: Slot): void {
    void slot.worker.terminate();
    if (!this.closed) slot.worker = this.spawn();
  }

  async inspect(job: InspectJob): Promise<InspectionResult> {
    if (this.closed) throw new Error('inspection pool closed');
    const slot = await this.acquire();
    const worker = slot.worker;
    let settle: (r: InspectionResult | Error) => void = () => undefined;
    const outcome = new Promise<InspectionResult | Error>((resolve) => (settle = resolve));
    let ackWaiter: (() => void) | undefined;
    let broken = false;
    const onMessage = (msg: FromThread): void => {
      if (msg.type === 'ack') {
        const w = ackWaiter;
        ackWaiter = undefined;
        w?.();
      } else if (msg.type === 'result') settle(msg.result);
      // mailparser gave up on it: retrying would fail the same way, so it counts as not fully scanned
      else settle(unscanned('the message could not be parsed'));
    };
    const onExit = (code: number): void => {
      broken = true;
      ackWaiter?.();
      settle(unscanned(code === 1 ? 'inspection ran out of memory or failed' : `inspection thread stopped (${code})`));
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    const timer = setTimeout(() => {
      broken = true;
      ackWaiter?.();
      settle(unscanned(`time limit reached (${Math.round(job.timeoutMs / 1000)} s)`));
    }, job.timeoutMs);
    const source = job.source();
    const pump = async (): Promise<void> => {
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
    const result = await outcome;
    clearTimeout(timer);
    source.destroy();
    worker.off('message', onMessage);
    worker.off('exit', onExit);
    if (broken || result instanceof Error) {
      // a stuck, dead or confused thread is not reused
      this.replace(slot);
    }
    this.release(slot);
    if (result instanceof Error) throw result;
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
