/**
 * MTA-STS enforced at delivery, end to end on loopback: a dns2 zone with
 * _mta-sts TXT records, an HTTPS policy server with a test-CA certificate,
 * and recipient MX hosts with their own certificates. The recipients' own
 * requirement is only "may", so MTA-STS alone decides:
 *   - enforce, MX listed, valid certificate → delivered over verified TLS
 *   - enforce, MX not listed → refused (deferred), the MX gets nothing
 *   - enforce, MX listed but its certificate names another host → deferred
 *   - testing, MX not listed → delivered, the failure only reported (TLS-RPT)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, queueShow, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { withDb } from '../helpers/spool-reader.js';
import { startStsServer, stsPolicy, type StsServer } from '../helpers/sts-server.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let https: StsServer;
const mx: Record<'enforce' | 'rogue' | 'badcert', MxServer | undefined> = { enforce: undefined, rogue: undefined, badcert: undefined };


beforeAll(async () => {
  setup = await setupGateway();
  const cert = async (name: string): Promise<{ key: string; cert: string }> => {
    const c = await issueCertificate(setup.pki.ca, { commonName: name, dnsNames: [name], usage: 'server' });
    return { key: c.keyPem, cert: c.certPem };
  };
  mx.enforce = await startMxServer({ ip: '127.0.0.81', port: 0, tls: await cert('mx.enforce.test') });
  const port = mx.enforce.port;
  mx.rogue = await startMxServer({ ip: '127.0.0.82', port, tls: await cert('mx.rogue.test') });
  mx.badcert = await startMxServer({ ip: '127.0.0.83', port, tls: await cert('other.test') });
  const policyHosts = ['enforce', 'mismatch', 'badcert', 'testing'].map((d) => `mta-sts.${d}.test`);
  https = await startStsServer({ ip: '127.0.0.80', ca: setup.pki.ca, hosts: policyHosts });
  https.answers.set('mta-sts.enforce.test', { body: stsPolicy('enforce', ['mx.enforce.test']) });
  https.answers.set('mta-sts.mismatch.test', { body: stsPolicy('enforce', ['mx.mismatch.test']) });
  https.answers.set('mta-sts.badcert.test', { body: stsPolicy('enforce', ['mx.badcert.test']) });
  https.answers.set('mta-sts.testing.test', { body: stsPolicy('testing', ['mx.testing.test']) });
  zone = await startDnsZone([
    { name: 'enforce.test', type: 'MX', exchange: 'mx.enforce.test', priority: 10 },
    { name: 'mx.enforce.test', type: 'A', address: '127.0.0.81' },
    { name: 'mismatch.test', type: 'MX', exchange: 'mx.rogue.test', priority: 10 },
    { name: 'testing.test', type: 'MX', exchange: 'mx.rogue.test', priority: 10 },
    { name: 'mx.rogue.test', type: 'A', address: '127.0.0.82' },
    { name: 'badcert.test', type: 'MX', exchange: 'mx.badcert.test', priority: 10 },
    { name: 'mx.badcert.test', type: 'A', address: '127.0.0.83' },
    ...['enforce', 'mismatch', 'badcert', 'testing'].flatMap((d) => [
      { name: `_mta-sts.${d}.test`, type: 'TXT' as const, data: `v=STSv1; id=${d}1` },
      { name: `mta-sts.${d}.test`, type: 'A' as const, address: '127.0.0.80' },
    ]),
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { trustedCaFiles: [setup.pki.caFile], mtaSts: { httpsPort: https.port } },
      inspection: { enabled: false },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  for (const s of Object.values(mx)) await s?.close();
  await https?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('MTA-STS at delivery', () => {
  it('delivers only to listed MX hosts over verified TLS in enforce mode, and only reports in testing mode', async () => {
    const id = await sendMessage(gw.port, 'alice@example.com', ['enforce', 'mismatch', 'badcert', 'testing'].map((d) => `bob@${d}.test`), 'Subject: sts\r\n\r\nbody-sts\r\n');

    const attempts = await until(
      'four delivery attempts',
      () => {
        const lines = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
        return lines.length >= 4 && lines;
      },
      { context: () => gw.stdout.slice(-3000) },
    );
    expect(attempts.map((l) => `${String(l.domain)} ${String(l.outcome)}`).sort()).toEqual(['badcert.test deferred', 'enforce.test delivered', 'mismatch.test deferred', 'testing.test delivered']);

    expect(mx.enforce?.received.map((m) => m.to.map((t) => t.address))).toEqual([['bob@enforce.test']]);
    expect(mx.enforce?.received[0]?.secure).toBe(true);
    // the unlisted MX got only the testing-mode domain's mail, the badly certified one nothing
    expect(mx.rogue?.received.flatMap((m) => m.to.map((t) => t.address))).toEqual(['bob@testing.test']);
    expect(mx.badcert?.received).toEqual([]);

    const shown = await queueShow(setup.configPath, id);
    const errorOf = (a: string): string => String(shown.recipients.find((x) => x.address === a)?.lastError ?? '');
    expect(errorOf('bob@mismatch.test')).toBe('MX mx.rogue.test is not listed in the MTA-STS policy of mismatch.test; not delivering there');
    expect(errorOf('bob@badcert.test')).toMatch(/^TLS required but not established: .*(altnames|does not match)/i);

    const audit = (await auditEvents(setup.configPath)).filter((e) => e.type === 'delivery:attempt');
    const byRecipient = (a: string): Record<string, unknown> | undefined => audit.find((e) => e.data.recipient === a)?.data;
    expect(byRecipient('bob@enforce.test')).toMatchObject({ mx: 'mx.enforce.test', mtaSts: 'enforce', tlsPolicy: 'sts', certVerified: 'true', outcome: 'delivered' });
    expect(byRecipient('bob@testing.test')).toMatchObject({ mx: 'mx.rogue.test', mtaSts: 'testing', tlsPolicy: 'sts', outcome: 'delivered' });
    expect(byRecipient('bob@mismatch.test')).toMatchObject({ mx: 'mx.rogue.test', mtaSts: 'enforce', outcome: 'deferred' });

    const counts = await withDb(setup.dataDir, (db) => db.all<{ domain: string; policy_type: string; result_type: string; count: number }>('SELECT domain, policy_type, result_type, count FROM tlsrpt_counts ORDER BY domain'));
    expect(counts).toEqual([
      { domain: 'badcert.test', policy_type: 'sts', result_type: 'certificate-host-mismatch', count: 1 },
      { domain: 'enforce.test', policy_type: 'sts', result_type: 'success', count: 1 },
      { domain: 'mismatch.test', policy_type: 'sts', result_type: 'validation-failure', count: 1 },
      { domain: 'testing.test', policy_type: 'sts', result_type: 'validation-failure', count: 1 },
    ]);

    // the policies are cached in SQLite until max_age
    const cached = await withDb(setup.dataDir, (db) => db.all<{ domain: string; mode: string }>('SELECT domain, mode FROM mta_sts_policies ORDER BY domain'));
    expect(cached).toEqual([
      { domain: 'badcert.test', mode: 'enforce' },
      { domain: 'enforce.test', mode: 'enforce' },
      { domain: 'mismatch.test', mode: 'enforce' },
      { domain: 'testing.test', mode: 'testing' },
    ]);
  });

  it('sealgate probe shows the policy and which MX hosts it allows', async () => {
    const good = await runCli(['-c', setup.configPath, 'probe', 'enforce.test', '--fresh']);
    expect(good.stdout).toContain('MTA-STS: enforce (id enforce1), mx mx.enforce.test');
    expect(good.stdout).toContain("A PHI message (needs verified TLS) would be delivered over verified TLS via mx.enforce.test.");
    expect(good.stdout).toContain("it is listed in the domain's MTA-STS policy (enforce)");
    const mismatch = await runCli(['-c', setup.configPath, 'probe', 'mismatch.test', '--fresh']);
    expect(mismatch.stdout).toContain('MTA-STS: enforce (id mismatch1), mx mx.mismatch.test');
    // a valid certificate does not help an MX the policy does not list
    expect(mismatch.stdout).toMatch(/mx\.rogue\.test \[127\.0\.0\.82\]:\d+ {2}STARTTLS TLSv1\.3 \S+ {2}certificate CN=mx\.rogue\.test from CN=Sealgate Test CA: chain valid, name matches/);
    expect(mismatch.stdout).toContain("mx.rogue.test [127.0.0.82]: not listed in the domain's MTA-STS policy (enforce: mx.mismatch.test)");
    const json = JSON.parse((await runCli(['-c', setup.configPath, 'probe', 'testing.test', '--json'])).stdout) as { mtaSts: unknown; protectedMail: { method: string } };
    expect(json.mtaSts).toMatchObject({ mode: 'testing', id: 'testing1', mx: ['mx.testing.test'] });
    expect(json.protectedMail.method).toBe('tls-verified');
  });
});
