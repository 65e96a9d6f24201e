/**
 * The per-recipient protection decision: a pure function of the required
 * protection (from the policy and the verdict), each recipient's
 * capabilities (what the probe found, which keys are known) and whether the
 * portal is enabled. It never chooses anything weaker than required: when a
 * recipient cannot get the protection its mail needs, the answer is a
 * stronger method or holding the mail, never plaintext.
 */
import type { TransportRequirement } from '../delivery/transport-requirement.js';

import { WEAK_CATEGORIES } from '../inspect/categories.js';
import { PROTECTIONS, strongestProtection, type Protection } from './protection.js';

export { PROTECTIONS, strongestProtection, type Protection };

export type Method = 'tls-verified' | 'smime' | 'pgp' | 'portal' | 'tls-opportunistic' | 'block' | 'quarantine';

/** A recipient key the directory says is valid now: which one, and where it came from. */
export interface KeyRef {
  readonly fingerprint: string;
  /** admin | wkd | keyserver | dns */
  readonly source: string;
}

export interface RecipientCapabilities {
  readonly address: string;
  readonly domain: string;
  /** A probe found an MX with verified TLS (undefined: not known yet). */
  readonly verifiedTls?: boolean | undefined;
  /** The valid S/MIME certificate that would be used, if any. */
  readonly smimeCertificate?: KeyRef | undefined;
  /** The valid OpenPGP key that would be used, if any. */
  readonly pgpKey?: KeyRef | undefined;
}

export type E2eMethod = 'smime' | 'pgp';

/** Pure: is this a method whose recipient gets its own end-to-end copy? */
export function isE2eMethod(method: string | null | undefined): method is E2eMethod {
  return method === 'pgp' || method === 'smime';
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
  /** Profile setting preferEndToEnd: a recipient with a valid key gets E2E whenever any protection is needed. Default false here; the built-in profile default is true. */
  readonly preferEndToEnd?: boolean | undefined;
  /** keys.prefer: which E2E method when the recipient has both a certificate and a key (default smime). */
  readonly prefer?: E2eMethod | undefined;
}

export interface RecipientDecision {
  readonly recipient: string;
  readonly method: Method;
  readonly requirement: TransportRequirement;
  readonly reasons: readonly string[];
  /** For `smime` and `pgp`: the key the copy is encrypted to. */
  readonly key?: KeyRef | undefined;
}

const E2E_TEXT: Record<E2eMethod, string> = { smime: 'recipient has a valid S/MIME certificate', pgp: 'recipient has a valid OpenPGP key' };

/** Pure: the E2E method a recipient's keys allow, `prefer` deciding when both exist. */
export function e2eMethodFor(r: RecipientCapabilities, prefer: E2eMethod = 'smime'): { method: E2eMethod; key: KeyRef; why: string } | undefined {
  const order: readonly E2eMethod[] = prefer === 'pgp' ? ['pgp', 'smime'] : ['smime', 'pgp'];
  for (const method of order) {
    const key = method === 'smime' ? r.smimeCertificate : r.pgpKey;
    if (key) return { method, key, why: r.smimeCertificate && r.pgpKey ? `${E2E_TEXT[method]} (keys.prefer ${prefer})` : E2E_TEXT[method] };
  }
  return undefined;
}


function e2eOrPortal(r: RecipientCapabilities, portalEnabled: boolean, why: string, prefer: E2eMethod | undefined): RecipientDecision {
  const e2e = e2eMethodFor(r, prefer);
  if (e2e) return { recipient: r.address, method: e2e.method, requirement: 'may', reasons: [why, e2e.why], key: e2e.key };
  if (portalEnabled) return { recipient: r.address, method: 'portal', requirement: 'may', reasons: [why, 'no recipient key: secure portal'] };
  return { recipient: r.address, method: 'quarantine', requirement: 'verify', reasons: [why, 'no recipient key and the portal is disabled: held for an administrator'] };
}

/**
 * preferEndToEnd: the E2E copy for a recipient with a valid key when the
 * message needs protection (not `none`, not an explicit `portal`), over the
 * transport that protection requires — E2E never weakens transport. Only
 * where the required transport cannot be had (the MX cannot verify, a
 * consumer domain) does the E2E copy go as `may`, as the stronger method
 * chosen for that reason.
 */
function preferredE2e(input: DecisionInput, r: RecipientCapabilities): RecipientDecision | undefined {
  if (!input.preferEndToEnd || input.protection === 'none' || input.protection === 'portal') return undefined;
  const e2e = e2eMethodFor(r, input.prefer);
  if (!e2e) return undefined;
  let requirement: TransportRequirement = 'may';
  if (input.protection === 'tls') requirement = 'encrypt';
  else if (input.protection === 'verified-tls') {
    const consumer = input.phi && input.e2eDomains.has(r.domain.toLowerCase());
    requirement = r.verifiedTls === false || consumer ? 'may' : 'verify';
  }
  return { recipient: r.address, method: e2e.method, requirement, reasons: [`policy: ${input.protection}`, `preferEndToEnd: ${e2e.why}`], key: e2e.key };
}

export function decideRecipient(input: DecisionInput, r: RecipientCapabilities): RecipientDecision {
  if (input.action === 'block') return { recipient: r.address, method: 'block', requirement: 'verify', reasons: ['policy: block'] };
  if (input.action === 'quarantine') return { recipient: r.address, method: 'quarantine', requirement: 'verify', reasons: ['policy: quarantine'] };
  const preferred = preferredE2e(input, r);
  if (preferred) return preferred;
  switch (input.protection) {
    case 'portal':
      return input.portalEnabled
        ? { recipient: r.address, method: 'portal', requirement: 'may', reasons: ['policy: portal'] }
        : { recipient: r.address, method: 'quarantine', requirement: 'verify', reasons: ['policy: portal', 'the portal is disabled: held for an administrator'] };
    case 'e2e-or-portal':
      return e2eOrPortal(r, input.portalEnabled, 'policy: e2e-or-portal', input.prefer);
    case 'verified-tls': {
      if (input.phi && input.e2eDomains.has(r.domain.toLowerCase())) return e2eOrPortal(r, input.portalEnabled, `PHI to ${r.domain}: verified TLS is not enough for this domain`, input.prefer);
      if (r.verifiedTls === false) {
        // the probe says verified TLS is not possible: a stronger method, or verified TLS all the same (what then happens — waits or
        // bounces — is the domain's delivery outlook, src/policy/outlook.ts, not this decision's to say)
        if (r.smimeCertificate || r.pgpKey || input.portalEnabled) return e2eOrPortal(r, input.portalEnabled, 'verified TLS required but the recipient MX cannot offer it', input.prefer);
        return { recipient: r.address, method: 'tls-verified', requirement: 'verify', reasons: ['verified TLS required and the MX cannot offer it now: never sent weaker (never plaintext)'] };
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
