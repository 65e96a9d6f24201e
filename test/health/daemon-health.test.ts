/**
 * /healthz, /readyz and the queue metrics on a running daemon: ready when all
 * is well, 503 naming the check when the database write lock cannot be had or
 * the spool disk is below smtp.minFreeBytes, ready again once that ends; the
 * accept → delivered histogram, the oldest-message age and the held reasons
 * move with real mail.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { RawSmtp, sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let relay: MxServer;
let zone: DnsZone;
let metricsPort: number;
let options: (smtp?: Record<string, unknown>) => TestConfigOptions;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'relay.test', dnsNames: ['relay.test'], usage: 'server' });
  // later@… is deferred for ever: the queue keeps a message to age and hold
  relay = await startMxServer({ ip: '127.0.0.13', port: 0, tls: { key: cert.keyPem, cert: cert.certPem }, rcpt: (address) => (address.startsWith('later@') ? [451, '4.3.0 try again later'] : undefined) });
  zone = await startDnsZone([{ name: 'relay.test', type: 'A', address: '127.0.0.13' }]);
  options = (smtp = {}) => ({
    smtp,
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      metrics: { enabled: true, port: 0, readyTimeout: '500ms' },
      delivery: { enabled: true, defaultRequirement: 'may', smarthost: { host: 'relay.test', port: relay.port } },
    },
  });
  await setup.writeConfig(options());
  gw = await startGateway(setup.configPath);
  metricsPort = (await gw.waitForEvent('METRICS_LISTENING')).port as number;
});

afterAll(async () => {
  await gw?.stop();
  await relay?.close();
  await zone?.close();
  await setup?.cleanup();
});

async function get(path: string, method = 'GET'): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

interface Readyz {
  status: string;
  checks: Record<'database' | 'disk' | 'listeners' | 'masterKey' | 'objects', { ok: boolean; detail?: string }>;
}

async function readyz(): Promise<{ status: number; body: Readyz }> {
  const r = await get('/readyz');
  return { status: r.status, body: JSON.parse(r.body) as Readyz };
}

/** The value of one sample line of /metrics, or undefined when absent. */
async function sample(line: string): Promise<number | undefined> {
  const text = (await get('/metrics')).body;
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

describe('health endpoints', () => {
  it('/healthz answers alive; /readyz is ready with every check named; HEAD has no body', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: '{"status":"alive"}\n' });
    const r = await readyz();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', checks: { database: { ok: true }, disk: { ok: true }, listeners: { ok: true }, masterKey: { ok: true }, objects: { ok: true } } });
    expect(await get('/readyz', 'HEAD')).toMatchObject({ status: 200, body: '' });
    expect((await get('/nothing')).status).toBe(404);
    expect((await get('/readyz', 'POST')).status).toBe(405);
  });

  it('is not ready while another process holds the database write lock, and ready again once it lets go', async () => {
    const other = await Database.open(join(setup.dataDir, 'sealgate.db'), { busyTimeoutMs: 100 });
    try {
      await other.exec('BEGIN EXCLUSIVE');
      const held = await readyz();
      expect(held.status).toBe(503);
      expect(held.body.status).toBe('not ready');
      expect(held.body.checks.database).toEqual({ ok: false, detail: 'write not committed in 500 ms' });
      expect(held.body.checks.disk.ok).toBe(true);
      await other.exec('ROLLBACK');
    } finally {
      await other.close();
    }
    await until('ready again', async () => ((await readyz()).status === 200 ? true : undefined));
  });

  it('is not ready while the spool disk is below smtp.minFreeBytes (MAIL FROM gets 452 then too), and recovers on reload', async () => {
    const mark = gw.logLines().length;
    await setup.writeConfig(options({ minFreeBytes: 2 ** 52 }));
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, mark);
    const low = await readyz();
    expect(low.status).toBe(503);
    expect(low.body.checks.disk.ok).toBe(false);
    expect(low.body.checks.disk.detail).toMatch(/^below smtp\.minFreeBytes after room for one message \(\d+ bytes free\)$/);
    expect(low.body.checks.database.ok).toBe(true);
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(452);
    await client.quit();

    const again = gw.logLines().length;
    await setup.writeConfig(options());
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, again);
    expect((await readyz()).status).toBe(200);
  });
});

describe('queue metrics', () => {
  it('counts accept → delivered latency, the oldest waiting message and held recipients by reason', async () => {
    expect(await sample('sealgate_delivery_latency_seconds_count')).toBe(0);
    expect(await sample('sealgate_queue_oldest_age_seconds{kind="active"}')).toBeUndefined();
    const id = await sendMessage(gw.port, 'alice@example.com', ['now@nowhere.test', 'later@nowhere.test'], 'From: alice@example.com\r\nSubject: metrics\r\n\r\nbody\r\n');
    await until('delivered and deferred', async () => ((await sample('sealgate_delivery_latency_seconds_count')) === 1 ? true : undefined), { timeoutMs: 60_000 });
    expect(await sample('sealgate_delivery_latency_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(await sample('sealgate_delivery_latency_seconds_bucket{le="86400"}')).toBe(1);
    expect(await sample('sealgate_queue_oldest_age_seconds{kind="active"}')).toBeGreaterThanOrEqual(0);
    expect(await sample('sealgate_held_recipients{reason="operator"}')).toBeUndefined();

    const held = await runCli(['-c', setup.configPath, 'queue', 'hold', id]);
    expect(held.code).toBe(0);
    expect(await sample('sealgate_held_recipients{reason="operator"}')).toBe(1);
    expect(await sample('sealgate_queue_oldest_age_seconds{kind="held"}')).toBeGreaterThanOrEqual(0);
    expect(await sample('sealgate_queue_oldest_age_seconds{kind="active"}')).toBeUndefined();
    // nothing from the message in the scrape
    expect((await get('/metrics')).body).not.toMatch(/nowhere|alice|later@/);
  });
});
