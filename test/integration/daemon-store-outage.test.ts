/**
 * A node whose database or object store goes away (issue 19, docs/scale-out.md
 * "When a store is down"): the built daemon on a private PostgreSQL
 * (test/helpers/postgres.ts) and s3rver (test/helpers/s3-server.ts), a
 * loopback MX sink.
 *   - PostgreSQL stopped: a message gets 451 4.3.0, /readyz answers 503 naming
 *     "database"; PostgreSQL started again on the same port and data: /readyz
 *     200, the next message gets 250 and both it and the earlier ones are
 *     delivered, without restarting the node;
 *   - s3rver stopped: a message over queue.inlineMaxBytes (its content goes to
 *     the bucket) gets 451 4.3.0 while a small one (content in the database)
 *     is still accepted; /readyz answers 503 naming "objects"; s3rver back:
 *     /readyz 200, the large message gets 250, everything is delivered;
 *   - the node never exits, and each outage is logged once, not per retry.
 * s3rver's limits are listed in test/helpers/s3-server.ts; none matters here
 * (no multipart: the large message is under 5 MiB).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { startSharedStores, type SharedStores } from '../helpers/shared-stores.js';
import { dataPayload, queueIdOf, RawSmtp, type Reply } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

const INLINE_MAX = 8192;
let shared: SharedStores;
let pg: SharedStores['pg'];
let s3: SharedStores['s3'];
let setup: TestSetup;
let mx: MxServer;
let zone: DnsZone;
let gw: RunningGateway;
let metricsPort: number;

interface Readyz {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

function message(marker: string, kib: number): string {
  const line = `${marker} ${'x'.repeat(60)}`;
  const lines = Array.from({ length: Math.max(1, Math.ceil((kib * 1024) / (line.length + 2))) }, () => line);
  return ['From: alice@example.com', 'To: bob@example.net', `Subject: outage ${marker}`, `Message-ID: <${randomUUID()}@example.com>`, '', ...lines, ''].join('\r\n');
}

/** One message through a fresh session; the reply to its DATA (or to the first command refused before it). */
async function send(marker: string, kib: number): Promise<Reply> {
  const { client, greeting } = await RawSmtp.connect(gw.port);
  try {
    if (greeting.code !== 220) return greeting;
    for (const line of ['EHLO client.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.net>']) {
      const r = await client.command(line);
      if (r.code >= 400) return r;
    }
    return await client.data(dataPayload(message(marker, kib)));
  } finally {
    await client.quit().catch(() => undefined);
    client.destroy();
  }
}

