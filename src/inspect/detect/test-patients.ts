/**
 * Test patients, as interface builds, vendors' samples and clearinghouses'
 * test files name them ("ZZTEST^PATIENT", "TESTPATIENT*JANE"): the
 * clinical formats' persons that are no one. Pure.
 */

/** A test patient's family name, as interface builds and clearinghouses name them: "ZZTEST", "ZZZDOE", "XXTEST", "TEST", "TESTPATIENT", "TESTSUBSCRIBER". */
const TEST_FAMILY = /^(?:ZZ[A-Z]*|XX[A-Z]*|TEST(?:PATIENT|PT|ING|SUBSCRIBER|MEMBER|DEPENDENT|CHILD|BABY)?\d*)$/i;

/** Whether an HL7 person name (family^given^…, the first repetition) is a test patient's: its family name is (TEST_FAMILY), or its given name is TEST. */
export function testPatientName(xpn: string): boolean {
  const [family = '', given = ''] = (xpn.split('~')[0] ?? '').split('^');
  return TEST_FAMILY.test(family.trim()) || /^test$/i.test(given.trim());
}
