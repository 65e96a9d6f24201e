/**
 * Texts with a character beyond U+00FF ("’", "—", "“", "œ", "€") are stored
 * by V8 with two bytes a character, and there a `u` regex reads a Unicode
 * property class (`\p{Lu}`, `\p{L}` …) about ten times slower than in a text
 * of one byte a character — most of all where the search tries every
 * position. For such texts the name and address searches are written with an
 * ASCII path first (an ASCII character is tested against a small class, only
 * the others against the property) and start only at ASCII characters; the
 * few places where a match starts at or right after a character beyond ASCII
 * are tried one by one. The matches are the same. Pure.
 */
import { cachedScan } from './scan-cache.js';

const WIDE = /[\u0100-\uFFFF]/;
const WIDE_KEY = {};

/** The text holds a character beyond U+00FF (found at once in a text stored one byte a character). */
export function wideText(text: string): boolean {
  return cachedScan(WIDE_KEY, text, (t) => WIDE.test(t));
}

/**
 * A class of the characters in `ascii` (a class body: ASCII ranges and any
 * other characters to take as they are) and those beyond ASCII in
 * `property` (a class body of property escapes), as a regex source for the
 * `u` flag: the same characters, the ASCII ones tested first.
 */
export function asciiFirst(ascii: string, property: string): string {
  return `(?:[${ascii}]|(?![\\0-\\x7F])[${property}])`;
}

/** Finds the next match starting at or after a position (its matches start nowhere another source's can). */
export interface MatchSource {
  next(from: number): RegExpExecArray | null;
}

/** The matches of a global regex, as its global search finds them from a position. */
export function searchSource(re: RegExp, text: string): MatchSource {
  // the last search: where it started and what it found (still the answer for a later start up to that match)
  let searchedFrom = -1;
  let found: RegExpExecArray | null = null;
  return {
    next(from) {
      const stillFirst = searchedFrom >= 0 && searchedFrom <= from && (found === null || found.index >= from);
      if (!stillFirst) {
        re.lastIndex = from;
        found = re.exec(text);
        re.lastIndex = 0;
        searchedFrom = from;
      }
      return found;
    },
  };
}

/** The matches of a sticky regex tried at the given places (ascending) only. */
export function placesSource(sticky: RegExp, text: string, places: readonly number[]): MatchSource {
  let i = 0;
  let pending: RegExpExecArray | null = null;
  return {
    next(from) {
      if (pending && pending.index >= from) return pending;
      pending = null;
      while (i < places.length) {
        const p = places[i++] ?? 0;
        if (p < from) continue;
        sticky.lastIndex = p;
        const m = sticky.exec(text);
        if (m) {
          pending = m;
          break;
        }
      }
      sticky.lastIndex = 0;
      return pending;
    },
  };
}

/**
 * What the global search of a regex finds when its matches are split among
 * sources that never match at the same place: the leftmost of their next
 * matches, then the search goes on from its end (matches are never empty).
 */
export function mergedMatches(sources: readonly MatchSource[], each: (m: RegExpExecArray) => void): void {
  let from = 0;
  for (;;) {
    let first: RegExpExecArray | null = null;
    for (const source of sources) {
      const m = source.next(from);
      if (m && (!first || m.index < first.index)) first = m;
    }
    if (!first) return;
    each(first);
    from = first.index + Math.max(1, first[0].length);
  }
}

const NON_ASCII = /[\u0080-\uFFFF]/g;

/**
 * Code units beyond ASCII, each with the position after it, for `accept`:
 * the places a match can start at or right after such a character. More than
 * `cap` of them (a text mostly beyond ASCII): undefined, the caller searches
 * the whole text instead.
 */
export function placesNearNonAscii(text: string, accept: (at: number, out: number[]) => void, cap: number): number[] | undefined {
  const out: number[] = [];
  let seen = 0;
  NON_ASCII.lastIndex = 0;
  for (let m = NON_ASCII.exec(text); m; m = NON_ASCII.exec(text)) {
    if (++seen > cap) {
      NON_ASCII.lastIndex = 0;
      return undefined;
    }
    accept(m.index, out);
  }
  return out;
}
