/**
 * Whether a capitalised phrase reads as a person's name: none of its words is
 * an organisation, place, role, event or ordinary word ("Riverside Family
 * Clinic", "Lincoln Park", "Patient Portal", "Diabetes Awareness Walk"), and
 * it is not a health term ("Name: Lipid Panel"). Shared by the labelled name
 * detector and the prose mentions. Pure.
 */
import { isSpaceCode } from './char-codes.js';
import { HEALTH_TERM_TRIE, HEALTH_TERMS } from './health-terms.js';
import { NO_NODE, ROOT, childOf, endsTerm } from './health-terms-trie.js';

const NOT_PERSON_WORDS: ReadonlySet<string> = new Set([
  // medical specialties and services in organisation names
  'pediatrics', 'paediatrics', 'orthopedic', 'orthopedics', 'orthopaedic', 'orthopaedics', 'spine', 'oncology', 'cardiology', 'dermatology', 'neurology',
  'urology', 'gastroenterology', 'obstetrics', 'gynecology', 'psychiatry', 'dental', 'dentistry', 'surgery', 'surgical', 'hospice', 'rehab', 'rehabilitation',
  'therapy', 'wellness', 'physicians', 'specialists', 'vision', 'eye', 'heart', 'cancer', 'kidney', 'sekretariat', 'secrétariat', 'innere', 'medizin',
  // street names' abbreviations ("Alder Creek Rd")
  'rd', 'ave', 'blvd', 'hwy', 'pkwy', 'ste',
  // headings' and departments' words ("Uncontrolled Type 2 Diabetes", "Capacity Management"), test patients' names ("ZZTEST, ADULT")
  'type', 'uncontrolled', 'controlled', 'chronic', 'acute', 'management', 'capacity', 'zztest', 'zztrain', 'zzdemo', 'zzpatient', 'testpatient', 'mrn', 'dob', 'ssn', 'npi', 'acct', 'trn',
  'clinique', 'service', 'urgent', 'san', 'santa', 'santo', 'são', 'sankt', 'saint', 'sainte', 'fort', 'port', 'mount', 'mt', 'home', 'hh', 'imaging', 'diagnostics', 'behavioral', 'pediatric', 'maternity', 'senior', 'living',
  'clinic', 'clinics', 'hospital', 'hospitals', 'health', 'healthcare', 'medical', 'medicine', 'center', 'centre', 'centers', 'practice', 'pharmacy',
  'laboratory', 'laboratories', 'lab', 'labs', 'imaging', 'radiology', 'services', 'service', 'group', 'associates', 'foundation', 'institute',
  'university', 'college', 'school', 'inc', 'llc', 'ltd', 'corp', 'company', 'partners', 'network', 'system', 'systems', 'department', 'dept',
  'office', 'unit', 'ward', 'wing', 'building', 'campus', 'plaza', 'tower', 'suite', 'floor', 'room', 'street', 'avenue', 'road', 'boulevard',
  'lane', 'drive', 'park', 'county', 'city', 'state', 'valley', 'regional', 'community', 'family', 'general', 'memorial', 'children', "children's",
  'women', "women's", 'care', 'insurance', 'plan', 'plans', 'blue', 'cross', 'shield', 'medicare', 'medicaid', 'bank', 'credit', 'union', 'klinik',
  'klinikum', 'praxis', 'krankenhaus', 'clínica', 'clinica', 'hôpital', 'hopital', 'centro', 'cabinet', 'apotheke', 'farmacia', 'pharmacie', 'north',
  'south', 'east', 'west', 'new', 'saint', 'st', 'mount', 'lake', 'nurse', 'nursing', 'doctor', 'physician', 'director', 'manager', 'coordinator',
  'officer', 'specialist', 'administrator', 'educator', 'analyst', 'assistant', 'chief', 'president', 'supervisor', 'lead', 'technician', 'engineer',
  'team', 'staff', 'desk', 'support', 'help', 'billing', 'scheduling', 'patient', 'patients', 'member', 'members', 'provider', 'providers',
  'committee', 'board', 'council', 'program', 'programme', 'project', 'week', 'day', 'month', 'walk', 'run', 'fair', 'awareness', 'monday',
  'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'january', 'february', 'march', 'july', 'september', 'october', 'november',
  'december', 'the', 'this', 'that', 'these', 'those', 'our', 'your', 'their', 'his', 'her', 'we', 'you', 'they', 'he', 'she', 'it', 'please',
  'thanks', 'thank', 'dear', 'hi', 'hello', 'good', 'best', 'kind', 'warm', 'regards', 'sincerely', 'yours', 'all', 'any', 'each', 'every', 'no',
  'not', 'yes', 'if', 'when', 'and', 'or', 'but', 'for', 'with', 'from', 'to', 'of', 'in', 'on', 'at', 'by', 'as', 'is', 'are', 'was', 'were', 'be',
  'will', 'can', 'should', 'would', 'could', 'let', 'attached', 'subject', 're', 'fw', 'fwd', 'date', 'sent', 'note', 'notes', 'update', 'reminder',
  'result', 'results', 'report', 'reports', 'summary', 'list', 'name', 'address', 'phone', 'fax', 'email', 'tel', 'mobile', 'cell', 'home', 'work',
  'contact', 'information', 'notice', 'confidential', 'confidentiality', 'privacy', 'policy', 'portal', 'safety', 'quality', 'covid', 'flu',
  'vaccine', 'clinical', 'emergency', 'urgent', 'primary', 'internal', 'annual', 'grand', 'rounds', 'conference', 'meeting', 'training', 'webinar',
  'news', 'newsletter', 'welcome', 'congratulations', 'join', 'meet', 'award', 'portals', 'experience', 'info', 'names', 'record', 'records',
  'number', 'advocate', 'advocacy', 'access', 'relations', 'satisfaction', 'education', 'registration', 'financial', 'account', 'accounts', 'survey',
  'feedback', 'rights', 'responsibilities', 'forms', 'form', 'lists', 'change', 'changes', 'badge', 'tag', 'field', 'fields', 'search', 'lookup',
  'id', 'identifier', 'first', 'last', 'full', 'intake', 'transport', 'flow', 'guide', 'value', 'values', 'healthy',
  // what bulletins, campaigns and their sections are called ("Benefits Bulletin", "Patient Assistance Fund")
  'bulletin', 'benefit', 'enrollment', 'enrolment', 'assistance', 'fund', 'gala', 'donor', 'sponsor', 'sponsorship', 'campaign', 'digest', 'memo',
  'announcement', 'agenda', 'minutes', 'schedule', 'calendar', 'roster', 'directory', 'handbook', 'manual', 'toolkit', 'checklist', 'template',
  'dashboard', 'scorecard', 'spotlight', 'highlights', 'recap', 'wellness', 'wellbeing',
  // accreditors, agencies and associations ("Joint Commission", "Area Agency on Aging"), and the community services a resource list names ("Ana's Food Pantry")
  'commission', 'agency', 'authority', 'association', 'society', 'alliance', 'coalition', 'federation', 'collaborative', 'consortium', 'cooperative',
  'academy', 'bureau', 'administration', 'pantry', 'pantries', 'shelter', 'shelters', 'kitchen', 'mission', 'outreach', 'housing', 'hotline', 'warmline',
  // a bulletin's and a month's names in Spanish and Portuguese ("Boletim de Saúde", "Outubro Rosa")
  'boletim', 'boletín', 'saúde', 'salud', 'notícias', 'noticias', 'enero', 'febrero', 'marzo', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre',
  'noviembre', 'diciembre', 'janeiro', 'fevereiro', 'março', 'maio', 'junho', 'julho', 'setembro', 'outubro', 'novembro', 'dezembro',
  // places of worship and community centres, in the languages of the communities a clinic serves ("Legliz Batis Nouvo", "Trung Tâm Cộng Đồng")
  'church', 'chapel', 'parish', 'cathedral', 'temple', 'mosque', 'masjid', 'synagogue', 'ministry', 'ministries', 'congregation', 'iglesia', 'parroquia',
  'templo', 'comunidad', 'comunitario', 'comunitaria', 'asociación', 'asociacion', 'fundación', 'fundacion', 'sociedad', 'escuela', 'colegio', 'église',
  'eglise', 'paroisse', 'communauté', 'communaute', 'kirche', 'gemeinde', 'verein', 'legliz', 'sant', 'kominote', 'trung', 'tâm', 'cộng', 'đồng',
  'igreja', 'comunidade', 'associação', 'associacao',
  // a hospital's units, as a schedule or a board names them ("5 East Ortho/Bariatrics", "4 West Tele")
  'ortho', 'neuro', 'tele', 'telemetry', 'bariatrics', 'peds', 'pediatrics', 'med-surg', 'stepdown', 'step-down', 'obs', 'postpartum', 'antepartum',
  // what a therapy practice or a community provider calls itself ("Talk Time Speech", "Brightpath Developmental")
  'speech', 'therapies', 'developmental', 'hearing', 'counseling', 'counselling', 'fitness',
  // an event's venues ("Millbrook Public Library", "Fresh Fare Market", "Grand Mosque hall") and the abbreviated days and months of its dates ("Sat Feb 15")
  'library', 'market', 'hall', 'auditorium', 'pavilion', 'ext', 'recall', 'voluntary', 'title', 'qty', 'description', 'epic', 'cerner', 'meditech', 'camp', 'crew', 'tier', 'current', 'ratings', 'corporate', 'estimate', 'mall', 'plaza', 'stadium', 'arena', 'theater', 'theatre', 'museum', 'gym', 'ymca', 'mon', 'tue', 'tues', 'wed', 'thu',
  'thur', 'thurs', 'fri', 'sat', 'sun', 'jan', 'feb', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
  // an event's speakers, and an inventory's columns ("Speaker Dr. …", "Dept-Cost Ctr", "Asset #")
  'speaker', 'speakers', 'presenter', 'moderator', 'panelist', 'host', 'dept', 'cost', 'ctr', 'asset', 'mfr', 'loc',
]);

