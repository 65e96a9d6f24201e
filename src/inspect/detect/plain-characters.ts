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
 * - the other spaces (no-break, narrow no-break, the typographic widths,
 *   ideographic) as a space, the line and paragraph separators as a line
 *   break: HTML mail's &nbsp; ("536&nbsp;22&nbsp;1234", "Patient:&nbsp;
 *   Maria&nbsp;Alvarez") reads as the spaced text it shows;
 * - the fullwidth forms of ASCII (U+FF01 – U+FF5E) as ASCII, as Unicode's
 *   compatibility mapping (NFKC) reads them;
 * - letters as one character each: accents written after their letter
 *   composed with it (NFC: "José" copied from a PDF as "Jose" + U+0301),
 *   the Latin ligatures written as their letters ("ﬁbrillation" as
 *   "fibrillation"), and the ellipsis as the "..." it was typed as;
 * - invisible formatting characters left out: the soft hyphen, zero-width
 *   space, non-joiner and joiner, word joiner, byte order mark, and the
 *   direction marks, embeddings and isolates. A reader sees "536-22-1234"
 *   where the text holds "536\u200B-22-1234" (an editor's line-break hint,
 *   a copy from a web page, or someone hiding it); so do the detectors.
 *
 * A text whose only characters beyond U+00FF were these is then stored one
 * byte a character, where V8's regular expressions and the detectors' loops
 * run faster than on two-byte text. Other characters (•, €, letters of
 * other scripts) are left as they are.
 */
import { WIDE, scratchBuffer } from './flat-text.js';

/** A no-break space, the soft hyphen, or a character beyond U+00FF (each half of a surrogate pair counts alone): what may change. */
const SPECIAL = /[\u00A0\u00AD\u0100-\uFFFF]/g;
const NO_BREAK_SPACE = '\u00A0';
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

/** The first and last of the typographic punctuation below. */
const PUNCTUATION_FIRST = 0x2010;
const PUNCTUATION_LAST = 0x2212;
/**
 * The plain character's code for each from U+2010 to U+2212 (0: none):
 * hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal
 * bar and minus sign as -; single quotation marks as '; double ones as ".
 */
const PUNCTUATION = new Uint8Array(PUNCTUATION_LAST - PUNCTUATION_FIRST + 1);
for (let c = 0x2010; c <= 0x2015; c++) PUNCTUATION[c - PUNCTUATION_FIRST] = 0x2d;
for (let c = 0x2018; c <= 0x201b; c++) PUNCTUATION[c - PUNCTUATION_FIRST] = 0x27;
for (let c = 0x201c; c <= 0x201f; c++) PUNCTUATION[c - PUNCTUATION_FIRST] = 0x22;
PUNCTUATION[0x2212 - PUNCTUATION_FIRST] = 0x2d;

/** Fullwidth forms of the printable ASCII characters (U+FF01 – U+FF5E, as East Asian input methods write them): ASCII plus this. */
const FULLWIDTH_FIRST = 0xff01;
const FULLWIDTH_LAST = 0xff5e;
const FULLWIDTH_OFFSET = 0xfee0;

/**
 * Spaces other than U+0020 (all of them what `\s` matches): no-break,
 * Ogham, the en quad to the hair space, narrow no-break (French typography
 * before ":" and ";"), medium mathematical, ideographic.
 */
