import { describe, expect, it } from 'vitest';
import { connectorSchema } from '../../src/config/schema.js';
import {
  certNameMatches,
  chooseConnector,
  compileConnector,
  connectorsForClient,
  domainMatches,
  whyClientNotAllowed,
  type SessionFacts,
} from '../../src/smtp/connector-policy.js';

const rule = (input: Record<string, unknown>) => compileConnector(connectorSchema.parse(input));

const m365 = rule({ name: 'm365', kind: 'm365', allowIps: ['40.92.0.0/15', '2a01:111:f400::/48'], senderDomains: ['hospital.example'], requireClientCert: { names: ['mail.protection.outlook.com'] } });
const ipOnly = rule({ name: 'clinic', allowIps: ['192.0.2.0/24'], senderDomains: ['clinic.example', '*.clinic.example'] });
const plain = rule({ name: 'lab', allowIps: ['198.51.100.7'], senderDomains: ['lab.example'], requireTls: false });
const staff = rule({ name: 'staff', allowIps: ['0.0.0.0/0', '::/0'], senderDomains: ['hospital.example'], users: ['alice'] });
const all = [m365, ipOnly, plain, staff];

const tls: SessionFacts = { tls: true };
const noTls: SessionFacts = { tls: false };
const goodCert: SessionFacts = { tls: true, clientCert: { verified: true, names: ['mail.protection.outlook.com'], issuedForConnectors: [] } };
const wrongCert: SessionFacts = { tls: true, clientCert: { verified: true, names: ['evil.example'], issuedForConnectors: [] } };
const unverifiedCert: SessionFacts = { tls: true, clientCert: { verified: false, names: ['mail.protection.outlook.com'], issuedForConnectors: [] } };

describe('connectorsForClient', () => {
  it.each([
    ['40.93.1.1', [], ['m365', 'staff']],
    ['192.0.2.44', [], ['clinic', 'staff']],
    ['192.0.2.44', ['clinic'], ['clinic']],
    ['203.0.113.9', ['m365', 'clinic'], []],
    ['::ffff:198.51.100.7', [], ['lab', 'staff']],
  ])('%s on listener %j → %j', (ip, listenerConnectors, expected) => {
    expect(connectorsForClient(all, listenerConnectors, ip).map((c) => c.name)).toEqual(expected);
  });
});

describe('chooseConnector', () => {
  it.each<[string, string, readonly string[], SessionFacts, string, string]>([
    ['M365 with its certificate', '40.92.3.4', ['m365'], goodCert, 'hospital.example', 'm365'],
    ['M365 range, no TLS', '40.92.3.4', ['m365'], noTls, 'hospital.example', 'SG_TLS_REQUIRED'],
    ['M365 range, TLS but no certificate', '40.92.3.4', ['m365'], tls, 'hospital.example', 'SG_CLIENT_CERT_REQUIRED'],
    ['M365 range, certificate with another name', '40.92.3.4', ['m365'], wrongCert, 'hospital.example', 'SG_CLIENT_CERT_REQUIRED'],
    ['M365 range, unverified certificate', '40.92.3.4', ['m365'], unverifiedCert, 'hospital.example', 'SG_CLIENT_CERT_REQUIRED'],
    ['M365 with its certificate, foreign sender domain', '40.92.3.4', ['m365'], goodCert, 'gmail.com', 'SG_SENDER_DOMAIN_NOT_ALLOWED'],
    ['clinic over TLS', '192.0.2.1', ['clinic'], tls, 'clinic.example', 'clinic'],
    ['clinic subdomain wildcard', '192.0.2.1', ['clinic'], tls, 'east.clinic.example', 'clinic'],
    ['clinic, cleartext', '192.0.2.1', ['clinic'], noTls, 'clinic.example', 'SG_TLS_REQUIRED'],
    ['clinic, other domain', '192.0.2.1', ['clinic'], tls, 'evil.example', 'SG_SENDER_DOMAIN_NOT_ALLOWED'],
    ['lab allows cleartext', '198.51.100.7', ['lab'], noTls, 'lab.example', 'lab'],
    ['null sender from a usable connector', '192.0.2.1', ['clinic'], tls, '', 'clinic'],
    ['staff user after AUTH', '203.0.113.5', ['staff'], { tls: true, user: 'alice' }, 'hospital.example', 'staff'],
    ['staff without AUTH', '203.0.113.5', ['staff'], tls, 'hospital.example', 'SG_AUTH_REQUIRED'],
    ['staff without AUTH or TLS', '203.0.113.5', ['staff'], noTls, 'hospital.example', 'SG_TLS_REQUIRED'],
    ['unknown user', '203.0.113.5', ['staff'], { tls: true, user: 'mallory' }, 'hospital.example', 'SG_AUTH_NOT_ALLOWED'],
    ['no candidate at all', '203.0.113.5', ['clinic'], tls, 'hospital.example', 'SG_RELAY_DENIED'],
  ])('%s', (_name, ip, listenerConnectors, facts, senderDomain, expected) => {
    const candidates = connectorsForClient(all, listenerConnectors, ip);
    const choice = chooseConnector(candidates, facts, senderDomain);
    expect(choice.ok ? choice.connector.name : choice.code).toBe(expected);
  });

  it('a connector with its own CA accepts only certificates that CA issued', () => {
    const own = rule({ name: 'partner', allowIps: ['192.0.2.0/24'], senderDomains: ['p.example'], requireClientCert: { names: [], caFiles: ['/ca.pem'] } });
    const issuedElsewhere: SessionFacts = { tls: true, clientCert: { verified: true, names: ['x'], issuedForConnectors: [] } };
    const issuedHere: SessionFacts = { tls: true, clientCert: { verified: true, names: ['x'], issuedForConnectors: ['partner'] } };
    expect(chooseConnector([own], issuedElsewhere, 'p.example')).toEqual({ ok: false, code: 'SG_CLIENT_CERT_REQUIRED' });
    expect(chooseConnector([own], issuedHere, 'p.example')).toMatchObject({ ok: true });
  });
});

