/**
 * `sealgate migrate --to-config FILE` end to end: a single node's data
 * directory made the honest way (a daemon on SQLite with the local object
 * store relays mail: a delivered message, a portal deposit with its archive
 * entry, their audit events, posture memory, finished messages), copied into
 * a real PostgreSQL (test/helpers/postgres.ts) and the real S3 test server
 * (s3rver, test/helpers/s3-server.ts names its limits), then checked here
 * independently of the command: the rows read back from PostgreSQL, the
 * audit chain verified there with the source's last hash, every object's
 * bytes in the bucket. Also: a copy stopped after a few batches (and one
 * stopped among the objects) and resumed gives the same tables and objects;
 * a row changed in the target afterwards fails the next run's verification;
 * a running gateway, a target at another schema version and a queued message
 * whose content is in neither the database nor dataDir/spool are refused.
 * Then a node with mail queued (its MX answering 451): a message larger than
 * queue.inlineMaxBytes (a file of dataDir/spool) and, with gpg, one with an
 * end-to-end copy (a file of its copy directory) are carried to the bucket's
 * spool/ keys byte for byte; a second run copies nothing and verifies; a node
 * started on the shared stores delivers both once the MX accepts, the large
 * one's body byte-identical, the copy decrypting to the original.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/log.js';
import { loadConfig } from '../../src/config/load.js';
import { Database } from '../../src/db/database.js';
import { migrateToShared, type MigrationReport } from '../../src/db/migrate-to-shared.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migrate, SCHEMA_VERSION } from '../../src/db/schema.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { openObjectStore } from '../../src/objects/open.js';
import type { ObjectStore } from '../../src/objects/object-store.js';
import { gpgDecrypt } from '../e2e/gpg.js';
import { makePgpFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { filePaths } from '../helpers/files.js';
import { haveTool } from '../helpers/peers.js';
import { buildConfig, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { phiMail } from '../helpers/phi-mail.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startS3Server, type TestS3 } from '../helpers/s3-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let pg: TestPostgres;
let s3: TestS3;
let setup: TestSetup;
let gw: RunningGateway | undefined;
let mx: MxServer;
let zone: DnsZone;
let pwFile: string;
let s3SecretFile: string;

/** The CLI with neither the database password nor S3 keys in its environment: the target config's files carry them. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { SEALGATE_DB_PASSWORD: _a, AWS_ACCESS_KEY_ID: _b, AWS_SECRET_ACCESS_KEY: _c, ...env } = process.env;
  return runCli(['-c', setup.configPath, ...args], { env });
}

let targets = 0;
/** A config for the nodes: a new empty database on the test server (or `url`), objects under a new prefix of the bucket. */
async function targetConfig(url?: string): Promise<{ file: string; url: string; prefix: string }> {
  const n = ++targets;
  const db = url ?? (await pg.createDatabase());
  const prefix = `node-${n}/`;
  const file = join(setup.dir, `target-${n}.yaml`);
  const config = buildConfig(setup.dir, {
    extra: {
      dataDir: join(setup.dir, `target-data-${n}`),
      store: { kind: 'postgres', url: db, passwordFile: pwFile, tls: { mode: 'disable' } },
      objects: { kind: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, prefix, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: s3SecretFile } },
    },
  });
  await writeFile(file, stringify(config));
  return { file, url: db, prefix };
}

