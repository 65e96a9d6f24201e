/**
 * "Mail for <domain> loops back to myself" (as Postfix says it): a recipient
 * whose MX, implicit MX or address literal resolves to an address and port
 * the gateway itself listens on would be delivered to the gateway again, and
 * again, until the hop count stops it. Delivery skips such addresses and
 * bounces the recipient at once when nothing else is left.
 *
 * Pure: the listening set and this machine's addresses are injected (the
 * daemon passes Ingress.addresses() and os.networkInterfaces()), so the
 * decision is table-tested without sockets.
 *
 * An own address is an (IP, port) one of the SMTP listeners is bound to:
 *   - a listener bound to one address matches that address and port only;
 *   - a wildcard listener (0.0.0.0, or :: which Node binds dual-stack)
 *     matches every local address on its port: each interface's address, and
 *     for a loopback interface its whole range (on Linux all of 127.0.0.0/8
 *     is local, not just 127.0.0.1).
 * The port is the one delivery connects to (delivery.port): a gateway on
 * 127.0.0.1:2525 delivering to 127.0.0.1:25 is not a loop.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { ipInAny, normalizeIp, parseCidr, type Cidr } from '../net/cidr.js';

export interface ListeningAddress {
  /** The bound address, e.g. "127.0.0.1", "0.0.0.0", "::". */
  readonly host: string;
  readonly port: number;
}

/**
 * Pure: this machine's local addresses from os.networkInterfaces(): each
 * interface address, and for a loopback (internal) interface its whole
 * subnet as a CIDR range.
 */
export function localAddressRanges(interfaces: NodeJS.Dict<readonly NetworkInterfaceInfo[]>): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      const address = info.address.replace(/%.*$/, '');
      out.push(info.internal && info.cidr ? info.cidr.replace(/%.*$/, '') : address);
    }
  }
  return out;
}

function sameIp(a: string, b: string): boolean {
  const x = parseCidr(normalizeIp(a));
  const y = parseCidr(normalizeIp(b));
  return x !== undefined && y !== undefined && x.family === y.family && x.network === y.network;
}

function isWildcard(host: string): 'v4' | 'any' | undefined {
  const h = normalizeIp(host);
  if (h === '0.0.0.0') return 'v4';
  if (sameIp(h, '::')) return 'any';
  return undefined;
}

/**
 * Pure: would connecting to `ip`:`port` reach one of our own listeners?
 * `local` lists this machine's addresses and ranges (localAddressRanges).
 */
export function isOwnAddress(ip: string, port: number, listening: readonly ListeningAddress[], local: readonly string[]): boolean {
  const target = normalizeIp(ip);
  const ranges = local.map((l) => parseCidr(l)).filter((c): c is Cidr => c !== undefined);
  const isV4 = parseCidr(target)?.family === 4;
  return listening.some((l) => {
    if (l.port !== port) return false;
    const wildcard = isWildcard(l.host);
    if (wildcard === undefined) return sameIp(l.host, target);
    if (wildcard === 'v4' && !isV4) return false;
    return ipInAny(target, ranges);
  });
}
