/**
 * One gateway node on PostgreSQL (store.kind: postgres, a private server
 * from test/helpers/postgres.ts) and an S3-compatible object store (s3rver,
 * test/helpers/s3-server.ts), the built CLI and daemon, a loopback MX sink:
 *   - `sealgate start` refuses a database whose schema is behind (one line
 *     naming `sealgate db migrate`) and local objects (the console on
 *     PostgreSQL: console-postgres.test.ts);
 *   - after `sealgate db migrate`, the node accepts small messages (their
 *     content in the database) and a large one (in the bucket), inspects,
 *     archives and delivers every one, intact, and the queue empties;
 *   - the audit chain and the archive verify on the PostgreSQL database,
 *     and `sealgate nodes` lists the node live.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryKeyOf, readArchiveContent } from '../../src/archive/content.js';
import { pendingAware } from '../../src/archive/pending.js';
import { verifyArchive } from '../../src/archive/verify.js';
import { loadConfig } from '../../src/config/load.js';
import { openObjectStore } from '../../src/objects/open.js';
import { openKeyring } from '../../src/runtime/stores.js';
import { verifyAuditChain } from '../../src/audit/log.js';
import type { NodesReport } from '../../src/cli/commands/nodes.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { startSharedStores, type SharedStores } from '../helpers/shared-stores.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

const INLINE_MAX = 8192;
let shared: SharedStores;
let setup: TestSetup;
let mx: MxServer;
let zone: DnsZone;
let gw: RunningGateway | undefined;

function message(marker: string, kib: number): string {
  const line = `${marker} ${'x'.repeat(60)}`;
  const lines = Array.from({ length: Math.max(1, Math.ceil((kib * 1024) / (line.length + 2))) }, () => line);
  return ['From: alice@example.com', 'To: bob@example.net', `Subject: on PostgreSQL ${marker}`, `Message-ID: <${randomUUID()}@example.com>`, '', ...lines, ''].join('\r\n');
}

async function writeConfig(extra: Record<string, unknown> = {}): Promise<void> {
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      store: shared.store(),
      objects: shared.objects('nodes/', { maxAttempts: 1, timeout: '10s' }),
      queue: { inlineMaxBytes: INLINE_MAX },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1s'] } },
      tls: { mtaSts: { enabled: false } },
      keys: { masterKeyFile: setup.masterKeyFile, discovery: { wkd: false, dns: false } },
      ...extra,
    },
  });
}

async function openPg(): Promise<PostgresDatabase> {
  return PostgresDatabase.open({ url: shared.pg.url, password: shared.pg.password, poolSize: 2 });
}

beforeAll(async () => {
  shared = await startSharedStores();
  mx = await startMxServer({ ip: '127.0.0.127', port: 0 });
  zone = await startDnsZone([
    { name: 'example.net', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.127' },
  ]);
  setup = await setupGateway({});
  await writeConfig();
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
  await shared?.stop();
});

describe('a gateway node on PostgreSQL and an S3-compatible store', () => {
  it('refuses to start on a schema that is behind and on local objects; each in one line', async () => {
    const behind = await runCli(['-c', setup.configPath, 'start']);
    expect(behind.code).not.toBe(0);
    expect(behind.stderr.trim().split('\n')).toHaveLength(1);
    expect(behind.stderr).toMatch(/schema version 0 of \d+: run sealgate db migrate/);

    await writeConfig({ objects: { kind: 'local' } });
    const local = await runCli(['-c', setup.configPath, 'start']);
    expect(local.code).not.toBe(0);
    expect(local.stderr).toMatch(/^sealgate: objects\.kind: .*set objects\.kind: s3/);
    await writeConfig();
  });

  it('after db migrate: accepts, inspects, archives and delivers small and large messages; the queue empties', async () => {
    const migrated = await runCli(['-c', setup.configPath, 'db', 'migrate', '--json']);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    gw = await startGateway(setup.configPath);
    await gw.waitForEvent('DAEMON_READY', 60_000);
    const running = gw;
    const sent = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const marker = `PG-NODE-${i}-${randomUUID().slice(0, 8)}`;
      // every fourth message is larger than the inline limit: its content goes to the bucket
      const id = await sendMessage(running.port, 'alice@example.com', ['bob@example.net'], message(marker, i % 4 === 3 ? 64 : 1));
      expect(id).not.toBe('');
      sent.set(marker, id);
    }
    await until('every message delivered', () => [...sent.keys()].every((marker) => mx.received.some((m) => m.body.includes(Buffer.from(marker)))), { timeoutMs: 90_000, context: () => running.stdout.slice(-3000) });
    const db = await openPg();
    try {
      await until('the queue empty', async () => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n === 0, { timeoutMs: 60_000, context: () => running.stdout.slice(-3000) });
      const delivered = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM finished_messages");
      expect(delivered?.n).toBe(sent.size);
      expect(await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM archive_messages')).toEqual({ n: sent.size });
      // the small ones' contents were sealed ahead into packs whose pieces went in with their verdicts: the packs are stored
      // in the bucket and no piece is left pending; every entry reads back what was sent
      await until('no archive piece pending', async () => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM archive_pending'))?.n === 0, { timeoutMs: 30_000, context: () => running.stdout.slice(-3000) });
      const config = loadConfig(setup.configPath).config;
      const objects = await openObjectStore(config);
      const keyring = await openKeyring(config, false);
      try {
        for (const [marker, id] of sent) {
          const row = await db.get<{ id: string; object_key: string; object_offset: number; object_length: number; wrapped_key: Buffer; key_id: string }>('SELECT id, object_key, object_offset, object_length, wrapped_key, key_id FROM archive_messages WHERE id = ?', [id]);
          if (!row) throw new Error(`no archive entry for ${id}`);
          const chunks: Buffer[] = [];
          for await (const c of readArchiveContent(pendingAware(objects, db), keyring, entryKeyOf({ ...row, object_offset: Number(row.object_offset), object_length: Number(row.object_length) }))) chunks.push(c as Buffer);
          expect(Buffer.concat(chunks).includes(Buffer.from(marker)), marker).toBe(true);
        }
      } finally {
        objects.close();
      }
    } finally {
      await db.close();
    }
    for (const [marker] of sent) {
      const got = mx.received.filter((m) => m.body.includes(Buffer.from(marker)));
      expect(got).toHaveLength(1);
    }
  });

  it('the audit chain and the archive verify on PostgreSQL; sealgate nodes lists the node live', async () => {
    const db = await openPg();
    try {
      const chain = await verifyAuditChain(db);
      expect(chain.ok).toBe(true);
      const archive = await verifyArchive(db, { now: Date.now() });
      expect(archive).toMatchObject({ ok: true, messages: 12 });
    } finally {
      await db.close();
    }
    const r = await runCli(['-c', setup.configPath, 'nodes', '--json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as NodesReport;
    expect(report.nodes.map((n) => [n.state, n.address])).toEqual([['live', `127.0.0.1:${(gw as RunningGateway).port}`]]);
  });
});
