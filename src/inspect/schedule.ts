/**
 * Which inspection thread runs which message, when a thread is added and
 * when one is replaced or let go — pure functions, no timers, no threads
 * (src/inspect/inspect-pool.ts carries the decisions out; table-tested in
 * test/inspect/schedule.test.ts).
 *
 * Three kinds of thread:
 * - general threads (`inspection.threads`) take any message;
 * - small-message threads (`inspection.smallMessageThreads`) take only
 *   messages up to `inspection.smallMessageSize`, so a large message (a huge
 *   part, a big archive or PDF) can never occupy the lane ordinary mail uses.
 *   They start when first needed, not with the pool: when every general
 *   thread has taken a large message, or when a small message waits and
 *   every thread that could take it has been busy on one message for
 *   `inspection.burstAfter` (each thread holds 25 – 35 MB, and under
 *   ordinary small mail the general threads keep up alone); once started
 *   they stay;
 * - burst threads (at most `inspection.burstThreads`) are started when a
 *   message waits and every thread that could take it has been busy on one
 *   message for `inspection.burstAfter`: they take the waiting queue over
 *   and stop when it is empty.
 *
 * Waiting messages are taken smallest first (equal sizes in arrival order):
 * size is all that is known of a message's cost before it is inspected, and
 * a flood of hostile messages cannot push a smaller ordinary one behind
 * itself. Bounds: never more than threads +
 * smallMessageThreads + burstThreads threads, and a burst thread only while
 * all threads together (counting ones still shutting down) stay within
 * `inspection.maxThreadMemory` at `inspection.threadMemory` each — a flood
 * of bombs cannot make the daemon start threads without limit. With every
 * thread busy, a message waits for the first thread to finish, which
 * `inspection.maxScanTime` bounds.
 *
 * A thread that ran a message larger than `inspection.recycleSize`, whose
 * heap grew past `inspection.recycleHeap`, or whose message failed (time
 * limit, crash, heap limit) is replaced by a fresh one after the job: V8
 * gives a worker's memory back to the system only when its isolate is
 * disposed.
 */

export type ThreadRole = 'general' | 'small' | 'burst';

/** Defaults of the scheduling settings (the config schema's defaults). */
export const POOL_DEFAULTS = {
  smallThreads: 1,
  smallMessageBytes: 256 * 1024,
  burstThreads: 2,
  burstAfterMs: 1000,
  recycleBytes: 8 * 1024 * 1024,
  recycleHeapMb: 128,
} as const;


/**
 * Default of inspection.maxThreadMemory (MiB): a quarter of the machine's
 * memory, at least 1 GiB and at most 4 GiB. On a small machine that leaves
 * no room for burst threads beside the base ones (1 GiB heap limit each).
 */
export function defaultMaxThreadMemoryMb(totalMemoryBytes: number): number {
  return Math.min(4096, Math.max(1024, Math.floor(totalMemoryBytes / (4 * 1024 * 1024))));
}

export interface ScheduleSettings {
  /** General threads (any message). */
  readonly threads: number;
  /** Threads reserved for small messages. */
  readonly smallThreads: number;
  /** Largest message (bytes) a small-message thread takes. */
  readonly smallMessageBytes: number;
  /** Burst threads, at most. */
  readonly burstThreads: number;
  /** A message waits this long behind threads that are all busy before a burst thread starts. */
  readonly burstAfterMs: number;
  /** Heap limit of one thread (MiB). */
  readonly threadMemoryMb: number;
  /** Heap limits of all threads together (MiB): a burst thread starts only within it. */
  readonly maxThreadMemoryMb: number;
  /** A thread that ran a message larger than this (bytes) is replaced. */
  readonly recycleBytes: number;
  /** A thread whose heap is above this (MiB) after a message is replaced. */
  readonly recycleHeapMb: number;
}

export interface ThreadView {
  readonly id: number;
  readonly role: ThreadRole;
  /** The job it runs and since when (ms); undefined when idle. */
  readonly job?: { readonly id: number; readonly size: number; readonly since: number } | undefined;
}

export interface JobView {
  readonly id: number;
  /** Message size in bytes. */
  readonly size: number;
}

export interface Plan {
  /** Jobs to start now: thread id → job id. */
  readonly assign: readonly { readonly thread: number; readonly job: number }[];
  /** Start a burst thread now (then plan again: it takes the queue). */
  readonly spawn: boolean;
  /** Start a small-message thread now, one not yet started (then plan again: it takes what it may). */
  readonly spawnSmall: boolean;
  /** Idle burst threads to stop. */
  readonly retire: readonly number[];
  /** When to plan again if nothing else happens (a busy thread reaches burstAfter); undefined: only on the next event. */
  readonly recheckAt?: number | undefined;
}

export const isSmall = (size: number, s: Pick<ScheduleSettings, 'smallMessageBytes'>): boolean => size <= s.smallMessageBytes;

/** Whether a thread of this role may run a job of this size. */
export function mayTake(role: ThreadRole, size: number, s: Pick<ScheduleSettings, 'smallMessageBytes'>): boolean {
  return role !== 'small' || isSmall(size, s);
}

/** Most threads the pool may ever run at once. */
export const maxThreads = (s: ScheduleSettings): number => s.threads + s.smallThreads + s.burstThreads;

/**
 * Waiting jobs in the order they are taken: smallest first, equal sizes in
 * arrival order (`waiting` is in arrival order). Size is the only thing
 * known about a message's cost before it is inspected; taking small ones
 * first keeps ordinary mail ahead of a flood of larger hostile messages.
 */