async function hashes(store: ObjectStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const key of store.list('')) {
    const h = createHash('sha256');
    for await (const c of store.get(key)) h.update(c as Buffer);
    out.set(key, h.digest('hex'));
  }
  return out;
}

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3Server()]);
  mx = await startMxServer({ ip: '127.0.0.123', port: 0 });
  zone = await startDnsZone([
    { name: 'gmail.com', type: 'MX', exchange: 'mx.consumer.test', priority: 10 },
    { name: 'partner.test', type: 'MX', exchange: 'mx.consumer.test', priority: 10 },
    { name: 'mx.consumer.test', type: 'A', address: '127.0.0.123' },
  ]);
  setup = await setupGateway({});
  pwFile = join(setup.dir, 'db-password');
  await writeFile(pwFile, `${pg.password}\n`, { mode: 0o600 });
  s3SecretFile = join(setup.dir, 's3-secret');
  await writeFile(s3SecretFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { mtaSts: { enabled: false } },
      inspection: { threads: 0 },
      portal: { enabled: true, publicUrl: 'https://portal.gw.test', listen: { host: '127.0.0.1', port: 0 } },
    },
  });
  gw = await startGateway(setup.configPath);
  const ids = [
    await sendMessage(gw.port, 'alice@example.com', ['jane.roe@gmail.com'], phiMail({ from: 'alice@example.com', to: 'jane.roe@gmail.com', subject: 'Lab results', bodyMarker: 'MIGRATE-PORTAL-1', attachmentName: 'r.txt', attachmentType: 'text/plain', attachment: Buffer.from('Report\r\n') })),
    await sendMessage(gw.port, 'alice@example.com', ['bob@partner.test', 'carol@partner.test'], 'Subject: hello\r\n\r\nNothing sensitive.\r\n'),
    await sendMessage(gw.port, 'alice@example.com', ['dave@partner.test'], `Subject: big\r\n\r\n${'x'.repeat(300_000)}\r\n`),
  ];
  for (const id of ids) await until(`message ${id} finished`, () => gw?.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === id), { timeoutMs: 60_000, context: () => gw?.stdout.slice(-3000) ?? '' });
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
  await s3?.stop();
  await pg?.stop();
});

