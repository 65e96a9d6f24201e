/**
 * Archive retention on both databases (docs/scale-out.md): the same entries
 * (test/helpers/archive-content.ts, written as the archiver writes them) are
 * held, purged and released with the same outcome on SQLite and PostgreSQL
 * — the summary, every row's state, the terms, the objects, the audit
 * events, and `archive verify` afterwards. With two writers at once (two
 * connections: two pools on PostgreSQL, as two nodes or an operator beside
 * the console have) two purges and a hold share the work: each entry is
 * purged once, the pack whose last entry goes is deleted once, and a hold
 * racing the purge either holds a live entry or finds it purged, never
 * both. On PostgreSQL the purged tables are vacuumed, so no page of them
 * (read raw, free space included, through pageinspect) still holds a
 * destroyed key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/log.js';
import { writeCheckpoint } from '../../src/archive/checkpoints.js';
import { readArchiveContent } from '../../src/archive/content.js';
import { pendingAware } from '../../src/archive/pending.js';
import { holdEntries, purgeArchive, type PurgeSummary } from '../../src/archive/retention.js';
import { entryKey } from '../../src/archive/show.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/archive/signing-key.js';
import { categoryTerm } from '../../src/archive/terms.js';
import { verifyArchive } from '../../src/archive/verify.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import type { Dialect, SqlDatabase } from '../../src/db/sql-database.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import type { ObjectStore } from '../../src/objects/object-store.js';
import { A, B, C, D, DAY, E, F, writeContentEntries, YEARS6, type ContentEntries } from '../helpers/archive-content.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const T0 = Date.UTC(2020, 0, 6, 8, 0, 0);
/** The purge clock: six years and a bit after T0 (A..E due, F not). */
const NOW = T0 + YEARS6 + 10 * DAY;
const ops = { operator: 'auditor', via: 'cli' } as const;

const dbs = bothDatabases();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Fixture extends ContentEntries {
  readonly db: SqlDatabase;
  readonly objects: LocalObjectStore;
  readonly keyring: Keyring;
  readonly key: SigningKey;
}

async function fixture(db: SqlDatabase): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-retention-both-'));
  dirs.push(dir);
  const objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  const key = await loadOrCreateSigningKey(db, keyring, T0);
  await appendAudit(db, { type: 'daemon:started', data: { version: 'test' } }, T0);
  await writeCheckpoint(db, key, 'start', T0);
  return { db, objects, keyring, key, ...(await writeContentEntries(db, objects, keyring, T0)) };
}

/** Each entry's retention state, as both databases give it. */
async function states(f: Fixture): Promise<Record<string, unknown>[]> {
  const rows = await f.db.all<{ id: string; hold: number; purged_at: number | null; wrapped_key: unknown; subject_sealed: unknown }>(
    'SELECT id, hold, purged_at, wrapped_key, subject_sealed FROM archive_messages ORDER BY id',
  );
  return rows.map((r) => ({ id: r.id, hold: r.hold, purgedAt: r.purged_at, key: r.wrapped_key !== null, subject: r.subject_sealed !== null }));
}

async function termCounts(f: Fixture): Promise<Record<string, number>> {
  const rows = await f.db.all<{ archive_id: string; n: number }>('SELECT archive_id, COUNT(*) AS n FROM archive_terms GROUP BY archive_id ORDER BY archive_id');
  return Object.fromEntries(rows.map((r) => [r.archive_id, r.n]));
}

async function events(f: Fixture, type: string): Promise<Record<string, unknown>[]> {
  const rows = await f.db.all<{ data: string }>('SELECT data FROM audit_log WHERE type = ? ORDER BY seq', [type]);
  return rows.map((r) => JSON.parse(r.data) as Record<string, unknown>);
}

