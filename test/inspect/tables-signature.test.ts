import { describe, expect, it } from 'vitest';
import { signatureZones } from '../../src/inspect/detect/signature.js';
import { labelTables } from '../../src/inspect/detect/tables.js';

describe('labelTables: a header labels the values in its column', () => {
  it.each<[string, string, string]>([
    ['a CSV export with quoted cells', 'patient_name,birth_date,reason\n"Friedman, Mei",1999-01-21,ear infection', 'patient name: Friedman, Mei; birth date: 1999-01-21; reason: ear infection'],
    ['a tab-separated list', 'Patient\tChart #\tReason\nYuki Alvarez\t91060715\tCKD stage 4', 'Patient: Yuki Alvarez; Chart #: 91060715; Reason: CKD stage 4'],
    ['semicolons (a European CSV)', 'Name;Geburtsdatum;Diagnose\nJonas Weber;03.04.1961;Diabetes', 'Name: Jonas Weber; Geburtsdatum: 03.04.1961; Diagnose: Diabetes'],
    ['a sentence with commas is not a header', 'Hello, world, again.\nThanks, Amara, Jin', 'Hello, world, again.\nThanks, Amara, Jin'],
    ['a header without rows changes nothing', 'Name\tDOB', 'Name\tDOB'],
    ['cells of numbers are not a header', '12\t34\n56\t78', '12\t34\n56\t78'],
    // a spreadsheet's header whose labels hold a form's numbers and signs; a data row of words and numbers is no header
    ['a sheet with a form\'s numbers in its labels', 'Emp ID\tLast\tSSN\tW-4 filing status\tStep 3 dependents $\tI-9 docs\n100481\tNguyen\t823-78-2354\tSingle\t0\tA: US Passport', 'Emp ID\tLast\tSSN\tW-4 filing status\tStep 3 dependents $\tI-9 docs\nEmp ID: 100481; Last: Nguyen; SSN: 823-78-2354; W-4 filing status: Single; Step 3 dependents $: 0; I-9 docs: A: US Passport'],
    ['a data row of words with an amount is no header', 'Nguyen\tThi\tRN I\t$38.75\tSingle\nHerrera\tTomas\tRN II\t$42.10\tMarried', 'Nguyen\tThi\tRN I\t$38.75\tSingle\nHerrera\tTomas\tRN II\t$42.10\tMarried'],
    ['more wordy labels than plain ones is no header', 'Step 1\tStep 2 (jobs)\tW-4\tName\nJo\tAl\tx\ty', 'Step 1\tStep 2 (jobs)\tW-4\tName\nJo\tAl\tx\ty'],
    // exports' column names: camelCase and abbreviations as the keywords spell them, a few digits after the letters
    ['camelCase and abbreviated column names', 'ClaimNo,PatAcctNo,PatDOB,SubscriberID,Birth_Dt\n2611-004471,A0048817,1985-09-30,BCX551903224,19850930', 'Claim number: 2611-004471; patient account number: A0048817; patient DOB: 1985-09-30; Subscriber ID: BCX551903224; Birth date: 19850930'],
    ['digits after a column name\'s letters', 'ICD10_1,ICD10_2,Dx2_Desc\nE11.65,I10,Hypertension', 'ICD10 1: E11.65; ICD10 2: I10; Dx2 Desc: Hypertension'],
    ['a one-word column name as written', 'Acct;Patient;Date\nV109985628;Dorothy Patel;09/21/2025', 'Acct: V109985628; Patient: Dorothy Patel; Date: 09/21/2025'],
    ['values with a letter or two are no header', 'A0048817,GRP77120,J3301\nx,y,z', 'A0048817,GRP77120,J3301\nx,y,z'],
    ['a rule under the header', 'Patient              | DOB        | Member ID\n---------------------+------------+--------------\nJosé Ibáñez          | 03/29/1961 | UHX-55120987', 'Patient: José Ibáñez; DOB: 03/29/1961; Member ID: UHX-55120987'],
    ['a markdown table', '| Patient | MRN |\n|:---|---:|\n| Ann Lee | 00412345 |', 'Patient: Ann Lee; MRN: 00412345'],
    ['an organisation\'s name is no column label', 'Cedar Ridge Family Medicine | Patient Communications\nCedar Ridge Family Medicine | 4120 SW Alder Creek Rd, Suite 200', 'Cedar Ridge Family Medicine | Patient Communications\nCedar Ridge Family Medicine | 4120 SW Alder Creek Rd, Suite 200'],
    ['a name and credentials is a signature\'s line', 'Lauren Whitcomb, MD, FACC\nSt. Aldric Heart | 910 Fulton Ave NE, Ste 300, Grand Haven, MI 49417', 'Lauren Whitcomb, MD, FACC\nSt. Aldric Heart | 910 Fulton Ave NE, Ste 300, Grand Haven, MI 49417'],
  ])('%s', (_name, text, expected) => {
    expect(labelTables(text).split('\n').slice(-1)[0]).toBe(expected.split('\n').slice(-1)[0]);
  });

  it('stays linear on a huge table', () => {
    const text = `a\tb\tc\n${'1\t2\t3\n'.repeat(200_000)}`;
    expect(labelTables(text).length).toBeGreaterThan(text.length);
  });
});

describe('signatureZones: from the sign-off to the quoted message', () => {
  it.each<[string, string, string[]]>([
    ['a sign-off and its block', 'Please see below.\n\nThanks,\nAmara\nMedical Assistant\nNorthfield Home Health', ['Thanks,\nAmara\nMedical Assistant\nNorthfield Home Health']],
    ['the "-- " delimiter', 'Body.\n-- \nJin-ho Novak | Patient Access', ['-- \nJin-ho Novak | Patient Access']],
    ['ends at the quoted message', 'Done.\nBest,\nOmar\n\nOn Tue, Oct 14, 2025 at 7:58 AM, Carlos <c@x.org> wrote:\n> Move Rosa Morales to Thursday', ['Best,\nOmar\n\n']],
    ['a German sign-off', 'Bis morgen.\nMit freundlichen Grüßen\nZeynep', ['Mit freundlichen Grüßen\nZeynep']],
    ['a Spanish sign-off', 'Hasta luego.\nSaludos cordiales,\nAna', ['Saludos cordiales,\nAna']],
    ['a French sign-off', 'À bientôt.\nCordialement,\nThu', ['Cordialement,\nThu']],
    ['at most a dozen lines', `Hi.\nThanks,\n${'line\n'.repeat(20)}`, [`Thanks,\n${'line\n'.repeat(12)}`]],
    ['"thanks" inside a sentence is not a sign-off', 'Thanks for seeing Mrs. Okafor today.', []],
    ['ends with its part of the message (a plain-text stub before the HTML alternative)', 'See the HTML version.\n\nRegards\nJane\n\n\f\n\nPatient: Maria Santos', ['Regards\nJane\n\n']],
  ])('%s', (_name, text, zones) => {
    expect(signatureZones(text).map((z) => text.slice(z.start, z.end))).toEqual(zones);
  });
});
