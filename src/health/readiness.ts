/**
 * Readiness: may a load balancer (or Microsoft 365's connector, via a
 * monitor) send mail here now? Four checks, each a small function with its
 * side effect injected, combined by a pure judgement:
 *
 * - `database`: one row (`health_probe`) is rewritten and committed within
 *   the time limit — a read-only file, a full disk or another process holding
 *   the write lock fail it (an empty transaction would pass all three);
 * - `disk`: the spool's file system has room for one more message of
 *   undeclared size above `smtp.minFreeBytes`, the very test MAIL FROM makes
 *   (so /readyz fails exactly when new mail would get 452 4.3.1);
 * - `listeners`: every SMTP listener (and the portal and console web, when
 *   on) is bound and listening;
 * - `masterKey`: the master key is loaded;
 * - `objects`: the object store answers within the time limit (S3: one
 *   listing of at most one key under the prefix; local: its directories may
 *   be written), so a node whose store is away says so before mail over
 *   queue.inlineMaxBytes gets 451 4.3.0.
 *
 * Answers carry check names and short reasons only, never a path's content,
 * a key or anything from a message.
 */
import { hasRoomFor } from '../spool/free-space.js';

export interface CheckResult {
  readonly ok: boolean;
  /** Short, PHI-free reason (e.g. "write lock not obtained in 2000 ms"). */
  readonly detail?: string;
}

export type CheckName = 'database' | 'disk' | 'listeners' | 'masterKey' | 'objects';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<CheckName, CheckResult>>;
}

/** Pure: ready when every check passed. */
export function judgeReadiness(checks: Readonly<Record<CheckName, CheckResult>>): ReadinessReport {
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

/** Pure: the disk check from the free bytes and the ingress's own limits. */
export function diskCheck(input: { availableBytes: number; minFreeBytes: number; maxMessageBytes: number }): CheckResult {
  if (input.minFreeBytes === 0) return { ok: true, detail: 'check off (smtp.minFreeBytes 0)' };
  const ok = hasRoomFor({ availableBytes: input.availableBytes, minFreeBytes: input.minFreeBytes, declaredSize: undefined, maxMessageBytes: input.maxMessageBytes });
  return ok ? { ok } : { ok, detail: `below smtp.minFreeBytes after room for one message (${input.availableBytes} bytes free)` };
}

/** Pure: the listener check from each listener's name and whether it is listening. */
export function listenersCheck(listeners: readonly { name: string; listening: boolean }[]): CheckResult {
  const down = listeners.filter((l) => !l.listening).map((l) => l.name);
  if (listeners.length === 0) return { ok: false, detail: 'no listener' };
  return down.length === 0 ? { ok: true } : { ok: false, detail: `not listening: ${down.join(', ')}` };
}

export interface DatabaseProbe {
  /** One small write, committed (the daemon's own writer path). */
  readonly writeTransaction: () => Promise<void>;
  readonly timeoutMs: number;
}

/** A probe with a time limit: the side effect, how its failure is named, what the answers say. */
interface TimedProbe {
  readonly attempt: () => Promise<void>;
  readonly timeoutMs: number;
  readonly reason: (err: unknown) => string;
  readonly busy: string;
  readonly late: (ms: number) => string;
}

/**
 * A check with a time limit. At most one probe is in flight at a time: a
 * probe still waiting (the write lock held elsewhere, a store that does not
 * answer) makes later checks fail at once instead of piling more behind it.
 */
class TimedCheck {
  private inFlight: Promise<CheckResult> | undefined;

  constructor(private readonly probe: () => TimedProbe) {}

  run(): Promise<CheckResult> {
    const p = this.probe();
    if (this.inFlight) return Promise.resolve({ ok: false, detail: p.busy });
    const attempt = p.attempt().then(
      (): CheckResult => ({ ok: true }),
      (err: unknown): CheckResult => ({ ok: false, detail: p.reason(err) }),
    );
    this.inFlight = attempt;
    void attempt.finally(() => {
      if (this.inFlight === attempt) this.inFlight = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: p.late(p.timeoutMs) }), p.timeoutMs);
      timer.unref();
    });
    return Promise.race([attempt, limit]).finally(() => clearTimeout(timer));
  }
}

/** The database check: one committed write within the time limit. */
export class DatabaseCheck {
  private readonly check: TimedCheck;

  constructor(probe: DatabaseProbe) {
    this.check = new TimedCheck(() => ({
      attempt: probe.writeTransaction,
      timeoutMs: probe.timeoutMs,
      reason: sqliteReason,
      busy: 'an earlier write probe has not finished',
      late: (ms) => `write not committed in ${ms} ms`,
    }));
  }

  run(): Promise<CheckResult> {
    return this.check.run();
  }
}

export interface ObjectStoreProbe {
  /** The store's own cheap check (OpenedObjectStore.probe), given the time limit. */
  readonly probe: (timeoutMs: number) => Promise<void>;
  readonly timeoutMs: number;
}

/** The object store check: the store answers within the time limit. */
export class ObjectStoreCheck {
  private readonly check: TimedCheck;

  constructor(probe: ObjectStoreProbe) {
    this.check = new TimedCheck(() => ({
      attempt: () => probe.probe(probe.timeoutMs),
      timeoutMs: probe.timeoutMs,
      reason: objectStoreReason,
      busy: 'an earlier object store probe has not finished',
      late: (ms) => `object store did not answer in ${ms} ms`,
    }));
  }

  run(): Promise<CheckResult> {
    return this.check.run();
  }
}

/** Pure: why an object store probe failed, as an identifier (the S3 error name or errno, else the Sealgate code); never a message text. */
export function objectStoreReason(err: unknown): string {
  const e = err as { code?: unknown; detail?: { s3?: unknown; errno?: unknown; status?: unknown } } | null;
  const named = [e?.detail?.s3, e?.detail?.errno, e?.code].find((v): v is string => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v));
  const status = typeof e?.detail?.status === 'number' ? ` (HTTP ${e.detail.status})` : '';
  return named === undefined ? 'object store check failed' : `${named}${status}`;
}

/** Pure: the SQLite error code (SQLITE_READONLY, SQLITE_BUSY, SQLITE_FULL …) without the message text. */
export function sqliteReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? code : 'write failed';
}

/** The readiness write: one row rewritten in place (portable upsert). */
export async function writeHealthProbe(tx: { run(sql: string, params?: readonly (string | number | null)[]): Promise<unknown> }, now: number): Promise<void> {
  await tx.run('INSERT INTO health_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at', [now]);
}
