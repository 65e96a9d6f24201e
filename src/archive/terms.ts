/**
 * Search terms of an archive entry (pure, no I/O). Subjects are kept
 * encrypted, so they cannot be searched as text; instead each subject word
 * is stored as a keyed hash (HMAC-SHA256 under a key derived from a master
 * key), which answers "does the subject contain this word" without holding
 * the word. Someone with the database alone cannot read or test words
 * without the master key. DLP categories are stored as they are (names,
 * never values).
 *
 * A word: a run of letters and digits (Unicode), NFKC-normalised and lower
 * case, 2 to 64 characters; at most MAX_SUBJECT_TERMS distinct words per
 * subject. Search splits the query the same way, so "Lab results" finds a
 * subject "Re: LAB RESULTS for March" (every query word must be present).
 */
import { createHmac } from 'node:crypto';
import type { Keyring, MasterKey } from '../crypto/keyring.js';

export const MAX_SUBJECT_TERMS = 64;
const MIN_WORD = 2;
const MAX_WORD = 64;
/** The prefix of a subject-word term (then 32 hex characters: 128 bits of the HMAC). */
export const SUBJECT_TERM_PREFIX = 's:';
export const CATEGORY_TERM_PREFIX = 'category:';

/** Distinct words of `text`, in order of first appearance, at most `max`. */
export function subjectWords(text: string, max = MAX_SUBJECT_TERMS): string[] {
  const out = new Set<string>();
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (w.length < MIN_WORD || w.length > MAX_WORD) continue;
    out.add(w);
    if (out.size >= max) break;
  }
  return [...out];
}

/** The key subject words are hashed under, derived from one master key (never stored). */
export function termKey(master: MasterKey): Buffer {
  return createHmac('sha256', master.key).update('sealgate-archive-subject-terms-v1').digest();
}

/** The stored term of one word under one term key. */
export function subjectTerm(key: Buffer, word: string): string {
  return SUBJECT_TERM_PREFIX + createHmac('sha256', key).update(word, 'utf8').digest('hex').slice(0, 32);
}

/** The terms to store for a new entry's subject (under the current master key). */
export function subjectTerms(keyring: Keyring, subject: string): string[] {
  const key = termKey(keyring.current);
  return subjectWords(subject).map((w) => subjectTerm(key, w));
}

/**
 * For a search: per query word, the terms it may be stored as (one per
 * master key in the keyring, so entries written before a key rotation are
 * still found while the old key is kept in keys.previousKeyFiles).
 */
export function queryTerms(keyring: Keyring, query: string): string[][] {
  const keys = [keyring.current, ...keyring.previous].map(termKey);
  return subjectWords(query).map((w) => keys.map((k) => subjectTerm(k, w)));
}

export function categoryTerm(category: string): string {
  return CATEGORY_TERM_PREFIX + category;
}
