/**
 * Store outages, told once: a store (the database, the object store) that
 * stops answering is logged when it goes away and when it is back, never
 * once per failed attempt (docs/scale-out.md "When a store is down"). The
 * decision is a pure function of the state and one probe's result; the
 * watcher runs the probes on a timer and reports the transitions.
 */
import type { CheckResult } from './readiness.js';

export interface OutageState {
  /** When the store was first seen down in the current outage; undefined while it answers. */
  readonly downSince: number | undefined;
}

export type OutageNews = { readonly kind: 'down'; readonly reason: string } | { readonly kind: 'up'; readonly downForMs: number };

/** Pure: the state after one probe result, and what to tell (only on a change). */
export function noteProbe(state: OutageState, result: CheckResult, now: number): { state: OutageState; news?: OutageNews } {
  if (result.ok) {
    if (state.downSince === undefined) return { state };
    return { state: { downSince: undefined }, news: { kind: 'up', downForMs: Math.max(0, now - state.downSince) } };
  }
  if (state.downSince !== undefined) return { state };
  return { state: { downSince: now }, news: { kind: 'down', reason: result.detail ?? 'check failed' } };
}

export interface StoreWatchOptions {
  /** One probe of each store (each its own check instance, so /readyz and the watch never wait on each other). */
  readonly checks: readonly { readonly name: string; readonly run: () => Promise<CheckResult>; readonly tell: (news: OutageNews) => void }[];
  readonly intervalMs: () => number;
  readonly now: () => number;
}

/** Probes every store each interval (read at each pass, so a reload applies); the timer never keeps the process alive. */
export class StoreWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pass: Promise<void> | undefined;
  private stopped = true;
  private readonly states = new Map<string, OutageState>();

  constructor(private readonly options: StoreWatchOptions) {}

  /** A first pass at once, then one every interval. */
  start(): void {
    this.stopped = false;
    this.pass = this.probeAll().finally(() => {
      this.pass = undefined;
      this.schedule();
    });
  }

  /** Whether the store answered at the last pass; undefined before its first. */
  up(name: string): boolean | undefined {
    const state = this.states.get(name);
    return state === undefined ? undefined : state.downSince === undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass over every store (also what the timer runs). */
  async probeAll(): Promise<void> {
    await Promise.all(
      this.options.checks.map(async (c) => {
        const result = await c.run().catch((): CheckResult => ({ ok: false, detail: 'check failed' }));
        const next = noteProbe(this.states.get(c.name) ?? { downSince: undefined }, result, this.options.now());
        this.states.set(c.name, next.state);
        if (next.news) c.tell(next.news);
      }),
    );
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.probeAll().finally(() => {
        this.pass = undefined;
        this.schedule();
      });
    }, this.options.intervalMs());
    this.timer.unref();
  }
}
