import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { literalCanCarry } from '../../src/delivery/engine.js';
import { isOwnAddress, localAddressRanges, type ListeningAddress } from '../../src/delivery/self-loop.js';
import type { TransportRequirement } from '../../src/delivery/transport-requirement.js';

// what os.networkInterfaces() reports on a typical host (documentation addresses)
const INTERFACES: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
  ],
  eth0: [
    { address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.0.2.10/24' },
    { address: '2001:db8::10', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: '2001:db8::10/64', scopeid: 0 },
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
  ],
};
const LOCAL = localAddressRanges(INTERFACES);

describe('localAddressRanges', () => {
  it('lists each interface address, and the whole range of a loopback interface', () => {
    expect(LOCAL).toEqual(['127.0.0.1/8', '::1/128', '192.0.2.10', '2001:db8::10', 'fe80::1']);
  });
});

describe('isOwnAddress', () => {
  const L = (host: string, port: number): ListeningAddress => ({ host, port });
  it.each<[string, string, number, ListeningAddress[], boolean]>([
    // listener bound to one address
    ['same address and port', '127.0.0.1', 2525, [L('127.0.0.1', 2525)], true],
    ['same address, other port (gateway on 2525 delivering to 25)', '127.0.0.1', 25, [L('127.0.0.1', 2525)], false],
    ['other loopback address, same port', '127.0.0.2', 2525, [L('127.0.0.1', 2525)], false],
    ['IPv4-mapped IPv6 target', '::ffff:127.0.0.1', 2525, [L('127.0.0.1', 2525)], true],
    ['IPv6 in another spelling', '0:0:0:0:0:0:0:1', 25, [L('::1', 25)], true],
    ['bound to an interface address', '192.0.2.10', 25, [L('192.0.2.10', 25)], true],
    ['another host in the same subnet', '192.0.2.11', 25, [L('192.0.2.10', 25)], false],
    // wildcard listeners
    ['0.0.0.0 and an interface address', '192.0.2.10', 25, [L('0.0.0.0', 25)], true],
    ['0.0.0.0 and any 127/8 address (all of it is local)', '127.0.0.2', 25, [L('0.0.0.0', 25)], true],
    ['0.0.0.0 and another machine', '192.0.2.20', 25, [L('0.0.0.0', 25)], false],
    ['0.0.0.0 and a local IPv6 address (IPv4 only)', '2001:db8::10', 25, [L('0.0.0.0', 25)], false],
    ['0.0.0.0, other port', '192.0.2.10', 587, [L('0.0.0.0', 25)], false],
    [':: and a local IPv6 address', '2001:db8::10', 25, [L('::', 25)], true],
    [':: and ::1', '::1', 25, [L('::', 25)], true],
    [':: and a local IPv4 address (dual-stack)', '192.0.2.10', 25, [L('::', 25)], true],
    [':: and another IPv6 host', '2001:db8::99', 25, [L('::', 25)], false],
    [':: and a link-local address of ours', 'fe80::1', 25, [L('::', 25)], true],
    // several listeners
    ['second of two listeners', '127.0.0.1', 587, [L('127.0.0.1', 2525), L('0.0.0.0', 587)], true],
    ['no listener at all', '127.0.0.1', 25, [], false],
  ])('%s', (_name, ip, port, listening, expected) => {
    expect(isOwnAddress(ip, port, listening, LOCAL)).toBe(expected);
  });

  it('without an interface list, a wildcard listener still matches nothing but what it lists', () => {
    expect(isOwnAddress('192.0.2.10', 25, [{ host: '0.0.0.0', port: 25 }], [])).toBe(false);
  });
});

describe('literalCanCarry (an address literal gets opportunistic TLS at most)', () => {
  it.each<[TransportRequirement, boolean]>([
    ['none', true],
    ['may', true],
    ['encrypt', false],
    ['verify', false],
    ['dane', false],
  ])('%s → %s', (requirement, expected) => {
    expect(literalCanCarry(requirement)).toBe(expected);
  });
});
