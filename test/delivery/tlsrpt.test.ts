/**
 * Daily TLS-RPT reports through the queue: counts from a finished UTC day are
 * reported to the rua address a domain publishes in _smtp._tls (served by the
 * dns2 test zone), delivered to that address's MX on loopback; counts of a
 * domain without a policy are dropped.
 */
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

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.70', port: 0 });
  zone = await startDnsZone([
    { name: '_smtp._tls.reported.test', type: 'TXT', data: 'v=TLSRPTv1; rua=mailto:tlsrpt@reports.test' },
    { name: 'reports.test', type: 'MX', exchange: 'mx.reports.test', priority: 10 },
    { name: 'mx.reports.test', type: 'A', address: '127.0.0.70' },
  ]);
  setup = await setupGateway({ extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'may' } } });
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
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
    const left = await withDb(setup.dataDir, (db) => db.all('SELECT * FROM tlsrpt_counts'));
    expect(left).toEqual([]);
  });
});
