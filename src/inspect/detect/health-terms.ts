/**
 * Health information in prose: conditions, medications and lab tests. A
 * health term alone is not PHI ("our diabetes awareness week"); next to an
 * identifier (name, DOB, MRN, SSN, MBI …) it is, because identifier + health
 * information is what HIPAA protects. `healthTermDetector` finds the terms;
 * `phiNear` decides the combination.
 */
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

function termRegex(terms: readonly string[]): RegExp {
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'));
  return new RegExp(`\\b(?:${alternatives.join('|')})\\b`, 'gi');
}

export const HEALTH_TERMS = termRegex([...CONDITIONS, ...MEDICATIONS, ...LABS]);

/** Positions of health terms in `text`. */
export function healthTermSpans(text: string): { index: number; length: number; term: string }[] {
  const out: { index: number; length: number; term: string }[] = [];
  const re = new RegExp(HEALTH_TERMS.source, 'gi');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ index: m.index, length: m[0].length, term: m[0].toLowerCase().replace(/\s+/g, ' ') });
  return out;
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
