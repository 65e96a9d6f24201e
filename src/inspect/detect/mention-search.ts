/**
 * The searches behind the person mentions: candidate names, "Last, First"
 * names, names after an honorific and street addresses, each found where it
 * can start (see lastFirstStarts) and, in texts V8 stores two bytes a
 * character, with an ASCII path first (see wide-text.ts). Every search finds
 * what the global search of its pattern finds. Pure.
 */
import { asciiFirst, mergedMatches, placesNearNonAscii, placesSource, searchSource, wideText } from './wide-text.js';

/** The character classes of the name and address patterns: as written, or with an ASCII path first (the same characters). */
interface Classes {
  readonly upper: string;
  readonly lower: string;
  readonly lowerOrApostrophe: string;
  readonly letter: string;
  /** Letters, apostrophes, periods and hyphens (a street name's words). */
  readonly letterDotHyphen: string;
  /** Letters, apostrophes and hyphens (a French street name). */
  readonly letterHyphen: string;
}

const AS_WRITTEN: Classes = {
  upper: '\\p{Lu}',
  lower: '\\p{Ll}',
  lowerOrApostrophe: "[\\p{Ll}'’]",
  letter: '[\\p{L}]',
  letterDotHyphen: "[\\p{L}'’.-]",
  letterHyphen: "[\\p{L}'’-]",
};

const ASCII_FIRST: Classes = {
  upper: asciiFirst('A-Z', '\\p{Lu}'),
  lower: asciiFirst('a-z', '\\p{Ll}'),
  lowerOrApostrophe: asciiFirst("a-z'’", '\\p{Ll}'),
  letter: asciiFirst('A-Za-z', '\\p{L}'),
  letterDotHyphen: asciiFirst("A-Za-z'’.\\-", '\\p{L}'),
  letterHyphen: asciiFirst("A-Za-z'’\\-", '\\p{L}'),
};

/** One capitalised name word after its capital: "aria", "'Brien", "'Angelo", "cKay", "üller", "guyen-Tran". */
const wordTail = (c: Classes): string => `(?:['’]${c.upper})?(?:${c.lower}+${c.upper})?${c.lowerOrApostrophe}+(?:-${c.upper}${c.lowerOrApostrophe}+)?`;
const word = (c: Classes): string => `${c.upper}${wordTail(c)}`;
const PARTICLE = '(?:de|del|de la|da|dos|van|von|van der|di|le|la|bin|ibn|al)';
/** After a name's first word: an initial or a particle allowed, then one or two more words. */
const moreName = (c: Classes): string => `(?:[ \\t]+${c.upper}\\.)?(?:[ \\t]+${PARTICLE})?[ \\t]+${word(c)}(?:[ \\t]+${word(c)})?`;

/** One capitalised name word: "Maria", "O'Brien", "McKay", "Müller", "Nguyen-Tran". */
export const WORD = word(AS_WRITTEN);

/**
 * A candidate full name anywhere (filtered by context afterwards), starting
 * where no letter or digit is before it. The look-behind comes after the
 * first capital (the same condition, written so that the search tries it
 * only at capitals: about twice as fast).
 */
export const CANDIDATE_NAME = new RegExp(`\\p{Lu}(?<![\\p{L}\\p{N}]\\p{Lu})${wordTail(AS_WRITTEN)}${moreName(AS_WRITTEN)}(?![\\p{L}])`, 'gu');
const CANDIDATE_NAME_AT = new RegExp(CANDIDATE_NAME.source, 'uy');
/** The same, starting at an ASCII capital with no character beyond ASCII before it (the other starts: nonAsciiNameStarts). */
const CANDIDATE_NAME_ASCII = new RegExp(`[A-Z](?<![A-Za-z0-9\\u0080-\\u{10FFFF}][A-Z])${wordTail(ASCII_FIRST)}${moreName(ASCII_FIRST)}(?!${ASCII_FIRST.letter})`, 'gu');

/** A street address: US and Canadian style, and German, Spanish and French forms (in this order). */
const STREET_SUFFIX = '(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Square|Sq|Loop|Pike|Alley|Crescent|Cres|Row)';
const usAddress = (c: Classes): string =>
  `\\b\\d{1,6}[A-Za-z]?\\s+(?:[NSEW]\\.?\\s+|(?:North|South|East|West)\\s+)?(?:(?:\\d{1,3}(?:st|nd|rd|th)|${c.upper}${c.letterDotHyphen}*)\\s+){1,3}${STREET_SUFFIX}\\b\\.?`;
