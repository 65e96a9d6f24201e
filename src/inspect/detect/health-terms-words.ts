/**
 * One pass over a text's code units that finds both kinds of health words
 * read word by word: the dictionary's terms (a trie walk at each word start)
 * and medical word formation (the letter runs with a medical ending). Each
 * unit's class is one table lookup; a word is sliced and tested with the
 * ending regex only when it is long enough and ends in a medical ending.
 */
import { DIGIT_MARK, LETTER, WORD, astralLetterAt, unitClass, unitClassTable } from './health-terms-chars.js';
import { MIN_POSSESSED_LETTERS, type NearTermIndex, possessedTermOf } from './health-terms-near.js';
import { NO_NODE, ROOT, type TermMatch, type TermTrie, childOf, mayGoOn, termFrom } from './health-terms-trie.js';

/** The unit classes, held by this module: the words pass reads one per unit (see `unitClassTable`). */
const CLASSES = unitClassTable();

/** `unitClass(c)`, read from the table held here (an entry not looked at yet is looked at once, by `unitClass`). */
function classOf(c: number): number {
  const known = CLASSES[c] as number;
  return known !== 0 ? known : unitClass(c);
}

export interface HealthTermSpan {
  readonly index: number;
  readonly length: number;
  readonly term: string;
}

/** Ordinary words that share a medical ending. */
const NOT_MEDICAL = ['academia', 'bohemia', 'empathy', 'sympathy', 'apathy', 'telepathy', 'antipathy', 'nostalgia', 'dichotomy'];

/** Inflammations, removals, incisions, scopes, repairs, diseases, pains and blood conditions, in four languages. */
const MEDICAL_ENDINGS = [
  'itis', 'ectomy', 'ectomies', 'otomy', 'ostomy', 'oscopy', 'oscopies', 'plasty', 'pathy', 'algia', 'aemia', 'emia',
  'ektomie', 'oskopie', 'plastik', 'pathie', 'ämie',
  'ectomie', 'otomie', 'oscopie', 'plastie', 'émie', 'algie',
  'ectomía', 'otomía', 'oscopia', 'oscopía', 'plastia', 'patía',
];

/**
 * Medical word formation: inflammations, removals, incisions, scopes,
 * repairs, diseases, pains and blood conditions ("cholecystitis",
 * "appendectomy", "colonoscopy", "neuropathy", "Gastroskopie",
 * "colecistectomía"), with the ordinary words that share an ending excluded.
 */
const MORPHOLOGY = new RegExp(`^(?!(?:${NOT_MEDICAL.join('|')})$)\\p{L}{3,}(?:${MEDICAL_ENDINGS.join('|')})$`, 'iu');

/**
 * A letter as the case-insensitive unicode regex compares it, near enough
 * to tell whether a word can end in a medical ending: ASCII in lower case,
 * ſ as s and the Kelvin sign as k (their simple case folding), others in
 * lower case (Ä, É, Í fold to ä, é, í; nothing else folds to an ending's letter).
 */
function folded(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
  if (c === 0x17f) return 115;
  if (c === 0x212a) return 107;
  const lower = String.fromCharCode(c).toLowerCase();
  return lower.length === 1 ? lower.charCodeAt(0) : c;
}

/**
 * The medical endings read backwards, as a flat automaton over folded
 * letters: state START is nothing read yet, 0 none. ASCII units step by
 * table (both cases), any other unit by map (folded); `ends[state]` says an
 * ending has been read.
 */
interface EndingAutomaton {
  readonly ascii: Uint8Array;
  readonly wide: Map<number, number>;
  readonly ends: Uint8Array;
}

const START = 1;

function reversedEndings(endings: readonly string[]): EndingAutomaton {
  const next: Map<number, number>[] = [new Map(), new Map()];
  const ending = new Set<number>();
  for (const e of endings) {
    let state = START;
    for (let i = e.length - 1; i >= 0; i--) {
      const key = folded(e.charCodeAt(i));
      let child = next[state]?.get(key);
      if (child === undefined) {
        child = next.length;
        next.push(new Map());
        next[state]?.set(key, child);
      }
      state = child;
    }
    ending.add(state);
  }
  if (next.length > 0xff) throw new Error('too many medical endings for 8-bit states');
  const ascii = new Uint8Array(next.length * 128);
  const wide = new Map<number, number>();
  const ends = new Uint8Array(next.length);
  next.forEach((edges, state) => {
    for (const [key, child] of edges) {
      if (key >= 128) wide.set(state * 0x10000 + key, child);
      else for (let c = 0; c < 128; c++) if (folded(c) === key) ascii[state * 128 + c] = child;
    }
    if (ending.has(state)) ends[state] = 1;
  });
  return { ascii, wide, ends };
}

