/**
 * Health information in prose: conditions, medications and lab tests. A
 * health term alone is not PHI ("our diabetes awareness week"); next to an
 * identifier (name, DOB, MRN, SSN, MBI …) it is, because identifier + health
 * information is what HIPAA protects. `healthTermDetector` finds the terms;
 * `phiNear` decides the combination.
 *
 * Three kinds of span: the dictionary's terms (the lists below, matched as
 * HEALTH_TERMS would match them), medical word formation and field labels.
 * The text is read once, as code units in a typed array: the words pass
 * (`health-terms-words.ts`, with the dictionary as a flat trie,
 * `health-terms-trie.ts`) and the labels, read back from each colon
 * (`health-terms-labels.ts`); `health-terms-chars.ts` classes the units.
 */
import { cachedScan } from './scan-cache.js';
import type { Detector, Finding } from './types.js';
import { codeUnits } from './health-terms-chars.js';
import { labelTerms } from './health-terms-labels.js';
import { nearTermIndex } from './health-terms-near.js';
import { buildTermTrie } from './health-terms-trie.js';
import { type HealthTermSpan, wordTerms } from './health-terms-words.js';
import { unspacedTerms } from './health-terms-unspaced.js';

const CONDITIONS = [
  'diabetes', 'diabetic', 'hypertension', 'cancer', 'carcinoma', 'leukemia', 'lymphoma', 'melanoma', 'tumor', 'tumour', 'hiv', 'aids', 'hepatitis',
  'tuberculosis', 'pneumonia', 'asthma', 'copd', 'emphysema', 'depression', 'depressive', 'anxiety disorder', 'bipolar', 'schizophrenia', 'ptsd', 'adhd',
  'autism', 'dementia', 'alzheimer', "alzheimer's", 'parkinson', "parkinson's", 'epilepsy', 'seizure', 'stroke', 'myocardial infarction', 'heart failure',
  'atrial fibrillation', 'arrhythmia', 'coronary artery disease', 'kidney disease', 'renal failure', 'dialysis', 'cirrhosis', 'pregnancy', 'pregnant', 'preeclampsia', 'pre-eclampsia', 'eclampsia', 'bed rest',
  'miscarriage', 'abortion', 'sexually transmitted', 'chlamydia', 'gonorrhea', 'syphilis', 'herpes', 'substance use', 'opioid use disorder', 'alcoholism',
  'overdose', 'suicidal', 'suicide attempt', 'eating disorder', 'anorexia', 'bulimia', 'obesity', 'sepsis', 'fracture', 'concussion', 'covid-19',
  'influenza', 'multiple sclerosis', 'lupus', 'rheumatoid arthritis', 'osteoporosis', 'thyroid', 'hypothyroidism', 'anemia', 'sickle cell',
  'cystic fibrosis', 'hemophilia', 'glaucoma', 'cataract', 'infertility', 'chemotherapy', 'radiation therapy', 'radiation treatment', 'radiation treatments', 'radiation appointment', 'radiation session', 'radiation sessions', 'radiotherapy', 'biopsy', 'diagnosis', 'diagnosed',
  'prognosis', 'terminal', 'hospice', 'admitted', 'discharged', 'inpatient', 'outpatient', 'surgery', 'transplant', 'mental health',
  'hyperlipidemia', 'high cholesterol', 'sleep apnea', 'reflux', 'gerd', 'back pain', 'migraine', 'arthritis', 'osteoarthritis', 'neuropathy',
  'hyperthyroidism', 'gout', 'angina', 'peptic ulcer', 'hernia', 'appendicitis', 'psoriasis', 'eczema', 'celiac disease', 'crohn', "crohn's",
  'ulcerative colitis', 'irritable bowel', 'macular degeneration', 'hearing loss', 'sleep disorder', 'insomnia', 'panic disorder', 'ocd',
  // notifiable and common infections, symptoms and findings a problem list or a public health report names
  'measles', 'mumps', 'rubella', 'pertussis', 'whooping cough', 'varicella', 'chickenpox', 'shingles', 'herpes zoster', 'lyme disease', 'rabies',
  'salmonella', 'salmonellosis', 'norovirus', 'rsv', 'wheezing', 'cough', 'neoplasm', 'dysplasia', 'diverticulosis', 'otitis media', 'sprain',
  // injuries, as a workers' compensation claim or an urgent care note names them
  'sprained', 'lumbar strain', 'back strain', 'neck strain', 'muscle strain', 'hamstring strain', 'laceration', 'contusion', 'dislocation',
  'dislocated', 'whiplash', 'torn meniscus', 'torn acl', 'rotator cuff tear', 'broken wrist', 'broken ankle', 'broken arm', 'broken leg', 'broken hip',
  // what patients and families call their illnesses and symptoms, and what a chart abbreviates
  'headache', 'migraine headache', 'anxiety', 'panic attack', 'panic attacks', 'flu', 'covid', 'sinus infection', 'strep throat', 'pink eye', 'sore throat',
  'diarrhea', 'diarrhoea', 'constipation', 'stomach ache', 'stomachache', 'stomach pain', 'abdominal pain', 'knee pain', 'neck pain', 'joint pain',
  'palpitations', 'numbness', 'tingling', 'blurry vision', 'blurred vision', 'fatigue', 'lightheaded', 'light-headed', 'fainted', 'fainting', 'passed out',
  'throwing up', 'threw up', 'throw up', 'vomited', 'coughing', 'itching', 'hives', 'heartburn', 'kidney stone', 'gallstones', 'gallbladder',
  'heart murmur', 'heart valve', 'pacemaker', 'defibrillator', 'trimester', 'latent tb', 'tb test', 'tb skin test', 'quantiferon',
  'htn', 'dm2', 't2dm', 'chf', 'aki', 'ckd', 'esrd', 'nstemi', 'stemi', 'dvt', 'gi bleed', 'etoh', 'cva',
];

