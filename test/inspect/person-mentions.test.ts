import { describe, expect, it } from 'vitest';
import { homeAddresses, personAnchors } from '../../src/inspect/detect/person-mentions.js';
import { inspectText } from '../../src/inspect/verdict.js';

describe('personAnchors: an individual named in the text, not the organisation or its staff', () => {
  it.each<[string, string, string[]]>([
    ['a labelled name', 'Patient: Maria Alvarez', ['labelled-name']],
    ['a labelled name with a month for a first name', 'Name: May Chen', ['labelled-name']],
    ['a CSV header label, last name first', 'patient name: Friedman, Mei; birth date: 1999-01-21', ['labelled-name']],
    ['German, French and Spanish form labels', 'Name, Vorname: Johnson, Nadia\nPatiente : Ingrid Ivanova\nNombre y apellidos: Carmen Ruiz', ['labelled-name', 'labelled-name', 'labelled-name']],
    ['a cardholder', 'Cardholder: Maria Alvarez', ['labelled-name']],
    ['a programme\'s or a study\'s participant; a meeting\'s participants are no label', 'participant: Torres, Jasmine; phase: 2\nParticipants: Dana Lee, Omar Faruk', ['labelled-name']],
    ['a labelled name followed by a topic', 'Patient: Maria Alvarez Diabetes follow-up', ['labelled-name']],
    ['a label that names a test', 'Test name: Lipid Panel', []],
    ['a label that names a programme', 'Program Name: Healthy Hearts Initiative', []],
    ['a label followed by an organisation', 'Name: Riverside Family Clinic', []],
    // a provider directory's row (credential, NPI, specialty columns), unless the row labels a patient; a test's name under a name label
    ['a provider directory row', 'Last Name: Feld; First Name: Marcus; Credential: MD; Individual NPI: 1773829407; Specialty: Family Medicine', []],
    ['a claim row labels its patient beside the rendering NPI', 'Patient Name: Marcus Feld; Rendering NPI: 1773829407; Dx: E11.9', ['labelled-name']],
    ['a lab code mapping\'s names', 'cascade code: A1C02; cascade name: Est Avg Glucose; loinc: 27353-2', []],
    ['an honorific', 'Mrs. Okafor missed her dialysis session today.', ['honorific-name']],
    ['German and Spanish honorifics', 'Frau Hannah Becker und Sra. Lucía Fernández', ['honorific-name', 'honorific-name']],
    ['a patient cue before the name', 'Spoke with Maria Alvarez this morning.', ['named-patient']],
    ['a patient cue after the name', 'Wei Zhang was admitted on Tuesday.', ['named-patient']],
    ['a name that started a drug', 'Per our call, Dorothy Okafor started sertraline last week.', ['named-patient']],
    ['a surname with an apostrophe', 'Spoke with Brian O’Connor today; spoke with Lucia D\'Angelo too.', ['named-patient', 'named-patient']],
    ['a name in bed 12', 'Mark Ellis in bed 12 spiked a fever overnight.', ['named-patient']],
    ['a name with a pronoun and a health term in its sentence', 'Lisa Gomez has her dialysis at 7am tomorrow.', ['named-patient']],
    ['a pronoun and a health term starting the next sentence', 'Can you squeeze in Ethan Brooks today? His asthma is flaring.', ['named-patient']],
    ['a pronoun, but a preposition before the health term', 'Please thank Tom Price for his work on the cancer walk.', []],
    ['a pronoun, but the health term names a department', "Karen White will lead her department's oncology budget review on Monday.", []],
    ['presenting a poster is no presentation to the ED', 'Jane Doe presented her poster on diabetes outcomes at the conference.', []],
    ['presented to the ED', 'Jane Doe presented to the ED with chest pain.', ['named-patient']],
    ['a name followed by a birth date', 'Casey Mockridge, DOB 01/02/1960', ['named-patient']],
    ['French and Spanish honorifics in full', 'Madame Ingrid Ivanova et Señora Lucía Pérez', ['honorific-name', 'honorific-name']],
    ['a route sheet line: name and home address', '10:00  Samuel Haddad, 4124 Franklin St, Marana - post-op hip precautions', ['name-with-address']],
    ['a footer address after a separator', 'Mesa Verde Pediatrics · 6650 N Oracle Rd, Bldg C, Tucson, AZ 85704', []],
    ['an address said to be a home, without a name', 'Home address: 14 Elm Street, Springfield IL 62704', ['home-address']],
    ['a name in capitals, last name first, above its address', 'GARCIA, MARIA\n1420 N Lakeshore Dr, Apt 5B', ['name-with-address']],
    ['a name in capitals, last name first, with a birth date', 'SMITH, JOHN 04/17/1968', ['named-patient']],
    ['an address before the name', 'Home visit: 14 Elm Street, Springfield (Maria Alvarez)', ['name-with-address']],
    ['a patient e-mail address', 'Patient email: j.ortiz77@gmail.com', ['patient-contact']],
    ["the office's e-mail address", 'Contact us: clinic@riverside.example', []],
    ['a heading in capitals is not a name', 'SAVE THE DATE, ANNUAL PICNIC', []],
    ['a possessive with a clinical noun', "Kwame Mensah's biopsy came back.", ['named-patient']],
    ['a name with a home address', 'Deliver to Ana Ruiz\n221 Birch Lane, Apt 4, Dayton OH 45402', ['labelled-name']],
    ['a name and a home address without a cue', 'Ana Ruiz\n221 Birch Lane, Apt 4, Dayton OH 45402', ['name-with-address']],
    ['a name with a German address', 'Jonas Weber, Lindenstraße 14, 10115 Berlin', ['name-with-address']],
    ["a patient's phone", 'Patient cell: 617-555-0199', ['patient-phone']],
    ['a clinician with a title', 'Dr. Priya Raman will present.', []],
    ['staff with a credential', 'Maria Lopez, RN was admitted to the board.', []],
    ['staff being congratulated', 'Congratulations to Jane Smith on her award.', []],
    ['an organisation and its address', 'Riverside Family Clinic\n100 Main Street, Springfield', []],
    ['an event in a park', 'Join us at Lincoln Park for the walk.', []],
    ["the office's phone", 'Tel (217) 555-0100 | Fax (217) 555-0101', []],
    ['a signature', 'Thanks,\nBrian Kowalski\nIT Service Desk', []],
    ['last name first, hyphenated, with a birth date', 'Nguyen-Tran, Mai 01/02/1960', ['named-patient']],
    ['last name first after a hyphen', 'x-Ramirez, Elena (DOB 01/02/1960)', ['named-patient']],
    ['last name first without a space after the comma', 'Ramirez,Elena 01/02/1960', []],
    ['capitals, last name first, the second of two', 'GARCIA, MARIA; LOPEZ, ANA 04/17/1968', ['named-patient']],
    ['capitals with an apostrophe and a tab', "O'NEIL,\tMARY ANN was admitted", ['named-patient']],
    ['capitals after a digit', '1GARCIA, MARIA was admitted', []],
    ['"Pt" without a period, with a middle initial', 'Pt Jane Q. Doe seen today.', ['labelled-name']],
    ['a payee, an attendee and a guarantor', 'Payee: Dmitri Larsen, MD\nAttendee: Mateo Washington\nGuarantor: Samuel Ortiz', ['labelled-name', 'labelled-name', 'labelled-name']],
    ['a payee that is a company', 'Payee: Acme Medical Supply Inc', []],
    ['German, Spanish and French "name of the patient"', 'Name des Patienten: Klaus Weber\nNombre del paciente: Carlos Ruiz\nNom de la patiente : Claire Dupont', ['labelled-name', 'labelled-name', 'labelled-name']],
    ['a name in two labelled parts', 'Last name: Hernandez; First name: Ruth; Start date: 11/03/2025', ['labelled-name']],
    ['a name in two parts, first name first, in capitals', 'FIRST NAME: RUTH | LAST NAME: HERNANDEZ', ['labelled-name']],
    ['German and Spanish parts', 'Nachname: Weber, Vorname: Klaus\nApellidos: Ruiz García; Nombre: Carlos', ['labelled-name', 'labelled-name']],
    ['parts that name a thing', 'Last name: Riverside; First name: Clinic', []],
    ['a "Physician" heading on the line before a payee does not name the payee', 'ACH enrollment - locum physician\n\nPayee: Dmitri Larsen', ['labelled-name']],
    ['a surname in capitals after an honorific', 'Mme DUPONT Claire et Herr MÜLLER', ['honorific-name', 'honorific-name']],
    ['last name first, a dash and a condition', 'Okafor, Chidi - knee pain, MRI ordered', ['named-patient']],
    ['last name first, a dash and no health information', 'Okafor, Chidi - Director of Finance', []],
    ['a caller about his own medication', 'John Smith called about his metformin refill.', ['named-patient']],
    ['seen today', 'Grace Liu seen today for follow-up.', ['named-patient']],
    ['a letter to a patient about her own test', 'Dear Maria Alvarez,\n\nYour colonoscopy results are normal.', ['named-patient']],
    ['a Spanish letter to a patient', 'Estimada Carmen Ruiz: su diabetes está bien controlada.', ['named-patient']],
    ['a letter to a colleague about an event', 'Dear Maria Alvarez,\n\nThank you for your help with the diabetes fair.', []],
    ['a letter without "your" before the health word', 'Hi Maria Alvarez, the colonoscopy suite reopens Monday.', []],
    ['an applicant, a claimant, a member and a customer', 'Applicant: Guadalupe Brooks\nClaimant: Omar Haddad\nMember: Ruth Singh\nCustomer: Keisha Haddad', ['labelled-name', 'labelled-name', 'labelled-name', 'labelled-name']],
    ['name on the card, ship to', 'Name on card: Amara Kim\nShip to: Lars Novak', ['labelled-name', 'labelled-name']],
    ['a member label before an organisation', 'Member: Riverside Health Network', []],
    ['a possessive with a health term after another word', "Can we move Rosa Morales's next iron infusion?", ['named-patient']],
    ['a possessive with no health term after it', "Rosa Morales's retirement party is Friday.", []],
    ['a name followed by "about her"', 'Please call Grace Liu about her results.', ['named-patient']],
  ])('%s', (_name, text, kinds) => {
    expect(personAnchors(text).map((a) => a.kind)).toEqual(kinds);
  });

  it.each<[string, number]>([
    ['14 Elm Street', 1],
    ['221 W 42nd St.', 1],
    ['Calle de Alcalá 45', 1],
    ['12 rue de la Paix', 1],
    ['Hauptstraße 5a', 1],
    ['Suite 200, 100 Main Street', 0],
    ['Tel 617-555-0100, 100 Main Street', 0],
    ['Take 2 tablets twice daily', 0],
  ])('home address in %j: %i', (text, n) => {
    expect(homeAddresses(text)).toHaveLength(n);
  });

  it('stays linear on hostile input', () => {
    const text = `${'Aaaa '.repeat(50_000)}${'a'.repeat(200_000)} ${'1 '.repeat(50_000)}`;
    expect(Array.isArray(personAnchors(text))).toBe(true);
  });
});

