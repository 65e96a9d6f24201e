/**
 * Address literals (RFC 5321 §4.1.3): the domain part of `u@[192.0.2.1]` or
 * `u@[IPv6:2001:db8::1]` names a host by its address instead of a DNS name.
 * Pure: ingress refuses or accepts them at RCPT (`delivery.allowAddressLiterals`)
 * and delivery connects to the address without DNS.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type DomainKind =
  /** An ordinary domain name. */
  | { readonly kind: 'name' }
  /** A well-formed IPv4 or IPv6 address literal; `ip` is the bare address. */
  | { readonly kind: 'literal'; readonly family: 4 | 6; readonly ip: string }
  /** Bracketed, but not a valid IPv4 (dotted quad, no leading zeros) or `IPv6:` literal. */
  | { readonly kind: 'malformed' };

/**
 * Classifies the domain part of an address (what follows the last "@").
 * A literal must be the whole domain: "[192.0.2.1]" or "[IPv6:addr]" (the
 * tag in any case). Other RFC 5321 general-address-literal tags have no
 * registered meaning here and count as malformed, as do IPv6 zone ids.
 */
export function classifyDomain(domain: string): DomainKind {
  if (!domain.startsWith('[') && !domain.endsWith(']')) return { kind: 'name' };
  const m = /^\[([^[\]]*)\]$/.exec(domain);
  if (!m?.[1]) return { kind: 'malformed' };
  const inner = m[1];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(inner)) return isIPv4(inner) ? { kind: 'literal', family: 4, ip: inner } : { kind: 'malformed' };
  const v6 = /^ipv6:([0-9a-f:.]+)$/i.exec(inner);
  if (v6?.[1] && isIPv6(v6[1])) return { kind: 'literal', family: 6, ip: v6[1].toLowerCase() };
  return { kind: 'malformed' };
}

/** The literal's address when `domain` is a well-formed address literal. */
export function literalAddress(domain: string): string | undefined {
  const k = classifyDomain(domain);
  return k.kind === 'literal' ? k.ip : undefined;
}
