import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, rewriteHeaderBlock, rewriteMessage, stripTagFromSubject } from '../../src/delivery/header-rewrite.js';

describe('decodeEncodedWords', () => {
  it.each<[string, string]>([
    ['plain', 'plain'],
    ['=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=', 'Grüße'],
    ['=?utf-8?B?W3NlY3VyZV0gcsOpc3VsdGF0cw==?=', '[secure] résultats'],
    ['=?ISO-8859-1?Q?caf=E9_au_lait?=', 'café au lait'],
    ['=?UTF-8?Q?a?= =?UTF-8?Q?b?=', 'ab'],
    ['=?x-unknown?Q?abc?=', '=?x-unknown?Q?abc?='],
  ])('%s → %s', (input, expected) => {
    expect(decodeEncodedWords(input)).toBe(expected);
  });
});

describe('stripTagFromSubject', () => {
  it.each<[string, string]>([
    [' [secure] Lab results', ' Lab results'],
    [' Lab results [ENCRYPT]', ' Lab results'],
    [' +encrypt+ referral', ' referral'],
    [' no tag here', ' no tag here'],
    [' RE: [Secure]\r\n  follow-up', ' RE: follow-up'],
    [' =?utf-8?B?W3NlY3VyZV0gcsOpc3VsdGF0cw==?=', ' =?UTF-8?Q?r=C3=A9sultats?='],
    // raw UTF-8 (SMTPUTF8), carried as latin1 characters
    [Buffer.from(' [secure] Grüße', 'utf8').toString('latin1'), Buffer.from(' Grüße', 'utf8').toString('latin1')],
  ])('%j → %j', (input, expected) => {
    expect(stripTagFromSubject(input)).toBe(expected);
  });
});

describe('rewriteHeaderBlock', () => {
  const header = 'From: a@example.com\r\nSubject: [secure] results for\r\n the clinic\r\nTo: b@example.net\r\n';
  it('removes the tag, keeps the other headers, adds new ones on top', () => {
    expect(rewriteHeaderBlock(header, { stripSubjectTag: true, addHeaders: { 'X-Sealgate-Class': 'phi' } })).toBe(
      'X-Sealgate-Class: phi\r\nFrom: a@example.com\r\nSubject: results for the clinic\r\nTo: b@example.net\r\n',
    );
  });
  it('leaves the subject alone when not asked', () => {
    expect(rewriteHeaderBlock(header, { stripSubjectTag: false, addHeaders: {} })).toBe(header);
  });
  it('folds a long re-encoded subject with white space at the start of each continuation line', async () => {
    // the encoded words were once folded with the space left at the end of the line: the next line
    // started with "=?UTF-8?", which ends the Subject field (mailparser read "Vertrauliche Nachricht")
    const subject = 'Vertrauliche Nachricht über Ihre Ergebnisse — bitte im Portal öffnen und lesen, danke schön';
    const encoded = `=?UTF-8?B?${Buffer.from(`[secure] ${subject}`, 'utf8').toString('base64')}?=`;
    const out = rewriteHeaderBlock(`From: a@example.com\r\nSubject: ${encoded}\r\nTo: b@example.net\r\n`, { stripSubjectTag: true, addHeaders: {} });
    const lines = out.split('\r\n').filter((l) => l !== '');
    for (const line of lines) expect(line, line).toMatch(/^(?:[ \t]|[A-Za-z-]+:)/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(78);
    expect((await simpleParser(`${out}\r\nbody\r\n`)).subject).toBe(subject);
  });
});

describe('rewriteMessage', () => {
  const chunks = (text: string, size: number): Buffer[] => {
    const b = Buffer.from(text, 'latin1');
    const out: Buffer[] = [];
    for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
    return out;
  };
  const collect = async (r: Readable): Promise<string> => {
    const parts: Buffer[] = [];
    for await (const c of r) parts.push(c as Buffer);
    return Buffer.concat(parts).toString('latin1');
  };

  it.each([1, 7, 64, 100_000])('rewrites the header block whatever the chunk size (%i), body untouched', async (size) => {
    const body = 'Subject: [secure] not a header, in the body\r\n\r\nline\r\n'.repeat(3);
    const message = `From: a@example.com\r\nSubject: [secure] hello\r\n\r\n${body}`;
    const out = await collect(rewriteMessage(Readable.from(chunks(message, size)), { stripSubjectTag: true, addHeaders: { 'X-A': '1' } }));
    expect(out).toBe(`X-A: 1\r\nFrom: a@example.com\r\nSubject: hello\r\n\r\n${body}`);
    const parsed = await simpleParser(Buffer.from(out, 'latin1'));
    expect(parsed.subject).toBe('hello');
  });

  it('passes a message through unchanged when there is nothing to do', async () => {
    const source = Readable.from([Buffer.from('Subject: [secure] x\r\n\r\nbody')]);
    expect(rewriteMessage(source, undefined)).toBe(source);
  });

  it('sends an oversized header block unchanged', async () => {
    const huge = `X-Long: ${'a'.repeat(300 * 1024)}\r\nSubject: [secure] x\r\n\r\nbody`;
    const out = await collect(rewriteMessage(Readable.from(chunks(huge, 16 * 1024)), { stripSubjectTag: true, addHeaders: {} }));
    expect(out).toBe(huge);
  });
});
