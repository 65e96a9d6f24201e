/**
 * The periodic sweep of the spool's objects (objects.kind: s3): every
 * SPOOL_SWEEP_INTERVAL_MS the daemon removes the objects of messages that
 * left the queue but whose removal failed (the store was unreachable), and of
 * writes a node never committed (it died between the put and the queue
 * rows), and content in the database that no queued message names.
 * Objects and content younger than SPOOL_ORPHAN_MIN_AGE_MS are kept: another
 * node's message may be between its put and its commit. Any node may sweep;
 * two sweeping at once delete the same objects, which is harmless.
 */
import type { Logger } from '../log/logger.js';
import { SPOOL_ORPHAN_MIN_AGE_MS, SPOOL_SWEEP_INTERVAL_MS } from './object-blobs.js';
import type { Spool } from './spool.js';

export interface SpoolObjectSweep {
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

export function startSpoolObjectSweep(spool: Spool, isQueued: (id: string) => Promise<boolean>, now: () => number, log: Logger, intervalMs = SPOOL_SWEEP_INTERVAL_MS): SpoolObjectSweep {
  let running: Promise<void> = Promise.resolve();
  const sweep = (): void => {
    running = running.then(async () => {
      try {
        // the objects, and the database's content left by a node that died before its queue rows (as old as the objects)
        const { orphans } = await spool.removeOrphans(isQueued, now(), { inlineMinAgeMs: SPOOL_ORPHAN_MIN_AGE_MS });
        if (orphans > 0) log.info({ event: 'SPOOL_ORPHANS_REMOVED', tmp: 0, orphans }, 'removed spool objects no queued message needs');
      } catch (err) {
        log.warn({ event: 'SPOOL_SWEEP_FAILED', reason: (err as { code?: string }).code ?? 'unknown' }, 'spool object sweep failed; tried again at the next interval');
      }
    });
  };
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
