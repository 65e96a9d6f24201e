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
 * - `masterKey`: the master key is loaded.
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

export type CheckName = 'database' | 'disk' | 'listeners' | 'masterKey';

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

/**
 * The database check. At most one probe transaction is queued at a time: a
 * probe still waiting (the write lock held elsewhere) makes later checks fail
 * at once instead of piling more transactions behind it.
 */
export class DatabaseCheck {
  private inFlight: Promise<CheckResult> | undefined;

  constructor(private readonly probe: DatabaseProbe) {}

  run(): Promise<CheckResult> {
    if (this.inFlight) return Promise.resolve({ ok: false, detail: 'an earlier write probe has not finished' });
    const write = this.probe.writeTransaction().then(
      (): CheckResult => ({ ok: true }),
      (err: unknown): CheckResult => ({ ok: false, detail: sqliteReason(err) }),
    );
    this.inFlight = write;
    void write.finally(() => {
      if (this.inFlight === write) this.inFlight = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `write not committed in ${this.probe.timeoutMs} ms` }), this.probe.timeoutMs);
      timer.unref();
    });
    return Promise.race([write, limit]).finally(() => clearTimeout(timer));
  }
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
