/**
 * Personal identifiers that are PHI next to health information: a date of
 * birth (a date with a DOB keyword), phone numbers, medical record and member
 * numbers (configurable patterns), and lists of many external email
 * addresses (a possible list leak).
 */
import { abaValid, luhnValid, npiValid } from './checksums.js';
import { caseless } from './caseless.js';
import { commerceDocument } from './commerce.js';
import { PHONE_STARTS, RECORD_NUMBER_STARTS } from './code-starts.js';
import { isLetter, isWordChar, runLengths, type StartFinder } from './digit-runs.js';
import { cachedScan, scanOnce } from './scan-cache.js';
import { patternDetector, patternDetectors, type PatternSpec } from './pattern-detector.js';
import { LABEL_NOT_A_PERSON, leadingName, personLike, titleCase } from './names.js';
import { GIVEN_NAMES } from './given-names.js';
import type { Detector, Finding } from './types.js';

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
/** Month names in German, Spanish and French (dates of birth in letters from and to patients abroad). */
const MONTH_INTL =
  '(?:januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre)';
const DAY = '(?:0?[1-9]|[12]\\d|3[01])';
const MON = '(?:0?[1-9]|1[0-2])';
const YEAR = '(?:19|20)\\d{2}';

/** An English ordinal's ending after a day ("12th", "1st", "3RD"). */
const ORDINAL = '(?:st|nd|rd|th)';

/**
 * A plausible calendar date: m/d/yyyy, d/m/yyyy when the day is over 12,
 * yyyy-mm-dd and yyyy/mm/dd (ISO), d.m.yyyy (TT.MM.JJJJ), "Jan 2, 1970",
 * "March 12th, 1948", "2 January 1970", "12th of March, 1948", the
 * day-month-year of records and exports ("12-Mar-1948", "12/MAR/1948",
 * "12.Mar.1948"), day-month-year in German, Spanish and French ("3.
 * März 1961", "3 de marzo de 1961", "3 mars 1961"), and year-month-day in
 * Chinese, Japanese and Korean ("1947年5月2日", "1951년 11월 3일").
 */
export const DATE_PATTERN = new RegExp(
  [
    `${MON}[/-]${DAY}[/-]${YEAR}`,
    `(?:1[3-9]|2\\d|3[01])[/-]${MON}[/-]${YEAR}`,
    `${YEAR}[-/](?:0[1-9]|1[0-2])[-/](?:0[1-9]|[12]\\d|3[01])`,
    `${DAY}\\.${MON}\\.${YEAR}`,
    `${MONTH}\\.? ${DAY}${ORDINAL}?,? ${YEAR}`,
    `${DAY}${ORDINAL}?(?: of)? ${MONTH},? ${YEAR}`,
    `${DAY}[-/.]${MONTH}[-/.]${YEAR}`,
    `${DAY}\\.? (?:de )?${MONTH_INTL}(?: de)? ${YEAR}`,
  ]
    .map((p) => `\\b${p}\\b`)
    // year, month and day as Chinese, Japanese and Korean write them ("1947年5月2日", "1951년 11월 3일"): no word boundary after the day's sign
    .concat(`\\b${YEAR} ?[年년] ?${MON} ?[月월] ?${DAY} ?[日일]`)
    .join('|'),
  'gi',
);

/**
 * "Date of birth" and its usual abbreviations, in English, German, Spanish
 * and French, and the words of the other languages US clinics' patients
 * write in (Vietnamese "ngày sinh", Portuguese, Italian, Polish, Russian,
 * Chinese, Korean, Tagalog, Haitian Creole, Somali, Arabic); "Birthday:"
 * only as a form's label (a clinic's "happy birthday" is no one's birth date).
 */
const DOB_WORDS = String.raw`(dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|birthdate|born(\s+on)?|geb\.?|geburtsdatum|geb\.?-?\s*datum|geboren(\s+am)?|fecha\s+de\s+nacimiento|f\.\s*nac\.?|nacid[oa](\s+el)?|naci[óo](\s+el)?|date\s+de\s+naissance|ddn|n[ée]e?\s+le|ng[àa]y\s+sinh|data\s+de\s+nascimento|data\s+di\s+nascita|data\s+urodzenia|дата\s+рождения|birthday(?=\s*:)|b-?day(?=\s*:)|kaarawan|dhashay|taariikhda\s+dhalashada|sinh\s+ng[àa]y|родил(?:ся|ась)|nascid[oa](?:\s+em)?|nasceu|ipinanganak|مواليد|petsa\s+ng\s+kapanganakan|dat\s+nesans|تاريخ\s+الميلاد)`;

/** The same in Chinese, Japanese, Korean and Nepali or Hindi (Devanagari's vowel signs are marks, which a word boundary would refuse), written against the words around them ("1947年5月2日出生的"); Korean's "생" right after the date ("3일생)의": the window around a date joins its two sides with a space), alone or with a particle, not a word it starts ("생활"). */
const DOB_WORDS_CJK = '出生|生日|生年月日|생년월일|출생|(?<=[일년 ])생(?:[의이은입]|(?![가-힣]))|जन्म मिति|जन्म तिथि';

/**
 * The words, case-insensitive, where no letter or digit touches them: what
 * `/\b${DOB_WORDS}(?![\p{L}\p{N}])/iu` matches, written for the `u` flag
 * alone (several times faster). Under `iu` the long s and the Kelvin sign are
 * word characters for `\b`, and U+0345 (which folds to ι) is a letter.
 */
const DOB_KEYWORDS = new RegExp(String.raw`(?<![A-Za-z0-9_\u017F\u212A])${caseless(DOB_WORDS)}(?![\p{L}\p{N}\u0345])|${DOB_WORDS_CJK}`, 'u');

/** A run of four digits from 19xx or 20xx starting at `s`. */
function yearAt(text: string, s: number): boolean {
  const a = text.charCodeAt(s);
  const b = text.charCodeAt(s + 1);
  return (a === 49 && b === 57) || (a === 50 && b === 48);
}

/** The first three letters of the English months, lower case, as `threeLetters` codes them. */
const MONTH_ABBREVIATIONS: ReadonlySet<number> = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m) => threeLetters(m, 0)));

/** Three ASCII letters at `q` lower-cased into one number (-1: not three letters). */
function threeLetters(text: string, q: number): number {
  const a = text.charCodeAt(q);
  const b = text.charCodeAt(q + 1);
  const c = text.charCodeAt(q + 2);
  if (!isLetter(a) || !isLetter(b) || !isLetter(c)) return -1;
  return ((a | 32) << 16) | ((b | 32) << 8) | (c | 32);
}

