import { describe, expect, it } from 'vitest';
import { decide, decideRecipient, defaultProtection, outerSubject, splitByMethod, subjectTag, type DecisionInput, type Method, type Protection, type RecipientCapabilities } from '../../src/policy/decide.js';

const base: Omit<DecisionInput, 'recipients'> = { protection: 'verified-tls', portalEnabled: true, e2eDomains: new Set(['gmail.example']), phi: true };
const CERT = { fingerprint: 'c'.repeat(64), source: 'admin' };
const PGP = { fingerprint: 'a'.repeat(40), source: 'wkd' };
const r = (over: Partial<RecipientCapabilities> = {}): RecipientCapabilities => ({ address: 'bob@clinic.example', domain: 'clinic.example', ...over });

describe('decideRecipient', () => {
  it.each<[string, Partial<DecisionInput>, Partial<RecipientCapabilities>, Method, string]>([
    ['block wins over everything', { action: 'block' }, { smimeCertificate: CERT }, 'block', 'verify'],
    ['quarantine', { action: 'quarantine' }, {}, 'quarantine', 'verify'],
    ['verified TLS when the MX can', {}, { verifiedTls: true }, 'tls-verified', 'verify'],
    ['verified TLS when unknown yet (enforced at delivery)', {}, {}, 'tls-verified', 'verify'],
    ['MX cannot verify: S/MIME preferred', {}, { verifiedTls: false, smimeCertificate: CERT, pgpKey: PGP }, 'smime', 'may'],
    ['MX cannot verify: PGP', {}, { verifiedTls: false, pgpKey: PGP }, 'pgp', 'may'],
    ['MX cannot verify: portal', {}, { verifiedTls: false }, 'portal', 'may'],
    ['MX cannot verify, no portal, no keys: waits for verified TLS, never plaintext', { portalEnabled: false }, { verifiedTls: false }, 'tls-verified', 'verify'],
    ['PHI to a consumer domain: E2E or portal', {}, { domain: 'gmail.example', verifiedTls: true }, 'portal', 'may'],
    ['consumer domain without PHI: verified TLS is fine', { phi: false }, { domain: 'gmail.example', verifiedTls: true }, 'tls-verified', 'verify'],
    ['e2e-or-portal with a PGP key', { protection: 'e2e-or-portal' }, { pgpKey: PGP }, 'pgp', 'may'],
    ['e2e-or-portal, nothing available: held', { protection: 'e2e-or-portal', portalEnabled: false }, {}, 'quarantine', 'verify'],
    ['portal required', { protection: 'portal' }, { smimeCertificate: CERT }, 'portal', 'may'],
    ['portal required but disabled: held', { protection: 'portal', portalEnabled: false }, {}, 'quarantine', 'verify'],
    ['tls: encrypted, certificate not required', { protection: 'tls' }, { verifiedTls: false }, 'tls-opportunistic', 'encrypt'],
    ['nothing sensitive: opportunistic', { protection: 'none', phi: false }, {}, 'tls-opportunistic', 'may'],
    // preferEndToEnd: a valid key means E2E whenever protection is needed, over the transport the protection asks for
    ['prefer E2E: PHI, S/MIME over verified TLS', { preferEndToEnd: true }, { verifiedTls: true, smimeCertificate: CERT }, 'smime', 'verify'],
    ['prefer E2E: PHI, PGP over verified TLS', { preferEndToEnd: true }, { pgpKey: PGP }, 'pgp', 'verify'],
    ['prefer E2E: both keys, keys.prefer smime (default)', { preferEndToEnd: true }, { smimeCertificate: CERT, pgpKey: PGP }, 'smime', 'verify'],
    ['prefer E2E: both keys, keys.prefer pgp', { preferEndToEnd: true, prefer: 'pgp' }, { smimeCertificate: CERT, pgpKey: PGP }, 'pgp', 'verify'],
    ['prefer E2E: sensitive (tls) → E2E over encrypted transport', { preferEndToEnd: true, protection: 'tls', phi: false }, { pgpKey: PGP }, 'pgp', 'encrypt'],
    ['prefer E2E: the MX cannot verify → E2E as the stronger method', { preferEndToEnd: true }, { verifiedTls: false, pgpKey: PGP }, 'pgp', 'may'],
    ['prefer E2E: PHI to a consumer domain', { preferEndToEnd: true }, { domain: 'gmail.example', verifiedTls: true, pgpKey: PGP }, 'pgp', 'may'],
    ['prefer E2E: subject tag (e2e-or-portal)', { preferEndToEnd: true, protection: 'e2e-or-portal' }, { smimeCertificate: CERT }, 'smime', 'may'],
    ['prefer E2E: nothing sensitive → no E2E', { preferEndToEnd: true, protection: 'none', phi: false }, { pgpKey: PGP }, 'tls-opportunistic', 'may'],
    ['prefer E2E: an explicit portal requirement stays the portal', { preferEndToEnd: true, protection: 'portal' }, { pgpKey: PGP }, 'portal', 'may'],
    ['prefer E2E: block still wins', { preferEndToEnd: true, action: 'block' }, { pgpKey: PGP }, 'block', 'verify'],
    ['prefer E2E off: verified TLS although a key exists', { preferEndToEnd: false }, { verifiedTls: true, pgpKey: PGP }, 'tls-verified', 'verify'],
    ['prefer E2E off: sensitive → TLS although a key exists', { preferEndToEnd: false, protection: 'tls' }, { pgpKey: PGP }, 'tls-opportunistic', 'encrypt'],
  ])('%s', (_name, over, caps, method, requirement) => {
    const d = decideRecipient({ ...base, ...over, recipients: [] }, r(caps));
    expect(d).toMatchObject({ method, requirement });
    expect(d.reasons.length).toBeGreaterThan(0);
    // an E2E decision names the key its copy is encrypted to, nothing else does
    expect(d.key).toEqual(method === 'smime' ? CERT : method === 'pgp' ? PGP : undefined);
  });
});

describe('decide and split', () => {
  it('splits a message with mixed recipients by method', () => {
    const decisions = decide({
      ...base,
      recipients: [r({ address: 'a@clinic.example', verifiedTls: true }), r({ address: 'b@gmail.example', domain: 'gmail.example' }), r({ address: 'c@lab.example', domain: 'lab.example', verifiedTls: false, pgpKey: PGP }), r({ address: 'd@clinic.example', verifiedTls: true })],
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
