/**
 * Layering of configuration sources: built-in defaults < config file <
 * command-line flags. A file needs only the keys it changes; everything else
 * keeps the embedded default. Objects merge key by key; an array or any other
 * value in a later layer replaces the earlier one whole (a file that lists its
 * own connectors gets exactly those, never the default's loopback connector
 * as well). `null` is a value (e.g. keys.discovery.keyserver: null), not
 * "absent".
 */

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `over` layered on `base`; neither is changed. */
export function layerConfig(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = layerConfig(base[k], v);
  return out;
}
