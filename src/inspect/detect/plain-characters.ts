/**
 * The characters of a text as a reader sees them, which is how the detectors
 * read them:
 *
 * - typographic punctuation as the plain punctuation it stands for: curly
 *   apostrophes and quotes as ' and ", the hyphen and dash family
 *   (non-breaking hyphen, en and em dash, minus sign …) as -. Outlook and
 *   Word write them for what staff type as ' " and -, so "O’Brien" reads as
 *   "O'Brien" and "123‑45‑6789" with Word's non-breaking hyphens as the SSN
 *   it is;
 * - invisible formatting characters left out: the soft hyphen, zero-width
 *   space, non-joiner and joiner, word joiner, byte order mark, and the
 *   direction marks, embeddings and isolates. A reader sees "536-22-1234"
 *   where the text holds "536\u200B-22-1234" (an editor's line-break hint,
 *   a copy from a web page, or someone hiding it); so do the detectors.
 *
 * A text whose only characters beyond U+00FF were these is then stored one
 * byte a character, where V8's regular expressions and the detectors' loops
 * run faster than on two-byte text. Other characters (…, •, €, letters of
 * other scripts) are left as they are.
 */
import { scratchBuffer } from './flat-text.js';

/** The soft hyphen, or a character beyond U+00FF (each half of a surrogate pair counts alone): what may change. */
const SPECIAL = /[\u00AD\u0100-\uFFFF]/g;
/** A character beyond U+00FF. */
const WIDE = /[\u0100-\uFFFF]/;
const SOFT_HYPHEN = '\u00AD';

/**
 * Invisible formatting characters (format characters a reader does not see
 * between two others): the soft hyphen, the Mongolian vowel separator,
 * zero-width space, non-joiner and joiner, the left-to-right and
 * right-to-left marks, the direction embeddings and overrides, the word
 * joiner and invisible operators, the direction isolates, the byte order mark.
 */
function invisible(c: number): boolean {
  return c === 0xad || c === 0x180e || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069) || c === 0xfeff;
}

/** The first character of the table below. */
const TABLE_START = 0x2010;
/**
 * The plain character's code for each from U+2010 to U+2212 (0: none):
 * hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal
 * bar and minus sign as -; single quotation marks as '; double ones as ".
 */
const PLAIN = new Uint8Array(0x2212 - TABLE_START + 1);
for (let c = 0x2010; c <= 0x2015; c++) PLAIN[c - TABLE_START] = 0x2d;
for (let c = 0x2018; c <= 0x201b; c++) PLAIN[c - TABLE_START] = 0x27;
for (let c = 0x201c; c <= 0x201f; c++) PLAIN[c - TABLE_START] = 0x22;
PLAIN[0x2212 - TABLE_START] = 0x2d;

/** The plain character's code for the unit `c` (0: `c` is not typographic punctuation). */
function plainCode(c: number): number {
  const k = c - TABLE_START;
  return k >= 0 && k < PLAIN.length ? (PLAIN[k] as number) : 0;
}

/** What to do at one place of the text: put a plain character's code there, or leave the unit out (REMOVE). */
const REMOVE = -1;

/**
 * The text with its typographic punctuation made plain and its invisible
 * formatting characters left out (the text itself when it holds neither),
 * one sequential string, one byte a character when nothing beyond U+00FF
 * is left. The places to change are found by one native search; the text
 * is written into a buffer once, changed there, and decoded once.
 */
export function plainCharacters(text: string): string {
  // most texts hold neither: a native search for the one Latin-1 character, and one test for the rest (twice as fast as a search for both)
  if (text.indexOf(SOFT_HYPHEN) < 0 && !WIDE.test(text)) return text;
  SPECIAL.lastIndex = 0;
  let m = SPECIAL.exec(text);
  if (m === null) return text;
  const places: number[] = [];
  const actions: number[] = [];
  let narrow = true;
  for (; m !== null; m = SPECIAL.exec(text)) {
    const c = text.charCodeAt(m.index);
    const plain = plainCode(c);
    if (plain !== 0 || invisible(c)) {
      places.push(m.index);
      actions.push(plain !== 0 ? plain : REMOVE);
    } else if (c > 0xff) narrow = false;
  }
  SPECIAL.lastIndex = 0;
  if (places.length === 0) return text;
  // latin1 writes each unit's low byte, utf16le every unit (lone surrogates too) low byte first
  const width = narrow ? 1 : 2;
  const encoding = narrow ? 'latin1' : 'utf16le';
  const n = text.length;
  const buffer = scratchBuffer(width * n);
  buffer.write(text, 0, width * n, encoding);
  // changed in place, front to back: the units after a left-out one move up (`to` never passes `from`)
  let to = 0;
  let from = 0;
  for (let k = 0; k < places.length; k++) {
    const at = places[k] as number;
    if (to !== from) buffer.copyWithin(to, from, width * at);
    to += width * at - from;
    from = width * (at + 1);
    const action = actions[k] as number;
    if (action === REMOVE) continue;
    buffer[to] = action;
    if (width === 2) buffer[to + 1] = 0;
    to += width;
  }
  if (to !== from) buffer.copyWithin(to, from, width * n);
  to += width * n - from;
  return buffer.toString(encoding, 0, to);
}