const MEDICATIONS = [
  'insulin', 'metformin', 'lisinopril', 'atorvastatin', 'simvastatin', 'amlodipine', 'metoprolol', 'losartan', 'warfarin', 'apixaban', 'clopidogrel',
  'levothyroxine', 'omeprazole', 'pantoprazole', 'sertraline', 'fluoxetine', 'citalopram', 'escitalopram', 'bupropion', 'trazodone', 'lithium',
  'quetiapine', 'aripiprazole', 'olanzapine', 'risperidone', 'clozapine', 'alprazolam', 'lorazepam', 'clonazepam', 'diazepam', 'oxycodone',
  'hydrocodone', 'morphine', 'fentanyl', 'buprenorphine', 'methadone', 'naloxone', 'gabapentin', 'prednisone', 'albuterol', 'amoxicillin',
  'azithromycin', 'doxycycline', 'ciprofloxacin', 'truvada', 'prep', 'antiretroviral', 'adalimumab', 'semaglutide', 'ozempic', 'methotrexate',
  'tamoxifen', 'letrozole', 'adderall', 'methylphenidate', 'ibuprofen',
  // kinds of medicine as patients name them
  'medication', 'medications', 'meds', 'antibiotic', 'antibiotics', 'antidepressant', 'antidepressants', 'blood thinner', 'blood thinners', 'water pill', 'water pills',
  'inhaler', 'inhalers', 'muscle relaxer', 'muscle relaxant', 'pain pills', 'sleeping pills', 'birth control', 'premedication', 'pre-medication',
  // brand names patients use for the commonest prescriptions and over-the-counter medicines
  'seroquel', 'abilify', 'lamictal', 'depakote', 'zyprexa', 'risperdal', 'vyvanse', 'concerta', 'ritalin', 'strattera', 'cymbalta', 'effexor', 'paxil',
  'celexa', 'buspar', 'latuda', 'trintellix', 'rexulti', 'tylenol', 'advil', 'motrin', 'aleve', 'benadryl', 'zyrtec', 'claritin', 'flonase', 'singulair',
  'nexium', 'prilosec', 'protonix', 'pepcid', 'flomax', 'neurontin', 'lyrica', 'flexeril', 'ultram', 'mobic', 'celebrex', 'toradol', 'zofran',
  'valtrex', 'diflucan', 'levaquin', 'zithromax', 'z-pack', 'z-pak', 'medrol', 'crestor', 'zocor', 'norvasc', 'toprol', 'lopressor', 'coreg', 'cozaar',
  'diovan', 'zestril', 'hctz', 'glucophage', 'victoza', 'rybelsus', 'tresiba', 'levemir', 'basaglar', 'toujeo', 'invokana', 'premarin', 'fosamax',
  'prolia', 'depo-provera', 'aricept', 'namenda', 'sinemet', 'requip', 'keppra', 'dilantin', 'tegretol', 'topamax', 'imitrex', 'maxalt', 'ventolin',
  'proair', 'symbicort', 'advair', 'spiriva', 'trelegy', 'dupixent', 'stelara', 'enbrel', 'remicade', 'xeljanz', 'otezla', 'skyrizi', 'rinvoq',
  'biktarvy', 'descovy', 'paxlovid', 'vivitrol', 'sublocade', 'chantix', 'naltrexone', 'varenicline',
  // the generic and brand names most prescribed besides (a name nobody else uses: a note naming one is about someone's treatment)
  'hydrochlorothiazide', 'furosemide', 'spironolactone', 'carvedilol', 'propranolol', 'atenolol', 'diltiazem', 'verapamil', 'hydralazine', 'clonidine',
  'valsartan', 'olmesartan', 'irbesartan', 'benazepril', 'enalapril', 'ramipril', 'rosuvastatin', 'pravastatin', 'lovastatin', 'ezetimibe', 'fenofibrate',
  'rivaroxaban', 'dabigatran', 'enoxaparin', 'heparin', 'acetaminophen', 'naproxen', 'meloxicam', 'celecoxib', 'diclofenac', 'tramadol',
  'cyclobenzaprine', 'tizanidine', 'baclofen', 'methocarbamol', 'pregabalin', 'duloxetine', 'venlafaxine', 'paroxetine', 'mirtazapine',
  'amitriptyline', 'nortriptyline', 'buspirone', 'hydroxyzine', 'zolpidem', 'lamotrigine', 'levetiracetam', 'topiramate', 'carbamazepine',
  'divalproex', 'valproate', 'phenytoin', 'oxcarbazepine', 'donepezil', 'memantine', 'carbidopa', 'levodopa', 'ropinirole', 'pramipexole',
  'sumatriptan', 'rizatriptan', 'ondansetron', 'promethazine', 'metoclopramide', 'famotidine', 'esomeprazole', 'lansoprazole', 'montelukast',
  'fluticasone', 'budesonide', 'tiotropium', 'prednisolone', 'methylprednisolone', 'dexamethasone', 'hydrocortisone', 'glipizide', 'glimepiride',
  'glyburide', 'pioglitazone', 'sitagliptin', 'empagliflozin', 'dapagliflozin', 'dulaglutide', 'liraglutide', 'tirzepatide', 'insulin glargine',
  'allopurinol', 'colchicine', 'alendronate', 'finasteride', 'tamsulosin', 'oxybutynin', 'estradiol', 'medroxyprogesterone', 'norethindrone',
  'cephalexin', 'clindamycin', 'nitrofurantoin', 'sulfamethoxazole', 'metronidazole', 'fluconazole', 'valacyclovir', 'acyclovir', 'oseltamivir',
  'ceftriaxone', 'vancomycin', 'penicillin', 'levofloxacin', 'hydroxychloroquine', 'tacrolimus', 'mycophenolate', 'cyclosporine', 'infliximab',
  'etanercept', 'rituximab', 'pembrolizumab', 'nivolumab', 'trastuzumab', 'bevacizumab', 'imatinib', 'anastrozole', 'digoxin', 'amiodarone',
  'nitroglycerin', 'epinephrine', 'eliquis', 'xarelto', 'jardiance', 'farxiga', 'januvia', 'trulicity', 'mounjaro', 'wegovy', 'lantus', 'humalog',
  'novolog', 'synthroid', 'lipitor', 'zoloft', 'lexapro', 'prozac', 'wellbutrin', 'xanax', 'ativan', 'klonopin', 'ambien', 'percocet', 'norco',
  'suboxone', 'narcan', 'epipen', 'augmentin', 'keflex', 'bactrim', 'tamiflu', 'humira', 'keytruda', 'entresto', 'plavix', 'coumadin', 'lasix',
];

