/**
 * The alert monitor over a real database and spool, with the clock
 * injected: causes from audit events, the TLS failure counter, the queue,
 * the disk, the chain and certificate files; one alert per cause per
 * period (repeats counted); the alert mail queued for delivery and its
 * content free of anything from a message.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertMonitor } from '../../src/alerts/monitor.js';
import { appendAudit } from '../../src/audit/log.js';
import { jobGate } from '../../src/cluster/job-lease.js';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { createResolver } from '../../src/delivery/dns.js';
import { Spool } from '../../src/spool/spool.js';
import { generateCa, issueCertificate } from '../../src/tls/x509.js';

const T0 = Date.parse('2026-12-05T12:00:00Z');

let dir: string;
let db: Database;
let spool: Spool;
let metrics: Metrics;
let clock: number;
let free: number;
let config: Config;

function makeConfig(alerts: Record<string, unknown>, certFile?: string): Config {
  return validateConfig(
    {
      dataDir: join(dir, 'data'),
      smtp: { listeners: certFile ? [{ name: 'relay', host: '127.0.0.1', port: 0, tls: 'starttls', certFile, keyFile: certFile }] : [{ name: 'relay', host: '127.0.0.1', port: 0, tls: 'none' }], minFreeBytes: 64 * 1024 * 1024, maxMessageBytes: 40 * 1024 * 1024 },
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'] }],
      keys: { masterKeyFile: join(dir, 'master.key') },
      alerts,
    },
    'test',
  );
}

function monitor(mayRun?: () => Promise<boolean>): AlertMonitor {
  return new AlertMonitor({
    db,
    spool,
    config: () => config,
    log: createLogger({ level: 'silent', pretty: false }),
    now: () => clock,
    random: randomBytes,
    hostname: 'gw.test',
    spoolKeyId: () => 'k1',
    metrics,
    availableBytes: () => Promise.resolve(free),
    webhook: { resolver: createResolver({ servers: ['127.0.0.1:1'] }), trustedCas: [] },
    mayRun,
  });
}

async function raised(): Promise<{ kind: string; key: string; severity: string; channels: string[]; queueId?: string; suppressed: number }[]> {
  return (await db.all<{ data: string }>("SELECT data FROM audit_log WHERE type = 'alert:raised' ORDER BY seq")).map((r) => JSON.parse(r.data) as { kind: string; key: string; severity: string; channels: string[]; queueId?: string; suppressed: number });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-alerts-'));
  db = await Database.open(join(dir, 'db.sqlite'));
  await migrate(db);
  spool = new Spool(join(dir, 'spool'), new Keyring(masterKeyFromBytes(randomBytes(32))));
  await spool.init();
  metrics = new Metrics();
  clock = T0;
  free = 100 * 1024 ** 3;
  config = makeConfig({ to: ['ops@example.org'] });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('AlertMonitor', () => {
  it('starts at the head of the audit log: earlier events raise nothing; later ones do, once per domain per period, repeats counted', async () => {
    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q0', domain: 'old.test', remembered: 'verify', mx: 'mx.old.test' } }, clock);
    const m = monitor();
    await m.pass();
    expect(await raised()).toEqual([]);

    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q1', domain: 'posture.test', remembered: 'verify', mx: 'mx.posture.test' } }, clock);
    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q2', domain: 'posture.test', remembered: 'verify', mx: 'mx.posture.test' } }, clock);
    clock += 60_000;
    await m.pass();
    const first = await raised();
    expect(first).toEqual([{ kind: 'posture-downgrade', key: 'posture-downgrade:posture.test', severity: 'critical', channels: ['mail'], queueId: expect.any(String) as string, suppressed: 0 }]);
    // the alert mail is queued for ops@, from the null sender, already inspected
    const queued = await db.all('SELECT r.address, m.sender, m.connector, m.inspected FROM messages m JOIN recipients r ON r.message_id = m.id WHERE m.id = ?', [first[0]?.queueId ?? '']);
    expect(queued).toEqual([{ address: 'ops@example.org', sender: '', connector: 'internal', inspected: 1 }]);

    // the same cause within the period: counted, not sent
    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q3', domain: 'posture.test', remembered: 'verify', mx: 'mx.posture.test' } }, clock);
    clock += 60_000;
    await m.pass();
    expect(await raised()).toHaveLength(1);
    expect(await db.get('SELECT suppressed FROM alert_state WHERE cause_key = ?', ['posture-downgrade:posture.test'])).toEqual({ suppressed: 1 });

    // after the period: sent again, with the count of repeats
    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q4', domain: 'posture.test', remembered: 'verify', mx: 'mx.posture.test' } }, clock);
    clock += 3_600_000;
    await m.pass();
    expect((await raised()).map((r) => r.suppressed)).toEqual([0, 1]);
  });

  it('DLP blocks, TLS enforcement failures over the threshold, queue backlog and age, and low disk each raise their cause', async () => {
    config = makeConfig({ to: ['ops@example.org'], tlsFailures: 3, queueBacklog: 1, oldestMessage: '1h' });
    const m = monitor();
    await m.pass();
    await appendAudit(db, { type: 'inspect:verdict', data: { queueId: 'q1', phi: 'true', categories: ['ssn'], notFullyScanned: 'false', protection: 'block', methods: ['block'] } }, clock);
    await appendAudit(db, { type: 'inspect:verdict', data: { queueId: 'q2', phi: 'false', categories: [], notFullyScanned: 'false', protection: 'none', methods: ['tls-opportunistic'] } }, clock);
    metrics.inc('sealgate_tls_enforcement_failures_total', {}, 2);
    await db.exec(`INSERT INTO messages (id, created_at, sender, size, spool_key_id, listener, connector, client_ip, helo, body_type) VALUES ('qa', ${T0 - 2 * 3_600_000}, 'a@example.com', 10, 'k1', 'relay', 'loopback', '127.0.0.1', 'h', '7BIT')`);
    await db.exec(`INSERT INTO recipients (message_id, seq, address, domain, state, next_attempt) VALUES ('qa', 1, 'x@one.test', 'one.test', 'deferred', 0), ('qa', 2, 'y@two.test', 'two.test', 'queued', 0)`);
    free = 70 * 1024 * 1024;
    await m.pass();
    expect((await raised()).map((r) => r.kind).sort()).toEqual(['dlp-blocks', 'low-disk', 'queue-age', 'queue-backlog']);
    // the third failure within the period crosses the threshold
    metrics.inc('sealgate_tls_enforcement_failures_total');
    clock += 60_000;
    await m.pass();
    expect((await raised()).map((r) => r.kind)).toContain('tls-failures');
    // nothing from the messages (addresses, domains of recipients) in any alert mail
    const ids = (await raised()).map((r) => r.queueId ?? '');
    for (const id of ids) {
      const text = Buffer.concat(await spool.read(id).toArray()).toString('utf8');
      expect(text).not.toMatch(/one\.test|two\.test|a@example\.com|ssn/);
    }
  });

  it('a changed audit row is found by the periodic full verification', async () => {
    config = makeConfig({ to: ['ops@example.org'], chainVerifyInterval: '1h' });
    for (let i = 0; i < 5; i++) await appendAudit(db, { type: 'daemon:stopped', data: { reason: `r${i}` } }, clock);
    const m = monitor();
    await m.pass();
    expect(await raised()).toEqual([]);
    await db.run("UPDATE audit_log SET data = '{\"reason\":\"altered\"}' WHERE seq = 2");
    clock += 60_000;
    await m.pass(); // new links only: the old row is not read again
    expect(await raised()).toEqual([]);
    clock += 3_600_000;
    await m.pass();
    expect((await raised()).map((r) => r.key)).toEqual(['audit-chain']);
  });

  it('a listener certificate expiring within alerts.certificateExpiry raises its cause', async () => {
    const ca = await generateCa({ commonName: 'Alerts Test CA' });
    const leaf = await issueCertificate(ca, { commonName: 'gw.test', dnsNames: ['gw.test'], usage: 'server', validityDays: 10 });
    const file = join(dir, 'server.pem');
    await writeFile(file, leaf.certPem + leaf.keyPem);
    config = makeConfig({ to: ['ops@example.org'] }, file);
    clock = Date.now();
    await monitor().pass();
    const r = await raised();
    expect(r.map((x) => [x.key, x.severity])).toEqual([['certificate-expiry:smtp listener relay', 'warning']]);
  });

  it('without mail recipients the webhook channel alone is recorded; nothing is queued', async () => {
    config = makeConfig({ webhookUrl: 'https://hook.test:1/alerts' });
    free = 1;
    await monitor().pass();
    expect((await raised()).map((r) => [r.kind, r.channels, r.queueId])).toEqual([['low-disk', ['webhook'], undefined]]);
    expect(await db.all('SELECT id FROM messages')).toEqual([]);
  });
});

describe('AlertMonitor with several nodes', () => {
  it("only the node holding the alerts job's lease reads the audit trail and the queue; every node checks its own disk", async () => {
    const gate = (node: string) => jobGate(db, 'alerts', node, () => 180_000, () => clock, (err) => { throw err; });
    const [one, two] = [monitor(gate('gw1/1/aa')), monitor(gate('gw2/2/bb'))];
    await one.pass();
    await two.pass();
    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q1', domain: 'posture.test', remembered: 'verify', mx: 'mx.posture.test' } }, clock);
    clock += 60_000;
    // gw2 passes first, but gw1 holds the lease (renewed at each of its passes): gw2 sees nothing shared
    await two.pass();
    expect(await raised()).toEqual([]);
    await one.pass();
    expect((await raised()).map((r) => r.key)).toEqual(['posture-downgrade:posture.test']);
    // a disk running low on gw2 is gw2's to see, whoever holds the job
    free = 1024;
    clock += 60_000;
    await two.pass();
    expect((await raised()).map((r) => r.kind)).toEqual(['posture-downgrade', 'low-disk']);
    // gw1 stops beating (died): past its lease gw2 takes the job and reads on from the shared cursor
    free = 100 * 1024 ** 3;
    await appendAudit(db, { type: 'delivery:posture_downgrade', data: { queueId: 'q2', domain: 'other.test', remembered: 'verify', mx: 'mx.other.test' } }, clock);
    clock += 180_001;
    await two.pass();
    expect((await raised()).map((r) => r.key)).toEqual(['posture-downgrade:posture.test', 'low-disk', 'posture-downgrade:other.test']);
  });
});