/** The longest English month name ("september"). */
const LONGEST_MONTH = 9;

/**
 * Where an English month's name ends with "\.? " right before `day`: the
 * start of that word when it begins a month's name (in any case: `i` without
 * `u` folds only ASCII letters to them) at a word boundary, else -1.
 */
function monthBefore(text: string, day: number): number {
  if (text.charCodeAt(day - 1) !== 32) return -1;
  let q = text.charCodeAt(day - 2) === 46 ? day - 2 : day - 1;
  const end = q;
  while (q > 0 && isLetter(text.charCodeAt(q - 1)) && end - q < LONGEST_MONTH) q--;
  return !isWordChar(text.charCodeAt(q - 1)) && MONTH_ABBREVIATIONS.has(threeLetters(text, q)) ? q : -1;
}

/** What may follow a date's first number: "/" or "-" (m/d/y, d-m-y), "." (d.m.y, "3. März") or a space ("3 March", "3 de marzo"). */
function afterDay(c: number): boolean {
  return c === 47 || c === 45 || c === 46 || c === 32;
}

/** An ordinal's ending at `e` (st, nd, rd, th in any case) and a space after it ("12th March", "12th of"). */
function ordinalAt(text: string, e: number): boolean {
  const pair = ((text.charCodeAt(e) | 32) << 8) | (text.charCodeAt(e + 1) | 32);
  return (pair === 0x7374 || pair === 0x6e64 || pair === 0x7264 || pair === 0x7468) && text.charCodeAt(e + 2) === 32;
}

/** The most characters before a date's year: "31. de septiembre de 1961" (day, period, space, "de ", month, " de", space; "31st of September, " is shorter). */
const DATE_BEFORE_YEAR = 21;

/** Whether the year's sign of Chinese, Japanese or Korean dates (年, 년) stands at `i`, a space before it allowed. */
function yearSign(text: string, i: number): boolean {
  const c = text.charCodeAt(i) === 32 ? text.charCodeAt(i + 1) : text.charCodeAt(i);
  return c === 0x5e74 || c === 0xb144;
}

/**
 * Where DATE_PATTERN can match, for `starts`. Every date holds its year as
 * a run of exactly four digits (19xx, 20xx), at most DATE_BEFORE_YEAR
 * characters after the date starts, and at most two runs of digits before
 * it (day and month). The date starts at a word boundary with one of them (a
 * run of one or two digits followed by "/", "-", ".", a space or an
 * ordinal's ending and a space), with the
 * year itself (ISO, "-" or "/" after it), or with an English month's name
 * right before the day ("Jan. 2, 1970"). Each year's candidates are named
 * in order, each place once.
 */
export const DATE_STARTS: StartFinder = (runs, text, at) => {
  const { start, end } = runs;
  const years = runs.select(runLengths(4));
  let last = -1;
  const name = (q: number): void => {
    if (q > last) {
      at(q);
      last = q;
    }
  };
  /** Run `j` (before the year at `s`) as a date's first number. */
  const dayOrMonth = (j: number, s: number): void => {
    const b = start[j] as number;
    const e = end[j] as number;
    if (b >= s - DATE_BEFORE_YEAR && e - b <= 2 && (afterDay(text.charCodeAt(e)) || ordinalAt(text, e)) && !isWordChar(text.charCodeAt(b - 1))) name(b);
  };
  for (let k = 0; k < years.length; k++) {
    const i = years[k] as number;
    const s = start[i] as number;
    if (!yearAt(text, s)) continue;
    if (i >= 2) dayOrMonth(i - 2, s);
    if (i >= 1) {
      const day = start[i - 1] as number;
      if (day >= s - DATE_BEFORE_YEAR) {
        const month = monthBefore(text, day);
        if (month >= 0) name(month);
      }
      dayOrMonth(i - 1, s);
    }
    const next = text.charCodeAt(s + 4);
    if ((next === 45 || next === 47 || yearSign(text, s + 4)) && !isWordChar(text.charCodeAt(s - 1))) name(s);
  }
};

export const dobDetector = patternDetector({
  id: 'date-of-birth',
  category: 'DOB',
  pattern: DATE_PATTERN,
  keywords: DOB_KEYWORDS,
  keywordRequired: true,
  window: 40,
  starts: DATE_STARTS,
  // "DOB 01/01/1900": the placeholder forms and training write; no one alive was born then
  validate: (v) => !placeholderBirthDate(v),
  // "DOB: 01/01/1960 (training default)", a test patient's
  refuse: (_v, text, index) => testRecordAround(text, index),
  mask: () => 'DOB **/**/****',
});

/** A birth date in 1900 or before ("01/01/1900", "1900-01-01"): a placeholder, not a living person's. */
export function placeholderBirthDate(value: string): boolean {
  // a run of four digits starting 1 (a year), at most 1900
  let run = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : -1;
    if (c >= 48 && c <= 57) {
      run++;
      continue;
    }
    if (run === 4 && value.charCodeAt(i - 4) === 49 && Number(value.slice(i - 4, i)) <= 1900) return true;
    run = 0;
  }
  return false;
}

/** The keyword right before a short birth date, and what may stand between ("DOB: ", "born on ", "geb. "). */
const SHORT_DATE_KEYWORD = String.raw`\b(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|birthdate|born(?:\s+on)?|geb\.?|geboren(?:\s+am)?|geburtsdatum|fecha\s+de\s+nacimiento|f\.\s*nac\.?|nacid[oa](?:\s+el)?|naci[óo](?:\s+el)?|date\s+de\s+naissance|ddn|n[ée]e?\s+le)\s*[:#-]?\s*`;

/**
 * A birth date with a two-digit year, as charts and quick notes write it
 * right after the keyword ("DOB: 4/12/58", "D.O.B. 04-12-58", "geb.
 * 12.04.58"): m/d/yy or m-d-yy, and d.m.yy. Such a date means nothing by
 * itself, so the keyword must stand right before it.
 */
const SHORT_DATE = new RegExp(`(?<=${SHORT_DATE_KEYWORD})(?<![\\d/.-])(?:${MON}[/-]${DAY}[/-]\\d{2}|${DAY}\\.${MON}\\.\\d{2})(?!\\d|[/.-]\\d)`, 'gi');