const LABS = [
  'hba1c', 'a1c', 'cbc', 'complete blood count', 'metabolic panel', 'lipid panel', 'ldl', 'hdl', 'triglycerides', 'creatinine', 'egfr', 'tsh', 'psa',
  'viral load', 'cd4', 'pap smear', 'mammogram', 'colonoscopy', 'mri', 'ct scan', 'x-ray', 'ultrasound', 'ekg', 'ecg', 'echocardiogram', 'biopsy result',
  'pathology', 'path results', 'path result', 'path report', 'blood culture', 'urinalysis', 'toxicology', 'drug screen', 'hiv test', 'pregnancy test', 'genetic test', 'brca',
  'mammography', 'polysomnography', 'sleep study', 'bone density', 'dexa scan',
  // a lab's call-back of a value outside the limits of life ("critical K+ 6.9"), and the basic panel such values come from
  'critical value', 'critical values', 'critical result', 'critical lab', 'bmp', 'basic metabolic panel',
  // what handoffs, pages and boards abbreviate: vital signs, a sepsis work-up, a pregnancy test, oxygen
  'bp', 'lactate', 'lactic acid', 'hcg', 'o2', 'home o2',
  // imaging by the body part, as an order or a statement names it
  'ct head', 'head ct', 'ct chest', 'chest ct', 'ct abdomen', 'ct abd', 'chest x-ray', 'chest xray', 'cxr', 'mri brain', 'brain mri', 'without contrast',
  'w/o contrast', 'with and without contrast', 'anatomy scan', 'anatomy ultrasound', 'glucose tolerance test', 'intraocular pressure', 'eye pressure',
  'dilated eye exam', 'eye exam', 'phq-9', 'gad-7',
  // glucose readings as patients name them
  'sugar numbers', 'sugar readings', 'sugar levels', 'sugar level',
  // cultures and the organisms they grow
  'urine culture', 'wound culture', 'throat culture', 'sputum culture', 'stool culture', 'e. coli', 'e.coli', 'e coli', 'mrsa', 'c. diff', 'c diff', 'c-diff',
];