describe('sealgate migrate', () => {
  it('refuses while the gateway runs, in one line, and copies nothing', async () => {
    const target = await targetConfig();
    const r = await cli(['migrate', '--to-config', target.file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^sealgate: the gateway is running \(.*sealgate\.db is in use by another process\): stop it .* then run sealgate migrate again\n$/);
    const db = await PostgresDatabase.open({ url: target.url, password: pg.password, poolSize: 1 });
    try {
      expect((await db.get<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t"))?.t).toBeNull();
    } finally {
      await db.close();
    }
    await gw?.stop();
    gw = undefined;
  });

  it('refuses a target database at another schema version', async () => {
    const url = await pg.createDatabase();
    const db = await PostgresDatabase.open({ url, password: pg.password, poolSize: 1 });
    try {
      await migratePostgres(db);
      await db.run('INSERT INTO schema_version (version, applied_at, sealgate) VALUES (?, ?, ?)', [SCHEMA_VERSION + 1, Date.now(), 'a newer sealgate']);
    } finally {
      await db.close();
    }
    const r = await cli(['migrate', '--to-config', (await targetConfig(url)).file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sealgate: the target database is at schema version ${SCHEMA_VERSION + 1}, the source at ${SCHEMA_VERSION}: they must be the same (upgrade the source with a newer sealgate, or use an empty database)\n`);
  });

  let whole: MigrationReport;

  it('copies every table and object, verifies them, and says done; the copy checks out read back independently', async () => {
    const target = await targetConfig();
    const r = await cli(['migrate', '--to-config', target.file, '--json', '--batch-rows', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    whole = JSON.parse(r.stdout) as MigrationReport;
    expect(whole.ok).toBe(true);
    expect(whole.schemaVersion).toBe(SCHEMA_VERSION);
    expect(whole.tables.every((t) => t.ok)).toBe(true);
    const rows = new Map(whole.tables.map((t) => [t.table, t.targetRows]));
    // the node's work is there: many tables with rows
    for (const t of ['audit_log', 'archive_messages', 'archive_recipients', 'portal_messages', 'portal_recipients', 'finished_messages', 'gateway_keys']) expect(rows.get(t), t).toBeGreaterThan(0);
    expect(whole.tables.filter((t) => t.targetRows > 0).length).toBeGreaterThanOrEqual(10);
    expect(whole.rowsCopied).toBe(whole.tables.reduce((a, t) => a + t.sourceRows, 0));
    expect(whole.objects).toMatchObject({ ok: true, shared: false, skipped: 0, missing: [], different: [], extra: [] });
    expect(whole.objects.copied).toBeGreaterThanOrEqual(2);
    // the queue had drained: no spool blob to carry
    expect(whole.spool).toMatchObject({ files: true, objects: 0, messages: 0, copied: 0, ok: true, missing: [], different: [], extra: [] });
    expect(whole.audit).toMatchObject({ ok: true });
    expect(whole.audit.targetLastHash).toBe(whole.audit.sourceLastHash);
    expect(whole.archive.ok).toBe(true);
    expect(r.stdout).not.toContain(pg.password);
    expect(r.stdout).not.toContain(s3.secretAccessKey);

    // read back without the command: the same row counts and audit chain on PostgreSQL as in the SQLite file
    const source = await Database.open(join(setup.dataDir, 'sealgate.db'), { readOnly: true });
    const copy = await PostgresDatabase.open({ url: target.url, password: pg.password, poolSize: 2 });
    try {
      for (const t of whole.tables) {
        const a = await source.get<{ n: number }>(`SELECT count(*) AS n FROM ${t.table}`);
        const b = await copy.get<{ n: number }>(`SELECT count(*) AS n FROM ${t.table}`);
        expect(b?.n, t.table).toBe(a?.n);
      }
      const chainA = await verifyAuditChain(source);
      const chainB = await verifyAuditChain(copy);
      expect(chainB).toEqual(chainA);
      expect(chainB.ok).toBe(true);
      const blobA = await source.all<{ id: string; wrapped_key: Buffer }>('SELECT * FROM archive_messages ORDER BY id');
      const blobB = await copy.all<{ id: string }>('SELECT * FROM archive_messages ORDER BY id COLLATE "C"');
      expect(blobB).toEqual(blobA);
    } finally {
      await copy.close();
      await source.close();
    }
    // every object in the bucket under the target's prefix, byte for byte
    const sourceConfig = loadConfig(setup.configPath).config;
    const local = await openObjectStore(sourceConfig);
    const bucket = await openObjectStore(loadConfig(target.file).config);
    const want = await hashes(local);
    expect(want.size).toBe(whole.objects.objects);
    expect(await hashes(bucket)).toEqual(want);
    bucket.close();

    // run again: nothing left to copy, everything verified again
    const again = await cli(['migrate', '--to-config', target.file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`objects: ${want.size} (0 copied, ${want.size} already there), SHA-256 equal for every object`);
    expect(again.stdout).toMatch(/\ndone: 0 rows copied by this run; every table, object and the audit chain verified\n$/);
    expect(again.stdout).toMatch(/\naudit_log +\d+ +\d+ +[0-9a-f]{16} +ok\n/);
  });

  it('a copy stopped after a few batches, then again among the objects, resumes to the same tables and objects', async () => {
    const target = await targetConfig();
    const source = loadConfig(setup.configPath).config;
    const to = loadConfig(target.file).config;
    let batches = 0;
    const stop = new Error('stopped by the test');
    await expect(migrateToShared({ source, target: to, batchRows: 2, afterBatch: () => { if (++batches === 5) throw stop; } })).rejects.toBe(stop);
    const db = await PostgresDatabase.open({ url: target.url, password: pg.password, poolSize: 1 });
    try {
      const progress = await db.all<{ rows_copied: number; done: number }>('SELECT rows_copied, done FROM sealgate_migration');
      expect(progress.reduce((a, p) => a + p.rows_copied, 0)).toBeGreaterThan(0);
      expect(progress.some((p) => p.done === 0)).toBe(true);
    } finally {
      await db.close();
    }

    let objects = 0;
    await expect(migrateToShared({ source, target: to, batchRows: 2, afterObject: () => { if (++objects === 1) throw stop; } })).rejects.toBe(stop);

    const r = await cli(['migrate', '--to-config', target.file, '--json', '--batch-rows', '2']);
    expect(r.code).toBe(0);
    const resumed = JSON.parse(r.stdout) as MigrationReport;
    expect(resumed.ok).toBe(true);
    expect(resumed.rowsCopied).toBe(0);
    expect(resumed.objects.skipped).toBe(1);
    expect(resumed.objects.copied).toBe(whole.objects.objects - 1);
    // the same content as the copy that never stopped
    expect(resumed.tables.map((t) => [t.table, t.targetRows, t.targetSha256])).toEqual(whole.tables.map((t) => [t.table, t.targetRows, t.targetSha256]));
  });

  it('a target changed after the copy does not verify: exit 1, the table named', async () => {
    const target = await targetConfig();
    expect((await cli(['migrate', '--to-config', target.file])).code).toBe(0);
    const db = await PostgresDatabase.open({ url: target.url, password: pg.password, poolSize: 1 });
    try {
      expect((await db.run("UPDATE finished_messages SET sender = 'mallory@example.com' WHERE id = (SELECT min(id) FROM finished_messages)")).changes).toBe(1);
    } finally {
      await db.close();
    }
    const r = await cli(['migrate', '--to-config', target.file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\nfinished_messages +\d+ +\d+ +[0-9a-f]{16} +DIFFERS \(source [0-9a-f]{16}\)\n/);
    expect(r.stdout).toMatch(/\nNOT done: the copy does not verify/);
    expect(r.stderr).toBe('sealgate: the migration did not verify: the target is not ready for the nodes\n');
  });

  it('the issue\'s form, --to-store URL --to-objects URL: the password from SEALGATE_DB_PASSWORD, never on the command line', async () => {
    const db = await pg.createDatabase();
    const objects = `s3://${s3.bucket}/by-url/?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&forcePathStyle=true&accessKeyId=${s3.accessKeyId}&secretAccessKeyFile=${encodeURIComponent(s3SecretFile)}`;
    const { AWS_ACCESS_KEY_ID: _b, AWS_SECRET_ACCESS_KEY: _c, ...env } = process.env;
    const r = await runCli(['-c', setup.configPath, 'migrate', '--to-store', `${db}?sslmode=disable`, '--to-objects', objects], { env: { ...env, SEALGATE_DB_PASSWORD: pg.password } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\ndone: \d+ rows copied by this run; every table, object and the audit chain verified\n$/);
    // a password in the URL is refused before anything is touched
    const withPassword = db.replace('://', `://u:${pg.password}@`);
    const refused = await runCli(['-c', setup.configPath, 'migrate', '--to-store', withPassword, '--to-objects', objects], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^sealgate: --to-store: the URL carries a password/);
    expect(refused.stderr).not.toContain(pg.password);
  });

  it('refuses a queued message whose content is in neither the database nor dataDir/spool: it cannot be carried', async () => {
    const dataDir = join(setup.dir, 'queued-node');
    const config = join(setup.dir, 'queued-node.yaml');
    await writeFile(config, stringify(buildConfig(setup.dir, { extra: { dataDir } })));
    await mkdir(dataDir, { recursive: true });
    const db = await Database.open(join(dataDir, 'sealgate.db'));
    try {
      await migrate(db);
      await db.run("INSERT INTO messages (id, created_at, sender, size, spool_key_id, listener, connector, client_ip, helo, body_type) VALUES ('Q1', 1, 'a@example.com', 200000, 'k', 'relay', 'loopback', '127.0.0.1', 'h', '8BITMIME')");
    } finally {
      await db.close();
    }
    const { SEALGATE_DB_PASSWORD: _a, ...env } = process.env;
    const r = await runCli(['-c', config, 'migrate', '--to-config', (await targetConfig()).file], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sealgate: 1 queued message(s) have their content in neither the database nor dataDir/spool (e.g. Q1), so sealgate migrate cannot carry them: restore dataDir/spool from a backup, or remove them (sealgate queue delete ID), then run sealgate migrate again\n');
  });
});

describe('sealgate migrate with mail queued: the spool comes along', () => {
  const INLINE_MAX = 8192;
  let node: TestSetup;
  let held: MxServer;
  let heldZone: DnsZone;
  let first: RunningGateway | undefined;
  let second: RunningGateway | undefined;
  let pgpKeys: PgpFixtures | undefined;
  let holding = true;
  let target: { file: string; url: string; prefix: string };
  const bigMarker = `MIGRATE-SPOOL-BIG-${randomUUID().slice(0, 8)}`;
  const e2eMarker = `MIGRATE-SPOOL-E2E-${randomUUID().slice(0, 8)}`;
  const line = `${bigMarker} ${'y'.repeat(60)}`;
  const big = ['From: alice@example.com', 'To: bob@held.test', 'Subject: queued while the MX is down', `Message-ID: <${randomUUID()}@example.com>`, '', ...Array.from({ length: 1200 }, () => line), ''].join('\r\n');
  const ids: { big?: string; e2e?: string } = {};
  const body = (m: string): string => m.slice(m.indexOf('\r\n\r\n'));

  beforeAll(async () => {
    held = await startMxServer({ ip: '127.0.0.124', port: 0, rcpt: () => (holding ? [451, '4.3.2 the MX is down for the day'] : undefined) });
    heldZone = await startDnsZone([
      { name: 'held.test', type: 'MX', exchange: 'mx.held.test', priority: 10 },
      { name: 'gmail.com', type: 'MX', exchange: 'mx.held.test', priority: 10 },
      { name: 'mx.held.test', type: 'A', address: '127.0.0.124' },
    ]);
    node = await setupGateway({});
    await node.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        queue: { inlineMaxBytes: INLINE_MAX },
        dns: { servers: [heldZone.server] },
        delivery: { enabled: true, port: held.port, defaultRequirement: 'may', retry: { backoff: ['1s'] } },
        tls: { mtaSts: { enabled: false } },
        inspection: { threads: 0 },
        keys: { masterKeyFile: node.masterKeyFile, discovery: { wkd: false, dns: false } },
      },
    });
    if (haveTool('gpg')) {
      pgpKeys = makePgpFixtures(['good'], { good: 'Jane Roe <jane.roe@gmail.com>' });
      const file = join(node.dir, 'jane.asc');
      await writeFile(file, pgpKeys.armored('good'));
      expect((await runCli(['-c', node.configPath, 'keys', 'import', file])).stderr).toBe('');
    }
    // the nodes' config: the same node settings on the shared stores (the master key file is the same file)
    const nodeConfig = parse(await readFile(node.configPath, 'utf8')) as Record<string, unknown>;
    const url = await pg.createDatabase();
    const prefix = 'queued-node/';
    const file = join(node.dir, 'shared.yaml');
    await writeFile(
      file,
      stringify({
        ...nodeConfig,
        dataDir: join(node.dir, 'shared-node-data'),
        store: { kind: 'postgres', url, passwordFile: pwFile, tls: { mode: 'disable' } },
        objects: { kind: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, prefix, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: s3SecretFile } },
      }),
    );
    target = { file, url, prefix };
  }, 120_000);

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await held?.close();
    await heldZone?.close();
    pgpKeys?.cleanup();
    await node?.cleanup();
  });

  const migrateNode = async (): Promise<MigrationReport> => {
    const { SEALGATE_DB_PASSWORD: _a, AWS_ACCESS_KEY_ID: _b, AWS_SECRET_ACCESS_KEY: _c, ...env } = process.env;
    const r = await runCli(['-c', node.configPath, 'migrate', '--to-config', target.file, '--json'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as MigrationReport;
  };

  it('a node whose MX answers 451 keeps a large message (and an end-to-end copy) as files of dataDir/spool', async () => {
    first = await startGateway(node.configPath);
    const running = first;
    ids.big = await sendMessage(running.port, 'alice@example.com', ['bob@held.test'], big);
    await until('a delivery attempt of the large message', () => (held.rcptAttempts.get('bob@held.test') ?? 0) >= 1, { timeoutMs: 60_000, context: () => running.stdout.slice(-3000) });
    if (pgpKeys) {
      const phi = phiMail({ from: 'alice@example.com', to: 'jane.roe@gmail.com', subject: 'Lab results', bodyMarker: e2eMarker, attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(20_000, 0x41) });
      ids.e2e = await sendMessage(running.port, 'alice@example.com', ['jane.roe@gmail.com'], phi);
      await until('a delivery attempt of the end-to-end message', () => (held.rcptAttempts.get('jane.roe@gmail.com') ?? 0) >= 1, { timeoutMs: 60_000, context: () => running.stdout.slice(-3000) });
    }
    await first.stop();
    first = undefined;
    const files = (await filePaths(join(node.dataDir, 'spool', 'msg'))).map((f) => f.slice(join(node.dataDir, 'spool', 'msg').length + 1));
    expect(files).toContain(`${ids.big.slice(-2)}/${ids.big}`);
    const e2e = ids.e2e;
    if (e2e !== undefined) expect(files.filter((f) => f.startsWith(`${e2e.slice(-2)}/${e2e}.copies/`))).toHaveLength(1);
  });

  it('sealgate migrate carries every spool file of the queued messages to the bucket byte for byte; a second run copies nothing and verifies', async () => {
    const blobs = ids.e2e === undefined ? 1 : 3;
    const report = await migrateNode();
    expect(report.ok).toBe(true);
    expect(report.spool).toMatchObject({ files: true, objects: blobs, messages: ids.e2e === undefined ? 1 : 2, copied: blobs, skipped: 0, orphans: 0, ok: true, missing: [], different: [], extra: [] });
    expect(report.objects.ok).toBe(true);
    expect(new Map(report.tables.map((t) => [t.table, t.targetRows])).get('messages')).toBe(ids.e2e === undefined ? 1 : 2);

    // read back without the command: each file's bytes under the key the object spool reads
    const bucket = await openObjectStore(loadConfig(target.file).config);
    try {
      const local = join(node.dataDir, 'spool', 'msg');
      const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
      const inBucket = await hashes(bucket);
      const id = ids.big ?? '';
      expect(inBucket.get(`spool/${id}/message`)).toBe(sha(await readFile(join(local, id.slice(-2), id))));
      expect([...inBucket.keys()].filter((k) => k.startsWith('spool/'))).toHaveLength(blobs);
      if (ids.e2e !== undefined) {
        const copies = (await filePaths(join(local, ids.e2e.slice(-2), `${ids.e2e}.copies`))).map((f) => f.slice(f.lastIndexOf('/') + 1));
        expect(copies).toHaveLength(1);
        expect(inBucket.get(`spool/${ids.e2e}/copies/${copies[0] ?? ''}`)).toBe(sha(await readFile(join(local, ids.e2e.slice(-2), `${ids.e2e}.copies`, copies[0] ?? ''))));
      }
    } finally {
      bucket.close();
    }

    const again = await migrateNode();
    expect(again.ok).toBe(true);
    expect(again.rowsCopied).toBe(0);
    expect(again.spool).toMatchObject({ objects: blobs, copied: 0, skipped: blobs, ok: true });
    expect(again.objects.copied).toBe(0);
    // the summary says so in a line of its own
    const text = await runCli(['-c', node.configPath, 'migrate', '--to-config', target.file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`\nspool: ${blobs} blobs of ${ids.e2e === undefined ? 1 : 2} queued messages (0 copied, ${blobs} already there), SHA-256 equal for every blob\n`);
  });

  it('a node started on the shared stores delivers the queued mail once the MX accepts: nothing lost', async () => {
    holding = false;
    second = await startGateway(target.file);
    const running = second;
    const bigDelivered = await until('the large message delivered', () => held.received.find((m) => m.body.includes(Buffer.from(bigMarker))), { timeoutMs: 90_000, context: () => running.stdout.slice(-3000) });
    expect(body(bigDelivered.body.toString('latin1'))).toBe(body(big));
    if (ids.e2e !== undefined) {
      const copy = await until('the end-to-end copy delivered', () => held.received.find((m) => m.to.some((t) => t.address === 'jane.roe@gmail.com')), { timeoutMs: 90_000, context: () => running.stdout.slice(-3000) });
      const text = copy.body.toString('latin1');
      expect(text).toContain('-----BEGIN PGP MESSAGE-----');
      expect(text).not.toContain(e2eMarker);
      const armored = text.slice(text.indexOf('-----BEGIN PGP MESSAGE-----'), text.indexOf('-----END PGP MESSAGE-----') + 25);
      const decrypted = gpgDecrypt(pgpKeys?.home ?? '', armored);
      expect(decrypted.code).toBe(0);
      expect(decrypted.stdout.toString('latin1')).toContain(e2eMarker);
    }
    for (const id of [ids.big, ids.e2e]) if (id !== undefined) await until(`${id} finished`, () => running.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === id), { timeoutMs: 60_000, context: () => running.stdout.slice(-3000) });
    const db = await PostgresDatabase.open({ url: target.url, password: pg.password, poolSize: 1 });
    try {
      expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n).toBe(0);
    } finally {
      await db.close();
    }
  });
});
