import { describe, expect, it } from 'vitest';
import { isContentLines, unfoldContentLines } from '../../src/inspect/content-lines.js';

describe('calendar and contact-card lines', () => {
  it.each([
    ['a folded value joins, even inside a number', 'DESCRIPTION:bring your card (member ID YJM8834\r\n 01227)', 'DESCRIPTION:bring your card (member ID YJM883401227)'],
    ['a tab folds too', 'SUMMARY:Intake - Roberto\n\tSalgado', 'SUMMARY:Intake - RobertoSalgado'],
    ['escaped commas and semicolons read plain', 'LOCATION:62 Ferry Road\\, Suite 3\\; Millbrook', 'LOCATION:62 Ferry Road, Suite 3; Millbrook'],
    ['an escaped line break is a line break', 'DESCRIPTION:line one\\nline two', 'DESCRIPTION:line one\nline two'],
    ['an escaped backslash stays one', 'NOTE:C:\\\\temp', 'NOTE:C:\\temp'],
    ['unfolded lines stay as they are', 'BEGIN:VEVENT\r\nSUMMARY:Staff meeting\r\nEND:VEVENT', 'BEGIN:VEVENT\r\nSUMMARY:Staff meeting\r\nEND:VEVENT'],
  ])('%s', (_name, folded, unfolded) => {
    expect(unfoldContentLines(folded)).toBe(unfolded);
  });

  it.each([
    ['text/calendar', 'invite.ics', 'whatever', true],
    ['application/octet-stream', 'card.vcf', 'whatever', true],
    ['text/plain', 'notes.txt', 'BEGIN:VCALENDAR\r\nVERSION:2.0', true],
    ['text/x-vcard', '', 'x', true],
    ['text/plain', 'notes.txt', 'Meeting at 3: BEGIN:VCALENDAR is a keyword', false],
    ['text/csv', 'list.csv', 'name,phone', false],
  ])('%s %s → %s', (type, name, text, expected) => {
    expect(isContentLines(type, name, text)).toBe(expected);
  });
});
