/**
 * `sealgate doctor` through the real CLI: a well set-up gateway (its own
 * listener greeting, certificates from the trusted test CA, SPF, DKIM,
 * MTA-STS and TLS-RPT published in a dns2 zone) passes every check; planted
 * faults — an expired certificate, a key that is not the certificate's, a
 * world-readable master key, an unpublished DKIM key — each fail with their
 * fix, and doctor exits 1.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMasterKeyFile, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { randomBytes } from 'node:crypto';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';

let setup: TestSetup;
let zone: DnsZone;
let gw: RunningGateway | undefined;
const records: ZoneRecord[] = [];

interface Check {
  name: string;
  status: string;
  detail: string;
  fix?: string;
}

beforeAll(async () => {
  setup = await setupGateway();
  zone = await startDnsZone(records);
  const keyFile = join(setup.dir, 'dkim-s1.pem');
  const gen = await runCli(['dkim', 'keygen', 'example.com', '--selector', 's1', '--out', keyFile, '--json']);
  const dkim = JSON.parse(gen.stdout) as { record: { name: string; value: string } };
  records.push(
    { name: 'gw.test', type: 'A', address: '127.0.0.1' },
    { name: 'example.com', type: 'TXT', data: 'v=spf1 a:gw.test -all' },
    { name: '_mta-sts.example.com', type: 'TXT', data: 'v=STSv1; id=20261205' },
    { name: '_smtp._tls.example.com', type: 'TXT', data: 'v=TLSRPTv1; rua=mailto:tlsrpt@example.com' },
    // a DKIM key is longer than one TXT string (255 bytes): published as several, as zone files do
    { name: dkim.record.name, type: 'TXT', data: dkim.record.value.match(/.{1,255}/g) ?? [] },
  );
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { dns: { servers: [zone.server] }, dkim: { keys: [{ domain: 'example.com', selector: 's1', keyFile }] } },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await zone?.close();
  await setup?.cleanup();
});

async function doctor(configPath: string): Promise<{ code: number | null; checks: Check[]; text: string }> {
  const json = await runCli(['-c', configPath, 'doctor', '--json']);
  const text = await runCli(['-c', configPath, 'doctor']);
  return { code: json.code, checks: (JSON.parse(json.stdout) as { checks: Check[] }).checks, text: text.stdout };
}

describe('sealgate doctor', () => {
  it('passes every check on a well set-up gateway and exits 0', async () => {
    const r = await doctor(setup.configPath);
    expect(r.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(r.checks.map((c) => c.name)).toEqual([
      'config',
      'certificate smtp listener relay',
      'permissions master key',
      'permissions DKIM key s1._domainkey.example.com',
      'permissions data directory',
      'listener smtp relay',
      'free disk',
      'resolver',
      'SPF example.com',
      'MTA-STS example.com',
      'TLS-RPT example.com',
      'DKIM s1._domainkey.example.com',
    ]);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/^\[ ok \] config: .*sealgate\.yaml is valid\n/);
    expect(r.text).toMatch(/\n12 checks: 12 ok, 0 warnings, 0 failed\n$/);
  });

  it('names an expired certificate, a key that does not fit, a world-readable master key and a missing DKIM record, each with its fix; exits 1', async () => {
    const dir = join(setup.dir, 'broken');
    await mkdir(join(dir, 'data'), { recursive: true, mode: 0o700 });
    const expired = await issueCertificate(setup.pki.ca, { commonName: 'old.gw.test', dnsNames: ['old.gw.test'], usage: 'server', notBefore: new Date(Date.now() - 10 * 86_400_000), validityDays: 3 });
    const a = await issueCertificate(setup.pki.ca, { commonName: 'a.gw.test', dnsNames: ['a.gw.test'], usage: 'server' });
    const b = await issueCertificate(setup.pki.ca, { commonName: 'b.gw.test', dnsNames: ['b.gw.test'], usage: 'server' });
    await writeFile(join(dir, 'expired.crt'), expired.certPem);
    await writeFile(join(dir, 'expired.key'), expired.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'a.crt'), a.certPem);
    await writeFile(join(dir, 'b.key'), b.keyPem, { mode: 0o600 });
    const masterKey = join(dir, 'master.key');
    await writeFile(masterKey, formatMasterKeyFile(masterKeyFromBytes(randomBytes(32))));
    await chmod(masterKey, 0o644);
    const dkimKey = join(dir, 'dkim-s2.pem');
    expect((await runCli(['dkim', 'keygen', 'example.com', '--selector', 's2', '--out', dkimKey])).code).toBe(0);
    const config = join(dir, 'gw.yaml');
    await writeFile(
      config,
      JSON.stringify({
        dataDir: join(dir, 'data'),
        hostname: 'gw.test',
        smtp: {
          listeners: [
            { name: 'old', host: '127.0.0.1', port: 0, tls: 'starttls', certFile: join(dir, 'expired.crt'), keyFile: join(dir, 'expired.key') },
            { name: 'mixed', host: '127.0.0.1', port: 0, tls: 'starttls', certFile: join(dir, 'a.crt'), keyFile: join(dir, 'b.key') },
          ],
        },
        tls: { trustedCaFiles: [setup.pki.caFile] },
        connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'] }],
        keys: { masterKeyFile: masterKey },
        dns: { servers: [zone.server] },
        dkim: { keys: [{ domain: 'example.com', selector: 's2', keyFile: dkimKey }] },
        delivery: { enabled: false },
      }),
    );
    const r = await doctor(config);
    expect(r.code).toBe(1);
    const failed = r.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.name)).toEqual(['certificate smtp listener old', 'certificate smtp listener mixed', 'permissions master key', 'DKIM s2._domainkey.example.com']);
    expect(failed[0]?.detail).toMatch(/^expired on \d{4}-\d\d-\d\d/);
    expect(failed[0]?.fix).toBe('renew the certificate, then send SIGHUP to the daemon');
    expect(failed[1]?.detail).toContain('does not belong to the certificate');
    expect(failed[2]).toMatchObject({ detail: `${masterKey} is mode 0644: readable or writable by group or others`, fix: `chmod 600 ${masterKey}` });
    expect(failed[3]?.detail).toBe('not published');
    expect(failed[3]?.fix).toMatch(/^publish s2\._domainkey\.example\.com\. IN TXT \( "v=DKIM1; k=rsa; p=/);
    expect(r.text).toContain(`[FAIL] permissions master key: ${masterKey} is mode 0644: readable or writable by group or others — fix: chmod 600 ${masterKey}\n`);
    expect(r.text).toMatch(/\n\d+ checks: \d+ ok, \d+ warnings, 4 failed\n$/);
    // no key material in what doctor prints
    expect(r.text).not.toContain('PRIVATE KEY');
  });

  it('a config that does not load is one failed check with the fix', async () => {
    const bad = join(setup.dir, 'bad.yaml');
    await writeFile(bad, 'smtp:\n  listeners: nope\n');
    const r = await runCli(['-c', bad, 'doctor']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\[FAIL\] config: .* — fix: correct the file/);
  });
});
