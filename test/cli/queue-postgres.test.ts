/**
 * `sealgate queue` (the built CLI) with store.kind: postgres and
 * objects.kind: s3 (a private PostgreSQL, test/helpers/postgres.ts, and
 * s3rver, test/helpers/s3-server.ts): the shared queue that two "nodes" (two
 * pools in this process) wrote through the real stores — rows by
 * insertQueuedMessage, content through the spool into the object store — is
 * listed, shown, summed up, held, released, bounced and deleted (the deleted
 * message's content leaves the object store), each change audited in the one
 * chain. A delete while a node holds the message's rows (claiming or
 * delivering it) is refused at once as busy; bounce and delete on PostgreSQL
 * with local objects are refused in one line naming objects.kind. No command
 * prints message content or the database password.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/log.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Keyring } from '../../src/crypto/keyring.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { migratePostgres } from '../../src/db/schema-postgres.js';
import { openObjectStore, type OpenedObjectStore } from '../../src/objects/open.js';
import { internalMessage, insertQueuedMessage } from '../../src/queue/store.js';
import { openKeyring, openSpool } from '../../src/runtime/stores.js';
import type { Spool } from '../../src/spool/spool.js';
import { cliWithoutDbPassword, startCliStores, type CliOut, type CliStores } from '../helpers/postgres-cli.js';
import type { TestPostgres } from '../helpers/postgres.js';

const SECRET = 'Patient Jane Roe MRN 0042';
const M1 = '0QPGCLI0000000000001';
const M2 = '0QPGCLI0000000000002';
const M3 = '0QPGCLI0000000000003';
const M4 = '0QPGCLI0000000000004';

let server: TestPostgres;
let stores: CliStores;
let configPath: string;
let localObjectsConfig: string;
let config: Config;
let nodeA: PostgresDatabase;
let nodeB: PostgresDatabase;
let objects: OpenedObjectStore;
let keyring: Keyring;

/** The CLI without a SEALGATE_DB_PASSWORD from the test's own environment. */
const cli = (config: string, ...args: string[]): Promise<CliOut> => cliWithoutDbPassword(['-c', config, 'queue', ...args]);


/** A message queued by a node as ingress does: content through the spool (the object store beyond the inline limit), then its rows. */
async function queue(node: PostgresDatabase, spool: Spool, id: string, recipients: string[], body: Buffer, at: number): Promise<void> {
  const pending = await spool.write(id, Readable.from([body]));
  if (pending.inline) await node.transaction((tx) => pending.inline?.store(tx) ?? Promise.resolve());
  else await pending.commit();
  const m = internalMessage({ id, createdAt: at, size: body.length, spoolKeyId: keyring.current.id, helo: 'client.example', requirement: 'may', recipients });
  await node.transaction((tx) => insertQueuedMessage(tx, { ...m, sender: 'alice@example.com', connector: 'c', listener: 'relay', acceptedBy: node === nodeA ? 'node-a' : 'node-b' }));
}

async function spoolKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of objects.list('spool/')) keys.push(k);
  return keys;
}

beforeAll(async () => {
  stores = await startCliStores('queue-pg');
  ({ server, configPath, localObjectsConfig } = stores);
  config = loadConfig(configPath).config;
  nodeA = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 4 });
  nodeB = await PostgresDatabase.open({ url: server.url, password: server.password, poolSize: 4 });
  await migratePostgres(nodeA);
  keyring = await openKeyring(config, true);
  objects = await openObjectStore(config);
  await objects.init();
  const now = Date.now();
  const body = (n: number): Buffer => Buffer.from(`Subject: ${SECRET}\r\n\r\n${SECRET} ${'x'.repeat(n)}\r\n`);
  await queue(nodeA, openSpool(config, keyring, nodeA, { store: objects }), M1, ['bob@one.example', 'carol@two.example'], body(10), now - 3000);
  await queue(nodeB, openSpool(config, keyring, nodeB, { store: objects }), M2, ['dave@one.example'], body(10), now - 2000);
  // beyond the inline limit: its content is an object under spool/
  await queue(nodeB, openSpool(config, keyring, nodeB, { store: objects }), M3, ['erin@three.example'], body(400_000), now - 1000);
  await queue(nodeA, openSpool(config, keyring, nodeA, { store: objects }), M4, ['frank@three.example'], body(10), now);
});

afterAll(async () => {
  objects?.close();
  await nodeA?.close();
  await nodeB?.close();
  await stores?.stop();
});

