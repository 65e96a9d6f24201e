import { describe, expect, it } from 'vitest';
import { ipInCidr, normalizeIp, parseCidr } from '../../src/net/cidr.js';

describe('parseCidr', () => {
  it.each([
    ['40.92.0.0/15', 4, 15],
    ['127.0.0.1', 4, 32],
    ['2a01:111:f400::/48', 6, 48],
    ['::1/128', 6, 128],
    ['::/0', 6, 0],
    ['0.0.0.0/0', 4, 0],
  ])('%s parses as IPv%i /%i', (text, family, prefix) => {
    expect(parseCidr(text)).toMatchObject({ family, prefix });
  });

  it.each(['', 'abc', '10.0.0.0/33', '::/129', '1.2.3.4/8/9', '1.2.3.4/x', '256.1.1.1'])('rejects %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('ipInCidr', () => {
  it.each([
    ['40.93.255.255', '40.92.0.0/15', true],
    ['40.94.0.0', '40.92.0.0/15', false],
    ['127.0.0.10', '127.0.0.0/8', true],
    ['127.0.0.10', '127.0.0.1/32', false],
    ['::ffff:127.0.0.1', '127.0.0.0/8', true],
    ['2a01:111:f400:1::5', '2a01:111:f400::/48', true],
    ['2a01:111:f401::5', '2a01:111:f400::/48', false],
    ['::1', '::1/128', true],
    ['127.0.0.1', '::/0', false],
    ['10.1.2.3', '0.0.0.0/0', true],
  ])('%s in %s → %s', (ip, range, expected) => {
    const cidr = parseCidr(range);
    expect(cidr).toBeDefined();
    expect(ipInCidr(ip, cidr!)).toBe(expected);
  });

  it('normalizes IPv4-mapped addresses', () => {
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('2001:db8::1')).toBe('2001:db8::1');
  });
});
