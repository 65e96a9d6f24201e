/**
 * Typographic punctuation read as the plain punctuation it stands for:
 * curly apostrophes and quotes as ' and ", the hyphen and dash family
 * (non-breaking hyphen, en and em dash, minus sign …) as -. Outlook and
 * Word write them for what staff type as ' " and -, so a message reads the
 * same to the detectors however it was typed: "O’Brien" as "O'Brien",
 * "123‑45‑6789" with Word's non-breaking hyphens as the SSN it is.
 *
 * One code unit for one, so every position in the text stays where it was.
 * A text whose only characters beyond U+00FF were these is then stored one
 * byte a character, where V8's regular expressions and the detectors' loops
 * run faster than on two-byte text. Other characters (…, •, €, letters of
 * other scripts) are left as they are.
 */
import { scratchBuffer } from './flat-text.js';

/** A character beyond U+00FF (each half of a surrogate pair counts alone). */
const WIDE = /[\u0100-\uFFFF]/g;

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

/** The plain character's code for the unit `c` (0: `c` is left as it is). */
function plainCode(c: number): number {
  const k = c - TABLE_START;
  return k >= 0 && k < PLAIN.length ? (PLAIN[k] as number) : 0;
}

/**
 * The text with typographic apostrophes, quotes and dashes made plain (the
 * text itself when it holds no character beyond U+00FF): one sequential
 * string, one byte a character when nothing else beyond U+00FF is left. The
 * characters beyond U+00FF are found by one native search; the text is
 * written into a buffer once, the marks replaced there, and decoded once.
 */
export function plainPunctuation(text: string): string {
  WIDE.lastIndex = 0;
  let m = WIDE.exec(text);
  if (m === null) return text;
  const marks: number[] = [];
  let narrow = true;
  for (; m !== null; m = WIDE.exec(text)) {
    if (plainCode(text.charCodeAt(m.index)) !== 0) marks.push(m.index);
    else narrow = false;
  }
  WIDE.lastIndex = 0;
  if (marks.length === 0) return text;
  const n = text.length;
  if (narrow) {
    // latin1 writes each unit's low byte: the marks' bytes are then put right
    const buffer = scratchBuffer(n);
    buffer.write(text, 0, n, 'latin1');
    for (const i of marks) buffer[i] = plainCode(text.charCodeAt(i));
    return buffer.toString('latin1', 0, n);
  }
  // utf16le keeps every unit (lone surrogates too), low byte first
  const buffer = scratchBuffer(2 * n);
  buffer.write(text, 0, 2 * n, 'utf16le');
  for (const i of marks) {
    buffer[2 * i] = plainCode(text.charCodeAt(i));
    buffer[2 * i + 1] = 0;
  }
  return buffer.toString('utf16le', 0, 2 * n);
}