const germanAddress = (capital: string, c: Classes): string => `\\b${capital}${c.lower}+(?:straße|strasse|str\\.|weg|gasse|allee|platz|ring|damm|ufer)\\s+\\d{1,4}\\s?[a-z]?\\b`;
const spanishAddress = (c: Classes): string =>
  `\\b(?:Calle|C\\/|Avenida|Avda\\.|Av\\.|Paseo|Plaza|Camino|Carrera|Rúa)\\s+(?:de\\s+(?:la\\s+|los\\s+|las\\s+)?)?${c.upper}${c.letter}+(?:\\s+${c.upper}${c.letter}+)?,?\\s+(?:n[º°o]\\.?\\s*)?\\d{1,4}\\b`;
const frenchAddress = (c: Classes): string =>
  `\\b\\d{1,4}(?:\\s*(?:bis|ter))?,?\\s+(?:rue|avenue|boulevard|bd|chemin|place|allée|impasse|quai|route)\\s+(?:de\\s+la\\s+|de\\s+l['’]|du\\s+|des\\s+|de\\s+)?${c.upper}${c.letterHyphen}+`;

export const ADDRESS = new RegExp([usAddress(AS_WRITTEN), germanAddress('\\p{Lu}', AS_WRITTEN), spanishAddress(AS_WRITTEN), frenchAddress(AS_WRITTEN)].join('|'), 'gu');
const ADDRESS_AT = new RegExp(ADDRESS.source, 'uy');
/** The forms that start with a digit (US, French), and those that start with an ASCII capital (German, Spanish), in their order. */
const ADDRESS_AT_DIGIT = new RegExp([usAddress(ASCII_FIRST), frenchAddress(ASCII_FIRST)].join('|'), 'gu');
const ADDRESS_AT_ASCII_CAPITAL = new RegExp([germanAddress('[A-Z]', ASCII_FIRST), spanishAddress(ASCII_FIRST)].join('|'), 'gu');

/** Each match of a global regex, in order (without the copy of the regex that matchAll makes). */
export function eachMatch(text: string, re: RegExp, each: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const next = re.lastIndex;
    each(m);
    re.lastIndex = next;
  }
  re.lastIndex = 0;
}

