/**
 * `verifyArchive` on a real SQLite database whose archive rows were written
 * through src/archive/entries.ts and whose checkpoints were signed by the
 * checkpoint writer: an untouched archive verifies, and each alteration an
 * attacker with write access to the database could make — to one column,
 * one row, the order of the chain, its newest entries, a checkpoint — is
 * found and named.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, eventHash, GENESIS_HASH } from '../../src/audit/chain.js';
import { signCheckpoint, type Checkpoint } from '../../src/archive/checkpoints.js';
import { publicKeyFingerprint, type SigningKey } from '../../src/archive/signing-key.js';
import { verifyArchive, type ArchiveVerifyOptions, type ArchiveVerifyResult } from '../../src/archive/verify.js';
import { Keyring } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { archiveLife } from '../helpers/archive-rows.js';

const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);
const MIN = 60_000;

interface Fixture {
  readonly db: Database;
  readonly key: SigningKey;
  readonly keyring: Keyring;
  /** The checkpoints as the writer logged them (the outside copy). */
  readonly logged: Checkpoint[];
  /** Clock of the writer; the stop checkpoint was written at this time. */
  readonly stoppedAt: number;
}

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/**
 * A gateway's life in miniature: start checkpoint; entries Q1 (two
 * recipients) and Q2 (one); a delivery attempt updates Q1's recipient #1
 * (the old version is kept in table old_r1 for the roll-back case); a count
 * checkpoint; entry Q3; daemon:stopped and the stop checkpoint.
 */
async function fixture(options: { stop?: boolean } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-verify-'));
  dirs.push(dir);
  const db = await Database.open(join(dir, 'sealgate.db'));
  dbs.push(db);
  await migrate(db);
  const life = await archiveLife(db, T0, options);
  return { db, ...life };
}

async function verify(f: Fixture, extra: Partial<ArchiveVerifyOptions> = {}): Promise<ArchiveVerifyResult> {
  return verifyArchive(f.db, { now: f.stoppedAt + 5 * MIN, ...extra });
}

async function lastSeq(db: Database): Promise<number> {
  return (await db.get<{ n: number }>('SELECT max(seq) AS n FROM audit_log'))?.n ?? 0;
}

describe('archive verify on an untouched archive', () => {
  it('verifies, counting rows, records and checkpoints, in any page size', async () => {
    const f = await fixture();
    for (const pageSize of [1, 2, 1000]) {
      const r = await verify(f, { pageSize });
      expect(r).toMatchObject({ ok: true, messages: 3, recipients: 4, records: 8, checkpoints: 3, keyFingerprint: f.key.fingerprint, uncovered: 1, anchors: 0 });
      if (r.ok) expect(r.newestCheckpoint).toMatchObject({ seq: 3, reason: 'stop', auditSeq: (await lastSeq(f.db)) - 1 });
    }
  });

  it('verifies the logged checkpoints against the database', async () => {
    const f = await fixture();
    expect(f.logged.map((c) => c.reason)).toEqual(['start', 'count', 'stop']);
    expect(await verify(f, { anchors: f.logged, expectedFingerprint: f.key.fingerprint })).toMatchObject({ ok: true, anchors: 3 });
  });

  it('is still OK long after a clean stop', async () => {
    const f = await fixture();
    expect((await verify(f, { now: f.stoppedAt + 30 * 24 * 60 * MIN })).ok).toBe(true);
  });
});

/** An alteration made with plain SQL, and what verify must say. */
interface Case {
  readonly name: string;
  readonly sql: (f: Fixture) => Promise<string> | string;
  readonly check: string;
  readonly entry: string | RegExp;
  readonly reason: string;
}

