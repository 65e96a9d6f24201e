/**
 * One verdict asks a detector for its finding and then for the spans of the
 * same text (and the health terms twice): within `withScanCache`, each
 * scan's result is kept for its text and reused, so a text is scanned once
 * per detector. Nothing outlives the call: the next text starts afresh.
 */

/** Where one key's result is kept (made once per key, emptied after each verdict). */
interface Slot {
  text: string | undefined;
  value: unknown;
}

let depth = 0;
/**
 * Each key's slot, kept across verdicts: a Map cleared after every verdict
 * was rebuilt (and regrown) on each call, about a tenth of a short text's
 * time. Weak, so the keys of a profile no longer used (custom detectors) go.
 */
const slots = new WeakMap<object, Slot>();
/** The slots filled in this verdict, emptied when it ends (the array itself reused). */
const filled: Slot[] = [];

/** Runs `f` with the scans it makes cached; clears them when the outermost call ends. */
export function withScanCache<T>(f: () => T): T {
  depth++;
  try {
    return f();
  } finally {
    depth--;
    if (depth === 0) emptySlots();
  }
}

/** Lets go of every result kept in this verdict (texts and values alike). */
function emptySlots(): void {
  for (let i = 0; i < filled.length; i++) {
    const slot = filled[i] as Slot;
    slot.text = undefined;
    slot.value = undefined;
  }
  filled.length = 0;
}

function slotOf(key: object): Slot {
  let slot = slots.get(key);
  if (slot === undefined) {
    slot = { text: undefined, value: undefined };
    slots.set(key, slot);
  }
  return slot;
}

/** `compute(text)` for `key`, computed once per text within `withScanCache` (always computed outside it). */
export function cachedScan<T>(key: object, text: string, compute: (text: string) => T): T {
  return depth === 0 ? compute(text) : keptIn(slotOf(key), text, compute);
}

/** The value `slot` keeps for `text`, computed and kept (until the verdict ends) when it keeps none for it. */
function keptIn<T>(slot: Slot, text: string, compute: (text: string) => T): T {
  if (slot.text === text) return slot.value as T;
  const value = compute(text);
  if (slot.text === undefined) filled.push(slot);
  slot.text = text;
  slot.value = value;
  return value;
}

/**
 * `compute` as a function of the text, computed once per text within
 * `withScanCache` like `cachedScan`, with its slot found once (not looked up
 * per call): for a fact about a text asked at every match of a scan.
 */
export function scanOnce<T>(compute: (text: string) => T): (text: string) => T {
  const slot: Slot = { text: undefined, value: undefined };
  return (text) => (depth === 0 ? compute(text) : keptIn(slot, text, compute));
}
