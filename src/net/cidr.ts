/**
 * IPv4/IPv6 addresses and CIDR ranges as numbers, so that "does this client
 * address fall in this connector's range" is a pure comparison. IPv4-mapped
 * IPv6 addresses (::ffff:192.0.2.1, what a dual-stack socket reports) match
 * IPv4 ranges.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
  readonly text: string;
}

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  // embedded IPv4 tail (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4ToBigInt(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part, 16)), 0n);
}

/** Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [addr = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(addr) ? 4 : isIPv6(addr.replace(/%.*$/, '')) ? 6 : 0;
  if (family === 0) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const value = family === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr.replace(/%.*$/, ''));
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family, network: value & mask, prefix, text };
}

/** Normalises an address: IPv4-mapped IPv6 becomes plain IPv4. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1] ?? ip;
}

export function ipInCidr(ip: string, range: Cidr): boolean {
  const addr = normalizeIp(ip);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family !== range.family) return false;
  const bits = family === 4 ? 32 : 128;
  const value = family === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
  const mask = range.prefix === 0 ? 0n : ((1n << BigInt(range.prefix)) - 1n) << BigInt(bits - range.prefix);
  return (value & mask) === range.network;
}

export function ipInAny(ip: string, ranges: readonly Cidr[]): boolean {
  return ranges.some((r) => ipInCidr(ip, r));
}
