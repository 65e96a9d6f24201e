/**
 * `sealgate policy test` on a message file, with the recipient domains
 * probed through the dns2 test zone: the JSON contract and the decisions.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';

let setup: TestSetup;
let zone: DnsZone;
const mx: MxServer[] = [];
let eml: string;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.secure.test', dnsNames: ['mx.secure.test'], usage: 'server' });
  const secure = await startMxServer({ ip: '127.0.0.90', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  mx.push(secure, await startMxServer({ ip: '127.0.0.91', port: secure.port }));
  zone = await startDnsZone([
    { name: 'secure.test', type: 'MX', exchange: 'mx.secure.test', priority: 10 },
    { name: 'mx.secure.test', type: 'A', address: '127.0.0.90' },
    { name: 'plain.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
    { name: 'mx.plain.test', type: 'A', address: '127.0.0.91' },
    { name: 'consumer.test', type: 'MX', exchange: 'mx.secure.test', priority: 10 },
    // RFC 7505 null MX: the domain takes no mail, delivery bounces at once
    { name: 'nullmx.test', type: 'MX', exchange: '', priority: 0 },
  ]);
  await setup.writeConfig({ extra: { dns: { servers: [zone.server] }, delivery: { enabled: false, port: secure.port }, inspection: { enabled: true, e2eDomains: ['consumer.test'] } } });
  eml = join(setup.dir, 'phi.eml');
  await writeFile(eml, 'From: alice@example.com\r\nTo: x@secure.test\r\nSubject: [secure] results\r\n\r\nPatient SSN 536-22-1234 was diagnosed with asthma.\r\n');
});

afterAll(async () => {
  await Promise.all(mx.map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

describe('sealgate policy test', () => {
  it('prints the JSON contract: a method, requirement and reasons per recipient, and a masked verdict', async () => {
    const r = await runCli(['-c', setup.configPath, 'policy', 'test', eml, '--from', 'alice@example.com', '--to', 'a@secure.test,b@plain.test,c@consumer.test', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { protection: string; verdict: { phi: boolean; subjectTag: boolean }; recipients: { recipient: string; method: string; requirement: string; reasons: string[] }[] };
    expect(out.verdict).toMatchObject({ phi: true, subjectTag: true });
    // the [secure] tag asks for E2E or portal; no key and no portal yet: held for an administrator
    expect(out.protection).toBe('e2e-or-portal');
    expect(out.recipients.map((x) => [x.recipient, x.method, x.requirement])).toEqual([
      ['a@secure.test', 'quarantine', 'verify'],
      ['b@plain.test', 'quarantine', 'verify'],
      ['c@consumer.test', 'quarantine', 'verify'],
    ]);
    for (const x of out.recipients) expect(x.reasons.length).toBeGreaterThan(0);
    expect(r.stdout).not.toContain('536-22-1234');
  });

  it('without the tag, PHI needs verified TLS: the secure domain gets it, the cleartext one waits, the consumer one is held', async () => {
    const plain = join(setup.dir, 'untagged.eml');
    await writeFile(plain, 'Subject: results\r\n\r\nPatient SSN 536-22-1234 was diagnosed with asthma.\r\n');
    const r = await runCli(['-c', setup.configPath, 'policy', 'test', plain, '--from', 'alice@example.com', '--to', 'a@secure.test,b@plain.test,c@consumer.test', '--json']);
    const out = JSON.parse(r.stdout) as { recipients: { recipient: string; method: string; requirement: string }[] };
    expect(out.recipients.map((x) => [x.recipient, x.method, x.requirement])).toEqual([
      ['a@secure.test', 'tls-verified', 'verify'],
      ['b@plain.test', 'tls-verified', 'verify'],
      ['c@consumer.test', 'quarantine', 'verify'],
    ]);
    const text = await runCli(['-c', setup.configPath, 'policy', 'test', plain, '--from', 'alice@example.com', '--to', 'b@plain.test']);
    expect(text.stdout).toContain('b@plain.test: tls-verified, transport verify — PHI found: phiProtection verified-tls (built-in default); personal identifiers (SSN): identifierProtection verified-tls (built-in default); verified TLS required and the MX cannot offer it now: never sent weaker (never plaintext)');
    expect(text.stdout).toContain('    delivery: waits in the queue (retried, never sent weaker) — mx.plain.test [127.0.0.91]: no STARTTLS');
    expect(text.stdout).toMatch(/SSN: 1 \(high\) SSN \*\*\*-\*\*-1234/);
  });

  // one code path (deliveryOutlook) decides what happens at the domain: policy test says what probe says
  it.each([
    ['secure.test', 'delivers', /would be delivered over verified TLS via mx\.secure\.test/, /delivery: delivers via mx\.secure\.test/],
    ['plain.test', 'waits', /it waits in the queue/, /delivery: waits in the queue .* no STARTTLS/],
    ['nullmx.test', 'bounces', /Any message to this domain would bounce:\n {2}- the domain publishes a null MX/, /delivery: bounces \(permanent\) — the domain publishes a null MX: it accepts no mail/],
  ])('PHI to %s: policy test and probe agree that it %s', async (domain, outcome, probeText, policyText) => {
    const plain = join(setup.dir, 'untagged.eml');
    await writeFile(plain, 'Subject: results\r\n\r\nPatient SSN 536-22-1234 was diagnosed with asthma.\r\n');
    const probe = await runCli(['-c', setup.configPath, 'probe', domain, '--json']);
    expect(probe.code).toBe(0);
    expect((JSON.parse(probe.stdout) as { protectedMail: { outcome: string } }).protectedMail.outcome).toBe(outcome);
    expect((await runCli(['-c', setup.configPath, 'probe', domain])).stdout).toMatch(probeText);
    const r = await runCli(['-c', setup.configPath, 'policy', 'test', plain, '--from', 'alice@example.com', '--to', `x@${domain}`, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { recipients: { method: string; requirement: string; reasons: string[]; delivery: { outcome: string; reasons: string[] } }[] };
    expect(out.recipients[0]?.requirement).toBe('verify');
    expect(out.recipients[0]?.delivery.outcome).toBe(outcome);
    // never "waits" in the decision's own reasons when the domain bounces
    expect(out.recipients[0]?.reasons.join(' ')).not.toMatch(/waits/);
    const text = await runCli(['-c', setup.configPath, 'policy', 'test', plain, '--from', 'alice@example.com', '--to', `x@${domain}`]);
    expect(text.stdout).toMatch(policyText);
  });

  it('--explain says why: the check and keyword per match, the individual named, and the PHI rule — never a value', async () => {
    const note = join(setup.dir, 'note.eml');
    await writeFile(note, 'Subject: update\r\n\r\nSpoke with Maria Alvarez this morning about her insulin refill.\r\nHer SSN 536-22-1234 is on file.\r\n\r\nThanks,\r\nAmara\r\nRiverside Clinic, Tel (217) 555-0100\r\n');
    const r = await runCli(['-c', setup.configPath, 'policy', 'test', note, '--from', 'alice@example.com', '--to', 'a@secure.test', '--json', '--explain']);
    const out = JSON.parse(r.stdout) as { explanation: { verdict: string; why: string[]; findings: { category: string; matches: { evidence: string; validator?: string; keyword?: { keyword: string; distance: number } }[] }[]; individuals: { kind: string; evidence: string }[] } };
    expect(out.explanation.verdict).toBe('phi');
    expect(out.explanation.why[0]).toMatch(/^PHI: a person's identifier \(SSN\) with health information \("refill"\), 10 characters apart$/);
    expect(out.explanation.findings.find((f) => f.category === 'SSN')?.matches).toEqual([{ evidence: 'SSN ***-**-1234', confidence: 'high', validator: 'SSA area, group and serial ranges', keyword: { keyword: 'SSN', distance: 1 } }]);
    expect(out.explanation.individuals).toEqual([{ kind: 'named-patient', evidence: 'M**** A******' }]);
    expect(r.stdout).not.toContain('536-22');
    expect(r.stdout).not.toContain('Alvarez');
    const text = await runCli(['-c', setup.configPath, 'policy', 'test', note, '--from', 'alice@example.com', '--to', 'a@secure.test', '--explain']);
    expect(text.stdout).toContain('why (phi):');
    expect(text.stdout).toContain('SSN ***-**-1234: high, passes the SSA area, group and serial ranges, keyword "SSN" 1 characters away');
    expect(text.stdout).toContain('M**** A****** (named-patient)');
    const clean = join(setup.dir, 'newsletter.eml');
    await writeFile(clean, 'Subject: news\r\n\r\nJoin our diabetes awareness walk on Saturday!\r\nRiverside Clinic | Tel (217) 555-0100\r\n');
    const c = await runCli(['-c', setup.configPath, 'policy', 'test', clean, '--from', 'alice@example.com', '--to', 'a@secure.test', '--json', '--explain']);
    const cout = JSON.parse(c.stdout) as { explanation: { verdict: string; why: string[] } };
    expect(cout.explanation.verdict).toBe('clean');
    expect(cout.explanation.why[0]).toMatch(/^no PHI: health information, but no individual/);
  });

  it('refuses a bad address with one line and exit 2', async () => {
    const r = await runCli(['-c', setup.configPath, 'policy', 'test', eml, '--from', 'nobody', '--to', 'a@secure.test']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
