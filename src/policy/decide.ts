/**
 * The per-recipient protection decision: a pure function of the required
 * protection (from the policy and the verdict), each recipient's
 * capabilities (what the probe found, which keys are known) and whether the
 * portal is enabled. It never chooses anything weaker than required: when a
 * recipient cannot get the protection its mail needs, the answer is a
 * stronger method or holding the mail, never plaintext.
 */
import type { TransportRequirement } from '../delivery/transport-requirement.js';

import { WEAK_CATEGORIES } from '../inspect/verdict.js';
import { PROTECTIONS, strongestProtection, type Protection } from './protection.js';

export { PROTECTIONS, strongestProtection, type Protection };

export type Method = 'tls-verified' | 'smime' | 'pgp' | 'portal' | 'tls-opportunistic' | 'block' | 'quarantine';

export interface RecipientCapabilities {
  readonly address: string;
  readonly domain: string;
  /** A probe found an MX with verified TLS (undefined: not known yet). */
  readonly verifiedTls?: boolean | undefined;
  readonly smimeCertificate?: boolean | undefined;
  readonly pgpKey?: boolean | undefined;
}

export interface DecisionInput {
  readonly protection: Protection;
  /** A policy rule blocks or quarantines the message outright. */
  readonly action?: 'block' | 'quarantine' | undefined;
  readonly recipients: readonly RecipientCapabilities[];
  readonly portalEnabled: boolean;
  /** Domains where verified TLS is not enough for PHI (consumer mailbox providers). */
  readonly e2eDomains: ReadonlySet<string>;
  /** The verdict found PHI (consumer-domain escalation applies to PHI). */
  readonly phi: boolean;
}

export interface RecipientDecision {
  readonly recipient: string;
  readonly method: Method;
  readonly requirement: TransportRequirement;
  readonly reasons: readonly string[];
}


function e2eOrPortal(r: RecipientCapabilities, portalEnabled: boolean, why: string): RecipientDecision {
  if (r.smimeCertificate) return { recipient: r.address, method: 'smime', requirement: 'may', reasons: [why, 'recipient has an S/MIME certificate'] };
  if (r.pgpKey) return { recipient: r.address, method: 'pgp', requirement: 'may', reasons: [why, 'recipient has an OpenPGP key'] };
  if (portalEnabled) return { recipient: r.address, method: 'portal', requirement: 'may', reasons: [why, 'no recipient key: secure portal'] };
  return { recipient: r.address, method: 'quarantine', requirement: 'verify', reasons: [why, 'no recipient key and the portal is disabled: held for an administrator'] };
}

export function decideRecipient(input: DecisionInput, r: RecipientCapabilities): RecipientDecision {
  if (input.action === 'block') return { recipient: r.address, method: 'block', requirement: 'verify', reasons: ['policy: block'] };
  if (input.action === 'quarantine') return { recipient: r.address, method: 'quarantine', requirement: 'verify', reasons: ['policy: quarantine'] };
  switch (input.protection) {
    case 'portal':
      return input.portalEnabled
        ? { recipient: r.address, method: 'portal', requirement: 'may', reasons: ['policy: portal'] }
        : { recipient: r.address, method: 'quarantine', requirement: 'verify', reasons: ['policy: portal', 'the portal is disabled: held for an administrator'] };
    case 'e2e-or-portal':
      return e2eOrPortal(r, input.portalEnabled, 'policy: e2e-or-portal');
    case 'verified-tls': {
      if (input.phi && input.e2eDomains.has(r.domain.toLowerCase())) return e2eOrPortal(r, input.portalEnabled, `PHI to ${r.domain}: verified TLS is not enough for this domain`);
      if (r.verifiedTls === false) {
        // the probe says verified TLS is not possible: a stronger method, or wait for it
        if (r.smimeCertificate || r.pgpKey || input.portalEnabled) return e2eOrPortal(r, input.portalEnabled, 'verified TLS required but the recipient MX cannot offer it');
        return { recipient: r.address, method: 'tls-verified', requirement: 'verify', reasons: ['verified TLS required; the MX cannot offer it yet, so the mail waits (never plaintext)'] };
      }
      return { recipient: r.address, method: 'tls-verified', requirement: 'verify', reasons: ['policy: verified-tls'] };
    }
    case 'tls':
      return { recipient: r.address, method: 'tls-opportunistic', requirement: 'encrypt', reasons: ['policy: tls (encrypted, certificate not required)'] };
    case 'none':
      return { recipient: r.address, method: 'tls-opportunistic', requirement: 'may', reasons: ['nothing sensitive found: opportunistic TLS'] };
  }
}

/** Every recipient's decision; recipients of one message are split by method later. */
export function decide(input: DecisionInput): RecipientDecision[] {
  return input.recipients.map((r) => decideRecipient(input, r));
}

/** Groups recipients by method (each group becomes its own copy; BCC recipients are never listed to others). */
export function splitByMethod(decisions: readonly RecipientDecision[]): Map<Method, RecipientDecision[]> {
  const out = new Map<Method, RecipientDecision[]>();
  for (const d of decisions) out.set(d.method, [...(out.get(d.method) ?? []), d]);
  return out;
}

/**
 * The default policy's required protection: PHI, or a message that could not
 * be fully scanned, needs verified TLS; anything else sensitive needs TLS;
 * a subject tag ([secure], [encrypt], +encrypt+) asks for E2E or portal.
 */
export function defaultProtection(verdict: { phi: boolean; categories: readonly string[]; notFullyScanned: boolean }, subjectTagged: boolean): Protection {
  const parts: Protection[] = [];
  if (subjectTagged) parts.push('e2e-or-portal');
  if (verdict.phi || verdict.notFullyScanned) parts.push('verified-tls');
  if (verdict.categories.some((c) => !WEAK_CATEGORIES.has(c) && c !== 'PHI')) parts.push('tls');
  return strongestProtection(...parts);
}

export const SUBJECT_TAGS = /\[(secure|encrypt)\]|\+encrypt\+/i;

/** Finds a protection tag in the subject and returns the subject without it. */
export function subjectTag(subject: string): { tagged: boolean; subject: string } {
  if (!SUBJECT_TAGS.test(subject)) return { tagged: false, subject };
  return { tagged: true, subject: subject.replace(new RegExp(SUBJECT_TAGS.source, 'gi'), '').replace(/\s{2,}/g, ' ').trim() };
}

/** Methods whose protected copy leaves the Subject header readable (S/MIME and OpenPGP encrypt the body; the portal sends a notification). */
export const SUBJECT_VISIBLE_METHODS: ReadonlySet<Method> = new Set(['smime', 'pgp', 'portal']);

export const NEUTRAL_SUBJECT = 'Secure message';

/**
 * Pure: the Subject a recipient's copy shows outside its protection, and
 * the one kept inside it. A sensitive subject (PHI or another sensitive
 * finding in the subject alone) is replaced outside by a neutral one when
 * the method leaves the subject readable; TLS methods protect the whole
 * message in transit and keep it.
 */
export function outerSubject(subject: string, subjectSensitive: boolean, method: Method, neutral = NEUTRAL_SUBJECT): { outer: string; inner: string | undefined } {
  if (!subjectSensitive || !SUBJECT_VISIBLE_METHODS.has(method)) return { outer: subject, inner: undefined };
  return { outer: neutral, inner: subject };
}
