/**
 * No accepted message can be missing from the archive: the daemon, relaying
 * to a loopback MX, is killed with SIGKILL in the middle of a load (some
 * messages delivered and gone from the queue, some inspected, some only
 * spooled, some half-archived); after a restart, once the queue has drained,
 * every acknowledged message has its archive entry, and its content
 * decrypts to exactly the bytes that were accepted, with the SHA-256 and
 * size the entry records.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { loadSession, type LoadItem } from '../helpers/load-session.js';
import { readArchived, stripTraceHeaders, withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

const TOTAL = 600;
const CLIENTS = 6;
const KILL_AFTER_ACKS = 250;

let setup: TestSetup;
let zone: DnsZone;
let sink: MxServer;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.sink.test', dnsNames: ['mx.sink.test'], usage: 'server' });
  sink = await startMxServer({ ip: '127.0.0.20', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  zone = await startDnsZone([
    { name: 'sink.test', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.20' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: sink.port, defaultRequirement: 'verify' },
    },
  });
}, 120_000);

afterAll(async () => {
  await sink?.close();
  await zone?.close();
  await setup?.cleanup();
});

function makeMessage(n: number): string {
  const filler = randomBytes(300 + (n % 23) * 150).toString('base64').replace(/(.{76})/g, '$1\r\n');
  return `From: alice@example.com\r\nTo: r${n}@sink.test\r\nSubject: archive load ${n}\r\nMessage-ID: <archive-load-${n}@example.com>\r\n\r\n${filler}\r\n`;
}

interface Ack {
  readonly id: string;
  readonly message: string;
}

describe('archive under kill -9', () => {
  it(`every message acknowledged before a SIGKILL during a ${TOTAL}-message relay load is archived, byte for byte`, async () => {
    const gw = await startGateway(setup.configPath);
    const acks: Ack[] = [];
    let issued = 0;
    let killed: Promise<void> | undefined;
    const next = (): number | undefined => (issued < TOTAL ? issued++ : undefined);
    const onAck = (): void => {
      if (acks.length >= KILL_AFTER_ACKS && !killed) killed = gw.kill9();
    };
    const item = (): (LoadItem & { n: number }) | undefined => {
      const n = next();
      return n === undefined ? undefined : { n, rcpt: `r${n}@sink.test`, message: makeMessage(n) };
    };
    await Promise.all(Array.from({ length: CLIENTS }, () => loadSession(gw.port, item, (m, id) => {
      acks.push({ id, message: m.message });
      onAck();
    })));
    await killed;
    expect(acks.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    const archivedBeforeRestart = await withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT count(*) AS n FROM archive_messages'))?.n ?? 0);

    const again = await startGateway(setup.configPath);
    try {
      await until('queue drained after the restart', async () => (await withDb(setup.dataDir, (db) => db.get<{ n: number }>('SELECT count(*) AS n FROM messages')))?.n === 0, {
        timeoutMs: 120_000,
        context: () => again.stderr.slice(-1500),
      });
      const entries = await withDb(setup.dataDir, async (db) => new Map((await db.all<{ id: string; size: number; content_sha256: string }>('SELECT id, size, content_sha256 FROM archive_messages')).map((r) => [r.id, r])));
      expect(acks.filter((a) => !entries.has(a.id)).map((a) => a.id)).toEqual([]);
      for (const a of acks) {
        const archived = await readArchived(setup.dataDir, setup.masterKeyFile, a.id);
        if (!archived) throw new Error(`no archived content for ${a.id}`);
        expect(stripTraceHeaders(archived).toString('latin1')).toBe(a.message);
        const entry = entries.get(a.id);
        expect(entry?.size).toBe(archived.length);
        expect(entry?.content_sha256).toBe(createHash('sha256').update(archived).digest('hex'));
      }
      // each recipient's entry ends delivered, with the attempt's TLS evidence
      const states = await withDb(setup.dataDir, (db) => db.all<{ state: string; n: number }>('SELECT state, count(*) AS n FROM archive_recipients GROUP BY state'));
      expect(states).toEqual([{ state: 'delivered', n: entries.size }]);
      console.log(`archive durability: ${acks.length} acknowledged before SIGKILL, ${archivedBeforeRestart} archived before it, ${entries.size} archived after the restart, 0 missing`);
    } finally {
      await again.stop();
    }
  }, 300_000);
});