/** Care, procedures and symptoms: what a visit, a route sheet or a referral says about a person's health. */
const CARE = [
  'infusion', 'iron infusion', 'infection', 'illness', 'flu-like illness', 'ear infection', 'urinary tract infection', 'uti', 'wound', 'wound care',
  'dressing change', 'picc', 'picc line', 'catheter', 'central line', 'ostomy', 'tracheostomy', 'feeding tube', 'oxygen concentrator', 'home oxygen', 'oxygen', 'oxygen tanks',
  'ventilator', 'cpap', 'bipap', 'nebulizer', 'wheelchair', 'hospital bed', 'crutches', 'physical therapy', 'occupational therapy', 'speech therapy',
  'chemo', 'immunotherapy', 'post-op', 'postoperative', 'post-operative', 'pre-op', 'preoperative', 'anesthesia', 'anaesthesia',
  'withdrawal', 'alcohol withdrawal', 'detox', 'rehab', 'psychiatric', 'psych unit', 'behavioral health', 'counseling', 'therapy session',
  'pain', 'chest pain', 'shortness of breath', 'short of breath', 'ulcer', 'ulcers', 'pressure ulcer', 'pressure injury', 'bedsore', 'dizziness', 'nausea', 'vomiting', 'fever', 'rash', 'swelling', 'bleeding', 'seizures',
  // lay words of patients' and families' own mail
  'dizzy', 'swollen', 'out of breath', 'breathless', 'bruise', 'bruises', 'bruising', 'stitches', 'limping', 'memory care', 'memory loss', 'incontinence', 'incontinent', 'fall risk',
  'allergy', 'allergic', 'allergies', 'anaphylaxis', 'prescription', 'refill', 'dosage', 'capsule', 'vaccination',
  'immunization', 'immunizations', 'vaccine', 'vaccines', 'well child', 'well-child', 'well visit', 'well baby', 'well-baby', 'ivf', 'prenatal', 'postpartum', 'labor and delivery', 'c-section', 'cesarean', 'ultrasound', 'pet scan', 'stress test',
  'holter', 'labs', 'lab results', 'lab report', 'lab work', 'bloodwork', 'blood work', 'blood test', 'blood pressure', 'blood sugar', 'glucose', 'cholesterol', 'hemoglobin', 'platelets',
  'white count', 'inr', 'potassium', 'sodium', 'troponin', 'bnp', 'strep', 'positive for', 'negative for', 'hip replacement',
  'cabg', 'afib', 'a-fib', 'a fib', 'syncope', 'heart attack', 'cardiac arrest', 'stent', 'stents', 'triple bypass', 'bypass surgery', 'heart bypass', 'valve repair', 'valve replacement',
  'mitral valve', 'aortic valve', 'ejection fraction', 'knee replacement', 'knee replaced', 'hip replaced', 'rotator cuff', 'range of motion', 'hip fracture', 'joint replacement', 'arthroplasty', 'cardiac', 'cardiology consult', 'oncology', 'palliative',
  'end of life', 'dnr', 'code status', 'hospice care', 'home health', 'skilled nursing', 'icu', 'nicu', 'er visit', 'ed visit', 'emergency room', 'urgent care',
  'readmission', 'admission', 'discharge summary', 'follow-up visit', 'symptoms', 'medical history', 'hx of', 'dementia care',
  'op note', 'op report', 'operative note', 'operative report',
  // the records of someone's care a request names
  'progress note', 'med list', 'medication list', 'office notes', 'visit notes', 'clinic notes', 'chart notes',
  // an emergency visit, dental and eye care, and the operations a list or a page abbreviates
  'emergency department', 'emergency dept', 'emergency visit', 'crown prep', 'crown preparation', 'root canal', 'tooth extraction', 'wisdom teeth',
  'wisdom tooth', 'periodontal', 'scaling and root planing', 'dental implant', 'denture', 'dentures', 'cavity', 'cavities', 'retina', 'retinal',
  'contact lens', 'contact lenses', 'orif', 'tka', 'egd', 'ercp', 'turp', 'acdf', 'lap appy', 'lap chole', 'heart cath', 'psychotherapy',
  'med check', 'medication check', 'med management', 'medication management', 'medication refill',
  // medical leave, and what early pregnancy and its worries are told with
  'fmla', 'medical leave', 'spotting', 'cramps', 'cramping',
  // substance-use and mental-health treatment as its notes, court and school letters and crisis follow-ups name it
  'iop', 'intensive outpatient', 'partial hospitalization', 'residential treatment', 'medication-assisted treatment', 'drug screen', 'urine screen',
  'urine drug screen', 'tox screen', 'breath test', 'alcohol assessment', 'relapse', 'relapsed', 'sobriety', 'benzos', 'benzodiazepine', 'opioids', 'opiates',
  'take-home doses', 'take-homes', 'methadone dose', 'treatment plan', 'safety plan', 'crisis team', 'mobile crisis', 'crisis stabilization',
  'suicidal ideation', 'self-harm', 'self harm', 'psychiatric hold', 'involuntary commitment', 'psychosis', 'psychotic', 'hallucinations', 'mania',
  'manic episode', 'emdr', 'trauma therapy', 'group therapy', 'individual therapy', 'family therapy', 'nightmares',
  // the end of a patient's life as hospice writes it
  'time of death', 'passed away', 'comfort care', 'comfort meds',
  // organs whose name alone, in a person's message, is about their body ("a 6mm stone in my L ureter")
  'ureter', 'kidney', 'kidneys', 'bladder', 'pancreas', 'prostate', 'uterus', 'ovary', 'ovaries', 'cervix', 'esophagus', 'spleen', 'tonsils',
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
  'cholécystite', 'appendicite', 'bronchite', 'hépatite', 'arthrite', 'méningite', 'urgences', 'bilan sanguin', 'prise de sang', 'irm', 'biopsie', 'vaccin', 'compte rendu opératoire', 'suites opératoires', 'soins palliatifs', 'rééducation', 'kinésithérapie',];

