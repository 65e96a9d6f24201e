import { describe, expect, it } from 'vitest';
import { decide, decideRecipient, defaultProtection, outerSubject, splitByMethod, subjectTag, type DecisionInput, type Method, type Protection, type RecipientCapabilities } from '../../src/policy/decide.js';

const base: Omit<DecisionInput, 'recipients'> = { protection: 'verified-tls', portalEnabled: true, e2eDomains: new Set(['gmail.example']), phi: true };
const r = (over: Partial<RecipientCapabilities> = {}): RecipientCapabilities => ({ address: 'bob@clinic.example', domain: 'clinic.example', ...over });

describe('decideRecipient', () => {
  it.each<[string, Partial<DecisionInput>, Partial<RecipientCapabilities>, Method, string]>([
    ['block wins over everything', { action: 'block' }, { smimeCertificate: true }, 'block', 'verify'],
    ['quarantine', { action: 'quarantine' }, {}, 'quarantine', 'verify'],
    ['verified TLS when the MX can', {}, { verifiedTls: true }, 'tls-verified', 'verify'],
    ['verified TLS when unknown yet (enforced at delivery)', {}, {}, 'tls-verified', 'verify'],
    ['MX cannot verify: S/MIME preferred', {}, { verifiedTls: false, smimeCertificate: true, pgpKey: true }, 'smime', 'may'],
    ['MX cannot verify: PGP', {}, { verifiedTls: false, pgpKey: true }, 'pgp', 'may'],
    ['MX cannot verify: portal', {}, { verifiedTls: false }, 'portal', 'may'],
    ['MX cannot verify, no portal, no keys: waits for verified TLS, never plaintext', { portalEnabled: false }, { verifiedTls: false }, 'tls-verified', 'verify'],
    ['PHI to a consumer domain: E2E or portal', {}, { domain: 'gmail.example', verifiedTls: true }, 'portal', 'may'],
    ['consumer domain without PHI: verified TLS is fine', { phi: false }, { domain: 'gmail.example', verifiedTls: true }, 'tls-verified', 'verify'],
    ['e2e-or-portal with a PGP key', { protection: 'e2e-or-portal' }, { pgpKey: true }, 'pgp', 'may'],
    ['e2e-or-portal, nothing available: held', { protection: 'e2e-or-portal', portalEnabled: false }, {}, 'quarantine', 'verify'],
    ['portal required', { protection: 'portal' }, { smimeCertificate: true }, 'portal', 'may'],
    ['portal required but disabled: held', { protection: 'portal', portalEnabled: false }, {}, 'quarantine', 'verify'],
    ['tls: encrypted, certificate not required', { protection: 'tls' }, { verifiedTls: false }, 'tls-opportunistic', 'encrypt'],
    ['nothing sensitive: opportunistic', { protection: 'none', phi: false }, {}, 'tls-opportunistic', 'may'],
  ])('%s', (_name, over, caps, method, requirement) => {
    const d = decideRecipient({ ...base, ...over, recipients: [] }, r(caps));
    expect(d).toMatchObject({ method, requirement });
    expect(d.reasons.length).toBeGreaterThan(0);
  });
});

describe('decide and split', () => {
  it('splits a message with mixed recipients by method', () => {
    const decisions = decide({
      ...base,
      recipients: [r({ address: 'a@clinic.example', verifiedTls: true }), r({ address: 'b@gmail.example', domain: 'gmail.example' }), r({ address: 'c@lab.example', domain: 'lab.example', verifiedTls: false, pgpKey: true }), r({ address: 'd@clinic.example', verifiedTls: true })],
    });
    const groups = splitByMethod(decisions);
    expect([...groups.keys()].sort()).toEqual(['pgp', 'portal', 'tls-verified']);
    expect(groups.get('tls-verified')?.map((d) => d.recipient)).toEqual(['a@clinic.example', 'd@clinic.example']);
    expect(groups.get('portal')?.map((d) => d.recipient)).toEqual(['b@gmail.example']);
  });
});

describe('defaultProtection', () => {
  it.each<[string, { phi: boolean; categories: string[]; notFullyScanned: boolean }, boolean, Protection]>([
    ['clean mail', { phi: false, categories: [], notFullyScanned: false }, false, 'none'],
    ['health words only', { phi: false, categories: ['HEALTH_TERM'], notFullyScanned: false }, false, 'none'],
    ['a payment card: never plaintext', { phi: false, categories: ['PAYMENT_CARD'], notFullyScanned: false }, false, 'tls'],
    ['PHI', { phi: true, categories: ['SSN', 'HEALTH_TERM', 'PHI'], notFullyScanned: false }, false, 'verified-tls'],
    ['not fully scanned: treated as sensitive', { phi: false, categories: [], notFullyScanned: true }, false, 'verified-tls'],
    ['subject tag', { phi: false, categories: [], notFullyScanned: false }, true, 'e2e-or-portal'],
    ['subject tag beats PHI', { phi: true, categories: ['PHI'], notFullyScanned: false }, true, 'e2e-or-portal'],
  ])('%s', (_name, verdict, tagged, expected) => {
    expect(defaultProtection(verdict, tagged)).toBe(expected);
  });
});

describe('subjectTag', () => {
  it.each<[string, { tagged: boolean; subject: string }]>([
    ['[secure] Lab results', { tagged: true, subject: 'Lab results' }],
    ['Lab results [ENCRYPT]', { tagged: true, subject: 'Lab results' }],
    ['+encrypt+ referral for Mr X', { tagged: true, subject: 'referral for Mr X' }],
    ['Secure messaging update', { tagged: false, subject: 'Secure messaging update' }],
  ])('%s', (subject, expected) => {
    expect(subjectTag(subject)).toEqual(expected);
  });
});

describe('outerSubject: a sensitive subject never shows outside the protection', () => {
  it.each<[string, boolean, Method, { outer: string; inner: string | undefined }]>([
    ['Results for DOB 04/17/1968', true, 'smime', { outer: 'Secure message', inner: 'Results for DOB 04/17/1968' }],
    ['Results for DOB 04/17/1968', true, 'pgp', { outer: 'Secure message', inner: 'Results for DOB 04/17/1968' }],
    ['Results for DOB 04/17/1968', true, 'portal', { outer: 'Secure message', inner: 'Results for DOB 04/17/1968' }],
    ['Results for DOB 04/17/1968', true, 'tls-verified', { outer: 'Results for DOB 04/17/1968', inner: undefined }],
    ['Lunch on Friday', false, 'smime', { outer: 'Lunch on Friday', inner: undefined }],
  ])('%j (sensitive %s) by %s', (subject, sensitive, method, expected) => {
    expect(outerSubject(subject, sensitive, method)).toEqual(expected);
  });
});
