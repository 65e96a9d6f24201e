/**
 * Identifiers that appear only in the Subject (issue 12, class 2), also as
 * RFC 2047 encoded-words: the inspection reads the decoded subject with the
 * body, so an SSN or MRN there is found and protects the message.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inspectHere } from '../../src/inspect/inspect-here.js';
import { DEFAULT_PROFILE } from '../../src/inspect/verdict.js';

const encoded = (text: string, enc: 'B' | 'Q'): string =>
  enc === 'B' ? `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=` : `=?UTF-8?Q?${text.replace(/ /g, '_').replace(/[^A-Za-z0-9_]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}?=`;

function mail(subject: string): string {
  return ['From: billing@clinic.example', 'To: pat@gmail.example', `Subject: ${subject}`, 'Content-Type: text/plain; charset=utf-8', '', 'Please see the attached statement and call us with questions.', ''].join('\r\n');
}

describe('identifiers only in the Subject', () => {
  it.each<[string, string, string]>([
    ['plain SSN', 'Statement for SSN 536-22-8147', 'SSN'],
    ['SSN in a base64 encoded-word', encoded('Statement for SSN 536-22-8147', 'B'), 'SSN'],
    ['SSN in a quoted-printable encoded-word', encoded('Statement for SSN 536-22-8147', 'Q'), 'SSN'],
    ['MRN split across two encoded-words', `${encoded('Results MRN', 'B')} ${encoded(' 00123456', 'B')}`, 'MRN'],
  ])('%s is found', async (_name, subject, category) => {
    const r = await inspectHere(() => Readable.from([Buffer.from(mail(subject))]), DEFAULT_PROFILE, 10_000);
    expect(r.verdict.categories).toContain(category);
    expect(r.subjectSensitive).toBe(true);
    // the verdict carries masked evidence only
    expect(JSON.stringify(r.verdict)).not.toContain('536-22-8147');
  });

  it('a subject without identifiers is clean', async () => {
    const r = await inspectHere(() => Readable.from([Buffer.from(mail(encoded('Your appointment reminder', 'B')))]), DEFAULT_PROFILE, 10_000);
    expect(r.verdict.categories).toEqual([]);
    expect(r.subjectSensitive).toBe(false);
  });
});
