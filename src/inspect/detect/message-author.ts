/**
 * A message about its own author's health: the From header names a person
 * ("Omar Sheikh <omar.sheikh@mail.example>") and the author's own words —
 * the text before any quoted or forwarded message — say "my" and a health
 * term of their own ("I ran out of my seizure meds", "my blood pressure
 * pills"; not "my patient's", "my team's": myOwnHealth). The display name
 * and the address identify the person the health information is about, as
 * a signature under the same words would (signedAuthors). A clinician's
 * display name ("Dr. …") is not taken for one. Only "my" with the term:
 * the first person with a health term anywhere in a sentence ("I started
 * him on metformin") is how clinicians write about their patients too (on
 * the probe sets it protected thirty messages more without need and eight
 * more with). Pure.
 */
import { personOf } from './reader.js';
import { theirOwnHealthIn, type PersonAnchor } from './person-mentions.js';
import { CLINICIAN_TITLE, kinHealthEnds, myOwnHealth, speaksOfOwnHealth } from './signed-author.js';

/** Where a quoted or forwarded message starts: a quoted line, an "Original Message" or forward rule, a From or "wrote:" line. */
const QUOTED_START = /^[ \t]*(?:>|-{2,}[ \t]*(?:Original Message|Forwarded message)|(?:From|De|Von)[ \t]*:|On[ \t][^\n]{4,120}wrote:)/im;
/** How far into the message the author's own words are read. */
const OWN_WORDS_REACH = 4000;

/** One anchor on the author's "my" when a From display name names a person and the author's own words tell their own health; none otherwise. */
export function authorAnchors(text: string, authorNames: readonly string[], personalAuthor = false): PersonAnchor[] {
  if (!authorNames.some((name) => !CLINICIAN_TITLE.test(name.trim()) && personOf(name) !== undefined)) return [];
  const head = text.slice(0, OWN_WORDS_REACH);
  const quoted = QUOTED_START.exec(head);
  const to = quoted === null ? head.length : quoted.index;
  // the author's own health ("my seizure meds"), or their family member's ("my mother … her hip"): the From name identifies both
  const end = myOwnHealth(text, 0, to);
  const at = end >= 0 ? end : (kinHealthEnds(text, 0, to)[0] ?? -1);
  if (at >= 0) return [{ kind: 'message-author', index: Math.max(0, at - 2), length: Math.min(2, at) }];
  // from a personal mailbox, the author is a patient or a family member, not staff: any first person with a health
  // term in its sentence is their own health, "his"/"her" with one a relative's the author speaks for
  if (personalAuthor && (speaksOfOwnHealth(text, 0, to) || theirOwnHealthIn(text, 0, to))) return [{ kind: 'message-author', index: 0, length: Math.min(2, to) }];
  return [];
}
