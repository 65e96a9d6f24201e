/**
 * Who may relay: pure decisions over the configured connectors and what is
 * known about a session (client IP, TLS, client certificate, AUTH user,
 * envelope sender). No I/O; table-tested in test/smtp/connector-policy.test.ts.
 *
 * Order of checks, so that refusals name the real reason:
 *   connect:   the client IP must fall in some connector's allowIps, or for a
 *              preset (kind m365 / workspace without allowIps) its provider's
 *              published ranges (554 5.7.1). Those ranges are shared by every
 *              tenant, so an IP match never admits a sender by itself:
 *   MAIL FROM: among those connectors, the first (in config order) that the
 *              session satisfies (TLS, client certificate, AUTH user) and whose
 *              senderDomains allow the sender's domain is used
 *              (clientCertNames, when set, must match the certificate).
 */
import type { ErrorCode } from '../errors.js';
import type { ConnectorConfig } from '../config/schema.js';
import { connectorRanges } from '../config/presets.js';
import { ipInAny, parseCidr, type Cidr } from '../net/cidr.js';

export interface ConnectorRule {
  readonly name: string;
  readonly kind: ConnectorConfig['kind'];
  readonly ranges: readonly Cidr[];
  /** Where the ranges came from: the connector's allowIps or its provider preset's file. */
  readonly rangesSource: 'allowIps' | 'preset';
  readonly senderDomains: readonly string[];
  readonly requireTls: boolean;
  /** false, or the accepted names (empty: any verified certificate). */
  readonly clientCert: false | { readonly names: readonly string[]; readonly caFiles: readonly string[] };
  readonly users: readonly string[];
  /** clientCertNames: the verified certificate must carry one of these (empty: no such rule). */
  readonly certNames: readonly string[];
}

/**
 * `ranges` defaults to reading the preset's file (the only I/O here, and only
 * for kind m365 / workspace without allowIps); tests pass it.
 */
export function compileConnector(c: ConnectorConfig, ranges: { ranges: readonly string[]; source: 'allowIps' | 'preset' } = connectorRanges(c)): ConnectorRule {
  const certNames = (c.clientCertNames ?? []).map((n) => n.toLowerCase());
  const required = c.requireClientCert === false ? false : c.requireClientCert === true ? { names: [], caFiles: [] } : c.requireClientCert;
  // clientCertNames alone asks for a certificate verified against the default trust store
  const clientCert = required === false && certNames.length > 0 ? { names: [], caFiles: [] } : required;
  return {
    name: c.name,
    kind: c.kind,
    ranges: ranges.ranges.map((r) => parseCidr(r)).filter((r): r is Cidr => r !== undefined),
    rangesSource: ranges.source,
    senderDomains: c.senderDomains.map((d) => d.toLowerCase()),
    requireTls: c.requireTls || clientCert !== false,
    clientCert,
    users: c.users,
    certNames,
  };
}

/** Connectors usable on a listener (empty list: all) whose ranges hold the IP. */
export function connectorsForClient(all: readonly ConnectorRule[], listenerConnectors: readonly string[], ip: string): ConnectorRule[] {
  return all.filter((c) => (listenerConnectors.length === 0 || listenerConnectors.includes(c.name)) && ipInAny(ip, c.ranges));
}

/** Why no connector takes a client at connect: names the preset rule when one was in play. */
export function whyClientNotAllowed(all: readonly ConnectorRule[], listenerConnectors: readonly string[]): ErrorCode {
  const usable = all.filter((c) => listenerConnectors.length === 0 || listenerConnectors.includes(c.name));
  return usable.some((c) => c.rangesSource === 'preset') ? 'SG_CLIENT_NOT_IN_PRESET_RANGES' : 'SG_CLIENT_NOT_ALLOWED';
}

export interface ClientCertFacts {
  /** The chain verified against the listener's trust store. */
  readonly verified: boolean;
  /** Subject CN and DNS subjectAltNames, lower case. */
  readonly names: readonly string[];
  /** Names of the connectors whose own caFiles issued the chain. */
  readonly issuedForConnectors: readonly string[];
}