/**
 * Where SHORT_DATE can start: its year is a run of two digits, right after
 * a "/", "-" or "." that ends a run of one or two digits (the month or
 * day), itself right after such a separator ending another (the first
 * number); before that first number (spaces, tabs, ":", "#" or "-"
 * skipped) stands the last character of a keyword: b (DOB), a period
 * (D.O.B., geb., F. nac.), e (birthdate, née le), h (birth), n (born, born
 * on, DDN), m (geboren am, Geburtsdatum), l (nacida el), o (nacimiento),
 * in either case. One pass over the runs, looking at three in a row; most
 * numbers are refused without trying the pattern's look-behind.
 */
const SHORT_DATE_STARTS: StartFinder = (runs, text, at) => {
  const { count, start, end } = runs;
  for (let i = 2; i < count; i++) {
    const year = start[i] as number;
    if ((end[i] as number) - year !== 2) continue;
    const second = start[i - 1] as number;
    const first = start[i - 2] as number;
    const secondEnd = end[i - 1] as number;
    const firstEnd = end[i - 2] as number;
    if (secondEnd !== year - 1 || firstEnd !== second - 1 || secondEnd - second > 2 || firstEnd - first > 2) continue;
    if (!isDateSeparator(text.charCodeAt(secondEnd)) || !isDateSeparator(text.charCodeAt(firstEnd))) continue;
    let k = first - 1;
    while (k > 0 && k > first - 8 && isKeywordGap(text.charCodeAt(k))) k--;
    if (KEYWORD_LAST.has(text.charCodeAt(k) | 32)) at(first);
  }
};

function isDateSeparator(c: number): boolean {
  return c === 47 || c === 45 || c === 46;
}

/** What may stand between a birth-date keyword and the date: spaces, tabs, ":", "#", "-". */
function isKeywordGap(c: number): boolean {
  return c === 32 || c === 9 || c === 58 || c === 35 || c === 45;
}

/** The last characters of the birth-date keywords (lower-cased; the period's code is unchanged by `| 32`). */
const KEYWORD_LAST: ReadonlySet<number> = new Set([...'b.ehnmlo'].map((c) => c.charCodeAt(0)));

export const shortDobDetector = patternDetector({
  id: 'date-of-birth-short',
  category: 'DOB',
  pattern: SHORT_DATE,
  keywords: DOB_KEYWORDS,
  keywordRequired: true,
  window: 20,
  starts: SHORT_DATE_STARTS,
  validate: () => true,
  mask: () => 'DOB **/**/**',
});

/** A phone number's digits without a leading country code 1 (as `replace(/\D/g, '')` then `replace(/^1(?=\d{10}$)/, '')`, without two regex passes per match). */
function phoneDigits(match: string): string {
  let digits = '';
  for (let i = 0; i < match.length; i++) {
    const c = match.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += match[i];
  }
  return digits.length === 11 && digits.charCodeAt(0) === 49 ? digits.slice(1) : digits;
}

export const phoneSpec: PatternSpec = {
  id: 'phone-us',
  category: 'PHONE',
  pattern: /(?<![\d-])(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]?\d{4}(?![\d-])/g,
  value: (m) => phoneDigits(m[0]),
  keywords: /\b(phone|tel\.?|telephone|cell|mobile|fax|call|contact|ph\.?)\b/i,
  starts: PHONE_STARTS,
  mask: (v) => `Phone ***-***-${v.slice(-4)}`,
};
export const phoneDetector = patternDetector(phoneSpec);

/** The labels that introduce a person's name, in the order the pattern tries them (the label in any case, the name capitalised: no inline case flags before Node 23). */
const PERSON_NAME_LABELS: readonly string[] = [
  '[Pp]atient[\'’]s\\s+[Nn]ame',
  '[Nn]ame\\s+of\\s+(?:the\\s+)?[Pp]atient',
  '[Nn]ame\\s+de[sr]\\s+[Pp]atient(?:en|in)',
  '[Pp]atienten-?[Nn]ame',
  '[Nn]ombre\\s+del?\\s+(?:la\\s+)?[Pp]aciente',
  '[Nn]om\\s+d(?:u|e\\s+la)\\s+[Pp]atiente?',
  '[Nn]om\\s+de\\s+naissance',
  '[Pp]rénom\\s+et\\s+nom',
  '[Pp]atient(?:\\s+[Nn]ame)?',
  'PATIENT(?:\\s+NAME)?',
  '[Pp]t\\.?\\s+[Nn]ame',
  '[Pp]t\\.',
  'Pt',
  '[Pp]ayee(?:\\s+[Nn]ame)?',
  '[Aa]ttendee',
  '[Pp]articipant',
  '[Gg]uarantor',
  '[Dd]ependent',
  '[Ee]nrollee',
  '[Pp]olicy\\s*holder',
  '[Ss]ubscriber',
  '[Aa]pplicant',
  '[Cc]laimant',
  '[Mm]ember',
  '[Cc]ontractor',
  '[Rr]egistrant',
  '[Cc]ustomer',
  '[Rr]ecipient',
  '[Ss]hip\\s+to',
  '[Dd]eliver\\s+to',
  '[Nn]ame\\s+on\\s+(?:the\\s+)?(?:card|account)',
  '[Nn]ame,\\s*[Vv]orname',
  '[Nn]ame',
  'NAME',
  '[Bb]eneficiary',
  '[Ee]mployee',
  '[Mm]ember\\s+[Nn]ame',
  '[Cc]lient',
  '[Rr]esident',
  '[Ii]nsured',
  '[Ii]njured\\s+(?:[Ww]orker|[Ee]mployee|[Pp]arty)',
  '[Ss]ubscriber\\s+[Nn]ame',
  '[Cc]ard\\s?holder',
  '[Aa]ccount\\s+holder',
  '[Ll]egal\\s+name',
  '[Ff]ull\\s+name',
  '[Nn]achname',
  '[Vv]ersicherte[rn]?',
  '[Pp]atient(?:in|e)',
  '[Nn]om(?:,\\s*[Pp]rénom|\\s+et\\s+prénom)?',
  '[Pp]aciente',
  '[Nn]ombre(?:\\s+y\\s+apellidos)?',
  '[Aa]pellidos(?:,\\s*nombre)?',
];

