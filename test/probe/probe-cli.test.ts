/**
 * `sealgate probe` against real recipient MX servers on loopback (a dns2
 * zone, smtp-server MX hosts with certificates from a test CA): a good MX, a
 * cleartext-only one, one with a certificate for another name, a null MX; the
 * result is cached and --fresh probes again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';

let setup: TestSetup;
let zone: DnsZone;
const mx: Record<string, MxServer> = {};

beforeAll(async () => {
  setup = await setupGateway();
  const good = await issueCertificate(setup.pki.ca, { commonName: 'mx.good.test', dnsNames: ['mx.good.test'], usage: 'server' });
  const wrong = await issueCertificate(setup.pki.ca, { commonName: 'elsewhere.test', dnsNames: ['elsewhere.test'], usage: 'server' });
  mx.good = await startMxServer({ ip: '127.0.0.50', port: 0, tls: { key: good.keyPem, cert: good.certPem } });
  const port = mx.good.port;
  mx.plain = await startMxServer({ ip: '127.0.0.51', port });
  mx.wrong = await startMxServer({ ip: '127.0.0.52', port, tls: { key: wrong.keyPem, cert: wrong.certPem } });
  zone = await startDnsZone([
    { name: 'good.test', type: 'MX', exchange: 'mx.good.test', priority: 10 },
    { name: 'mx.good.test', type: 'A', address: '127.0.0.50' },
    { name: 'plain.test', type: 'MX', exchange: 'mx.plain.test', priority: 10 },
    { name: 'mx.plain.test', type: 'A', address: '127.0.0.51' },
    { name: 'wrong.test', type: 'MX', exchange: 'mx.wrong.test', priority: 10 },
    { name: 'mx.wrong.test', type: 'A', address: '127.0.0.52' },
    { name: 'nullmx.test', type: 'MX', exchange: '', priority: 0 },
  ]);
  await setup.writeConfig({ extra: { dns: { servers: [zone.server] }, delivery: { enabled: false, port } } });
});

afterAll(async () => {
  await Promise.all(Object.values(mx).map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

const probe = (...args: string[]) => runCli(['-c', setup.configPath, 'probe', ...args]);

describe('sealgate probe', () => {
  it('reports verified TLS for a good MX, and caches the result', async () => {
    const first = await probe('good.test');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/mx\.good\.test \[127\.0\.0\.50\]:\d+ {2}STARTTLS TLSv1\.3 \S+ {2}certificate CN=mx\.good\.test from CN=Sealgate Test CA: chain valid, name matches, expires \d{4}-\d\d-\d\d/);
    expect(first.stdout).toContain('A PHI message (needs verified TLS) would be delivered over verified TLS via mx.good.test.');
    const connections = mx.good?.connections ?? 0;
    const cached = await probe('good.test');
    expect(cached.stdout).toContain('(cached, probed ');
    expect(mx.good?.connections).toBe(connections);
    await probe('good.test', '--fresh');
    expect(mx.good?.connections).toBe(connections + 1);
  });

  it.each<[string, RegExp]>([
    ['plain.test', /mx\.plain\.test \[127\.0\.0\.51\]: no STARTTLS/],
    ['wrong.test', /mx\.wrong\.test \[127\.0\.0\.52\]: certificate does not name the host/],
    ['nullmx.test', /the domain publishes a null MX: it accepts no mail/],
  ])('explains why a PHI message to %s would not go out in cleartext', async (domain, reason) => {
    const r = await probe(domain, '--fresh');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(domain === 'nullmx.test' ? /Any message to this domain would bounce:/ : /would NOT be delivered in cleartext/);
    expect(r.stdout).toMatch(reason);
  });

  it('prints JSON with the per-MX facts and the verdict', async () => {
    const r = await probe('wrong.test', '--json');
    const json = JSON.parse(r.stdout) as { mx: { starttls: boolean; certificate: { chainValid: boolean; nameMatches: boolean } }[]; protectedMail: { method: string } };
    expect(json.mx[0]).toMatchObject({ starttls: true, certificate: { chainValid: true, nameMatches: false } });
    expect(json.protectedMail.method).toBe('no-secure-route');
  });

  it('refuses something that is not a domain', async () => {
    const r = await probe('not a domain');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