/**
 * The same in the other languages US clinics' patients write in, read word
 * by word: Portuguese, Vietnamese (with its tone marks and as it is often
 * typed without them), Tagalog and Haitian Creole (Chinese, Korean, Russian
 * and Arabic: health-terms-unspaced.ts). Not looked up one edit away (a
 * misspelt English term is not a Tagalog one).
 */
const CARE_COMMUNITY = [
  // Portuguese
  'pressão alta', 'hipertensão', 'câncer', 'cancro', 'diálise', 'gravidez', 'grávida', 'remédio', 'remédios', 'exame de sangue', 'exames de sangue',
  'internado', 'internada', 'internação', 'cirurgia', 'febre', 'tosse', 'dor de cabeça', 'dor no peito', 'falta de ar', 'infecção', 'vacina', 'derrame',
  'insuficiência cardíaca', 'depressão', 'ansiedade', 'demência', 'convulsão', 'convulsões', 'fratura', 'insulina', 'quimioterapia',
  // Vietnamese
  'tiểu đường', 'bệnh tiểu đường', 'huyết áp', 'cao huyết áp', 'tăng huyết áp', 'đau ngực', 'đau đầu', 'đau họng', 'viêm họng', 'bị sốt', 'ung thư',
  'đột quỵ', 'suy tim', 'suy thận', 'lọc thận', 'viêm phổi', 'hen suyễn', 'trầm cảm', 'mất trí nhớ', 'sa sút trí tuệ', 'uống thuốc', 'toa thuốc',
  'đơn thuốc', 'xét nghiệm', 'xét nghiệm máu', 'siêu âm', 'phẫu thuật', 'nhập viện', 'xuất viện', 'cấp cứu', 'mang thai', 'có thai', 'thai kỳ',
  'tiêm chủng', 'chích ngừa', 'dị ứng', 'nhiễm trùng', 'bầm tím', 'chảy máu', 'khó thở', 'tiêu chảy', 'buồn nôn', 'chóng mặt', 'đau bụng', 'đau lưng',
  'gãy xương', 'khám bệnh', 'tieu duong', 'huyet ap', 'xet nghiem', 'ung thu', 'nhap vien', 'uong thuoc', 'bam tim',
  // Tagalog
  'dyabetis', 'altapresyon', 'mataas na presyon', 'kanser', 'lagnat', 'gamot', 'reseta', 'buntis', 'impeksyon', 'bakuna', 'hika', 'pagtatae',
  'nahihilo', 'sakit sa puso', 'sakit ng ulo',
  // Spanish as patients write it to a clinic
  'asma', 'inhalador', 'falta de aire', 'dolor de cabeza', 'dolor de oído', 'dolor de garganta', 'presión alta', 'azúcar alta', 'pastillas',
  'mareo', 'mareos', 'vómito', 'vómitos', 'diarrea', 'gripe', 'calentura', 'convulsiones', 'embarazo', 'hinchazón', 'sarpullido', 'alergias',
  // Somali
  'qandho', 'qandhadu', 'xanuun', 'daawo', 'daawada', 'sonkorow', 'dhiig kar', 'cudur',
  // Haitian Creole
  'tansyon', 'dyabèt', 'medikaman', 'lafyèv', 'kansè', 'ansent', 'enfeksyon', 'alèji', 'vaksen', 'opresyon', 'depresyon', 'maladi',
];

