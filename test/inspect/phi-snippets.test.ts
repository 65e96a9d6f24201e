/**
 * Realistic snippets written apart from both corpora: whether each needs the
 * PHI-level protection under the built-in settings (PHI, or a personal
 * identifier found with high confidence), as a table.
 */
import { describe, expect, it } from 'vitest';
import { inspectText } from '../../src/inspect/verdict.js';
import { baseProtection } from '../../src/policy/evaluate.js';
import { builtInSettings } from '../../src/policy/profile.js';

const cases: [boolean, string][] = [
  [true, 'Hi Dr. Chen,\nJust a heads up that Marcus Bell is coming in Thursday for his chemo infusion; please have the port supplies ready.'],
  [true, 'Subject: Ramirez, Elena 03/14/1952 - A1C results\n\nHer A1C came back at 9.1.'],
  [true, 'Can you send the discharge summary for Tomás Herrera? He left AMA yesterday.'],
  [true, 'Referral: Abigail Foster\nReason: suspected appendicitis\nPlease call her mother at (312) 555-0147.'],
  [true, 'Patient email: j.ortiz77@gmail.com — asked about her mammogram follow-up.'],
  [true, 'Member ID: XJH482913057\nPlan: Blue Shield PPO\nPlease verify coverage for an MRI.'],
  [true, 'The patient in room 4, Lucas Moreau, has a penicillin allergy.'],
  [true, 'Bitte Befund für Frau Schneider, geb. 12.03.1958, an Dr. Weber senden. Diagnose: Vorhofflimmern.'],
  [true, 'Paciente: Carmen Ruiz Delgado\nFecha de nacimiento: 1960-07-22\nDiagnóstico: insuficiencia renal crónica'],
  [true, 'John Whitaker (DOB 7/4/1949) needs a prior auth for his knee replacement, CPT 27447.'],
  [true, 'Claim for Anita Desai, rendering NPI 1234567893, ICD-10 M17.11, denied for missing auth.'],
  [true, 'Acct #: 4471-22981\nGuarantor: Samuel Ortiz\nBalance for ER visit: $1,240.00'],
  [true, 'Please update SSN for employee Laura Kim: 512-44-8830.'],
  [true, 'Card on file for the patient refund: 4111 1111 1111 1111 exp 09/27'],
  [true, 'Yesterday Wei Zhang was admitted with pneumonia.'],
  [true, 'Please schedule Tom Price for his colonoscopy next week.'],
  [false, 'Please schedule Jane Smith for the CPR refresher. Separately, the diabetes fair moved to May.'],
  [false, 'Coverage for Kevin Park on Friday is confirmed.\n\nReminder: the oncology unit holiday party is on the 12th.'],
  [true, 'We saw Patient Olivia Brandt today; her migraine is better on the new dose.'],
  [false, 'Reminder: the pharmacy will be closed Monday. Refill requests can be sent through the portal. Questions? Call 617-724-5000.'],
  [false, 'We are hiring! Oncology RN, night shift, Riverside Cancer Center. Apply by Friday. Contact Maria Lopez, HR, at 555-201-3344.'],
  [false, 'Q3 quality report: 412 patients with E11.9 (type 2 diabetes) had an A1C below 8; readmissions for heart failure fell 12%.'],
  [false, 'Flu shots are available for all staff in the cafeteria on Tuesday from 7 to 3. Bring your badge.'],
  [false, 'New book club pick: "The Emperor of All Maladies: A Biography of Cancer" (ISBN 978-1-4391-0795-9) by Siddhartha Mukherjee.'],
  [false, 'Congratulations to Dr. Amelia Grant on 25 years of service in cardiology!'],
  [false, 'Thank you,\nKaren Mills\nDiabetes Education Program\nLakeside Health\n300 Lake St, Suite 200\nTel 555-210-4400'],
  [false, 'The EHR upgrade is scheduled for Saturday 10pm. Epic will be read-only; print the downtime census beforehand.'],
  [false, 'Lunch and learn: managing hypertension in primary care, presented by Jordan Price, PharmD.'],
  [false, 'Your invoice INV-20931 for 12 boxes of nitrile gloves is attached. Net 30.'],
  [false, 'Dear Valued Patient, our new urgent care clinic at 45 Pine Street now offers X-ray and COVID-19 testing 7 days a week.'],
  [false, 'Grand Rounds: Sepsis bundles in 2026 — Dr. Oyelaran, Thursday noon, Auditorium B.'],
  [false, 'Clínica San Rafael, Calle Mayor 12, Madrid. Nuevo servicio de diálisis los sábados.'],
  [false, 'Parking lot C will be repaved next week; please use the garage on Elm Street.'],
  [false, 'Attached is the updated on-call schedule for the ICU and the stroke team.'],
];
const settings = builtInSettings([]);
const sources = new Proxy({}, { get: () => 'built-in default' }) as Record<string, string>;

describe('protected like PHI, or not: snippets from nobody\'s corpus', () => {
  it.each(cases.map(([protect, text]) => [text.slice(0, 60).replace(/\n/g, ' / '), protect, text] as const))('%s → %s', (_name, protect, text) => {
    const v = inspectText(text);
    const p = baseProtection(settings, sources, { sender: 'a@hospital.example', connector: 'default', size: text.length, phi: v.phi, findings: v.findings, notFullyScanned: false, subjectTagged: false, attachments: [], encrypted: false }).protection;
    expect(p === 'verified-tls').toBe(protect);
  });
});