function asciiLetterOrDigit(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/** A code unit that may begin an upper-case letter beyond ASCII (U+00C0 up, not the low half of a surrogate pair). */
function mayBeginCapital(c: number): boolean {
  return c >= 0xc0 && !(c >= 0xdc00 && c <= 0xdfff);
}

/** Above this share of code units beyond ASCII, a text is searched whole (listing the places would cost more). */
const NON_ASCII_SHARE = 16;

/**
 * What the global search of CANDIDATE_NAME finds. In a wide text: searched
 * from ASCII capitals with nothing beyond ASCII before them, and tried one by
 * one where a name can start at or after a character beyond ASCII.
 */
export function candidateNames(text: string, each: (m: RegExpExecArray) => void): void {
  const places = wideText(text)
    ? placesNearNonAscii(
        text,
        (at, out) => {
          // a capital beyond ASCII with no ASCII letter or digit before it, or an ASCII capital right after
          if (mayBeginCapital(text.charCodeAt(at)) && (at === 0 || !asciiLetterOrDigit(text.charCodeAt(at - 1)))) out.push(at);
          const after = text.charCodeAt(at + 1);
          if (after >= 65 && after <= 90) out.push(at + 1);
        },
        text.length / NON_ASCII_SHARE,
      )
    : undefined;
  if (!places) return eachMatch(text, CANDIDATE_NAME, each);
  mergedMatches([searchSource(CANDIDATE_NAME_ASCII, text), placesSource(CANDIDATE_NAME_AT, text, places)], each);
}

/**
 * What the global search of ADDRESS finds. In a wide text: the forms that
 * start with a digit and those that start with an ASCII capital searched
 * apart, and the German form tried one by one at a capital beyond ASCII
 * (which its `\b` allows only right after an ASCII letter, digit or "_").
 */
export function addressMatches(text: string, each: (m: RegExpExecArray) => void): void {
  const places = wideText(text)
    ? placesNearNonAscii(
        text,
        (at, out) => {
          const before = at > 0 ? text.charCodeAt(at - 1) : -1;
          if (mayBeginCapital(text.charCodeAt(at)) && (asciiLetterOrDigit(before) || before === 95)) out.push(at);
        },
        text.length / NON_ASCII_SHARE,
      )
    : undefined;
  if (!places) return eachMatch(text, ADDRESS, each);
  mergedMatches([searchSource(ADDRESS_AT_DIGIT, text), searchSource(ADDRESS_AT_ASCII_CAPITAL, text), placesSource(ADDRESS_AT, text, places)], each);
}

/**
 * What follows a "Last, First" name in a chart, a subject, a handoff or a
 * headerless export (a pattern's source; a closing quote of a CSV cell may
 * come first): a birth date (US or ISO form), a DOB or MRN label, or an age with a sex
 * or "y/o" as charts write them ("Gomez, Patricia 67F", "Nguyen, Bao, 45 M",
 * "Reyes, Ana 8 y/o").
 */
export const DATE_OR_RECORD = '["”]?[ \\t]*[,(–-]?[ \\t]*(?:\\d{1,2}[/.-]\\d{1,2}[/.-](?:19|20)\\d{2}\\b|(?:19|20)\\d{2}-\\d{2}-\\d{2}\\b|\\(?\\s*(?:DOB|D\\.O\\.B\\.|MRN)\\b|\\d{1,3}[ \\t]?(?:[MF]|y\\/?o|yo)\\b)';
/**
 * "Ramirez, Elena": the way charts, subjects and handoffs list patients. The
 * caller reads what makes it one: a birth date or record label after it
 * (DATE_OR_RECORD), a dash or colon and health information ("Okafor, Chidi –
 * knee pain"), or a patient cue before it ("critical K+ on pt Ruiz, Daniel").
 */
const LAST_FIRST = new RegExp(`(?<![\\p{L}\\p{N}])${WORD},[ \\t]+${WORD}`, 'uy');

/** "GARCIA, MARIA" (charts and exports write names in capitals), "TRAN, Janet" (boards the surname only): with a date, DOB or MRN after it, or a home address on the next line. */
const UPPER_WORD = "\\p{Lu}[\\p{Lu}'’]+(?:-\\p{Lu}[\\p{Lu}'’]+)?";
const UPPER_LAST_FIRST = new RegExp(`(?<![\\p{L}\\p{N}])${UPPER_WORD},[ \\t]*(?:${UPPER_WORD}(?:[ \\t]+${UPPER_WORD})?|${WORD})(?![\\p{L}])`, 'uy');

/**
 * Spaces or tabs, then a capital, from `at` (after a comma): both "Last,
 * First" forms hold such a comma right after their first word. Any code unit
 * from U+00C0 up, but a low surrogate, may begin a capital. (Commas are
 * listed with indexOf: several times faster than a regex search for them.)
 */
function capitalAfter(text: string, at: number): boolean {
  let i = at;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  const c = text.charCodeAt(i);
  return (c >= 65 && c <= 90) || mayBeginCapital(c);
}

/** A code unit that may be part of a "Last, First" name's first word (a letter, an apostrophe, a hyphen): ASCII letters, ' and -, and all beyond ASCII. */
function mayBeNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 39 || c === 45 || c >= 128;
}

/**
 * Where a "Last, First" name can start, in order: a name's first word holds
 * no comma, so its comma is the first after its start, and the word before
 * it is made of letters, apostrophes and hyphens. It starts at a capital with
 * no letter or digit before it: at the start of the stretch of such
 * characters before a comma, or inside it after an apostrophe, a hyphen or a
 * character beyond ASCII (never at the low half of a surrogate pair).
 */
function lastFirstStarts(text: string): number[] {
  const starts: number[] = [];
  for (let comma = text.indexOf(','); comma >= 0; comma = text.indexOf(',', comma + 1)) {
    if (!capitalAfter(text, comma + 1)) continue;
    let start = comma;
    while (start > 0 && mayBeNameChar(text.charCodeAt(start - 1))) start--;
    for (let p = start; p < comma; p++) {
      const c = text.charCodeAt(p);
      const capital = (c >= 65 && c <= 90) || mayBeginCapital(c);
      if (capital && (p === start || !asciiLetterOrDigit(text.charCodeAt(p - 1)))) starts.push(p);
    }
  }
  return starts;
}

/** What the global search of `sticky`'s pattern finds, tried only at `starts` (ascending; every match starts at one of them). */
function matchesAt(text: string, sticky: RegExp, starts: readonly number[]): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let from = 0;
  for (const p of starts) {
    if (p < from) continue;
    sticky.lastIndex = p;
    const m = sticky.exec(text);
    if (!m) continue;
    out.push(m);
    from = p + m[0].length;
  }
  sticky.lastIndex = 0;
  return out;
}

/** "Last, First" names: the mixed-case ones with a birth date or record label after them, and those in capitals, each as its global search finds them. */
export function lastFirstMatches(text: string): { mixed: RegExpExecArray[]; capitals: RegExpExecArray[] } {
  const starts = lastFirstStarts(text);
  return { mixed: matchesAt(text, LAST_FIRST, starts), capitals: matchesAt(text, UPPER_LAST_FIRST, starts) };
}