export interface SessionFacts {
  readonly tls: boolean;
  readonly clientCert?: ClientCertFacts | undefined;
  readonly user?: string | undefined;
}

/** "*.example.org" matches one or more labels below example.org; "*" matches all. */
export function domainMatches(pattern: string, domain: string): boolean {
  const d = domain.toLowerCase();
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return d.endsWith(pattern.slice(1)) && d.length > pattern.length - 1;
  return d === pattern;
}

/** Certificate name matching with a single leading wildcard label on either side. */
export function certNameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (p === n) return true;
  const wildcardMatch = (wild: string, exact: string): boolean => {
    if (!wild.startsWith('*.')) return false;
    const rest = wild.slice(1);
    if (!exact.endsWith(rest)) return false;
    const label = exact.slice(0, exact.length - rest.length);
    return label.length > 0 && !label.includes('.');
  };
  return wildcardMatch(p, n) || wildcardMatch(n, p);
}

function certSatisfies(rule: ConnectorRule, facts: SessionFacts): boolean {
  if (rule.clientCert === false) return true;
  const cert = facts.clientCert;
  if (!facts.tls || !cert || !cert.verified) return false;
  if (rule.clientCert.caFiles.length > 0 && !cert.issuedForConnectors.includes(rule.name)) return false;
  const wanted = rule.clientCert.names;
  return wanted.length === 0 || wanted.some((w) => cert.names.some((n) => certNameMatches(w, n)));
}

function certNamesSatisfy(rule: ConnectorRule, facts: SessionFacts): boolean {
  if (rule.certNames.length === 0) return true;
  const names = facts.clientCert?.names ?? [];
  return rule.certNames.some((w) => names.some((n) => certNameMatches(w, n)));
}

function sessionSatisfies(rule: ConnectorRule, facts: SessionFacts): boolean {
  if (rule.requireTls && !facts.tls) return false;
  if (!certSatisfies(rule, facts)) return false;
  if (!certNamesSatisfy(rule, facts)) return false;
  if (facts.user !== undefined) return rule.users.includes(facts.user);
  return rule.users.length === 0;
}

export type ConnectorChoice = { readonly ok: true; readonly connector: ConnectorRule } | { readonly ok: false; readonly code: ErrorCode };

/**
 * Picks the connector for a transaction. `senderDomain` is '' for the null
 * sender, which any connector the session satisfies may send (bounces and
 * notifications from the tenant).
 */
export function chooseConnector(candidates: readonly ConnectorRule[], facts: SessionFacts, senderDomain: string): ConnectorChoice {
  if (candidates.length === 0) return { ok: false, code: 'SG_RELAY_DENIED' };
  const usable = candidates.filter((c) => sessionSatisfies(c, facts));
  if (usable.length === 0) return { ok: false, code: whyUnusable(candidates, facts) };
  const chosen = senderDomain === '' ? usable[0] : usable.find((c) => c.senderDomains.some((p) => domainMatches(p, senderDomain)));
  return chosen ? { ok: true, connector: chosen } : { ok: false, code: 'SG_SENDER_DOMAIN_NOT_ALLOWED' };
}

function whyUnusable(candidates: readonly ConnectorRule[], facts: SessionFacts): ErrorCode {
  if (facts.user !== undefined) return 'SG_AUTH_NOT_ALLOWED';
  const open = candidates.filter((c) => c.users.length === 0);
  if (open.some((c) => c.requireTls) && !facts.tls) return 'SG_TLS_REQUIRED';
  // a verified certificate that only clientCertNames turned down: say so, the admin fixes that list
  if (facts.clientCert?.verified && open.some((c) => c.certNames.length > 0 && certSatisfies(c, facts) && !certNamesSatisfy(c, facts))) return 'SG_CLIENT_CERT_NAME_MISMATCH';
  if (open.some((c) => c.clientCert !== false)) return 'SG_CLIENT_CERT_REQUIRED';
  if (candidates.some((c) => c.users.length > 0)) return facts.tls ? 'SG_AUTH_REQUIRED' : 'SG_TLS_REQUIRED';
  return 'SG_RELAY_DENIED';
}

/** Domain part of an address, lower case; '' for the null sender. */
export function addressDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).toLowerCase();
}
