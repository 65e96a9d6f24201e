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
import { sharedHealthTermSpans } from './health-terms.js';
import { lowerCaseName } from './given-names.js';
import { personLike } from './names.js';
import { NOT_OWN_HEALTH, ownHealthAfterPronoun, theirOwnHealthIn, titledStaff, wordAfter, type PersonAnchor } from './person-mentions.js';
import { PART_BREAK_MARK } from './signature.js';
import { firstStartingFrom } from './spans.js';

/** "my" (Spanish "mi", "mis"; German "mein", "meine" …): the writer speaks of their own things. */
const MY = /(?<![\p{L}])(?:[Mm]y|[Mm]is?|[Mm]eine?[mnrs]?)(?![\p{L}])/gu;
/** "my patient", "my team": the writer's work, not their health. */
const MY_WORK = /^[ \t]+(?:patients?|patient['’]s|team|unit|clinic|practice|staff|department|dept|residents?|nurses?|colleagues?|students?|clients?|pacientes?|equipo|clínica|consultorio|patienten|praxis|station)(?![\p{L}])/iu;
/** A line that is a name alone: a dash or a quote mark before it, a comma and a town (or a closing quote) after it allowed. */
const SIGNER_LINE = /^[ \t>]*(?:[-–—~][ \t]*)?"?(\p{Lu}[\p{L}'’-]+(?:[ \t]+\p{Lu}\.?)?(?:[ \t]+\p{Lu}[\p{L}'’-]+){1,2})[ \t]*(?:,[ \t]*\p{Lu}[\p{L} .'’-]{0,40})?["”]?[ \t]*$/u;
/** A line that is a name typed in lower case alone ("tyrone ellis", "- maria lopez"). */
const LOWER_SIGNER_LINE = /^[ \t>]*(?:[-–—~][ \t]*)?(\p{Ll}[\p{Ll}'’-]+)[ \t]+(\p{Ll}[\p{Ll}'’-]+)[ \t]*\r?$/u;
/** How far after the health mention the signer's line may start. */
const SIGNER_REACH = 600;

/**
 * The name signing a text about its author's own health (at most one anchor: the first such "my" with a signer), or
 * about the author's family member (kinHealthEnds: "Dad fell again … his hip" signed "Karen Kowalczyk" — the writer's
 * name identifies their father), or a caregiver's signature naming the person whose health the text tells
 * (caregiverSigners).
 */
export function signedAuthors(text: string): PersonAnchor[] {
  const end = myOwnHealth(text, 0, text.length);
  const signer = end < 0 ? undefined : signerAfter(text, end);
  if (signer) return [signer];
  for (const kinEnd of kinHealthEnds(text, 0, text.length)) {
    const kinSigner = signerAfter(text, kinEnd);
    if (kinSigner) return [kinSigner];
  }
  return caregiverSigners(text);
}

/**
 * The writer's own family member: "my mother", "our son", "my 7-year-old daughter", Spanish "mi hijo", Portuguese
 * "minha mãe", Haitian Creole "pitit mwen"; "Dad" or "Mom" used as a name ("Dad's visit", "Mom fell").
 */
const KIN =
  /(?<![\p{L}])(?:(?:[Mm]y|[Oo]ur|[Mm]is?|[Nn]uestr[oa]s?|[Mm]inhas?|[Mm]eus?)[ \t]+(?:(?:elderly|older|little|baby|younger|oldest|youngest|teenage|\d{1,2}[- ]?(?:year|yr)[- ]old|pequeñ[oa])[ \t]+)?(?:mom|mum|mother|dad|father|son|daughter|husband|wife|spouse|child|kid|baby|boy|girl|grandmother|grandfather|grandma|grandpa|granddaughter|grandson|brother|sister|mamá|mama|madre|papá|papa|padre|hij[oa]s?|espos[oa]|abuel[oa]|niñ[oa]|herman[oa]|mãe|pai|filh[oa]|marido)|(?:Dad|Mom|Mum)(?=['’]s[ \t]|[ \t]+(?:is|has|was|had|keeps|kept|fell|can|can['’]t|cannot|doesn['’]t|does|did|seems|got|gets|still|says|said|started|stopped|needs|woke|went)(?![\p{L}])))(?![\p{L}])/gu;
/** A place's name, not the person's health: "at the cancer center", "to the heart institute". */
const PLACE_BEFORE = /(?<![\p{L}])(?:at|in|to|from|near|for|with)[ \t]+(?:the|a|an|our|their|his|her)?[ \t]*$/iu;
const PLACE_AFTER = /^(?:cent(?:er|re)s?|hospitals?|institutes?|foundations?|society|associations?|building|campus|walk|run|gala|drive|camp|fundraiser)$/iu;
/** How far after a family member's mention a health term of theirs is read, in the same paragraph. */
const KIN_REACH = 240;

/**
 * Where each mention of the writer's family member in text[from, to) ends that a health term follows within KIN_REACH
 * characters and before a blank line, not a department's, a team's or an event's (NOT_OWN_HEALTH: "my son works at
 * the cancer center" is not his health).
 */
export function kinHealthEnds(text: string, from: number, to: number): number[] {
  const body = from === 0 && to === text.length ? text : text.slice(from, to);
  const terms = sharedHealthTermSpans(text);
  const ends: number[] = [];
  KIN.lastIndex = 0;
  for (let m = KIN.exec(body); m; m = KIN.exec(body)) {
    const end = from + m.index + m[0].length;
    const term = terms[firstStartingFrom(terms, end)];
    if (term === undefined || term.index >= end + KIN_REACH || term.index >= to) continue;
    const between = text.slice(end, term.index);
    const after = wordAfter(text, term.index + term.length);
    if (/\n[ \t]*\r?\n/.test(between) || NOT_OWN_HEALTH.test(between) || NOT_OWN_HEALTH.test(after) || PLACE_BEFORE.test(between) || PLACE_AFTER.test(after)) continue;
    ends.push(end);
  }
  KIN.lastIndex = 0;
  return ends;
}

/** A family member or caregiver as a signature says it: "(Daniel's mom)", ", mother of Daniel Jennings", "parent/guardian of Eli Whitlock", Spanish and Portuguese "Mamá de Mateo Quintanilla", "mãe de …". */
const CAREGIVER_OF =
  /(?<![\p{L}])(?:(\p{Lu}[\p{L}'’-]+)['’]s[ \t]+(?:mom|mum|mother|dad|father|wife|husband|son|daughter|sister|brother|caregiver|guardian|grandmother|grandfather|grandma|grandpa)|(?:mom|mum|mother|dad|father|parent|guardian|parent\/guardian|caregiver|daughter|son|wife|husband)[ \t]+of[ \t]+(\p{Lu}[\p{L}'’-]+(?:[ \t]+\p{Lu}[\p{L}'’-]+)?)|(?:[Mm]am[áa]|[Mm]adre|[Pp]ap[áa]|[Pp]adre|[Aa]buel[oa]|[Tt]utora?|[Mm]ãe|[Pp]ai|[Hh]ij[oa]|[Ee]spos[oa])[ \t]+de[ \t]+(\p{Lu}[\p{L}'’-]+(?:[ \t]+\p{Lu}[\p{L}'’-]+)?))(?![\p{L}])/u;
/** How far before the signature's line the text is read for the person's health. */
const CAREGIVER_REACH = 1500;

/**
 * A caregiver's signature naming the person the text is about ("Carol
 * Jennings (Daniel's mom)", "parent/guardian of Eli Whitlock"), after a
 * text that tells that person's own health ("his Abilify shot", "her
 * insulin"): the signature's line identifies them, with the writer's name.
 * One anchor, on the signature's line (the names in it), or none.
 */
function caregiverSigners(text: string): PersonAnchor[] {
  const m = CAREGIVER_OF.exec(text);
  if (m === null) return [];
  const lineStart = text.lastIndexOf('\n', m.index) + 1;
  const from = Math.max(0, lineStart - CAREGIVER_REACH);
  if (!theirOwnHealthIn(text, from, lineStart) && kinHealthEnds(text, from, lineStart).length === 0) return [];
  const lineEnd = text.indexOf('\n', m.index);
  return [{ kind: 'signed-author', index: lineStart, length: (lineEnd < 0 ? text.length : lineEnd) - lineStart }];
}

/** Where the first "my" in text[from, to) ends that a health term of the writer's own follows ("my triple bypass"; not "my patient's", "my team's"), or -1. */
export function myOwnHealth(text: string, from: number, to: number): number {
  const body = from === 0 && to === text.length ? text : text.slice(from, to);
  MY.lastIndex = 0;
  for (let m = MY.exec(body); m; m = MY.exec(body)) {
    const end = from + m.index + m[0].length;
    if (!MY_WORK.test(text.slice(end, end + 24)) && ownHealthAfterPronoun(text, end)) {
      MY.lastIndex = 0;
      return end;
    }
  }
  MY.lastIndex = 0;
  return -1;
}

/** `limit`, or the end of the part of the message that holds `from` when that comes sooner (a form feed starts the next part). */
function withinPart(text: string, from: number, limit: number): number {
  const part = text.indexOf(PART_BREAK_MARK, from);
  return part >= 0 && part < limit ? part : limit;
}

/** The first line after `from` (within SIGNER_REACH, in the same part) that is a person's name alone, not staff's (a sign-off before it is how a patient signs too: "Thank you,\nCarla Jimenez"). */
function signerAfter(text: string, from: number): PersonAnchor | undefined {
  const limit = withinPart(text, from, Math.min(text.length, from + SIGNER_REACH));
  let start = text.indexOf('\n', from) + 1;
  while (start > 0 && start < limit) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 || nl > limit ? limit : nl;
    const line = text.slice(start, end);
    const m = SIGNER_LINE.exec(line);
    if (m && m[1] !== undefined) {
      const index = start + m[0].indexOf(m[1]);
      if (personLike(m[1]) && !titledStaff(text, index, m[1].length)) return { kind: 'signed-author', index, length: m[1].length };
    }
    // a name signed in lower case, as a phone types it ("tyrone ellis"): a given name and a surname
    const lower = LOWER_SIGNER_LINE.exec(line);
    const [, first = '', last = ''] = lower ?? [];
    if (lower && lowerCaseName(first, last)) {
      const from = lower[0].indexOf(first);
      return { kind: 'signed-author', index: start + from, length: lower[0].lastIndexOf(last) + last.length - from };
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  return undefined;
}

/** A quoted or forwarded message's author line: "From: Sandra Whitfield <swhit@…>" (also "> From:", "De:", "Von:"), or "On …, Leonard Fitch <lfitch@…> wrote:" ("wrote:" wrapped onto the next line too). */
const AUTHOR_LINE =
  /^[ \t>]*(?:(?:From|De|Von)[ \t]*:[ \t]*"?(\p{Lu}[\p{L}'’. -]{1,60}?)"?[ \t]*<[^<>\n@]{1,64}@[^<>\n]{1,255}>|On[ \t][^\n]{4,80}?[, \t]"?(\p{Lu}[\p{L}'’. -]{1,60}?)"?[ \t]*<[^<>\n@]{1,64}@[^<>\n]{1,255}>(?:[ \t]*|[ \t]*\r?\n[ \t>]*)wrote:)[ \t]*\r?$/gmu;
/**
 * The first person speaking ("I", "I'm", "I've"; typed in lower case or
 * without the apostrophe too: "i", "im", "ive"; "my", "me" of a clause that
 * tells the term: "the rash on my arm"; Spanish "yo", "tengo", "estoy",
 * "soy", German "ich", French "je", "j'ai", Portuguese "eu", Haitian Creole
 * "mwen", Vietnamese "tôi", Tagalog "ako", Russian "я", Arabic "أنا"), not
 * "I" of a Roman numeral list.
 */
const FIRST_PERSON = /(?<![\p{L}\d])(?:[Ii]|[Ii]['’]?m|[Ii]['’]?ve|I['’]d|[Mm]y|me|[Yy]o|[Tt]engo|[Ee]stoy|[Ss]oy|[Ii]ch|[Jj]e|[Jj]['’]ai|[Ee]u|[Mm]wen|[Tt]ôi|[Aa]ko|[Яя]|أنا)(?![\p{L}\d])/gu;

/**
 * A writer naming themselves before the name ("hi its tom reyes", "this is
 * Dario Pineda", "my name is …"; "me llamo", "soy", "je m'appelle", "c'est",
 * "ich bin", "ich heiße", "meu nome é", "aqui é", "mwen rele", "Se … ki ekri
 * w", "tôi tên là", "ako si", "меня зовут", "اسمي").
 */
const SELF_NAMED_BEFORE =
  /(?:\bit['’]?s|\bthis[ \t]+is|\bi['’]?m|\bi[ \t]+am|\bmy[ \t]+name[ \t]+is|\bme[ \t]+llamo|\bmi[ \t]+nombre[ \t]+es|\bsoy|\bje[ \t]+m['’]appelle|\bc['’]est|\bich[ \t]+bin|\bich[ \t]+hei(?:ß|ss)e|\bmein[ \t]+name[ \t]+ist|\bmeu[ \t]+nome[ \t]+é|\baqui[ \t]+é|\bmwen[ \t]+rele|(?:^|[.!?,][ \t]+|\n)se|\bt[ôo]i[ \t]+t[êe]n[ \t]+l[àa]|\bako[ \t]+si|меня[ \t]+зовут|اسمي)[ \t]+$/iu;
/** How far around a writer's own name their health is read. */
const SELF_NAMED_REACH = 300;

/** Whether the text before a name (its last words) is a writer naming themselves (SELF_NAMED_BEFORE). */
export function selfNamed(before: string): boolean {
  return SELF_NAMED_BEFORE.test(before);
}

/** Whether a writer who named themselves at text[index, end) speaks of their own health within SELF_NAMED_REACH characters around the name, in its part of the message. */
export function selfNamedOwnHealth(text: string, index: number, end: number): boolean {
  const from = Math.max(text.lastIndexOf(PART_BREAK_MARK, index) + 1, index - SELF_NAMED_REACH);
  return speaksOfOwnHealth(text, from, withinPart(text, end, Math.min(text.length, end + SELF_NAMED_REACH)));
}
/** A clinician's title at the start of a display name ("Dr. Priya Raman"). */
export const CLINICIAN_TITLE = /^(?:Dr|Doctor|Prof|Nurse)\b/i;
/** How far after its author line a quoted message is read. */
const QUOTED_REACH = 1500;

/**
 * The author of a quoted or forwarded message about their own health,
 * named in its author line (AUTHOR_LINE): "my" and a health term of their
 * own, or a health term in a sentence where they speak in the first person
 * ("burning when I pee … I think its another UTI"), in the message after
 * the line (within QUOTED_REACH characters, up to the next author line or
 * part). At most one anchor: the first such author.
 */
export function quotedAuthors(text: string): PersonAnchor[] {
  AUTHOR_LINE.lastIndex = 0;
  const lines: { index: number; name: string; end: number }[] = [];
  for (let m = AUTHOR_LINE.exec(text); m; m = AUTHOR_LINE.exec(text)) {
    // "On Mon, Aug 19, 2024 at 9:05 AM Shanice Williams <…> wrote:": the time's AM or PM is not the name's
    const name = (m[1] ?? m[2] ?? '').trim().replace(/^(?:AM|PM)[ \t]+/, '');
    lines.push({ index: m.index + m[0].indexOf(name), name, end: m.index + m[0].length });
    if (lines.length >= 20) break;
  }
  AUTHOR_LINE.lastIndex = 0;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] as { index: number; name: string; end: number };
    // the author line's "From:" is no staff cue here; a title in the display name still makes a clinician
    // an author line introduces a person: a word that is a place's as often ("Steven Park") does not refuse the name
    if (!/\s/.test(line.name) || !personLike(line.name, true) || CLINICIAN_TITLE.test(line.name)) continue;
    const limit = withinPart(text, line.end, Math.min(text.length, line.end + QUOTED_REACH, lines[k + 1]?.index ?? Infinity));
    if (speaksOfOwnHealth(text, line.end, limit) || familyMemberCared(text, line.end, limit)) return [{ kind: 'quoted-author', index: line.index, length: line.name.length }];
  }
  return [];
}

/**
 * Someone the writer names by first name at the start of a sentence or a
 * clause, then care they received ("as you know Ruby was in Children's for
 * 3 days and was diagnosed with type 1 diabetes", "Dad was admitted last
 * night"): in a message from a person who is not a clinician, a member of
 * the writer's family, whom the writer's name identifies.
 */
const FAMILY_MEMBER_CARED =
  /(?:^|[.!?,;][ \t]+|\n[ \t>]*|(?<![\p{L}])(?:know|and|but|so)[ \t]+)(?!(?:She|He|They|It|We|You|This|That|There|Which|Who|What|Everything|Nothing|Someone|Nobody|Patient)(?![\p{L}]))\p{Lu}\p{Ll}{2,}[ \t]+(?:[^.!?\n]{0,60}?[ \t])?(?:(?:was|is|has[ \t]+been|had[ \t]+been|got)[ \t]+)?(?:admitted|diagnosed|hospitali[sz]ed|discharged|rushed[ \t]+to|taken[ \t]+to[ \t]+the[ \t]+(?:ER|ED|hospital))(?![\p{L}])/u;

/** Whether text[from, to) tells care a person named by first name received (FAMILY_MEMBER_CARED). */
function familyMemberCared(text: string, from: number, to: number): boolean {
  return FAMILY_MEMBER_CARED.test(text.slice(from, to));
}

/** Whether text[from, to) says "my" and a health term of the writer's own, or holds a health term in a sentence in the first person. */
export function speaksOfOwnHealth(text: string, from: number, to: number): boolean {
  if (myOwnHealth(text, from, to) >= 0) return true;
  const body = text.slice(from, to);
  const terms = sharedHealthTermSpans(text);
  FIRST_PERSON.lastIndex = 0;
  for (let m = FIRST_PERSON.exec(body); m; m = FIRST_PERSON.exec(body)) {
    const at = from + m.index;
    // the nearest term after the first person, and the one before it ("the muscle relaxer (cyclobenzaprine?) makes me too sleepy so ive been skipping it")
    const k = firstStartingFrom(terms, at);
    const next = terms[k];
    const previous = terms[k - 1];
    if ((next !== undefined && next.index < to && next.index < at + SENTENCE_REACH && ownInSentence(text, at, next.index, next)) || (previous !== undefined && previous.index >= from && previous.index > at - SENTENCE_REACH && ownInSentence(text, previous.index + previous.length, at, previous))) {
      FIRST_PERSON.lastIndex = 0;
      return true;
    }
  }
  FIRST_PERSON.lastIndex = 0;
  return false;
}

/** How far from the first person a health term of the same sentence may be. */
const SENTENCE_REACH = 120;

/** An event or a service named before its health term, as Spanish, Portuguese, French and Haitian Creole order them ("klinik vaksen grip la", "campaña de vacunación", "feira de saúde"): the term is the event's, not the writer's health. */
const EVENT_BEFORE = /(?<![\p{L}])(?:klinik|clínica|clinica|clinique|programa|programme|campaña|campanha|campagne|kanpay|feria|feira|foire|evento|événement|semana|semaine|journée|jornada|taller|atelier)(?:[ \t]+(?:de|del|da|do|de[ \t]+la|du|des|pou|sou))?[ \t]+$/iu;

/** Words of a working life or of volunteering around the first person and a health term: the term is where they worked or will help, not their health ("I have 4 years of experience in family practice and urgent care", "I can take the BP station"). */
const WORK_HISTORY = /(?<![\p{L}])(?:experience|background|position|jobs?|career|resume|résumé|certified|certification|trained|worked|working|volunteer(?:s|ing)?|apply|applying|applications?|go[ \t]+into|station|booth|shifts?)(?![\p{L}])/iu;

/** No sentence's end between `from` and `to`, and the term is the writer's own: not a programme's or an event's ("I care about diabetes prevention"), not a workplace's. */
function ownInSentence(text: string, from: number, to: number, term: { index: number; length: number }): boolean {
  return (
    !sentenceBreakBetween(text, from, to) &&
    !NOT_OWN_HEALTH.test(wordAfter(text, term.index + term.length)) &&
    !EVENT_BEFORE.test(text.slice(Math.max(0, term.index - 24), term.index)) &&
    !WORK_HISTORY.test(sentenceAround(text, from, to))
  );
}

/** The sentence holding text[from, to): back to the last sentence's end before it and on to the next after it, each at most SENTENCE_REACH characters away. */
function sentenceAround(text: string, from: number, to: number): string {
  const before = text.slice(Math.max(0, from - SENTENCE_REACH), from);
  const after = text.slice(to, to + SENTENCE_REACH);
  const start = Math.max(before.lastIndexOf('. '), before.lastIndexOf('! '), before.lastIndexOf('? '), before.lastIndexOf('\n\n'));
  const end = after.search(/[.!?][ \t\n]|\n[ \t>]*\n/);
  return before.slice(start + 1) + text.slice(from, to) + (end < 0 ? after : after.slice(0, end));
}

/** A sentence's end (". ", "! ", "? ") or a blank line between two places. */
function sentenceBreakBetween(text: string, from: number, to: number): boolean {
  return /[.!?][ \t\n]|\n[ \t>]*\n/.test(text.slice(from, to));
}
