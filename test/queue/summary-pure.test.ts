import { describe, expect, it } from 'vitest';
import { ageBuckets, reasonExample, REASON_TEXT_MAX } from '../../src/queue/summary.js';
import { columns, formatSummary } from '../../src/cli/commands/queue-summary.js';

describe('ageBuckets', () => {
  it.each<[string, number[], number, number[]]>([
    ['empty queue', [0, 0, 0, 0], 0, [0, 0, 0, 0, 0]],
    ['one per bucket', [1, 2, 3, 4], 5, [1, 1, 1, 1, 1]],
    ['all young', [7, 7, 7, 7], 7, [7, 0, 0, 0, 0]],
    ['all old', [0, 0, 0, 0], 9, [0, 0, 0, 0, 9]],
    // a message accepted between two of the counts cannot make a bucket negative
    ['counts not monotonic', [3, 2, 4, 4], 4, [3, 0, 1, 0, 0]],
  ])('%s', (_name, younger, total, expected) => {
    const out = ageBuckets(younger, total);
    expect(out.map((b) => b.bucket)).toEqual(['<5m', '<1h', '<4h', '<1d', 'older']);
    expect(out.map((b) => b.messages)).toEqual(expected);
  });
});

describe('reasonExample', () => {
  it.each<[string, string | null, string]>([
    ['no text', null, ''],
    ['plain', 'Greylisted, try again later', 'Greylisted, try again later'],
    ['address in angle brackets', 'Mailbox full: <jane.roe@example.net>', 'Mailbox full: <…@example.net>'],
    ['bare address and a second one', 'user bob@a.test and carol+x@b.test unknown', 'user …@a.test and …@b.test unknown'],
    ['address literal', '<x@[192.0.2.1]> deferred', '<…@[192.0.2.1]> deferred'],
    ['local part cut before its domain', 'quota of jane.roe@', 'quota of …@'],
    ['quoted local part', 'rcpt "jane roe"@example.net', 'rcpt …@example.net'],
    ['line breaks and controls', '451 first\r\n451 second\x07', '451 first 451 second?'],
  ])('%s', (_name, text, expected) => {
    expect(reasonExample(text)).toBe(expected);
  });

  it('is at most REASON_TEXT_MAX characters', () => {
    const out = reasonExample('x'.repeat(500));
    expect(out).toHaveLength(REASON_TEXT_MAX);
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('columns', () => {
  it.each<[string, (string | number)[][], string[]]>([
    ['numbers right, text left, last text column unpadded', [['NAME', 'N', 'NOTE'], ['a', 10, 'x'], ['bbb', 2, 'longer']], ['NAME  N   NOTE', 'a     10  x', 'bbb    2  longer']],
    ['trailing blanks trimmed', [['A', 'B'], ['long', '']], ['A     B', 'long']],
  ])('%s', (_name, rows, expected) => {
    expect(columns(rows)).toEqual(expected);
  });
});

describe('formatSummary', () => {
  it('an empty queue: zero counts, and "none" for the domains and the replies', () => {
    const empty = {
      at: 0, messages: 0, bytes: 0, oldestCreatedAt: null,
      recipients: { queued: 0, 'in-flight': 0, deferred: 0, delivered: 0, bounced: 0, held: 0, expired: 0 },
      ages: ['<5m', '<1h', '<4h', '<1d', 'older'].map((bucket) => ({ bucket, messages: 0 })),
      domains: { top: 20, total: 0, lines: [], otherRecipients: 0 },
      deferrals: { recipients: 0, reasons: [], otherRecipients: 0 },
    };
    expect(formatSummary(empty).split('\n')).toEqual([
      '0 messages, 0 bytes',
      'recipients: queued 0, in-flight 0, deferred 0, delivered 0, bounced 0, held 0, expired 0',
      '',
      'AGE       <5m  <1h  <4h  <1d  older',
      'messages    0    0    0    0      0',
      '',
      'waiting recipients by domain (0 of 0):',
      '  none',
      '',
      'deferred recipients by last reply (0; one example text each, addresses shown by domain only):',
      '  none',
    ]);
  });
});
