import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, eventHash, GENESIS_HASH } from '../../src/audit/chain.js';
import { AUDIT_EVENT_TYPES, type AuditEvent } from '../../src/audit/events.js';
import { appendAudit, appendAuditEvent, appendAuditEvents, auditChainHead, tailAudit, verifyAuditChain, type AuditBreakReason, type AuditVerifyResult } from '../../src/audit/log.js';
import { Database, type SqlValue } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { requireTool } from '../helpers/peers.js';

const T0 = Date.UTC(2026, 0, 1);

/** A varied, deterministic event for position i (1-based). */
function sampleEvent(i: number): AuditEvent {
  switch (i % 5) {
    case 0:
      return { type: 'users:added', data: { user: `user-${i}` } };
    case 1:
      return { type: 'ingress:connection_accepted', data: { sessionId: `s${i}`, listener: 'relay', remoteIp: '192.0.2.1' } };
    case 2:
      return {
        type: 'ingress:message_accepted',
        data: { queueId: `Q${i}`, sessionId: `s${i}`, connector: 'loopback', sender: `alice${i}@example.com`, recipients: ['bob@example.net', 'café@example.org'], size: 1000 + i },
      };
    case 3:
      return { type: 'ingress:connection_refused', data: { sessionId: `s${i}`, listener: 'relay', remoteIp: '198.51.100.7', reason: 'SG_CLIENT_NOT_ALLOWED' } };
    default:
      return { type: 'config:reload_refused', data: { problems: i } };
  }
}

interface RawRow {
  seq: number;
  ts: number;
  type: string;
  data: string;
  prev_hash: string;
  hash: string;
}

let dir: string;
let dbPath: string;
let db: Database;
const extraDbs: Database[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-audit-'));
  dbPath = join(dir, 'sealgate.db');
  db = await Database.open(dbPath);
  await migrate(db);
});