function otherSpace(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * The plain character's code for the unit `c` (0: none): a space for the
 * other spaces, a line feed for the line and paragraph separators (which
 * `\s`, `^` and `$` already take for line ends), the ASCII character for
 * typographic punctuation and for a fullwidth form.
 */
function plainCode(c: number): number {
  if (otherSpace(c)) return 0x20;
  if (c === 0x2028 || c === 0x2029) return 0x0a;
  if (c >= PUNCTUATION_FIRST && c <= PUNCTUATION_LAST) return PUNCTUATION[c - PUNCTUATION_FIRST] as number;
  if (c >= FULLWIDTH_FIRST && c <= FULLWIDTH_LAST) return c - FULLWIDTH_OFFSET;
  return 0;
}

/** A combining mark (accents written after their letter, as text copied from PDFs and some Mac software holds them): NFC composes them. */
function combining(c: number): boolean {
  return (c >= 0x0300 && c <= 0x036f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f);
}

/**
 * Characters that stand for several: the Latin ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ,
 * U+FB00 – U+FB06, as PDF text holds "conﬁrmed", "ﬁbrillation") and the
 * leaders (U+2024 – U+2026: the ellipsis Outlook's AutoCorrect writes for
 * "..."), written as their letters or dots.
 */
const EXPANDS = /[\u2024-\u2026\uFB00-\uFB06]/g;
const EXPANSION: Readonly<Record<string, string>> = {
  '\u2024': '.',
  '\u2025': '..',
  '\u2026': '...',
  '\uFB00': 'ff',
  '\uFB01': 'fi',
  '\uFB02': 'fl',
  '\uFB03': 'ffi',
  '\uFB04': 'ffl',
  '\uFB05': 'st',
  '\uFB06': 'st',
};

function expands(c: number): boolean {
  return (c >= 0x2024 && c <= 0x2026) || (c >= 0xfb00 && c <= 0xfb06);
}

/** The text's ligatures and leaders written out, and its combining marks composed with their letters (NFC), as asked. */
function composed(text: string, expand: boolean, marks: boolean): string {
  const written = expand ? text.replace(EXPANDS, (c) => EXPANSION[c] ?? c) : text;
  return marks ? written.normalize('NFC') : written;
}

/** Where the text changes, in order (kept for the next text up to KEPT_PLACES; a text with more gets a table of its own). */
let keptPlaces: Int32Array = new Int32Array(256);
const KEPT_PLACES = 1 << 16;

/** `places` with room for one more after `count`, grown (doubled) when full. */
function roomFor(places: Int32Array, count: number): Int32Array {
  if (count < places.length) return places;
  const grown = new Int32Array(places.length * 2);
  grown.set(places);
  if (grown.length <= KEPT_PLACES) keptPlaces = grown;
  return grown;
}

/**
 * The text's characters as a reader sees them (see the top of this file;
 * the text itself when nothing is to change), one sequential string, one
 * byte a character when nothing beyond U+00FF is left. The places to change
 * are found by one native search; the text is written into a buffer once,
 * changed there, and decoded once. Ligatures, leaders and combining marks
 * are then written out and composed by `replace` and `normalize`.
 */
export function plainCharacters(text: string): string {
  // most texts hold none: native searches for the two Latin-1 characters, and one test for the rest (twice as fast as one search for all)
  if (text.indexOf(NO_BREAK_SPACE) < 0 && text.indexOf(SOFT_HYPHEN) < 0 && !WIDE.test(text)) return text;
  SPECIAL.lastIndex = 0;
  let m = SPECIAL.exec(text);
  if (m === null) return text;
  let places: Int32Array = keptPlaces;
  let count = 0;
  let narrow = true;
  let expand = false;
  let marks = false;
  for (; m !== null; m = SPECIAL.exec(text)) {
    const c = text.charCodeAt(m.index);
    if (plainCode(c) !== 0 || invisible(c)) {
      places = roomFor(places, count);
      places[count++] = m.index;
    } else if (c > 0xff) {
      narrow = false;
      if (expands(c)) expand = true;
      else if (combining(c)) marks = true;
    }
  }
  SPECIAL.lastIndex = 0;
  if (count === 0) return expand || marks ? composed(text, expand, marks) : text;
  // latin1 writes each unit's low byte, utf16le every unit (lone surrogates too) low byte first
  const width = narrow ? 1 : 2;
  const encoding = narrow ? 'latin1' : 'utf16le';
  const n = text.length;
  const buffer = scratchBuffer(width * n);
  buffer.write(text, 0, width * n, encoding);
  // changed in place, front to back: the units after a left-out one move up (`to` never passes `from`)
  let to = 0;
  let from = 0;
  for (let k = 0; k < count; k++) {
    const at = places[k] as number;
    if (to !== from) buffer.copyWithin(to, from, width * at);
    to += width * at - from;
    from = width * (at + 1);
    // an invisible character is left out: nothing written in its place
    const plain = plainCode(text.charCodeAt(at));
    if (plain === 0) continue;
    buffer[to] = plain;
    if (width === 2) buffer[to + 1] = 0;
    to += width;
  }
  if (to !== from) buffer.copyWithin(to, from, width * n);
  to += width * n - from;
  const plain = buffer.toString(encoding, 0, to);
  return expand || marks ? composed(plain, expand, marks) : plain;
}
