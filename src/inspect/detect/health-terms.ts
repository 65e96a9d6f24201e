/**
 * Health information in prose: conditions, medications and lab tests. A
 * health term alone is not PHI ("our diabetes awareness week"); next to an
 * identifier (name, DOB, MRN, SSN, MBI …) it is, because identifier + health
 * information is what HIPAA protects. `healthTermDetector` finds the terms;
 * `phiNear` decides the combination.
 */
import { cachedScan } from './scan-cache.js';
import type { Detector, Finding } from './types.js';

const CONDITIONS = [
  'diabetes', 'diabetic', 'hypertension', 'cancer', 'carcinoma', 'leukemia', 'lymphoma', 'melanoma', 'tumor', 'tumour', 'hiv', 'aids', 'hepatitis',
  'tuberculosis', 'pneumonia', 'asthma', 'copd', 'emphysema', 'depression', 'depressive', 'anxiety disorder', 'bipolar', 'schizophrenia', 'ptsd', 'adhd',
  'autism', 'dementia', 'alzheimer', "alzheimer's", 'parkinson', "parkinson's", 'epilepsy', 'seizure', 'stroke', 'myocardial infarction', 'heart failure',
  'atrial fibrillation', 'arrhythmia', 'coronary artery disease', 'kidney disease', 'renal failure', 'dialysis', 'cirrhosis', 'pregnancy', 'pregnant',
  'miscarriage', 'abortion', 'sexually transmitted', 'chlamydia', 'gonorrhea', 'syphilis', 'herpes', 'substance use', 'opioid use disorder', 'alcoholism',
  'overdose', 'suicidal', 'suicide attempt', 'eating disorder', 'anorexia', 'bulimia', 'obesity', 'sepsis', 'fracture', 'concussion', 'covid-19',
  'influenza', 'multiple sclerosis', 'lupus', 'rheumatoid arthritis', 'osteoporosis', 'thyroid', 'hypothyroidism', 'anemia', 'sickle cell',
  'cystic fibrosis', 'hemophilia', 'glaucoma', 'cataract', 'infertility', 'chemotherapy', 'radiation therapy', 'biopsy', 'diagnosis', 'diagnosed',
  'prognosis', 'terminal', 'hospice', 'admitted', 'discharged', 'inpatient', 'outpatient', 'surgery', 'transplant', 'mental health',
  'hyperlipidemia', 'high cholesterol', 'sleep apnea', 'reflux', 'gerd', 'back pain', 'migraine', 'arthritis', 'osteoarthritis', 'neuropathy',
  'hyperthyroidism', 'gout', 'angina', 'peptic ulcer', 'hernia', 'appendicitis', 'psoriasis', 'eczema', 'celiac disease', 'crohn', "crohn's",
  'ulcerative colitis', 'irritable bowel', 'macular degeneration', 'hearing loss', 'sleep disorder', 'insomnia', 'panic disorder', 'ocd',
];

const MEDICATIONS = [
  'insulin', 'metformin', 'lisinopril', 'atorvastatin', 'simvastatin', 'amlodipine', 'metoprolol', 'losartan', 'warfarin', 'apixaban', 'clopidogrel',
  'levothyroxine', 'omeprazole', 'pantoprazole', 'sertraline', 'fluoxetine', 'citalopram', 'escitalopram', 'bupropion', 'trazodone', 'lithium',
  'quetiapine', 'aripiprazole', 'olanzapine', 'risperidone', 'clozapine', 'alprazolam', 'lorazepam', 'clonazepam', 'diazepam', 'oxycodone',
  'hydrocodone', 'morphine', 'fentanyl', 'buprenorphine', 'methadone', 'naloxone', 'gabapentin', 'prednisone', 'albuterol', 'amoxicillin',
  'azithromycin', 'doxycycline', 'ciprofloxacin', 'truvada', 'prep', 'antiretroviral', 'adalimumab', 'semaglutide', 'ozempic', 'methotrexate',
  'tamoxifen', 'letrozole', 'adderall', 'methylphenidate', 'ibuprofen',
];