afterEach(async () => {
  for (const d of extraDbs.splice(0)) await d.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Appends events 1..n in one transaction (fast fixture). */
async function fill(n: number): Promise<void> {
  await db.transaction(async (tx) => {
    for (let i = 1; i <= n; i++) await appendAuditEvent(tx, sampleEvent(i), T0 + i);
  });
}

async function rawRow(seq: number): Promise<RawRow> {
  const row = await db.get<RawRow>('SELECT * FROM audit_log WHERE seq = ?', [seq]);
  if (!row) throw new Error(`no row ${seq}`);
  return row;
}

async function rowCount(): Promise<number> {
  return (await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))?.n ?? -1;
}

describe('appendAudit / verifyAuditChain', () => {
  it('verifies an empty log', async () => {
    expect(await verifyAuditChain(db)).toEqual({ ok: true, count: 0, lastHash: GENESIS_HASH });
  });

  it('appends 50 events that verify, each linked to the previous', async () => {
    const results: { seq: number; hash: string }[] = [];
    for (let i = 1; i <= 50; i++) results.push(await appendAudit(db, sampleEvent(i), T0 + i));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

    const first = await rawRow(1);
    expect(first.prev_hash).toBe(GENESIS_HASH);
    expect(first.hash).toBe(results[0]?.hash);
    for (let seq = 2; seq <= 50; seq++) expect((await rawRow(seq)).prev_hash).toBe(results[seq - 2]?.hash);

    const expected: AuditVerifyResult = { ok: true, count: 50, lastHash: results[49]?.hash ?? '' };
    expect(await verifyAuditChain(db)).toEqual(expected);
    for (const pageSize of [1, 7, 49, 50, 51]) expect(await verifyAuditChain(db, { pageSize })).toEqual(expected);
  });

  it('stores data as canonical JSON without unknown fields', async () => {
    await appendAudit(db, { type: 'ingress:message_rejected', data: { sessionId: 's1', reply: '552 5.3.4', reason: 'SG_MESSAGE_TOO_BIG', connector: undefined } }, T0);
    const row = await rawRow(1);
    expect(row).toMatchObject({ seq: 1, ts: T0, type: 'ingress:message_rejected', data: '{"reason":"SG_MESSAGE_TOO_BIG","reply":"552 5.3.4","sessionId":"s1"}' });
    expect(row.hash).toBe(eventHash(GENESIS_HASH, { seq: 1, ts: T0, type: row.type, data: JSON.parse(row.data) }));
  });

  it('uses the hash construction documented in docs/audit.md (string concatenation of the columns)', async () => {
    await fill(20);
    const rows = await db.all<RawRow>('SELECT * FROM audit_log ORDER BY seq');
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const text = `${r.prev_hash}\n{"data":${r.data},"seq":${r.seq},"ts":${r.ts},"type":${JSON.stringify(r.type)}}`;
      expect(r.prev_hash).toBe(prev);
      expect(createHash('sha256').update(text, 'utf8').digest('hex')).toBe(r.hash);
      prev = r.hash;
    }
  });

  it('can be re-verified with the sqlite3 shell and sha256sum (docs/audit.md recipe)', async (ctx) => {
    requireTool(ctx, 'sqlite3');
    requireTool(ctx, 'sha256sum');
    await fill(3);
    const run = promisify(execFile);
    const sql = `SELECT prev_hash || char(10) || '{"data":' || data || ',"seq":' || seq || ',"ts":' || ts || ',"type":"' || type || '"}' FROM audit_log WHERE seq = 3`;
    const { stdout } = await run('sh', ['-c', 'printf "%s" "$(sqlite3 "$1" "$2")" | sha256sum', 'sh', dbPath, sql]);
    expect(stdout.slice(0, 64)).toBe((await rawRow(3)).hash);
  });

  const data17 = sampleEvent(17).data as Record<string, unknown>; // an ingress:message_accepted
  it.each<[string, string, SqlValue[], number, AuditBreakReason, number]>([
    // name, SQL, params, brokenAt, reason, count (events before the break that verify)
    ['data edited (canonical JSON, other recipient)', 'UPDATE audit_log SET data = ? WHERE seq = 17', [canonicalJson({ ...data17, recipients: ['eve@example.net'] })], 17, 'hash_mismatch', 16],
    ['data edited in place with replace()', 'UPDATE audit_log SET data = replace(data, \'"user-15"\', \'"mallory"\') WHERE seq = 15', [], 15, 'hash_mismatch', 14],
    ['data with keys out of order (not canonical)', 'UPDATE audit_log SET data = ? WHERE seq = 17', [JSON.stringify(data17)], 17, 'bad_data', 16],
    ['data with whitespace (not canonical)', "UPDATE audit_log SET data = replace(data, ',', ', ') WHERE seq = 17", [], 17, 'bad_data', 16],
    ['data not JSON', "UPDATE audit_log SET data = 'not json' WHERE seq = 17", [], 17, 'bad_data', 16],
    ['data with a number out of range', "UPDATE audit_log SET data = '{\"n\":1e999}' WHERE seq = 17", [], 17, 'bad_data', 16],
    ['type edited', "UPDATE audit_log SET type = 'ingress:connection_accepted' WHERE seq = 17", [], 17, 'hash_mismatch', 16],
    ['ts edited', 'UPDATE audit_log SET ts = ts + 1 WHERE seq = 17', [], 17, 'hash_mismatch', 16],
    ['ts made text', "UPDATE audit_log SET ts = 'yesterday' WHERE seq = 17", [], 17, 'bad_data', 16],
    ['hash edited', "UPDATE audit_log SET hash = CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END || substr(hash, 2) WHERE seq = 17", [], 17, 'hash_mismatch', 16],
    ['row deleted', 'DELETE FROM audit_log WHERE seq = 17', [], 17, 'gap', 16],
    ['row moved to another seq', 'UPDATE audit_log SET seq = 1000 WHERE seq = 17', [], 17, 'gap', 16],
    ['first row deleted', 'DELETE FROM audit_log WHERE seq = 1', [], 1, 'gap', 0],
    ['prev_hash edited', 'UPDATE audit_log SET prev_hash = ? WHERE seq = 17', ['f'.repeat(64)], 17, 'prev_mismatch', 16],
    ['first prev_hash not genesis', 'UPDATE audit_log SET prev_hash = ? WHERE seq = 1', ['1'.repeat(64)], 1, 'prev_mismatch', 0],
    ['event appended with a forged link', "INSERT INTO audit_log (seq, ts, type, data, prev_hash, hash) VALUES (51, 0, 'users:added', '{\"user\":\"x\"}', ?, ?)", [GENESIS_HASH, GENESIS_HASH], 51, 'prev_mismatch', 50],
  ])('detects: %s', async (_name, sql, params, brokenAt, reason, count) => {
    await fill(50);
    await db.run(sql, params);
    const expected = { ok: false, count, brokenAt, reason };
    expect(await verifyAuditChain(db)).toEqual(expected);
    for (const pageSize of [1, 7, 16, 17]) expect(await verifyAuditChain(db, { pageSize })).toEqual(expected);
  });

  it('detects rows 17 and 18 swapped at 17 (prev_mismatch)', async () => {
    await fill(50);
    await db.transaction(async (tx) => {
      await tx.run('UPDATE audit_log SET seq = -1 WHERE seq = 17');
      await tx.run('UPDATE audit_log SET seq = 17 WHERE seq = 18');
      await tx.run('UPDATE audit_log SET seq = 18 WHERE seq = -1');
    });
    expect(await verifyAuditChain(db)).toEqual({ ok: false, count: 16, brokenAt: 17, reason: 'prev_mismatch' });
  });

  it('detects an edit whose own hash was recomputed at the NEXT event (18, prev_mismatch)', async () => {
    await fill(50);
    const r = await rawRow(17);
    const data = canonicalJson({ ...(JSON.parse(r.data) as Record<string, unknown>), remoteIp: '203.0.113.66' });
    const hash = eventHash(r.prev_hash, { seq: 17, ts: r.ts, type: r.type, data: JSON.parse(data) });
    await db.run('UPDATE audit_log SET data = ?, hash = ? WHERE seq = 17', [data, hash]);
    expect(await verifyAuditChain(db)).toEqual({ ok: false, count: 17, brokenAt: 18, reason: 'prev_mismatch' });
  });

  it('a full rewrite from 17 on verifies, but lastHash differs from a recorded one (tamper-evident, not tamper-proof)', async () => {
    await fill(50);
    const before = await verifyAuditChain(db);
    expect(before.ok).toBe(true);
    await db.transaction(async (tx) => {
      let prev = (await rawRow(16)).hash;
      for (let seq = 17; seq <= 50; seq++) {
        const r = await rawRow(seq);
        const data = seq === 17 ? canonicalJson({ ...(JSON.parse(r.data) as Record<string, unknown>), remoteIp: '203.0.113.66' }) : r.data;
        const hash = eventHash(prev, { seq, ts: r.ts, type: r.type, data: JSON.parse(data) });
        await tx.run('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?', [data, prev, hash, seq]);
        prev = hash;
      }
    });
    const after = await verifyAuditChain(db);
    expect(after).toMatchObject({ ok: true, count: 50 });
    expect(after.ok && before.ok && after.lastHash !== before.lastHash).toBe(true);
  });

  it('two connections (two "processes") appending alternately produce one valid chain', async () => {
    const other = await Database.open(dbPath);
    extraDbs.push(other);
    for (let i = 0; i < 20; i++) {
      expect(await appendAudit(db, { type: 'users:added', data: { user: `a${i}` } }, T0 + i)).toMatchObject({ seq: 2 * i + 1 });
      // the caller's own transaction, as the SMTP ingress uses it
      const r = await other.transaction(async (tx) => {
        await tx.run('INSERT INTO users (name, hash, created_at) VALUES (?, ?, ?)', [`b${i}`, 'x', T0]);
        return appendAuditEvent(tx, { type: 'users:added', data: { user: `b${i}` } }, T0 + i);
      });
      expect(r.seq).toBe(2 * i + 2);
    }
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 40 });
    expect(await verifyAuditChain(other, { pageSize: 9 })).toMatchObject({ ok: true, count: 40 });
    expect((await tailAudit(db, 4)).map((e) => (e.data as { user: string }).user)).toEqual(['a18', 'b18', 'a19', 'b19']);
  });

  it('an append on one connection waits for the other connection\'s open write transaction', async () => {
    const other = await Database.open(dbPath);
    extraDbs.push(other);
    await appendAudit(db, sampleEvent(1), T0);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slow = other.transaction(async (tx) => {
      const r = await appendAuditEvent(tx, { type: 'users:added', data: { user: 'slow' } }, T0 + 1);
      entered();
      await held;
      return r;
    });
    await inside;
    const fast = appendAudit(db, { type: 'users:added', data: { user: 'fast' } }, T0 + 2);
    await new Promise((r) => setTimeout(r, 100));
    // a third connection (db's own is busy waiting for the lock) sees neither append committed yet
    const reader = await Database.open(dbPath, { readOnly: true });
    extraDbs.push(reader);
    expect(await reader.get('SELECT count(*) AS n FROM audit_log')).toEqual({ n: 1 });
    release();
    expect(await slow).toMatchObject({ seq: 2 });
    expect(await fast).toMatchObject({ seq: 3 });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 3 });
  });

  it('two connections appending concurrently produce one valid chain', async () => {
    const other = await Database.open(dbPath);
    extraDbs.push(other);
    const writer = async (conn: Database, prefix: string): Promise<number[]> => {
      const seqs: number[] = [];
      for (let i = 0; i < 30; i++) {
        seqs.push((await appendAudit(conn, { type: 'users:added', data: { user: `${prefix}${i}` } }, T0 + i)).seq);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
      }
      return seqs;
    };
    const [a, b] = await Promise.all([writer(db, 'a'), writer(other, 'b')]);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 60 });
  });

  it('an append inside a transaction that rolls back leaves no row, and the chain continues', async () => {
    await appendAudit(db, sampleEvent(1), T0);
    await expect(
      db.transaction(async (tx) => {
        await appendAuditEvent(tx, sampleEvent(2), T0 + 1);
        throw new Error('queue insert failed');
      }),
    ).rejects.toThrow('queue insert failed');
    expect(await rowCount()).toBe(1);
    expect(await appendAudit(db, sampleEvent(3), T0 + 2)).toMatchObject({ seq: 2 });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, count: 2 });
  });

  it.each<[string, unknown]>([
    ['unknown type', { type: 'ingress:message_read', data: { sessionId: 's1' } }],
    ['type not in stage:event list', { type: 'toString', data: {} }],
    ['missing type', { data: { user: 'x' } }],
    ['data not an object', { type: 'users:added', data: 'x' }],
    ['field not declared (subject)', { type: 'ingress:message_accepted', data: { queueId: 'Q', sessionId: 's', connector: 'c', sender: 'a@b', recipients: [], size: 1, subject: 'Secret diagnosis' } }],
    ['field not declared (password)', { type: 'ingress:auth_failed', data: { sessionId: 's', listener: 'l', remoteIp: '192.0.2.1', user: 'u', method: 'PLAIN', password: 'hunter2hunter2' } }],
    ['required field missing', { type: 'users:added', data: {} }],
    ['wrong kind (string for integer)', { type: 'config:reload_refused', data: { problems: '3' } }],
    ['wrong kind (non-integer)', { type: 'ingress:message_accepted', data: { queueId: 'Q', sessionId: 's', connector: 'c', sender: 'a@b', recipients: [], size: 1.5 } }],
    ['wrong kind (array element)', { type: 'ingress:message_accepted', data: { queueId: 'Q', sessionId: 's', connector: 'c', sender: 'a@b', recipients: [1], size: 1 } }],
    ['reason not an SG_* code', { type: 'ingress:connection_refused', data: { sessionId: 's', listener: 'l', remoteIp: '192.0.2.1', reason: 'because' } }],
  ])('refuses an invalid event (%s) and writes nothing', async (_name, event) => {
    await expect(appendAudit(db, event as AuditEvent, T0)).rejects.toThrow(TypeError);
    await expect(db.transaction((tx) => appendAuditEvent(tx, event as AuditEvent, T0))).rejects.toThrow(TypeError);
    expect(await rowCount()).toBe(0);
  });

  it('refuses a non-integer time', async () => {
    await expect(appendAudit(db, sampleEvent(1), 1.5)).rejects.toThrow(TypeError);
    expect(await rowCount()).toBe(0);
  });

  it('accepts every declared event type', async () => {
    expect(AUDIT_EVENT_TYPES).toContain('ingress:message_accepted');
    expect(new Set(AUDIT_EVENT_TYPES).size).toBe(AUDIT_EVENT_TYPES.length);
    for (const t of AUDIT_EVENT_TYPES) expect(t).toMatch(/^[a-z]+:[a-z_]+$/);
  });
});

