/**
 * The credentials clinicians and staff write after their names ("Maria
 * Lopez, RN", "Lauren Whitcomb, MD, FACC"): a name with one is staff, and a
 * line of a name and credentials is a signature's, not a table's header.
 * A pattern source, without anchors or flags.
 */
export const CREDENTIAL = String.raw`(?:M\.?D\.?|D\.?O\.?|R\.?N\.?|N\.?P\.?|PA(?:-C)?|Ph\.?D\.?|FNP(?:-[A-Z]+)?|APRN|LPN|CNA|MSN|BSN|Pharm\.?D|DDS|DMD|LCSW|LMSW|MSW|CMA|RD|DPT|MPH|MBA|MHA|FACP|FACS|FACC|FAAP|FACOG|FACEP|CNM|CRNA|PsyD)`;

/** A whole cell that is one credential ("MD", "FACC", "Ph.D."). */
const CREDENTIAL_CELL = new RegExp(`^${CREDENTIAL}$`);

/** Whether a word (a cell, trimmed) is a credential. */
export function isCredential(word: string): boolean {
  return CREDENTIAL_CELL.test(word);
}

/** Whether every cell after the first is a credential: "Lauren Whitcomb, MD, FACC" read as cells is a name line, not a header. */
export function nameWithCredentials(cells: readonly string[]): boolean {
  return cells.length >= 2 && cells.slice(1).every(isCredential);
}
