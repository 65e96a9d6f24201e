import { describe, expect, it } from 'vitest';
import { healthTermSpans } from '../../src/inspect/detect/health-terms.js';

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
  ])('%j', (text, terms) => {
    expect(healthTermSpans(text).map((t) => t.term)).toEqual(terms);
  });
});