/** After the label: a separator, then the name (group 1) of two or three capitalised words, or in capitals, or "MOORE, Patrick" (a board's surname in capitals, then the first name), or a given name and the surname's initial as behavioral health writes a client ("Client: Ashley B.": FIRST_AND_INITIAL). */
const LABELLED_NAME = '\\s*[:#-]?\\s+((?:[A-ZÀ-ÖØ-Þ](?:[\'’][A-ZÀ-ÖØ-Þ])?[a-zß-öø-ÿ\'’]+(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?),?(?:[ \\t]+[A-Z]\\.)?(?:[ \\t]+[A-ZÀ-ÖØ-Þ](?:[\'’][A-ZÀ-ÖØ-Þ])?[a-zß-öø-ÿ\'’]+(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?(?:-[A-ZÀ-ÖØ-Þ](?:[\'’][A-ZÀ-ÖØ-Þ])?[a-zß-öø-ÿ\'’]+(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?)?){1,2}|[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ\'’-]+,?(?:[ \\t]+[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ\'’-]+){1,2}|[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ\'’-]+,[ \\t]*[A-ZÀ-ÖØ-Þ](?:[\'’][A-ZÀ-ÖØ-Þ])?[a-zß-öø-ÿ\'’]+(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?|[A-Z][a-z]+[ \\t]+[A-Z]\\.)(?![A-Za-zß-öø-ÿÀ-ÖØ-Þ])';

/** Whether a label is written `[Xx]…`: its first letter in either case. */
function eitherCase(label: string): boolean {
  return label.length > 4 && label[0] === '[' && label[3] === ']' && label[1] === label[2]?.toUpperCase();
}

/** A label's first letter, lower-cased. */
function firstLetter(label: string): string {
  return (eitherCase(label) ? (label[2] ?? '') : (label[0] ?? '')).toLowerCase();
}

/**
 * The labels as one alternation grouped by their first letter
 * ("[Pp](?:atient…|ayee…)|PATIENT…|Pt|[Nn](?:…)"): at each word start the
 * search tries only the labels of its letter (the pattern's search about a
 * third faster than with fifty alternatives side by side). The same matches:
 * labels of different letters never match at one place; within a letter the
 * labels keep their order, except those written in one case only
 * ("PATIENT", "Pt", "NAME"), put after the others of their letter, which is
 * the same only if each differs at its second character from every label it
 * is put after (checked here).
 */
function byFirstLetter(labels: readonly string[]): string {
  const letters = [...new Set(labels.map(firstLetter))];
  return letters
    .map((letter) => {
      const own = labels.filter((l) => firstLetter(l) === letter);
      const tails = own.filter(eitherCase).map((l) => l.slice(4));
      const oneCase = own.filter((l) => !eitherCase(l));
      for (const l of oneCase) {
        const passed = own.slice(own.indexOf(l) + 1).filter(eitherCase);
        if (passed.some((p) => p[4] === undefined || !/[a-z]/.test(p[4]) || p[4] === l[1])) throw new Error(`byFirstLetter: "${l}" could match where a label after it does`);
      }
      return [`[${letter.toUpperCase()}${letter}](?:${tails.join('|')})`, ...oneCase].join('|');
    })
    .join('|');
}

/** The words before a column's gap (two spaces or a tab: "Brianna T.   Order: turkey" is a name, then the next column's label). */
function beforeColumnGap(words: string): string {
  const gap = /[ ]{2}|\t/.exec(words);
  return gap === null ? words : words.slice(0, gap.index);
}

/** The labelled phrase as a name: a client's given name and initial (firstAndInitial), or the longest person-like start of it (leadingName), or '' for none. */
function labelledName(match: string, words: string): string {
  return firstAndInitial(match, words) ?? leadingName(titleCase(words.replace(',', '')), true) ?? '';
}

/** A given name and an initial ("Ashley B."). */
const FIRST_AND_INITIAL = /^([A-Z][a-z]+)[ \t]+[A-Z]\.$/;

/** The labels a client or a patient is written after by given name and initial (not "Name:", which a staff sign-up or a lunch order uses so too). */
const CLIENT_LABEL = /^(?:[Cc]lient|[Pp]atient|PATIENT|[Pp]t\.?|[Rr]esident|[Pp]aciente)\b/;

/** A labelled given name and the surname's initial (`match`: the label and the name): the name after a client's or a patient's label when the first word is a given name (GIVEN_NAMES: "Client: Ashley B."), '' for any other ("Unit: Acme B.", "Name: Ana R."), undefined for a labelled phrase of another form. */
function firstAndInitial(match: string, words: string): string | undefined {
  const m = FIRST_AND_INITIAL.exec(words);
  if (m === null) return undefined;
  return CLIENT_LABEL.test(match) && GIVEN_NAMES.has((m[1] ?? '').toLowerCase()) ? words : '';
}

/**
 * A header row of columns aligned with spaces ("Name      Credential   Expires"):
 * no colon after the label, and two spaces or a tab between the first two
 * words the label is followed by. A name is written with single spaces (a
 * tab may end it: "Claimant\tRosalind Achterberg\tClaim #").
 */