async function content(f: Fixture, id: string): Promise<Buffer> {
  const k = await entryKey(f.db, id);
  if (!k || k === 'purged') throw new Error(`entry ${id} has no key`);
  const chunks: Buffer[] = [];
  for await (const c of readArchiveContent(pendingAware(f.objects, f.db), f.keyring, k)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function verifiedAt(f: Fixture, at: number): Promise<{ ok: boolean }> {
  await appendAudit(f.db, { type: 'daemon:stopped', data: { reason: 'test' } }, at);
  await writeCheckpoint(f.db, f.key, 'stop', at);
  return verifyArchive(f.db, { now: at + 60_000 });
}

describe.each(DIALECTS)('archive retention on %s', (kind: Dialect) => {
  it('hold, dry run, purge and release change the same rows, terms and objects, audited; verify stays OK', async () => {
    const f = await fixture(await dbs.fresh(kind));
    const due = [A, C, D, E];
    expect(await holdEntries(f.db, [B], { hold: true, ...ops, reason: 'litigation 2025-17' }, NOW - DAY)).toEqual({ matched: 1, changed: 1, unchanged: 0, purged: 0 });
    const before = JSON.stringify(await states(f));
    const dry = await purgeArchive(f.db, f.objects, { now: NOW, dryRun: true, batchSize: 2, ...ops });
    expect(JSON.stringify(await states(f))).toBe(before);

    const summary = await purgeArchive(f.db, f.objects, { now: NOW, batchSize: 2, ...ops });
    expect(summary).toEqual<PurgeSummary>({
      dryRun: false, before: NOW, entries: 4, oldestReceived: T0 + DAY, newestReceived: T0 + 5 * DAY, objectsDeleted: 1, objectsKept: 2, heldExpired: 1,
    });
    expect(dry).toEqual({ ...summary, dryRun: true });
    expect(await states(f)).toEqual([A, B, C, D, E, F].map((id) => {
      const gone = due.includes(id);
      return { id, hold: id === B ? 1 : 0, purgedAt: gone ? NOW : null, key: !gone, subject: !gone };
    }));
    // subject-word terms go with the subject; the category term stays with the verdict
    const terms = await termCounts(f);
    for (const id of due) expect(terms[id]).toBe(1);
    expect(await f.db.get('SELECT term FROM archive_terms WHERE archive_id = ?', [A])).toEqual({ term: categoryTerm('SSN') });
    expect(terms[B]).toBeGreaterThan(1);
    expect(await f.objects.exists(f.objectOf.get(D) ?? '')).toBe(false);
    expect(await f.objects.exists(f.objectOf.get(A) ?? '')).toBe(true);
    expect(await content(f, B)).toEqual(f.bytesOf.get(B));
    expect(await content(f, F)).toEqual(f.bytesOf.get(F));
    expect((await events(f, 'archive:purged')).flatMap((e) => e.queueIds as string[]).sort()).toEqual(due);

    // release, then the next purge takes B and with it P1
    expect(await holdEntries(f.db, [B, A], { hold: false, ...ops }, NOW + DAY)).toEqual({ matched: 2, changed: 1, unchanged: 1, purged: 0 });
    expect(await purgeArchive(f.db, f.objects, { now: NOW + 2 * DAY, ...ops })).toMatchObject({ entries: 1, objectsDeleted: 1, objectsKept: 0, heldExpired: 0 });
    expect(await f.objects.exists(f.objectOf.get(A) ?? '')).toBe(false);
    // a purged entry is not held again
    expect(await holdEntries(f.db, [A], { hold: true, ...ops }, NOW + 3 * DAY)).toEqual({ matched: 1, changed: 0, unchanged: 0, purged: 1 });
    expect(await verifiedAt(f, NOW + 4 * DAY)).toMatchObject({ ok: true, messages: 6 });
  });

  it('two purges and a hold at once, on two connections: every entry purged once, each object deleted once, the hold and the purge never both', async () => {
    const one = dbs.get(kind);
    const two = await dbs.connect(kind);
    const f = await fixture(one);
    const g: Fixture = { ...f, db: two };
    const deletes: string[] = [];
    // the real store, each deletion noted (a purge deletes objects and nothing else of the store)
    const counting = (store: LocalObjectStore): ObjectStore =>
      ({
        delete: async (key: string) => {
          deletes.push(key);
          await store.delete(key);
        },
      }) as Pick<ObjectStore, 'delete'> as ObjectStore;
    const [p1, p2, held] = await Promise.all([
      purgeArchive(f.db, counting(f.objects), { now: NOW, batchSize: 1, ...ops }),
      purgeArchive(g.db, counting(f.objects), { now: NOW, batchSize: 1, ...ops }),
      holdEntries(g.db, [C], { hold: true, ...ops, reason: 'racing the purge' }, NOW),
    ]);
    const named = (await events(f, 'archive:purged')).flatMap((e) => e.queueIds as string[]);
    expect(new Set(named).size).toBe(named.length);
    expect(p1.entries + p2.entries).toBe(named.length);
    const c = (await states(f)).find((s) => s.id === C);
    if (held.changed === 1) {
      // the hold came first: C stays, and so does its pack
      expect(c).toMatchObject({ hold: 1, purgedAt: null, key: true });
      expect(named.sort()).toEqual([A, B, D, E]);
      expect(deletes).toEqual([f.objectOf.get(D)]);
    } else {
      // the purge came first: C is gone and the hold found it purged
      expect(held).toEqual({ matched: 1, changed: 0, unchanged: 0, purged: 1 });
      expect(c).toMatchObject({ hold: 0, purgedAt: NOW, key: false });
      expect(named.sort()).toEqual([A, B, C, D, E]);
      expect(deletes.sort()).toEqual([f.objectOf.get(A), f.objectOf.get(D)].sort());
    }
    expect(p1.objectsDeleted + p2.objectsDeleted).toBe(deletes.length);
    expect(await verifiedAt(f, NOW + DAY)).toMatchObject({ ok: true, messages: 6 });
  });
});

describe('crypto-shredding on PostgreSQL', () => {
  it('the purge vacuums: no page of the purged tables (raw, free space included) holds a destroyed key or sealed subject afterwards', async () => {
    const db = await dbs.fresh('postgres');
    const f = await fixture(db);
    await db.exec('CREATE EXTENSION IF NOT EXISTS pageinspect');
    const secrets: Buffer[] = [];
    for (const r of await db.all<{ wrapped_key: Buffer; subject_sealed: Buffer }>('SELECT wrapped_key, subject_sealed FROM archive_messages WHERE id IN (?, ?, ?, ?, ?)', [A, B, C, D, E])) {
      secrets.push(r.wrapped_key, r.subject_sealed);
    }
    const pages = async (): Promise<Buffer> => {
      const out: Buffer[] = [];
      for (const table of ['archive_messages', 'archive_terms']) {
        const n = (await db.get<{ n: number }>(`SELECT pg_relation_size('${table}') / current_setting('block_size')::int AS n`))?.n ?? 0;
        for (let i = 0; i < n; i++) out.push((await db.get<{ p: Buffer }>(`SELECT get_raw_page('${table}', ?) AS p`, [i]))?.p ?? Buffer.alloc(0));
      }
      return Buffer.concat(out);
    };
    // the secrets are in the pages before (so the search below can find them)
    const before = await pages();
    expect(secrets.every((s) => before.includes(s))).toBe(true);
    await purgeArchive(db, f.objects, { now: NOW, ...ops });
    const after = await pages();
    expect(secrets.filter((s) => after.includes(s))).toEqual([]);
    // F, not due, keeps its key and content
    expect(await content(f, F)).toEqual(f.bytesOf.get(F));
  });
});
