/**
 * Console export jobs in the database (export-jobs.ts), on both databases,
 * with nodes registered as the daemon does (src/cluster/nodes.ts):
 *   - a running export of a node no longer live (stale or stopped) shows as
 *     failed ("the node running it stopped"), does not count for admission,
 *     is marked failed by the sweep and removed with its object keepMs
 *     later; a live node's running export still counts;
 *   - init marks this node's running exports failed (on SQLite, one node per
 *     file, every running one);
 *   - two nodes sweeping at once remove an expired export and its object
 *     once, without error;
 *   - PostgreSQL: eight starts at once on two nodes (two pools) admit one
 *     per user and three in all (the advisory lock; SQLite's writes are one
 *     at a time anyway). The admitted exports are held at their first read
 *     (the signing key's table locked by a third connection) so that they
 *     are still running while the others are decided.
 * An empty archive: an export that does run fails at once ("no archive
 * entry matches"), which these tests do not look at.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/archive/search.js';
import { queryTerms } from '../../src/archive/terms.js';
import { markStopped, registerNode } from '../../src/cluster/nodes.js';
import { DEFAULT_EXPORT_LIMITS, ExportJobs, exportObjectKey, NODE_GONE, STOPPED, type ExportLimits } from '../../src/console/http/export-jobs.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import type { Dialect, SqlDatabase } from '../../src/db/sql-database.js';
import { createLogger } from '../../src/log/logger.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';
import { until } from '../helpers/wait.js';

const NOW = Date.UTC(2026, 11, 6, 9, 0, 0);
const HEARTBEAT_MS = 2000;
const dbs = bothDatabases();
const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
const log = createLogger({ level: 'error', pretty: false, destination: { write: () => true } as unknown as NodeJS.WritableStream });
let dir: string;
let objects: LocalObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-export-jobs-'));
  objects = new LocalObjectStore(join(dir, 'objects'));
  await objects.init();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const id = (n: number): string => n.toString(16).padStart(32, '0');

function jobsOf(db: SqlDatabase, node: string, clock: { t: number }, limits: Partial<ExportLimits> = {}): ExportJobs {
  return new ExportJobs({ db, keyring, objects, dir: join(dir, `exports-${node}`), node: { id: node, heartbeatMs: () => HEARTBEAT_MS }, now: () => clock.t, random: randomBytes, log, limits });
}

function request(owner: string) {
  return { owner, content: false, raw: {}, search: parseSearch({}, NOW, (s) => queryTerms(keyring, s)) };
}

async function node(db: SqlDatabase, name: string, lastBeat: number, stopped = false): Promise<void> {
  await registerNode(db, { id: name, hostname: 'test', address: '127.0.0.1:25', version: 'test' }, lastBeat);
  if (stopped) await markStopped(db, name, lastBeat);
}

/** A row as a node leaves it (the daemon's own writes are what the other tests and the console tests exercise). */
async function row(db: SqlDatabase, n: number, owner: string, nodeId: string, state: string, finishedAt: number | null = null): Promise<void> {
  await db.transaction((tx) =>
    tx.run('INSERT INTO console_exports (id, owner, content, node_id, state, started_at, finished_at, done, bytes) VALUES (?, ?, 0, ?, ?, ?, ?, 0, 0)', [id(n), owner, nodeId, state, NOW - 60_000, finishedAt]),
  );
}

async function stateOf(db: SqlDatabase, n: number): Promise<{ state: string; problem: string | null } | undefined> {
  return db.get<{ state: string; problem: string | null }>('SELECT state, problem FROM console_exports WHERE id = ?', [id(n)]);
}

