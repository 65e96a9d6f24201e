/**
 * Runs the portal purge (PortalLifecycle.purgeDue) periodically inside the
 * daemon: expired and revoked deposits are crypto-shredded within about one
 * interval of their time. The timer is unref'd (it never keeps the process
 * alive), runs never overlap, and a failing run is reported through
 * `onError` and retried on the next tick — it never throws out of the timer.
 * The first run, at start, also removes objects a crash left behind after
 * their key was destroyed (removeLeftovers).
 */
import type { PortalLifecycle, PurgeResult } from './lifecycle.js';

/** Default time between runs. */
export const PORTAL_SWEEP_INTERVAL_MS = 60 * 1000;

export interface SweeperTimers {
  setInterval(fn: () => void, ms: number): { unref(): unknown };
  clearInterval(handle: { unref(): unknown }): void;
}

export interface PortalSweeperOptions {
  readonly lifecycle: Pick<PortalLifecycle, 'purgeDue' | 'removeLeftovers'>;
  /** ms since epoch; default Date.now. */
  readonly now?: () => number;
  /** Default PORTAL_SWEEP_INTERVAL_MS. */
  readonly intervalMs?: number;
  /** After each run that did something or failed in part (e.g. to log it). */
  readonly onResult?: (result: PurgeResult, leftovers: number) => void;
  /** A run failed as a whole (e.g. the database is locked too long). */
  readonly onError?: (err: unknown) => void;
  /** Default the global setInterval/clearInterval. */
  readonly timers?: SweeperTimers;
}

const globalTimers: SweeperTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export class PortalSweeper {
  private readonly options: PortalSweeperOptions;
  private readonly now: () => number;
  private readonly timers: SweeperTimers;
  private handle: { unref(): unknown } | undefined;
  private running: Promise<void> | undefined;
  private leftoversDone = false;

  constructor(options: PortalSweeperOptions) {
    const interval = options.intervalMs ?? PORTAL_SWEEP_INTERVAL_MS;
    if (!Number.isSafeInteger(interval) || interval < 1) throw new RangeError('intervalMs must be a positive whole number');
    this.options = { ...options, intervalMs: interval };
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? globalTimers;
  }

  /** Starts the periodic runs, with one run now. Starting twice is a no-op. */
  start(): void {
    if (this.handle) return;
    this.handle = this.timers.setInterval(() => void this.runOnce(), this.options.intervalMs ?? PORTAL_SWEEP_INTERVAL_MS);
    this.handle.unref();
    void this.runOnce();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.handle) this.timers.clearInterval(this.handle);
    this.handle = undefined;
    await this.running;
  }

  /** One run now; while a run is in progress, waits for that one instead of starting another. */
  runOnce(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    try {
      let leftovers = 0;
      if (!this.leftoversDone) {
        leftovers = await this.options.lifecycle.removeLeftovers();
        this.leftoversDone = true;
      }
      const result = await this.options.lifecycle.purgeDue(this.now());
      const busy = leftovers + result.shredded.length + result.failed.length + (result.codes ?? 0) + (result.sessions ?? 0);
      if (busy > 0) this.options.onResult?.(result, leftovers);
    } catch (err) {
      this.options.onError?.(err);
    }
  }
}
