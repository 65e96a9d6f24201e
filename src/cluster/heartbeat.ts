/**
 * A running node's presence in the database (src/cluster/nodes.ts): it
 * registers at start, beats every `intervalMs()` (read at each beat, so a
 * reload applies), registers again if its row was removed, and marks itself
 * stopped at a clean stop, giving back its job leases so another node takes
 * those jobs at once. A beat that fails (the database away) is reported
 * once per outage and retried at the next interval; the timer never throws
 * and never keeps the process alive.
 */
import type { SqlDatabase } from '../db/sql-database.js';
import { releaseJobLeases } from './job-lease.js';
import { heartbeat, markStopped, registerNode, type NodeRegistration } from './nodes.js';

export interface HeartbeatOptions {
  readonly db: SqlDatabase;
  readonly node: () => NodeRegistration;
  readonly intervalMs: () => number;
  readonly now: () => number;
  /** A beat failed after the last one succeeded (called once per outage). */
  readonly onFailure?: (err: unknown) => void;
  /** A beat succeeded after failures. */
  readonly onRecovery?: () => void;
}

export class NodeHeartbeat {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private beating: Promise<void> | undefined;
  private stopped = true;
  private failing = false;

  constructor(private readonly options: HeartbeatOptions) {}

  /** Registers the node (errors reach the caller: a node that cannot write its row at start does not start), then beats. */
  async start(): Promise<void> {
    await registerNode(this.options.db, this.options.node(), this.options.now());
    this.stopped = false;
    this.schedule();
  }

  /** Stops beating and records the clean stop (best effort: the database may be gone). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.beating;
    const { db, now } = this.options;
    const id = this.options.node().id;
    await markStopped(db, id, now()).catch(() => undefined);
    await releaseJobLeases(db, id).catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        this.schedule();
      });
    }, this.options.intervalMs());
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const { db, now } = this.options;
    try {
      const node = this.options.node();
      if (!(await heartbeat(db, node.id, now()))) await registerNode(db, node, now());
      if (this.failing) this.options.onRecovery?.();
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.options.onFailure?.(err);
      this.failing = true;
    }
  }
}