export function priorityOrder<J extends JobView>(waiting: readonly J[]): J[] {
  return waiting
    .map((j, i) => ({ j, i }))
    .sort((a, b) => a.j.size - b.j.size || a.i - b.i)
    .map(({ j }) => j);
}

const ROLE_ORDER: Record<ThreadRole, number> = { small: 0, general: 1, burst: 2 };

/**
 * The plan for this moment. `threads` are the running threads (starting ones
 * included), `waiting` the queued jobs in arrival order, `exiting` threads
 * terminated but not yet gone (their memory still counts).
 */
export function plan(threads: readonly ThreadView[], waiting: readonly JobView[], now: number, s: ScheduleSettings, exiting = 0): Plan {
  const queue = priorityOrder(waiting);
  const assign: { thread: number; job: number }[] = [];
  const busy = new Map<number, { size: number; since: number }>();
  for (const t of threads) if (t.job) busy.set(t.id, { size: t.job.size, since: t.job.since });
  // the most restricted idle threads choose first: a small job goes to the small lane, leaving general threads for large ones
  const idle = threads.filter((t) => !t.job).sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.id - b.id);
  for (const t of idle) {
    const i = queue.findIndex((j) => mayTake(t.role, j.size, s));
    if (i < 0) continue;
    const [job] = queue.splice(i, 1);
    if (!job) continue;
    assign.push({ thread: t.id, job: job.id });
    busy.set(t.id, { size: job.size, since: now });
  }
  const stillIdle = idle.filter((t) => !busy.has(t.id));
  const retire = queue.length === 0 ? stillIdle.filter((t) => t.role === 'burst').map((t) => t.id) : [];
  const stuck = (t: ThreadView): boolean => {
    const b = busy.get(t.id);
    return b !== undefined && now - b.since >= s.burstAfterMs;
  };
  // the small-message lane, started when first needed: every general thread has a large message (then at once, so
  // the lane is ready before small mail queues behind them), or a small message waits behind threads all stuck
  const smallNotStarted = Math.max(0, s.smallThreads - threads.filter((t) => t.role === 'small').length);
  const smallMissing = smallNotStarted > 0;
  const generals = threads.filter((t) => t.role === 'general');
  const generalsOnLarge = generals.length > 0 && generals.every((t) => { const b = busy.get(t.id); return b !== undefined && !isSmall(b.size, s); });
  const smallWaits = queue.some((j) => isSmall(j.size, s));
  const spawnSmall = smallMissing && (generalsOnLarge || (smallWaits && threads.every(stuck)));
  if (spawnSmall) return { assign, spawn: false, spawnSmall, retire, recheckAt: undefined };
  if (queue.length === 0) return { assign, spawn: false, spawnSmall, retire, recheckAt: undefined };

  // a job still waits: every thread that may take it is busy (else it would have been assigned)
  // small-message threads not started yet keep their places: the caps are the same as with every base thread running
  const counted = threads.length + exiting + smallNotStarted;
  const room = counted < maxThreads(s) && (counted + 1) * s.threadMemoryMb <= s.maxThreadMemoryMb;
  const anySmall = queue.some((j) => isSmall(j.size, s));
  const anyLarge = queue.some((j) => !isSmall(j.size, s));
  // for a small job every thread counts, for a large one the threads that may take it
  const eligible = (small: boolean): ThreadView[] => threads.filter((t) => mayTake(t.role, small ? 0 : Number.POSITIVE_INFINITY, s));
  const allStuck = (small: boolean): boolean => eligible(small).every(stuck);
  const spawn = room && ((anySmall && allStuck(true)) || (anyLarge && allStuck(false)));
  let recheckAt: number | undefined;
  // a small job waiting with the small lane not started looks again too, with no room for a burst thread
  if ((room || (smallMissing && anySmall)) && !spawn) {
    // the moment the last of the eligible threads will have been busy burstAfter on its job
    const when = (small: boolean): number => Math.max(...eligible(small).map((t) => (busy.get(t.id)?.since ?? now) + s.burstAfterMs));
    const candidates = [...(anySmall ? [when(true)] : []), ...(anyLarge && room ? [when(false)] : [])].filter((t) => Number.isFinite(t) && t > now);
    if (candidates.length) recheckAt = Math.min(...candidates);
  }
  return { assign, spawn, spawnSmall: false, retire, recheckAt };
}

export type AfterJob = 'keep' | 'recycle' | 'retire';

export interface FinishedJob {
  readonly role: ThreadRole;
  /** Message size in bytes. */
  readonly size: number;
  /** The thread's heap after the job (MiB); undefined when it did not say (it failed). */
  readonly heapMb?: number | undefined;
  /** The job timed out, the thread died or answered nonsense: it is not reused. */
  readonly failed: boolean;
  /** Jobs waiting that this thread may take. */
  readonly waitingForIt: number;
}

/** Why a thread is replaced after a job, or undefined when it may go on. */
export function recycleReason(j: FinishedJob, s: ScheduleSettings): 'failed' | 'large message' | 'heap' | undefined {
  if (j.failed) return 'failed';
  if (j.size > s.recycleBytes) return 'large message';
  if (j.heapMb !== undefined && j.heapMb > s.recycleHeapMb) return 'heap';
  return undefined;
}

/**
 * What becomes of a thread after its job: kept for the next one, replaced by
 * a fresh thread of the same kind (recycle), or stopped (a burst thread with
 * nothing left that it may take).
 */
export function afterJob(j: FinishedJob, s: ScheduleSettings): AfterJob {
  const reason = recycleReason(j, s);
  if (j.role === 'burst' && j.waitingForIt === 0) return 'retire';
  return reason !== undefined ? 'recycle' : 'keep';
}
