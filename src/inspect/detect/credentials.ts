/**
 * The credentials clinicians and staff write after their names ("Maria
 * Lopez, RN", "Lauren Whitcomb, MD, FACC"; behavioral health's and therapy's
 * licences too, an associate's or an intern's among them: "LPC-Associate",
 * "LCSW-A", "CADC"): a name with one is staff, and a
 * line of a name and credentials is a signature's, not a table's header.
 * A pattern source, without anchors or flags.
 */
export const CREDENTIAL = String.raw`(?:M\.?D\.?|D\.?O\.?|R\.?N\.?|N\.?P\.?|PA(?:-C)?|Ph\.?D\.?|FNP(?:-[A-Z]+)?|APRN|LPN|CNA|MSN|BSN|Pharm\.?D|DDS|DMD|LCSW|LMSW|MSW|CMA|RD|DPT|MPH|MBA|MHA|FACP|FACS|FACC|FAAP|FACOG|FACEP|CNM|CRNA|PsyD|(?:LCSW|LMSW|LPCC?|LMHC|LMFT|LCPC|LICSW|LISW|LSW|LADC|LCADC|CADC|CASAC|CPRS|CRPS|NCC|BCBA|PMHNP|AGNP|DNP|CDCES|CCM|RRT|OTR\/L|CCC-SLP)(?:-(?:Associate|Intern|Supervisor|BC|A|S|I|C))?)`;

/** A whole cell that is one credential ("MD", "FACC", "Ph.D."). */
const CREDENTIAL_CELL = new RegExp(`^${CREDENTIAL}$`);

/** Whether a word (a cell, trimmed) is a credential. */
export function isCredential(word: string): boolean {
  return CREDENTIAL_CELL.test(word);
}

/** A cell that may be a credential not listed in CREDENTIAL: two to six capitals, a hyphen and a few more allowed ("CIC", "COHN-S", "CHFN"). */
const CREDENTIAL_LIKE = /^[A-Z]{2,6}(?:-[A-Z]{1,3})?$/;

/**
 * Whether the cells are a name and credentials: "Lauren Whitcomb, MD, FACC",
 * "Megan Alvarado, MPH, CIC" read as cells are a signature's name line, not
 * a header. `personName` tells a person's name from a column's ("Patient
 * Name, DOB, MRN" is a header); cells after it must be credentials, or
 * shaped like one when a listed credential is among them.
 */
export function nameWithCredentials(cells: readonly string[], personName: (cell: string) => boolean): boolean {
  if (cells.length < 2) return false;
  const rest = cells.slice(1);
  if (rest.every(isCredential)) return true;
  return rest.some(isCredential) && rest.every((c) => isCredential(c) || CREDENTIAL_LIKE.test(c)) && personName(cells[0] ?? '');
}
