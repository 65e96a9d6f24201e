/**
 * A field label whose value is health information: "Diagnosis: …", "Dx: …",
 * "Behandlung: …", "Motif : …". Every label ends at a colon, and colons are
 * rare in prose, so the labels are read backwards from each colon (a trie of
 * the label words reversed) instead of searching the whole text with the
 * label regex.
 */
import { ASCII_WORD, SPACE, canonical, letterAt, unitClass } from './health-terms-chars.js';
import type { HealthTermSpan } from './health-terms-words.js';

/** The label words (a space: one or more whitespace characters). No label is another one with words in front, so at most one ends at a colon. */
const LABEL_WORDS = [
  'diagnosis', 'diagnoses', 'dx', 'treatment', 'reason for visit', 'reason for referral', 'reason for admission', 'chief complaint',
  'medication', 'medications', 'allergy', 'allergies', 'indication', 'symptoms', 'diagnose', 'behandlung', 'eingriff', 'befund',
  'indikation', 'anamnese', 'diagnóstico', 'tratamiento', 'motivo de consulta', 'diagnostic', 'traitement', 'motif de consultation', 'antécédents',
];

/** A label, its colon, and blanks up to the value's first letter. */
const HEALTH_LABEL = new RegExp(String.raw`\b(?:${LABEL_WORDS.map((w) => w.replace(/ /g, String.raw`\s+`)).join('|')})\s*:[ \t]*(?=\p{L})`, 'giu');

/** What a label match reads as: the label in lower case, single spaces, without its colon. */
const labelTerm = (label: string): string => label.toLowerCase().replace(/\s*:\s*$/, '').replace(/\s+/g, ' ');

/** A node of the reversed label trie: keys are characters as a case-insensitive regex without the unicode flag compares them, -1 a space. */
interface LabelNode {
  readonly next: Map<number, LabelNode>;
  /** The label ending (read forwards: starting) here, lower case with single spaces. */
  label: string | undefined;
}

const SPACE_KEY = -1;

function reversedTrie(words: readonly string[]): LabelNode {
  const root: LabelNode = { next: new Map(), label: undefined };
  for (const word of words) {
    let node = root;
    for (let i = word.length - 1; i >= 0; i--) {
      const key = word[i] === ' ' ? SPACE_KEY : canonical(word.charCodeAt(i));
      let child = node.next.get(key);
      if (!child) {
        child = { next: new Map(), label: undefined };
        node.next.set(key, child);
      }
      node = child;
    }
    node.label = labelTerm(word);
  }
  return root;
}

const REVERSED = reversedTrie(LABEL_WORDS);

const spaceAt = (units: Uint16Array, i: number): boolean => i >= 0 && i < units.length && (unitClass(units[i] as number) & SPACE) !== 0;

/** A label found backwards: where it starts, and what it reads as. */
interface LabelMatch {
  start: number;
  term: string;
}

/**
 * The label ending at `end` (exclusive), if any, starting where `\b` holds
 * (no [A-Za-z0-9_] before it); the longest one, as the regex's leftmost search would take.
 */
function labelEndingAt(text: string, units: Uint16Array, end: number, found: LabelMatch): boolean {
  let node: LabelNode | undefined = REVERSED;
  let start = -1;
  // every character taken by an ASCII edge or a space: the match reads as the node's label
  let plain = true;
  let term = '';
  for (let i = end - 1; node; ) {
    if (node.label !== undefined && (i < 0 || (unitClass(units[i] as number) & ASCII_WORD) === 0)) {
      start = i + 1;
      term = plain ? node.label : labelTerm(text.slice(start, end));
    }
    if (i < 0) break;
    const k = units[i] as number;
    const spaced: LabelNode | undefined = spaceAt(units, i) ? node.next.get(SPACE_KEY) : undefined;
    if (spaced) {
      while (spaceAt(units, i)) i--;
      node = spaced;
      continue;
    }
    if (k >= 128) plain = false;
    node = node.next.get(canonical(k));
    i--;
  }
  if (start < 0) return false;
  found.start = start;
  found.term = term;
  return true;
}

/** What HEALTH_LABEL finds in `text` (global search), in the order of the text. */
export function labelTerms(text: string, units: Uint16Array, out: HealthTermSpan[]): void {
  // ſ and the Kelvin sign are s and k to the unicode regex (and \w to its \b), not to the trie: search with the regex itself
  if (text.includes('\u017f') || text.includes('\u212a')) {
    for (const m of text.matchAll(HEALTH_LABEL)) out.push({ index: m.index, length: m[0].length, term: labelTerm(m[0]) });
    return;
  }
  const found: LabelMatch = { start: 0, term: '' };
  for (let colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', colon + 1)) {
    let end = colon;
    while (spaceAt(units, end - 1)) end--;
    if (!labelEndingAt(text, units, end, found)) continue;
    let value = colon + 1;
    while (value < units.length && (units[value] === 32 || units[value] === 9)) value++;
    if (letterAt(units, value)) out.push({ index: found.start, length: value - found.start, term: found.term });
  }
}
