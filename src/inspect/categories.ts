/**
 * The finding categories the verdict and the policy reason about, apart from
 * the detectors that find them: policy evaluation (on the daemon's main
 * thread) needs these sets without loading the inspection engine, which only
 * the inspection threads run.
 */

/** Categories that identify a person. */
export const IDENTIFIER_CATEGORIES: ReadonlySet<string> = new Set(['SSN', 'ITIN', 'MEDICARE_MBI', 'MRN', 'DOB', 'PHONE', 'MEMBER_ID', 'PERSON_NAME']);

/**
 * Identifiers of a person that HIPAA lists among the 18 (SSN, medical record
 * and health plan numbers, account numbers) or that identify a person's
 * money: found with high confidence, they alone call for the PHI transport
 * protection (policy setting identifierProtection), even without a health word.
 */
export const PERSONAL_ID_CATEGORIES: ReadonlySet<string> = new Set(['SSN', 'ITIN', 'MEDICARE_MBI', 'MRN', 'MEMBER_ID', 'PAYMENT_CARD', 'BANK_ACCOUNT']);

/** Categories that do not make a message sensitive alone (only next to health information, as PHI). */
export const WEAK_CATEGORIES: ReadonlySet<string> = new Set(['HEALTH_TERM', 'PHONE', 'PERSON_NAME']);

/** Categories that are health information by themselves. */
export const HEALTH_CATEGORIES: ReadonlySet<string> = new Set(['ICD10', 'CPT_HCPCS', 'NDC', 'HEALTH_TERM']);

/**
 * Identifiers that exist only because a person is a patient or a health-plan
 * member (a medical record number, a Medicare number, a member id): found
 * with their keyword they are PHI by themselves — the fact of care is health
 * information. An SSN or a bank account is not: payroll mail holds them too.
 */
export const PATIENT_ID_CATEGORIES: ReadonlySet<string> = new Set(['MRN', 'MEDICARE_MBI', 'MEMBER_ID']);
