/**
 * Names typed in lower case, as notes typed on a phone and patients'
 * messages write them: a common given name (given-names.ts) and a word that
 * reads as a surname, looked for only in the sentence before a health term
 * (most words are no name), and counted only with the person's own care
 * after it or the writer naming themselves. Pure.
 */
import { lowerCaseName } from './given-names.js';
import { sharedHealthTermSpans } from './health-terms.js';
import { personLike, titleCase } from './names.js';
import { partBefore, PATIENT_CUE_AFTER, pronounHealthAfter, staff, type PersonAnchor } from './person-mentions.js';
import { selfNamed, selfNamedOwnHealth } from './signed-author.js';
import { OverlapIndex } from './spans.js';

/** Health terms looked back from (a long text's first ones say what the rest would). */
const MAX_TERMS_LOOKED_BACK = 300;
/** How far before a health term a name typed in lower case is looked for (its sentence, at most). */
const LOWER_NAME_REACH = 160;
/** A word typed in lower case (its start and its letters). */
const LOWER_WORD = /(?<![\p{L}\d'’@._/-])\p{Ll}[\p{Ll}'’-]{1,24}(?![\p{L}\d@])/gu;

/**
 * Names typed in lower case, as notes typed on a phone write them ("ruth
 * walters in 4E-12 pulled her PICC", "put maria delgado in for tues for her
 * INR", "hi its tom reyes, dr lee started me on the amlodipine"): a common
 * given name (GIVEN_NAMES) and a word that reads as a surname, in the
 * sentence before a health term, with "her", "his" or "their" and that
 * term of the person's own after the name (or a patient cue), or the
 * writer naming themselves and speaking of their own health around it. Found by
 * looking back from the health terms (most words are no name).
 */
export function lowerCaseGivenNames(text: string, taken: readonly PersonAnchor[]): PersonAnchor[] {
  const terms = sharedHealthTermSpans(text);
  if (terms.length === 0) return [];
  const out: PersonAnchor[] = [];
  const found = new OverlapIndex(taken);
  // each character is read once: a window starts where the one before ended (a pair across that end overlaps the term before)
  let read = 0;
  for (const term of terms.slice(0, MAX_TERMS_LOOKED_BACK)) {
    const from = Math.max(read, term.index - LOWER_NAME_REACH);
    read = Math.max(read, term.index);
    if (from >= term.index) continue;
    const window = text.slice(from, term.index);
    const words = [...window.matchAll(LOWER_WORD)];
    for (let k = 0; k + 1 < words.length; k++) {
      const first = words[k] as RegExpMatchArray;
      const last = words[k + 1] as RegExpMatchArray;
      const index = from + (first.index ?? 0);
      const end = from + (last.index ?? 0) + last[0].length;
      if (!lowerCaseName(first[0], last[0]) || !personLike(`${titleCase(first[0].toUpperCase())} ${titleCase(last[0].toUpperCase())}`)) continue;
      // one blank between the two words, not a name found already
      if (!/^[ \t]+$/.test(text.slice(from + (first.index ?? 0) + first[0].length, from + (last.index ?? 0))) || found.overlaps(index, end - index)) continue;
      const before = partBefore(text, index, 20);
      const own = selfNamed(before) ? selfNamedOwnHealth(text, index, end) : pronounHealthAfter(text, end) || PATIENT_CUE_AFTER.test(text.slice(end, end + 40));
      if (own && !staff(text, index, end - index)) out.push({ kind: 'named-patient', index, length: end - index });
    }
  }
  return out;
}
