import { describe, expect, it } from 'vitest';
import { isSpaceCode } from '../../src/inspect/detect/char-codes.js';
import { clinicalFieldLines, titleCase } from '../../src/inspect/detect/clinical-fields.js';
import { signatureZones } from '../../src/inspect/detect/signature.js';
import { labelTables } from '../../src/inspect/detect/tables.js';

/*
 * The table, signature and clinical-format passes read char codes and search
 * for literals where they once ran a pattern on every line. These cases sit
 * on the edges of those shortcuts (non-ASCII letters, CR, the bounds of the
 * patterns' quantifiers, what may precede a header); the expected values are
 * what the pattern-based versions gave.
 */

describe('labelTables: the char-code filters refuse only what header() refuses', () => {
  it.each<[string, string, string]>([
    ['semicolons', 'Name;DOB\nAnn Lee;1960-01-02', 'Name;DOB\nName: Ann Lee; DOB: 1960-01-02'],
    ['two quoted cells with commas (a comma header needs three)', '"Name","DOB"\n"Lee, Ann","1960"', '"Name","DOB"\n"Lee, Ann","1960"'],
    ['a label beyond ASCII', 'Prénom\tNom\nAnn\tLee', 'Prénom\tNom\nPrénom: Ann; Nom: Lee'],
    ['a label with ’', 'Patient’s name\tDOB\nAnn\t1960', 'Patient’s name\tDOB\nPatient’s name: Ann; DOB: 1960'],
    ['a label of five words', 'one two three four five\tDOB\nx\ty', 'one two three four five\tDOB\nx\ty'],
    ['a label of four words', 'one two three four\tDOB\nx\ty', 'one two three four\tDOB\none two three four: x; DOB: y'],
    ['a header ending in a full stop', 'Name\tDOB.\nAnn\t1960', 'Name\tDOB.\nAnn\t1960'],
    ['trailing white space after the last cell', 'Name\tDOB \t\nAnn\t1960', 'Name\tDOB \t\nName: Ann; DOB: 1960'],
    ['one comma is no header', 'Hello,\nAnn, Lee', 'Hello,\nAnn, Lee'],
    ['a row of more than sixty cells', `Name, DOB, MRN\n${'a,'.repeat(70)}b`, `Name, DOB, MRN\n${'a,'.repeat(70)}b`],
    ['a row with an extra cell, then the end of the table', 'Name, DOB, MRN\nAnn, 1960, 123, extra\nBo, 1970\nend', 'Name, DOB, MRN\nName: Ann; DOB: 1960; MRN: 123; extra\nName: Bo; DOB: 1970\nend'],
    ['CRLF lines', 'Chart #|Reason\r\n1234|flu\r\n', 'Chart #|Reason\r\nChart #: 1234; Reason: flu\n'],
    ['doubled quotes in a cell', 'patient_name,birth_date,reason\nMei,1999,"ear ""left"" infection"', 'patient_name,birth_date,reason\npatient name: Mei; birth date: 1999; reason: ear "left" infection'],
    ['a no-break space in a label', 'Name\t\u00a0DOB\nAnn\t1960', 'Name\t\u00a0DOB\nName: Ann; DOB: 1960'],
  ])('%s', (_name, text, expected) => {
    expect(labelTables(text)).toBe(expected);
  });
});

describe('signatureZones: the first and last characters looked at before the patterns', () => {
  it.each<[string, string, string[]]>([
    ['a sign-off ending in CR is not one', 'Hi.\nThanks,\r\nAmara', []],
    ['quote marks, spaces before the comma', 'Hi.\n> Best regards ,\nOmar\n', ['> Best regards ,\nOmar\n']],
    ['upper case, two spaces, a full stop', 'Hi.\nTHANK  YOU AGAIN.\nJo', ['THANK  YOU AGAIN.\nJo']],
    ['longer than sixty characters', `Hi.\nThanks, ${'x'.repeat(60)}\nJo`, []],
    ['a tab and quote marks before, ended by a From: line', 'Hi.\n\t>> Cheers!\nJo\nFrom: x\nmore', ['\t>> Cheers!\nJo\n']],
    ['a dozen non-blank lines at most', `Hi.\nMit freundlichen Grüßen\nZeynep\n   \n${'line\n'.repeat(14)}`, [`Mit freundlichen Grüßen\nZeynep\n   \n${'line\n'.repeat(11)}`]],
    ['a line read to 200 characters only (blank there)', `Hi.\n-- \nJo\n${' '.repeat(210)}x\nmore`, [`-- \nJo\n${' '.repeat(210)}x\nmore`]],
  ])('%s', (_name, text, zones) => {
    expect(signatureZones(text).map((z) => text.slice(z.start, z.end))).toEqual(zones);
  });
});