const cases: Case[] = [
  { name: 'one message column changed', sql: () => `UPDATE archive_messages SET sender = 'mallory@example.com' WHERE id = 'Q2'`, check: 'row', entry: 'entry Q2', reason: 'hash_mismatch' },
  { name: 'a BLOB column changed', sql: () => `UPDATE archive_messages SET wrapped_key = zeroblob(60) WHERE id = 'Q1'`, check: 'row', entry: 'entry Q1', reason: 'hash_mismatch' },
  { name: 'recipient evidence changed', sql: () => `UPDATE archive_recipients SET evidence = replace(evidence, 'true', 'false') WHERE archive_id = 'Q1' AND seq = 1`, check: 'row', entry: 'entry Q1 recipient #1', reason: 'hash_mismatch' },
  { name: 'a recipient row deleted', sql: () => `DELETE FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 2`, check: 'record', entry: /^audit event #\d+$/, reason: 'row_missing' },
  { name: 'a whole entry deleted (its recipients cascade)', sql: () => `PRAGMA foreign_keys = ON; DELETE FROM archive_messages WHERE id = 'Q2'`, check: 'record', entry: /^audit event #\d+$/, reason: 'row_missing' },
  {
    name: "two rows' content swapped",
    sql: () => `UPDATE archive_recipients SET address = CASE archive_id WHEN 'Q1' THEN 'dave@example.net' ELSE 'carol@example.org' END,
                domain = CASE archive_id WHEN 'Q1' THEN 'example.net' ELSE 'example.org' END
                WHERE (archive_id = 'Q1' AND seq = 2) OR (archive_id = 'Q2' AND seq = 1)`,
    check: 'row',
    entry: 'entry Q1 recipient #2',
    reason: 'hash_mismatch',
  },
  {
    name: 'two whole rows swapped, records and all',
    sql: () => `CREATE TEMP TABLE a AS SELECT * FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 2;
                CREATE TEMP TABLE b AS SELECT * FROM archive_recipients WHERE archive_id = 'Q2' AND seq = 1;
                UPDATE temp.a SET archive_id = 'Q2', seq = 1; UPDATE temp.b SET archive_id = 'Q1', seq = 2;
                DELETE FROM archive_recipients WHERE (archive_id = 'Q1' AND seq = 2) OR (archive_id = 'Q2' AND seq = 1);
                INSERT INTO archive_recipients SELECT * FROM temp.a; INSERT INTO archive_recipients SELECT * FROM temp.b`,
    check: 'row',
    entry: 'entry Q1 recipient #2',
    reason: 'wrong_row',
  },
  {
    name: 'a row put back to its older version',
    sql: () => `DELETE FROM archive_recipients WHERE archive_id = 'Q1' AND seq = 1; INSERT INTO archive_recipients SELECT * FROM old_r1`,
    check: 'record',
    entry: /^audit event #\d+$/,
    reason: 'row_rolled_back',
  },
  { name: 'an audit row edited', sql: () => `UPDATE audit_log SET ts = ts + 1 WHERE seq = 3`, check: 'audit', entry: 'audit event #3', reason: 'hash_mismatch' },
  { name: 'an audit row removed', sql: () => `DELETE FROM audit_log WHERE seq = 4`, check: 'audit', entry: 'audit event #4', reason: 'gap' },
  {
    name: 'two audit rows reordered',
    sql: () => `UPDATE audit_log SET seq = -1 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; UPDATE audit_log SET seq = 6 WHERE seq = -1`,
    check: 'audit',
    entry: 'audit event #5',
    reason: 'prev_mismatch',
  },
  {
    name: 'the newest entries dropped (last 4 audit rows and their archive rows)',
    sql: async (f) => {
      const cut = (await lastSeq(f.db)) - 4;
      return `DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM archive_recipients WHERE record_seq > ${cut}; DELETE FROM archive_messages WHERE record_seq > ${cut}`;
    },
    check: 'checkpoint',
    entry: 'checkpoint #3',
    reason: 'truncated',
  },
  {
    name: "only the newest checkpoint's own event dropped",
    sql: async (f) => `DELETE FROM audit_log WHERE seq = ${await lastSeq(f.db)}`,
    check: 'record',
    entry: 'checkpoint #3',
    reason: 'checkpoint_unrecorded',
  },
  { name: 'the newest checkpoint deleted', sql: () => `DELETE FROM archive_checkpoints WHERE seq = 3`, check: 'record', entry: /^audit event #\d+$/, reason: 'checkpoint_missing' },
  { name: 'a middle checkpoint deleted', sql: () => `DELETE FROM archive_checkpoints WHERE seq = 2`, check: 'checkpoint', entry: 'checkpoint #2', reason: 'gap' },
  {
    name: 'a forged checkpoint signature',
    sql: () => `UPDATE archive_checkpoints SET signature = '${Buffer.alloc(64, 7).toString('base64')}' WHERE seq = 2`,
    check: 'checkpoint',
    entry: 'checkpoint #2',
    reason: 'bad_signature',
  },
  { name: 'a checkpoint field edited', sql: () => `UPDATE archive_checkpoints SET audit_seq = audit_seq - 1 WHERE seq = 2`, check: 'checkpoint', entry: 'checkpoint #2', reason: 'hash_mismatch' },
  {
    name: 'a checkpoint re-signed by another key',
    sql: async (f) => {
      const row = await f.db.get<{ ts: number; reason: string; audit_seq: number; audit_hash: string; prev_hash: string }>('SELECT * FROM archive_checkpoints WHERE seq = 2');
      if (!row) throw new Error('no checkpoint 2');
      const other = generateKeyPairSync('ed25519');
      const c = signCheckpoint(other.privateKey, { seq: 2, ts: row.ts, reason: row.reason, auditSeq: row.audit_seq, auditHash: row.audit_hash, prevHash: row.prev_hash, keyFingerprint: publicKeyFingerprint(other.publicKey) });
      return `UPDATE archive_checkpoints SET hash = '${c.hash}', key_fingerprint = '${c.keyFingerprint}', signature = '${c.signature}' WHERE seq = 2`;
    },
    check: 'checkpoint',
    entry: 'checkpoint #2',
    reason: 'other_key',
  },
];

describe('archive verify finds each alteration and names it', () => {
  it.each(cases)('$name', async (c) => {
    const f = await fixture();
    expect((await verify(f)).ok).toBe(true);
    await f.db.exec(await c.sql(f));
    const r = await verify(f);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.check).toBe(c.check);
    expect(r.problem.reason).toBe(c.reason);
    if (typeof c.entry === 'string') expect(r.problem.entry).toBe(c.entry);
    else expect(r.problem.entry).toMatch(c.entry);
    // never an address or other row content in the explanation
    expect(r.problem.detail).not.toMatch(/@/);
  });
});

describe('the disposal hook', () => {
  it('a missing row that the hook says was disposed of is not a problem; any other is', async () => {
    const f = await fixture();
    await f.db.exec(`DELETE FROM archive_recipients WHERE archive_id = 'Q2'`);
    const seen: string[] = [];
    const r = await verify(f, { disposed: (ref) => (seen.push(`${ref.queueId}/${ref.part}/${String(ref.seq)}`), ref.queueId === 'Q2') });
    expect(r.ok).toBe(true);
    expect(seen).toEqual(['Q2/recipient/1']);
    expect(await verify(f, { disposed: () => false })).toMatchObject({ ok: false, problem: { reason: 'row_missing' } });
  });
});

describe('the newest entries: what the database alone shows, and what the logged checkpoints add', () => {
  /** Drops everything after the count checkpoint, checkpoints included: a consistent older state. */
  async function rollBackToCountCheckpoint(f: Fixture): Promise<void> {
    const cp = await f.db.get<{ audit_seq: number }>('SELECT audit_seq FROM archive_checkpoints WHERE seq = 2');
    const cut = (cp?.audit_seq ?? 0) + 1; // keep the count checkpoint's own event
    await f.db.exec(`DELETE FROM audit_log WHERE seq > ${cut}; DELETE FROM archive_checkpoints WHERE seq > 2;
      DELETE FROM archive_recipients WHERE record_seq > ${cut}; DELETE FROM archive_messages WHERE record_seq > ${cut}`);
  }

  it('a roll-back to an older checkpoint passes within the interval, is stale after it, and fails against the logged checkpoints', async () => {
    const f = await fixture();
    await rollBackToCountCheckpoint(f);
    const countTs = T0 + 2 * MIN;
    expect((await verify(f, { now: countTs + 30 * MIN })).ok).toBe(true); // the documented limit: no outside copy, inside the interval
    const stale = await verify(f, { now: countTs + 2 * 60 * MIN });
    expect(stale).toMatchObject({ ok: false, problem: { check: 'head', entry: 'checkpoint #2', reason: 'stale' } });
    const anchored = await verify(f, { now: countTs + 30 * MIN, anchors: f.logged });
    expect(anchored).toMatchObject({ ok: false, problem: { check: 'anchor', entry: 'logged checkpoint #3', reason: 'anchor_missing' } });
  });

  it('everything removed — entries, checkpoints, the key — looks like a new gateway, except to the fingerprint and the log', async () => {
    const f = await fixture();
    await f.db.exec(`DELETE FROM audit_log; DELETE FROM archive_checkpoints; DELETE FROM archive_messages; DELETE FROM archive_recipients; DELETE FROM gateway_keys`);
    expect(await verify(f)).toMatchObject({ ok: true, messages: 0, checkpoints: 0 });
    expect(await verify(f, { expectedFingerprint: f.key.fingerprint })).toMatchObject({ ok: false, problem: { entry: 'gateway signing key', reason: 'no_key' } });
    expect(await verify(f, { anchors: f.logged })).toMatchObject({ ok: false, problem: { check: 'anchor', reason: 'no_key' } });
  });

  it('a gateway that did not stop cleanly is stale once the interval and slack have passed', async () => {
    const f = await fixture({ stop: false });
    expect((await verify(f, { now: T0 + 60 * MIN })).ok).toBe(true);
    expect(await verify(f, { now: T0 + 2 * MIN + 76 * MIN })).toMatchObject({ ok: false, problem: { reason: 'stale' } });
  });

  it("a rewrite signed with the attacker's own key verifies inside the database, and fails against the fingerprint kept elsewhere and the logged checkpoints", async () => {
    const f = await fixture();
    const other = generateKeyPairSync('ed25519');
    await rewriteWithKey(f.db, other.privateKey, publicKeyFingerprint(other.publicKey));
    await f.db.run('UPDATE gateway_keys SET public_key = ?, fingerprint = ?', [other.publicKey.export({ type: 'spki', format: 'pem' }).toString(), publicKeyFingerprint(other.publicKey)]);
    expect((await verify(f)).ok).toBe(true); // the documented limit: the database alone cannot tell
    expect(await verify(f, { expectedFingerprint: f.key.fingerprint })).toMatchObject({ ok: false, problem: { entry: 'gateway signing key', reason: 'other_key' } });
    expect(await verify(f, { anchors: f.logged })).toMatchObject({ ok: false, problem: { check: 'anchor', entry: 'logged checkpoint #1', reason: 'other_key' } });
  });
});

/**
 * What someone with write access to the database and a signing key of their
 * own can do: re-sign every checkpoint (each covers the event before its
 * archive:checkpoint event) and rehash the whole audit chain, in one pass.
 */
async function rewriteWithKey(db: Database, privateKey: KeyObject, fingerprint: string): Promise<void> {
  const events = await db.all<{ seq: number; ts: number; type: string; data: string }>('SELECT seq, ts, type, data FROM audit_log ORDER BY seq');
  let prevEventHash = GENESIS_HASH;
  let prevCheckpointHash = GENESIS_HASH;
  for (const e of events) {
    let data = JSON.parse(e.data) as Record<string, unknown>;
    if (e.type === 'archive:checkpoint') {
      const r = await db.get<{ seq: number; ts: number; reason: string; audit_seq: number }>('SELECT seq, ts, reason, audit_seq FROM archive_checkpoints WHERE seq = ?', [data.checkpoint as number]);
      if (!r || r.audit_seq !== e.seq - 1) throw new Error('unexpected checkpoint layout');
      const c = signCheckpoint(privateKey, { seq: r.seq, ts: r.ts, reason: r.reason, auditSeq: r.audit_seq, auditHash: prevEventHash, prevHash: prevCheckpointHash, keyFingerprint: fingerprint });
      await db.run('UPDATE archive_checkpoints SET audit_hash = ?, prev_hash = ?, hash = ?, key_fingerprint = ?, signature = ? WHERE seq = ?', [c.auditHash, c.prevHash, c.hash, fingerprint, c.signature, c.seq]);
      data = { ...data, sha256: c.hash };
      prevCheckpointHash = c.hash;
    }
    const hash = eventHash(prevEventHash, { seq: e.seq, ts: e.ts, type: e.type, data });
    await db.run('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?', [canonicalJson(data), prevEventHash, hash, e.seq]);
    prevEventHash = hash;
  }
}