describe.each(DIALECTS)('console export jobs on %s', (kind: Dialect) => {
  it('a running export of a node no longer live shows as failed, does not count, is marked by the sweep and removed later with its object', async () => {
    const db = await dbs.fresh(kind);
    const clock = { t: NOW };
    await node(db, 'node-a', NOW);
    await node(db, 'node-peer', NOW);
    await node(db, 'node-stale', NOW - 4 * HEARTBEAT_MS);
    await node(db, 'node-stopped', NOW - 1000, true);
    await row(db, 1, 'ann', 'node-stale', 'running');
    await row(db, 2, 'bob', 'node-stopped', 'running');
    await row(db, 3, 'di', 'node-peer', 'running');
    await objects.put(exportObjectKey(id(1)), Readable.from([Buffer.from('sealed bytes')]));
    const jobs = jobsOf(db, 'node-a', clock);

    expect(await jobs.get(id(1), 'ann')).toMatchObject({ state: 'failed', problem: NODE_GONE });
    expect(await jobs.get(id(2), 'bob')).toMatchObject({ state: 'failed', problem: NODE_GONE });
    expect(await jobs.get(id(3), 'di')).toMatchObject({ state: 'running' });
    expect(await jobs.get(id(1), 'bob')).toBeUndefined();
    expect((await jobs.of('ann')).map((j) => [j.id, j.state])).toEqual([[id(1), 'failed']]);
    // the dead node's export does not hold its user back; the live peer's does
    expect((await jobs.start(request('di'))).ok ? 'ok' : 'refused').toBe('refused');
    const started = await jobs.start(request('ann'));
    expect(started.ok).toBe(true);
    if (started.ok) await until('the started export over', async () => (await jobs.get(started.job.id, 'ann'))?.state !== 'running');

    await jobs.sweep();
    expect(await stateOf(db, 1)).toEqual({ state: 'failed', problem: NODE_GONE });
    expect(await stateOf(db, 2)).toEqual({ state: 'failed', problem: NODE_GONE });
    expect(await stateOf(db, 3)).toEqual({ state: 'running', problem: null });
    expect(await objects.exists(exportObjectKey(id(1)))).toBe(true);

    clock.t += DEFAULT_EXPORT_LIMITS.keepMs;
    await jobs.sweep();
    expect(await stateOf(db, 1)).toBeUndefined();
    expect(await stateOf(db, 2)).toBeUndefined();
    expect(await objects.exists(exportObjectKey(id(1)))).toBe(false);
    await jobs.close();
  });

  it('init marks this node\u2019s running exports failed (on SQLite, one node per file, every running one)', async () => {
    const db = await dbs.fresh(kind);
    await node(db, 'node-a', NOW);
    await node(db, 'node-peer', NOW);
    await row(db, 1, 'ann', 'node-a', 'running');
    await row(db, 2, 'bob', 'node-peer', 'running');
    const jobs = jobsOf(db, 'node-a', { t: NOW });
    await jobs.init();
    expect(await stateOf(db, 1)).toEqual({ state: 'failed', problem: STOPPED });
    expect(await stateOf(db, 2)).toEqual(kind === 'sqlite' ? { state: 'failed', problem: STOPPED } : { state: 'running', problem: null });
    await jobs.close();
  });

  it('two nodes sweeping at once remove an expired export and its object once, without error', async () => {
    const db = await dbs.fresh(kind);
    await node(db, 'node-a', NOW);
    await node(db, 'node-b', NOW);
    await row(db, 7, 'ann', 'node-a', 'done', NOW - DEFAULT_EXPORT_LIMITS.keepMs);
    await row(db, 8, 'ann', 'node-b', 'done', NOW - 1000);
    await objects.put(exportObjectKey(id(7)), Readable.from([Buffer.from('sealed bytes')]));
    const a = jobsOf(db, 'node-a', { t: NOW });
    const b = jobsOf(db, 'node-b', { t: NOW });
    await Promise.all([a.sweep(), b.sweep(), a.sweep(), b.sweep()]);
    expect(await stateOf(db, 7)).toBeUndefined();
    expect(await objects.exists(exportObjectKey(id(7)))).toBe(false);
    // not yet expired: kept
    expect(await stateOf(db, 8)).toEqual({ state: 'done', problem: null });
  });
});

describe('console export admission on PostgreSQL, two nodes starting at once', () => {
  it('admits one running export per user and three in all, however many starts race on both nodes', async () => {
    const dbA = dbs.get('postgres');
    const dbB = await dbs.connect('postgres');
    const holder = await dbs.connect('postgres');
    await dbA.run('DELETE FROM console_exports');
    await node(dbA, 'node-a', NOW);
    await node(dbA, 'node-b', NOW);
    const clock = { t: NOW };
    const a = jobsOf(dbA, 'node-a', clock);
    const b = jobsOf(dbB, 'node-b', clock);
    // the admitted exports stop at their first read (the signing key) until released: they stay running
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const gate = new Promise<void>((r) => (release = r));
    const held = holder.transaction(async (tx) => {
      await tx.exec('LOCK TABLE gateway_keys IN ACCESS EXCLUSIVE MODE');
      locked();
      await gate;
    });
    try {
      await isLocked;
      const same = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).start(request('ann'))));
      expect(same.filter((s) => s.ok)).toHaveLength(1);
      expect(same.filter((s) => !s.ok).map((s) => (s.ok ? '' : s.reason))).toEqual(Array.from({ length: 7 }, () => 'user-busy'));
      const others = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).start(request(`user${i}`))));
      expect(others.filter((s) => s.ok)).toHaveLength(2);
      expect(others.filter((s) => !s.ok).map((s) => (s.ok ? '' : s.reason))).toEqual(Array.from({ length: 6 }, () => 'busy'));
      expect((await dbA.all("SELECT id FROM console_exports WHERE state = 'running'")).length).toBe(3);
    } finally {
      release();
      await held;
    }
    await a.close();
    await b.close();
  });
});