/**
 * Words of NOT_PERSON_WORDS that are also common surnames or given names
 * ("Linda Park", "Harold Banks", "Sarah Lane", "Karen Fields", "Kanye West",
 * "Doris Day", "Will Ortiz"). Alone they make a phrase a place or a thing
 * ("Lincoln Park", "Memorial Day"); after an honorific, a person's label or
 * a patient cue ("Mrs. Park", "Patient: Linda Park", "patient Harold Banks
 * was admitted") they are a name (personLike's `introduced`).
 */
const NAME_WORDS_TOO: ReadonlySet<string> = new Set(['park', 'bank', 'lane', 'field', 'west', 'north', 'south', 'east', 'day', 'cross', 'best', 'good', 'will', 'march', 'lake', 'street', 'hill', 'king', 'young', 'chase', 'hope', 'thu', 'sun', 'jan', 'hall']);

/** Whether `name[start, end)`, as baseWord makes it (and without a plural "s"), is in NAME_WORDS_TOO. */
function nameWordTooAt(name: string, start: number, end: number): boolean {
  const w = baseWord(name.slice(start, end));
  return NAME_WORDS_TOO.has(w) || (w.endsWith('s') && NAME_WORDS_TOO.has(w.slice(0, -1)));
}

const HEALTH_TERM = new RegExp(HEALTH_TERMS.source, 'iu');