/** The value of sealgate_store_up for `store` in a /metrics scrape (undefined: absent). */
async function storeUp(store: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`sealgate_store_up{store="${store}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function readyz(): Promise<{ status: number; body: Readyz }> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
  return { status: res.status, body: JSON.parse(await res.text()) as Readyz };
}

const delivered = (marker: string): boolean => mx.received.some((m) => m.body.includes(Buffer.from(marker)));
const context = (): string => `stdout: ${gw.stdout.slice(-3000)} stderr: ${gw.stderr.slice(-1000)}`;
const events = (name: string, from: number, level?: number): number => gw.logLines().slice(from).filter((l) => l.event === name && (level === undefined || l.level === level)).length;
const ERROR = 50;

beforeAll(async () => {
  shared = await startSharedStores();
  ({ pg, s3 } = shared);
  mx = await startMxServer({ ip: '127.0.0.127', port: 0 });
  zone = await startDnsZone([
    { name: 'example.net', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.127' },
  ]);
  setup = await setupGateway({});
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      // a short statement timeout and connect timeout: nothing waits long on a database that is away
      store: shared.store({ heartbeat: '1s', statementTimeout: '5s' }),
      objects: shared.objects('nodes/', { maxAttempts: 1, timeout: '5s' }),
      queue: { inlineMaxBytes: INLINE_MAX },
      metrics: { enabled: true, host: '127.0.0.1', port: 0, readyTimeout: '2s' },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1s'] } },
      tls: { mtaSts: { enabled: false } },
      keys: { masterKeyFile: setup.masterKeyFile, discovery: { wkd: false, dns: false } },
      // the alert monitor runs (under its job lease): it too must ride out the outage
      alerts: { to: ['ops@example.net'], checkInterval: '2s' },
    },
  });
  const migrated = await runCli(['-c', setup.configPath, 'db', 'migrate', '--json']);
  if (migrated.code !== 0) throw new Error(`db migrate failed: ${migrated.stderr}`);
  gw = await startGateway(setup.configPath);
  metricsPort = (await gw.waitForEvent('METRICS_LISTENING')).port as number;
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
  await shared?.stop();
});

describe('a node whose database or object store is down', () => {
  it('is ready with the database and the object store checked, and delivers', async () => {
    const r = await readyz();
    expect(r.status).toBe(200);
    expect(r.body.checks.database).toEqual({ ok: true });
    expect(r.body.checks.objects).toEqual({ ok: true });
    expect(await storeUp('database')).toBe(1);
    expect(await storeUp('objects')).toBe(1);
    const marker = `BEFORE-${randomUUID().slice(0, 8)}`;
    expect((await send(marker, 1)).code).toBe(250);
    await until('the first message delivered', () => delivered(marker), { timeoutMs: 60_000, context });
  });

  it('PostgreSQL stopped: 451 4.3.0 and not ready on "database"; started again: 250, ready, delivered, the node never exited', async () => {
    const from = gw.logLines().length;
    await pg.kill();
    const down = await until('/readyz not ready on the database', async () => {
      const r = await readyz();
      return r.status === 503 && r.body.checks.database?.ok === false ? r : undefined;
    }, { timeoutMs: 60_000, context });
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.database?.detail).toBeTruthy();
    // the rest of the node is fine: only the database is named
    expect(down.body.checks.objects).toEqual({ ok: true });
    for (const kib of [1, 64]) {
      const refused = await send(`DURING-PG-${kib}-${randomUUID().slice(0, 8)}`, kib);
      expect(refused.code).toBe(451);
      expect(refused.text).toMatch(/^451 4\.3\.0 /);
    }
    // the background stages retry while it is away: each failing pass after the first is logged at debug only
    await until('the delivery loop, the checkpoint writer and the alert lease failed at least twice', () => ['DELIVERY_LOOP_ERROR', 'ARCHIVE_CHECKPOINT_FAILED', 'JOB_LEASE_FAILED'].every((name) => events(name, from) >= 2), { timeoutMs: 60_000, context });
    for (const name of ['DELIVERY_LOOP_ERROR', 'ARCHIVE_CHECKPOINT_FAILED', 'JOB_LEASE_FAILED', 'AUDIT_WRITE_FAILED', 'NODE_HEARTBEAT_FAILED']) expect(events(name, from, ERROR)).toBeLessThanOrEqual(1);
    expect((await readyz()).status).toBe(503);
    // /metrics still answers (the queue gauges, read from the database, are left out) and says the database is down
    await until('the outage logged', () => events('DATABASE_UNAVAILABLE', from) === 1, { timeoutMs: 30_000, context });
    expect(await storeUp('database')).toBe(0);

    await pg.start();
    await until('/readyz ready again', async () => ((await readyz()).status === 200 ? true : undefined), { timeoutMs: 60_000, context });
    const small = `AFTER-PG-${randomUUID().slice(0, 8)}`;
    const large = `AFTER-PG-L-${randomUUID().slice(0, 8)}`;
    const smallReply = await send(small, 1);
    expect(smallReply.code).toBe(250);
    expect(queueIdOf(smallReply)).toBeDefined();
    expect((await send(large, 64)).code).toBe(250);
    await until('the messages after the outage delivered', () => delivered(small) && delivered(large), { timeoutMs: 90_000, context });
    // refused messages were never queued, so never delivered
    expect(mx.received.some((m) => m.body.includes(Buffer.from('DURING-PG-')))).toBe(false);
    expect(gw.proc.exitCode).toBeNull();
    // the outage and the recovery are each told once, not once per retry
    expect(events('DATABASE_UNAVAILABLE', from)).toBe(1);
    await until('sealgate_store_up back to 1', async () => (await storeUp('database')) === 1, { timeoutMs: 30_000, context });
    await until('the recovery logged', () => events('DATABASE_AVAILABLE', from) === 1, { timeoutMs: 30_000, context });
    await until('the stages told they work again', () => events('STAGE_RECOVERED', from) >= 2, { timeoutMs: 30_000, context });
  });

  it('s3rver stopped: a large message gets 451 4.3.0, a small one is accepted, not ready on "objects"; s3rver back: 250, ready, all delivered', async () => {
    const from = gw.logLines().length;
    await s3.kill();
    const down = await until('/readyz not ready on the object store', async () => {
      const r = await readyz();
      return r.status === 503 && r.body.checks.objects?.ok === false ? r : undefined;
    }, { timeoutMs: 60_000, context });
    expect(down.body.checks.database).toEqual({ ok: true });
    await until('the outage logged', () => events('OBJECT_STORE_UNAVAILABLE', from) === 1, { timeoutMs: 30_000, context });
    expect(await storeUp('objects')).toBe(0);
    const refused = await send(`DURING-S3-L-${randomUUID().slice(0, 8)}`, 64);
    expect(refused.code).toBe(451);
    expect(refused.text).toMatch(/^451 4\.3\.0 /);
    // a small message needs no object: its content commits with the rows
    const small = `DURING-S3-S-${randomUUID().slice(0, 8)}`;
    expect((await send(small, 1)).code).toBe(250);

    await s3.start();
    await until('/readyz ready again', async () => ((await readyz()).status === 200 ? true : undefined), { timeoutMs: 60_000, context });
    const large = `AFTER-S3-L-${randomUUID().slice(0, 8)}`;
    expect((await send(large, 64)).code).toBe(250);
    await until('the messages of and after the outage delivered', () => delivered(small) && delivered(large), { timeoutMs: 90_000, context });
    expect(mx.received.some((m) => m.body.includes(Buffer.from('DURING-S3-L-')))).toBe(false);
    expect(gw.proc.exitCode).toBeNull();
    expect(events('OBJECT_STORE_UNAVAILABLE', from)).toBe(1);
    await until('the recovery logged', () => events('OBJECT_STORE_AVAILABLE', from) === 1, { timeoutMs: 30_000, context });
  });
});
