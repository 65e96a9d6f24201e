/**
 * Bounded auditing of ingress refusals. Every refusal (connection, MAIL,
 * RCPT, DATA) must leave an audit event, but a client that hammers refusals
 * must not flood the hash chain: per client IP, stage and reason, the first
 * refusal of a window (default one minute) is written at once with its
 * details (session, connector, sender domain); the ones after it in that
 * window are only counted, and written as one `ingress:refusals_repeated`
 * event with the count when the window ends (or at shutdown). At most
 * `maxKeys` (IP, stage, reason) windows are tracked; refusals for further
 * keys while that many are open are counted under remoteIp "*" per stage
 * and reason, so memory and audit volume stay bounded whatever the client
 * does. The clock is injected; `flush` is called by a timer in the ingress.
 */
import type { ErrorCode } from '../errors.js';

export type RefusalStage = 'connect' | 'mail' | 'rcpt' | 'data';

export interface Refusal {
  readonly remoteIp: string;
  readonly listener: string;
  readonly stage: RefusalStage;
  readonly reason: ErrorCode;
  /** Our reply, code and enhanced code, e.g. "550 5.7.1". */
  readonly reply: string;
}

export interface RepeatedRefusals extends Refusal {
  /** Refusals after the first one of the window. */
  readonly count: number;
  /** When the window began (ms since epoch). */
  readonly since: number;
}

interface Window {
  readonly refusal: Refusal;
  readonly since: number;
  repeated: number;
}

export const REFUSAL_WINDOW_MS = 60_000;
export const REFUSAL_MAX_KEYS = 1000;

export class RefusalAggregator {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly options: {
      readonly now: () => number;
      /** Writes the summary of a window's repeated refusals. */
      readonly writeRepeated: (r: RepeatedRefusals) => void;
      readonly windowMs?: number;
      readonly maxKeys?: number;
    },
  ) {}

  /**
   * Counts a refusal. Returns true when it is the first of its window: the
   * caller writes its own detailed event then; false when it was only counted.
   */
  note(refusal: Refusal): boolean {
    const now = this.options.now();
    const windowMs = this.options.windowMs ?? REFUSAL_WINDOW_MS;
    let key = keyOf(refusal);
    let w = this.windows.get(key);
    if (w && now - w.since >= windowMs) {
      this.close(key, w);
      w = undefined;
    }
    if (!w && this.windows.size >= (this.options.maxKeys ?? REFUSAL_MAX_KEYS)) {
      // too many distinct clients at once: count them together, never one event each
      const pooled: Refusal = { ...refusal, remoteIp: '*' };
      key = keyOf(pooled);
      w = this.windows.get(key);
      if (!w) {
        this.windows.set(key, { refusal: pooled, since: now, repeated: 1 });
        return false;
      }
    }
    if (w) {
      w.repeated++;
      return false;
    }
    this.windows.set(key, { refusal, since: now, repeated: 0 });
    return true;
  }

  /** Writes and forgets every window that has ended; all of them with `all` (shutdown). */
  flush(all = false): void {
    const now = this.options.now();
    const windowMs = this.options.windowMs ?? REFUSAL_WINDOW_MS;
    for (const [key, w] of this.windows) if (all || now - w.since >= windowMs) this.close(key, w);
  }

  /** Windows open now (for tests and metrics). */
  get open(): number {
    return this.windows.size;
  }

  private close(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.repeated > 0) this.options.writeRepeated({ ...w.refusal, count: w.repeated, since: w.since });
  }
}

function keyOf(r: Refusal): string {
  return `${r.remoteIp}\u0000${r.listener}\u0000${r.stage}\u0000${r.reason}`;
}