const LABS = [
  'hba1c', 'a1c', 'cbc', 'complete blood count', 'metabolic panel', 'lipid panel', 'ldl', 'hdl', 'triglycerides', 'creatinine', 'egfr', 'tsh', 'psa',
  'viral load', 'cd4', 'pap smear', 'mammogram', 'colonoscopy', 'mri', 'ct scan', 'x-ray', 'ultrasound', 'ekg', 'ecg', 'echocardiogram', 'biopsy result',
  'pathology', 'blood culture', 'urinalysis', 'toxicology', 'drug screen', 'hiv test', 'pregnancy test', 'genetic test', 'brca',
];

/** Care, procedures and symptoms: what a visit, a route sheet or a referral says about a person's health. */
const CARE = [
  'infusion', 'iron infusion', 'infection', 'illness', 'flu-like illness', 'ear infection', 'urinary tract infection', 'uti', 'wound', 'wound care',
  'dressing change', 'picc', 'picc line', 'catheter', 'central line', 'ostomy', 'tracheostomy', 'feeding tube', 'oxygen concentrator', 'home oxygen', 'oxygen', 'oxygen tanks',
  'ventilator', 'cpap', 'bipap', 'nebulizer', 'wheelchair', 'hospital bed', 'physical therapy', 'occupational therapy', 'speech therapy',
  'chemo', 'immunotherapy', 'post-op', 'postoperative', 'post-operative', 'pre-op', 'preoperative', 'anesthesia', 'anaesthesia',
  'withdrawal', 'alcohol withdrawal', 'detox', 'rehab', 'psychiatric', 'psych unit', 'behavioral health', 'counseling', 'therapy session',
  'pain', 'chest pain', 'shortness of breath', 'dizziness', 'nausea', 'vomiting', 'fever', 'rash', 'swelling', 'bleeding', 'seizures', 'fall risk',
  'allergy', 'allergic', 'allergies', 'anaphylaxis', 'prescription', 'refill', 'dosage', 'capsule', 'vaccination',
  'immunization', 'ivf', 'prenatal', 'postpartum', 'labor and delivery', 'c-section', 'cesarean', 'ultrasound', 'pet scan', 'stress test',
  'holter', 'lab work', 'bloodwork', 'blood work', 'blood test', 'blood pressure', 'blood sugar', 'glucose', 'cholesterol', 'hemoglobin', 'platelets',
  'white count', 'inr', 'potassium', 'sodium', 'troponin', 'bnp', 'strep', 'positive for', 'negative for', 'hip replacement',
  'knee replacement', 'hip fracture', 'joint replacement', 'arthroplasty', 'cardiac', 'cardiology consult', 'oncology', 'palliative',
  'end of life', 'dnr', 'code status', 'hospice care', 'home health', 'skilled nursing', 'icu', 'nicu', 'er visit', 'ed visit', 'emergency room',
  'readmission', 'admission', 'discharge summary', 'follow-up visit', 'symptoms', 'medical history', 'hx of', 'dementia care',
];