describe('name matching', () => {
  it.each([
    ['*', 'anything.example', true],
    ['example.org', 'EXAMPLE.org', true],
    ['example.org', 'sub.example.org', false],
    ['*.example.org', 'sub.example.org', true],
    ['*.example.org', 'a.b.example.org', true],
    ['*.example.org', 'example.org', false],
    ['*.example.org', 'badexample.org', false],
  ])('domainMatches(%s, %s) → %s', (pattern, domain, expected) => {
    expect(domainMatches(pattern, domain)).toBe(expected);
  });

  it.each([
    ['mail.protection.outlook.com', 'mail.protection.outlook.com', true],
    ['*.protection.outlook.com', 'mail.protection.outlook.com', true],
    ['*.outlook.com', 'mail.protection.outlook.com', false],
    ['mail.protection.outlook.com', '*.protection.outlook.com', true],
    ['gw.example.org', 'evil.example.org', false],
  ])('certNameMatches(%s, %s) → %s', (pattern, name, expected) => {
    expect(certNameMatches(pattern, name)).toBe(expected);
  });
});

describe('connector presets (kind m365 / workspace)', () => {
  const presetRanges = { ranges: ['40.92.0.0/15', '2a01:111:f400::/48'], source: 'preset' as const };
  const preset = (input: Record<string, unknown>) => compileConnector(connectorSchema.parse(input), presetRanges);
  const tenant = preset({ name: 'tenant', kind: 'm365', senderDomains: ['hospital.example'], clientCertNames: ['*.mail.protection.outlook.com'] });
  const exoCert: SessionFacts = { tls: true, clientCert: { verified: true, names: ['mail.protection.outlook.com', 'hospital-example.mail.protection.outlook.com'], issuedForConnectors: [] } };
  const bareExoName: SessionFacts = { tls: true, clientCert: { verified: true, names: ['mail.protection.outlook.com'], issuedForConnectors: [] } };
  const otherCert: SessionFacts = { tls: true, clientCert: { verified: true, names: ['mail.other.example'], issuedForConnectors: [] } };
  const unverified: SessionFacts = { tls: true, clientCert: { verified: false, names: ['x.mail.protection.outlook.com'], issuedForConnectors: [] } };

  it.each<[string, string, SessionFacts, string, string]>([
    ['the preset ranges admit the client and the certificate matches', '40.93.7.7', exoCert, 'hospital.example', 'tenant'],
    ['an IP match alone never admits a sender domain', '40.93.7.7', exoCert, 'other-tenant.example', 'SG_SENDER_DOMAIN_NOT_ALLOWED'],
    ['no certificate', '40.93.7.7', tls, 'hospital.example', 'SG_CLIENT_CERT_REQUIRED'],
    ['a verified certificate with another name names clientCertNames', '40.93.7.7', otherCert, 'hospital.example', 'SG_CLIENT_CERT_NAME_MISMATCH'],
    ['the wildcard needs a label: the bare name does not match', '40.93.7.7', bareExoName, 'hospital.example', 'SG_CLIENT_CERT_NAME_MISMATCH'],
    ['an unverified certificate', '40.93.7.7', unverified, 'hospital.example', 'SG_CLIENT_CERT_REQUIRED'],
    ['cleartext', '40.93.7.7', noTls, 'hospital.example', 'SG_TLS_REQUIRED'],
  ])('%s', (_name, ip, facts, senderDomain, expected) => {
    const choice = chooseConnector(connectorsForClient([tenant], [], ip), facts, senderDomain);
    expect(choice.ok ? choice.connector.name : choice.code).toBe(expected);
  });

  it('an address outside the preset ranges gets no connector, and the refusal names the preset rule', () => {
    expect(connectorsForClient([tenant, ipOnly], [], '203.0.113.9')).toEqual([]);
    expect(whyClientNotAllowed([tenant, ipOnly], [])).toBe('SG_CLIENT_NOT_IN_PRESET_RANGES');
    expect(whyClientNotAllowed([tenant, ipOnly], ['clinic'])).toBe('SG_CLIENT_NOT_ALLOWED');
    expect(tenant.rangesSource).toBe('preset');
    expect(ipOnly.rangesSource).toBe('allowIps');
  });

  it('explicit allowIps win over the preset file', () => {
    const own = compileConnector(connectorSchema.parse({ name: 'own', kind: 'workspace', allowIps: ['192.0.2.9'], senderDomains: ['a.example'] }));
    expect(own.rangesSource).toBe('allowIps');
    expect(connectorsForClient([own], [], '192.0.2.9').map((c) => c.name)).toEqual(['own']);
  });

  it.each(['m365', 'workspace'] as const)('the packaged %s ranges file loads and admits the provider', (kind) => {
    const c = compileConnector(connectorSchema.parse({ name: kind, kind, senderDomains: ['a.example'] }));
    expect(c.rangesSource).toBe('preset');
    expect(c.ranges.length).toBeGreaterThan(3);
    expect(connectorsForClient([c], [], kind === 'm365' ? '40.107.1.2' : '209.85.220.41').map((x) => x.name)).toEqual([kind]);
    expect(connectorsForClient([c], [], '127.0.0.1')).toEqual([]);
  });
});
