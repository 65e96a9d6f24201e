/**
 * A STARTTLS-stripping man in the middle never receives protected content.
 * A TCP proxy in front of a good MX rewrites STARTTLS to XXXXXXXA in both
 * directions (as some middleboxes do) and records every byte the gateway
 * sends through it. A message with PHI goes through the real pipeline
 * (inspection decides verified TLS) to two domains served by the same MX:
 * one reached directly, one through the proxy. The direct one is delivered
 * over verified TLS; the proxied one is deferred and the proxy sees nothing
 * of the message beyond the SMTP greeting and EHLO.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { queueShow, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

const MARKER = 'PROTECTED-CONTENT-MARKER-7731';
const PHI = `Patient DOB 04/12/1961, SSN 219-09-9999. Diagnosis: type 2 diabetes mellitus (E11.9), metformin 500 mg. ${MARKER}`;

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer;
let proxy: Server;
const seenByProxy: Buffer[] = [];
const sockets = new Set<Socket>();


/** Rewrites STARTTLS (any case) to XXXXXXXA, keeping the length; SMTP lines on loopback do not straddle chunks here. */
function strip(chunk: Buffer): Buffer {
  return Buffer.from(chunk.toString('latin1').replace(/STARTTLS/gi, 'XXXXXXXA'), 'latin1');
}

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.direct.test', dnsNames: ['mx.direct.test', 'mx.strip.test'], usage: 'server' });
  mx = await startMxServer({ ip: '127.0.0.100', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  proxy = createServer((client) => {
    const upstream = connect(mx.port, mx.ip);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d: Buffer) => {
      seenByProxy.push(Buffer.from(d));
      upstream.write(strip(d));
    });
    upstream.on('data', (d: Buffer) => client.write(strip(d)));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => proxy.listen(mx.port, '127.0.0.101', resolve));
  zone = await startDnsZone([
    { name: 'direct.test', type: 'MX', exchange: 'mx.direct.test', priority: 10 },
    { name: 'mx.direct.test', type: 'A', address: '127.0.0.100' },
    { name: 'strip.test', type: 'MX', exchange: 'mx.strip.test', priority: 10 },
    { name: 'mx.strip.test', type: 'A', address: '127.0.0.101' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      // the recipients' own requirement is opportunistic: only the PHI verdict protects this mail
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      inspection: { enabled: true },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('a STARTTLS-stripping proxy', () => {
  it('never receives protected content; the same message goes out over verified TLS where nothing strips it', async () => {
    const id = await sendMessage(gw.port, 'alice@example.com', ['carol@direct.test', 'dave@strip.test'], `Subject: results\r\n\r\n${PHI}\r\n`);

    const attempts = await until(
      'both attempts',
      () => {
        const lines = gw.logLines().filter((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id);
        return lines.length >= 2 && lines;
      },
      { context: () => gw.stdout.slice(-3000) },
    );
    expect(attempts.map((l) => `${String(l.domain)} ${String(l.outcome)}`).sort()).toEqual(['direct.test delivered', 'strip.test deferred']);

    // the gateway did talk to the proxy (so the test proves something) ...
    const sent = Buffer.concat(seenByProxy).toString('latin1');
    expect(sent).toMatch(/^EHLO /m);
    // ... but sent it no envelope and no content
    expect(sent).not.toContain(MARKER);
    expect(sent).not.toMatch(/MAIL FROM|RCPT TO|DATA|BDAT/i);

    expect(mx.received.map((m) => [m.to.map((t) => t.address), m.secure, m.body.includes(MARKER)])).toEqual([[['carol@direct.test'], true, true]]);
    const shown = await queueShow(setup.configPath, id);
    const dave = shown.recipients.find((r) => r.address === 'dave@strip.test');
    expect(dave?.lastError).toMatch(/^TLS required but not established/);
  });
});