/** The same in German, Spanish and French (letters to and from patients and clinics abroad). */
const CARE_INTL = [
  // German
  'diagnose', 'befund', 'behandlung', 'hämodialyse', 'hemodialysis', 'therapie', 'operiert', 'eingriff', 'krankenhausaufenthalt', 'stationär', 'stationäre aufnahme',
  'entlassung', 'entlassbrief', 'arztbrief', 'krebs', 'tumor', 'chemotherapie', 'strahlentherapie', 'dialyse', 'blutdruck', 'bluthochdruck',
  'hypertonie', 'schlaganfall', 'herzinfarkt', 'herzinsuffizienz', 'niereninsuffizienz', 'lungenentzündung', 'depression', 'demenz', 'schwangerschaft',
  'medikament', 'medikamente', 'medikation', 'insulin', 'allergie', 'knie-tep', 'hüft-tep', 'fraktur', 'wundversorgung', 'pflegegrad',
  'reha', 'rehabilitation', 'schmerzen', 'brustschmerzen', 'fieber', 'entzündung', 'infektion', 'impfung', 'krankheit', 'erkrankung', 'kostenübernahme',
  'ambulant', 'notaufnahme', 'intensivstation', 'psychiatrie', 'nachsorge', 'blutwerte', 'laborwerte',
  // Spanish
  'diagnóstico', 'diagnostico', 'tratamiento', 'quimioterapia', 'radioterapia', 'diálisis', 'dialisis', 'cáncer', 'cancer', 'tumor', 'cirugía',
  'cirugia', 'operado', 'operada', 'intervención', 'hospitalización', 'hospitalizacion', 'alta hospitalaria', 'embarazo', 'embarazada',
  'hipertensión', 'hipertension', 'diabetes', 'insulina', 'medicamento', 'medicamentos', 'medicación', 'receta', 'alergia', 'infarto', 'ictus',
  'insuficiencia cardíaca', 'insuficiencia renal', 'neumonía', 'neumonia', 'depresión', 'demencia', 'fractura', 'dolor torácico', 'fiebre',
  'infección', 'infeccion', 'enfermedad', 'consulta médica', 'urgencias', 'análisis de sangre', 'analisis de sangre', 'resonancia', 'biopsia', 'vacuna',
  // French
  'diagnostic', 'traitement', 'hémodialyse', 'chimiothérapie', 'chimiotherapie', 'radiothérapie', 'dialyse', 'séances de dialyse', 'cancer', 'tumeur', 'chirurgie',
  'opéré', 'opérée', 'operee', 'intervention chirurgicale', 'hospitalisation', 'hospitalisé', 'hospitalisée', 'grossesse', 'enceinte', 'hypertension',
  'diabète', 'diabete', 'insuline', 'médicament', 'médicaments', 'ordonnance', 'allergie', 'infarctus', 'avc', 'insuffisance cardiaque',
  'insuffisance rénale', 'pneumonie', 'dépression', 'démence', 'douleur', 'douleurs', 'douleurs thoraciques', 'fièvre', 'infection', 'maladie',
  'cholécystite', 'appendicite', 'bronchite', 'hépatite', 'arthrite', 'méningite', 'urgences', 'bilan sanguin', 'prise de sang', 'irm', 'biopsie', 'vaccin', 'compte rendu opératoire', 'suites opératoires', 'soins palliatifs', 'rééducation', 'kinésithérapie',
];

