/**
 * NACHA ACH files (the banks' batch format: 94-character records, a file
 * header "101 …", entry detail records "6 …"), as payroll and refund runs
 * attach them. Each entry carries a person's bank routing number, account
 * number and name in fixed columns, with no label a detector could read:
 * they are written out as labelled lines ("Routing number: …", "Account
 * number: …", "Name: …"), the way the clinical formats' fields are
 * (clinical-fields.ts), so the bank and name detectors find them. Pure.
 */

/** A file header record at a line's start: "101", a space or a digit, then the immediate destination. */
const FILE_HEADER = /(?:^|[\r\n])101[ \d]\d{9}/;
/**
 * An entry detail record: "6", a transaction code of a checking or savings
 * credit or debit (22–29, 32–39), the receiving bank's routing number (8
 * digits and the check digit), the account number (17 columns), the amount
 * (10 digits), the individual's id (15 columns) and name (22 columns).
 */
const ENTRY = /(?:^|[\r\n])6[23][2-9](\d{9})([0-9A-Za-z -]{17})\d{10}[^\r\n]{15}([^\r\n]{22})/g;
/** The most entries written out (a run of thousands says what a few say). */
const MAX_ENTRIES = 200;

/** The entries of the NACHA files in `text` as labelled lines, each line apart from the others; '' when there is none. */
export function achEntryLines(text: string): string {
  if (!text.includes('101') || !FILE_HEADER.test(text)) return '';
  let out = '';
  let n = 0;
  ENTRY.lastIndex = 0;
  for (let m = ENTRY.exec(text); m && n < MAX_ENTRIES; m = ENTRY.exec(text), n++) {
    const account = (m[2] ?? '').trim();
    const name = (m[3] ?? '').trim();
    out += `\nACH entry, routing number: ${m[1] ?? ''}\nBank account number: ${account}\n${name === '' ? '' : `Name: ${name}\n`}`;
  }
  ENTRY.lastIndex = 0;
  return out;
}
