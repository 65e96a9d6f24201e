/**
 * Where the text speaks of an individual: a person's name with its label
 * ("Patient: …"), with an honorific ("Mrs. …", "Herr …", "Sra. …"), in prose
 * next to a patient cue ("spoke with …", "… was admitted", "… 's insulin"),
 * or next to a home address; and a phone number said to be a patient's.
 * These are the anchors the PHI verdict ties health information to — an
 * identifier makes PHI only when it belongs to an individual, so the
 * organisation's own phone number, address and staff names (signatures,
 * footers, "Dr. …", "…, RN") are not anchors. Pure and linear: every
 * pattern is a bounded sequence without nested quantifiers.
 */
import { healthTermSpansInPiece, sharedHealthTermSpans } from './health-terms.js';
import { CREDENTIAL, isCredential } from './credentials.js';
import { personLike, titleCase } from './names.js';
import { personNameDetector, personNamePartsDetector, phoneDetector } from './personal.js';
import { addressMatches, candidateNames, DATE_OR_RECORD, eachMatch, lastFirstMatches, WORD } from './mention-search.js';
import { cachedScan, scanOnce, withScanCache } from './scan-cache.js';
import { PART_BREAK_MARK } from './signature.js';
import { GREETING_WORDS } from './greetings.js';
import { lowerCaseGivenNames } from './lower-case-names.js';
import { quotedAuthors, selfNamed, selfNamedOwnHealth, signedAuthors } from './signed-author.js';
import { firstStartingFrom, lineEndWithin, lineStartWithin, OrderedSpans, OverlapIndex, type Span } from './spans.js';
import { COMMA, EXCLAMATION, FULL_STOP, isSpaceCode, MIDDLE_DOT, NEWLINE, PIPE, QUESTION, SEMICOLON, SPACE, TAB } from './char-codes.js';

export type AnchorKind = 'labelled-name' | 'honorific-name' | 'named-patient' | 'name-with-address' | 'home-address' | 'patient-phone' | 'patient-contact' | 'addressed-reader' | 'message-author' | 'signed-author' | 'quoted-author';

export interface PersonAnchor {
  readonly kind: AnchorKind;
  /** Only an everyday word introduced the name ("for …", "about …", "schedule …"): the health information must be in the same sentence. */
  readonly weak?: boolean | undefined;
  readonly index: number;
  readonly length: number;
}

/** Words after a name that make it staff or a clinician: "Maria Lopez, RN", "Jane Smith MD". */
const CREDENTIAL_AFTER = new RegExp(`^,?\\s*${CREDENTIAL}\\b`);
/** Titles before a name that make it a clinician or staff. */
const TITLE_BEFORE = /(?:\b(?:Dr|Dra|Doctor|Prof|Pr|Docteur|Doktor|Nurse|Schwester|Pfleger)\.?\s*)$/;
/**
 * Words just before a name that introduce staff or an event, not a patient
 * ("congratulations to …", "welcome …", "led by …"). "by" after a verb of
 * calling on someone ("stop by", "drop by", "swing by") names whom to visit,
 * not who wrote or led something.
 */
const STAFF_CUE_BEFORE = /\b(?:congratulat\w*(?:\s+to)?|welcome[sd]?|thank(?:s|\s+you)?(?:\s+to)?|join(?:ed|s)?|meet|led\s+by|presented\s+by|hosted\s+by|speaker|author|(?<!\b(?:stop|stops|stopped|stopping|drop|drops|dropped|dropping|swing|swings|swung|swinging|come|comes|came|coming|pass|passes|passed|passing|go|goes|went|going)\s+)by|from|cc|signed|approved\s+by|contact|regards|sincerely|best|cheers|from\s+the\s+desk\s+of)[,:]?\s*$/i;

/** Ordinary words that may stand capitalised before a name at the start of a sentence or a greeting (not an organisation's first word). */
const LEAD_WORDS: ReadonlySet<string> = new Set([
  'dear', 'hi', 'hello', 'hey', 'yesterday', 'today', 'tonight', 'tomorrow', 'patient', 'pt', 'please', 'thanks', 'also', 'and', 'but', 'so', 'then',
  'when', 'if', 'per', 'cc', 'attn', 're', 'fw', 'fwd', 'ok', 'note', 'update', 'reminder', 'fyi', 'urgent', 'morning', 'afternoon', 'overnight',
  'this', 'last', 'next', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'hola', 'bonjour', 'hallo', 'estimado',
  'estimada', 'sehr', 'liebe', 'lieber', 'chère', 'cher',
  // a writer naming themselves in Spanish, Portuguese and Haitian Creole ("Soy Ana Ruiz", "Aqui é Ana Souza", "Se Marie-Ange Jean-Baptiste ki ekri w"), and greetings
  'soy', 'aqui', 'se', 'bonjou', 'olá', 'ola', 'kumusta',
]);

/** A surname in capitals, as French and German letters and charts write it ("Mme DUPONT Claire", "Herr MÜLLER"). */
const CAPITALS_SURNAME = "\\p{Lu}[\\p{Lu}'’]+(?:-\\p{Lu}[\\p{Lu}'’]+)?(?![\\p{L}])";

/** A name directly after an honorific: a person (not a clinician). French "M." needs a first name and a surname or a surname in capitals ("M. Jean Dupont", "M. DUPONT"): before one word it is an initial ("M. Varga"). */
const HONORIFIC_NAME = new RegExp(
  `(?<![\\p{L}])(?:(?:(?:Mr|Mrs|Ms|Mx|Miss|Herr|Frau|Sr|Sra|Srta|Mme|Mlle)\\.?|[Mm]adame|[Mm]ademoiselle|[Mm]onsieur|[Ss]eñora|[Ss]eñorita|[Ss]eñor|[Dd]oña|Don|[Ss]ignora|[Ss]ignor)\\s+(?:(?:${WORD}[ \\t]+){0,2}${WORD}|${CAPITALS_SURNAME}(?:[ \\t]+${WORD})?)|M\\.[ \\t]+(?:(?:${WORD}[ \\t]+){1,2}${WORD}|${CAPITALS_SURNAME}(?:[ \\t]+${WORD})?))`,
  'gu',
);

