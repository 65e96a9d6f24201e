/**
 * `verifyArchive` on both databases (test/helpers/both-databases.ts): the
 * archive written through src/archive/entries.ts, its checkpoints signed by
 * the checkpoint writer, an untouched archive verifies, and alterations made
 * with SQL both engines run are found and named — among them those found
 * through the records pass, whose query reads fields of the events' JSON
 * (json_extract on SQLite, ->> on PostgreSQL). Two writers (two processes;
 * two nodes) creating the signing key and writing entries and checkpoints at
 * once leave an archive that verifies. The full set of alterations, some in
 * SQLite's own SQL, is in verify-store.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { writeCheckpoint, type Checkpoint } from '../../src/archive/checkpoints.js';
import { insertArchiveEntry } from '../../src/archive/entries.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/archive/signing-key.js';
import { jsonFieldSql, verifyArchive, type ArchiveVerifyOptions, type ArchiveVerifyResult } from '../../src/archive/verify.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import type { Dialect, SqlDatabase } from '../../src/db/sql-database.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';
import { archiveLife, entry, recipient } from '../helpers/archive-rows.js';

const dbs = bothDatabases();
const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);
const MIN = 60_000;

interface Fixture {
  readonly db: SqlDatabase;
  readonly key: SigningKey;
  readonly logged: Checkpoint[];
  readonly stoppedAt: number;
}

/** As verify-store.test.ts: start checkpoint; Q1 (two recipients), Q2; an update of Q1 #1 (old version kept in old_r1); a count checkpoint; Q3; stop. */
async function fixture(kind: Dialect): Promise<Fixture> {
  const db = await dbs.fresh(kind);
  const { key, logged, stoppedAt } = await archiveLife(db, T0);
  return { db, key, logged, stoppedAt };
}

async function verify(f: Fixture, extra: Partial<ArchiveVerifyOptions> = {}): Promise<ArchiveVerifyResult> {
  return verifyArchive(f.db, { now: f.stoppedAt + 5 * MIN, ...extra });
}

async function lastSeq(db: SqlDatabase): Promise<number> {
  return (await db.get<{ n: number }>('SELECT max(seq) AS n FROM audit_log'))?.n ?? 0;
}

interface Case {
  readonly name: string;
  /** The alteration, in SQL both engines run. */
  readonly alter: (f: Fixture) => Promise<void>;
  readonly check: string;
  readonly entry: string | RegExp;
  readonly reason: string;
}

