/**
 * How far the daemon's V8 heaps grow between full collections.
 *
 * V8 sets a heap's next full-collection limit to the live size times a factor
 * it picks from the collector's speed, up to 4× on a machine with a large
 * heap limit. The daemon's main thread holds about 30 MB of live objects
 * (mostly compiled modules), and under mail load every message leaves
 * objects that outlive two young-generation collections (the pipeline holds
 * a message for tens of milliseconds to seconds) and die in the old
 * generation, together with the Buffers they point to (malloc'd outside the
 * heap). With V8's own factor the old generation grew to about 90 MB and the
 * dead Buffers to about 40 MB before the first full collection of a 2 000
 * message load. A factor of 2 takes about 55 MB off that load's peak RSS at
 * no more CPU per message; 1.5 about 75 MB, but at 4 % more CPU per message
 * at 2 KB and 6 – 24 % more at 100 KB (more full collections; measured in
 * docs/performance.md, "Memory").
 *
 * V8 reads this flag at every full collection, so setting it at run time,
 * before the daemon's modules load, takes effect; flags that size the heap
 * (`--max-semi-space-size`) are read once when the heap is made and do
 * nothing when set this way (measured). An operator's own
 * `--heap-growing-percent` on node's command line wins (0: V8's factor).
 */
import { setFlagsFromString } from 'node:v8';

/** The daemon's heap growth factor, as V8's flag: 1 + this / 100. */
export const DAEMON_HEAP_GROWING_PERCENT = 100;

/** Pure: the flag to set, or undefined when node's own command line already sets it. */
export function heapGrowthFlag(execArgv: readonly string[], percent = DAEMON_HEAP_GROWING_PERCENT): string | undefined {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return undefined;
  return `--heap-growing-percent=${percent}`;
}

/** Sets the daemon's heap growth (see above); whether it did. */
export function limitDaemonHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  const flag = heapGrowthFlag(execArgv);
  if (flag === undefined) return false;
  setFlagsFromString(flag);
  return true;
}
