/** The pure key choice: the From domain of a header block, and which configured keys sign for it. */
import { describe, expect, it } from 'vitest';
import { fromDomain, headerValues, keysFor } from '../../src/dkim/choose.js';
import type { DkimKey } from '../../src/dkim/keys.js';

const key = (domain: string, selector: string, algorithm: DkimKey['algorithm'] = 'rsa-sha256'): DkimKey => ({ domain, selector, algorithm, privateKeyPem: '' });

describe('fromDomain', () => {
  it.each<[string, string, string | undefined]>([
    ['plain address', 'From: alice@example.org\r\n', 'example.org'],
    ['display name and angle brackets', 'From: "Alice, RN" <alice@Example.ORG>\r\n', 'example.org'],
    ['folded field', 'Subject: x\r\nFrom: "Alice"\r\n <alice@example.org>\r\nTo: b@c.test\r\n', 'example.org'],
    ['lower-case field name, LF line ends', 'from: alice@sub.example.org\n', 'sub.example.org'],
    ['two mailboxes of one domain', 'From: a@example.org, b@example.org\r\n', 'example.org'],
    ['trailing dot', 'From: a@example.org.\r\n', 'example.org'],
    ['a group', 'From: Team: a@example.org, b@example.org;\r\n', 'example.org'],
    ['an internationalised domain (raw UTF-8) becomes its A-label', `From: a@${Buffer.from('bücher.example', 'utf8').toString('latin1')}\r\n`, 'xn--bcher-kva.example'],
    ['mailboxes of two domains', 'From: a@example.org, b@example.net\r\n', undefined],
    ['two From fields', 'From: a@example.org\r\nFrom: a@example.org\r\n', undefined],
    ['no From field', 'Sender: a@example.org\r\n', undefined],
    ['a From without an address', 'From: undisclosed\r\n', undefined],
    ['an empty From', 'From: \r\n', undefined],
    ['Resent-From is not From', 'Resent-From: a@example.org\r\n', undefined],
  ])('%s', (_name, header, expected) => {
    expect(fromDomain(header)).toBe(expected);
  });

  it('headerValues unfolds every occurrence', () => {
    expect(headerValues('To: a\r\n b\r\nCc: c\r\nTo: d\r\n', 'To')).toEqual([' a b', ' d']);
  });
});

describe('keysFor', () => {
  const keys = [key('example.org', 'rsa1'), key('gw.example.org', 'gw'), key('example.org', 'ed1', 'ed25519-sha256'), key('example.net', 'n1')];
  it.each<[string, string | undefined, string[]]>([
    ['exact domain: every key of it, in config order', 'example.org', ['rsa1', 'ed1']],
    ['exact subdomain entry wins over the parent', 'gw.example.org', ['gw']],
    ['subdomain without an entry: the nearest parent', 'billing.example.org', ['rsa1', 'ed1']],
    ['deeper subdomain: the nearest parent', 'a.b.gw.example.org', ['gw']],
    ['another domain', 'example.net', ['n1']],
    ['unknown domain: none', 'example.com', []],
    ['a domain that only ends like a configured one is not its child', 'badexample.org', []],
    ['no From domain: none', undefined, []],
  ])('%s', (_name, domain, selectors) => {
    expect(keysFor(domain, keys).map((k) => k.selector)).toEqual(selectors);
  });

  it('never walks up to a top-level domain', () => {
    expect(keysFor('example.org', [key('org', 'tld')])).toEqual([]);
  });
});
