/**
 * Calendar invitations (iCalendar, RFC 5545) and contact cards (vCard, RFC
 * 6350) fold their long lines — a line break and one space or tab in the
 * middle of a value, even inside a word or a number — and escape the commas,
 * semicolons and line breaks of their text values. A reader sees the value
 * whole: "member ID YJM8834\r\n 01227" is the member ID YJM883401227, "62
 * Ferry Road\, Millbrook" an address. Pure.
 */

/** A calendar's or a contact card's text, by its declared type, its file name or its first line. */
export function isContentLines(contentType: string, filename: string, text: string): boolean {
  return /^text\/(?:calendar|x-vcalendar|vcard|x-vcard|directory)\b/i.test(contentType) || /\.(?:ics|ical|ifb|vcs|vcf|vcard)$/i.test(filename) || /^\uFEFF?BEGIN:(?:VCALENDAR|VCARD)\r?$/im.test(text.slice(0, 200));
}

/** The text with its folded lines joined and its values' escapes read ("\\," → ",", "\\;" → ";", "\\n" → a line break, "\\\\" → "\\"). */
export function unfoldContentLines(text: string): string {
  return text.replace(/\r?\n[ \t]/g, '').replace(/\\([,;nN\\])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}
