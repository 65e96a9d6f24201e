/**
 * Test patients, as interface builds, vendors' samples and clearinghouses'
 * test files name them ("ZZTEST^PATIENT", "TESTPATIENT*JANE"), and the
 * placeholders of companion guides and templates ("LASTNAME*FIRSTNAME"): the clinical formats' persons that are no one. Pure.
 */

/** A test patient's family name, as interface builds and clearinghouses name them: "ZZTEST", "ZZZDOE", "XXTEST", "TEST", "TESTPATIENT", "TESTSUBSCRIBER". */
const TEST_FAMILY = /^(?:ZZ[A-Z]*|XX[A-Z]*|TEST(?:PATIENT|PT|ING|SUBSCRIBER|MEMBER|DEPENDENT|CHILD|BABY)?\d*)$/i;

/** A companion guide's or a template's placeholder for a family name ("LASTNAME", "SUBSCRIBER LAST", "<LAST>", "XXXXX"). */
const PLACEHOLDER_FAMILY = /^(?:LAST(?:[ _-]?NAME)?|SURNAME|FAMILY(?:[ _-]?NAME)?|(?:PATIENT|SUBSCRIBER|MEMBER|DEPENDENT|INSURED)[ _-]?(?:LAST(?:[ _-]?NAME)?|NAME)|[<{[].*[>}\]]|X{3,})$/i;
/** The example persons of HL7's own specifications and sample documents ("Everyman, Adam", "Public, John Q"): family and given name. */
const SPEC_SAMPLE_PERSONS: ReadonlySet<string> = new Set(['everyman^adam', 'everywoman^eve', 'public^john', 'public^jane']);
/** … and for a given name ("FIRSTNAME", "<FIRST>"). */
const PLACEHOLDER_GIVEN = /^(?:FIRST(?:[ _-]?NAME)?|GIVEN(?:[ _-]?NAME)?|[<{[].*[>}\]]|X{3,})$/i;

/**
 * Whether an HL7 person name (family^given^…, the first repetition) is a
 * test patient's or a placeholder: its family name is a test patient's
 * (TEST_FAMILY) or a placeholder (PLACEHOLDER_FAMILY), its given name is
 * TEST or a placeholder, or it is Jane or John Doe.
 */
export function testPatientName(xpn: string): boolean {
  const [rawFamily = '', rawGiven = ''] = (xpn.split('~')[0] ?? '').split('^');
  const family = rawFamily.trim();
  const given = rawGiven.trim();
  return TEST_FAMILY.test(family) || PLACEHOLDER_FAMILY.test(family) || /^test$/i.test(given) || PLACEHOLDER_GIVEN.test(given) || SPEC_SAMPLE_PERSONS.has(`${family.toLowerCase()}^${given.toLowerCase().split(/\s+/)[0] ?? ''}`);
}
