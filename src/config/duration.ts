/**
 * Durations in the config: a number of milliseconds, or a string such as
 * "90s", "5m", "4h", "5d", "6y" (also "250ms"; a year is 365 days). Parsed once, at load time.
 */
import { z } from 'zod';

/** A year is 365 days (a retention of "6y" is 2190 days; give days for leap-exact periods). */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, y: 365 * 86_400_000 };

/** Pure: "5m" → 300000; undefined when it is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|y)\s*$/.exec(value);
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN));
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Zod type: duration in, milliseconds out; `min` in ms. */
export function duration(min = 0) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < min) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s", "5m", "4h", "5d", "6y" or milliseconds${min ? `, at least ${min} ms` : ''}` });
      return z.NEVER;
    }
    return ms;
  });
}
