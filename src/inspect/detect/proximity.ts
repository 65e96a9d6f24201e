/**
 * Keyword proximity, as Microsoft Purview's sensitive information types use
 * it: a pattern match counts for more when a supporting keyword appears
 * within `window` characters before or after it.
 */
import { isDigit, isLetter } from './digit-runs.js';

export function keywordNear(text: string, index: number, length: number, keywords: RegExp, window = DEFAULT_WINDOW): boolean {
  keywords.lastIndex = 0;
  return keywords.test(textAround(text, index, length, window));
}

/** Characters looked at on each side of a match unless a detector says otherwise. */
export const DEFAULT_WINDOW = 80;

/** The `window` characters on each side of a match, joined by a space (the match itself left out): where its keywords are looked for. */
export function textAround(text: string, index: number, length: number, window = DEFAULT_WINDOW): string {
  const start = windowStart(text, index, window);
  const end = windowEnd(text, index + length, window);
  // joined in one flat string (the regex would flatten a concatenation: a copy more)
  return [text.slice(start, index), text.slice(index + length, end)].join(' ');
}

/** The keyword closest to a match within `window` characters, and how far it is (for explanations; never the matched value). */
export function keywordAround(text: string, index: number, length: number, keywords: RegExp, window = DEFAULT_WINDOW): { keyword: string; distance: number } | undefined {
  const start = windowStart(text, index, window);
  const end = windowEnd(text, index + length, window);
  const re = new RegExp(keywords.source, keywords.flags.includes('g') ? keywords.flags : `${keywords.flags}g`);
  let best: { keyword: string; distance: number } | undefined;
  for (const [part, offset] of [[text.slice(start, index), start], [text.slice(index + length, end), index + length]] as const) {
    for (const m of part.matchAll(re)) {
      const at = offset + m.index;
      const distance = at < index ? index - (at + m[0].length) : at - (index + length);
      if (!best || distance < best.distance) best = { keyword: m[0].trim(), distance: Math.max(0, distance) };
    }
  }
  return best;
}

/** How far past `window` a window's edge moves to a word's edge: a word is not cut ("patient account|ing" is no "patient account"). */
const WORD_REACH = 24;

/** A letter or a digit (ASCII, or any letter beyond it). */
function wordCode(c: number): boolean {
  return isDigit(c) || isLetter(c) || (c > 127 && /\p{L}/u.test(String.fromCharCode(c)));
}

/** `window` characters before `index`, moved back to the start of the word it would cut (at most WORD_REACH more). */
function windowStart(text: string, index: number, window: number): number {
  let start = Math.max(0, index - window);
  const floor = Math.max(0, start - WORD_REACH);
  if (start < index) while (start > floor && wordCode(text.charCodeAt(start)) && wordCode(text.charCodeAt(start - 1))) start--;
  return start;
}

/** `window` characters after `end`, moved on to the end of the word it would cut (at most WORD_REACH more). */
function windowEnd(text: string, end: number, window: number): number {
  let stop = Math.min(text.length, end + window);
  const ceiling = Math.min(text.length, stop + WORD_REACH);
  if (stop > end) while (stop < ceiling && wordCode(text.charCodeAt(stop)) && wordCode(text.charCodeAt(stop - 1))) stop++;
  return stop;
}
