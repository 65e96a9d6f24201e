/**
 * The time window of a report (pure): whole UTC days, `since` to `until`
 * both included, given as dates (2026-11-05) — what an `<input
 * type="date">` sends. Without them: the last 30 days up to today. Bounded:
 * at most 366 days, so every figure's query reads at most a year of the
 * archive.
 */

export const DAY_MS = 86_400_000;
/** Days in the default window (today and the 29 days before). */
export const DEFAULT_DAYS = 30;
/** Longest window (days): a leap year. */
export const MAX_DAYS = 366;

export interface ReportWindow {
  /** First millisecond of the first day (UTC midnight), included. */
  readonly since: number;
  /** First millisecond after the last day, excluded. */
  readonly until: number;
  /** Days in the window (1 to MAX_DAYS). */
  readonly days: number;
  /** The first and last day as YYYY-MM-DD. */
  readonly first: string;
  readonly last: string;
}

/** A window that cannot be used: `problem` says why in one sentence, never echoing the value. */
export type WindowResult = { readonly ok: true; readonly window: ReportWindow } | { readonly ok: false; readonly problem: string };

/** Pure: the YYYY-MM-DD of a time (UTC). */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Pure: UTC midnight of a YYYY-MM-DD date, or undefined when it is not a real date (2026-02-30). */
export function parseDay(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1970) return undefined;
  const ms = Date.UTC(y, mo - 1, d);
  return dayOf(ms) === value ? ms : undefined;
}

/** Pure: the days of a window as YYYY-MM-DD, in order. */
export function daysOf(w: ReportWindow): string[] {
  return Array.from({ length: w.days }, (_, i) => dayOf(w.since + i * DAY_MS));
}

/**
 * Pure: the window of the query fields `since` and `until` (empty or
 * missing: the default), as of `now`.
 */
export function parseWindow(rawSince: string | undefined, rawUntil: string | undefined, now: number): WindowResult {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const s = rawSince?.trim() ?? '';
  const u = rawUntil?.trim() ?? '';
  const last = u === '' ? today : parseDay(u);
  if (last === undefined) return { ok: false, problem: 'until must be a date such as 2026-12-05 (UTC).' };
  const first = s === '' ? last - (DEFAULT_DAYS - 1) * DAY_MS : parseDay(s);
  if (first === undefined) return { ok: false, problem: 'since must be a date such as 2026-11-05 (UTC).' };
  if (first > last) return { ok: false, problem: 'since must not be after until (today when until is empty).' };
  const days = (last - first) / DAY_MS + 1;
  if (days > MAX_DAYS) return { ok: false, problem: `A report covers at most ${MAX_DAYS} days; choose a shorter window.` };
  return { ok: true, window: { since: first, until: last + DAY_MS, days, first: dayOf(first), last: dayOf(last) } };
}
