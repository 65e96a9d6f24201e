/**
 * `sealgate archive show|export|hold|release|purge` (the built CLI) with
 * store.kind: postgres and objects.kind: s3 (a private PostgreSQL,
 * test/helpers/postgres.ts, and s3rver, test/helpers/s3-server.ts): entries
 * written as the archiver writes them (test/helpers/archive-content.ts: the
 * content encrypted into the object store, rows and records into
 * PostgreSQL) are shown with their Subject and evidence, opened byte for
 * byte with a reason, exported to a ZIP that verify-export accepts, held,
 * purged (the objects leave the object store) and released, each act
 * audited in the one chain, and `archive verify` holds afterwards. With
 * objects.kind: local beside PostgreSQL, what reads or deletes content is
 * refused in one line naming objects.kind; rows-only work still runs. No
 * output carries the database password.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/log.js';
import { writeCheckpoint } from '../../src/archive/checkpoints.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/archive/signing-key.js';
import { loadConfig } from '../../src/config/load.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { openObjectStore, type OpenedObjectStore } from '../../src/objects/open.js';
import { openKeyring } from '../../src/runtime/stores.js';
import { A, B, C, D, DAY, E, F, SUBJECT_WORDS, writeContentEntries, type ContentEntries } from '../helpers/archive-content.js';
import { runCli } from '../helpers/gateway.js';
import { cliWithoutDbPassword, startCliStores, type CliOut, type CliStores } from '../helpers/postgres-cli.js';
import type { TestPostgres } from '../helpers/postgres.js';

/** Received six years and 100 days ago: A..E are past their six years' retention now, F (a year longer) is not. */
const T0 = Date.now() - 6 * 365 * DAY - 100 * DAY;

let server: TestPostgres;
let stores: CliStores;
let dir: string;
let configPath: string;
let localObjectsConfig: string;
let node: PostgresDatabase;
let objects: OpenedObjectStore;
let written: ContentEntries;
let signingKey: SigningKey;

/** The CLI without a SEALGATE_DB_PASSWORD from the test's own environment. */
const cli = (config: string, ...args: string[]): Promise<CliOut> => cliWithoutDbPassword(['-c', config, 'archive', ...args]);


async function archiveKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of objects.list('archive/')) keys.push(k);
  return keys.sort();
}

async function eventsOf(type: string): Promise<Record<string, unknown>[]> {
  return (await node.all<{ data: string }>('SELECT data FROM audit_log WHERE type = ? ORDER BY seq', [type])).map((r) => JSON.parse(r.data) as Record<string, unknown>);
}

function clean(...outs: CliOut[]): void {
  for (const o of outs) expect(o.stdout + o.stderr).not.toContain(server.password);
}

beforeAll(async () => {
  stores = await startCliStores('archive-pg');
  ({ server, dir, configPath, localObjectsConfig } = stores);
  const config = loadConfig(configPath).config;
  node = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 4 });
  await migratePostgres(node);
  const keyring = await openKeyring(config, true);
  objects = await openObjectStore(config);
  await objects.init();
  signingKey = await loadOrCreateSigningKey(node, keyring, T0);
  await appendAudit(node, { type: 'daemon:started', data: { version: 'test' } }, T0);
  await writeCheckpoint(node, signingKey, 'start', T0);
  written = await writeContentEntries(node, objects, keyring, T0);
});

afterAll(async () => {
  objects?.close();
  await node?.close();
  await stores?.stop();
});

