/**
 * `sealgate policy test` and `policy replay` (the built CLI) with
 * store.kind: postgres and objects.kind: s3 (a private PostgreSQL and
 * s3rver, test/helpers/shared-stores.ts), run beside the same commands on
 * SQLite over the same input: a dns2 zone as the only resolver, a loopback
 * MX with a certificate from the test CA, a quarantine rule for one domain,
 * and three archive entries written as the archiver writes them (content
 * encrypted into each object store, rows into each database):
 *   - invoice:  alice → carol@verified.test (clean);
 *   - referral: bob → dan@verified.test and erin@held.test (held by the rule);
 *   - lab:      bob → frank@verified.test, PHI.
 * Both commands print the same decisions on both databases; the probe they
 * store and the `policy:replayed` events land in PostgreSQL (the one chain,
 * `audit verify` OK), nothing in a SQLite file beside it. A schema behind
 * and local objects beside PostgreSQL are refused in one line.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveObjectKey, writeArchiveObject } from '../../src/archive/content.js';
import { insertArchiveEntries, type NewArchiveEntry } from '../../src/archive/entries.js';
import type { ArchiveMessageColumns, ArchiveRecipientColumns } from '../../src/archive/records.js';
import { archiveVerdict } from '../../src/archive/verdict.js';
import { loadConfig } from '../../src/config/load.js';
import type { Keyring } from '../../src/crypto/keyring.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { openObjectStore } from '../../src/objects/open.js';
import type { ObjectStore } from '../../src/objects/object-store.js';
import { openDatabase, openKeyring } from '../../src/runtime/stores.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { entryId, writtenEntryColumns } from '../helpers/archive-content.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { buildConfig, setupGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { phiMail } from '../helpers/phi-mail.js';
import { cliWithoutDbPassword, type CliOut } from '../helpers/postgres-cli.js';
import { startSharedStores, type SharedStores } from '../helpers/shared-stores.js';

const HOLD_RULE = { id: 'hold-held-test', when: { recipients: ['held.test'] }, then: { action: 'quarantine' } };
const BLOCK_BOB = { id: 'block-bob', when: { senders: ['bob@example.com'] }, then: { action: 'block' } };
const [INVOICE, REFERRAL, LAB] = [41, 42, 43].map(entryId) as [string, string, string];

let setup: TestSetup;
let shared: SharedStores;
let zone: DnsZone;
let mx: MxServer;
let options: TestConfigOptions;
let sqliteConfig: string;
let pgConfig: string;
let pgDataDir: string;
let pg: PostgresDatabase;

interface Entry {
  readonly id: string;
  readonly at: number;
  readonly sender: string;
  readonly bytes: Buffer;
  /** The inspection summary as the queue row kept it (what the archiver turns into the entry's verdict). */
  readonly summary: Record<string, unknown>;
  readonly recipients: readonly { address: string; method: string; requirement: string }[];
}

