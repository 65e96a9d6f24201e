import { describe, expect, it } from 'vitest';
import { GIVEN_NAMES, lowerCaseName } from '../../src/inspect/detect/given-names.js';
import { leadingName, personLike, titleCase } from '../../src/inspect/detect/names.js';

describe('personLike: a capitalised phrase that reads as a person', () => {
  it.each<[string, boolean]>([
    ['Maria Alvarez', true],
    ['Maria J. Alvarez', true],
    ['Riverside Family Clinic', false],
    ["Patient's Portal", false],
    ['Lincoln Parks', false],
    ['St. Mary', false],
    ['Lipid Panel', false],
    ['Heart  Failure', false],
    ['  Maria\u00a0Alvarez\t', true],
    ['', true],
    // the words looked up on char codes (ASCII) and by lower-casing (beyond ASCII): the same rules
    ['Maria CLINICS', false],
    ["Maria Children's", false],
    ['Maria Children’s', false],
    ["Maria Clinic'S.", true],
    ['Maria Inc.', false],
    ['Maria J.', true],
    ['Maria JS.', true],
    ['Maria É.', true],
    ['Maria Secrétariat', false],
    ['Maria SÃO', false],
    ["Maria 's", true],
    ['Maria S', true],
    ['Maria Ss', true],
    ['Maria Clinicss', false],
    ['Maria Lab-', true],
    ['Maria Labs.', false],
    ['Maria Care1', true],
    ['Maria Kinic', true],
    ['İnc Maria', true],
    // health terms: refused by the trie over ASCII without the regex, anything else left to the regex
    ['Maria Diabetes', false],
    ['Maria DIABETES', false],
    ['Maria Diabetesx', true],
    ['Maria xDiabetes', true],
    ['Maria_Diabetes', true],
    ['Maria-Diabetes', false],
    ["O'Diabetes", false],
    ['Maria’Diabetes', false],
    ['Maria Flu', false],
    ['Flu Maria', false],
    ['Maria 1Flu', true],
    ['Maria Flu1', true],
    ['Maria Flu\u0301', true],
    ['Maria Kidney\tStones', false],
    ['Maria Kidney\u00a0Stones', false],
    ['Maria Kidney\r\nStones', false],
    ['Maria \u017Ftrep', false],
    ['Maria Strep', false],
    ['Maria Stre', true],
    ['Maria Er Visit', false],
    ['Maria Er', true],
    ['Maria Hämodialyse', false],
    ['Maria HÄMODIALYSE', false],
    ['Maria Café', true],
  ])('%j → %s', (name, expected) => {
    expect(personLike(name)).toBe(expected);
  });
});

describe('leadingName: the longest person-like start of two words or more', () => {
  it.each<[string, string | undefined]>([
    ['Maria Alvarez Diabetes', 'Maria Alvarez'],
    ['Maria Alvarez', 'Maria Alvarez'],
    ['Maria', undefined],
    ['Maria\tAlvarez  Clinic', 'Maria Alvarez'],
    [' Maria Alvarez', ' Maria Alvarez'],
    ['Riverside Clinic', undefined],
  ])('%j → %j', (words, expected) => {
    expect(leadingName(words)).toBe(expected);
  });
});

describe('a surname that is also a place or a thing: a name when introduced (an honorific, a label, a patient cue)', () => {
  it.each<[string, boolean, boolean]>([
    // name, alone, introduced
    ['Linda Park', false, true],
    ['Harold Banks', true, true],
    ['Karen Fields', false, true],
    ['Maria Santos', true, true],
    ['Sarah Lane', false, true],
    ['Lincoln Parks', false, true],
    ['Lincoln Park', false, true],
    ['Riverside Clinic', false, false],
    ['Park Clinic', false, false],
  ])('%j: alone %s, introduced %s', (name, alone, introduced) => {
    expect(personLike(name)).toBe(alone);
    expect(personLike(name, true)).toBe(introduced);
  });

  it.each<[string, string | undefined]>([
    ['Linda Park Diabetes', 'Linda Park'],
    ['Lincoln Park Pharmacy', undefined],
    ['Linda Park', 'Linda Park'],
  ])('after a label, %j → %j', (words, expected) => {
    expect(leadingName(words, true)).toBe(expected);
  });
});

describe('titleCase: words in capitals become title case, others stay', () => {
  it.each<[string, string]>([
    ['GARCIA, MARIA', 'Garcia, Maria'],
    ['Maria Alvarez', 'Maria Alvarez'],
    ["O'NEIL", "O'neil"],
    ['MÜLLER-LÜDENSCHEIDT', 'Müller-Lüdenscheidt'],
    ['McKay A', 'McKay A'],
    ['José Núñez', 'José Núñez'],
  ])('%j → %j', (words, expected) => {
    expect(titleCase(words)).toBe(expected);
  });
});

describe('lowerCaseName: a given name and a surname typed in lower case', () => {
  it.each<[string, string, boolean]>([
    ['ruth', 'walters', true],
    ['maria', 'delgado', true],
    ['minh', 'nguyen', true],
    ['maria', 'said', false],
    ['ruth', 'and', false],
    ['tom', 'maria', false],
    ['will', 'smith', false],
    ['grace', 'period', false],
    ['the', 'nurse', false],
  ])('%s %s → %s', (first, last, expected) => {
    expect(lowerCaseName(first, last)).toBe(expected);
  });

  it('holds no ordinary English word that a sentence writes in lower case', () => {
    for (const word of ['will', 'may', 'june', 'grace', 'mark', 'hope', 'rose', 'bill', 'art', 'carol', 'lance', 'the', 'and', 'said', 'an', 'long']) expect(GIVEN_NAMES.has(word)).toBe(false);
    expect(GIVEN_NAMES.size).toBeGreaterThan(1000);
  });
});