function termRegex(terms: readonly string[]): RegExp {
  const alternatives = [...terms].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'));
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}\\p{M}_])`, 'giu');
}

/** Last words that are not nouns, or are plural already: no plural of their term (diabetes, diagnosed, diabetic, terminal, pregnant, depressive, wheezing, bipolar, "hx of"). */
const NO_PLURAL = /(?:s|ed|ic|al|nt|ive|ing|ar|-\d+|^of|^for|^to)$/;
/** Care words whose plural names something else ("admissions" is an office and a college's business). */
const NO_PLURAL_WORDS: ReadonlySet<string> = new Set(['admission', 'prep', 'terminal', 'capsule', 'line']);

/**
 * The English plural of a condition, test or care term, by its last word
 * ("migraines", "tumors", "MRIs", "biopsies", "rashes", "discharge
 * summaries"), or undefined when the term takes none.
 */
export function pluralTerm(term: string): string | undefined {
  const last = term.slice(term.lastIndexOf(' ') + 1);
  if (!/^[a-z][a-z0-9-]*$/.test(last) || NO_PLURAL.test(last) || NO_PLURAL_WORDS.has(last)) return undefined;
  if (/[^aeiou]y$/.test(last)) return `${term.slice(0, -1)}ies`;
  if (/(?:x|z|ch|sh)$/.test(last)) return `${term}es`;
  return `${term}s`;
}

/** The English terms and their plurals (conditions, tests and care: "migraines", "MRIs"; medicines are named in the singular), then the other languages' terms. */
const ENGLISH = [...CONDITIONS, ...LABS, ...CARE];
const TERM_LIST_NEAR = [...new Set([...ENGLISH, ...MEDICATIONS, ...ENGLISH.map(pluralTerm).filter((t): t is string => t !== undefined), ...CARE_INTL])];
const TERM_LIST = [...new Set([...TERM_LIST_NEAR, ...CARE_COMMUNITY])];

export const HEALTH_TERMS = termRegex(TERM_LIST);

/** The same terms, as the words pass follows them (and the name test, src/inspect/detect/names.ts, to see where one may begin). */
export const HEALTH_TERM_TRIE = buildTermTrie(TERM_LIST);

/** The single-word terms, as a word one edit from one is looked up (health-terms-near.ts: "my migranes"). */
export const NEAR_TERMS = nearTermIndex(TERM_LIST_NEAR);

export type { HealthTermSpan };

const SPANS = {};

/** Positions of health terms in `text` (found once per text within a verdict). */
export function healthTermSpans(text: string): HealthTermSpan[] {
  return [...cachedScan(SPANS, text, findSpans)];
}

/** The same positions without a copy, for callers that only read them (asked once per name or greeting, a copy each time would cost the whole list). */
export function sharedHealthTermSpans(text: string): readonly HealthTermSpan[] {
  return cachedScan(SPANS, text, findSpans);
}

/**
 * The positions of health terms in a piece of a text (the rest of a line
 * after a name), never kept: kept, a piece would take its text's place, and
 * the next ask for the text's own positions would find them all again (a
 * text of many such lines was read again in whole for each: 256 KB took 15 s).
 */
export function healthTermSpansInPiece(piece: string): readonly HealthTermSpan[] {
  return findSpans(piece);
}

/** The three kinds of span in `text`, in the order of the text. */
function findSpans(text: string): HealthTermSpan[] {
  const dictionary: HealthTermSpan[] = [];
  const morphology: HealthTermSpan[] = [];
  const labels: HealthTermSpan[] = [];
  const near: HealthTermSpan[] = [];
  const units = codeUnits(text);
  wordTerms(text, units, HEALTH_TERM_TRIE, dictionary, morphology, { index: NEAR_TERMS, out: near });
  labelTerms(text, units, labels);
  // the terms of scripts written without spaces between words (Chinese, Korean with its particles) or with endings and articles joined (Russian, Arabic): found anywhere
  const unspaced = unspacedTerms(text);
  if (unspaced.length > 0) {
    dictionary.push(...unspaced);
    dictionary.sort((a, b) => a.index - b.index);
  }
  // a term typed wrong after "my", "her" … is a word of its own, read as the dictionary's term (rare: merged by place only when there is one)
  return inTextOrder(near.length === 0 ? dictionary : [...dictionary, ...near].sort((a, b) => a.index - b.index), morphology, labels);
}

/**
 * The three lists, each in the order of the text, merged into one: at the
 * same place a dictionary term comes first, then a medical word, then a
 * label (the order a stable sort of the three lists joined gives).
 */
function inTextOrder(dictionary: HealthTermSpan[], morphology: HealthTermSpan[], labels: HealthTermSpan[]): HealthTermSpan[] {
  if (morphology.length === 0 && labels.length === 0) return dictionary;
  const out: HealthTermSpan[] = [];
  let d = 0;
  let m = 0;
  let l = 0;
  for (;;) {
    const a = dictionary[d];
    const b = morphology[m];
    const c = labels[l];
    if (a && (!b || a.index <= b.index) && (!c || a.index <= c.index)) {
      out.push(a);
      d++;
    } else if (b && (!c || b.index <= c.index)) {
      out.push(b);
      m++;
    } else if (c) {
      out.push(c);
      l++;
    } else return out;
  }
}

export const healthTermDetector: Detector = {
  id: 'health-terms',
  category: 'HEALTH_TERM',
  detect(text: string): Finding | undefined {
    // the spans only read: no copy of them, nor of their terms
    const terms = new Set<string>();
    for (const span of sharedHealthTermSpans(text)) terms.add(span.term);
    if (terms.size === 0) return undefined;
    // health terms are not identifiers: the terms themselves may be shown
    return { detector: 'health-terms', category: 'HEALTH_TERM', count: terms.size, confidence: 'low', evidence: [...terms].slice(0, 3) };
  },
};
