/**
 * Policy rules: does a rule's `when` match a message (and which of its
 * recipients)? Pure. Every condition given must hold; a list condition holds
 * when any of its entries matches. `recipients` narrows the rule to the
 * recipients it names; without it the rule applies to all of them.
 */
import { CONFIDENCE_RANK, type Confidence } from '../inspect/detect/types.js';
import type { PolicyRule } from './schema.js';

export interface MessageFacts {
  readonly sender: string;
  readonly connector: string;
  readonly size: number;
  readonly subjectTagged: boolean;
  readonly attachments: readonly { readonly filename: string; readonly contentType: string }[];
  readonly phi: boolean;
  readonly phiConfidence?: Confidence | undefined;
  readonly notFullyScanned: boolean;
  readonly encrypted: boolean;
  readonly findings: readonly { readonly category: string; readonly count: number; readonly confidence: Confidence }[];
}

/**
 * Pure: an address against a pattern: "*" (anything), "ann@example.org"
 * (that address), "example.org" or "*@example.org" (that domain),
 * "*.example.org" (its subdomains), "ann@*.example.org".
 */
export function addressMatches(pattern: string, address: string): boolean {
  const p = pattern.toLowerCase();
  const a = address.toLowerCase();
  if (p === '*') return true;
  const at = a.lastIndexOf('@');
  const local = a.slice(0, at);
  const domain = a.slice(at + 1);
  const domainMatches = (d: string): boolean => (d.startsWith('*.') ? domain.endsWith(d.slice(1)) && domain.length > d.length - 1 : domain === d);
  if (p.startsWith('*@')) return domainMatches(p.slice(2));
  const pAt = p.lastIndexOf('@');
  if (pAt < 0) return domainMatches(p);
  return p.slice(0, pAt) === local && domainMatches(p.slice(pAt + 1));
}

function attachmentMatches(type: string, a: { filename: string; contentType: string }): boolean {
  const t = type.toLowerCase();
  if (t.startsWith('.')) return a.filename.toLowerCase().endsWith(t);
  const ct = a.contentType.toLowerCase().split(';')[0]?.trim() ?? '';
  return t.endsWith('/*') ? ct.startsWith(t.slice(0, -1)) : ct === t;
}

/** Pure: the message-level conditions of a rule (everything but `recipients`). */
export function ruleMatchesMessage(rule: PolicyRule, m: MessageFacts): boolean {
  const w = rule.when;
  if (w.phi !== undefined && w.phi !== m.phi) return false;
  if (w.notFullyScanned !== undefined && w.notFullyScanned !== m.notFullyScanned) return false;
  if (w.encrypted !== undefined && w.encrypted !== m.encrypted) return false;
  if (w.subjectTag !== undefined && w.subjectTag !== m.subjectTagged) return false;
  if (w.minSize !== undefined && m.size < w.minSize) return false;
  if (w.maxSize !== undefined && m.size > w.maxSize) return false;
  if (w.connectors && !w.connectors.includes(m.connector)) return false;
  if (w.senders && !w.senders.some((p) => addressMatches(p, m.sender))) return false;
  if (w.attachmentTypes && !m.attachments.some((a) => w.attachmentTypes?.some((t) => attachmentMatches(t, a)))) return false;
  if (w.categories) {
    const found = w.categories.some((c) => {
      if (c.category === 'PHI') return m.phi && CONFIDENCE_RANK[m.phiConfidence ?? 'medium'] >= CONFIDENCE_RANK[c.minConfidence];
      return m.findings.some((f) => f.category === c.category && f.count >= c.minCount && CONFIDENCE_RANK[f.confidence] >= CONFIDENCE_RANK[c.minConfidence]);
    });
    if (!found) return false;
  }
  return true;
}

/** Pure: does a (message-matching) rule apply to this recipient? */
export function ruleAppliesTo(rule: PolicyRule, recipient: string): boolean {
  return !rule.when.recipients || rule.when.recipients.some((p) => addressMatches(p, recipient));
}
