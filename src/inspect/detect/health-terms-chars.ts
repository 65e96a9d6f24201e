/**
 * What the health-term scanners ask about one UTF-16 code unit, answered by
 * one table lookup instead of a regex test per character: the answers are
 * the regexes' own (each computed once per code unit, with the regex, the
 * first time the unit is seen), so the scanners match what the regexes match.
 * And the text itself as code units in a typed array, read by the scanners.
 */
import { Buffer } from 'node:buffer';

/** A letter, digit, combining mark (any script) or "_" as a unit alone: a term's boundary (`[\p{L}\p{N}\p{M}_]`). */
export const WORD = 1;
/** A letter as a code point (`\p{L}`); a surrogate alone is not one. */
export const LETTER = 2;
/** Whitespace (`\s`). */
export const SPACE = 4;
/** A digit, mark or "_" as a unit alone (`[\p{N}\p{M}_]`): what may not touch a medical word. */
export const DIGIT_MARK = 8;
/** `\w` of a regex without the unicode flag ([A-Za-z0-9_]): what `\b` looks at. */
export const ASCII_WORD = 16;
/** The first half of a surrogate pair: the code point is read from two units. */
export const HIGH_SURROGATE = 32;
/** The second half of a surrogate pair. */
export const LOW_SURROGATE = 64;
/** Set on every unit once its class is known (so 0 means "not looked at yet"). */
const KNOWN = 128;

const LETTER_DIGIT_MARK = /^[\p{L}\p{N}\p{M}_]$/u;
const LETTER_ONLY = /^\p{L}$/u;
const WHITESPACE = /^\s$/;
const DIGIT_OR_MARK = /^[\p{N}\p{M}_]$/u;

/** Each code unit's class bits, filled as units are met (most mail uses a few hundred of them). */
const CLASSES = new Uint8Array(0x10000);

/** The class bits of code unit `c` (0 ≤ c < 0x10000). */
export function unitClass(c: number): number {
  const known = CLASSES[c] as number;
  return known !== 0 ? known : classify(c);
}

/**
 * The table `unitClass` reads, for a hot loop to hold in a constant of its
 * own module (an imported function that reads it costs a good part of a
 * loop over every unit). An entry of 0 is not looked at yet: `unitClass`
 * looks at it.
 */
export const unitClassTable = (): Uint8Array => CLASSES;

function classify(c: number): number {
  const unit = String.fromCharCode(c);
  let bits = KNOWN;
  if (LETTER_DIGIT_MARK.test(unit)) bits |= WORD;
  if (LETTER_ONLY.test(unit)) bits |= LETTER;
  if (WHITESPACE.test(unit)) bits |= SPACE;
  if (DIGIT_OR_MARK.test(unit)) bits |= DIGIT_MARK;
  if (c < 128 && /\w/.test(unit)) bits |= ASCII_WORD;
  if (c >= 0xd800 && c <= 0xdbff) bits |= HIGH_SURROGATE;
  if (c >= 0xdc00 && c <= 0xdfff) bits |= LOW_SURROGATE;
  CLASSES[c] = bits;
  return bits;
}

// ASCII up front: the common case never takes the slow branch
for (let c = 0; c < 128; c++) classify(c);

/**
 * The copy's array is kept for the next text (grown to the longest text up
 * to this many units, 4 MB); a longer text gets an array of its own, not
 * kept (it would stay for good). A 1 MB body reads as a little more than
 * 2^20 units (its tables and clinical fields written out after it), so the
 * bound is 2^21: at 2^20 every such body allocated (and the collector
 * freed) 2 MB.
 */
const KEPT_UNITS = 1 << 21;
let kept = new Uint16Array(4096);
/** The kept array's bytes, for Buffer's write (made once per kept array: a short text's copy costs little more than the write). */
let keptBytes = Buffer.from(kept.buffer);

/**
 * The UTF-16 code units of `text` in a typed array: reading a unit from it
 * is a plain load, where charCodeAt on a string built by concatenation goes
 * through the string's parts each time. Copied by Buffer's native write (a
 * memory copy). The array is reused by the next call: read it before then.
 */
export function codeUnits(text: string): Uint16Array {
  const n = text.length;
  if (n <= kept.length) {
    keptBytes.write(text, 0, 'utf16le');
    return kept.subarray(0, n);
  }
  const units = new Uint16Array(n);
  Buffer.from(units.buffer).write(text, 0, 'utf16le');
  if (n <= KEPT_UNITS) {
    kept = units;
    keptBytes = Buffer.from(units.buffer);
  }
  return units;
}

const ASTRAL_LETTERS = new Map<number, boolean>();

/** Whether a surrogate pair starts at `i` and is a letter (`\p{L}` of its code point). */
export function astralLetterAt(units: Uint16Array, i: number): boolean {
  const cp = astralAt(units, i);
  if (cp < 0) return false;
  let l = ASTRAL_LETTERS.get(cp);
  if (l === undefined) {
    l = LETTER_ONLY.test(String.fromCodePoint(cp));
    ASTRAL_LETTERS.set(cp, l);
  }
  return l;
}

/**
 * The code point at `i` when it is a surrogate pair, else -1: the pair's
 * two units, if `units[i]` is a first half and `units[i + 1]` a second.
 */
function astralAt(units: Uint16Array, i: number): number {
  if (i + 1 >= units.length) return -1;
  const c = units[i] as number;
  if (c < 0xd800 || c > 0xdbff) return -1;
  const d = units[i + 1] as number;
  return d >= 0xdc00 && d <= 0xdfff ? (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000 : -1;
}

/** `\p{L}` at `i` as a unicode regex reads it: a surrogate pair's code point, or the unit. */
export function letterAt(units: Uint16Array, i: number): boolean {
  if (i >= units.length) return false;
  return (unitClass(units[i] as number) & LETTER) !== 0 || astralLetterAt(units, i);
}

const CANONICAL = new Map<number, number>();

/** A code unit as a case-insensitive regex without the unicode flag compares it (ECMAScript Canonicalize). */
export function canonical(c: number): number {
  if (c < 128) return c >= 97 && c <= 122 ? c - 32 : c;
  let k = CANONICAL.get(c);
  if (k === undefined) {
    const upper = String.fromCharCode(c).toUpperCase();
    k = upper.length !== 1 || upper.charCodeAt(0) < 128 ? c : upper.charCodeAt(0);
    CANONICAL.set(c, k);
  }
  return k;
}