function mail(from: string, to: string, subject: string, body: string): string {
  return [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n');
}

const T0 = Date.now() - 3_600_000;
const ENTRIES: readonly Entry[] = [
  {
    id: INVOICE,
    at: T0,
    sender: 'alice@example.com',
    bytes: Buffer.from(mail('alice@example.com', 'carol@verified.test', 'Quarterly invoice POLSUBJECT', 'The invoice is in the portal.')),
    summary: { phi: false, protection: 'none', findings: [], methods: ['tls-opportunistic'], rules: [] },
    recipients: [{ address: 'carol@verified.test', method: 'tls-opportunistic', requirement: 'may' }],
  },
  {
    id: REFERRAL,
    at: T0 + 60_000,
    sender: 'bob@example.com',
    bytes: Buffer.from(mail('bob@example.com', 'dan@verified.test, erin@held.test', 'Referral POLSUBJECT', 'Please see the referral.')),
    summary: { phi: false, protection: 'none', findings: [], methods: ['tls-opportunistic', 'quarantine'], rules: ['hold-held-test'] },
    recipients: [
      { address: 'dan@verified.test', method: 'tls-opportunistic', requirement: 'may' },
      { address: 'erin@held.test', method: 'quarantine', requirement: 'may' },
    ],
  },
  {
    id: LAB,
    at: T0 + 120_000,
    sender: 'bob@example.com',
    bytes: Buffer.from(
      phiMail({ from: 'bob@example.com', to: 'frank@verified.test', subject: 'Lab results POLSUBJECT', bodyMarker: 'POL-MARKER', attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(300, 0x5a) }),
    ),
    summary: { phi: true, protection: 'verified-tls', findings: [{ category: 'SSN', count: 1, confidence: 'high' }], methods: ['tls-verified'], rules: [] },
    recipients: [{ address: 'frank@verified.test', method: 'tls-verified', requirement: 'verify' }],
  },
];

function columns(e: Entry, w: Awaited<ReturnType<typeof writeArchiveObject>>[number]): ArchiveMessageColumns {
  return writtenEntryColumns(w, { id: e.id, receivedAt: e.at, retainUntil: e.at + 6 * 365 * 86_400_000, sender: e.sender, verdict: archiveVerdict(JSON.stringify(e.summary)).json });
}

function recipientRows(e: Entry): ArchiveRecipientColumns[] {
  return e.recipients.map((r, i) => ({
    archive_id: e.id,
    seq: i + 1,
    address: r.address,
    domain: r.address.split('@')[1] ?? '',
    bcc: 0,
    method: r.method,
    requirement: r.requirement,
    decision: '["as decided then"]',
    key_fingerprint: null,
    key_source: null,
    state: r.method === 'quarantine' ? 'held' : 'delivered',
    attempts: r.method === 'quarantine' ? 0 : 1,
    last_attempt_at: null,
    finished_at: null,
    evidence: null,
  }));
}

/** The three entries into one database and object store, as the archiver writes them (each content in an object of its own). */
async function archiveInto(db: SqlDatabase, objects: ObjectStore, keyring: Keyring): Promise<void> {
  const items: NewArchiveEntry[] = [];
  for (const e of ENTRIES) {
    const [w] = await writeArchiveObject(objects, keyring, archiveObjectKey(e.id, e.at), [{ id: e.id, receivedAt: e.at, open: () => Readable.from([e.bytes]) }]);
    if (!w) throw new Error('nothing written');
    items.push({ entry: columns(e, w), recipients: recipientRows(e), terms: [] });
  }
  await db.transaction((tx) => insertArchiveEntries(tx, items, T0 + 180_000));
}

const cli = (config: string, ...args: string[]): Promise<CliOut> => cliWithoutDbPassword(['-c', config, ...args]);

async function json<T>(config: string, ...args: string[]): Promise<T> {
  const r = await cli(config, ...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A config file for the PostgreSQL side: the SQLite side's, with the shared stores and a data directory of its own. */
async function pgConfigFile(name: string, extra: Record<string, unknown>): Promise<string> {
  const file = join(setup.dir, name);
  await writeFile(file, stringify(buildConfig(setup.dir, { ...options, extra: { ...options.extra, dataDir: pgDataDir, ...extra } })));
  return file;
}

/** A proposed config (policy only is read from it). */
async function proposed(name: string, rules: unknown[]): Promise<string> {
  const file = join(setup.dir, name);
  await writeFile(file, stringify(buildConfig(setup.dir, { ...options, extra: { ...options.extra, policy: { rules } } })));
  return file;
}

beforeAll(async () => {
  setup = await setupGateway();
  shared = await startSharedStores();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.test', dnsNames: ['mx.verified.test', 'mx.held.test'], usage: 'server' });
  mx = await startMxServer({ ip: '127.0.0.62', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  zone = await startDnsZone([
    { name: 'verified.test', type: 'MX', exchange: 'mx.verified.test', priority: 10 },
    { name: 'mx.verified.test', type: 'A', address: '127.0.0.62' },
    { name: 'held.test', type: 'MX', exchange: 'mx.held.test', priority: 10 },
    { name: 'mx.held.test', type: 'A', address: '127.0.0.62' },
  ]);
  options = {
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: false, port: mx.port },
      tls: { trustedCaFiles: [join(setup.dir, 'certs', 'ca.crt')], mtaSts: { enabled: false } },
      keys: { masterKeyFile: setup.masterKeyFile, discovery: { wkd: false, dns: false } },
      inspection: { enabled: true },
      policy: { rules: [HOLD_RULE] },
    },
  };
  await setup.writeConfig(options);
  sqliteConfig = setup.configPath;
  pgDataDir = join(setup.dir, 'pg-data');
  await mkdir(pgDataDir, { recursive: true });
  pgConfig = await pgConfigFile('pg.yaml', { store: shared.store(), objects: shared.objects('nodes/', { maxAttempts: 1, timeout: '10s' }) });

  const keyring = await openKeyring(loadConfig(sqliteConfig).config, true);
  const lite = await openDatabase(loadConfig(sqliteConfig).config);
  const local = await openObjectStore(loadConfig(sqliteConfig).config);
  try {
    await local.init();
    await archiveInto(lite, local, keyring);
  } finally {
    local.close();
    await lite.close();
  }
  pg = await PostgresDatabase.open({ url: shared.pg.url, password: shared.pg.password, poolSize: 2 });
  await migratePostgres(pg);
  const s3 = await openObjectStore(loadConfig(pgConfig).config);
  try {
    await s3.init();
    await archiveInto(pg, s3, keyring);
  } finally {
    s3.close();
  }
}, 180_000);

afterAll(async () => {
  await pg?.close();
  await mx?.close();
  await zone?.close();
  await shared?.stop();
  await setup?.cleanup();
});

interface PolicyTest {
  verdict: { phi: boolean };
  rules: string[];
  recipients: { recipient: string; method: string; requirement: string; reasons: string[]; delivery: { outcome: string } }[];
}

interface Report {
  replayed: number;
  skipped: Record<string, number>;
  changed: number;
  methods: Record<string, Record<string, number>>;
  rules: Record<string, { then: number; now: number }>;
  phi: { then: number; now: number };
  changes: { id: string; recipients: { seq: number; then: string | null; now: string }[] }[];
}

describe('sealgate policy on PostgreSQL and S3', () => {
  it('policy test: the same decisions as on SQLite, the domain probed through the zone and cached in PostgreSQL', async () => {
    const eml = join(setup.dir, 'phi.eml');
    await writeFile(eml, 'Subject: results\r\n\r\nPatient SSN 536-22-1234 was diagnosed with asthma.\r\n');
    const args = ['policy', 'test', eml, '--from', 'bob@example.com', '--to', 'frank@verified.test,erin@held.test', '--json'];
    const onPg = await json<PolicyTest>(pgConfig, ...args);
    const onSqlite = await json<PolicyTest>(sqliteConfig, ...args);
    expect(onPg).toEqual(onSqlite);
    expect(onPg.verdict.phi).toBe(true);
    expect(onPg.rules).toEqual(['hold-held-test']);
    expect(onPg.recipients.map((r) => [r.recipient, r.method, r.requirement, r.delivery.outcome])).toEqual([
      ['frank@verified.test', 'tls-verified', 'verify', 'delivers'],
      ['erin@held.test', 'quarantine', 'verify', 'held'],
    ]);
    expect(JSON.stringify(onPg)).not.toContain('536-22');
    // the probe went into the shared database, nothing into a SQLite file beside it
    const probed = await pg.all<{ domain: string }>('SELECT DISTINCT domain FROM probe_results ORDER BY domain');
    expect(probed.map((r) => r.domain)).toEqual(['held.test', 'verified.test']);
    expect(await readdir(pgDataDir)).not.toContain('sealgate.db');
  });

  it('policy replay with the current config: every entry re-decided as on SQLite, nothing changes', async () => {
    const onPg = await json<Report>(pgConfig, 'policy', 'replay', '--since', '2020-01-01', '--json');
    const onSqlite = await json<Report>(sqliteConfig, 'policy', 'replay', '--since', '2020-01-01', '--json');
    expect(onPg).toEqual(onSqlite);
    expect(onPg.replayed).toBe(3);
    expect(onPg.changed).toBe(0);
    expect(onPg.methods).toEqual({ 'tls-opportunistic': { 'tls-opportunistic': 2 }, 'tls-verified': { 'tls-verified': 1 }, quarantine: { quarantine: 1 } });
    expect(onPg.rules).toEqual({ 'hold-held-test': { then: 1, now: 1 } });
    expect(onPg.phi).toEqual({ then: 1, now: 1 });
  });

  it('policy replay with a proposed config: the same changes as on SQLite, audited in the one chain; audit verify OK', async () => {
    const file = await proposed('block-bob.yaml', [HOLD_RULE, BLOCK_BOB]);
    const onPg = await json<Report>(pgConfig, 'policy', 'replay', '--since', '2020-01-01', '--config', file, '--json');
    const onSqlite = await json<Report>(sqliteConfig, 'policy', 'replay', '--since', '2020-01-01', '--config', file, '--json');
    expect(onPg).toEqual(onSqlite);
    expect(onPg.changed).toBe(2);
    expect(onPg.changes.map((c) => c.id)).toEqual([LAB, REFERRAL]);
    expect(onPg.changes[1]?.recipients).toEqual([
      { seq: 1, then: 'tls-opportunistic', now: 'block' },
      { seq: 2, then: 'quarantine', now: 'block' },
    ]);
    expect(onPg.rules).toEqual({ 'hold-held-test': { then: 1, now: 1 }, 'block-bob': { then: 0, now: 2 } });

    const events = (await pg.all<{ data: string }>("SELECT data FROM audit_log WHERE type = 'policy:replayed' ORDER BY seq")).map((r) => JSON.parse(r.data) as Record<string, unknown>);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ via: 'cli', since: '2020-01-01T00:00:00.000Z', policy: 'current', entries: 3, skipped: 0, changed: 0, complete: 'true' });
    expect(events[1]).toMatchObject({ via: 'cli', policy: 'file', entries: 3, skipped: 0, changed: 2, complete: 'true' });
    expect(JSON.stringify(events)).not.toMatch(/POL|@verified\.test|@held\.test/);
    const verify = await cli(pgConfig, 'audit', 'verify');
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain OK: \d+ events, last hash [0-9a-f]{64}\n$/);
    expect(await readdir(pgDataDir)).not.toContain('sealgate.db');
  });

  it('refuses local objects beside PostgreSQL for replay (one line naming objects.kind), and a schema behind for both commands (naming sealgate db migrate)', async () => {
    const local = await pgConfigFile('pg-local.yaml', { store: shared.store(), objects: { kind: 'local' } });
    const refused = await cli(local, 'policy', 'replay', '--since', '7d');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^sealgate: objects\.kind: with store\.kind: postgres, policy replay works on the message content the nodes share: set objects\.kind: s3 .*\n$/);

    const behindUrl = await shared.pg.createDatabase();
    const behind = await pgConfigFile('pg-behind.yaml', { store: shared.store({ url: behindUrl }), objects: shared.objects('nodes/') });
    const eml = join(setup.dir, 'plain.eml');
    await writeFile(eml, 'Subject: hello\r\n\r\nhello\r\n');
    for (const args of [['policy', 'replay', '--since', '7d'], ['policy', 'test', eml, '--from', 'alice@example.com', '--to', 'carol@verified.test']]) {
      const out = await cli(behind, ...args);
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(/^sealgate: store: the PostgreSQL database is at schema version 0 of \d+: run sealgate db migrate\n$/);
      expect(out.stderr).not.toContain(shared.pg.password);
    }
  });
});
