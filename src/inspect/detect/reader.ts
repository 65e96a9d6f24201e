/**
 * A letter to its reader about the reader's own health: the message's To
 * header names a person ("Priya Raman <priya.raman@inbox.example>"), the
 * text greets them by their first name ("Hi Priya - confirming your allergy
 * shot …", "Hola María:") and then speaks of "your" health or care
 * (addressedAboutTheirHealth). The reader's name and address identify the
 * person the health information is about, as a full name in the greeting
 * would. Pure.
 */
import { GREETING_WORDS } from './greetings.js';
import { personLike } from './names.js';
import { addressedAboutTheirHealth, theirOwnHealthAt, type PersonAnchor } from './person-mentions.js';
import { escapeRegExp } from './personal.js';

/** An honorific the greeting may put before the name. */
const HONORIFIC = String.raw`(?:mr|mrs|ms|mx|miss|sr|sra|srta|mme|mlle|herr|frau)\.?`;

/** How far into a part of the message a greeting may stand (after the subject, a quoted header or two). */
const GREETING_REACH = 600;

/** The first and last words of a display name that names a person ("Raman, Priya" read as "Priya Raman"), or undefined. */
export function personOf(displayName: string): { first: string; last: string } | undefined {
  const name = displayName.includes(',') ? displayName.split(',').reverse().join(' ') : displayName;
  const words = name.replace(/["']/g, '').trim().split(/\s+/);
  if (words.length < 2 || words.length > 4) return undefined;
  const first = words[0] ?? '';
  const last = words[words.length - 1] ?? '';
  // a recipient is a person: a word that is a place's as often ("Steven Park") does not refuse the name
  if (first.length < 2 || !personLike(words.join(' '), true)) return undefined;
  return { first, last };
}

/**
 * Where the text greets one of `readerNames` by first name (or first and
 * last) at a line's start, with the letter about their own health after
 * it: one anchor per greeting (the name's span), at most one per reader.
 */
export function readerAnchors(text: string, readerNames: readonly string[]): PersonAnchor[] {
  const out: PersonAnchor[] = [];
  for (const displayName of readerNames) {
    const person = personOf(displayName);
    if (!person) continue;
    const name = `${escapeRegExp(person.first)}(?:[ \\t]+${escapeRegExp(person.last)})?`;
    const greeting = new RegExp(`(?:^|[\\n\\f])[ \\t]*(?:${GREETING_WORDS}[ \\t,]+)?(?:${HONORIFIC}[ \\t]+)?(${name})[ \\t]*(?:[,:!–—-]|$)`, 'gimu');
    for (let m = greeting.exec(text); m; m = greeting.exec(text)) {
      const index = m.index + m[0].indexOf(m[1] ?? '');
      if (!inGreetingReach(text, index)) continue;
      const end = m.index + m[0].length;
      if (addressedAboutTheirHealth(text, end)) {
        out.push({ kind: 'addressed-reader', index, length: (m[1] ?? '').length });
        break;
      }
      // the reader's family member: the reader identifies them, and their health is where the letter tells it (it may
      // stand further from the greeting than a finding's reach), so the person stands there too
      const family = familyMemberHealthAt(text, end);
      if (family >= 0) {
        out.push({ kind: 'addressed-reader', index, length: (m[1] ?? '').length }, { kind: 'addressed-reader', index: family, length: /^\p{L}+/u.exec(text.slice(family, family + 8))?.[0].length ?? 0 });
        break;
      }
    }
  }
  return out;
}

/** The reader's family member, as a letter to a caregiver names them ("your dad", "your mother's", "su padre"). */
const YOUR_FAMILY =
  /(?<![\p{L}])(?:your|su|ihre?[mnrs]?|votre)[ \t]+(?:dad|father|mom|mum|mother|son|daughter|husband|wife|child|baby|parent|grandmother|grandfather|grandma|grandpa|padre|madre|hijo|hija|esposo|esposa|vater|mutter|sohn|tochter|mann|frau|père|mère|fils|fille|mari|femme)(?:['’]s)?(?![\p{L}])/iu;
/** How far after the greeting the family member is named, and after that how far their health may be told. */
const FAMILY_REACH = 600;
const FAMILY_HEALTH_REACH = 1500;

/**
 * A letter to a caregiver about the reader's family member: "your dad"
 * (Spanish, German and French forms too) within FAMILY_REACH characters of
 * the greeting, then "his" / "her" / "their" and a health term of their own
 * within FAMILY_HEALTH_REACH ("… increase his donepezil"). The reader named
 * in the To header identifies the person the letter is about.
 */
function familyMemberHealthAt(text: string, from: number): number {
  const family = YOUR_FAMILY.exec(text.slice(from, from + FAMILY_REACH));
  if (family === null) return -1;
  const start = from + family.index + family[0].length;
  return theirOwnHealthAt(text, start, start + FAMILY_HEALTH_REACH);
}

/** Whether `index` is within GREETING_REACH characters of the start of its part of the message (a form feed starts a part). */
function inGreetingReach(text: string, index: number): boolean {
  const partStart = text.lastIndexOf('\f', index) + 1;
  return index - partStart <= GREETING_REACH;
}