const ENDINGS = reversedEndings(MEDICAL_ENDINGS);

/** A word's last unit that can end a medical ending: by ASCII code, 128 for any other (tried further). */
const MAY_END = new Uint8Array(129);
for (let c = 0; c < 128; c++) MAY_END[c] = ENDINGS.ascii[START * 128 + c] !== 0 ? 1 : 0;
MAY_END[128] = 1;

/** Whether the letters [start, end) end in a medical ending (as MORPHOLOGY compares letters). */
function endsMedically(units: Uint16Array, start: number, end: number): boolean {
  const { ascii, wide, ends } = ENDINGS;
  let state = START;
  for (let i = end - 1; i >= start; i--) {
    // ſ and the Kelvin sign fold to ASCII letters: step by the table with those
    const c = (units[i] as number) < 128 ? (units[i] as number) : folded(units[i] as number);
    state = c < 128 ? (ascii[state * 128 + c] as number) : (wide.get(state * 0x10000 + c) ?? 0);
    if (state === 0) return false;
    if (ends[state] !== 0) return true;
  }
  return false;
}

const classAt = (units: Uint16Array, i: number): number => (i >= 0 && i < units.length ? classOf(units[i] as number) : 0);

/**
 * A letter run [start, end) of `letters` code points, if it is a medical
 * word: seven letters or more, no digit, mark or "_" touching it, and a
 * medical ending (what \p{L}{7,} finds and MORPHOLOGY accepts).
 */
function medicalWord(text: string, units: Uint16Array, start: number, end: number, letters: number, out: HealthTermSpan[]): void {
  if (letters < 7 || !endsMedically(units, start, end)) return;
  if (((classAt(units, start - 1) | classAt(units, end)) & DIGIT_MARK) !== 0) return;
  const word = text.slice(start, end);
  if (MORPHOLOGY.test(word)) out.push({ index: start, length: end - start, term: word.toLowerCase() });
}

/** Whether every unit of [start, end) is a letter. */
function lettersOnly(units: Uint16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((classOf(units[i] as number) & LETTER) === 0) return false;
  return true;
}

const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/** The letter run (letters as code points, surrogate pairs included) around the letters [start, end): its start, end and number of letters. */
function letterRunAround(units: Uint16Array, start: number, end: number): { start: number; end: number; letters: number } {
  let letters = end - start;
  while (start > 0) {
    if ((classAt(units, start - 1) & LETTER) !== 0) start--;
    else if (start > 1 && astralLetterAt(units, start - 2)) start -= 2;
    else break;
    letters++;
  }
  while (end < units.length) {
    if ((classAt(units, end) & LETTER) !== 0) end++;
    else if (astralLetterAt(units, end)) end += 2;
    else break;
    letters++;
  }
  return { start, end, letters };
}

/**
 * The medical words, told one word (a maximal run of word characters) at a
 * time. A medical word is a whole word of letters: a run of letters inside a
 * word touches the digit, mark or "_" that splits it, which rules it out.
 * Only a letter outside the BMP (a surrogate pair, no word character) joins
 * a word's letters to the next word's; such a run is read and tried once,
 * from the first of its words.
 */
class MedicalWords {
  /** The end of the last letter run tried that went on through a surrogate pair: the words before it were in it. */
  private lastRunEnd = 0;

  constructor(
    private readonly text: string,
    private readonly units: Uint16Array,
    private readonly out: HealthTermSpan[],
  ) {}

  /** The word [start, end): seven units or more ending in a, e, s, y, k (or a unit outside ASCII), or next to a unit from U+D800 up. */
  word(start: number, end: number): void {
    const { text, units, out } = this;
    const joined = (start > 0 && isLowSurrogate(units[start - 1] as number)) || (end < units.length && isHighSurrogate(units[end] as number));
    if (!joined) {
      if (endsMedically(units, start, end) && lettersOnly(units, start, end)) medicalWord(text, units, start, end, end - start, out);
      return;
    }
    // a word of a run already tried (each run is read once: "a𝐀a𝐀a…" is one run of many words)
    if (start < this.lastRunEnd || !lettersOnly(units, start, end)) return;
    const run = letterRunAround(units, start, end);
    medicalWord(text, units, run.start, run.end, run.letters, out);
    this.lastRunEnd = run.end;
  }
}

/**
 * The dictionary's terms (into `dictionary`, as HEALTH_TERMS finds them in a
 * global search) and the medical words (into `morphology`), each in the
 * order of the text, in one pass over the words (maximal runs of word
 * characters) of `text` (`units`: its code units): at a word's start the
 * trie is followed while the word can begin a term, and the walk goes on
 * past the word (spaces, hyphens, more words) only for the words that get to
 * their end that way. Most words are ruled out as medical words by their
 * length and last unit, tested without a branch on each.
 */
