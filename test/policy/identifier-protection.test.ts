/**
 * Personal identifiers (issue 12, class 1): a high-confidence SSN, ITIN,
 * Medicare MBI, MRN, member ID, payment card or bank account needs the PHI
 * transport protection by default (identifierProtection: verified-tls), with
 * or without health words; a profile may lower it; the reason names the
 * categories and the setting's source, never a value.
 */
import { describe, expect, it } from 'vitest';
import { baseProtection } from '../../src/policy/evaluate.js';
import { builtInSettings, resolveSettings } from '../../src/policy/profile.js';
import type { MessageFacts } from '../../src/policy/rules.js';
import { policySchema } from '../../src/policy/schema.js';
import type { Protection } from '../../src/policy/protection.js';

type Finding = MessageFacts['findings'][number];
const facts = (findings: Finding[], over: Partial<MessageFacts> = {}): MessageFacts => ({
  sender: 'billing@clinic.example',
  connector: 'm365',
  size: 2000,
  subjectTagged: false,
  attachments: [],
  phi: false,
  notFullyScanned: false,
  encrypted: false,
  findings,
  ...over,
});
const f = (category: string, confidence: Finding['confidence'] = 'high'): Finding => ({ category, count: 1, confidence });

function protect(m: MessageFacts, policy: unknown = {}): { protection: Protection; reasons: string[] } {
  const resolved = resolveSettings(policySchema.parse(policy), { sender: m.sender, connector: m.connector }, builtInSettings([]));
  return baseProtection(resolved.settings, resolved.sources, m);
}

describe('identifierProtection', () => {
  it.each<[string, Finding[], Protection]>([
    ['an SSN alone', [f('SSN')], 'verified-tls'],
    ['an ITIN', [f('ITIN')], 'verified-tls'],
    ['a Medicare MBI', [f('MEDICARE_MBI')], 'verified-tls'],
    ['an MRN', [f('MRN')], 'verified-tls'],
    ['a member ID', [f('MEMBER_ID')], 'verified-tls'],
    ['a payment card', [f('PAYMENT_CARD')], 'verified-tls'],
    ['a bank account', [f('BANK_ACCOUNT')], 'verified-tls'],
    ['an SSN of medium confidence: sensitive only', [f('SSN', 'medium')], 'tls'],
    ['a routing number alone is no person', [f('ABA_ROUTING')], 'tls'],
    ['a phone number is no such identifier', [f('PHONE')], 'none'],
    ['an NPI (a provider, not a patient)', [f('NPI')], 'tls'],
    ['nothing', [], 'none'],
  ])('%s → %s', (_name, findings, expected) => {
    expect(protect(facts(findings)).protection).toBe(expected);
  });

  it('names the categories and where the setting came from, never a value', () => {
    const { reasons } = protect(facts([f('SSN'), f('PAYMENT_CARD')]));
    expect(reasons).toEqual(['personal identifiers (SSN, PAYMENT_CARD): identifierProtection verified-tls (built-in default)']);
  });

  it('a profile may lower it (here for one connector), and the explanation says so', () => {
    const policy = { profiles: { connectors: { m365: { identifierProtection: 'tls' } } } };
    const r = protect(facts([f('SSN')]), policy);
    expect(r.protection).toBe('tls');
    expect(r.reasons).toContain('personal identifiers (SSN): identifierProtection tls (profiles.connectors.m365)');
    expect(protect(facts([f('SSN')], { connector: 'other' }), policy).protection).toBe('verified-tls');
  });

  it('PHI still takes phiProtection, and the stronger of the two wins', () => {
    expect(protect(facts([f('SSN')], { phi: true }), { profiles: { global: { phiProtection: 'portal' } } }).protection).toBe('portal');
    expect(protect(facts([f('SSN')], { phi: true }), { profiles: { global: { identifierProtection: 'e2e-or-portal' } } }).protection).toBe('e2e-or-portal');
  });
});
