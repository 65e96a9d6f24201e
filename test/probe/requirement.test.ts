import { describe, expect, it } from 'vitest';
import { domainPolicyFor, effectiveRequirement, type DomainPolicy, type EffectiveRequirement, type RequirementInputs } from '../../src/probe/requirement.js';

describe('effectiveRequirement', () => {
  it.each<[string, RequirementInputs, EffectiveRequirement]>([
    ['the decision alone', { decided: 'may' }, { requirement: 'may', reasons: ['decision: may'] }],
    ['a domain override raises it', { decided: 'may', domainPolicy: 'verify' }, { requirement: 'verify', reasons: ['tls.policies: verify'] }],
    ['a domain override never lowers it', { decided: 'verify', domainPolicy: 'none' }, { requirement: 'verify', reasons: ['decision: verify'] }],
    ['dane-only means dane', { decided: 'may', domainPolicy: 'dane-only' }, { requirement: 'dane', reasons: ['tls.policies: dane-only'] }],
    ['MTA-STS enforce means verify', { decided: 'may', stsEnforce: true }, { requirement: 'verify', reasons: ['MTA-STS enforce'] }],
    ['DANE beats MTA-STS', { decided: 'encrypt', stsEnforce: true, daneApplies: true }, { requirement: 'dane', reasons: ['DANE TLSA'] }],
    ['posture memory raises opportunistic mail', { decided: 'may', posture: 'verify' }, { requirement: 'verify', reasons: ['posture memory: verify'] }],
    ['equal sources are all named', { decided: 'verify', stsEnforce: true, posture: 'verify' }, { requirement: 'verify', reasons: ['decision: verify', 'MTA-STS enforce', 'posture memory: verify'] }],
    ['none stays none', { decided: 'none' }, { requirement: 'none', reasons: ['decision: none'] }],
  ])('%s', (_name, input, expected) => {
    expect(effectiveRequirement(input)).toEqual(expected);
  });
});

describe('domainPolicyFor', () => {
  const policies: Record<string, DomainPolicy> = { 'example.net': 'verify', '*.health.example': 'dane-only', '*.example.net': 'encrypt' };
  it.each<[string, DomainPolicy | undefined]>([
    ['example.net', 'verify'],
    ['EXAMPLE.NET', 'verify'],
    ['mail.example.net', 'encrypt'],
    ['a.b.health.example', 'dane-only'],
    ['health.example', undefined],
    ['other.org', undefined],
  ])('%s → %s', (domain, expected) => {
    expect(domainPolicyFor(policies, domain)).toBe(expected);
  });
});
