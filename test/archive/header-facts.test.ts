/**
 * The archive's Subject and Message-ID of a header block, table-driven:
 * each case's expected facts, and the same facts as mailparser's own
 * parser finds them (simpleParser on the block and an empty line, what the
 * archive ran before), so the two readings cannot drift apart.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { headerFacts } from '../../src/archive/header-facts.js';

const LIMIT = 998;

/** What mailparser finds: the first non-empty Subject cut at the limit, the Message-ID without its brackets. */
async function byMailparser(block: Buffer): Promise<{ subject: string; messageId: string | null }> {
  try {
    const parsed = await simpleParser(Buffer.concat([block, Buffer.from('\r\n')]), { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const mid = parsed.messageId?.trim().replace(/^<|>$/g, '') ?? '';
    return { subject: (parsed.subject ?? '').slice(0, LIMIT), messageId: mid.length > 0 && mid.length <= 998 ? mid : null };
  } catch {
    return { subject: '', messageId: null };
  }
}

const crlf = (...lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

const cases: { name: string; block: Buffer; subject: string; messageId: string | null }[] = [
  { name: 'plain ASCII', block: crlf('From: a@example.com', 'Subject: Lab results', 'Message-ID: <abc.123@example.com>'), subject: 'Lab results', messageId: 'abc.123@example.com' },
  { name: 'Q-encoded UTF-8', block: crlf('Subject: =?UTF-8?Q?Befund_f=C3=BCr_heute?=', 'Message-ID: <q@x>'), subject: 'Befund für heute', messageId: 'q@x' },
  { name: 'B-encoded ISO-8859-1', block: crlf(`Subject: =?ISO-8859-1?B?${Buffer.from('Résumé médical', 'latin1').toString('base64')}?=`), subject: 'Résumé médical', messageId: null },
  { name: 'Q-encoded windows-1252 (curly quotes)', block: crlf('Subject: =?windows-1252?Q?=93Follow-up=94_visit?='), subject: '\u201cFollow-up\u201d visit', messageId: null },
  { name: 'B-encoded ISO-2022-JP', block: crlf('Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?='), subject: 'テスト', messageId: null },
  { name: 'raw 8-bit UTF-8', block: crlf('Subject: Überweisung – Zimmer 3', 'Message-ID: <u@x>'), subject: 'Überweisung – Zimmer 3', messageId: 'u@x' },
  { name: 'folded with a tab and spaces', block: crlf('Subject: a long', '\tsubject line', '   folded twice', 'To: b@example.com'), subject: 'a long subject line folded twice', messageId: null },
  { name: 'adjacent encoded words across a fold', block: crlf('Subject: =?UTF-8?Q?Termin_am?=', ' =?UTF-8?Q?_Montag?='), subject: 'Termin am Montag', messageId: null },
  { name: 'the first of two subjects', block: crlf('Subject: first', 'Subject: second'), subject: 'first', messageId: null },
  { name: 'an empty subject, then one with text', block: crlf('Subject:', 'Subject:   ', 'Subject: the real one'), subject: 'the real one', messageId: null },
  { name: 'a Message-ID without brackets', block: crlf('Message-ID: bare.id@example.com'), subject: '', messageId: 'bare.id@example.com' },
  { name: 'a Message-ID with white space around', block: crlf('Message-Id:    <spaced@x>   '), subject: '', messageId: 'spaced@x' },
  { name: 'a Message-ID folded', block: crlf('Message-ID:', ' <folded@x>'), subject: '', messageId: 'folded@x' },
  { name: 'a Message-ID with only its opening bracket', block: crlf('Message-ID: <half@x'), subject: '', messageId: 'half@x' },
  { name: 'two Message-IDs, the first empty', block: crlf('Message-ID:', 'Message-ID: <second@x>'), subject: '', messageId: 'second@x' },
  { name: 'neither field', block: crlf('From: a@example.com', 'To: b@example.com'), subject: '', messageId: null },
  { name: 'LF line endings', block: Buffer.from('Subject: lf\nMessage-ID: <lf@x>\n'), subject: 'lf', messageId: 'lf@x' },
  { name: 'an mbox From line first', block: crlf('From sender@example.com Mon Dec  7 00:00:00 2026', 'Subject: after mbox'), subject: 'after mbox', messageId: null },
  { name: 'lower-case names, space before the colon', block: crlf('subject : spaced name', 'message-id : <lc@x>'), subject: 'spaced name', messageId: 'lc@x' },
  { name: 'a name whose colon is on the continuation line', block: crlf('Subject', ' : from the next line'), subject: 'from the next line', messageId: null },
  { name: 'the block ends at an empty LF line after LF', block: Buffer.from('Subject: head\n\r\nSubject: body text\r\n'), subject: 'head', messageId: null },
  { name: 'the block ends at an empty line; the body is not read', block: Buffer.from('To: b@x\r\n\r\nSubject: in the body\r\n'), subject: '', messageId: null },
  { name: 'a block cut before its end', block: Buffer.from('Subject: cut short\r\nMessage-ID: <cu'), subject: 'cut short', messageId: 'cu' },
  { name: 'an unknown charset', block: crlf('Subject: =?x-unknown?Q?abc?='), subject: 'abc', messageId: null },
  { name: 'a broken encoded word', block: crlf('Subject: =?UTF-8?B?not base64 at all'), subject: '=?UTF-8?B?not base64 at all', messageId: null },
  { name: 'bytes that are not UTF-8', block: latin1('Subject: caf\xe9 \xff\r\n'), subject: 'caf\ufffd \ufffd', messageId: null },
  { name: 'a subject longer than the limit', block: crlf(`Subject: ${'x'.repeat(1200)}`), subject: 'x'.repeat(LIMIT), messageId: null },
  { name: 'a Message-ID longer than 998', block: crlf(`Message-ID: <${'m'.repeat(1000)}@x>`), subject: '', messageId: null },
  { name: 'a header without a colon among others', block: crlf('Garbage line', 'Subject: still found'), subject: 'still found', messageId: null },
  { name: 'an empty block', block: Buffer.alloc(0), subject: '', messageId: null },
];

describe('headerFacts', () => {
  it.each(cases)('$name', async ({ block, subject, messageId }) => {
    const facts = headerFacts(block, LIMIT);
    expect(facts).toEqual({ subject, messageId });
    expect(facts).toEqual(await byMailparser(block));
  });

  it('cuts the subject at the limit it is given', () => {
    expect(headerFacts(crlf('Subject: abcdef'), 3).subject).toBe('abc');
  });
});
