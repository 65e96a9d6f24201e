/**
 * A message about its author's own health, signed with their name: a
 * patient's note or letter ("After my triple bypass … my ejection fraction
 * is up to 50%. - Gerald Okafor, Westerville"), often pasted or quoted in a
 * staff member's mail. "my" with a health term of the writer's own, then,
 * within SIGNER_REACH characters and in the same part of the message, a
 * line that is a person's name alone (a dash before it, a town after it
 * allowed). The name stands in the signature, which is why the verdict
 * keeps this anchor there. Pure.
 */
import { personLike } from './names.js';
import { ownHealthAfterPronoun, staff, type PersonAnchor } from './person-mentions.js';
import { PART_BREAK_MARK } from './signature.js';

const MY = /(?<![\p{L}])[Mm]y(?![\p{L}])/gu;
/** "my patient", "my team": the writer's work, not their health. */
const MY_WORK = /^[ \t]+(?:patients?|patient['’]s|team|unit|clinic|practice|staff|department|dept|residents?|nurses?|colleagues?|students?|clients?)(?![\p{L}])/iu;
/** A line that is a name alone: a dash or a quote mark before it, a comma and a town (or a closing quote) after it allowed. */
const SIGNER_LINE = /^[ \t>]*(?:[-–—~][ \t]*)?"?(\p{Lu}[\p{L}'’-]+(?:[ \t]+\p{Lu}\.?)?(?:[ \t]+\p{Lu}[\p{L}'’-]+){1,2})[ \t]*(?:,[ \t]*\p{Lu}[\p{L} .'’-]{0,40})?["”]?[ \t]*$/u;
/** How far after the health mention the signer's line may start. */
const SIGNER_REACH = 600;

/** The name signing a text about its author's own health: at most one anchor (the first such "my" with a signer). */
export function signedAuthors(text: string): PersonAnchor[] {
  MY.lastIndex = 0;
  for (let m = MY.exec(text); m; m = MY.exec(text)) {
    const end = m.index + m[0].length;
    if (MY_WORK.test(text.slice(end, end + 24)) || !ownHealthAfterPronoun(text, end)) continue;
    const signer = signerAfter(text, end);
    MY.lastIndex = 0;
    return signer ? [signer] : [];
  }
  MY.lastIndex = 0;
  return [];
}

/** The first line after `from` (within SIGNER_REACH, in the same part) that is a person's name alone, not staff's. */
function signerAfter(text: string, from: number): PersonAnchor | undefined {
  let limit = Math.min(text.length, from + SIGNER_REACH);
  const part = text.indexOf(PART_BREAK_MARK, from);
  if (part >= 0 && part < limit) limit = part;
  let start = text.indexOf('\n', from) + 1;
  while (start > 0 && start < limit) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 || nl > limit ? limit : nl;
    const m = SIGNER_LINE.exec(text.slice(start, end));
    if (m && m[1] !== undefined) {
      const index = start + m[0].indexOf(m[1]);
      if (personLike(m[1]) && !staff(text, index, m[1].length)) return { kind: 'signed-author', index, length: m[1].length };
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  return undefined;
}
