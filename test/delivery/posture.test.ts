/**
 * Posture memory: a domain that once took protected mail over verified TLS
 * must keep offering it. When its MX later presents a certificate for another
 * name, protected mail is held back and the downgrade alerted; after
 * `sealgate probe accept DOMAIN` the same mail goes out with what its own
 * requirement (encrypt) allows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer | undefined;

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${gw.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function send(body: string): Promise<string> {
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  await client.command('MAIL FROM:<alice@example.com>');
  await client.command('RCPT TO:<bob@posture.test>');
  const id = queueIdOf(await client.data(dataPayload(`Subject: posture\r\n\r\n${body}\r\n`)));
  await client.quit();
  return id ?? '';
}

beforeAll(async () => {
  setup = await setupGateway();
  const good = await issueCertificate(setup.pki.ca, { commonName: 'mx.posture.test', dnsNames: ['mx.posture.test'], usage: 'server' });
  mx = await startMxServer({ ip: '127.0.0.60', port: 0, tls: { key: good.keyPem, cert: good.certPem } });
  zone = await startDnsZone([
    { name: 'posture.test', type: 'MX', exchange: 'mx.posture.test', priority: 10 },
    { name: 'mx.posture.test', type: 'A', address: '127.0.0.60' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { metrics: { enabled: true, port: 0 }, dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'encrypt', retry: { backoff: ['1m'] }, connectionIdle: 0 } },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('posture memory', () => {
  it('holds protected mail back after a downgrade, alerts, and lets it go after probe accept', async () => {
    await send('first-over-verified-tls');
    await until('first delivery', () => mx?.received.some((m) => m.body.includes('first-over-verified-tls')));

    // the MX is replaced by one whose certificate names another host
    const port = mx?.port ?? 0;
    await mx?.close();
    const wrong = await issueCertificate(setup.pki.ca, { commonName: 'other.test', dnsNames: ['other.test'], usage: 'server' });
    mx = await startMxServer({ ip: '127.0.0.60', port, tls: { key: wrong.keyPem, cert: wrong.certPem } });

    const id = await send('second-after-downgrade');
    const alert = await until('the downgrade alert', () => gw.logLines().find((l) => l.event === 'POSTURE_DOWNGRADE' && l.queueId === id));
    expect(alert).toMatchObject({ domain: 'posture.test', remembered: 'verify', mx: 'mx.posture.test' });
    expect(gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id)?.outcome).toBe('deferred');
    expect(mx.received).toEqual([]);
    const audit = await runCli(['-c', setup.configPath, 'audit', 'tail', '--json', '-n', '10']);
    expect(audit.stdout).toContain('"type":"delivery:posture_downgrade"');
    // ... and the metric an operator alerts on
    const listening = gw.logLines().find((l) => l.event === 'METRICS_LISTENING');
    const scraped = await (await fetch(`http://127.0.0.1:${String(listening?.port)}/metrics`)).text();
    expect(scraped).toContain('\nsealgate_posture_downgrades_total 1\n');
    expect(scraped).toContain('sealgate_delivery_attempts_total{outcome="delivered"} 1\n');
    expect(scraped).toContain('sealgate_delivery_attempts_total{outcome="deferred"} 1\n');
    expect(scraped).toContain('sealgate_messages_accepted_total{connector="loopback"} 2\n');
    expect(scraped).toContain('sealgate_queue_recipients{state="deferred"} 1\n');
    expect(scraped).not.toContain('posture.test');
    expect((await fetch(`http://127.0.0.1:${String(listening?.port)}/other`)).status).toBe(404);

    // TLS-RPT counts: one successful TLS session, one certificate-host-mismatch failure
    const counts = await withDb(setup.dataDir, (db) => db.all<{ result_type: string; count: number }>("SELECT result_type, count FROM tlsrpt_counts WHERE domain = 'posture.test' ORDER BY result_type"));
    expect(counts).toEqual([
      { result_type: 'certificate-host-mismatch', count: 1 },
      { result_type: 'success', count: 1 },
    ]);

    const accepted = await runCli(['-c', setup.configPath, 'probe', 'accept', 'posture.test']);
    expect(accepted.stdout).toBe('posture.test: remembered transport security forgotten; the next delivery sets it again\n');
    await runCli(['-c', setup.configPath, 'queue', 'retry', '--all']);
    const got = await until('delivery after accept', () => mx?.received.find((m) => m.body.includes('second-after-downgrade')));
    expect(got.secure).toBe(true);
  });
});