describe('sealgate queue on PostgreSQL', () => {
  it('lists, shows and sums up what both nodes queued, without content', async () => {
    const list = await cli(configPath, 'list', '--json');
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.stdout) as { id: string; recipients: number; states: Record<string, number> }[];
    expect(listed.map((m) => [m.id, m.recipients])).toEqual([[M1, 2], [M2, 1], [M3, 1], [M4, 1]]);
    const table = await cli(configPath, 'list', '--domain', 'one.example', '--limit', '1');
    expect(table.stdout).toContain(M1);
    expect(table.stdout).toContain('-- 1 of 2 messages');

    const show = await cli(configPath, 'show', M1);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/1\. bob@one\.example {2}queued/);
    expect(show.stdout).toMatch(/2\. carol@two\.example {2}queued/);

    const summary = await cli(configPath, 'summary', '--json');
    expect(summary.code).toBe(0);
    expect(JSON.parse(summary.stdout)).toMatchObject({ messages: 4, recipients: { queued: 5 } });
    const stats = await cli(configPath, 'stats', '--json');
    expect(JSON.parse(stats.stdout)).toMatchObject({ messages: 4, recipients: { queued: 5 } });

    const missing = await cli(configPath, 'show', '00000000000000000000');
    expect(missing).toMatchObject({ code: 1, stderr: 'sealgate: no queued message 00000000000000000000\n' });
    for (const o of [list, table, show, summary, stats]) expect(o.stdout + o.stderr).not.toMatch(new RegExp(`${SECRET}|${server.password}`));
  });

  it('holds and releases in the shared database, each change in the one audit chain', async () => {
    expect(await cli(configPath, 'hold', M1)).toEqual({ code: 0, stdout: `held ${M1}: 2 recipients\n`, stderr: '' });
    expect(await nodeB.all('SELECT state FROM recipients WHERE message_id = ? ORDER BY seq', [M1])).toEqual([{ state: 'held' }, { state: 'held' }]);
    expect((await cli(configPath, 'list', '--held', '--json')).stdout).toContain(M1);
    expect(await cli(configPath, 'release', M1)).toEqual({ code: 0, stdout: `released ${M1}: 2 recipients\n`, stderr: '' });
    expect(await nodeB.all('SELECT state FROM recipients WHERE message_id = ? ORDER BY seq', [M1])).toEqual([{ state: 'queued' }, { state: 'queued' }]);
    const hold = await cli(configPath, 'hold', '--all');
    expect(hold.code).toBe(0);
    expect(hold.stdout).toContain('held 4 messages, 5 recipients');
    expect((await cli(configPath, 'release', '--all')).stdout).toContain('released 4 messages, 5 recipients');
    const events = await nodeA.all<{ type: string }>("SELECT type FROM audit_log WHERE type LIKE 'queue:%' ORDER BY seq");
    expect(events.map((e) => e.type)).toEqual(['queue:held', 'queue:released', ...Array(4).fill('queue:held'), ...Array(4).fill('queue:released')]);
  });

  it('refuses to delete a message a node holds right now, without waiting for it', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((r) => (locked = r));
    // node B claims M2's recipient (the claim's lock, held until its transaction ends)
    const claim = nodeB.transaction(async (tx) => {
      await tx.all('SELECT seq FROM recipients WHERE message_id = ? FOR UPDATE', [M2]);
      locked();
      await held;
    });
    await isLocked;
    try {
      const busy = await cli(configPath, 'delete', M2);
      expect(busy.code).toBe(1);
      expect(busy.stdout).toBe('');
      expect(busy.stderr).toBe(`sealgate: message ${M2} is being worked on by a node right now (claimed, delivered or archived); try again in a moment\n`);
    } finally {
      release();
      await claim;
    }
    expect(await nodeA.get('SELECT count(*) AS n FROM recipients WHERE message_id = ?', [M2])).toEqual({ n: 1 });
  });

  it('deletes a message and its content from the object store; bounces another', async () => {
    const before = await spoolKeys();
    expect(before.some((k) => k.includes(M3))).toBe(true);
    expect(await cli(configPath, 'delete', M3)).toEqual({ code: 0, stdout: `deleted ${M3}: 1 recipient\n`, stderr: '' });
    expect(await nodeA.get('SELECT count(*) AS n FROM messages WHERE id = ?', [M3])).toEqual({ n: 0 });
    expect((await spoolKeys()).some((k) => k.includes(M3))).toBe(false);

    expect(await cli(configPath, 'bounce', M2)).toEqual({ code: 0, stdout: `bounced ${M2}: 1 recipient\n`, stderr: '' });
    const left = JSON.parse((await cli(configPath, 'list', '--json')).stdout) as { id: string }[];
    expect(left.map((m) => m.id)).toEqual([M1, M4]);
    const types = (await nodeA.all<{ type: string }>("SELECT type FROM audit_log WHERE type IN ('queue:deleted', 'queue:bounced') ORDER BY seq")).map((r) => r.type);
    expect(types).toEqual(['queue:deleted', 'queue:bounced']);
    expect(await verifyAuditChain(nodeB)).toMatchObject({ ok: true });
  });

  it('with objects.kind: local, lists but refuses bounce and delete in one line naming objects.kind', async () => {
    expect((await cli(localObjectsConfig, 'list', '--json')).code).toBe(0);
    for (const action of ['delete', 'bounce']) {
      const out = await cli(localObjectsConfig, action, M4);
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe(`sealgate: objects.kind: with store.kind: postgres, queue ${action} works on the message content the nodes share: set objects.kind: s3 as the nodes have it (docs/scale-out.md "Object store")\n`);
    }
    expect(await nodeA.get('SELECT count(*) AS n FROM recipients WHERE message_id = ?', [M4])).toEqual({ n: 1 });
  });
});