function alignedColumns(m: RegExpExecArray): boolean {
  const name = m[1] ?? '';
  return /^\S+(?:[ \t]{2}|\t)/.test(name) && !/[:#]/.test(m[0].slice(0, m[0].length - name.length));
}

/**
 * A person's name introduced by its label ("Patient: Avery Testperson",
 * "Name: …", "Beneficiary …", "Employee …"): two or three capitalised words.
 * Provider names ("Dr. …") are not patient identifiers and are not matched.
 */
export const personNameDetector = patternDetector({
  id: 'person-name',
  category: 'PERSON_NAME',
  pattern: new RegExp(`\\b(?:${byFirstLetter(PERSON_NAME_LABELS)})${LABELLED_NAME}`, 'g'),
  value: (m) => (alignedColumns(m) ? '' : labelledName(m[0], beforeColumnGap(m[1] ?? ''))),
  validate: (v) => v !== '',
  notAfter: LABEL_NOT_A_PERSON,
  mask: (v) => `Name ${v.split(/\s+/).map((w) => `${w[0] ?? ''}${'*'.repeat(Math.max(0, w.length - 1))}`).join(' ')}`,
});

/** One capitalised word of a labelled name ("Maria", "O'Brien", "McKay", "Müller", "Nguyen-Tran"), or one in capitals ("GARCIA"). */
const NAME_PART = "(?:[A-ZÀ-ÖØ-Þ](?:['’][A-ZÀ-ÖØ-Þ])?[a-zß-öø-ÿ'’]+(?:[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+)?|[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’-]+)";
const LAST_NAME_LABEL = '(?:[Ll]ast\\s*[Nn]ame|LAST\\s*NAME|[Ss]urname|SURNAME|[Ff]amily\\s+[Nn]ame|[Nn]achname|NACHNAME|[Aa]pellidos?|APELLIDOS?|[Nn]om(?:\\s+de\\s+famille)?|NOM)';
const FIRST_NAME_LABEL = '(?:[Ff]irst\\s*[Nn]ame|FIRST\\s*NAME|[Gg]iven\\s+[Nn]ame|[Vv]orname|VORNAME|[Nn]ombre|NOMBRE|[Pp]rénom|PRÉNOM)';
/** Optional words before a part's label that say whose name it is ("Patient last name", "Member first name"). */
const NAME_PART_OWNER = "(?:(?:[Pp]atient|PATIENT|[Pp]t\\.?|[Mm]ember|MEMBER|[Ss]ubscriber|SUBSCRIBER|[Ee]mployee|EMPLOYEE|[Ii]nsured|INSURED)['’]?s?\\s+)?";
/** Between one labelled part and the next: the separator of a form, a table row read as "header: value" or a line break. */
const PART_GAP = '[ \\t]*[;,|\\t\\n]?[ \\t]*';
/** A part of one or two words ("Ruiz García", "Mary Ann"). */
const PART = `(${NAME_PART}(?:[ \\t]+${NAME_PART})?)`;

/**
 * A name written in two labelled parts, as forms and patient lists do ("Last
 * name: Hernandez; First name: Ruth", "First Name: Ruth | Last Name:
 * Hernandez", "Nachname: Weber, Vorname: Klaus", "Apellidos: Ruiz; Nombre:
 * Carlos", "Nom : MARTIN ; Prénom : Luc"): the last and the first name next
 * to each other (the table pre-pass writes a row's cells that way).
 */
const NAME_PARTS = new RegExp(
  `\\b${NAME_PART_OWNER}(?:${LAST_NAME_LABEL}\\s*:\\s*${PART}${PART_GAP}${NAME_PART_OWNER}${FIRST_NAME_LABEL}\\s*:\\s*${PART}|${FIRST_NAME_LABEL}\\s*:\\s*${PART}${PART_GAP}${NAME_PART_OWNER}${LAST_NAME_LABEL}\\s*:\\s*${PART})(?![A-Za-zß-öø-ÿÀ-ÖØ-Þ])`,
  'g',
);

/** Whether text[..end) can end a first-name label: "…name" or "…mbre" in either case, or "…nom" (Prénom): decided on char codes, before any slice. */
function firstNameLabelEnd(text: string, end: number): boolean {
  const a = text.charCodeAt(end - 3) | 32;
  const b = text.charCodeAt(end - 2) | 32;
  const c = text.charCodeAt(end - 1) | 32;
  // "name" ends in "ame", "nombre" in "bre", "prénom" in "nom"
  if (c === 101) return (a === 97 && b === 109) || (a === 98 && b === 114);
  if (c === 109) return a === 110 && b === 111;
  return false;
}

/** The end of a first-name label, right before its colon (the search looks only around them). */
const FIRST_NAME_LABEL_BEFORE = new RegExp(`${FIRST_NAME_LABEL}$`);

/** How far before and after a first-name label a name in parts can reach (two labels, two parts of two words, the separator). */
const PARTS_BEFORE = 120;
const PARTS_AFTER = 180;

interface NameInParts {
  readonly index: number;
  readonly length: number;
  readonly name: string;
}

function letterOrDigit(c: number): boolean {
  return isWordChar(c) || c >= 0xc0;
}

/**
 * Every name in parts, in order: NAME_PARTS searched only in a stretch
 * around each first-name label (most texts hold none, and a search of the
 * whole text tried its optional words at every word), each stretch from the
 * end of the last match. A match must not start inside a word or touch the
 * stretch's end (it could go on past it).
 */
function namesInParts(text: string): NameInParts[] {
  const labels: number[] = [];
  // every label ends in a colon: one pass over the colons, and the few words before those that follow an "e" or an "m" ("name:", "Vorname:", "Prénom :")
  for (let colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', colon + 1)) {
    let end = colon;
    while (end > 0 && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
    if (!firstNameLabelEnd(text, end)) continue;
    const before = text.slice(Math.max(0, end - 11), end);
    const label = FIRST_NAME_LABEL_BEFORE.exec(before);
    if (label) labels.push(end - label[0].length);
  }
  if (labels.length === 0) return [];
  const out: NameInParts[] = [];
  let from = 0;
  for (const at of labels) {
    const start = Math.max(from, at - PARTS_BEFORE);
    const end = Math.min(text.length, at + PARTS_AFTER);
    if (start >= end) continue;
    const stretch = text.slice(start, end);
    NAME_PARTS.lastIndex = 0;
    for (let m = NAME_PARTS.exec(stretch); m; m = NAME_PARTS.exec(stretch)) {
      const index = start + m.index;
      const length = m[0].length;
      if ((m.index === 0 && letterOrDigit(text.charCodeAt(index - 1))) || (start + m.index + length >= end && end < text.length)) continue;
      const first = m[2] ?? m[3] ?? '';
      const last = m[1] ?? m[4] ?? '';
      const name = titleCase(`${first} ${last}`);
      if (personLike(name)) out.push({ index, length, name });
      from = index + length;
    }
    NAME_PARTS.lastIndex = 0;
  }
  return out;
}

const maskName = (v: string): string => `Name ${v.split(/\s+/).map((w) => `${w[0] ?? ''}${'*'.repeat(Math.max(0, w.length - 1))}`).join(' ')}`;

/** A name in two labelled parts (NAME_PARTS): medium confidence, as a name with its label. */
export const personNamePartsDetector: Detector = {
  id: 'person-name-parts',
  category: 'PERSON_NAME',
  locate: (text) => cachedScan(personNamePartsDetector, text, namesInParts).map(({ index, length }) => ({ index, length })),
  explain: (text) => cachedScan(personNamePartsDetector, text, namesInParts).slice(0, 5).map((n) => ({ evidence: maskName(n.name), confidence: 'medium' as const })),
  detect(text) {
    const names = [...new Set(cachedScan(personNamePartsDetector, text, namesInParts).map((n) => n.name))];
    if (names.length === 0) return undefined;
    return { detector: 'person-name-parts', category: 'PERSON_NAME', count: names.length, confidence: 'medium', evidence: names.slice(0, 3).map(maskName) };
  },
};

/**
 * MRN, member and account identifiers differ per organisation: a configured
 * pattern, its keywords and how close they must be.
 */
export interface CustomIdentifier {
  readonly id: string;
  readonly category: string;
  readonly pattern: string;
  readonly keywords: readonly string[];
  readonly window?: number;
  readonly keywordRequired?: boolean;
  /** A check the value must pass (digits of the match). */
  readonly validator?: 'none' | 'luhn' | 'aba' | 'npi' | undefined;
  /** Fewer distinct values than this: no finding. */
  readonly minCount?: number | undefined;
  /** Words near a match that make it something else: the match is ignored. */
  readonly notNear?: RegExp | undefined;
}

const VALIDATORS: Record<string, (digits: string) => boolean> = { luhn: luhnValid, aba: abaValid, npi: npiValid };

/** A string as a pattern that matches it literally. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function customIdentifierDetector(c: CustomIdentifier): Detector {
  const spec: PatternSpec = {
    id: c.id,
    category: c.category,
    pattern: new RegExp(c.pattern, 'g'),
    keywords: c.keywords.length ? keywordPattern(c.keywords) : undefined,
    keywordRequired: c.keywordRequired ?? true,
    window: c.window ?? 60,
    validate: c.validator && c.validator !== 'none' ? (v) => (VALIDATORS[c.validator ?? ''] ?? (() => true))(v.replace(/\D/g, '')) : () => true,
    validatorName: c.validator && c.validator !== 'none' ? `${c.validator} check` : undefined,
    mask: (v) => `${c.category} ${'*'.repeat(Math.max(0, v.length - 3))}${v.slice(-3)}`,
    notNear: c.notNear,
  };
  const detector = patternDetector(spec);
  const min = c.minCount ?? 1;
  if (min <= 1) return detector;
  return {
    ...detector,
    detect(text: string): Finding | undefined {
      const f = detector.detect(text);
      return f && f.count >= min ? f : undefined;
    },
  };
}

/** A keyword list as a regex: the keyword ends where no letter or digit follows, and its spaces match any spacing, none included. */
function keywordPattern(keywords: readonly string[]): RegExp {
  // "Chart #:" works, "MRN" does not match "MRNX"; "chart #" also finds "Chart#"
  return new RegExp(`\\b(${keywords.map((k) => escapeRegExp(k).replace(/ +/g, '\\s*')).join('|')})(?![A-Za-z0-9])`, 'i');
}

/** A record, chart, account or member number: 6 to 10 digits with an optional letter prefix, or an alphanumeric one of at least 5 digits (not shaped like a date or a phone number). */
const RECORD_NUMBER =
  /\b[A-Z]{0,3}\d{6,10}\b|(?<![A-Za-z0-9-])(?!\d{4}-\d{1,2}-\d{1,2}(?![A-Za-z0-9-])|\d{1,2}-\d{1,2}-\d{2,4}(?![A-Za-z0-9-])|\d{3}-\d{3}-\d{4}(?![A-Za-z0-9-]))(?=[0-9]*[A-Z-])(?=(?:[A-Z-]*\d){5})[A-Z]{0,4}-?\d[0-9A-Z]*(?:-[0-9A-Z]+){0,3}(?![A-Za-z0-9-])/g;

/** An account number among bank words is a bank account (payroll, refunds), not a patient's or a member's number. */
const BANK_WORDS = /\b(?:routing|aba|rtn|checking|savings|bank(?:ing)?|direct\s+deposit|wire|ach|iban|swift|bic)\b/i;

/**
 * A number's digits that only stand in for one (forms, training, test
 * records): one digit repeated ("0000000", "MRN 9999999"). Counting digits
 * ("12345678") are not refused: examples write them, but so do real
 * numbers' writers often enough, and a miss costs more than a finding.
 */
export function placeholderNumber(value: string): boolean {
  let digit = -1;
  let digits = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    if (digit >= 0 && c !== digit) return false;
    digit = c;
    digits++;
  }
  return digits >= 5;
}

/** A record number of a test patient's, as EHR builds, training environments and vendors' demos prefix them ("TST0000412", "ZZ9900017", "TEST-1042", "TRN000101", "TRAIN-000001", "DEMO-000123"). */
const TEST_RECORD_NUMBER = /^(?:TST|TEST|TRN|TRAIN|ZZ|DEMO|SAMPLE|EXAMPLE|DUMMY|FAKE)/i;

/** An X12 date's qualifier right before the number ("DMG*D8*19000101", "DTP*472*RD8*20240101-20240105"): a date, not a record; an employer's or a federal tax id's reference ("REF*EI*", "REF*TJ*"). */
const X12_NOT_RECORD_BEFORE = /\*R?D8\*$|REF\*(?:EI|TJ)\*$/;

/** A test record's prefix written before the number with a hyphen ("TRAIN-000001", "TEST-1042": the number alone is what is matched). */
const TEST_PREFIX_BEFORE = /(?<![A-Za-z])(?:TST|TEST|TRN|TRAIN|ZZ|DEMO|SAMPLE|DUMMY|FAKE)-$/i;

/** A label before a number that says it is a test or sample record's ("test MRN ZZ9900017", "sample member ID"). */
const TEST_RECORD_LABEL = /\b(?:test|tst|dummy|sample|fake|example|demo|training)\s+(?:patient\s+)?(?:mrn|mr#|acct|account|id|record|chart|member|subscriber|encounter|visit)\b[^\n]{0,16}$/i;

/** Whether the number at `index` follows a test or sample record's label (TEST_RECORD_LABEL) within 40 characters. */
function testRecordLabel(text: string, index: number): boolean {
  return TEST_RECORD_LABEL.test(text.slice(Math.max(0, index - 40), index));
}

/** A label right before a number that makes it a product's, a shipment's or a document's ("lots 24K118", "Serial #", "PO", "Invoice", "Tracking", "Ticket", a job's "Req #"), or a provider's or an organisation's number ("NPI 1234567893", "EIN", "NCPDP"): whatever keyword is near, not a record's. */
const OTHER_THING_LABEL = /\b(?:lots?|batch(?:es)?|serial|s\/n|sku|item|part|model|po|invoice|inv|order|tracking|ticket|confirmation|ref|reference|req|requisition|job|posting|npi|dea|tin|ein|ncpdp|taxonomy)\b\.?[ \t]*(?:number|no\.?|num|#|id)?[ \t]*[#:.-]?[ \t]*$/i;

function labelledAsSomethingElse(text: string, index: number): boolean {
  return OTHER_THING_LABEL.test(text.slice(Math.max(0, index - 30), index));
}

/** A year and a month ("2025-07", a bulletin's or a report's number), not a record's. */
const YEAR_AND_MONTH = /^(?:19|20)\d\d-(?:0[1-9]|1[0-2])$/;

/** What says a record is a test patient's after its number ("… - training environment only, not a real patient", "(training default)"), or before it on its line or a few labelled lines above (a record's fields: "Patient: ZZTRAIN, ALPHA" / "MRN: …" / "DOB: …"; the test patient's name: "ZZTEST, DOWNTIME", "ZZTRAIN, ALPHA": EHRs name test patients with a ZZ surname; or "test patient" itself). */
const TEST_RECORD_AFTER = /^[^\n]{0,40}?\b(?:training|test|testing|sandbox|demo)\s+(?:environment|only|default|patient|record|use)\b|^[^\n]{0,40}?\b(?:not\s+a\s+real\s+(?:patient|person)|fictitious|fictional|synthetic)\b|^[^\n(]{0,12}\(\s*(?:training|test|sample|demo|dummy|fictional)\s*\)/i;
const TEST_PATIENT_BEFORE = /\b(?:ZZ[A-Z]{2,}|TESTPATIENT|TEST,\s*PATIENT|[Tt]est[ \t]+patient)\b[^\n]{0,200}(?:\n[ \t]*[A-Za-z][\w /#()&.-]{0,30}:[^\n]{0,200}){0,4}$/;

/** The words TEST_RECORD_AFTER and TEST_PATIENT_BEFORE look for, any of them anywhere in the text (most texts hold none: one search each, once per text). */
const TEST_MARK = /test|train|sandbox|demo|\bzz[a-z]|real\s+(?:patient|person)|fictitious|fictional|synthetic/i;
const holdsTestMark = scanOnce((text) => TEST_MARK.test(text));

/** Whether the record number or birth date at `index` is a test patient's (TEST_RECORD_AFTER, TEST_PATIENT_BEFORE), or in FHIR test health data (inTestHealthData). */
function testRecordAround(text: string, index: number): boolean {
  if (!holdsTestMark(text)) return false;
  return TEST_RECORD_AFTER.test(text.slice(index, index + 80)) || TEST_PATIENT_BEFORE.test(text.slice(Math.max(0, index - 600), index)) || inTestHealthData(text, index);
}

/** HL7's code for test health data, as a FHIR resource's or bundle's security label or tag carries it ("code": "HTEST"). */
const HTEST_CODE = /"code"\s*:\s*"HTEST"/g;

/** The parts of the message (an attachment's text: form feeds part them) that FHIR labels test health data (HTEST_CODE), as [start, end) ranges; found once per text. */
const testHealthDataParts = scanOnce((text): [number, number][] => {
  const parts: [number, number][] = [];
  HTEST_CODE.lastIndex = 0;
  for (let m = HTEST_CODE.exec(text); m; m = HTEST_CODE.exec(text)) {
    const start = text.lastIndexOf('\f', m.index) + 1;
    const found = text.indexOf('\f', m.index);
    const end = found < 0 ? text.length : found;
    parts.push([start, end]);
    HTEST_CODE.lastIndex = end;
  }
  return parts;
});

/** Whether text[index] stands in a part of the message that FHIR labels test health data (testHealthDataParts). */
function inTestHealthData(text: string, index: number): boolean {
  return testHealthDataParts(text).some(([start, end]) => index >= start && index < end);
}

/** An account label right before a number ("acct", "Account #"), and an organisation's name or a vendor on its line before it ("Client: RIVERBEND REGIONAL MEDICAL CENTER (Acct C-00412)", "Backup vendor: Propio acct #BW-22014"; not "Hospital account number", a patient's), or a 340B drug-pricing account in the number itself. */
const ACCOUNT_LABEL_BEFORE = /\b(?:acct|account)\.?\s*(?:#|no\.?|number)?\s*[:#]?\s*$/i;
const ORGANISATION_ON_LINE = /\b(?:center|centre|hospital|clinic|medical|health|pharmacy|llc|inc|corp|company|services|group|associates|vendor|supplier|distributor|carrier)\b(?![ \t]+(?:acct|account))[^\n]*$/i;

/** Whether a number labelled only as an account is an organisation's: the 340B program's, or with an organisation named before it on its line and no patient word. */
function organisationAccount(value: string, text: string, index: number): boolean {
  if (/340B/i.test(value)) return true;
  const before = text.slice(Math.max(0, index - 100), index);
  const line = before.slice(before.lastIndexOf('\n') + 1);
  return ACCOUNT_LABEL_BEFORE.test(line) && ORGANISATION_ON_LINE.test(line) && !/\b(?:patient|pt|guarantor|statement)\b/i.test(line);
}

/** A phone number's area code before its last seven digits ("(800) 555-0135", "800-555-0135", "800.555.0135"). */
const AREA_CODE_BEFORE = /(?:\(\d{3}\)[ \t]?|\b\d{3}[-. ])$/;

/** Whether the number is the last seven digits of a phone number ("555-0135" after "(800) "): no record's. */
function phoneNumberTail(value: string, text: string, index: number): boolean {
  return /^\d{3}-\d{4}$/.test(value) && AREA_CODE_BEFORE.test(text.slice(Math.max(0, index - 6), index));
}

/** The HL7 v2 segments that identify a message, its acknowledgement or its batch, never a patient. */
const HL7_CONTROL_SEGMENTS = ['MSH|', 'MSA|', 'ERR|', 'BHS|', 'BTS|', 'FHS|', 'FTS|'];

/** How far back the start of a match's segment is looked for (a longer line's start is not read). */
const SEGMENT_REACH = 400;

const holdsHl7ControlSegment = scanOnce((text) => HL7_CONTROL_SEGMENTS.some((s) => text.includes(s)));

/** Whether text[index] stands in an HL7 control segment (HL7_CONTROL_SEGMENTS: the line, ended by CR or LF, starts with one). */
function inHl7ControlSegment(text: string, index: number): boolean {
  // most texts hold none: one native search each, once per text
  if (!holdsHl7ControlSegment(text)) return false;
  const floor = Math.max(0, index - SEGMENT_REACH);
  let i = index;
  while (i > floor && text.charCodeAt(i - 1) !== 10 && text.charCodeAt(i - 1) !== 13) i--;
  if (i === floor && floor > 0) return false;
  return HL7_CONTROL_SEGMENTS.some((s) => text.startsWith(s, i));
}

/**
 * The words of a patient's bill or of mail about a patient ("statement",
 * "guarantor", "balance due", "date of service", "copay", "your account",
 * "pt", "patient" — not a product's or a programme's: "patient gowns",
 * "Patient Warming Blanket", "Patient Portal"; not "PT", physical
 * therapy): where a bare "acct" or "account #" is a patient's. Elsewhere
 * (a supplier's order, a vendor's dispute, a recall acknowledgement) it is
 * the organisation's account with a company.
 */
const PATIENT_WORD = /\b(?:[Pp]t|[Pp]atient|PATIENT)\b(?![ \t]+(?:[A-Z]|(?:gowns?|exam|education|lifts?|monitors?|wristbands?|labels?|belongings|bags?|care[ \t]+supplies|positioning|transfer|safety)\b))/;
const PATIENT_BILL =
  /\b(?:statements?|guarantor|balance|amount\s+due|you\s+owe|date\s+of\s+service|dos|self[-\s]?pay|co-?pay|deductible|co-?insurance|charges|payment\s+plan|collections?|refund|patient\s+(?:account|acct|balance|financial)|your\s+(?:account|acct|bill|balance))\b/i;

/** Whether the text holds the words of a patient's bill or a patient (PATIENT_BILL, PATIENT_WORD; found once per text within a verdict). */
const patientBill: (text: string) => boolean = scanOnce((text) => PATIENT_BILL.test(text) || PATIENT_WORD.test(text));

/** A record or member number next to its keywords (required, within 40 characters), not among bank words. */
function recordNumberSpec(id: string, category: string, keywords: RegExp): PatternSpec {
  return {
    id,
    category,
    pattern: RECORD_NUMBER,
    keywords,
    keywordRequired: true,
    window: 40,
    notNear: BANK_WORDS,
    // placeholders ("0000000"), test records ("TST0000412", "test MRN …") and ids in an HL7 message's header, acknowledgement
    // and batch segments, which are the message's ("MSA|AE|MVH0000184520|PV1-19 visit number …")
    refuse: (value, text, index) =>
      placeholderNumber(value) ||
      TEST_RECORD_NUMBER.test(value) ||
      TEST_PREFIX_BEFORE.test(text.slice(Math.max(0, index - 8), index)) ||
      X12_NOT_RECORD_BEFORE.test(text.slice(Math.max(0, index - 7), index)) ||
      YEAR_AND_MONTH.test(value) ||
      labelledAsSomethingElse(text, index) ||
      testRecordLabel(text, index) ||
      testRecordAround(text, index) ||
      organisationAccount(value, text, index) ||
      phoneNumberTail(value, text, index) ||
      inHl7ControlSegment(text, index),
    starts: RECORD_NUMBER_STARTS,
    mask: (v) => `${category} ${'*'.repeat(Math.max(0, v.length - 3))}${v.slice(-3)}`,
  };
}

/**
 * The default MRN detector: a record, chart or patient-account number next
 * to its keyword — 6 to 10 digits with an optional letter prefix
 * ("00123456", "MR1234567"), or an alphanumeric one of at least 5 digits
 * with letters or hyphens among them ("A12-345-678", "CH-004582",
 * "7734-2281A"), not among bank words.
 */
export const mrnSpec: PatternSpec = {
  ...recordNumberSpec(
    'mrn',
    'MRN',
    keywordPattern([
      'MRN', 'MR#', 'medical record', 'med rec', 'chart number', 'chart no', 'chart #', 'chart id', 'patient id', 'patient number', 'patient no', 'patient #',
      'pt id', 'pt #', 'pt no', 'patient account', 'hospital account', 'CSN',
      'encounter number', 'encounter #', 'encounter id', 'visit number', 'visit #', 'visit id',
      // a pharmacy's prescription number: a record of one patient's prescription, as a chart number is of their care
      'Rx #', 'Rx no', 'Rx number', 'prescription #', 'prescription no', 'prescription number',
    ]),
  ),
  // a bare "account" is a patient's in a bill (PATIENT_BILL), a customer's in an invoice, an order or a remittance
  // not a web address's parameter ("…/spring?utm_source=email&acct=52218")
  weakKeywords: /\b(acct|acct\s*#|account\s*#)(?![A-Za-z0-9=])/i,
  weakKeywordsCount: (text) => patientBill(text) && !commerceDocument(text),
};

/** A health plan's member or subscriber number next to its keyword ("Member ID: XJH482913057", "Subscriber #", "Policy number"), the same shapes. */
export const memberIdSpec = recordNumberSpec(
  'member-id',
  'MEMBER_ID',
  keywordPattern(['member id', 'member #', 'member no', 'member number', 'subscriber id', 'subscriber #', 'subscriber no', 'subscriber number', 'policy number', 'policy #', 'policy no', 'insurance id', 'plan id', 'health plan id', 'beneficiary id', 'medicaid id', 'medicaid #', 'medicaid no', 'medicaid number', 'id de afiliado', 'número de afiliado', 'versichertennummer', 'versicherungsnummer', "numéro d'adhérent"]),
);

/** Both find the same numbers: within a verdict each number, and the text around it, is found once for both. */
export const [mrnDetector, memberIdDetector] = patternDetectors([mrnSpec, memberIdSpec]) as [Detector, Detector];

const EMAIL = /[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;

/** Many distinct addresses outside `internalDomains` in one message: a possible list leak. */
export function emailListDetector(internalDomains: readonly string[], threshold = 25): Detector {
  const internal = new Set(internalDomains.map((d) => d.toLowerCase()));
  return {
    id: 'email-list',
    category: 'EMAIL_LIST',
    detect(text: string): Finding | undefined {
      const found = new Set<string>();
      for (const m of text.matchAll(EMAIL)) {
        const domain = (m[1] ?? '').toLowerCase();
        if (!internal.has(domain)) found.add(m[0].toLowerCase());
      }
      if (found.size < threshold) return undefined;
      return { detector: 'email-list', category: 'EMAIL_LIST', count: found.size, confidence: 'high', evidence: [`${found.size} external email addresses`] };
    },
  };
}