/** The health terms' trie (case-folded ASCII edges, a space edge for `\s+`): where a term can begin. */
const TERM_TRIE = HEALTH_TERM_TRIE;

/** ASCII white space as `\s` matches it (tab to carriage return, space). */
function asciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Whether HEALTH_TERM may find a term in `name`; false only when it cannot:
 * from no place where a term may start (no ASCII letter, digit or "_"
 * before it) does the trie lead, over ASCII characters, to a term's end or
 * to a space between a term's words. Anything beyond ASCII on the way (a
 * letter folded under `iu`, other white space) counts as may. Most names
 * are refused after a letter or two, without running the regex.
 */
function mayHoldHealthTerm(name: string): boolean {
  for (let p = 0; p < name.length; p++) {
    const before = p > 0 ? name.charCodeAt(p - 1) : 32;
    if (before < 128 && isAsciiWord(before)) continue;
    let node = ROOT;
    for (let i = p; node !== NO_NODE; i++) {
      if (endsTerm(TERM_TRIE, node)) return true;
      if (i >= name.length) break;
      const c = name.charCodeAt(i);
      if (c >= 128 || ((TERM_TRIE.spaced[node] as number) !== NO_NODE && asciiSpace(c))) return true;
      node = childOf(TERM_TRIE, node, c);
    }
  }
  return false;
}

function isAsciiWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

const INITIAL = /^\p{Lu}\.$/u;