describe('tailAudit', () => {
  it('returns the last rows in ascending order, parsed', async () => {
    await fill(12);
    const tail = await tailAudit(db, 5);
    expect(tail.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    const r12 = await rawRow(12);
    expect(tail[4]).toEqual({ seq: 12, ts: T0 + 12, type: 'ingress:message_accepted', data: JSON.parse(r12.data) as unknown, hash: r12.hash });
    expect(tail[4]?.data).toMatchObject({ recipients: ['bob@example.net', 'café@example.org'] });
    expect((await tailAudit(db, 100)).map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('with afterSeq returns the rows after it, a page at a time', async () => {
    await fill(12);
    expect((await tailAudit(db, 4, 3)).map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    expect((await tailAudit(db, 100, 10)).map((e) => e.seq)).toEqual([11, 12]);
    expect(await tailAudit(db, 100, 12)).toEqual([]);
  });

  it('is empty for an empty log and rejects a bad limit', async () => {
    expect(await tailAudit(db, 10)).toEqual([]);
    await expect(tailAudit(db, 0)).rejects.toThrow(RangeError);
    await expect(tailAudit(db, 1.5)).rejects.toThrow(RangeError);
  });

  it('throws SG_AUDIT_BROKEN for a row whose data is not JSON', async () => {
    await fill(3);
    await db.run("UPDATE audit_log SET data = '{' WHERE seq = 2");
    await expect(tailAudit(db, 10)).rejects.toMatchObject({ code: 'SG_AUDIT_BROKEN' });
  });
});

describe('the chain head within and across group commits', () => {
  // each step appends through one of two connections to the same file (the daemon and a CLI command), or rolls back
  it.each([
    { name: 'another process appends between two of ours', steps: ['a', 'b', 'a', 'b', 'b', 'a'] },
    { name: 'a rolled-back transaction, then an append', steps: ['a', 'a-rollback', 'a', 'b', 'a-rollback', 'b', 'a'] },
    { name: 'a failing transaction among a group, others commit', steps: ['a', 'a-group-with-failure', 'a', 'b', 'a-group-with-failure'] },
  ])('$name: the chain stays whole and gapless', async ({ steps }) => {
    const other = await Database.open(dbPath);
    extraDbs.push(other);
    let i = 0;
    let expected = 0;
    for (const step of steps) {
      i++;
      if (step === 'a' || step === 'b') {
        await (step === 'a' ? db : other).transaction((tx) => appendAuditEvent(tx, sampleEvent(i), T0 + i));
        expected++;
      } else if (step === 'a-rollback') {
        await expect(
          db.transaction(async (tx) => {
            await appendAuditEvent(tx, sampleEvent(i), T0 + i);
            throw new Error('the rest of the work failed');
          }),
        ).rejects.toThrow('the rest of the work failed');
      } else {
        const outcomes = await Promise.allSettled(
          [0, 1, 2].map((k) =>
            db.transaction(async (tx) => {
              await appendAuditEvent(tx, sampleEvent(i * 10 + k), T0 + i);
              if (k === 1) throw new Error('this one fails');
            }),
          ),
        );
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expected += 2;
      }
    }
    expect(await rowCount()).toBe(expected);
    const result = await verifyAuditChain(db);
    expect(result.ok && result.count).toBe(expected);
    const seqs = (await db.all<{ seq: number }>('SELECT seq FROM audit_log ORDER BY seq')).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: expected }, (_, k) => k + 1));
  });

  it('events of one group commit are stored under the seq and hash each append returned; a failed transaction takes its own back', async () => {
    await fill(3);
    // five transactions asked for at once commit as one group; the third fails after appending
    const outcomes = await Promise.allSettled(
      [0, 1, 2, 3, 4].map((k) =>
        db.transaction(async (tx) => {
          const appended = await appendAuditEvents(tx, [sampleEvent(100 + k), sampleEvent(200 + k)], T0 + 100 + k);
          if (k === 2) throw new Error('this one fails');
          // what the transaction sees as the head is its own last event
          expect(await auditChainHead(tx)).toEqual(appended[1]);
          return appended;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const returned = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value : []));
    const stored = await db.all<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log WHERE seq > 3 ORDER BY seq');
    expect(stored).toEqual(returned);
    expect(stored.map((r) => r.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const result = await verifyAuditChain(db);
    expect(result.ok && result.count).toBe(11);
    // outside a transaction the head is the table's last row
    expect(await auditChainHead(db)).toEqual(stored[stored.length - 1]);
  });
});
