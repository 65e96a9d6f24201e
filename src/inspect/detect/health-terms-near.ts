/**
 * A health term as patients type it: one letter dropped, added, changed or
 * two swapped ("migranes", "diabeties", "pnuemonia", "counselling"), and a
 * part of the body. Asked only of the word right after a possessive
 * pronoun ("my migranes", "her diabetis", "my knee is shot"), where such a
 * word is most likely the person's own health and least likely an ordinary
 * word; the words pass (health-terms-words.ts) asks it. Pure.
 *
 * One edit is found by deletions on both sides (the "symmetric delete"
 * method): a word is near a term when one of the word and its one-letter
 * deletions equals one of the term and its one-letter deletions. Only
 * single-word terms of MIN_LETTERS letters or more are read, and a word is
 * tried from that length: shorter words have too many ordinary neighbours
 * ("cancer" and "cancel").
 */

/** The fewest letters a word after a possessive pronoun needs to be looked at (a body part's: "hip"). */
export const MIN_POSSESSED_LETTERS = 3;
/** The fewest letters a term and a word need for a near match. */
export const MIN_LETTERS = 8;
/** The most letters a word tried may have (longer words are not typed wrong this way often enough to pay for the deletions). */
const MAX_LETTERS = 24;

/**
 * Ordinary English words one edit from a term of the dictionary, which a
 * possessive pronoun may well stand before ("sorry for my spelling", "her
 * dwelling", "my admissions essay"). Found by running every word of a
 * 275 000-word English list through `nearTermOf` (see docs/dlp.md); the
 * words that are themselves health words (injection, infections …) are
 * left out of this list, as are the rare ones.
 */
const ORDINARY_WORDS: ReadonlySet<string> = new Set([
  'aborting', 'acetates', 'actuates', 'admissions', 'ambulate', 'anthologies', 'anthology', 'augmenting', 'bleeping',
  'blending', 'breeding', 'clutches', 'concession', 'concessions', 'conclusion', 'conclusions', 'confusion', 'confusions', 'crotches', 'crouches',
  'crunches', 'depressing', 'dwelling', 'effluxes', 'expression', 'expressions', 'expressive', 'factures', 'galleries', 'germinal',
  'grossness', 'impatient', 'inflection', 'inflections', 'lactases', 'mediation', 'mediations', 'meditation', 'meditations', 'morphing', 'omitting',
  'ontologies', 'ontology', 'overdone', 'parental', 'placates', 'plantlets', 'proscription', 'proscriptions', 'reflexes', 'repression',
  'repressions', 'repressive', 'sellings', 'shelling', 'shingled', 'singlets', 'smelling', 'snelling', 'spelling', 'spilling', 'sprinted',
  'stationer', 'strained', 'swilling', 'synopses', 'terminals', 'tweezing', 'wheeling',
]);

/** The word with each one of its letters left out, in turn. */
function deletions(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1));
  return out;
}

/** What `nearTermOf` reads: the terms themselves, and each one-letter deletion of a term with the term it came from. */
export interface NearTermIndex {
  readonly terms: ReadonlySet<string>;
  readonly deleted: ReadonlyMap<string, string>;
}

/** The index of `terms`' single words of MIN_LETTERS letters or more (lower case; a deletion two terms share names the first). */
export function nearTermIndex(terms: readonly string[]): NearTermIndex {
  const words = terms.filter((t) => /^\p{Ll}+$/u.test(t) && [...t].length >= MIN_LETTERS);
  const deleted = new Map<string, string>();
  for (const term of words) for (const d of deletions(term)) if (!deleted.has(d)) deleted.set(d, term);
  return { terms: new Set(words), deleted };
}

/**
 * The term one edit from `word` (lower case), or undefined: none near, the
 * word is a term already, an ordinary word (ORDINARY_WORDS), or a term with
 * an "s" added (a plural the dictionary leaves out on purpose: "admissions").
 */
export function nearTermOf(index: NearTermIndex, word: string): string | undefined {
  if (word.length < MIN_LETTERS || word.length > MAX_LETTERS || index.terms.has(word) || ORDINARY_WORDS.has(word)) return undefined;
  if (word.endsWith('s') && index.terms.has(word.slice(0, -1))) return undefined;
  const dropped = index.deleted.get(word);
  if (dropped !== undefined) return dropped;
  for (const d of deletions(word)) {
    if (index.terms.has(d)) return d;
    const changed = index.deleted.get(d);
    if (changed !== undefined) return changed;
  }
  return undefined;
}

/**
 * Parts of the body that, right after a possessive pronoun, are the
 * person's health ("my knee is shot", "her hip", "his ankle is swollen
 * again"): alone they are too common to be health words ("knee-high", "hip
 * hop"). Not "back", "heart", "eyes", "hand" or "skin": "your back office",
 * "my heart goes out", "your eyes only", "my hand-off", "your skin care line".
 */
const POSSESSED_BODY_PARTS: ReadonlySet<string> = new Set([
  'knee', 'knees', 'hip', 'hips', 'shoulder', 'shoulders', 'ankle', 'ankles', 'wrist', 'wrists', 'elbow', 'elbows', 'spine', 'toe', 'toes', 'leg', 'legs',
  'stomach', 'belly', 'throat', 'lungs', 'teeth', 'tooth', 'gums', 'bones', 'joints', 'sinuses', 'bowels', 'incision', 'stitches', 'mouth',
  // and what a person with diabetes calls their readings ("my sugar was 300"), and their medicine ("his medicine")
  'sugar', 'sugars', 'medicine', 'medicines',
]);

/** The health term a word right after a possessive pronoun is (lower case): a part of the body (POSSESSED_BODY_PARTS), or a term typed one edit wrong (nearTermOf). */
export function possessedTermOf(index: NearTermIndex, word: string): string | undefined {
  return POSSESSED_BODY_PARTS.has(word) ? word : nearTermOf(index, word);
}
