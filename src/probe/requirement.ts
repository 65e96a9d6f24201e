/**
 * The effective transport requirement of a recipient: the strongest of what
 * the decision step asked for, the per-domain override in config
 * (`tls.policies`), an MTA-STS policy in enforce mode, usable DANE TLSA
 * records and the domain's remembered posture. Pure; every input that raised
 * the result is named in `reasons`.
 */
import { strongest, TRANSPORT_REQUIREMENTS, type TransportRequirement } from '../delivery/transport-requirement.js';

export const DOMAIN_POLICIES = ['none', 'may', 'encrypt', 'verify', 'dane-only'] as const;
export type DomainPolicy = (typeof DOMAIN_POLICIES)[number];

export interface RequirementInputs {
  readonly decided: TransportRequirement;
  readonly domainPolicy?: DomainPolicy | undefined;
  /** An MTA-STS policy in enforce mode covers the domain. */
  readonly stsEnforce?: boolean | undefined;
  /** Authenticated, usable DANE TLSA records exist for the MX. */
  readonly daneApplies?: boolean | undefined;
  /** The posture remembered for the domain within the memory window. */
  readonly posture?: TransportRequirement | undefined;
}

export interface EffectiveRequirement {
  readonly requirement: TransportRequirement;
  readonly reasons: readonly string[];
}

function fromPolicy(p: DomainPolicy): TransportRequirement {
  return p === 'dane-only' ? 'dane' : p;
}

const rank = (r: TransportRequirement): number => TRANSPORT_REQUIREMENTS.indexOf(r);

export function effectiveRequirement(i: RequirementInputs): EffectiveRequirement {
  const sources: [string, TransportRequirement][] = [[`decision: ${i.decided}`, i.decided]];
  if (i.domainPolicy) sources.push([`tls.policies: ${i.domainPolicy}`, fromPolicy(i.domainPolicy)]);
  if (i.stsEnforce) sources.push(['MTA-STS enforce', 'verify']);
  if (i.daneApplies) sources.push(['DANE TLSA', 'dane']);
  if (i.posture) sources.push([`posture memory: ${i.posture}`, i.posture]);
  const requirement = strongest(...sources.map(([, r]) => r));
  const reasons = sources.filter(([, r]) => r === requirement && rank(r) > 0).map(([why]) => why);
  return { requirement, reasons: reasons.length ? reasons : [`decision: ${i.decided}`] };
}

/** The tls.policies entry for a domain: an exact entry, else the closest "*.parent" entry. */
export function domainPolicyFor(policies: Readonly<Record<string, DomainPolicy>>, domain: string): DomainPolicy | undefined {
  const d = domain.toLowerCase();
  if (policies[d]) return policies[d];
  const labels = d.split('.');
  for (let i = 1; i < labels.length; i++) {
    const p = policies[`*.${labels.slice(i).join('.')}`];
    if (p) return p;
  }
  return undefined;
}
