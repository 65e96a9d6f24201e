import { describe, expect, it } from 'vitest';
import { decodeEncodedWords } from '../../src/delivery/header-rewrite.js';
import { subjectField } from '../../src/mime/subject-field.js';

describe('subjectField: the Subject the gateway writes (both E2E transforms)', () => {
  it.each([
    ['plain ASCII', 'Secure message', 'Subject: Secure message\r\n'],
    ['CR LF cannot start another field', 'a\r\nBcc: x@example.net', 'Subject: a Bcc: x@example.net\r\n'],
    ['other control characters become one space', 'a\u0000\u0007b\tc', 'Subject: a b c\r\n'],
    ['trimmed', '  Secure message \r\n', 'Subject: Secure message\r\n'],
  ])('%s', (_name, text, field) => {
    expect(subjectField(text)).toBe(field);
  });

  it.each(['Befund für Frau Müller – 診断書', 'Ünïcödé ✓ '.repeat(12).trim()])('non-ASCII %j: encoded words, folded, lines of at most 76, decoding to the text', (text) => {
    const field = subjectField(text);
    expect(field).toMatch(/^[\x20-\x7e\r\n\t]+$/);
    const lines = field.split('\r\n').filter((l) => l !== '');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(76);
    for (const line of lines.slice(1)) expect(line).toMatch(/^[ \t]/);
    expect(decodeEncodedWords(field.replace(/^Subject: /, '').replace(/\r\n(?=[ \t])/g, '').trim())).toBe(text);
  });
});