describe('sealgate archive on PostgreSQL and S3', () => {
  it('shows an entry with its Subject and evidence, and its content byte for byte with a reason; both audited', async () => {
    const show = await cli(configPath, 'show', A);
    expect(show.stderr).toBe('');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`entry:        ${A} (smtp)`);
    expect(show.stdout).toContain(`subject:      ${SUBJECT_WORDS} Fall1x`);
    expect(show.stdout).toContain('1. bob@example.net  tls-verified (transport verify)  delivered  attempts 1');
    const json = JSON.parse((await cli(configPath, 'show', D, '--json')).stdout) as { id: string; subject: string; recipients: { tls: unknown }[] };
    expect(json).toMatchObject({ id: D, subject: `${SUBJECT_WORDS} Fall4x` });
    expect(json.recipients[0]?.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true });

    // the test messages are ASCII: the bytes compare as text
    const opened = await cli(configPath, 'show', B, '--content', '--reason', 'subpoena 2026-41');
    expect(opened.code).toBe(0);
    expect(opened.stdout).toBe(written.bytesOf.get(B)?.toString('latin1'));
    expect(await eventsOf('archive:read')).toEqual([expect.objectContaining({ queueId: A, via: 'cli' }), expect.objectContaining({ queueId: D, via: 'cli' })]);
    expect(await eventsOf('archive:content_opened')).toEqual([expect.objectContaining({ queueId: B, via: 'cli', reason: 'subpoena 2026-41' })]);
    clean(show);
  });

  it('exports the entries a search selects, messages from the object store; verify-export says OK', async () => {
    const out = join(dir, 'export.zip');
    const exported = await cli(configPath, 'export', '--from', 'alice@example.com', '--out', out);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^exported 5 entries \(5 recipient rows, 5 messages, chain segment of \d+ events, \d+ checkpoints\) to .*export\.zip: \d+ bytes, manifest sha256 [0-9a-f]{64}\n$/);
    const verified = await runCli(['archive', 'verify-export', out]);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/^export OK: .*: 5 entries, 5 recipient rows, 5 messages;/);
    expect(await eventsOf('archive:exported')).toEqual([expect.objectContaining({ entries: 5, content: 'yes', filters: ['from'] })]);
    clean(exported);
  });

  it('refuses content work with local objects beside PostgreSQL in one line naming objects.kind; rows-only work runs', async () => {
    const refusals = [
      await cli(localObjectsConfig, 'show', A, '--content', '--reason', 'x'),
      await cli(localObjectsConfig, 'export', '--out', join(dir, 'never.zip')),
      await cli(localObjectsConfig, 'purge', '--dry-run'),
    ];
    for (const r of refusals) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^sealgate: objects\.kind: with store\.kind: postgres, archive (show --content|export \(without --no-content\)|purge) works on the message content the nodes share: set objects\.kind: s3 .*\n$/);
    }
    const rowsOnly = await cli(localObjectsConfig, 'export', '--queue-id', F, '--no-content', '--out', join(dir, 'rows.zip'));
    expect(rowsOnly.stderr).toBe('');
    expect(rowsOnly.stdout).toMatch(/^exported 1 entries \(1 recipient rows, no content,/);
    expect((await cli(localObjectsConfig, 'show', F)).code).toBe(0);
  });

  it('holds, dry-runs, purges (the objects leave the store), releases; verify OK afterwards', async () => {
    const before = await archiveKeys();
    expect(before).toEqual([A, D, E].map((id) => written.objectOf.get(id)).sort());
    const hold = await cli(configPath, 'hold', C, '--reason', 'litigation 2026-3');
    expect(hold.stderr).toBe('');
    expect(hold.stdout).toBe('held 1 entry (0 already held)\n');

    const dry = await cli(configPath, 'purge', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, entries: 4, objectsDeleted: 1, objectsKept: 2, heldExpired: 1 });
    expect(await archiveKeys()).toEqual(before);

    const purge = await cli(configPath, 'purge');
    expect(purge.stderr).toBe('');
    expect(purge.code).toBe(0);
    expect(purge.stdout.split('\n')[1]).toBe('deleted 1 object; 2 packs stay for entries in them still retained or held');
    expect(await archiveKeys()).toEqual(before.filter((k) => k !== written.objectOf.get(D)));
    const purged = await node.all<{ id: string }>('SELECT id FROM archive_messages WHERE purged_at IS NOT NULL AND wrapped_key IS NULL ORDER BY id');
    expect(purged.map((r) => r.id)).toEqual([A, B, D, E]);
    const gone = await cli(configPath, 'show', A, '--content', '--reason', 'x');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(new RegExp(`^sealgate: archive entry ${A} was purged: its key was destroyed`));
    expect((await cli(configPath, 'show', A)).stdout).toContain('subject:      (purged: the entry key was destroyed)');

    const release = await cli(configPath, 'release', C);
    expect(release.stdout).toBe('released 1 entry (0 not held)\n');
    const again = await cli(configPath, 'purge', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ entries: 1, objectsDeleted: 1, objectsKept: 0 });
    expect(await archiveKeys()).toEqual([written.objectOf.get(E)]);
    expect((await eventsOf('archive:purged')).map((e) => e.count)).toEqual([4, 1]);

    // the node stops cleanly (a stop checkpoint after the operators' records), then the whole archive verifies
    await appendAudit(node, { type: 'daemon:stopped', data: { reason: 'SIGTERM' } }, Date.now());
    await writeCheckpoint(node, signingKey, 'stop', Date.now());
    const verify = await cli(configPath, 'verify');
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toMatch(/^archive OK: .* 6 entries and 6 recipient rows match/);
    clean(hold, dry, purge, release, again, verify);
  });
});
