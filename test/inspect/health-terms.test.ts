import { describe, expect, it } from 'vitest';
import { NEAR_TERMS, healthTermSpans, pluralTerm } from '../../src/inspect/detect/health-terms.js';
import { nearTermOf } from '../../src/inspect/detect/health-terms-near.js';
import { unspacedTerms } from '../../src/inspect/detect/health-terms-unspaced.js';

describe('healthTermSpans: health information in four languages, whole words only', () => {
  it.each<[string, string[]]>([
    ['Started metformin for type 2 diabetes.', ['metformin', 'diabetes']],
    ['Madame Ivanova a été opérée ce matin.', ['opérée']],
    ['Sigue en diálisis tres veces por semana.', ['diálisis']],
    ['Stationäre Aufnahme wegen Herzinsuffizienz.', ['stationäre aufnahme', 'herzinsuffizienz']],
    ['séances de dialyse et hémodialyse', ['séances de dialyse', 'hémodialyse']],
    ['post-op cholecystitis after a laparoscopic cholecystectomy', ['post-op', 'cholecystitis', 'cholecystectomy']],
    // the word, and the label
    ['Diagnosis: asthma', ['diagnosis', 'diagnosis', 'asthma']],
    ['Alice Walker read her poems in New Haven, CT 06510.', []],
    ['Academia and empathy matter; the nostalgia tour.', []],
    ['SQL injection fixed; tablets replaced; 20 mg of coffee.', []],
    ['Problem: printer jam. Procedure: restart it.', []],
    // plurals of conditions, tests and care, and the medicines most prescribed
    ['She still has migraines after starting topiramate.', ['migraines', 'topiramate']],
    ['Two MRIs and three biopsies; the rashes cleared on prednisolone.', ['mris', 'biopsies', 'rashes', 'prednisolone']],
    ['Fax the discharge summaries for both ER visits.', ['discharge summaries', 'er visits']],
    // no plural where it names something else: the admissions office, airport terminals
    ['The admissions office moved next to the terminals.', []],
    // the lay words patients and families write
    ['She is dizzy, her ankles are swollen and she gets out of breath on the stairs.', ['dizzy', 'ankles', 'swollen', 'out of breath']],
    ['A big bruise on his arm, six stitches in his chin; we are looking at memory care.', ['bruise', 'stitches', 'memory care']],
  ])('%j', (text, terms) => {
    expect(healthTermSpans(text).map((t) => t.term)).toEqual(terms);
  });
});

describe('pluralTerm: the English plural of a term by its last word, or none', () => {
  it.each<[string, string | undefined]>([
    ['migraine', 'migraines'],
    ['tumor', 'tumors'],
    ['mri', 'mris'],
    ['biopsy', 'biopsies'],
    ['rash', 'rashes'],
    ['discharge summary', 'discharge summaries'],
    ['er visit', 'er visits'],
    // plural already, a participle, an adjective, a number or a preposition last: none
    ['diabetes', undefined],
    ['diagnosed', undefined],
    ['diabetic', undefined],
    ['terminal', undefined],
    ['pregnant', undefined],
    ['depressive', undefined],
    ['wheezing', undefined],
    ['bipolar', undefined],
    ['covid-19', undefined],
    ['hx of', undefined],
    ['positive for', undefined],
    ['admission', undefined],
    // not an English word of letters: none
    ['diálisis', undefined],
  ])('%j → %j', (term, plural) => {
    expect(pluralTerm(term)).toBe(plural);
  });
});

describe('nearTermOf: a health term typed one edit wrong', () => {
  it.each<[string, string | undefined]>([
    ['migranes', 'migraines'],
    ['diabeties', 'diabetes'],
    ['pnuemonia', 'pneumonia'],
    ['counselling', 'counseling'],
    ['seisures', 'seizures'],
    ['migraines', undefined], // a term already
    ['spelling', undefined], // an ordinary word one edit from "swelling"
    ['parental', undefined], // and from "prenatal"
    ['admissions', undefined], // a plural the dictionary leaves out
    ['cancel', undefined], // too short to tell from "cancer"
    ['computer', undefined],
  ])('%s → %s', (word, term) => {
    expect(nearTermOf(NEAR_TERMS, word)).toBe(term);
  });

  it.each<[string, string[]]>([
    ['my migranes are back', ['migraines']],
    ['her diabetis is worse', ['diabetes']],
    ['the migranes are back', []], // not after a possessive pronoun
    ['sorry for my spelling', []],
  ])('after a possessive pronoun only: %s', (text, terms) => {
    expect(healthTermSpans(text).map((s) => s.term)).toEqual(terms);
  });
});

describe('health terms of scripts written without spaces or with joined endings', () => {
  it.each([
    ['我妈妈是不是老年痴呆了？', ['痴呆']],
    ['爸爸有糖尿病，每天打胰島素', ['糖尿病', '胰島素']],
    ['엄마 당뇨약이랑 혈압약이 떨어졌어요', ['당뇨', '혈압']],
    ['У мамы сахарный диабет, давление высокое', ['диабет', 'давлени']],
    ['نتيجة التحليل للغدة الدرقية', ['نتيجة التحليل', 'درقي']],
    ['약 30분 후에 도착합니다', []],
    ['会议在社区中心举行', []],
    ['Plain English with no such script: diabetes is read elsewhere', []],
  ])('%s', (text, terms) => {
    expect(unspacedTerms(text).map((s) => s.term)).toEqual(terms);
  });
});