const cases: Case[] = [
  { name: 'one message column changed', alter: (f) => f.db.exec(`UPDATE archive_messages SET sender = 'mallory@example.com' WHERE id = 'Q2'`), check: 'row', entry: 'entry Q2', reason: 'hash_mismatch' },
  { name: 'a BLOB column changed', alter: async (f) => void (await f.db.run(`UPDATE archive_messages SET wrapped_key = ? WHERE id = 'Q1'`, [Buffer.alloc(60)])), check: 'row', entry: 'entry Q1', reason: 'hash_mismatch' },
  {
    name: 'recipient evidence changed',
    alter: (f) => f.db.exec(`UPDATE archive_recipients SET evidence = replace(evidence, 'true', 'false') WHERE archive_id = 'Q1' AND seq = 1`),
    check: 'row',
    entry: 'entry Q1 recipient #1',
    reason: 'hash_mismatch',
  },
  { name: 'a recipient row deleted', alter: (f) => f.db.exec(`DELETE FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 2`), check: 'record', entry: /^audit event #\d+$/, reason: 'row_missing' },
  { name: 'a whole entry deleted (its recipients cascade)', alter: (f) => f.db.exec(`DELETE FROM archive_messages WHERE id = 'Q2'`), check: 'record', entry: /^audit event #\d+$/, reason: 'row_missing' },
  {
    name: 'two whole rows swapped, records and all',
    alter: (f) =>
      f.db.exec(`CREATE TEMP TABLE sw_a AS SELECT * FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 2;
                 CREATE TEMP TABLE sw_b AS SELECT * FROM archive_recipients WHERE archive_id = 'Q2' AND seq = 1;
                 UPDATE sw_a SET archive_id = 'Q2', seq = 1; UPDATE sw_b SET archive_id = 'Q1', seq = 2;
                 DELETE FROM archive_recipients WHERE (archive_id = 'Q1' AND seq = 2) OR (archive_id = 'Q2' AND seq = 1);
                 INSERT INTO archive_recipients SELECT * FROM sw_a; INSERT INTO archive_recipients SELECT * FROM sw_b;
                 DROP TABLE sw_a; DROP TABLE sw_b`),
    check: 'row',
    entry: 'entry Q1 recipient #2',
    reason: 'wrong_row',
  },
  {
    name: 'a row put back to its older version',
    alter: (f) => f.db.exec(`DELETE FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 1; INSERT INTO archive_recipients SELECT * FROM old_r1`),
    check: 'record',
    entry: /^audit event #\d+$/,
    reason: 'row_rolled_back',
  },
  { name: 'an audit row edited', alter: (f) => f.db.exec(`UPDATE audit_log SET ts = ts + 1 WHERE seq = 3`), check: 'audit', entry: 'audit event #3', reason: 'hash_mismatch' },
  {
    name: 'the newest entries dropped (last 4 audit rows and their archive rows)',
    alter: async (f) => {
      const cut = (await lastSeq(f.db)) - 4;
      await f.db.exec(`DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM archive_recipients WHERE record_seq > ${cut}; DELETE FROM archive_messages WHERE record_seq > ${cut}`);
    },
    check: 'checkpoint',
    entry: 'checkpoint #3',
    reason: 'truncated',
  },
  { name: "only the newest checkpoint's own event dropped", alter: async (f) => f.db.exec(`DELETE FROM audit_log WHERE seq = ${await lastSeq(f.db)}`), check: 'record', entry: 'checkpoint #3', reason: 'checkpoint_unrecorded' },
  { name: 'the newest checkpoint deleted', alter: (f) => f.db.exec(`DELETE FROM archive_checkpoints WHERE seq = 3`), check: 'record', entry: /^audit event #\d+$/, reason: 'checkpoint_missing' },
  { name: 'a middle checkpoint deleted', alter: (f) => f.db.exec(`DELETE FROM archive_checkpoints WHERE seq = 2`), check: 'checkpoint', entry: 'checkpoint #2', reason: 'gap' },
  { name: 'a checkpoint field edited', alter: (f) => f.db.exec(`UPDATE archive_checkpoints SET audit_seq = audit_seq - 1 WHERE seq = 2`), check: 'checkpoint', entry: 'checkpoint #2', reason: 'hash_mismatch' },
];

describe.each(DIALECTS)('archive verify on %s', (kind) => {
  it('an untouched archive verifies in any page size, with the logged checkpoints and the expected key', async () => {
    const f = await fixture(kind);
    for (const pageSize of [1, 2, 1000]) {
      const r = await verify(f, { pageSize });
      expect(r).toMatchObject({ ok: true, messages: 3, recipients: 4, records: 8, checkpoints: 3, keyFingerprint: f.key.fingerprint, uncovered: 1, anchors: 0 });
    }
    expect(f.logged.map((c) => c.reason)).toEqual(['start', 'count', 'stop']);
    expect(await verify(f, { anchors: f.logged, expectedFingerprint: f.key.fingerprint })).toMatchObject({ ok: true, anchors: 3 });
  });

  it.each(cases)('finds: $name', async (c) => {
    const f = await fixture(kind);
    expect((await verify(f)).ok).toBe(true);
    await c.alter(f);
    const r = await verify(f);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.check).toBe(c.check);
    expect(r.problem.reason).toBe(c.reason);
    if (typeof c.entry === 'string') expect(r.problem.entry).toBe(c.entry);
    else expect(r.problem.entry).toMatch(c.entry);
    expect(r.problem.detail).not.toMatch(/@/);
  });

  it('the disposal hook excuses the rows it says were disposed of', async () => {
    const f = await fixture(kind);
    await f.db.exec(`DELETE FROM archive_recipients WHERE archive_id = 'Q2'`);
    const seen: string[] = [];
    expect(await verify(f, { disposed: (ref) => (seen.push(`${ref.queueId}/${ref.part}/${String(ref.seq)}`), ref.queueId === 'Q2') })).toMatchObject({ ok: true });
    expect(seen).toEqual(['Q2/recipient/1']);
  });

  it('reads JSON fields: text, numbers, and NULL for an absent field or one of another kind', async () => {
    const db = dbs.get(kind);
    const read = async (data: string, field: string, as: 'text' | 'number'): Promise<unknown> =>
      (await db.get<{ v: unknown }>(`SELECT ${jsonFieldSql(kind, 'd.data', field, as)} AS v FROM (SELECT ? AS data) d`, [data]))?.v;
    expect(await read('{"queueId":"Q1","seq":2}', 'queueId', 'text')).toBe('Q1');
    expect(Number(await read('{"queueId":"Q1","seq":2}', 'seq', 'number'))).toBe(2);
    expect(await read('{"queueId":"Q1"}', 'seq', 'number')).toBeNull();
    if (kind === 'postgres') expect(await read('{"seq":"2"}', 'seq', 'number')).toBeNull();
    expect(() => jsonFieldSql(kind, 'a.data', "x') OR (1", 'text')).toThrow(TypeError);
  });

  it('two writers (processes or nodes) creating the key and writing entries and checkpoints at once leave an archive that verifies', async () => {
    const a = dbs.get(kind);
    const b = await dbs.connect(kind);
    const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
    // both find no key and create one at the same moment: one key wins, both use it
    const [ka, kb] = await Promise.all([loadOrCreateSigningKey(a, keyring, T0), loadOrCreateSigningKey(b, keyring, T0)]);
    expect(ka.fingerprint).toBe(kb.fingerprint);
    const work = async (db: SqlDatabase, prefix: string): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const id = `${prefix}${i}`;
        await db.transaction((tx) => insertArchiveEntry(tx, entry(id, T0 + i), [recipient(id, 1, 'bob@example.net'), recipient(id, 2, 'carol@example.org')], [], T0 + i));
        if (i % 4 === 3) await writeCheckpoint(db, ka, 'count', T0 + i);
      }
    };
    await Promise.all([work(a, 'A'), work(b, 'B'), work(a, 'C'), work(b, 'D')]);
    await writeCheckpoint(a, ka, 'stop', T0 + 100);
    expect(await verifyArchive(a, { now: T0 + 101, expectedFingerprint: ka.fingerprint })).toMatchObject({ ok: true, messages: 80, recipients: 160, checkpoints: 21, uncovered: 1 });
  });
});