function termRegex(terms: readonly string[]): RegExp {
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'));
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}\\p{M}_])`, 'giu');
}

/**
 * Medical word formation: inflammations, removals, incisions, scopes,
 * repairs, diseases, pains and blood conditions ("cholecystitis",
 * "appendectomy", "colonoscopy", "neuropathy", "Gastroskopie",
 * "colecistectomía"), with the ordinary words that share an ending excluded.
 */
const MORPHOLOGY = /^(?!(?:academia|bohemia|empathy|sympathy|apathy|telepathy|antipathy|nostalgia|dichotomy)$)\p{L}{3,}(?:itis|ectomy|ectomies|otomy|ostomy|oscopy|oscopies|plasty|pathy|algia|aemia|emia|ektomie|oskopie|plastik|pathie|ämie|ectomie|otomie|oscopie|plastie|émie|algie|ectomía|otomía|oscopia|oscopía|plastia|patía)$/iu;

/** A field label whose value is health information: "Diagnosis: …", "Dx: …", "Behandlung: …", "Motif : …". */
const LABEL_WORDS = String.raw`(?:diagnos[ie]s|dx|treatment|reason\s+for\s+(?:visit|referral|admission)|chief\s+complaint|medications?|allerg(?:y|ies)|indication|symptoms|diagnose|behandlung|eingriff|befund|indikation|anamnese|diagnóstico|tratamiento|motivo\s+de\s+consulta|diagnostic|traitement|motif\s+de\s+consultation|antécédents)`;
const HEALTH_LABEL = new RegExp(String.raw`\b${LABEL_WORDS}\s*:[ \t]*(?=\p{L})`, 'giu');
/** The same at one place (the sticky form), and a label with its colon without the unicode flag (fast to search: where a label can start). */
const HEALTH_LABEL_AT = new RegExp(HEALTH_LABEL.source, 'iuy');
const LABEL_START = new RegExp(String.raw`\b${LABEL_WORDS}\s*:`, 'gi');

const TERM_LIST = [...CONDITIONS, ...MEDICATIONS, ...LABS, ...CARE, ...CARE_INTL];

export const HEALTH_TERMS = termRegex(TERM_LIST);

/**
 * The same terms as a trie over characters, matched the way HEALTH_TERMS
 * matches (a case-insensitive regex without the unicode flag): characters
 * compared by their upper case (one code unit, ASCII never from outside it),
 * a space in a term is one or more whitespace characters, a term starts and
 * ends where no letter, digit or mark (any script) touches it, and where several terms match at a
 * place the one first in the regex's order wins (longest term first).
 */
interface TrieNode {
  readonly next: Map<number, TrieNode>;
  /** The same edges for ASCII keys, by code (faster to follow). */
  readonly ascii: (TrieNode | undefined)[];
  /** The edge for a space in a term. */
  spaced: TrieNode | undefined;
  /** The term ending here: its place in the regex's alternation (lower wins). */
  rank: number;
}

/** The edge for a space in a term: one or more whitespace characters. */
const SPACE = -1;

const newNode = (): TrieNode => ({ next: new Map(), ascii: [], spaced: undefined, rank: Infinity });

function buildTrie(terms: readonly string[]): TrieNode {
  const root = newNode();
  const ordered = [...terms].sort((a, b) => b.length - a.length);
  ordered.forEach((term, rank) => {
    let node = root;
    for (let i = 0; i < term.length; i++) {
      const key = term[i] === ' ' ? SPACE : canonical(term.charCodeAt(i));
      let child = node.next.get(key);
      if (!child) {
        child = newNode();
        node.next.set(key, child);
        if (key === SPACE) node.spaced = child;
        else if (key < 128) {
          node.ascii[key] = child;
          // a case-insensitive regex without the unicode flag: a and A are one key
          if (key >= 65 && key <= 90) node.ascii[key + 32] = child;
        }
      }
      node = child;
    }
    if (rank < node.rank) node.rank = rank;
  });
  return root;
}

const CANONICAL = new Map<number, number>();

/** A code unit as a case-insensitive regex without the unicode flag compares it (ECMAScript Canonicalize). */
function canonical(c: number): number {
  if (c < 128) return c >= 97 && c <= 122 ? c - 32 : c;
  let k = CANONICAL.get(c);
  if (k === undefined) {
    const upper = String.fromCharCode(c).toUpperCase();
    k = upper.length !== 1 || upper.charCodeAt(0) < 128 ? c : upper.charCodeAt(0);
    CANONICAL.set(c, k);
  }
  return k;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}\p{M}]/u;
const WORDISH = new Map<number, boolean>();

/** A letter, digit or combining mark (any script): a term neither starts nor ends next to one ("opérée" is a word, "dialyse" in "hémodialyse" is not). */
function wordChar(c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
  if (Number.isNaN(c)) return false;
  let w = WORDISH.get(c);
  if (w === undefined) {
    w = LETTER_OR_DIGIT.test(String.fromCharCode(c));
    WORDISH.set(c, w);
  }
  return w;
}

const WHITESPACE = /\s/;

/** \s: the ASCII ones by code, the rest as the regex says. */
function space(c: number): boolean {
  if (c === 32 || (c >= 9 && c <= 13)) return true;
  return c >= 128 && WHITESPACE.test(String.fromCharCode(c));
}

const TRIE = buildTrie(TERM_LIST);

/** What HEALTH_TERMS finds in `text` (global search), in one pass without backtracking. */
function dictionaryTerms(text: string, out: HealthTermSpan[]): void {
  const n = text.length;
  let prevWord = false;
  for (let p = 0; p < n; ) {
    const c = text.charCodeAt(p);
    const word = wordChar(c);
    // every term starts with an ASCII letter: a start is a word character after a non-word one
    if (!word || prevWord) {
      prevWord = word;
      p++;
      continue;
    }
    let node: TrieNode | undefined = TRIE;
    let rank = Infinity;
    let end = -1;
    let i = p;
    while (node) {
      if (node.rank < rank && wordChar(text.charCodeAt(i - 1)) !== (i < n && wordChar(text.charCodeAt(i)))) {
        rank = node.rank;
        end = i;
      }
      if (i >= n) break;
      const k = text.charCodeAt(i);
      const spaced: TrieNode | undefined = node.spaced !== undefined && space(k) ? node.spaced : undefined;
      if (spaced) {
        i++;
        while (i < n && space(text.charCodeAt(i))) i++;
        node = spaced;
      } else {
        node = k < 128 ? node.ascii[k] : node.next.get(canonical(k));
        i++;
      }
    }
    if (end < 0) {
      prevWord = true;
      p++;
      continue;
    }
    const found = text.slice(p, end);
    out.push({ index: p, length: end - p, term: found.toLowerCase().replace(/\s+/g, ' ') });
    prevWord = wordChar(text.charCodeAt(end - 1));
    p = end;
  }
}

const DIGIT_OR_MARK = /[\p{N}\p{M}_]/u;
const LETTER = /\p{L}/u;
const LETTERS = new Map<number, boolean>();

/** \p{L} for one code point: the ASCII ones by code, the rest as the regex says. */
function letter(cp: number): boolean {
  if (cp < 128) return (cp >= 97 && cp <= 122) || (cp >= 65 && cp <= 90);
  let l = LETTERS.get(cp);
  if (l === undefined) {
    l = LETTER.test(String.fromCodePoint(cp));
    LETTERS.set(cp, l);
  }
  return l;
}

/** The last character of every medical ending (a, e, s, y, k), as the case-insensitive unicode regex compares it (ſ is s, the Kelvin sign k). */
function endingLast(c: number): boolean {
  return c === 97 || c === 65 || c === 101 || c === 69 || c === 115 || c === 83 || c === 121 || c === 89 || c === 107 || c === 75 || c === 0x17f || c === 0x212a;
}

/**
 * Medical words: whole letter runs (no digit or mark touching them) with a
 * medical ending. The runs are what \p{L}{7,} (global, unicode) finds:
 * maximal runs of seven letters (code points) or more.
 */
function morphologyTerms(text: string, out: HealthTermSpan[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    // the next letter
    let c = text.charCodeAt(i);
    let cp = c;
    let width = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    if (!letter(cp)) {
      i += width;
      continue;
    }
    // the run of letters from here
    const start = i;
    let count = 0;
    while (i < n) {
      c = text.charCodeAt(i);
      cp = c;
      width = 1;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          cp = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
          width = 2;
        }
      }
      if (!letter(cp)) break;
      count++;
      i += width;
    }
    if (count < 7 || !endingLast(text.charCodeAt(i - 1))) continue;
    const before = text[start - 1] ?? '';
    const after = text[i] ?? '';
    if ((before && DIGIT_OR_MARK.test(before)) || (after && DIGIT_OR_MARK.test(after))) continue;
    const word = text.slice(start, i);
    if (MORPHOLOGY.test(word)) out.push({ index: start, length: i - start, term: word.toLowerCase() });
  }
}

/** What HEALTH_LABEL finds (global search): tried where a label and its colon start. */
function labelTerms(text: string, out: HealthTermSpan[]): void {
  // ſ and the Kelvin sign are s and k to the unicode regex, not to the fast one: search with the regex itself
  if (text.includes('\u017f') || text.includes('\u212a')) {
    for (const m of text.matchAll(HEALTH_LABEL)) out.push({ index: m.index, length: m[0].length, term: labelTerm(m[0]) });
    return;
  }
  LABEL_START.lastIndex = 0;
  for (let s = LABEL_START.exec(text); s; s = LABEL_START.exec(text)) {
    HEALTH_LABEL_AT.lastIndex = s.index;
    const m = HEALTH_LABEL_AT.exec(text);
    if (!m) {
      LABEL_START.lastIndex = s.index + 1;
      continue;
    }
    out.push({ index: s.index, length: m[0].length, term: labelTerm(m[0]) });
    LABEL_START.lastIndex = s.index + m[0].length;
  }
  LABEL_START.lastIndex = 0;
}

const labelTerm = (label: string): string => label.toLowerCase().replace(/\s*:\s*$/, '').replace(/\s+/g, ' ');

export interface HealthTermSpan {
  readonly index: number;
  readonly length: number;
  readonly term: string;
}

const SPANS = {};

/** Positions of health terms in `text` (found once per text within a verdict). */
export function healthTermSpans(text: string): HealthTermSpan[] {
  return [...cachedScan(SPANS, text, findSpans)];
}

function findSpans(text: string): HealthTermSpan[] {
  const out: HealthTermSpan[] = [];
  dictionaryTerms(text, out);
  morphologyTerms(text, out);
  labelTerms(text, out);
  return out.sort((a, b) => a.index - b.index);
}

export const healthTermDetector: Detector = {
  id: 'health-terms',
  category: 'HEALTH_TERM',
  detect(text: string): Finding | undefined {
    const terms = new Set(healthTermSpans(text).map((s) => s.term));
    if (terms.size === 0) return undefined;
    // health terms are not identifiers: the terms themselves may be shown
    return { detector: 'health-terms', category: 'HEALTH_TERM', count: terms.size, confidence: 'low', evidence: [...terms].slice(0, 3) };
  },
};
