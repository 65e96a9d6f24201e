import { describe, expect, it } from 'vitest';
import { classifyDomain, literalAddress, type DomainKind } from '../../src/net/address-literal.js';

describe('classifyDomain', () => {
  it.each<[string, DomainKind]>([
    ['example.net', { kind: 'name' }],
    ['mx.example.net', { kind: 'name' }],
    // a bare dotted quad is syntactically a domain name (numeric labels), not a literal
    ['192.0.2.1', { kind: 'name' }],
    ['[192.0.2.1]', { kind: 'literal', family: 4, ip: '192.0.2.1' }],
    ['[127.0.0.2]', { kind: 'literal', family: 4, ip: '127.0.0.2' }],
    ['[ipv6:2001:db8::1]', { kind: 'literal', family: 6, ip: '2001:db8::1' }],
    ['[IPv6:2001:DB8::1]', { kind: 'literal', family: 6, ip: '2001:db8::1' }],
    ['[IPv6:::1]', { kind: 'literal', family: 6, ip: '::1' }],
    ['[IPv6:::ffff:127.0.0.2]', { kind: 'literal', family: 6, ip: '::ffff:127.0.0.2' }],
    ['[192.0.2.256]', { kind: 'malformed' }],
    ['[192.0.2]', { kind: 'malformed' }],
    ['[192.0.2.01]', { kind: 'malformed' }],
    ['[1.2.3.4.5]', { kind: 'malformed' }],
    ['[2001:db8::1]', { kind: 'malformed' }],
    ['[IPv6:192.0.2.1]', { kind: 'malformed' }],
    ['[IPv6:1:2:3:4:5:6:7:8:9]', { kind: 'malformed' }],
    ['[IPv6:fe80::1%eth0]', { kind: 'malformed' }],
    ['[IPv4:192.0.2.1]', { kind: 'malformed' }],
    ['[x-tag:content]', { kind: 'malformed' }],
    ['[]', { kind: 'malformed' }],
    ['[192.0.2.1', { kind: 'malformed' }],
    ['192.0.2.1]', { kind: 'malformed' }],
    ['[[192.0.2.1]]', { kind: 'malformed' }],
  ])('%s', (domain, expected) => {
    expect(classifyDomain(domain)).toEqual(expected);
  });

  it.each([
    ['[192.0.2.1]', '192.0.2.1'],
    ['[ipv6:2001:db8::1]', '2001:db8::1'],
    ['example.net', undefined],
    ['[192.0.2.999]', undefined],
  ])('literalAddress(%s)', (domain, ip) => {
    expect(literalAddress(domain)).toBe(ip);
  });
});
