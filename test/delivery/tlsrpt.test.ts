/**
 * Daily TLS-RPT reports through the queue: counts from a finished UTC day are
 * reported to the rua address a domain publishes in _smtp._tls (served by the
 * dns2 test zone), delivered to that address's MX on loopback, or POSTed
 * to its https: URI (an HTTPS server with a test-CA certificate); counts of
 * a domain without a policy are dropped, those whose only upload failed are
 * kept for the next pass.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { issueCertificate } from '../../src/tls/x509.js';
import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { withDb } from '../helpers/spool-reader.js';

let setup: TestSetup;
let gw: RunningGateway | undefined;
let zone: DnsZone;
let mx: MxServer;
let https: Server;
const posts: { path: string; type: string; body: Buffer }[] = [];

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.70', port: 0 });
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'tlsrpt.reports.test', dnsNames: ['tlsrpt.reports.test'], usage: 'server' });
  https = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(req.url === '/broken' ? 500 : 201).end();
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.73', resolve));
  const port = (https.address() as AddressInfo).port;
  zone = await startDnsZone([
    { name: '_smtp._tls.posted.test', type: 'TXT', data: `v=TLSRPTv1; rua=https://tlsrpt.reports.test:${port}/v1/tlsrpt` },
    { name: '_smtp._tls.unlucky.test', type: 'TXT', data: `v=TLSRPTv1; rua=https://tlsrpt.reports.test:${port}/broken` },
    { name: 'tlsrpt.reports.test', type: 'A', address: '127.0.0.73' },
    { name: '_smtp._tls.reported.test', type: 'TXT', data: 'v=TLSRPTv1; rua=mailto:tlsrpt@reports.test' },
    { name: 'reports.test', type: 'MX', exchange: 'mx.reports.test', priority: 10 },
    { name: 'mx.reports.test', type: 'A', address: '127.0.0.70' },
  ]);
  await setup.writeConfig({ extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'may' } } });
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await new Promise<void>((resolve) => (https ? https.close(() => resolve()) : resolve()));
  await zone?.close();
  await setup?.cleanup();
});

describe('TLS-RPT reports', () => {
  it('reports yesterday\'s counts to the published rua address and drops counts nobody asked for', async () => {
    // a first start creates the database; then yesterday's counts are in place
    gw = await startGateway(setup.configPath);
    await gw.stop();
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await withDb(setup.dataDir, async (db) => {
      const add = (domain: string, mxHost: string, result: string, count: number) =>
        db.run("INSERT INTO tlsrpt_counts (day, domain, policy_type, mx, result_type, count) VALUES (?, ?, 'no-policy-found', ?, ?, ?)", [yesterday, domain, mxHost, result, count]);
      await add('reported.test', 'mx1.reported.test', 'success', 12);
      await add('reported.test', 'mx2.reported.test', 'certificate-expired', 2);
      await add('silent.test', 'mx.silent.test', 'success', 5);
      await add('posted.test', 'mx.posted.test', 'success', 7);
      await add('unlucky.test', 'mx.unlucky.test', 'success', 3);
    });

    gw = await startGateway(setup.configPath);
    const deadline = Date.now() + 60_000;
    while (mx.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(mx.received).toHaveLength(1);
    const report = mx.received[0];
    expect(report?.from).toBe('');
    expect(report?.to.map((t) => t.address)).toEqual(['tlsrpt@reports.test']);
    const mail = await simpleParser(report?.body ?? Buffer.alloc(0));
    expect(mail.headers.get('tls-report-domain')).toBe('reported.test');
    expect((mail.headers.get('content-type') as { value: string; params: Record<string, string> }).params['report-type']).toBe('tlsrpt');
    const attachment = mail.attachments.find((a) => a.contentType === 'application/tlsrpt+gzip');
    expect(attachment?.filename).toMatch(/^gw\.test!reported\.test!\d+!\d+!.+\.json\.gz$/);
    const json = JSON.parse(gunzipSync(attachment?.content ?? Buffer.alloc(0)).toString('utf8')) as { policies: { summary: Record<string, number>; 'failure-details': { 'result-type': string }[] }[]; 'date-range': Record<string, string> };
    expect(json['date-range']['start-datetime']).toBe(`${yesterday}T00:00:00Z`);
    expect(json.policies[0]?.summary).toEqual({ 'total-successful-session-count': 12, 'total-failure-session-count': 2 });
    expect(json.policies[0]?.['failure-details'][0]?.['result-type']).toBe('certificate-expired');
    // the pass goes on after queuing the email: wait for its last domain's upload
    await gw.waitForEvent('TLSRPT_POST_FAILED', 60_000);
    // the https: URI got the same kind of report, POSTed as application/tlsrpt+gzip
    const posted = posts.find((p) => p.path === '/v1/tlsrpt');
    expect(posted?.type).toBe('application/tlsrpt+gzip');
    const postedJson = JSON.parse(gunzipSync(posted?.body ?? Buffer.alloc(0)).toString('utf8')) as { policies: { policy: Record<string, unknown>; summary: Record<string, number> }[] };
    expect(postedJson.policies[0]?.policy['policy-domain']).toBe('posted.test');
    expect(postedJson.policies[0]?.summary).toEqual({ 'total-successful-session-count': 7, 'total-failure-session-count': 0 });
    expect(posts.some((p) => p.path === '/broken')).toBe(true);
    // reported and dropped counts are gone; the failed upload's counts wait for the next pass
    const left = await withDb(setup.dataDir, (db) => db.all<{ domain: string }>('SELECT domain FROM tlsrpt_counts'));
    expect(left.map((r) => r.domain)).toEqual(['unlucky.test']);
  });
});
