/**
 * Signature blocks: from a sign-off line ("Thanks,", "Best regards,",
 * "Mit freundlichen Grüßen", "Cordialement,") or the "-- " delimiter to the
 * next quoted message, the end of its part of the message, or at most a dozen lines. What is there — the
 * sender's name, title, organisation, address, phone numbers, a programme
 * named in a title ("Diabetes Educator") — is about the sender and the
 * organisation, not about a patient. Pure and linear.
 */
import { isSpaceCode, NEWLINE, SPACE, TAB } from './char-codes.js';
import { cachedScan } from './scan-cache.js';

export interface Zone {
  readonly start: number;
  readonly end: number;
}

const SIGN_OFF =
  /^[ \t>]*(?:--[ \t]*|thanks(?:\s+(?:again|so\s+much))?|thank\s+you(?:\s+(?:again|so\s+much))?|many\s+thanks|best|all\s+the\s+best|best\s+regards|best\s+wishes|kind\s+regards|warm\s+regards|warmest\s+regards|regards|sincerely|yours\s+(?:sincerely|truly)|respectfully|cheers|take\s+care|cordialement|bien\s+cordialement|bien\s+à\s+vous|salutations\s+distinguées|mit\s+freundlichen\s+grüßen|mit\s+freundlichen\s+gruessen|freundliche\s+grüße|viele\s+grüße|beste\s+grüße|liebe\s+grüße|saludos(?:\s+cordiales)?|un\s+saludo|atentamente|cordialmente)[ \t]*[,.!]?[ \t]*$/i;

/** The start of a quoted or forwarded message: the signature above it ends there. */
const QUOTE_HEADER =
  /^[ \t>]*(?:on\s.{4,120}\swrote:|am\s.{4,120}\sschrieb.{0,40}:|el\s.{4,120}\sescribió:|le\s.{4,120}\sa\s+écrit\s*:|-{2,}\s*(?:original\s+message|forwarded\s+message|ursprüngliche\s+nachricht|mensaje\s+original|message\s+d['’]origine|weitergeleitete\s+nachricht)|begin\s+forwarded\s+message|_{8,}|(?:from|von|de|envoyé|gesendet|enviado)\s*:)/i;

const MAX_LINES = 12;
/** Characters of a line that the patterns read. */
const MAX_LINE = 200;
/** A longer line is no sign-off. */
const MAX_SIGN_OFF = 60;

/** ASCII characters, both cases of each letter (the patterns ignore case; without the u flag no other character folds to an ASCII one). */
function asciiSet(chars: string): Uint8Array {
  const set = new Uint8Array(128);
  for (const ch of chars) {
    set[ch.toLowerCase().charCodeAt(0)] = 1;
    set[ch.toUpperCase().charCodeAt(0)] = 1;
  }
  return set;
}

/** The first character of each SIGN_OFF alternative (after the quote marks and indent). */
const SIGN_OFF_FIRST = asciiSet('-tmbakwrsycfvlu');
/** The last character of each SIGN_OFF alternative (before the closing spaces and punctuation). */
const SIGN_OFF_LAST = asciiSet('-snhutyeo');
/** The first character of each QUOTE_HEADER alternative. */
const QUOTE_HEADER_FIRST = asciiSet('oaelb-_fvdg');

/** Where the pattern's alternatives start in text[start, end): after the leading [ \t>]*. */
function afterIndent(text: string, start: number, end: number): number {
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== 62) break;
  }
  return i;
}

/** Whether `c` is ASCII and in `set`. */
function inSet(set: Uint8Array, c: number): boolean {
  return c < 128 && set[c] === 1;
}

/**
 * A sign-off line text[start, end) (at most MAX_SIGN_OFF characters). The
 * pattern is tried only on a line that starts and ends as one of its
 * alternatives does: most lines are refused on two characters, not copied.
 */
function signOff(text: string, start: number, end: number): boolean {
  const first = afterIndent(text, start, end);
  if (first >= end || !inSet(SIGN_OFF_FIRST, text.charCodeAt(first))) return false;
  // from the end: [ \t]*, one of [,.!] at most, [ \t]*, then the alternative's last character
  let last = end - 1;
  while (last > first && (text.charCodeAt(last) === SPACE || text.charCodeAt(last) === TAB)) last--;
  const mark = text.charCodeAt(last);
  if (mark === 44 || mark === 46 || mark === 33) last--;
  while (last > first && (text.charCodeAt(last) === SPACE || text.charCodeAt(last) === TAB)) last--;
  if (last < first || !inSet(SIGN_OFF_LAST, text.charCodeAt(last))) return false;
  return SIGN_OFF.test(text.slice(start, end));
}

/** A quoted message's header on text[start, end) (its first MAX_LINE characters, as the pattern reads it). */
function quoteHeader(text: string, start: number, end: number): boolean {
  const first = afterIndent(text, start, end);
  if (first >= end || !inSet(QUOTE_HEADER_FIRST, text.charCodeAt(first))) return false;
  return QUOTE_HEADER.test(text.slice(start, end));
}

/**
 * The line between two parts of a message (PART_BREAK: a form feed alone):
 * a signature ends with its part, never reaching into the next body,
 * alternative or attachment.
 */
function partBreak(text: string, start: number, end: number): boolean {
  return end === start + 1 && text[start] === PART_BREAK_MARK;
}

/** The character alone on the line between two parts of a message's text: a form feed. */
export const PART_BREAK_MARK = '\f';
/** The line that stands between two parts of a message's text (each part's own text, then the next). */
export const PART_BREAK = `\n\n${PART_BREAK_MARK}\n\n`;

/** Whether text[start, end) holds only white space. */
function blank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isSpaceCode(text.charCodeAt(i))) return false;
  return true;
}

/** The zones, one line at a time; no line is copied unless a pattern has to read it. */
function zonesOf(text: string): Zone[] {
  const zones: Zone[] = [];
  // the open zone's start (-1: none) and its non-blank lines so far
  let open = -1;
  let lines = 0;
  let pos = 0;
  while (pos <= text.length) {
    // a blank line (a third of a mail's lines) needs no search for its end
    const nl = text.charCodeAt(pos) === NEWLINE ? pos : text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    if (open >= 0) {
      const cut = Math.min(end, pos + MAX_LINE);
      if (lines >= MAX_LINES || partBreak(text, pos, end) || quoteHeader(text, pos, cut)) {
        zones.push({ start: open, end: pos });
        open = -1;
      } else if (!blank(text, pos, cut)) lines++;
    }
    if (open < 0 && end - pos <= MAX_SIGN_OFF && signOff(text, pos, end)) {
      open = pos;
      lines = 0;
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (open >= 0) zones.push({ start: open, end: text.length });
  return zones;
}

/** The signature zones of a text (found once per text within a verdict, which asks twice). */
export function signatureZones(text: string): Zone[] {
  return cachedScan(signatureZones, text, zonesOf);
}

export function inZone(zones: readonly Zone[], index: number): boolean {
  return zones.some((z) => index >= z.start && index < z.end);
}
