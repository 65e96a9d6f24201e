/**
 * A real BDAT-sending MTA plays the Microsoft 365 connector: Exim relays to
 * Sealgate over verified TLS with CHUNKING (its log marks such deliveries
 * "K"), and Sealgate delivers to a loopback MX. A message with bare LFs, a
 * 20 MB message and one with 8-bit content arrive intact (compared after
 * line-ending normalisation), each acknowledged only once queued.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { haveExim, setupExim, type EximInstance } from '../helpers/exim.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer;
let exim: EximInstance;
let eximDir: string;

beforeAll(async () => {
  if (!haveExim()) return;
  setup = await setupGateway();
  // the recipient MX offers verified TLS: a 20 MB message is not fully scanned, so it needs it (fail closed)
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.dest.test', dnsNames: ['mx.dest.test'], usage: 'server' });
  mx = await startMxServer({ ip: '127.0.0.31', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  zone = await startDnsZone([
    { name: 'dest.test', type: 'MX', exchange: 'mx.dest.test', priority: 10 },
    { name: 'mx.dest.test', type: 'A', address: '127.0.0.31' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'm365', kind: 'm365', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: true }],
    extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, port: mx.port, defaultRequirement: 'may' } },
  });
  gw = await startGateway(setup.configPath);
  eximDir = await mkdtemp(join(tmpdir(), 'sealgate-exim-'));
  exim = await setupExim(eximDir, { host: '127.0.0.1', port: gw.port, caFile: setup.pki.caFile });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
  if (eximDir) await rm(eximDir, { recursive: true, force: true });
});

/** The body after the header block, with every line ending as CRLF. */
function normalisedBody(raw: Buffer): string {
  const text = raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  const end = text.indexOf('\r\n\r\n');
  return text.slice(end + 4).replace(/(\r\n)+$/, '');
}

async function delivered(marker: string): Promise<Buffer> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const got = mx.received.find((m) => m.body.includes(marker));
    if (got) return got.body;
    if (Date.now() > deadline) throw new Error(`${marker} never reached the MX; exim log: ${(await exim.mainlog()).slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const MESSAGES: [string, string, () => Buffer][] = [
  ['bare LFs', 'm-bare-lf', () => Buffer.from('Subject: bare-lf\nX-Marker: m-bare-lf\n\nline one\nline two\r\nmixed\n.\nafter a lone dot\n', 'latin1')],
  ['8-bit content', 'm-8bit', () => Buffer.from('Subject: eight-bit\nX-Marker: m-8bit\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nCaf\xe9 cr\xe8me br\xfbl\xe9e \xa9\xae\n', 'latin1')],
  [
    'a 20 MB message',
    'm-20mb',
    () => {
      const lines: string[] = [];
      for (let i = 0, size = 0; size < 20 * 1024 * 1024; i++) {
        const l = `${i.toString().padStart(8, '0')} ${randomBytes(36).toString('base64')}\n`;
        lines.push(l);
        size += l.length;
      }
      return Buffer.from(`Subject: big\nX-Marker: m-20mb\n\n${lines.join('')}`, 'latin1');
    },
  ],
];

describe('Exim relaying to Sealgate with CHUNKING', () => {
  it.each(MESSAGES)('%s arrive intact, sent with BDAT', async (_name, marker, make) => {
    if (!haveExim()) {
      if (process.env.CI === 'true') throw new Error('Exim is not unpacked; .ci/run runs test/peers/install-exim.sh');
      return;
    }
    const message = make();
    await exim.send('alice@example.com', `bob@dest.test`, message);
    const log = await exim.mainlog();
    // Exim's delivery line: "=> bob@dest.test ... K C="250 2.0.0 Ok: queued as <id>"" (K: CHUNKING was used)
    // the latest delivery line (messages are sent one after the other)
    const line = log.split('\n').filter((l) => l.includes('=> bob@dest.test') && l.includes(' K ') && l.includes('queued as')).at(-1);
    expect(line, log.slice(-1500)).toBeDefined();
    const queueId = /queued as ([0-9A-Z]{20})/.exec(line ?? '')?.[1];
    const body = await delivered(`X-Marker: ${marker}`);
    expect(body.toString('latin1')).toContain(`id ${queueId}`); // our Received header names the queue id Exim was given
    expect(normalisedBody(body)).toBe(normalisedBody(message));
  }, 300_000);
});
