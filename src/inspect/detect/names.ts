/**
 * Whether a capitalised phrase reads as a person's name: none of its words is
 * an organisation, place, role, event or ordinary word ("Riverside Family
 * Clinic", "Lincoln Park", "Patient Portal", "Diabetes Awareness Walk"), and
 * it is not a health term ("Name: Lipid Panel"). Shared by the labelled name
 * detector and the prose mentions. Pure.
 */
import { HEALTH_TERMS } from './health-terms.js';

const NOT_PERSON_WORDS: ReadonlySet<string> = new Set([
  // medical specialties and services in organisation names
  'pediatrics', 'paediatrics', 'orthopedic', 'orthopedics', 'orthopaedic', 'orthopaedics', 'spine', 'oncology', 'cardiology', 'dermatology', 'neurology',
  'urology', 'gastroenterology', 'obstetrics', 'gynecology', 'psychiatry', 'dental', 'dentistry', 'surgery', 'surgical', 'hospice', 'rehab', 'rehabilitation',
  'therapy', 'wellness', 'physicians', 'specialists', 'vision', 'eye', 'heart', 'cancer', 'kidney', 'sekretariat', 'secrétariat', 'innere', 'medizin',
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
  'id', 'identifier', 'first', 'last', 'full', 'intake', 'transport', 'flow', 'guide',
]);

const HEALTH_TERM = new RegExp(HEALTH_TERMS.source, 'iu');

export function personLike(name: string): boolean {
  if (HEALTH_TERM.test(name)) return false;
  const words = name.split(/\s+/).filter((w) => !/^\p{Lu}\.$/u.test(w));
  return words.every((w) => {
    const lower = w.toLowerCase().replace(/['’]s$/, '').replace(/\.$/, '');
    return !NOT_PERSON_WORDS.has(lower) && !NOT_PERSON_WORDS.has(lower.replace(/s$/, ''));
  });
}

/** A name followed on its line by another capitalised word ("Maria Alvarez Diabetes follow-up"): the longest person-like start of two words or more. */
export function leadingName(words: string): string | undefined {
  const parts = words.split(/[ \t]+/);
  for (let n = parts.length; n >= 2; n--) {
    const candidate = parts.slice(0, n).join(' ');
    if (personLike(candidate)) return candidate;
  }
  return undefined;
}

/** A "Name" label that names a thing, not a person ("Test name:", "Program name:", "Drug name:"): tested on the text before the label. */
export const LABEL_NOT_A_PERSON =
  /\b(?:test|lab|program|programme|product|drug|medication|course|event|file|plan|company|facility|practice|provider|doctor|physician|clinic|hospital|vendor|user|host|server|device|item|brand|generic|trade|business|organi[sz]ation|department|site|project|study|trial|book|author|class|session|panel|code|field|column|account|network|group|team|payer|insurer|employer|school|street|city|venue|location|campaign|list|form|report|document|template|procedure|service|unit|ward)\s*$/i;

/** "GARCIA" → "Garcia", "MÜLLER-LÜDENSCHEIDT" → "Müller-Lüdenscheidt"; mixed-case words are left as they are. */
export function titleCase(words: string): string {
  return words.replace(/[\p{L}'’]+/gu, (w) => (w === w.toUpperCase() && w.length > 1 ? `${w[0] ?? ''}${w.slice(1).toLowerCase()}` : w));
}
