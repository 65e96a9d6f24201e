/**
 * Policy rules, profiles and the evaluation: pure functions, as tables.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type EvaluateInput } from '../../src/policy/evaluate.js';
import { builtInSettings, resolveSettings } from '../../src/policy/profile.js';
import { addressMatches, ruleAppliesTo, ruleMatchesMessage, type MessageFacts } from '../../src/policy/rules.js';
import { policySchema, type PolicyConfig, type PolicyRule } from '../../src/policy/schema.js';

const policy = (input: unknown): PolicyConfig => policySchema.parse(input);
const rule = (input: unknown): PolicyRule => policy({ rules: [input] }).rules[0] as PolicyRule;

const facts = (over: Partial<MessageFacts> = {}): MessageFacts => ({
  sender: 'ann@clinic.example',
  connector: 'm365',
  size: 10_000,
  subjectTagged: false,
  attachments: [],
  phi: false,
  notFullyScanned: false,
  encrypted: false,
  findings: [],
  ...over,
});

describe('addressMatches', () => {
  it.each<[string, string, boolean]>([
    ['*', 'a@b.example', true],
    ['b.example', 'a@b.example', true],
    ['B.Example', 'A@b.example', true],
    ['b.example', 'a@x.b.example', false],
    ['*.b.example', 'a@x.b.example', true],
    ['*.b.example', 'a@b.example', false],
    ['*@b.example', 'a@b.example', true],
    ['a@b.example', 'a@b.example', true],
    ['a@b.example', 'aa@b.example', false],
    ['a@*.b.example', 'a@mail.b.example', true],
    ['a@*.b.example', 'c@mail.b.example', false],
    ['b.example', 'a@evilb.example', false],
  ])('%s ~ %s → %s', (pattern, address, expected) => {
    expect(addressMatches(pattern, address)).toBe(expected);
  });
});

describe('ruleMatchesMessage', () => {
  const ssn = { category: 'SSN', count: 2, confidence: 'high' as const };
  it.each<[string, unknown, Partial<MessageFacts>, boolean]>([
    ['no conditions: always', { id: 'r', then: { require: 'tls' } }, {}, true],
    ['category present', { id: 'r', when: { categories: [{ category: 'SSN' }] }, then: { require: 'tls' } }, { findings: [ssn] }, true],
    ['category absent', { id: 'r', when: { categories: [{ category: 'SSN' }] }, then: { require: 'tls' } }, {}, false],
    ['too few', { id: 'r', when: { categories: [{ category: 'SSN', minCount: 3 }] }, then: { require: 'tls' } }, { findings: [ssn] }, false],
    ['confidence too low', { id: 'r', when: { categories: [{ category: 'SSN', minConfidence: 'high' }] }, then: { require: 'tls' } }, { findings: [{ ...ssn, confidence: 'medium' }] }, false],
    ['any of the categories', { id: 'r', when: { categories: [{ category: 'PAYMENT_CARD' }, { category: 'SSN' }] }, then: { require: 'tls' } }, { findings: [ssn] }, true],
    ['PHI as a category', { id: 'r', when: { categories: [{ category: 'PHI' }] }, then: { require: 'tls' } }, { phi: true, phiConfidence: 'medium' }, true],
    ['PHI below the confidence asked', { id: 'r', when: { categories: [{ category: 'PHI', minConfidence: 'high' }] }, then: { require: 'tls' } }, { phi: true, phiConfidence: 'medium' }, false],
    ['phi true', { id: 'r', when: { phi: true }, then: { require: 'tls' } }, { phi: false }, false],
    ['not fully scanned', { id: 'r', when: { notFullyScanned: true }, then: { require: 'tls' } }, { notFullyScanned: true }, true],
    ['encrypted attachment', { id: 'r', when: { encrypted: true }, then: { action: 'quarantine' } }, { encrypted: false }, false],
    ['sender domain', { id: 'r', when: { senders: ['clinic.example'] }, then: { require: 'tls' } }, {}, true],
    ['other sender', { id: 'r', when: { senders: ['billing.example'] }, then: { require: 'tls' } }, {}, false],
    ['connector', { id: 'r', when: { connectors: ['google'] }, then: { require: 'tls' } }, {}, false],
    ['subject tag', { id: 'r', when: { subjectTag: true }, then: { require: 'tls' } }, { subjectTagged: true }, true],
    ['attachment by extension', { id: 'r', when: { attachmentTypes: ['.xlsx'] }, then: { require: 'tls' } }, { attachments: [{ filename: 'Claims.XLSX', contentType: 'application/octet-stream' }] }, true],
    ['attachment by media type', { id: 'r', when: { attachmentTypes: ['application/pdf'] }, then: { require: 'tls' } }, { attachments: [{ filename: 'a', contentType: 'application/pdf; name=a' }] }, true],
    ['attachment by wildcard type', { id: 'r', when: { attachmentTypes: ['image/*'] }, then: { require: 'tls' } }, { attachments: [{ filename: 'a', contentType: 'application/pdf' }] }, false],
    ['size within bounds', { id: 'r', when: { minSize: 5000, maxSize: 20_000 }, then: { require: 'tls' } }, {}, true],
    ['too small', { id: 'r', when: { minSize: 50_000 }, then: { require: 'tls' } }, {}, false],
    ['every condition must hold', { id: 'r', when: { phi: true, senders: ['billing.example'] }, then: { require: 'tls' } }, { phi: true }, false],
  ])('%s', (_name, r, over, expected) => {
    expect(ruleMatchesMessage(rule(r), facts(over))).toBe(expected);
  });

  it('recipients narrow a rule to the recipients it names', () => {
    const r = rule({ id: 'r', when: { recipients: ['*.insurer.example'] }, then: { require: 'portal' } });
    expect(ruleAppliesTo(r, 'claims@portal.insurer.example')).toBe(true);
    expect(ruleAppliesTo(r, 'bob@clinic.example')).toBe(false);
    expect(ruleAppliesTo(rule({ id: 'r', then: { require: 'tls' } }), 'anyone@x.example')).toBe(true);
  });
});

describe('policy schema', () => {
  it.each<[string, unknown, RegExp]>([
    ['a rule without actions', { rules: [{ id: 'r', then: {} }] }, /at least one action/],
    ['duplicate ids', { rules: [{ id: 'r', then: { require: 'tls' } }, { id: 'r', then: { require: 'tls' } }] }, /duplicate rule id/],
    ['a structural header', { rules: [{ id: 'r', then: { addHeaders: { Subject: 'x' } } }] }, /structural headers/],
    ['a header value with a line break', { rules: [{ id: 'r', then: { addHeaders: { 'X-Class': 'a\r\nBcc: x@y' } } }] }, /line breaks/],
    ['an unknown protection', { profiles: { global: { phiProtection: 'super' } } }, /phiProtection/],
    ['a bad category name', { rules: [{ id: 'r', when: { categories: [{ category: 'ssn' }] }, then: { require: 'tls' } }] }, /detector category/],
  ])('refuses %s', (_name, input, message) => {
    const r = policySchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(message);
  });
});

describe('resolveSettings: global → connector → sender domain → sender', () => {
  const p = policy({
    profiles: {
      global: { minimumProtection: 'tls' },
      connectors: { m365: { sensitiveProtection: 'verified-tls' } },
      senderDomains: { '*.clinic.example': { phiProtection: 'e2e-or-portal' }, 'billing.clinic.example': { minimumProtection: 'verified-tls' } },
      senders: { 'ceo@billing.clinic.example': { stripSubjectTag: false } },
    },
  });
  const builtIn = builtInSettings(['gmail.com']);
  it.each<[string, string, string, Record<string, [unknown, string]>]>([
    ['only global and built-in', 'ann@other.example', 'google', { minimumProtection: ['tls', 'profiles.global'], sensitiveProtection: ['tls', 'built-in default'], phiProtection: ['verified-tls', 'built-in default'] }],
    ['connector layer', 'ann@other.example', 'm365', { sensitiveProtection: ['verified-tls', 'profiles.connectors.m365'] }],
    ['wildcard sender domain', 'ann@lab.clinic.example', 'm365', { phiProtection: ['e2e-or-portal', 'profiles.senderDomains.*.clinic.example'] }],
    ['exact sender domain beats the wildcard', 'ann@billing.clinic.example', 'm365', { minimumProtection: ['verified-tls', 'profiles.senderDomains.billing.clinic.example'], phiProtection: ['verified-tls', 'built-in default'] }],
    ['sender layer last', 'CEO@billing.clinic.example', 'm365', { stripSubjectTag: [false, 'profiles.senders.ceo@billing.clinic.example'], minimumProtection: ['verified-tls', 'profiles.senderDomains.billing.clinic.example'] }],
  ])('%s', (_name, sender, connector, expected) => {
    const r = resolveSettings(p, { sender, connector }, builtIn);
    for (const [k, [value, source]] of Object.entries(expected)) {
      expect([k, r.settings[k as keyof typeof r.settings], r.sources[k as keyof typeof r.sources]]).toEqual([k, value, source]);
    }
  });
});

describe('evaluatePolicy', () => {
  const caps = (address: string, over: Record<string, unknown> = {}) => ({ address, domain: address.slice(address.indexOf('@') + 1), verifiedTls: true, ...over });
  const input = (p: unknown, m: Partial<MessageFacts>, recipients = [caps('bob@partner.example')]): EvaluateInput => ({
    policy: policy(p),
    builtIn: builtInSettings(['gmail.example']),
    message: facts(m),
    recipients,
    portalEnabled: false,
  });
  const ssnPhi: Partial<MessageFacts> = { phi: true, phiConfidence: 'high', findings: [{ category: 'SSN', count: 1, confidence: 'high' }, { category: 'HEALTH_TERM', count: 2, confidence: 'low' }] };

  it.each<[string, unknown, Partial<MessageFacts>, string, string]>([
    ['nothing found: opportunistic', {}, {}, 'none', 'tls-opportunistic'],
    ['PHI: verified TLS by default', {}, ssnPhi, 'verified-tls', 'tls-verified'],
    ['a global minimum raises clean mail', { profiles: { global: { minimumProtection: 'tls' } } }, {}, 'tls', 'tls-opportunistic'],
    ['a rule raises PHI to the portal (held: no portal yet)', { rules: [{ id: 'portal', when: { phi: true }, then: { require: 'portal' } }] }, ssnPhi, 'portal', 'quarantine'],
    ['a rule never lowers: require tls on PHI stays verified-tls', { rules: [{ id: 'low', then: { require: 'tls' } }] }, ssnPhi, 'verified-tls', 'tls-verified'],
    ['block beats quarantine and any protection', { rules: [{ id: 'q', then: { action: 'quarantine' } }, { id: 'b', when: { phi: true }, then: { action: 'block' } }] }, ssnPhi, 'verified-tls', 'block'],
    ['quarantine', { rules: [{ id: 'q', when: { encrypted: true }, then: { action: 'quarantine' } }] }, { encrypted: true }, 'none', 'quarantine'],
    ['not fully scanned fails closed', {}, { notFullyScanned: true }, 'verified-tls', 'tls-verified'],
    ['the profile can relax a subject tag to verified TLS', { profiles: { global: { subjectTagProtection: 'verified-tls' } } }, { subjectTagged: true }, 'verified-tls', 'tls-verified'],
  ])('%s', (_name, p, m, protection, method) => {
    const e = evaluatePolicy(input(p, m));
    expect(e.recipients[0]).toMatchObject({ protection, method });
    expect(e.recipients[0]?.reasons.length).toBeGreaterThan(0);
  });

  it('splits recipients: a rule naming some recipients applies to them only; reasons name the rule', () => {
    const e = evaluatePolicy(
      input(
        { rules: [{ id: 'no-ssn-consumer', when: { categories: [{ category: 'SSN' }], recipients: ['gmail.example'] }, then: { action: 'block', notify: ['Privacy@Clinic.example'] } }] },
        ssnPhi,
        [caps('bob@partner.example'), caps('pat@gmail.example'), caps('sue@partner.example', { verifiedTls: false })],
      ),
    );
    expect(e.recipients.map((r) => [r.recipient, r.method, r.rules])).toEqual([
      ['bob@partner.example', 'tls-verified', []],
      ['pat@gmail.example', 'block', ['no-ssn-consumer']],
      ['sue@partner.example', 'tls-verified', []],
    ]);
    expect(e.recipients[1]?.reasons).toContain('rule no-ssn-consumer: block');
    expect(e.matchedRules).toEqual(['no-ssn-consumer']);
    expect(e.notify).toEqual(['privacy@clinic.example']);
  });

  it('a rule naming recipients, none of whom this message has, does not match: no notice, no headers, not listed', () => {
    const rule = { id: 'payer', when: { phi: true, recipients: ['*.insurer.example'] }, then: { require: 'portal', notify: ['privacy@clinic.example'], addHeaders: { 'X-Sealgate-Class': 'payer' }, stripSubjectTag: false } };
    const none = evaluatePolicy(input({ rules: [rule] }, ssnPhi, [caps('bob@partner.example')]));
    expect([none.matchedRules, none.notify, none.addHeaders, none.recipients[0]?.rules]).toEqual([[], [], {}, []]);
    const some = evaluatePolicy(input({ rules: [rule] }, ssnPhi, [caps('bob@partner.example'), caps('claims@acme.insurer.example')]));
    expect([some.matchedRules, some.notify, some.addHeaders]).toEqual([['payer'], ['privacy@clinic.example'], { 'X-Sealgate-Class': 'payer' }]);
    expect(some.recipients.map((r) => r.rules)).toEqual([[], ['payer']]);
  });

  it('collects headers to add and whether to strip the subject tag', () => {
    const e = evaluatePolicy(input({ profiles: { global: { stripSubjectTag: false } }, rules: [{ id: 'h', then: { addHeaders: { 'X-Sealgate-Class': 'phi' } } }, { id: 's', when: { subjectTag: true }, then: { stripSubjectTag: true } }] }, { subjectTagged: true }));
    expect(e.addHeaders).toEqual({ 'X-Sealgate-Class': 'phi' });
    expect(e.stripSubjectTag).toBe(true);
  });
});