export function wordTerms(text: string, units: Uint16Array, trie: TermTrie, dictionary: HealthTermSpan[], morphology: HealthTermSpan[], near?: NearTerms): void {
  const n = units.length;
  // where the last possessive pronoun ended ("my", "her" …: the next word may be a term typed wrong), -1 before any
  let possessiveEnd = -1;
  const found: TermMatch = { end: 0, term: '' };
  const medical = new MedicalWords(text, units, morphology);
  const { ascii, column, width, starts } = trie;
  // no term starts inside the previous one
  let resume = 0;
  // the unit before the word (its gap's last)
  let before = 0;
  for (let i = 0; i < n; ) {
    let c = units[i] as number;
    if ((classOf(c) & WORD) === 0) {
      before = c;
      i++;
      continue;
    }
    const start = i;
    let node = NO_NODE;
    i++;
    if (start >= resume) {
      // three ASCII word characters (most words begin so): one lookup takes the walk past them
      const b = i < n ? (units[i] as number) : 0;
      const d = i + 1 < n ? (units[i + 1] as number) : 0;
      if ((c | b | d) < 128 && (classOf(b) & classOf(d) & WORD) !== 0) {
        node = starts[((column[c] as number) * width + (column[b] as number)) * width + (column[d] as number)] as number;
        i += 2;
      } else node = childOf(trie, ROOT, c);
    }
    // follow the trie while the word can begin a term (ASCII edges by table, here, as it is most of the work)
    for (; node !== NO_NODE && i < n; i++) {
      c = units[i] as number;
      if ((classOf(c) & WORD) === 0) break;
      node = c < 128 ? (ascii[node * width + (column[c] as number)] as number) : childOf(trie, node, c);
    }
    // the rest of the word
    while (i < n && (classOf(units[i] as number) & WORD) !== 0) i++;
    if (node !== NO_NODE && mayGoOn(trie, node, units, i) && termFrom(trie, text, units, start, node, i, found)) {
      dictionary.push({ index: start, length: found.end - start, term: found.term });
      resume = found.end;
    } else if (near !== undefined && possessiveEnd === start - 1 && start >= resume && i - start >= MIN_POSSESSED_LETTERS) nearTerm(text, units, start, i, near);
    if (near !== undefined && i - start <= 5 && i - start >= 2) possessiveEnd = possessiveStart((units[start] as number) | 0x20) && possessive(units, start, i) ? i : -1;
    // a medical word? seven units or more ending like one (one lookup, no branch on the length), or next to a unit from U+D800 up (a surrogate pair may join letters)
    const last = units[i - 1] as number;
    const after = i < n ? (units[i] as number) : 0;
    if (((MAY_END[last < 128 ? last : 128] as number) & ((6 - (i - start)) >>> 31)) !== 0 || before >= 0xd800 || after >= 0xd800) medical.word(start, i);
    // the unit after the word is no word character: the gap goes on past it
    before = after;
    i++;
  }
}

/** Where the words pass looks up a word after a possessive pronoun (health-terms-near.ts), and where it puts the terms so found. */
export interface NearTerms {
  readonly index: NearTermIndex;
  readonly out: HealthTermSpan[];
}

/** The possessive pronouns before a person's own health ("my", "his", "her", "your", "their"), in lower case, by length (most words are ruled out by their length and first letter). */
const POSSESSIVES: readonly (readonly string[])[] = [[], [], ['my'], ['his', 'her'], ['your'], ['their']];
/** Whether a word's first unit, in lower case, can begin one of POSSESSIVES: m, h, y, t. */
function possessiveStart(c: number): boolean {
  return c === 109 || c === 104 || c === 121 || c === 116;
}

/** Whether the word [start, end), its first letter one of POSSESSIVES' (possessiveStart), is a possessive pronoun (any case). */
function possessive(units: Uint16Array, start: number, end: number): boolean {
  for (const p of POSSESSIVES[end - start] ?? []) {
    let k = 1;
    while (k < p.length && ((units[start + k] as number) | 0x20) === p.charCodeAt(k)) k++;
    if (k === p.length && ((units[start] as number) | 0x20) === p.charCodeAt(0)) return true;
  }
  return false;
}

/** The word [start, end), letters only, as a part of the body or a term one edit away (possessedTermOf), into `near.out`. */
function nearTerm(text: string, units: Uint16Array, start: number, end: number, near: NearTerms): void {
  if (!lettersOnly(units, start, end)) return;
  const term = possessedTermOf(near.index, text.slice(start, end).toLowerCase());
  if (term !== undefined) near.out.push({ index: start, length: end - start, term });
}
