/**
 * Prunes finished messages (src/queue/finished.ts) older than
 * queue.keepFinished inside the daemon: once at start, then every hour, or
 * every quarter of keepFinished when that is shorter (at least every
 * second), so a short setting is honoured about on time. keepFinished is
 * read on every run, so a reloaded value applies at the next one. The timer
 * is unref'd, runs never overlap, and a failed run is reported and retried
 * at the next tick — never thrown out of the timer.
 */
import type { SqlQueryable } from '../db/sql-database.js';
import { pruneFinished } from './finished.js';

const HOUR = 3_600_000;
/** Rows per DELETE: one run never holds the write lock for long. */
const BATCH = 5000;

export interface FinishedPrunerOptions {
  readonly db: SqlQueryable;
  /** queue.keepFinished in ms, read on every run. */
  readonly keepMs: () => number;
  readonly now: () => number;
  /** After a run that removed something. */
  readonly onPruned?: (count: number) => void;
  readonly onError?: (err: unknown) => void;
}

/** Pure: the wait before the next run. */
export function pruneIntervalMs(keepMs: number): number {
  return Math.min(HOUR, Math.max(1000, Math.floor(keepMs / 4)));
}

export class FinishedPruner {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: FinishedPrunerOptions) {}

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run now (or the one in progress). */
  runOnce(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async tick(): Promise<void> {
    await this.runOnce();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), pruneIntervalMs(this.options.keepMs()));
    this.timer.unref();
  }

  private async run(): Promise<void> {
    try {
      const before = this.options.now() - this.options.keepMs();
      let total = 0;
      for (;;) {
        const n = await pruneFinished(this.options.db, before, BATCH);
        total += n;
        if (n < BATCH || this.stopped) break;
      }
      if (total > 0) this.options.onPruned?.(total);
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}