/** A word as the word lists hold it: lower-cased, without a possessive "'s" and a final period. */
function baseWord(w: string): string {
  let lower = w.toLowerCase();
  const n = lower.length;
  if (n >= 2 && lower.charCodeAt(n - 1) === 115 /* s */ && (lower[n - 2] === "'" || lower[n - 2] === '’')) lower = lower.slice(0, -2);
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** One word of a name is an organisation, place, role or ordinary word: lower-cased, without a possessive "'s" and a final period, in the list (also without a plural "s"). */
function notPersonWord(w: string): boolean {
  // an initial ("J.") is no word
  if (w.length <= 3 && w.endsWith('.') && INITIAL.test(w)) return false;
  const lower = baseWord(w);
  return NOT_PERSON_WORDS.has(lower) || (lower.endsWith('s') && NOT_PERSON_WORDS.has(lower.slice(0, -1)) && !SURNAME_PLURALS.has(lower));
}

/**
 * The ASCII words of NOT_PERSON_WORDS as a trie over "a"–"z" and "'": node n
 * has child `CHILD[n * TRIE_WIDTH + k]` (0: none; the root is node 0), and a
 * word ends at n when `END[n]` is 1. Lets a word of the text be looked up
 * without lower-casing or slicing it.
 */
const TRIE_WIDTH = 27;
const { child: CHILD, end: END } = asciiTrie([...NOT_PERSON_WORDS].filter((w) => /^[a-z']+$/.test(w)));

function asciiTrie(words: readonly string[]): { child: Int32Array; end: Uint8Array } {
  const size = 1 + words.reduce((n, w) => n + w.length, 0);
  const child = new Int32Array(size * TRIE_WIDTH);
  const end = new Uint8Array(size);
  let nodes = 1;
  for (const w of words) {
    let node = 0;
    for (let i = 0; i < w.length; i++) {
      const slot = node * TRIE_WIDTH + trieKey(w.charCodeAt(i));
      if (child[slot] === 0) child[slot] = nodes++;
      node = child[slot] as number;
    }
    end[node] = 1;
  }
  return { child, end };
}

/** A letter's place in a trie node (either case), "'" last; -1 for anything else. */
function trieKey(c: number): number {
  if (c >= 97 && c <= 122) return c - 97;
  if (c >= 65 && c <= 90) return c - 65;
  return c === 39 ? 26 : -1;
}

/** Whether `name[start, end)`, lower-cased (ASCII), is an ASCII word of NOT_PERSON_WORDS. */
function inTrie(name: string, start: number, end: number): boolean {
  let node = 0;
  for (let i = start; i < end; i++) {
    const k = trieKey(name.charCodeAt(i));
    if (k < 0) return false;
    node = CHILD[node * TRIE_WIDTH + k] as number;
    if (node === 0) return false;
  }
  return END[node] === 1;
}

/** `notPersonWord(name.slice(start, end))`, without the slice and lower-casing for an ASCII word (the same steps on char codes). */
function notPersonWordAt(name: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (name.charCodeAt(i) >= 128) return notPersonWord(name.slice(start, end));
  const n = end - start;
  // an initial ("J.")
  if (n === 2 && name.charCodeAt(end - 1) === 46 && isUpperAscii(name.charCodeAt(start))) return false;
  let e = end;
  if (n >= 2 && (name.charCodeAt(e - 1) | 32) === 115 && name.charCodeAt(e - 2) === 39) e -= 2;
  if (e > start && name.charCodeAt(e - 1) === 46) e--;
  return inTrie(name, start, e) || (e > start && (name.charCodeAt(e - 1) | 32) === 115 && inTrie(name, start, e - 1) && !SURNAME_PLURALS.has(name.slice(start, e).toLowerCase()));
}

/** Plurals of NOT_PERSON_WORDS that are common surnames first ("Maria Santos", "Harold Banks"): not read as the plural. */
const SURNAME_PLURALS: ReadonlySet<string> = new Set(['santos', 'banks']);

function isUpperAscii(c: number): boolean {
  return c >= 65 && c <= 90;
}

/**
 * Whether a capitalised phrase reads as a person's name. `introduced`: an
 * honorific, a person's label or a patient cue comes before it, so a word
 * that is a surname as often as a place (NAME_WORDS_TOO) does not refuse it.
 */
export function personLike(name: string, introduced = false): boolean {
  // the words first: they are cheap to look up, and an organisation's name fails there
  for (let i = 0; i < name.length; ) {
    while (i < name.length && isSpaceCode(name.charCodeAt(i))) i++;
    const start = i;
    while (i < name.length && !isSpaceCode(name.charCodeAt(i))) i++;
    if (i > start && notPersonWordAt(name, start, i) && !(introduced && nameWordTooAt(name, start, i))) return false;
  }
  return !(mayHoldHealthTerm(name) && HEALTH_TERM.test(name));
}

/**
 * The positions of the spaces between the words of `words` when single
 * spaces separate them (then the first n words are the text up to space n);
 * undefined for a tab, several spaces in a row or a space at either end.
 */
function singleSpaced(words: string): number[] | undefined {
  const spaces: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const c = words.charCodeAt(i);
    if (c === 9) return undefined;
    if (c !== 32) continue;
    if (i === 0 || i === words.length - 1 || words.charCodeAt(i + 1) === 32 || words.charCodeAt(i + 1) === 9) return undefined;
    spaces.push(i);
  }
  return spaces;
}

/** A name followed on its line by another capitalised word ("Maria Alvarez Diabetes follow-up"): the longest person-like start of two words or more. */
export function leadingName(words: string, introduced = false): string | undefined {
  const spaces = singleSpaced(words);
  if (spaces) {
    // the starts are slices of the text itself (no splitting and joining)
    for (let n = spaces.length + 1; n >= 2; n--) {
      const candidate = n === spaces.length + 1 ? words : words.slice(0, spaces[n - 1]);
      const rest = n === spaces.length + 1 ? '' : words.slice((spaces[n - 1] as number) + 1, spaces[n] ?? words.length);
      if (introducedName(candidate, rest, introduced)) return candidate;
    }
    return undefined;
  }
  const parts = words.split(/[ \t]+/);
  const gaps = words.match(/[ \t]+/g) ?? [];
  for (let n = parts.length; n >= 2; n--) {
    const candidate = parts.slice(0, n).join(' ');
    if (introducedName(candidate, parts[n] ?? '', introduced, gaps[n - 1] === ' ')) return candidate;
  }
  return undefined;
}

/** The last words of organisations' names: a labelled phrase's start before one is the organisation's name ("Ship to: Northgate Reference Laboratory"). */
const ORGANISATION_NEXT: ReadonlySet<string> = new Set([
  'laboratory', 'laboratories', 'lab', 'labs', 'medical', 'center', 'centre', 'hospital', 'clinic', 'pharmacy', 'health', 'healthcare', 'associates',
  'group', 'inc', 'inc.', 'llc', 'services', 'institute', 'foundation', 'partners', 'supply', 'diagnostics',
  // a care home's or a facility's ("Ship to: Willow Creek Care Center", "Maple Grove Nursing Home", "Sunrise Senior Living", "Oak Manor")
  'care', 'nursing', 'living', 'manor',
]);

/**
 * personLike for the start of a labelled phrase, `next` the phrase's word
 * after it (`nextJoined`: one space between): no start before an organisation's word (ORGANISATION_NEXT:
 * "Ship to: Northgate Reference Laboratory"); a start that is a name only
 * because it was introduced ("Linda Park") is not one when any word that is
 * no person's follows it ("Ship to: Lincoln Park Pharmacy").
 */
function introducedName(candidate: string, next: string, introduced: boolean, nextJoined = true): boolean {
  // "Ship to: Northgate Reference Laboratory": the words before an organisation's word are its name's (not one a column apart: "Maria\tAlvarez  Clinic")
  if (nextJoined && ORGANISATION_NEXT.has(next.toLowerCase())) return false;
  if (personLike(candidate)) return true;
  return introduced && personLike(candidate, true) && !(next !== '' && notPersonWord(next));
}

/** A "Name" label that names a thing, not a person ("Test name:", "Program name:", "Drug name:"): tested on the text before the label. */
export const LABEL_NOT_A_PERSON =
  /\b(?:test|lab|program|programme|product|drug|medication|course|event|file|plan|company|facility|practice|provider|doctor|physician|clinic|hospital|vendor|user|host|server|device|item|brand|generic|trade|business|organi[sz]ation|department|site|project|study|trial|book|author|class|session|panel|code|field|column|account|network|group|team|payer|insurer|employer|school|street|city|venue|location|campaign|list|form|report|document|template|procedure|service|unit|ward)[ \t]*$/i;

/** "GARCIA" → "Garcia", "MÜLLER-LÜDENSCHEIDT" → "Müller-Lüdenscheidt"; mixed-case words are left as they are. */
export function titleCase(words: string): string {
  if (asciiMixedCase(words)) return words;
  return words.replace(/[\p{L}'’]+/gu, (w) => (w === w.toUpperCase() && w.length > 1 ? `${w[0] ?? ''}${w.slice(1).toLowerCase()}` : w));
}

/** ASCII, and every word of two letters or more (letters and apostrophes) holds a lower-case letter: titleCase leaves it as it is. */
function asciiMixedCase(words: string): boolean {
  let length = 0;
  let lower = false;
  for (let i = 0; i <= words.length; i++) {
    const c = i < words.length ? words.charCodeAt(i) : 32;
    if (c >= 128) return false;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 39) {
      length++;
      if (c >= 97) lower = true;
      continue;
    }
    if (length > 1 && !lower) return false;
    length = 0;
    lower = false;
  }
  return true;
}
