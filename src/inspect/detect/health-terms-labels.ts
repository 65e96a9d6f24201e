/**
 * A field label whose value is health information: "Diagnosis: …", "Dx: …",
 * "Behandlung: …", "Motif : …". Every label ends at a colon, and colons are
 * rare in prose, so the labels are read backwards from each colon (a trie of
 * the label words reversed) instead of searching the whole text with the
 * label regex.
 */
import { ASCII_WORD, SPACE, letterAt, unitClass } from './health-terms-chars.js';
import { NO_NODE, ROOT, type TermTrie, buildTermTrie, childOf, endsTerm } from './health-terms-trie.js';
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

/** The label words reversed, in a term trie (keys compared as a case-insensitive regex without the unicode flag compares them, a space one or more whitespace characters). */
const REVERSED = buildTermTrie(LABEL_WORDS.map(reversed));

/** The label each node of REVERSED ends (read forwards: starts), lower case with single spaces. */
const LABEL_AT = new Map(LABEL_WORDS.map((word) => [endNode(REVERSED, reversed(word)), labelTerm(word)]));

function reversed(word: string): string {
  return [...word].reverse().join('');
}

/** The node a word (ASCII, single spaces) leads to from the root. */
function endNode(trie: TermTrie, word: string): number {
  let node = ROOT;
  for (let i = 0; i < word.length; i++) node = word[i] === ' ' ? (trie.spaced[node] as number) : childOf(trie, node, word.charCodeAt(i));
  return node;
}

/** The ASCII units a label or the blanks before its colon can end with (by code): a colon after any other is no label's. */
const BEFORE_COLON = new Uint8Array(128);
for (let c = 0; c < 128; c++) BEFORE_COLON[c] = childOf(REVERSED, ROOT, c) !== NO_NODE || (unitClass(c) & SPACE) !== 0 ? 1 : 0;

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
  let node = ROOT;
  let start = -1;
  let at = ROOT;
  for (let i = end - 1; node !== NO_NODE; ) {
    if (endsTerm(REVERSED, node) && (i < 0 || (unitClass(units[i] as number) & ASCII_WORD) === 0)) {
      start = i + 1;
      at = node;
    }
    if (i < 0) break;
    const spaced = REVERSED.spaced[node] as number;
    if (spaced !== NO_NODE && spaceAt(units, i)) {
      while (spaceAt(units, i)) i--;
      node = spaced;
      continue;
    }
    node = childOf(REVERSED, node, units[i] as number);
    i--;
  }
  if (start < 0) return false;
  found.start = start;
  // written in ASCII (and spaces), the match reads as the label; else as the regex's match would
  found.term = asciiOrSpace(units, start, end) ? (LABEL_AT.get(at) as string) : labelTerm(text.slice(start, end));
  return true;
}

function asciiOrSpace(units: Uint16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((units[i] as number) >= 128 && (unitClass(units[i] as number) & SPACE) === 0) return false;
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
    // most colons follow a unit no label ends with (a digit in "10:30", a colon, a "p" in "http:")
    const before = colon > 0 ? (units[colon - 1] as number) : 0;
    if (before < 128 && BEFORE_COLON[before] === 0) continue;
    let end = colon;
    while (spaceAt(units, end - 1)) end--;
    if (!labelEndingAt(text, units, end, found)) continue;
    let value = colon + 1;
    while (value < units.length && (units[value] === 32 || units[value] === 9)) value++;
    if (letterAt(units, value)) out.push({ index: found.start, length: value - found.start, term: found.term });
  }
}
