/**
 * Pure parts of DNS and key-server discovery as tables: the OPENPGPKEY /
 * SMIMEA owner names (RFC 7929's own example), which SMIMEA records give a
 * usable certificate and how it is trusted, and the key-server URL and
 * paths.
 */
import { describe, expect, it } from 'vitest';
import { dnsKeyNames, localPartHash, smimeaChainTrusted, smimeaUse, type SmimeaUse } from '../../src/keys/dns-keys.js';
import { keyserverPaths, parseKeyserverUrl } from '../../src/keys/keyserver.js';

describe('owner names', () => {
  it('RFC 7929 section 3 example: hugh@example.com', () => {
    expect(dnsKeyNames('hugh@example.com', 'openpgpkey')).toEqual([{ variant: 'as-written', name: 'c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com' }]);
  });

  it.each<[string, string, 'openpgpkey' | 'smimea', string[]]>([
    ['SMIMEA uses _smimecert', 'hugh@example.com', 'smimea', ['c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.com']],
    ['domain lower-cased, trailing dot dropped', 'hugh@Example.COM.', 'openpgpkey', ['c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com']],
    ['upper case in the local part: as written, then lower-cased (GnuPG)', 'Hugh@example.com', 'openpgpkey', [`${localPartHash('Hugh')}._openpgpkey.example.com`, 'c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com']],
    ['the last @ splits (a quoted local part may hold one)', '"a@b"@example.com', 'openpgpkey', [`${localPartHash('"a@b"')}._openpgpkey.example.com`]],
  ])('%s', (_name, address, type, names) => {
    expect(dnsKeyNames(address, type).map((n) => n.name)).toEqual(names);
  });

  it.each<[string, string]>([
    ['hugh', 'c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6'],
    // UTF-8 bytes 6a c3 bc 72 67 65 6e (as `printf jürgen | sha256sum` hashes them), not Latin-1
    ['jürgen', '19b720a911fced55aecd96bf4ddcada1c69be5a96dc523d5be336b8e'],
  ])('localPartHash(%s): first 28 octets of SHA2-256, hex', (local, hex) => {
    expect(localPartHash(local)).toBe(hex);
    expect(hex).toMatch(/^[0-9a-f]{56}$/);
  });
  it('no lower-casing inside the hash (RFC 7929 section 3): "Hugh" and "hugh" differ', () => {
    expect(localPartHash('Hugh')).not.toBe(localPartHash('hugh'));
  });
});

describe('SMIMEA usages', () => {
  const cert = Buffer.from([0x30, 0x82, 0x01, 0x00]);
  const rr = (usage: number, selector: number, matching: number, data = cert): Buffer => Buffer.concat([Buffer.from([usage, selector, matching]), data]);
  it.each<[string, Buffer, SmimeaUse]>([
    ['3 0 0 (DANE-EE, full certificate) → used, no CA chain needed', rr(3, 0, 0), { use: 'dane-ee', certificate: cert }],
    ['1 0 0 (PKIX-EE, full certificate) → used, must chain to keys.smimeTrustRoots', rr(1, 0, 0), { use: 'pkix-ee', certificate: cert }],
    ['0 0 0 (PKIX-TA) → a trust anchor, no recipient certificate', rr(0, 0, 0), { skip: 'trust-anchor' }],
    ['2 0 0 (DANE-TA) → a trust anchor, no recipient certificate', rr(2, 0, 0), { skip: 'trust-anchor' }],
    ['3 1 0 (public key only) → cannot encrypt', rr(3, 1, 0), { skip: 'not-full-certificate' }],
    ['3 0 1 (SHA-256 of the certificate) → cannot encrypt', rr(3, 0, 1), { skip: 'not-full-certificate' }],
    ['1 1 2 (SHA-512 of the key) → cannot encrypt', rr(1, 1, 2), { skip: 'not-full-certificate' }],
    ['4 0 0 (unknown usage) → not used', rr(4, 0, 0), { skip: 'unknown-usage' }],
    ['255 0 0 (private use) → not used', rr(255, 0, 0), { skip: 'unknown-usage' }],
    ['three octets, no data → malformed', Buffer.from([3, 0, 0]), { skip: 'malformed' }],
    ['empty → malformed', Buffer.alloc(0), { skip: 'malformed' }],
  ])('%s', (_name, rdata, expected) => {
    expect(smimeaUse(rdata)).toEqual(expected);
  });

  it.each<['pkix-ee' | 'dane-ee', boolean, boolean]>([
    ['dane-ee', false, true],
    ['dane-ee', true, true],
    ['pkix-ee', true, true],
    ['pkix-ee', false, false],
  ])('%s with a PKIX chain %s → chain counts as trusted: %s', (use, pkix, expected) => {
    expect(smimeaChainTrusted(use, pkix)).toBe(expected);
  });
});

describe('key server', () => {
  it.each<[string, { host: string; port: number } | undefined]>([
    ['https://keys.openpgp.org', { host: 'keys.openpgp.org', port: 443 }],
    ['https://keys.openpgp.org/', { host: 'keys.openpgp.org', port: 443 }],
    ['hkps://keyserver.ubuntu.com', { host: 'keyserver.ubuntu.com', port: 443 }],
    ['https://Keys.Example.NET:8443', { host: 'keys.example.net', port: 8443 }],
    ['http://keys.openpgp.org', undefined],
    ['hkp://keys.openpgp.org', undefined],
    ['https://keys.openpgp.org/vks/v1', undefined],
    ['https://keys.openpgp.org/?x=1', undefined],
    ['https://user:pw@keys.openpgp.org', undefined],
    ['https://127.0.0.1', { host: '127.0.0.1', port: 443 }],
    ['keys.openpgp.org', undefined],
    ['', undefined],
  ])('parseKeyserverUrl(%j)', (url, expected) => {
    expect(parseKeyserverUrl(url)).toEqual(expected);
  });

  it('VKS by-email first, then HKP get with machine-readable output; the address URL-encoded', () => {
    expect(keyserverPaths('o\'brien+tag@example.org')).toEqual([
      { method: 'vks', path: "/vks/v1/by-email/o'brien%2Btag%40example.org" },
      { method: 'hkp', path: "/pks/lookup?op=get&options=mr&search=o'brien%2Btag%40example.org" },
    ]);
  });
});