describe('PHI needs health information about an individual', () => {
  it.each<[string, string, boolean]>([
    ['a named patient and a drug', 'Spoke with Maria Alvarez this morning about her insulin refill.', true],
    ['a French post-op note', 'Madame Ingrid Ivanova a été opérée ce matin d’une cholécystite.', true],
    ['a census table: names, addresses and hospice diagnoses', 'Name\tAddress\tService\nIngrid Haddad\t2118 Lincoln Ave, Cloquet, MN 55720\thospice - end-stage COPD', true],
    ['a job posting signed with an address', 'Wir suchen eine Pflegekraft für die Intensivstation.\n\nDarnell Whitfield\nSekretariat Innere Medizin\nKlinikum am Stadtpark\nParkallee 14, 28209 Bremen', false],
    ['name, home address and care, no number', 'Home visit: Hannah Müller\n14 Elm Street, Springfield\nwound care and oxygen setup for her COPD.', true],
    ['a patient missing dialysis', 'Mrs. Okafor missed her dialysis session today.', true],
    ['admitted with pneumonia', 'Wei Zhang was admitted on Tuesday with pneumonia.', true],
    ["a patient's phone and a test", 'Please call the patient at 617-555-0199, cell, about her HIV test.', true],
    ['staff award in the cancer center', 'Congratulations to Jane Smith, RN, our Nurse of the Year in the cancer center.', false],
    ['a clinician presenting', 'Dr. Priya Raman will present on diabetes management at Grand Rounds.', false],
    ['an event with the office phone', 'Join us for the Diabetes Awareness Walk at Lincoln Park. Questions? Call 617-555-0142.', false],
    ['a newsletter footer', 'Our diabetes education line is open Mon-Fri.\n\nRiverside Family Clinic\n100 Main Street, Springfield, IL 62701\nTel (217) 555-0100 | Fax (217) 555-0101', false],
    ['a signature under a staff notice', 'Reminder: flu shots and COVID-19 boosters for staff.\n\nThanks,\nBrian Kowalski\nIT Service Desk\nRiverside Health | 100 Main Street\nPhone 217-555-0199', false],
    ['a staff signature with a programme', 'See you at the training.\nMaria Lopez, RN\nCare Coordinator, Diabetes Program\n(217) 555-0188', false],
    ['a document for a name with an apostrophe', "Attached is the echocardiogram for Brian O'Connor, ordered last week.", true],
    ['a pronoun and a health term', 'Nina Petrova is 32 weeks pregnant and her blood pressure is high.', true],
    ['a colleague and a budget line', 'Nina Petrova from finance sent the Q3 budget; the oncology line item is up 4%.', false],
    ['a colleague fixing a door', 'Anthony Russo from facilities will fix the MRI suite door lock tomorrow.', false],
    // a health term followed by a unit, a team, an event or a thing names that, not anyone's health
    ['colleagues in the ICU', 'Training: BLS recertification for Paula Chen and her ICU colleagues is due March 1.', false],
    ['a donor and dialysis chairs', 'Donor thanks: Mr. and Mrs. Robert Hale of 9 Lake Road funded the new dialysis chairs.', false],
    ['a marathon for cancer research', 'Our own Rachel Adams ran the Boston Marathon for her late father, raising $5,000 for cancer research.', false],
    ['but his diabetes supplies are his', 'Please ship Mr. Hale his diabetes supplies this week.', true],
  ])('%s', (_name, text, phi) => {
    expect(inspectText(text).phi).toBe(phi);
  });
});