const MSH = 'MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||12345678^^^X^MR||DOE^JOHN||19700101|M';
const HL7_LINES = ['MRN: 12345678', 'Patient name: John Doe', 'DOB: 01/01/1970'];
const isa = (before: string): string => `${before}ISA*00*          *00*          *ZZ*A              *ZZ*B              *251014*0930*^*00501*1*0*P*:~NM1*IL*1*DOE*JOHN~DMG*D8*19700101~IEA*1*1~`;
const X12_LINES = ['Subscriber name: John Doe', 'DOB: 01/01/1970'];
const resource = (beforeColon: string, type: string): string => `{"resourceType"${beforeColon}:"${type}","identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"123-45-6789"}]}`;
const CCDA_BODY = '<recordTarget><patientRole><id root="1.2" extension="MR123"/><patient><name><given>Ann</given><family>Lee</family></name><birthTime value="19600102"/></patient></patientRole></recordTarget></ClinicalDocument>';

describe('clinicalFieldLines: where each format starts, found by literal search', () => {
  it.each<[string, string, string[]]>([
    ['MSH at the start', MSH, HL7_LINES],
    ['MSH after a space is not a header', ` ${MSH}`, []],
    ['MSH after CR', `x\r${MSH}`, HL7_LINES],
    ['MSH after LF', `x\n${MSH}`, HL7_LINES],
    ['MSH after a letter is not a header', `x${MSH}`, []],
    ['a space among the separators', 'MSH| ~\\&|x\rPID|1||1^^^X^MR', []],
    ['ISA at the start', isa(''), X12_LINES],
    ['ISA after a letter is not a header', isa('x'), []],
    ['ISA after an underscore', isa('_'), X12_LINES],
    ['ISA after LF', isa('\n'), X12_LINES],
    ['ISA after a digit is not a header', isa('1'), []],
    ['"resourceType" then the colon', resource('', 'Patient'), ['SSN: 123-45-6789']],
    ['twenty spaces before the colon', resource(' '.repeat(20), 'Patient'), ['SSN: 123-45-6789']],
    ['twenty-one spaces before the colon', resource(' '.repeat(21), 'Patient'), []],
    ['a type of 64 letters', resource('', 'P'.repeat(64)), ['SSN: 123-45-6789']],
    ['a type of 65 letters', resource('', 'P'.repeat(65)), []],
    ['<ClinicalDocument>', `<ClinicalDocument>${CCDA_BODY}`, ['MRN: MR123', 'Patient name: Ann Lee', 'DOB: 01/02/1960']],
    ['<ClinicalDocument_ is another element', `<ClinicalDocument_>${CCDA_BODY}`, []],
  ])('%s', (_name, text, lines) => {
    expect(clinicalFieldLines(text).split('\n').map((l) => l.trim()).filter(Boolean)).toEqual(lines);
  });

  it.each<[string, string]>([
    ['SMITH-JONES', 'Smith-Jones'],
    ["o'brien", "O'brien"],
    ['ÉLODIE', 'Élodie'],
    ['\u212AELVIN', 'Kelvin'],
    ['ann  marie', 'Ann  Marie'],
    ['de la\tcruz', 'De La\tCruz'],
  ])('titleCase(%j) is %j', (name, expected) => {
    expect(titleCase(name)).toBe(expected);
  });
});

describe('isSpaceCode', () => {
  it('is \\s (and what trim removes) for every UTF-16 code unit', () => {
    const differ: number[] = [];
    for (let c = 0; c < 0x10000; c++) if (isSpaceCode(c) !== /\s/.test(String.fromCharCode(c))) differ.push(c);
    expect(differ).toEqual([]);
  });
});
