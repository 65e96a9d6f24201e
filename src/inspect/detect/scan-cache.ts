/**
 * One verdict asks a detector for its finding and then for the spans of the
 * same text (and the health terms twice): within `withScanCache`, each
 * scan's result is kept for its text and reused, so a text is scanned once
 * per detector. Nothing outlives the call: the next text starts afresh.
 */
let depth = 0;
const results = new Map<object, { readonly text: string; readonly value: unknown }>();

/** Runs `f` with the scans it makes cached; clears them when the outermost call ends. */
export function withScanCache<T>(f: () => T): T {
  depth++;
  try {
    return f();
  } finally {
    depth--;
    if (depth === 0) results.clear();
  }
}

/** `compute(text)` for `key`, computed once per text within `withScanCache` (always computed outside it). */
export function cachedScan<T>(key: object, text: string, compute: (text: string) => T): T {
  if (depth === 0) return compute(text);
  const hit = results.get(key);
  if (hit && hit.text === text) return hit.value as T;
  const value = compute(text);
  results.set(key, { text, value });
  return value;
}
