/**
 * DANE (RFC 7672) enforced at delivery, on loopback: a dns2 zone that sets
 * the AD bit for its "secure" names (as a validating resolver does) and a
 * gateway told `dns.dnssecValidating: true`. The recipients' own requirement
 * is only "may", so the TLSA records alone decide:
 *   - a DANE-EE record matching a certificate no trusted CA issued → delivered
 *   - a DANE-EE record that does not match, in front of a certificate the CA
 *     system would accept → not delivered (DANE, not PKIX, decides)
 *   - a TLSA lookup that fails (SERVFAIL) → the MX is skipped, mail deferred
 *   - TLSA records without the AD bit → ignored, delivered as "may" allows
 *   - authenticated but unusable records (PKIX-EE) on a cleartext MX → TLS
 *     still required, nothing sent in cleartext
 * `sealgate probe` reports the same.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsaAssociationData } from '../../src/probe/dane.js';
import { generateCa, issueCertificate, type Pem } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { auditEvents, queueShow, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { withDb } from '../helpers/spool-reader.js';

const CASES = ['ok', 'bad', 'servfail', 'insecure', 'unusable'] as const;
type Case = (typeof CASES)[number];
const IP: Record<Case, string> = { ok: '127.0.0.91', bad: '127.0.0.92', servfail: '127.0.0.93', insecure: '127.0.0.94', unusable: '127.0.0.95' };

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
const mx: Partial<Record<Case, MxServer>> = {};


const der = (p: Pem): Buffer => Buffer.from(new X509Certificate(p.certPem).raw);

beforeAll(async () => {
  setup = await setupGateway();
  const untrustedCa = await generateCa({ commonName: 'Private CA nobody trusts' });
  const okCert = await issueCertificate(untrustedCa, { commonName: 'mx.dane-ok.test', dnsNames: ['mx.dane-ok.test'], usage: 'server' });
  const badCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.dane-bad.test', dnsNames: ['mx.dane-bad.test'], usage: 'server' });
  const otherKey = await issueCertificate(setup.pki.ca, { commonName: 'mx.dane-bad.test', dnsNames: ['mx.dane-bad.test'], usage: 'server' });
  const sfCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.dane-servfail.test', dnsNames: ['mx.dane-servfail.test'], usage: 'server' });
  const insecureCert = await issueCertificate(untrustedCa, { commonName: 'mx.dane-insecure.test', dnsNames: ['mx.dane-insecure.test'], usage: 'server' });

  mx.ok = await startMxServer({ ip: IP.ok, port: 0, tls: { key: okCert.keyPem, cert: okCert.certPem } });
  const port = mx.ok.port;
  mx.bad = await startMxServer({ ip: IP.bad, port, tls: { key: badCert.keyPem, cert: badCert.certPem } });
  mx.servfail = await startMxServer({ ip: IP.servfail, port, tls: { key: sfCert.keyPem, cert: sfCert.certPem } });
  mx.insecure = await startMxServer({ ip: IP.insecure, port, tls: { key: insecureCert.keyPem, cert: insecureCert.certPem } });
  mx.unusable = await startMxServer({ ip: IP.unusable, port });

  const tlsaName = (c: Case): string => `_${port}._tcp.mx.dane-${c}.test`;
  const records: ZoneRecord[] = [
    ...CASES.flatMap((c): ZoneRecord[] => [
      { name: `dane-${c}.test`, type: 'MX', exchange: `mx.dane-${c}.test`, priority: 10 },
      { name: `mx.dane-${c}.test`, type: 'A', address: IP[c] },
    ]),
    { name: tlsaName('ok'), type: 'TLSA', usage: 3, selector: 1, matchingType: 1, data: tlsaAssociationData(der(okCert), 1, 1) },
    { name: tlsaName('bad'), type: 'TLSA', usage: 3, selector: 1, matchingType: 1, data: tlsaAssociationData(der(otherKey), 1, 1) },
    { name: tlsaName('insecure'), type: 'TLSA', usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) },
    { name: tlsaName('unusable'), type: 'TLSA', usage: 1, selector: 1, matchingType: 1, data: Buffer.alloc(32, 9) },
  ];
  zone = await startDnsZone(records, { secure: [tlsaName('ok'), tlsaName('bad'), tlsaName('unusable')], servfail: [tlsaName('servfail')] });
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server], dnssecValidating: true },
      delivery: { enabled: true, port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { trustedCaFiles: [setup.pki.caFile], mtaSts: { enabled: false } },
      inspection: { enabled: false },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  for (const s of Object.values(mx)) await s?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('DANE at delivery', () => {
  it('delivers where the chain matches authenticated TLSA records, and nowhere it does not', async () => {
    const id = await sendMessage(gw.port, 'alice@example.com', CASES.map((c) => `bob@dane-${c}.test`), 'Subject: dane\r\n\r\nbody-dane\r\n');

    const attempts = await until(
      'five delivery attempts',
      () => {
        const lines = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
        return lines.length >= CASES.length && lines;
      },
      { context: () => gw.stdout.slice(-3000) },
    );
    expect(attempts.map((l) => `${String(l.domain)} ${String(l.outcome)}`).sort()).toEqual([
      'dane-bad.test deferred',
      'dane-insecure.test delivered',
      'dane-ok.test delivered',
      'dane-servfail.test deferred',
      'dane-unusable.test deferred',
    ]);
    expect(mx.ok?.received.map((m) => [m.to.map((t) => t.address), m.secure])).toEqual([[['bob@dane-ok.test'], true]]);
    expect(mx.insecure?.received.map((m) => m.to.map((t) => t.address))).toEqual([['bob@dane-insecure.test']]);
    for (const c of ['bad', 'servfail', 'unusable'] as const) expect(mx[c]?.received).toEqual([]);
    // the failing TLSA lookup skipped the host: it was never contacted
    expect(mx.servfail?.connections).toBe(0);

    const shown = await queueShow(setup.configPath, id);
    const errorOf = (a: string): string => String(shown.recipients.find((x) => x.address === a)?.lastError ?? '');
    expect(errorOf('bob@dane-bad.test')).toMatch(/^TLS required but not established: DANE verification failed: 3 1 1: the server certificate does not match/);
    expect(errorOf('bob@dane-servfail.test')).toBe('TLSA lookup for mx.dane-servfail.test failed temporarily; not delivering there until it answers');
    expect(errorOf('bob@dane-unusable.test')).toMatch(/^TLS required but not established: the server refused STARTTLS: /);

    const audit = (await auditEvents(setup.configPath)).filter((e) => e.type === 'delivery:attempt');
    const ok = audit.find((e) => e.data.recipient === 'bob@dane-ok.test')?.data;
    // authenticated by DANE, although no trusted CA issued the certificate
    expect(ok).toMatchObject({ dane: '3 1 1', tlsPolicy: 'tlsa', certVerified: 'false', outcome: 'delivered' });

    const counts = await withDb(setup.dataDir, (db) => db.all<{ domain: string; policy_type: string; result_type: string }>('SELECT domain, policy_type, result_type FROM tlsrpt_counts ORDER BY domain'));
    expect(counts).toEqual([
      { domain: 'dane-bad.test', policy_type: 'tlsa', result_type: 'validation-failure' },
      { domain: 'dane-insecure.test', policy_type: 'no-policy-found', result_type: 'success' },
      { domain: 'dane-ok.test', policy_type: 'tlsa', result_type: 'success' },
      { domain: 'dane-servfail.test', policy_type: 'tlsa', result_type: 'dnssec-invalid' },
      { domain: 'dane-unusable.test', policy_type: 'no-policy-found', result_type: 'starttls-not-supported' },
    ]);
  });

  it('sealgate probe explains the DANE outcome per MX', async () => {
    const ok = await runCli(['-c', setup.configPath, 'probe', 'dane-ok.test', '--fresh']);
    expect(ok.stdout).toContain('DANE: certificate matches TLSA 3 1 1');
    expect(ok.stdout).toContain('A PHI message (needs verified TLS) would be delivered over verified TLS via mx.dane-ok.test.');
    expect(ok.stdout).toContain('its certificate matches its DNSSEC-signed TLSA record 3 1 1 (DANE)');
    const bad = await runCli(['-c', setup.configPath, 'probe', 'dane-bad.test', '--fresh']);
    expect(bad.stdout).toContain('DANE: certificate does NOT match the TLSA records');
    expect(bad.stdout).toContain('would NOT be delivered in cleartext');
    expect(bad.stdout).toMatch(/mx\.dane-bad\.test \[127\.0\.0\.92\]: DANE applies but the certificate does not match the TLSA records/);
  });
});