/** Words before an address that make it a person's home ("home address:", "lives at", "wohnhaft in", "domicilio"). */
const HOME_ADDRESS_CUE =
  /\b(?:home\s+address|patient(?:['’]s)?\s+address|address\s+of\s+(?:the\s+)?patient|(?:lives|living|resides|residing|staying)\s+at|wohnhaft(?:\s+in)?(?:\s+der)?|wohnt\s+in(?:\s+der)?|domicilio|domiciliad[oa]\s+en|vive\s+en|domicilié[e]?\s+(?:au|à)|demeurant|habite\s+(?:au|à))\s*[:,-]?\s*$/i;

/** Prose cues just before a name that make it a patient ("spoke with …", "patient …", "refer …"). */
const PATIENT_CUE_BEFORE =
  /\b(?:patient|pt\.?|spoke\s+(?:with|to)|speaking\s+with|talked\s+(?:with|to)|examined|admit(?:ted)?|discharg(?:e|ed|ing)|referral(?:\s+(?:for|of))?|refer(?:red|ring)?|follow(?:ed)?[\s-]up\s+(?:with|on|for)|check\s+on|treat(?:ed|ing)?|prescribed|deliver(?:y)?\s+(?:to|for)|visit\s+(?:for|with|to)|home\s+visit\s+(?:for|to|with)|transport(?:ing)?|client|resident|son|daughter|mother|father|wife|husband|caregiver\s+of|(?:services|care|treatment)\s+(?:provided\s+|rendered\s+)?(?:to|for)|provided\s+to|statement\s+for|guarantor)\s*[:,-]?\s*$/i;
/** Everyday words before a name that often, but not always, introduce a patient ("schedule …", "add … to the OR list", "about …", "for …"). */
const WEAK_CUE_BEFORE = /\b(?:called|phoned|visited|saw|seen|see|schedul(?:e|ed|ing)|reschedul(?:e|ed)|book(?:ed)?|add(?:ed)?|regarding|re|about|for)\s*[:,-]?\s*$/i;
/** "patient" earlier in the same sentence, a few words before the name ("the patient in room 4, Lucas Moreau"; not a department's name: "Patient Access - Liz Romero"). */
const PATIENT_IN_SENTENCE =
  /\b(?:patient|paciente|patiente?|patientin)\b(?![ \t]+(?:access|experience|relations|accounts?|accounting|financial|safety|services?|portal|advocacy|advocates?|registration|transport(?:ation)?|education|engagement|satisfaction|flow|logistics)\b)[^.!?;\n]{0,30}$/i;
/** Prose cues right after a name that make it a patient ("… was admitted", "… ’s insulin", "… (5N-22, admitted 3/9 …)", a date "… 3/14/1958" or a birth date in parentheses "… (1958-03-14)", "… (March 14, 1958)"). */
export const PATIENT_CUE_AFTER =
  /^(?:['’]s\s+(?:\w+\s+)?(?:appointment|visit|results?|labs?|medications?|meds|prescription|refill|diagnosis|surgery|procedure|biopsy|scan|x-ray|mri|insulin|therapy|treatment|condition|symptoms?|chart|records?|care|dialysis|infusion|injection|oxygen|wound|pain|pregnancy|referral|authori[sz]ation|claim|test|screening|bloodwork|vaccine|dose|admission|discharge|recovery|follow[\s-]?up)\b|,?\s*\(?\s*(?:DOB|D\.O\.B\.|MRN|born|age|\d{1,3}\s*(?:y\/?o|yo|years?|M|F)\b)|,?\s+(?:(?:was|is|has\s+been|had\s+been|will\s+be)\s+(?:admitted|diagnosed|seen|referred|prescribed|discharged|scheduled|started|treated|transferred|evaluated|hospitalized|hospitalised|tested|screened|due|on|taking|being\s+treated)|present(?:ed|s)\s+(?:to|with|at|for)\b|reports|reported|complains|complained|denies|denied|tested\s+positive|tested\s+negative|underwent|missed\s+(?:her|his|their)|is\s+coming\s+in|comes\s+in|checked\s+in|arrives|arrived|is\s+being\s+seen|will\s+need|started|stopped|began|continues|takes|needs\s+(?:a|an|her|his|their)|(?:called|phoned|asked|wrote|emailed|messaged)\s+(?:in\s+)?(?:about|regarding|re:?)\s+(?:his|her|their)\b|(?:seen|evaluated|examined)\s+(?:today|yesterday|this\s+(?:morning|afternoon)|in\s+(?:clinic|the\s+office))|no[\s-]showed|declined|refused\s+(?:the|her|his)|takes|has\s+(?:a\s+)?history|was\s+(?:found|given|taken)\b)|,\s+(?:a\s+)?\d{1,3}(?:\s*(?:y\/?o|yo|years?\s+old|-year-old)|\s*[MF]\b)|,\s*\d{1,3}\s*,|(?:,[ \t]*|[ \t]+in[ \t]+|[ \t]*\([ \t]*)(?:bed|bay)[ \t]*#?[ \t]*\d+|[ \t]*[,(–-]?[ \t]*\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b|[ \t]*\([ \t]*(?:(?:19|20)\d{2}-[01]?\d-[0-3]?\d|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?[ \t]+[0-3]?\d(?:st|nd|rd|th)?,?[ \t]+(?:19|20)\d{2}|[0-3]?\d[ \t-](?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?[ \t-](?:19|20)\d{2})[ \t]*\)|[ \t]*\([^()\n]{0,40}?\b(?:admitted|adm|discharged)\b)/i;

/** The words of an organisation's contact data (ORG_LINE, ORG_CONTACT): contact labels, web and office-address parts, organisation words. */
const CONTACT_WORDS = String.raw`tel|phone|ph|fax|main|office|direct|switchboard|toll[\s-]?free|telefon|teléfono|tél`;
/** … a room ("Rm 2B, 410 Canal St": a group's or a meeting's place), and a contact card's work address ("ADR;TYPE=WORK:", vCard 2.1's "ADR;WORK:"). */
const OFFICE_PARTS = String.raw`www\.|https?:|suite|ste\.|bldg|building|floor|rm\.?\s*\d+[a-z]?|room\s+\d+[a-z]?|adr;(?:type="?)?work`;
const ORG_NAME_WORDS = ['clinic', 'clinique', 'hospital', 'health', 'medical', 'médical', 'center', 'centre', 'practice', 'pharmacy', 'department', 'dept', 'service', 'inc', 'llc', 'klinik', 'klinikum', 'praxis', 'clínica', 'cabinet', 'sekretariat', 'secrétariat', 'pediatrics', 'orthopedic', 'orthopaedic', 'spine', 'oncology', 'cardiology', 'dental', 'surgery', 'surgical', 'hospice', 'rehab', 'wellness', 'physicians', 'specialists', 'foundation', 'institute', 'university'];

/** A line that is the organisation's contact block: a labelled office number, a web address, an organisation word with contact data. */
const ORG_LINE = new RegExp(String.raw`\b(?:${CONTACT_WORDS}|${OFFICE_PARTS}|${ORG_NAME_WORDS.join('|')})\b`, 'i');

/**
 * Whether an address's cell is the organisation's (AddressCells): as
 * ORG_LINE, but a contact word counts only as a label ("Tel: …", "Phone
 * 555 …", "Fax (555) …"; not "Phone note: caller …", "Main Street"), and
 * an organisation word only as part of a name, capitalised ("Riverside
 * Clinic", "MERCY HOSPITAL"): in lower case in a sentence ("send the
 * hospice packet to Frank Miller at 18 Chestnut St") it names a service,
 * and the address is still the person's.
 */
const ORG_CONTACT = new RegExp(String.raw`\b(?:${CONTACT_WORDS})\b\.?[ \t]*(?:[:#(+]|\d)|\b(?:${OFFICE_PARTS})\b`, 'i');
const ORG_NAME_WORD = new RegExp(`\\b(?:${ORG_NAME_WORDS.flatMap((w) => [`${w.charAt(0).toUpperCase()}${w.slice(1)}`, w.toUpperCase()]).join('|')})\\b`);

/** The office's numbers and web site, as a contact block lists them under an address. */
const CONTACT_LINE = /(?:^|\n)[ \t]*(?:(?:tel|phone|ph|main|office|fax|direct|switchboard|toll[\s-]?free|telefon|teléfono|tél|t|p|f)\b\.?[ \t]*:?[ \t]*[(+\d]|www\.|https?:)/i;

/**
 * Cues before a phone number that make it a patient's, not an office's
 * ("PT" after a name and a comma is a physical therapist's credential:
 * "Marcus Hale, PT, DPT · 614-…"; "Patient Experience", "Patient Access"
 * … are departments).
 */
const PATIENT_PHONE_CUE = /\b(?:patient(?:['’]s)?(?![ \t]+(?:experience|access|services?|relations|advocacy|advocates?|accounts?|portal|line|financial|registration|information|transport(?:ation)?|safety|family|education)\b)|(?<!,[ \t]*)pt\.?|home|cell|mobile|caregiver|guardian|parent|mother|father|daughter|son|wife|husband|emergency\s+contact|reach\s+(?:him|her|them)|call\s+(?:him|her|them)|contact\s+(?:him|her|them)|his|her)\b[^\n]{0,25}$/i;

/**
 * Pure: text[i] ends a sentence: ".", "!" or "?" after a lower-case letter
 * or a digit ("… hip surgery.", "… IL 62704.", "Questions?"), then a space
 * and a capital. A "." after a capitalised word does not count: the
 * abbreviations of addresses and titles ("St.", "Ave.", "Dr.") are written so.
 */
export function sentenceEnd(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c !== FULL_STOP && c !== EXCLAMATION && c !== QUESTION) return false;
  if (text.charCodeAt(i + 1) !== SPACE) return false;
  const next = text.charCodeAt(i + 2);
  if (!(next >= 65 && next <= 90)) return false;
  const before = text.charCodeAt(i - 1);
  if (before >= 48 && before <= 57) return true;
  if (!(before >= 97 && before <= 122)) return false;
  // abbreviations end in "." only
  if (c !== FULL_STOP) return true;
  // the word before: all lower case (a capitalised one may be an abbreviation)
  let w = i - 1;
  while (w > 0 && text.charCodeAt(w - 1) >= 97 && text.charCodeAt(w - 1) <= 122) w--;
  const first = w > 0 ? text.charCodeAt(w - 1) : -1;
  return !(first >= 65 && first <= 90);
}

/** Whether a sentence ends inside `s` (its last characters are followed by what comes after it in the text, so a full stop at its end does not count). */
function holdsSentenceEnd(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (sentenceEnd(s, i)) return true;
  return false;
}

/**
 * The cells of addresses asked for in order (and whether they are the
 * organisation's: ORG_CONTACT, ORG_NAME_WORD): the part of the line
 * an address sits in (a table row's cell, a footer's "·"- or "|"-separated
 * part, a sentence of prose, or the whole line): an organisation word in
 * another sentence of the same paragraph ("She was discharged after hip
 * replacement surgery.") does not make a home address the office's. The text is read forwards only, and a cell is
 * tested once however many addresses it holds (reading the whole line for
 * each address read a text of one long line once per address).
 */
export class AddressCells {
  /** How far the text has been read for cell starts, and the start of the cell reaching there. */
  private readTo = 0;
  private cellStart = 0;
  /** The next cell end found (-1: none yet), and where its search started. */
  private stop = -1;
  private stopFrom = -1;
  private lastCell: { start: number; end: number; org: boolean } | undefined;

  constructor(private readonly text: string) {}

  /** The start of the cell holding `index` (after any index asked before): after its line's start or the last stop before it. */
  private startOf(index: number): number {
    const text = this.text;
    for (let i = this.readTo; i < index; i++) {
      const c = text.charCodeAt(i);
      // "; " counts only when its space stands before index too; so does a sentence's end and the capital after it
      if (c === NEWLINE || c === TAB || c === PIPE || c === MIDDLE_DOT || (c === SEMICOLON && i + 1 < index && text.charCodeAt(i + 1) === SPACE) || (i + 2 < index && sentenceEnd(text, i))) this.cellStart = i + 1;
    }
    // a ";" right before index may pair with the space at index later: it is read again then
    this.readTo = index > 0 && text.charCodeAt(index - 1) === SEMICOLON ? index - 1 : index;
    return this.cellStart;
  }

  /** Where the cell holding text[from] ends: its first stop at or after `from`, or its line's end. */
  private endOf(from: number): number {
    const text = this.text;
    // the last search found no stop nor line end between its start and `stop`
    if (this.stopFrom <= from && from <= this.stop) return this.stop;
    let i = from;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE || c === TAB || c === PIPE || c === MIDDLE_DOT || (c === SEMICOLON && text.charCodeAt(i + 1) === SPACE) || sentenceEnd(text, i)) break;
    }
    this.stop = i;
    this.stopFrom = from;
    return i;
  }

  /** Where the cell of the address text[index, index + length) starts and ends (addresses asked for in order). */
  cell(index: number, length: number): { start: number; end: number } {
    return { start: this.startOf(index), end: this.endOf(index + length) };
  }

  /** Whether the cell of the address text[index, index + length) is the organisation's: a contact label or an organisation's name in it (ORG_CONTACT, ORG_NAME_WORD). */
  organisation(index: number, length: number): boolean {
    const { start, end } = this.cell(index, length);
    const last = this.lastCell;
    if (last && last.start === start && last.end === end) return last.org;
    const cell = this.text.slice(start, end);
    const org = ORG_CONTACT.test(cell) || ORG_NAME_WORD.test(cell);
    this.lastCell = { start, end, org };
    return org;
  }
}

/**
 * The `n` characters before `index`, from its own part of the message on (a
 * cue at the end of the part before — a bare "Regards" closing a plain-text
 * stub before the HTML alternative — is not about a name that starts the
 * next part).
 */
export function partBefore(text: string, index: number, n: number): string {
  const before = text.slice(Math.max(0, index - n), index);
  const brk = before.lastIndexOf(PART_BREAK_MARK);
  return brk < 0 ? before : before.slice(brk + 1);
}

/** Staff or clinician: a title before, a credential after, or introduced the way staff are. */
export function staff(text: string, index: number, length: number): boolean {
  return titledStaff(text, index, length) || STAFF_CUE_BEFORE.test(partBefore(text, index, 40));
}

/**
 * A name made staff by what it carries itself: a title before it ("Dr."),
 * credentials or a role after it (", RN", " – Diabetes Educator"). A
 * sign-off before it ("Thank you,", "Best,") is not asked: a patient signs
 * their own note so too.
 */
export function titledStaff(text: string, index: number, length: number): boolean {
  const after = text.slice(index + length, index + length + 40);
  return TITLE_BEFORE.test(partBefore(text, index, 40)) || CREDENTIAL_AFTER.test(after) || ROLE_AFTER.test(after);
}

/** A role right after a name: "…, HR", "…, Personalabteilung", "… – Diabetes Educator", "…, Director of Nursing". */
const ROLE_AFTER =
  /^[ \t]*(?:,|[–—-]|\||\()[ \t]*(?:[\p{L}&]+[ \t]+){0,3}(?:hr|human\s+resources|recruit\w*|talent|director|manager|coordinator|educator|navigator|supervisor|specialist|officer|assistant|secretary|administrator|chair|chief|head|lead|president|ceo|cfo|coo|cmo|cno|cio|vp|owner|treasurer|physician|nurse|rn|np|md|pharmacist|therapist|dietitian|social\s+worker|personalabteilung|abteilung|leitung|sekretariat|recursos\s+humanos|rrhh|ressources\s+humaines|secrétariat|responsable|directeur|directrice|jefe|jefa)\b/iu;

/** What follows a "Last, First" name in a chart (DATE_OR_RECORD), at the start of a text. */
const DATE_OR_RECORD_AFTER = new RegExp(`^${DATE_OR_RECORD}`, 'u');

/** A name followed by a dash or colon (a room or bed between allowed: "Maria Delgado 412 - K 5.9") and, on the same line, health information ("Tomás Herrera — potassium 6.1"). */
function findingAfter(text: string, end: number): boolean {
  // the line is copied only after a dash or colon (most names have neither after them)
  const lineEnd = lineEndWithin(text, end, 80);
  if (!dashOrColonAt(text, end, lineEnd)) {
    const room = roomLength(text, end);
    if (room === 0 || !dashOrColonAt(text, end + room, lineEnd)) return false;
  }
  return healthTermSpansInPiece(text.slice(end, lineEnd)).length > 0;
}

/** A room or bed right after a name ("Maria Delgado 412 - K 5.9", "… rm 4E-12: …"): its length with the blanks before it, or 0. */
const ROOM_AFTER = /^[ \t]+(?:(?:rm|room|bed|bay)\.?[ \t]*)?#?\d[\dA-Za-z]{0,4}(?:-\d{1,3})?(?=[ \t])/i;
function roomLength(text: string, end: number): number {
  return ROOM_AFTER.exec(text.slice(end, end + 20))?.[0].length ?? 0;
}

/** Whether text[from, to) starts as /^[ \t]*[—–:-][ \t]/ does: spaces or tabs, a dash or a colon, then a space or a tab. */
function dashOrColonAt(text: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && isBlankCode(text.charCodeAt(i))) i++;
  if (i + 1 >= to) return false;
  const c = text.charCodeAt(i);
  return (c === 0x2014 || c === 0x2013 || c === 58 || c === 45) && isBlankCode(text.charCodeAt(i + 1));
}

/** A space or a tab. */
function isBlankCode(c: number): boolean {
  return c === 32 || c === 9;
}

const HONORIFIC_WORD = /^\S+\s+/;

/** Words that open a letter to the person named after them ("Dear Maria Alvarez,"). */
const GREETINGS: ReadonlySet<string> = new Set(['dear', 'hi', 'hello', 'hola', 'estimado', 'estimada', 'bonjour', 'hallo', 'liebe', 'lieber', 'chère', 'cher']);

/** "your" and its German, Spanish and French forms, and texting's "ur" (lower case only: "UR" is utilization review): the letter speaks of its reader's own things. */
const YOUR = /(?<![\p{L}])(?:your|ur|ihre?[mnrs]?|sus?|votre|vos)(?![\p{L}])/giu;

/** Between "your" and the health term: at most two words, none a preposition or article ("your recent lab results", not "your help with the diabetes fair"); a hard line wrap may stand for a space. */
const OWN_THING = /^(?:[ \t]*\n?[ \t]*(?<=\s)(?!(?:with|for|to|at|in|on|of|and|or|the|a|an|about|from|mit|für|und|der|die|das|con|para|por|de|del|la|el|y|avec|pour|et|le|les|du|des)(?![\p{L}]))[\p{L}'’-]+){0,2}[ \t]*\n?[ \t]*(?<=\s)$/iu;

/** How far after a greeting the letter is read for the reader's health ("Dear Maria Alvarez, … your colonoscopy"): a short letter's whole body. */
const LETTER_REACH = 600;

/**
 * A letter to a named person about their own health: after the greeting's
 * name, within LETTER_REACH characters, "your" (Ihr, su, votre) followed
 * within 30 characters by a health term ("your colonoscopy", "Ihre
 * Laborwerte", "su cita de mamografía"). A letter to a colleague speaks of
 * patients, not of "your" condition.
 */
export function addressedAboutTheirHealth(text: string, end: number): boolean {
  const letter = text.slice(end, end + LETTER_REACH);
  YOUR.lastIndex = 0;
  for (let m = YOUR.exec(letter); m; m = YOUR.exec(letter)) {
    if (m[0].length === 2 && m[0] !== 'ur' && /^u/i.test(m[0])) continue;
    // a quoted phrase's "your" is a title's, not the reader's ('the "Your lab results are ready" template')
    const before = letter.charCodeAt(m.index - 1);
    if (before === 34 || before === 0x201c) continue;
    const after = end + m.index + m[0].length;
    if (ownHealthAfterPronoun(text, after, 30) || careEventWithHealth(text, after)) {
      YOUR.lastIndex = 0;
      return true;
    }
  }
  return false;
}

/** A visit or a procedure of the reader's, at most one word after "your" ("your upcoming appointment", "su próxima cita"). */
const CARE_EVENT = /^(?:[ \t]+[\p{L}-]+)?[ \t]+(?:appointments?|procedures?|visits?|exams?|tests?|results|surgery|prescriptions?|termin|cita|rendez-vous)(?![\p{L}])/iu;
/** How far after the reader's visit or procedure its health term may be ("your upcoming appointment: Procedure: COLONOSCOPY"). */
const CARE_EVENT_REACH = 120;

/** "your" followed by a visit or procedure of the reader's (CARE_EVENT) and, within CARE_EVENT_REACH characters, a health term that is not an event's or a department's (NOT_OWN_HEALTH after it). */
function careEventWithHealth(text: string, from: number): boolean {
  const m = CARE_EVENT.exec(text.slice(from, from + 40));
  if (m === null) return false;
  const start = from + m[0].length;
  const terms = sharedHealthTermSpans(text);
  const next = terms[firstStartingFrom(terms, start)];
  if (next === undefined || next.index >= start + CARE_EVENT_REACH) return false;
  return !NOT_OWN_HEALTH.test(wordAfter(text, next.index + next.length));
}

/** A greeting at the start of a line, right before a name ("Dear ", "Hello ", "Hola "). */
const GREETING_BEFORE = new RegExp(`(?:^|\\n)[ \\t]*${GREETING_WORDS}[ \\t,]*$`, 'i');

/** "the" right before a capitalised phrase: a place's, a group's or a thing's name ("the Tall Pines crew", "the Wellness Pavilion"), not a person's. */
const ARTICLE_BEFORE = /(?<![\p{L}])[Tt]he[ \t]+$/u;

/** A sign-off line right before a line's start ("Have a lovely weekend,\n", "Thanks,\n", "Best regards,\n"): a line ending in a comma, after at most a few words. */
const SIGN_OFF_BEFORE = /(?:^|\n)[ \t]*[\p{L}'’ ]{2,40},[ \t]*\r?\n[ \t]*$/u;

/** Whether the name at `index` starts its line right after a sign-off: the writer signing ("Have a lovely weekend,\nMrs. Kim"), not someone the text is about. */
function signsOff(text: string, index: number): boolean {
  return SIGN_OFF_BEFORE.test(text.slice(Math.max(0, index - 50), index));
}

function honorificNames(text: string): PersonAnchor[] {
  const out: PersonAnchor[] = [];
  eachMatch(text, HONORIFIC_NAME, (m) => {
    const name = m[0].replace(HONORIFIC_WORD, '');
    if (!personLike(name, true) || staff(text, m.index, m[0].length) || signsOff(text, m.index)) return;
    // "Hello Ms. Pruitt,": a letter's reader, who identifies someone only when the letter speaks of health of theirs ("your …") or of their family's ("his ADHD med check")
    const end = m.index + m[0].length;
    if (GREETING_BEFORE.test(partBefore(text, m.index, 30)) && !addressedAboutTheirHealth(text, end) && !theirOwnHealthIn(text, end, end + LETTER_REACH)) return;
    out.push({ kind: 'honorific-name', index: m.index, length: m[0].length });
  });
  // notes typed in lower case ("can u check on mrs delacroix in 3b"): "mr" or "mrs" and a surname, not a word of the sentence
  if (out.length === 0 && LOWER_HONORIFIC_START.test(text)) {
    eachMatch(text, LOWER_HONORIFIC_NAME, (m) => {
      const word = m[1] ?? '';
      if (!NOT_A_SURNAME.has(word) && personLike(titleCase(`${word.charAt(0).toUpperCase()}${word.slice(1)}`), true) && !staff(text, m.index, m[0].length)) out.push({ kind: 'honorific-name', index: m.index, length: m[0].length });
    });
  }
  return out;
}

/** "mr" or "mrs" in lower case, then one lower-case word: a surname in a note typed fast ("mr okafor", "mrs delacroix"). "ms" is left out: multiple sclerosis, Microsoft. */
const LOWER_HONORIFIC_NAME = /(?<![\p{L}\d])mrs?\.?(?:[ \t]+|[ \t]*\n[ \t]*)([a-z][a-z'’-]{2,})(?![\p{L}\d])/gu;
const LOWER_HONORIFIC_START = /(?<![\p{L}\d])mrs?\.?(?:[ \t]+|[ \t]*\n[ \t]*)[a-z]/u;
/** Words after a lower-case "mr" or "mrs" that are no surname. */
const NOT_A_SURNAME: ReadonlySet<string> = new Set(['and', 'or', 'the', 'and/or', 'clean', 'right', 'wrong', 'nice', 'big', 'little', 'who', 'what', 'whoever', 'so', 'to', 'is', 'was', 'has', 'had', 'will', 'would', 'can', 'pt', 'patient', 'doctor', 'dr']);

/** A capitalised word before a name of two words or more ("Dear Maria Alvarez"). */
const LEAD_WORD = /^(?:\p{Lu}\p{Ll}+[ \t]+)(?=\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?[ \t]+\p{Lu})/u;
const POSSESSIVE = /['’]s$/;

/** How far after a possessive name its health term may start ("Mensah's follow-up colonoscopy"). */
const POSSESSION_REACH = 40;

/** Words right after a name that often, but not always, make it a patient ("call John Smith about his …"): the health information must be in the same sentence. */
const WEAK_CUE_AFTER = /^[ \t]+(?:about|regarding|re:?|for)[ \t]+(?:his|her|their)\b/i;

/**
 * A possessive pronoun after a name, in the name's sentence or starting the
 * next one ("Lisa Gomez has her dialysis …", "… squeeze in Ethan Brooks
 * today? His asthma …"): where the health term after it may start.
 */
const PRONOUN_AFTER = /^[^.!?\n]{0,60}?(?<![\p{L}])(?:his|her|their)(?![\p{L}])|^[^.!?\n]{0,40}[.!?][ \t]+(?:His|Her|Their)(?![\p{L}])/u;
/** How far after a name its pronoun is looked for (the longer of PRONOUN_AFTER's forms). */
const PRONOUN_REACH = 64;

/** Words around a health term that make it a department's or a programme's, not the person's own ("her department's oncology budget", "his cardiology fellows"). */
export const NOT_OWN_HEALTH = /(?<![\p{L}])(?:department|dept|team|unit|office|staff|colleagues?|group|division|program|programme|budget|service|ward|clinic|practice|research|poster|talk|presentation|paper|work|study|fellows?|residents?|nurses?|rotation|conference|meeting|review|training|course|award|walk|fundraiser|committee|lab|fair|event|seminar|webinar|experience|background|prevention|education|awareness|outreach|workshops?|position|jobs?|shifts?)(?:['’]s)?(?![\p{L}])/iu;

/**
 * A staff member's own health, as employee health writes it: a name made
 * staff only by what follows it (", RN", "– Unit Secretary"; not "Dr." before
 * it), then a verb of care received, a possessive pronoun and their own
 * health term in its sentence
 * ("Tamara Voss, RN (5 West, employee ID 118274) had her annual
 * QuantiFERON drawn").
 */
function employeeOwnHealth(text: string, index: number, length: number): boolean {
  const end = index + length;
  const m = OWN_CARE_PRONOUN_AFTER.exec(text.slice(end, end + PRONOUN_REACH));
  return m !== null && !TITLE_BEFORE.test(partBefore(text, index, 40)) && !STAFF_CUE_BEFORE.test(partBefore(text, index, 40)) && ownHealthAfterPronoun(text, end + m[0].length);
}

/** A verb of care received and a possessive pronoun, in the name's sentence ("… had her", "… received his"; not "… will teach her", "… is covering her"). */
const OWN_CARE_PRONOUN_AFTER = /^[^.!?\n]{0,50}?(?<![\p{L}])(?:had|has|got|gets|received|receives|completed|underwent|tested\s+positive\s+on|started)[ \t]+(?:his|her|their)(?![\p{L}])/u;

/** The name's own health, by a pronoun: a possessive pronoun (PRONOUN_AFTER) with a health term at most two words after it ("her blood pressure"; not "his work on the cancer walk", "her department's oncology budget"). */
export function pronounHealthAfter(text: string, end: number): boolean {
  const m = PRONOUN_AFTER.exec(text.slice(end, end + PRONOUN_REACH));
  return m !== null && ownHealthAfterPronoun(text, end + m[0].length);
}

/** A possessive pronoun starting the text at `at`, in either case ("His MRI …", "her biopsy"), with its own health term after it (as pronounHealthAfter). */
function startsWithPronounHealth(text: string, at: number): boolean {
  const m = PRONOUN_FIRST.exec(text.slice(at, at + 6));
  return m !== null && ownHealthAfterPronoun(text, at + m[0].length);
}

const PRONOUN_FIRST = /^(?:[Hh]is|[Hh]er|[Tt]heir)(?![\p{L}])/u;

/** A health term starting the text at `at` ("Labs back - VL undetectable"), not a department's or an event's (NOT_OWN_HEALTH after it). */
function startsWithOwnHealth(text: string, at: number): boolean {
  const terms = sharedHealthTermSpans(text);
  const first = terms[firstStartingFrom(terms, at)];
  return first !== undefined && first.index === at && !NOT_OWN_HEALTH.test(wordAfter(text, first.index + first.length));
}

/** The word after text[end] (spaces or tabs between), or "". */
export function wordAfter(text: string, end: number): string {
  return /^[ \t]+([\p{L}'’]+)/u.exec(text.slice(end, end + 24))?.[1] ?? '';
}

/**
 * A sentence after a name's, starting with "She", "He" or "They" and a verb
 * of having or taking ("… see Dolores Whitfield this week? She lives on
 * Larkspur Lane. She has advanced Parkinson's disease"), or with "His",
 * "Her" or "Their" ("Walter Hughes scored 17 on the MoCA … His thyroid
 * levels were normal"): the name's own health follows as after a possessive
 * pronoun (ownHealthAfterPronoun).
 */
const SUBJECT_PRONOUN_SENTENCE =
  /(?:[.!?][ \t\n]+|\n[ \t]*)(?:(?:She|He|They)(?:[ \t]+(?:also|still|now|recently|already))?[ \t]+(?:has|had|have|is|was|are|were|takes|took|needs|developed|started|reports|complains[ \t]+of|suffers[ \t]+from)(?:[ \t]+(?:a|an|the)(?![\p{L}]))?|His|Her|Their)(?![\p{L}])/gu;
const holdsSubjectPronounSentence = scanOnce((text) => SUBJECT_PRONOUN_START.test(text));

/** A sentence starting with "She", "He" or "They" anywhere in a text (SUBJECT_PRONOUN_SENTENCE's start). */
const SUBJECT_PRONOUN_START = /(?:[.!?][ \t\n]+|\n[ \t]*)(?:She|He|They|His|Her|Their)[ \t]/;

/** How far after a name the sentences about them are read (SUBJECT_PRONOUN_SENTENCE); the end of the next paragraph ends them sooner. */
const SUBJECT_PRONOUN_REACH = 400;

function subjectPronounHealthAfter(text: string, end: number, name: string): boolean {
  // most texts start no sentence with "She", "He" or "They": asked once per text
  const pronouns = holdsSubjectPronounSentence(text);
  // or with the name's first word ("… keep Dwayne Greer in your thoughts. Dwayne had a heart attack")
  const firstName = /^\p{Lu}[\p{Ll}'’-]+/u.exec(name)?.[0];
  const again = firstName !== undefined && text.indexOf(`${firstName} `, end) >= 0;
  if (!pronouns && !again) return false;
  let following = text.slice(end, end + SUBJECT_PRONOUN_REACH);
  // the name's paragraph and the next: a second blank line, or the part's end, ends them
  const first = following.search(/\n[ \t]*\n/);
  const second = first < 0 ? -1 : following.slice(first + 2).search(/\n[ \t]*\n/);
  if (second >= 0) following = following.slice(0, first + 2 + second);
  const part = following.indexOf(PART_BREAK_MARK);
  if (part >= 0) following = following.slice(0, part);
  if (pronouns) {
    SUBJECT_PRONOUN_SENTENCE.lastIndex = 0;
    for (let m = SUBJECT_PRONOUN_SENTENCE.exec(following); m; m = SUBJECT_PRONOUN_SENTENCE.exec(following)) {
      if (ownHealthAfterPronoun(text, end + m.index + m[0].length)) {
        SUBJECT_PRONOUN_SENTENCE.lastIndex = 0;
        return true;
      }
    }
  }
  return again && firstNameHealthAt(text, end, following, firstName) >= 0;
}

/** Where a sentence in `following` (text from `end`) starts with `firstName` and a verb of having or taking, then their own health ("Dwayne had a heart attack"), or -1; with `anyTermInSentence` (a name the subject starts with), any health term later in that sentence counts too. */
function firstNameHealthAt(text: string, end: number, following: string, firstName: string, anyTermInSentence = false): number {
  for (let at = following.indexOf(`${firstName} `); at >= 0; at = following.indexOf(`${firstName} `, at + 1)) {
    if (!sentenceStartAt(following, at)) continue;
    const verb = FIRST_NAME_VERB.exec(following.slice(at + firstName.length, at + firstName.length + 40));
    if (verb && ownHealthAfterPronoun(text, end + at + firstName.length + verb[0].length)) return end + at;
    // or, for a name the subject starts with, a term of their care later in the same sentence ("Marcus has made 11 of 12 scheduled IOP sessions")
    if (anyTermInSentence && healthInSentenceAfter(text, end + at + firstName.length, FIRST_NAME_SENTENCE_REACH)) return end + at;
  }
  return -1;
}

/** How far into the sentence that starts with a first name a health term of theirs may stand. */
const FIRST_NAME_SENTENCE_REACH = 80;

/** Whether a health term starts within `reach` characters after `from`, with no sentence's end or line break before it, and is no event's or department's (NOT_OWN_HEALTH after it). */
function healthInSentenceAfter(text: string, from: number, reach: number): boolean {
  const terms = sharedHealthTermSpans(text);
  const term = terms[firstStartingFrom(terms, from)];
  if (term === undefined || term.index >= from + reach) return false;
  const between = text.slice(from, term.index);
  return !/[.!?][ \t]|\n/.test(between) && !NOT_OWN_HEALTH.test(wordAfter(text, term.index + term.length));
}

/** A verb of having or taking after a first name starting a sentence or a clause ("Ethan is still getting headaches"; an article allowed after it). */
const FIRST_NAME_VERB =
  /^[ \t]+(?:(?:also|still|now|recently)[ \t]+)?(?:has|had|is|was|takes|took|needs|developed|started|suffered|underwent)(?:[ \t]+(?:also|still|now))?(?:[ \t]+(?:getting|having|taking|on))?(?:[ \t]+(?:a|an|the))?(?![\p{L}])/u;

/** Whether a sentence or a clause starts at `at` in `s`: at its start, after a line break, or after ". ", "! ", "? ", ", ". */
function sentenceStartAt(s: string, at: number): boolean {
  if (at === 0) return true;
  let i = at - 1;
  while (i >= 0 && (s.charCodeAt(i) === SPACE || s.charCodeAt(i) === TAB)) i--;
  if (i < 0) return true;
  const c = s.charCodeAt(i);
  return c === NEWLINE || ((c === FULL_STOP || c === EXCLAMATION || c === QUESTION || c === COMMA) && i < at - 1);
}

/** "his", "her" or "their": a third person's possessive. */
const THIRD_PERSON_POSSESSIVE = /(?<![\p{L}])(?:his|her|their)(?![\p{L}])/giu;

/** Whether text[from, to) holds "his", "her" or "their" with a health term of that person's own after it (ownHealthAfterPronoun: "… increase his donepezil"). */
export function theirOwnHealthIn(text: string, from: number, to: number): boolean {
  return theirOwnHealthAt(text, from, to) >= 0;
}

/** Where the first "his", "her" or "their" in text[from, to) stands that a health term of that person's own follows (theirOwnHealthIn), or -1. */
export function theirOwnHealthAt(text: string, from: number, to: number): number {
  const stretch = text.slice(from, to);
  THIRD_PERSON_POSSESSIVE.lastIndex = 0;
  for (let m = THIRD_PERSON_POSSESSIVE.exec(stretch); m; m = THIRD_PERSON_POSSESSIVE.exec(stretch)) {
    if (ownHealthAfterPronoun(text, from + m.index + m[0].length)) {
      THIRD_PERSON_POSSESSIVE.lastIndex = 0;
      return from + m.index;
    }
  }
  THIRD_PERSON_POSSESSIVE.lastIndex = 0;
  return -1;
}

/** The health term after a possessive pronoun ending at `from` is the person's own: within reach, and no department, team or event word around it. */
export function ownHealthAfterPronoun(text: string, from: number, reach = POSSESSION_REACH): boolean {
  const next = ownHealthTermAfter(text, from, reach);
  if (next === undefined) return false;
  // the words between the pronoun and the term, and the word after the term
  return !NOT_OWN_HEALTH.test(text.slice(from, next.index)) && !NOT_OWN_HEALTH.test(wordAfter(text, next.index + next.length));
}

/** The next health term if it starts within `reach` characters from `from`, at most two words after it, none a preposition or article (OWN_THING: "'s next iron infusion", not "'s party at the cancer center"). */
function ownHealthTermAfter(text: string, from: number, reach: number): Span | undefined {
  const terms = sharedHealthTermSpans(text);
  const next = terms[firstStartingFrom(terms, from)];
  return next !== undefined && next.index < from + reach && OWN_THING.test(text.slice(from, next.index)) ? next : undefined;
}

/** "for" or "with" right after a name, then at most an article or pronoun: where the name's own care is named ("… for a mammogram", "… for her MRI"). */
const FOR_AFTER = /^[ \t]+(?:for|with)(?:[ \t]+(?:a|an|the|her|his|their))?(?![\p{L}])/u;

/** Whether the name ending at `end` is followed by "for" or "with" and a health term of their own (as after a pronoun: ownHealthAfterPronoun). */
function careRightAfter(text: string, end: number): boolean {
  const m = FOR_AFTER.exec(text.slice(end, end + 16));
  return m !== null && ownHealthAfterPronoun(text, end + m[0].length);
}

/** Whether a state's code and a ZIP code follow text[end] (CITY_BEFORE_STATE): two capitals after a comma or blanks are looked for first, without a copy. */
function cityBeforeState(text: string, end: number): boolean {
  let i = text.charCodeAt(end) === 44 ? end + 1 : end;
  const blanks = i;
  while (isBlankCode(text.charCodeAt(i))) i++;
  const a = text.charCodeAt(i);
  const b = text.charCodeAt(i + 1);
  return i > blanks && a >= 65 && a <= 90 && b >= 65 && b <= 90 && CITY_BEFORE_STATE.test(text.slice(end, end + 16));
}

/** Whether a health term overlaps text[index, index + length) (the terms are in order; one starting before may reach into it). */
function overlapsHealthTerm(text: string, index: number, length: number): boolean {
  const terms = sharedHealthTermSpans(text);
  for (let k = Math.max(0, firstStartingFrom(terms, index) - 1); k < terms.length; k++) {
    const t = terms[k] as Span;
    if (t.index >= index + length) break;
    if (t.index + t.length > index) return true;
  }
  return false;
}

/** A US state's or territory's code after a name, and a ZIP code or the end of its cell or line: the name is a city's ("Cedar Bluff, WI 54730", "Address: 3300 S Harlem Ave, Cedar Plains IL;"). */
const CITY_BEFORE_STATE =
  /^,?[ \t]+(?:A[KLRZS]|C[AOT]|D[CE]|FL|G[AU]|HI|I[ADLN]|K[SY]|LA|M[ADEINOPST]|N[CDEHJMVY]|O[HKR]|P[AR]|RI|S[CD]|T[NX]|UT|V[AIT]|W[AIVY])(?:[ \t]+\d{5}(?:-\d{4})?(?!\d)|[ \t]*(?:[;|\r\n]|$))/;

/** Reply and forward prefixes before a subject ("Re:", "Fwd:", "AW:", "WG:", "RV:", "TR:"), as many as there are. */
const SUBJECT_PREFIXES = /^[ \t]*(?:(?:re|fw|fwd|aw|wg|rv|tr)[ \t]*:[ \t]*)*$/i;

/** Whether the name at `index` is the whole first line of the text (its subject, when the text is a message's), reply prefixes apart. */
function subjectIsName(text: string, index: number, length: number): boolean {
  if (index > 24 || !SUBJECT_PREFIXES.test(text.slice(0, index))) return false;
  const lineEnd = lineEndWithin(text, index + length, 8);
  return lineEnd < text.length && text.charCodeAt(lineEnd) === NEWLINE && blankBetween(text, index + length, lineEnd);
}

/** A topic after a subject's name: a dash, a colon, a bar or a parenthesis ("Ethan Marsh - return to play", "Ethan Marsh (DOB …)"). */
const TOPIC_AFTER_NAME = /^[ \t]*(?:[-–—:|(])/u;

/** Whether the name at `index` starts the text's first line (its subject, when the text is a message's), reply prefixes apart, and a topic follows it (TOPIC_AFTER_NAME). */
function subjectStartsWithName(text: string, index: number, length: number): boolean {
  return index <= 24 && SUBJECT_PREFIXES.test(text.slice(0, index)) && TOPIC_AFTER_NAME.test(text.slice(index + length, index + length + 8));
}

/** How far into the message a subject's name is followed (the first paragraphs and a short quoted note). */
const SUBJECT_NAME_REACH = 1500;

/**
 * Where, within SUBJECT_NAME_REACH characters after the subject's name, a
 * sentence or clause starts with its first name and tells that person's own
 * health (firstNameHealthAt), or -1: the subject's name identifies the
 * person the body then calls by first name.
 */
function subjectNameHealthInBody(text: string, end: number, name: string): number {
  const firstName = /^\p{Lu}[\p{Ll}'’-]+/u.exec(name)?.[0];
  if (firstName === undefined || text.indexOf(`${firstName} `, end) < 0) return -1;
  return firstNameHealthAt(text, end, text.slice(end, end + SUBJECT_NAME_REACH), firstName, true);
}

function blankBetween(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isBlankCode(text.charCodeAt(i))) return false;
  return true;
}

/** The first character after `from` that is not white space (a part break's form feed included). */
function nextWordAt(text: string, from: number): number {
  let i = from;
  while (i < text.length && isSpaceCode(text.charCodeAt(i))) i++;
  return i;
}

function proseNames(text: string, addresses: HomeAddresses, taken: OverlapIndex): PersonAnchor[] {
  const out: PersonAnchor[] = [];
  candidateNames(text, (m) => {
    // "Dear Maria Alvarez", "Yesterday Wei Zhang": the name starts after the ordinary word
    const lead = LEAD_WORD.exec(m[0]);
    const leadWord = lead ? lead[0].trim().toLowerCase() : '';
    // after a greeting, a name with a word that is also a place's ("Hello Jenna Park,") is a name
    const skip = lead && LEAD_WORDS.has(leadWord) && personLike(m[0].slice(lead[0].length), GREETINGS.has(leadWord)) ? lead[0].length : 0;
    const name = m[0].slice(skip);
    const index = m.index + skip;
    // "Mensah's biopsy": the possessive is a cue, not part of the name
    const length = name.length - (POSSESSIVE.test(name) ? 2 : 0);
    if (taken.overlaps(index, length)) return;
    // "Harlan Falls, OH 44092": a city before its state and ZIP code, not a person; "the Tall Pines crew": an article makes it a thing's or a group's
    if (cityBeforeState(text, index + length) || ARTICLE_BEFORE.test(text.slice(Math.max(0, index - 5), index))) return;
    // "Controlling High Blood Pressure": the words run into a health term, a heading's, not a name
    if (overlapsHealthTerm(text, index, length)) return;
    // a name with a word that is a surname as often as a place ("Linda Park") counts only with a patient cue
    const plain = personLike(name);
    if (!plain && !personLike(name, true)) return;
    if (staff(text, index, length)) {
      if (employeeOwnHealth(text, index, length)) out.push({ kind: 'named-patient', index, length });
      return;
    }
    const before = partBefore(text, index, 40);
    const after = text.slice(index + length, index + length + 40);
    if (
      PATIENT_CUE_BEFORE.test(before) ||
      PATIENT_IN_SENTENCE.test(before) ||
      PATIENT_CUE_AFTER.test(after) ||
      cueAfterParenthesis(text, index + length) ||
      findingAfter(text, index + length) ||
      pronounHealthAfter(text, index + length) ||
      subjectPronounHealthAfter(text, index + length, name) ||
      // "hey its Dario Pineda again, the rash on my arm is spreading": a writer naming themselves, then their own health
      (selfNamed(before) && selfNamedOwnHealth(text, index, index + length))
    ) {
      out.push({ kind: 'named-patient', index, length });
      return;
    }
    if (skip && GREETINGS.has(leadWord) && addressedAboutTheirHealth(text, index + length)) {
      out.push({ kind: 'named-patient', index, length });
      return;
    }
    // "Ethan Marsh - return to play", then "… Ethan is still getting headaches": a subject that starts with a name and a topic, the body telling
    // that first name's own health; the person is where the body tells it (the subject's name identifies them)
    const told = subjectStartsWithName(text, index, length) ? subjectNameHealthInBody(text, index + length, name) : -1;
    if (told >= 0) {
      out.push({ kind: 'named-patient', index, length }, { kind: 'named-patient', index: told, length: (/^\S+/.exec(name)?.[0] ?? name).length });
      return;
    }
    if (!plain) {
      // "schedule Linda Park for a mammogram": an everyday cue, and the name's own care right after it
      if (WEAK_CUE_BEFORE.test(before) && careRightAfter(text, index + length)) out.push({ kind: 'named-patient', index, length, weak: true });
      return;
    }
    // "Re: Maria Santos", then "Her biopsy results came back …": a subject that is only a name, and the text after it speaking of their health
    if (subjectIsName(text, index, length) && (startsWithPronounHealth(text, nextWordAt(text, index + length)) || startsWithOwnHealth(text, nextWordAt(text, index + length)))) {
      out.push({ kind: 'named-patient', index, length });
      return;
    }
    // "Rosa Morales's next iron infusion": a possessive with a health term right after it on its line
    if (POSSESSIVE.test(name) && ownHealthTermAfter(text, index + name.length, POSSESSION_REACH) !== undefined) {
      out.push({ kind: 'named-patient', index, length });
      return;
    }
    // a home address next to the name, not the organisation's block: the person is identified, whatever word introduced them
    const end = index + length;
    const address = addressNear(text, addresses, index, end);
    // "LOCATION: Maple Grove Adult Day Services, 78 Maple Grove Rd", "… Fairmont Area Middle School, 300 School St.": a place's label
    // before the name, or an organisation's word in it or between it and the address, make the address the organisation's
    if (address && !PLACE_LABEL_BEFORE.test(before) && !ORGANISATION_NAMED.test(text.slice(index, Math.max(end, address.index)))) {
      out.push({ kind: 'name-with-address', index: Math.min(index, address.index), length: Math.max(end, address.index + address.length) - Math.min(index, address.index) });
      return;
    }
    if (WEAK_CUE_BEFORE.test(before) || WEAK_CUE_AFTER.test(after)) out.push({ kind: 'named-patient', index, length, weak: true });
  });
  return out;
}

/** An age and a sex as a note gives them after a patient's name ("88F", "45 y/o", "6yo"; not "81 F", a temperature). */
const AGE_SEX = /(?<![\p{L}\d.,/:-])\d{1,3}(?:[MF]|[ \t]?(?:y\/o|yo))(?![\p{L}\d])/gu;
/** Two words in lower case right before an age and sex, a comma or a space between ("dorothy kimura, 88F"). */
const LOWER_NAME_BEFORE = /(?<![\p{L}'’-])(\p{Ll}[\p{Ll}'’-]{1,24})[ \t]+(\p{Ll}[\p{Ll}'’-]{1,24})[ \t]*,?[ \t]*$/u;

/**
 * A name typed in lower case, as a note typed on a phone does, right before
 * the patient's age and sex ("have a pt for you. dorothy kimura, 88F, rm
 * 3114"): the age and sex make the two words a patient's name when they
 * read as one (personLike, each word capitalised). The ages are found first
 * (digits are rare), then the two words before each.
 */
function lowerCaseNamesWithAge(text: string, taken: readonly PersonAnchor[]): PersonAnchor[] {
  const out: PersonAnchor[] = [];
  const found = new OverlapIndex(taken);
  eachMatch(text, AGE_SEX, (m) => {
    const before = text.slice(Math.max(0, m.index - 52), m.index);
    const name = LOWER_NAME_BEFORE.exec(before);
    if (name === null) return;
    const first = name[1] ?? '';
    const last = name[2] ?? '';
    if (NOT_A_SURNAME.has(first) || NOT_A_SURNAME.has(last)) return;
    const index = m.index - before.length + name.index;
    const length = name[0].trimEnd().replace(/,$/, '').length;
    if (!found.overlaps(index, length) && personLike(`${titleCase(first)} ${titleCase(last)}`)) out.push({ kind: 'named-patient', index, length });
  });
  return out;
}

/**
 * "Ramirez, Elena" with a birth date or record label after it, and "GARCIA,
 * MARIA" with a cue or a home address, not overlapping the names found
 * before nor each other.
 */
function lastFirstNames(text: string, taken: readonly PersonAnchor[], addresses: HomeAddresses): PersonAnchor[] {
  const out: PersonAnchor[] = [];
  const { mixed: mixedCase, capitals } = lastFirstMatches(text);
  const before = new OverlapIndex(taken);
  // the mixed-case ones are matches in order: none overlaps one found before it
  for (const m of mixedCase) {
    if (before.overlaps(m.index, m[0].length)) continue;
    const end = m.index + m[0].length;
    // a name followed by a dash or colon only: health information must follow on its line ("Okafor, Chidi – knee pain");
    // after a patient cue ("critical K+ on pt Ruiz, Daniel", "spoke with Mendes, Ana") the name is the patient's as it stands
    // … or the subject starts with it and the body tells that first name's own health ("RE: Thibodeaux, Marcus - monthly compliance" … "Marcus has made 11 of 12 IOP sessions")
    const told = subjectStartsWithName(text, m.index, m[0].length) ? subjectNameHealthInBody(text, end, (m[0].split(',')[1] ?? '').trim()) : -1;
    if (!DATE_OR_RECORD_AFTER.test(text.slice(end, end + 40)) && !findingAfter(text, end) && !PATIENT_CUE_BEFORE.test(partBefore(text, m.index, 40)) && told < 0) continue;
    if (personLike(m[0].replace(',', '')) && !staff(text, m.index, m[0].length)) out.push({ kind: 'named-patient', index: m.index, length: m[0].length });
  }
  const mixed = new OverlapIndex(out);
  // those in capitals start after the ones found before them, which end at furthest here (a name with its address may reach past its match)
  let furthest = -Infinity;
  for (const m of capitals) {
    // "MD, FACC": a signature's credentials, not "LAST, FIRST"
    if (before.overlaps(m.index, m[0].length) || mixed.overlaps(m.index, m[0].length) || furthest > m.index || credentialsOnly(m[0]) || otherColumnsValue(text, m.index) || !personLike(titleCase(m[0].replace(',', ' ')))) continue;
    const end = m.index + m[0].length;
    let found: PersonAnchor | undefined;
    if (PATIENT_CUE_AFTER.test(text.slice(end, end + 40))) found = { kind: 'named-patient', index: m.index, length: m[0].length };
    else {
      const address = addressNear(text, addresses, m.index, end);
      if (address) found = { kind: 'name-with-address', index: Math.min(m.index, address.index), length: Math.max(end, address.index + address.length) - Math.min(m.index, address.index) };
    }
    if (!found) continue;
    out.push(found);
    furthest = Math.max(furthest, found.index + found.length);
  }
  return out;
}

/** A table cell's label right before a value, as a row reads ("…; Services: "): the column's name. */
const CELL_LABEL_BEFORE = /(?:^|[;|][ \t])([\p{L}][\p{L} /]{0,30}):[ \t]*$/u;
/** Column names whose values are a person's name. */
const PERSON_COLUMN = /^(?:(?:patient|pt|member|subscriber|client|resident|employee|guarantor|insured|full|legal|last|first|family|given)\s*)?name$|^(?:patient|pt|member|subscriber|client|resident|employee|guarantor|insured|participant|student|child|parent|contact)$/i;

/** Whether text[index] starts the value of a table cell whose column is not a person's ("Services: IOP, MAT, …" is no "LAST, FIRST"). */
function otherColumnsValue(text: string, index: number): boolean {
  const label = CELL_LABEL_BEFORE.exec(text.slice(lineStartWithin(text, index, 40), index));
  return label !== null && !PERSON_COLUMN.test((label[1] ?? '').trim());
}

/** Whether a name in capitals ("MD, FACC") is made of credentials only. */
function credentialsOnly(name: string): boolean {
  return name.split(/[\s,]+/).every((w) => w === '' || isCredential(w));
}

/** A home address right after the name (same or next line) or right before it ("14 Elm Street (Maria Alvarez)"), with nothing of the organisation between. */
function addressNear(text: string, home: HomeAddresses, start: number, end: number): Span | undefined {
  // at most one line break between, nothing of the organisation, and no sentence's end (the address is another sentence's)
  // … and no other cell of an aligned table between ("Early Birds AA (open)     St. Patrick's, 282 Suffolk St": the address is the next column's place)
  const close = (between: string): boolean => between.indexOf('\n', between.indexOf('\n') + 1) < 0 && !ORG_LINE.test(between) && !holdsSentenceEnd(between) && !cellsBetween(between);
  const addresses = home.found;
  const after = addresses.firstStartingIn(end, end + 60, (a) => close(text.slice(end, a.index)) && !PLACE_LABEL_BEFORE.test(text.slice(Math.max(end, a.index - 24), a.index)));
  if (after) return after;
  // before the name, the address's own lead-in names no organisation either, in any case ("our oncology unit at 300 Lake
  // Shore Drive … Send resumes to Tom Becker"): a name after the organisation's address is not who lives there
  // right after the street and a comma ("415 W. Mound St., Alder Crossing"), the words are the address's town, not who lives there
  return addresses.firstEndingIn(
    start - 40,
    start,
    (a) => !TOWN_AFTER_STREET.test(text.slice(a.index + a.length, start)) && close(text.slice(a.index + a.length, start)) && !ORG_LINE.test(text.slice(lineStartWithin(text, a.index, ADDRESS_LEAD_IN), a.index)) && !PLACE_LABEL_BEFORE.test(text.slice(Math.max(0, a.index - 24), a.index)),
  );
}

/** An organisation's word, capitalised as in its name ("Middle School", "Adult Day Services", "St. Anne's Food Pantry"). */
const ORGANISATION_NAMED = /(?<![\p{L}])(?:School|Schools|Academy|College|University|Institute|Services|Service|Shelter|Pantry|Church|Parish|Library|Agency|Ministries|Association|Society|Foundation|Center|Centre|Clinic|Hospital|Program|Programme|Department|YMCA|YWCA|SCHOOL|SERVICES|SHELTER|PANTRY|CENTER|CLINIC|HOSPITAL)(?![\p{L}])/u;

/** A place's label right before an address ("Location: 410 E Pine St", a directory's "Site:" column): a department's or a meeting's place, not where the name before or after it lives. */
const PLACE_LABEL_BEFORE = /(?:^|[;,\n\t])[ \t]*(?:location|site|office|building|campus|venue|branch|facility|where|clinic[ \t]+address|practice[ \t]+address|department[ \t]+address|office[ \t]+address)[ \t]*:[ \t]*$/i;

/** Whether text between a name and an address holds words and a column's gap (two spaces or more, a tab): another cell of an aligned table stands between them. */
function cellsBetween(between: string): boolean {
  return /(?: {2}|\t)/.test(between) && /\S/.test(between);
}

/** What stands between a street address and its town: a comma or a semicolon (a contact card's fields), blanks around it. */
const TOWN_AFTER_STREET = /^[ \t]*[,;][ \t]*$/;

/** How far before an address its lead-in is read for an organisation word (addressNear). */
const ADDRESS_LEAD_IN = 60;

/**
 * A word every home address cue holds ("address", "lives", "wohnhaft",
 * "domicilio" …), as case-insensitive as the cue: without one in the text,
 * no address has a cue before it. Grouped by first letter (the same words:
 * only whether one is there is asked), so the search tries at a letter only
 * its own words: about a fifth faster over a text that holds none.
 */
const HOME_ADDRESS_CUE_WORD = /a(?:ddress)|l(?:ives|iving)|r(?:esid)|s(?:taying)|w(?:ohn)|d(?:omicil|emeurant)|v(?:ive)|h(?:abite)/i;

/**
 * The home addresses of a text, searched the first time they are needed: a
 * name without a cue that looks for its address, or a home address cue in
 * the text (small texts often have neither, and the address search is one
 * of the slowest).
 */
class HomeAddresses {
  private ordered: OrderedSpans<Span> | undefined;

  constructor(private readonly text: string) {}

  get found(): OrderedSpans<Span> {
    this.ordered ??= new OrderedSpans(homeAddresses(this.text));
    return this.ordered;
  }

  get searched(): boolean {
    return this.ordered !== undefined;
  }
}

/** A home address the text says is a person's ("Home address: …", "lives at …"): a person is there even without a name. */
function labelledHomeAddresses(text: string, home: HomeAddresses): PersonAnchor[] {
  // not searched yet, and no cue anywhere in the text: no address can have one before it
  if (!home.searched && !HOME_ADDRESS_CUE_WORD.test(text)) return [];
  return home.found.spans.filter((a) => HOME_ADDRESS_CUE.test(text.slice(Math.max(0, a.index - 40), a.index))).map((a) => ({ kind: 'home-address', index: a.index, length: a.length }));
}

/** An e-mail address said to be a patient's ("Patient email: …", "her email …"). */
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g;
const PATIENT_EMAIL_CUE = /\b(?:patient(?:['’]s)?|pt\.?|personal|home|caregiver|guardian|parent|mother|father|daughter|son|his|her|their)\b[^\n]{0,20}$/i;

const EMAIL_AT = new RegExp(EMAIL.source, 'y');

/** A character of an address's local part ([A-Za-z0-9._%+-]). */
function localChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

/**
 * What the global search of EMAIL finds, tried only where it can start: the
 * first local-part character of the 64 before an "@" (a match holds the
 * first "@" after its start, and whether the rest matches does not depend on
 * where the local part starts).
 */
function emailMatches(text: string): { index: number; length: number }[] {
  const out: { index: number; length: number }[] = [];
  let from = 0;
  for (let at = text.indexOf('@', 1); at >= 0; at = text.indexOf('@', Math.max(at, from) + 1)) {
    let start = at;
    while (start > from && start > at - 64 && localChar(text.charCodeAt(start - 1))) start--;
    if (start === at) continue;
    EMAIL_AT.lastIndex = start;
    const m = EMAIL_AT.exec(text);
    if (!m) continue;
    out.push({ index: start, length: m[0].length });
    from = start + m[0].length;
  }
  return out;
}

/**
 * Phone numbers or e-mail addresses the words just before them on their
 * line say are a patient's ("Patient cell:", "her email"), and not the
 * office's ("clinic line", "contact us").
 */
function patientContacts(text: string, contacts: Iterable<Span>, kind: 'patient-phone' | 'patient-contact', window: number, cue: RegExp, office: RegExp): PersonAnchor[] {
  const out: PersonAnchor[] = [];
  for (const { index, length } of contacts) {
    const before = text.slice(Math.max(0, index - window), index);
    const lineBefore = before.slice(before.lastIndexOf('\n') + 1);
    if (cue.test(lineBefore) && !office.test(lineBefore)) out.push({ kind, index, length });
  }
  return out;
}

const OFFICE_EMAIL = /\b(?:office|clinic|desk|department|practice|support|contact\s+us)\b/i;
/** Words on a phone's line that make it the organisation's or a staff member's: an extension, a pager, a role, scheduling, new patients; a contact card's TEL property ("TEL;TYPE=CELL:": the card's holder, not a patient). */
const OFFICE_PHONE = /^[ \t]*TEL[;:]|\b(?:office|clinic|fax|main|desk|line|department|practice|ext|extension|pager|manager|director|coordinator|supervisor|scheduling|appointments|intake|new[\s-]patients?)\b/i;

function patientEmails(text: string): PersonAnchor[] {
  return patientContacts(text, emailMatches(text), 'patient-contact', 30, PATIENT_EMAIL_CUE, OFFICE_EMAIL);
}

/** The phone detector accepts every match of its pattern (nothing to validate, no keyword required): its spans are the phone numbers, found once per verdict. */
function patientPhones(text: string): PersonAnchor[] {
  return patientContacts(text, phoneDetector.locate?.(text) ?? [], 'patient-phone', 40, PATIENT_PHONE_CUE, OFFICE_PHONE);
}

/** Street addresses that are not on an organisation's contact line. */
export function homeAddresses(text: string): { index: number; length: number }[] {
  const out: { index: number; length: number }[] = [];
  const cells = new AddressCells(text);
  addressMatches(text, (m) => {
    if (cells.organisation(m.index, m[0].length)) return;
    // a contact block: the address followed by the office's numbers or web site
    const next = text.slice(m.index + m[0].length, m.index + m[0].length + 160).split('\n').slice(1, 3).join('\n');
    if (CONTACT_LINE.test(next)) return;
    out.push({ index: m.index, length: m[0].length });
  });
  return out;
}

/**
 * Every place the text names an individual who is not staff (found once per
 * text within a verdict, which may ask twice: for its PHI rule and for the
 * PERSON_NAME category). Callers only read the array.
 */
export function personAnchors(text: string): readonly PersonAnchor[] {
  // the health terms, addresses and names are read once for all candidates, also when asked outside a verdict
  return withScanCache(() => cachedScan(personAnchors, text, findPersonAnchors));
}

/** An officer's title after a name, as a contract's signature block gives it ("…, CEO", "…, President", "…, Vice President of Finance"). */
const SIGNATORY_AFTER = /^[ \t]*,[ \t]*(?:chief\s+[\p{L}]+\s+officer|ceo|cfo|coo|cmo|cno|cio|president|vice\s+president|vp|owner|treasurer|secretary|chair(?:man|woman|person)?|managing\s+partner|executive\s+director)(?![\p{L}])/iu;

/** A test patient's name in capitals, as training and interface environments write it ("ZZTRAIN, DOWNTIME", "ZZTEST PATIENT", "TESTPATIENT ALPHA"). */
const TEST_PATIENT_WORD = /(?<![\p{L}])(?:ZZ[A-Z]+|XX[A-Z]{2,}|TESTPATIENT)(?![\p{L}])/u;

/** Whether a labelled name's value (after its label's last colon) is a test patient's (TEST_PATIENT_WORD): no one. */
function testPatientValue(text: string, s: Span): boolean {
  const mention = text.slice(s.index, s.index + s.length);
  return TEST_PATIENT_WORD.test(mention.slice(mention.lastIndexOf(':') + 1));
}

/** A physician's degree right after a name ("…, MD"). */
const CLINICIAN_AFTER = /^,?[ \t]*(?:MD|DO|M\.D\.|D\.O\.|MBBS|DDS|DMD)(?![\p{L}])/u;

/** Whether a name labelled "Resident" carries a physician's degree ("Resident: Aisha Rahman, MD"): a resident physician on a rotation schedule, not a care home's resident. */
function residentPhysician(text: string, s: Span): boolean {
  return /^resident\b/i.test(text.slice(s.index, s.index + 9)) && CLINICIAN_AFTER.test(text.slice(s.index + s.length, s.index + s.length + 12));
}

/** How long a parenthesis after a name may be for the cue after it to count ("Joanne Nakamura (Environmental Services, claim WC-24-117730, DOI 11/04/2024) was seen"). */
const PARENTHESIS_REACH = 120;

/** Whether a parenthesis follows the name ending at `end` and a patient cue (PATIENT_CUE_AFTER) follows the parenthesis. */
function cueAfterParenthesis(text: string, end: number): boolean {
  let i = end;
  while (isBlankCode(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 40) return false;
  const close = text.indexOf(')', i);
  if (close < 0 || close - i > PARENTHESIS_REACH || text.slice(i, close).includes('\n')) return false;
  return PATIENT_CUE_AFTER.test(text.slice(close + 1, close + 41));
}

/** A provider directory's or a credentialing roster's columns: the person in the row is a clinician (their NPI is public), not a patient. */
const PROVIDER_COLUMN = /(?:^|;[ \t])(?:credentials?|degree|(?:individual|rendering|provider)[ \t]+npi|taxonomy(?:[ \t]+code)?|specialty|board[ \t]+certification|license[ \t]*(?:#|no\.?|number)?)[ \t]*:/imu;
/** A patient's labels in a row ("Patient Last Name", "Member Name", "Subscriber"): the row is about them, whatever provider columns it also has. */
const PATIENT_LABEL = /^(?:patient|pt|member|subscriber|client|resident|insured|guarantor)\b/i;

/** Whether a labelled name stands in a table row (one "header: value; …" line) with a provider's columns and is not labelled a patient's. */
function providerRow(text: string, s: Span): boolean {
  if (PATIENT_LABEL.test(text.slice(s.index, s.index + 12))) return false;
  const start = lineStartWithin(text, s.index, 2000);
  return PROVIDER_COLUMN.test(text.slice(start, lineEndWithin(text, s.index + s.length, 2000)));
}

/** Whether a labelled name's value (after its label's last colon or "#") runs into a health term under a label that is not a patient's: a test's, a drug's or a code's name ("cascade name: Est Avg Glucose", "Name: Hemoglobin A1c"), not a person's ("Patient: Maria Alvarez Diabetes follow-up" is). */
function healthTermValue(text: string, s: Span): boolean {
  const mention = text.slice(s.index, s.index + s.length);
  if (PATIENT_LABEL.test(mention)) return false;
  const value = Math.max(mention.lastIndexOf(':'), mention.lastIndexOf('#')) + 1;
  return overlapsHealthTerm(text, s.index + value, s.length - value);
}

/** A form's signer with an officer's title in the field after the name ("Name: Catherine Ruiz-Molina Title: Chief Operating Officer"; not "Job title: RN"). */
const OFFICER_TITLE_FIELD = /(?<![\p{L}])(?<!job[ \t])title[ \t]*:[ \t]*(?:chief|ceo|cfo|coo|cmo|cno|cio|president|vice[ \t]+president|vp|owner|treasurer|secretary|chair|executive|administrator|director|managing)(?![\p{L}])/iu;

/** A conventional placeholder's name at the end of a mention: John or Jane Doe, Roe, Q. Public, Sample, Example; Test Patient, Patient Test. */
const PLACEHOLDER_NAME = /(?<![\p{L}])(?:(?:john|jane|janie|johnny|baby|richard|mary)[ \t]+(?:q\.?[ \t]+)?(?:doe|roe|public|sample|example|testperson)|test[ \t]+patient|patient[ \t]+test|sample[ \t]+patient)$/iu;

/** The words of a training's, a form's or a demo's example ("Example of …", "e.g.", "sample", "fictitious", "demonstration data"): found once per text. */
const EXAMPLE_MARK = /\b(?:examples?|e\.g\.|for\s+instance|placeholders?|samples?|fictitious|fictional|fake|dummy|demo|demonstration|training|template|mock)\b/i;
const holdsExampleMark = scanOnce((text) => EXAMPLE_MARK.test(text));

/**
 * Whether a labelled name is not someone the text can be about: a
 * signatory with an officer's title after the name ("Name: Gail Whitcomb,
 * CEO" under a contract, "… Title: Chief Operating Officer" on a form; not
 * "Employee: Kevin Abernathy, RN"), a resident physician, a test patient,
 * a provider directory's row, or a test's or a code's name under a name
 * label.
 */
function namesNoPatient(text: string, s: Span): boolean {
  return (
    SIGNATORY_AFTER.test(text.slice(s.index + s.length, s.index + s.length + 40)) ||
    OFFICER_TITLE_FIELD.test(text.slice(s.index, s.index + s.length + 40)) ||
    residentPhysician(text, s) ||
    testPatientValue(text, s) ||
    providerRow(text, s) ||
    healthTermValue(text, s)
  );
}

function findPersonAnchors(text: string): PersonAnchor[] {
  const single = personNameDetector.locate?.(text) ?? [];
  // a name in two parts that the single label found already ("Apellidos: Ruiz García; Nombre: Carlos") is one mention
  const singleIndex = new OverlapIndex(single);
  const parts = (personNamePartsDetector.locate?.(text) ?? []).filter((s) => !singleIndex.overlaps(s.index, s.length));
  const labelled = [...single, ...parts]
    .filter((s) => !namesNoPatient(text, s))
    .sort((a, b) => a.index - b.index)
    .map((s): PersonAnchor => ({ kind: 'labelled-name', ...s }));
  const named = [...labelled, ...honorificNames(text)];
  const addresses = new HomeAddresses(text);
  const prose = proseNames(text, addresses, new OverlapIndex(named));
  const mentioned = [...named, ...prose];
  const all = [...mentioned, ...lastFirstNames(text, mentioned, addresses), ...lowerCaseNamesWithAge(text, mentioned), ...lowerCaseGivenNames(text, mentioned), ...labelledHomeAddresses(text, addresses), ...patientPhones(text), ...patientEmails(text), ...signedAuthors(text), ...quotedAuthors(text)].sort((a, b) => a.index - b.index);
  // the placeholder names of forms, trainings and demos ("Example: Pt Jane Doe, MRN 00XXXXXX", "demonstration data: Jane Sample") name no one there;
  // elsewhere "Jane Doe" may be an unidentified patient's alias, and stays
  if (!holdsExampleMark(text)) return all;
  return all.filter((a) => !PLACEHOLDER_NAME.test(text.slice(a.index, a.index + a.length)));
}
