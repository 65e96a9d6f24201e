/**
 * Checkpoints: when they are due (pure), the gateway signing key (created
 * once, sealed under the master key), the writer on a real SQLite database,
 * the ARCHIVE_CHECKPOINT log line, and real OpenSSL checking our signature
 * and fingerprint the way docs/archive.md tells an auditor to.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/audit/log.js';
import { checkpointBody, checkpointDue, checkpointFromLogLine, CheckpointWriter, type Checkpoint, type CheckpointState } from '../../src/archive/checkpoints.js';
import { loadOrCreateSigningKey, readPublicSigningKey } from '../../src/archive/signing-key.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);
const HOUR = 3_600_000;

describe('checkpointDue', () => {
  it.each<[string, CheckpointState, string | undefined]>([
    ['none yet', { last: undefined, headSeq: 0, now: 0 }, 'interval'],
    ['nothing new, recent', { last: { ts: 0, auditSeq: 10 }, headSeq: 11, now: HOUR - 1 }, undefined],
    ['an hour passed, idle', { last: { ts: 0, auditSeq: 10 }, headSeq: 11, now: HOUR }, 'interval'],
    ['500 events since', { last: { ts: 0, auditSeq: 10 }, headSeq: 510, now: 1 }, 'count'],
    ['499 events since', { last: { ts: 0, auditSeq: 10 }, headSeq: 509, now: 1 }, undefined],
    ['count wins over interval', { last: { ts: 0, auditSeq: 10 }, headSeq: 600, now: 2 * HOUR }, 'count'],
  ])('%s', (_name, state, expected) => {
    expect(checkpointDue(state)).toBe(expected);
  });
});

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function freshDb(): Promise<{ db: Database; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-cp-'));
  dirs.push(dir);
  const db = await Database.open(join(dir, 'sealgate.db'));
  dbs.push(db);
  await migrate(db);
  return { db, dir };
}

function keyring(): Keyring {
  return new Keyring(masterKeyFromBytes(randomBytes(32)));
}

function capture(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString('utf8').split('\n').filter(Boolean)), cb()) }) });
  return { log, lines };
}

describe('the gateway signing key', () => {
  it('is created once, sealed, and the same key afterwards', async () => {
    const { db } = await freshDb();
    const ring = keyring();
    expect(await readPublicSigningKey(db)).toBeUndefined();
    const a = await loadOrCreateSigningKey(db, ring, 1);
    const b = await loadOrCreateSigningKey(db, ring, 2);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect((await readPublicSigningKey(db))?.fingerprint).toBe(a.fingerprint);
    const row = await db.get<{ secret_ciphertext: Buffer; key_id: string; created_at: number }>('SELECT secret_ciphertext, key_id, created_at FROM gateway_keys');
    expect(row?.key_id).toBe(ring.current.id);
    expect(row?.created_at).toBe(1);
    // sealed: the PKCS#8 DER is not in the row
    const der = a.privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(row?.secret_ciphertext.includes(der.subarray(-32))).toBe(false);
  });

  it('is sealed again under the current master key after a rotation', async () => {
    const { db } = await freshDb();
    const old = masterKeyFromBytes(randomBytes(32));
    const a = await loadOrCreateSigningKey(db, new Keyring(old), 1);
    const rotated = new Keyring(masterKeyFromBytes(randomBytes(32)), [old]);
    expect((await loadOrCreateSigningKey(db, rotated, 2)).fingerprint).toBe(a.fingerprint);
    expect(await db.get('SELECT key_id FROM gateway_keys')).toEqual({ key_id: rotated.current.id });
    // the previous key file can now be retired
    expect((await loadOrCreateSigningKey(db, new Keyring(rotated.current), 3)).fingerprint).toBe(a.fingerprint);
  });

  it('refuses to load under another master key, or with a public key that is not its own', async () => {
    const { db } = await freshDb();
    await loadOrCreateSigningKey(db, keyring(), 1);
    const other = keyring();
    // the row names a master key id this keyring does not have
    await expect(loadOrCreateSigningKey(db, other, 2)).rejects.toThrow(/no master key with id/);
    await db.run('UPDATE gateway_keys SET key_id = ?', [other.current.id]);
    await expect(loadOrCreateSigningKey(db, other, 2)).rejects.toThrow(/does not decrypt under master key/);
    await db.run('UPDATE gateway_keys SET fingerprint = ?', ['00'.repeat(32)]);
    await expect(readPublicSigningKey(db)).rejects.toThrow(/fingerprint that does not match/);
  });
});

describe('the checkpoint writer', () => {
  it('writes a count checkpoint after enough events, an interval one after an hour, one at stop, and logs each', async () => {
    const { db } = await freshDb();
    const ring = keyring();
    const key = await loadOrCreateSigningKey(db, ring, 0);
    const { log, lines } = capture();
    let clock = 1_000;
    const writer = new CheckpointWriter({ db, key, log, now: () => clock, everyEvents: 3 });
    await writer.write('start');
    await writer.tick(); // 1 event (its own) since: nothing due
    expect(await db.get('SELECT count(*) AS n FROM archive_checkpoints')).toEqual({ n: 1 });
    for (let i = 0; i < 3; i++) await appendAudit(db, { type: 'daemon:started', data: { version: String(i) } }, clock);
    await writer.tick();
    clock += HOUR;
    await writer.tick();
    await writer.tick(); // just written: nothing due
    await writer.stop();
    await writer.tick(); // stopped: nothing more
    const rows = await db.all<{ seq: number; reason: string; audit_seq: number }>('SELECT seq, reason, audit_seq FROM archive_checkpoints ORDER BY seq');
    expect(rows).toEqual([
      { seq: 1, reason: 'start', audit_seq: 0 },
      { seq: 2, reason: 'count', audit_seq: 4 },
      { seq: 3, reason: 'interval', audit_seq: 5 },
      { seq: 4, reason: 'stop', audit_seq: 6 },
    ]);
    const events = await db.all<{ seq: number; data: string }>(`SELECT seq, data FROM audit_log WHERE type = 'archive:checkpoint' ORDER BY seq`);
    expect(events.map((e) => JSON.parse(e.data) as { checkpoint: number; auditSeq: number })).toMatchObject([
      { checkpoint: 1, auditSeq: 0 },
      { checkpoint: 2, auditSeq: 4 },
      { checkpoint: 3, auditSeq: 5 },
      { checkpoint: 4, auditSeq: 6 },
    ]);
    const logged = lines.map(checkpointFromLogLine).filter((c): c is Checkpoint => c !== undefined);
    expect(logged.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    const stored = await db.all<{ hash: string; signature: string }>('SELECT hash, signature FROM archive_checkpoints ORDER BY seq');
    expect(logged.map((c) => ({ hash: c.hash, signature: c.signature }))).toEqual(stored);
  });
});

describe('checkpointFromLogLine', () => {
  const good = {
    level: 30,
    time: '2026-12-05T08:00:00.000Z',
    event: 'ARCHIVE_CHECKPOINT',
    checkpoint: 2,
    ts: 5,
    reason: 'count',
    auditSeq: 9,
    auditHash: 'a'.repeat(64),
    prevHash: 'b'.repeat(64),
    hash: 'c'.repeat(64),
    keyFingerprint: 'd'.repeat(64),
    signature: 'e',
    msg: 'archive checkpoint signed',
  };
  it.each<[string, string, boolean]>([
    ['a JSON log line', JSON.stringify(good), true],
    ['with a prefix (journald, syslog)', `Dec 05 08:00:00 gw sealgate[12]: ${JSON.stringify(good)}`, true],
    ['another event', JSON.stringify({ ...good, event: 'DAEMON_READY' }), false],
    ['a field of the wrong type', JSON.stringify({ ...good, auditSeq: '9' }), false],
    ['a missing field', JSON.stringify({ ...good, signature: undefined }), false],
    ['not JSON', 'ARCHIVE_CHECKPOINT {', false],
  ])('%s', (_name, line, parsed) => {
    const c = checkpointFromLogLine(line);
    expect(c !== undefined).toBe(parsed);
    if (c) expect(c).toMatchObject({ seq: 2, ts: 5, auditSeq: 9, reason: 'count' });
  });
});

describe('OpenSSL checks a checkpoint as docs/archive.md describes', () => {
  it('verifies the signature over the canonical body, and the fingerprint of the public key', async (ctx) => {
    requireTool(ctx, 'openssl');
    const { db, dir } = await freshDb();
    const key = await loadOrCreateSigningKey(db, keyring(), 0);
    const { log } = capture();
    const c = await new CheckpointWriter({ db, key, log, now: () => 1_700_000_000_000 }).write('start');
    await writeFile(join(dir, 'gateway.pem'), key.publicKeyPem);
    await writeFile(join(dir, 'body'), checkpointBody(c));
    await writeFile(join(dir, 'sig'), Buffer.from(c.signature, 'base64'));
    const ok = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'gateway.pem'), '-rawin', '-in', join(dir, 'body'), '-sigfile', join(dir, 'sig')]);
    expect(ok.stdout).toMatch(/Signature Verified Successfully/);
    await writeFile(join(dir, 'body'), checkpointBody({ ...c, auditSeq: c.auditSeq + 1 }));
    await expect(run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'gateway.pem'), '-rawin', '-in', join(dir, 'body'), '-sigfile', join(dir, 'sig')])).rejects.toThrow();
    const fp = await run('sh', ['-c', `openssl pkey -pubin -in '${join(dir, 'gateway.pem')}' -outform DER | sha256sum`]);
    expect(fp.stdout.split(' ')[0]).toBe(key.fingerprint);
    // the body as the docs build it with the sqlite3 shell, by concatenation
    expect(checkpointBody(c)).toBe(
      `{"auditHash":"${c.auditHash}","auditSeq":${c.auditSeq},"keyFingerprint":"${c.keyFingerprint}","prevHash":"${c.prevHash}","reason":"${c.reason}","seq":${c.seq},"ts":${c.ts}}`,
    );
  });
});
