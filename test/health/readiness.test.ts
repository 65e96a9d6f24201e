import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { DatabaseCheck, diskCheck, judgeReadiness, listenersCheck, ObjectStoreCheck, objectStoreReason, sqliteReason, writeHealthProbe, type CheckResult } from '../../src/health/readiness.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { SealgateError } from '../../src/errors.js';

const MiB = 1024 * 1024;
const ok: CheckResult = { ok: true };
const bad: CheckResult = { ok: false, detail: 'x' };

describe('judgeReadiness', () => {
  it.each<[string, Parameters<typeof judgeReadiness>[0], boolean]>([
    ['all pass', { database: ok, disk: ok, listeners: ok, masterKey: ok, objects: ok }, true],
    ['database fails', { database: bad, disk: ok, listeners: ok, masterKey: ok, objects: ok }, false],
    ['disk fails', { database: ok, disk: bad, listeners: ok, masterKey: ok, objects: ok }, false],
    ['listeners fail', { database: ok, disk: ok, listeners: bad, masterKey: ok, objects: ok }, false],
    ['key fails', { database: ok, disk: ok, listeners: ok, masterKey: bad, objects: ok }, false],
    ['object store fails', { database: ok, disk: ok, listeners: ok, masterKey: ok, objects: bad }, false],
  ])('%s', (_name, checks, ready) => {
    expect(judgeReadiness(checks)).toEqual({ ready, checks });
  });
});

describe('diskCheck (the MAIL FROM test for a message of undeclared size)', () => {
  it.each<[string, { availableBytes: number; minFreeBytes: number; maxMessageBytes: number }, CheckResult]>([
    ['room to spare', { availableBytes: 1000 * MiB, minFreeBytes: 64 * MiB, maxMessageBytes: 50 * MiB }, { ok: true }],
    ['exactly enough: free − max/4 = min', { availableBytes: 64 * MiB + 12.5 * MiB, minFreeBytes: 64 * MiB, maxMessageBytes: 50 * MiB }, { ok: true }],
    ['one byte short', { availableBytes: 64 * MiB + 12.5 * MiB - 1, minFreeBytes: 64 * MiB, maxMessageBytes: 50 * MiB }, { ok: false, detail: `below smtp.minFreeBytes after room for one message (${64 * MiB + 12.5 * MiB - 1} bytes free)` }],
    ['check off', { availableBytes: 0, minFreeBytes: 0, maxMessageBytes: 50 * MiB }, { ok: true, detail: 'check off (smtp.minFreeBytes 0)' }],
  ])('%s', (_name, input, want) => {
    expect(diskCheck(input)).toEqual(want);
  });
});

describe('listenersCheck', () => {
  it.each<[string, { name: string; listening: boolean }[], CheckResult]>([
    ['all listening', [{ name: 'relay', listening: true }, { name: 'submission', listening: true }], { ok: true }],
    ['one down', [{ name: 'relay', listening: true }, { name: 'submission', listening: false }], { ok: false, detail: 'not listening: submission' }],
    ['none started', [], { ok: false, detail: 'no listener' }],
  ])('%s', (_name, listeners, want) => {
    expect(listenersCheck(listeners)).toEqual(want);
  });
});

describe('sqliteReason', () => {
  it.each<[unknown, string]>([
    [Object.assign(new Error('SQLITE_READONLY: attempt to write a readonly database'), { code: 'SQLITE_READONLY' }), 'SQLITE_READONLY'],
    [Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }), 'SQLITE_BUSY'],
    [new Error('no code: /var/lib/sealgate/secret path'), 'write failed'],
    [Object.assign(new Error('x'), { code: 'not a code; with text' }), 'write failed'],
    [null, 'write failed'],
  ])('%#', (err, want) => {
    expect(sqliteReason(err)).toBe(want);
  });
});

describe('DatabaseCheck on real SQLite', () => {
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-ready-'));
    path = join(dir, 'db.sqlite');
    const db = await Database.open(path);
    await migrate(db);
    await db.close();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a writable database passes, and the probe row holds the time of the last write', async () => {
    const db = await Database.open(path);
    try {
      const check = new DatabaseCheck({ writeTransaction: () => db.transaction((tx) => writeHealthProbe(tx, 1234)), timeoutMs: 5000 });
      expect(await check.run()).toEqual({ ok: true });
      expect(await check.run()).toEqual({ ok: true });
      expect(await db.all('SELECT id, probed_at FROM health_probe')).toEqual([{ id: 1, probed_at: 1234 }]);
    } finally {
      await db.close();
    }
  });

  it('a database opened read-only fails with SQLITE_READONLY', async () => {
    const db = await Database.open(path, { readOnly: true });
    try {
      expect(await new DatabaseCheck({ writeTransaction: () => db.transaction((tx) => writeHealthProbe(tx, Date.now())), timeoutMs: 5000 }).run()).toEqual({ ok: false, detail: 'SQLITE_READONLY' });
    } finally {
      await db.close();
    }
  });

  it('a write lock held elsewhere: the time limit answers; a second check does not queue another write; once released it passes', async () => {
    const holder = await Database.open(path);
    const db = await Database.open(path, { busyTimeoutMs: 60_000 });
    try {
      await holder.exec('BEGIN EXCLUSIVE');
      const check = new DatabaseCheck({ writeTransaction: () => db.transaction((tx) => writeHealthProbe(tx, Date.now())), timeoutMs: 200 });
      expect(await check.run()).toEqual({ ok: false, detail: 'write not committed in 200 ms' });
      expect(await check.run()).toEqual({ ok: false, detail: 'an earlier write probe has not finished' });
      await holder.exec('ROLLBACK');
      for (;;) {
        const r = await check.run();
        if (r.ok) break;
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      await holder.close();
      await db.close();
    }
  });
});

describe('objectStoreReason (an identifier, never a message text)', () => {
  it.each<[string, unknown, string]>([
    ['an S3 error name with its HTTP status', new SealgateError('SG_STORAGE_FAILED', { message: 'object store check failed: AccessDenied (HTTP 403)', detail: { s3: 'AccessDenied', status: 403 } }), 'AccessDenied (HTTP 403)'],
    ['a socket error name', new SealgateError('SG_STORAGE_FAILED', { detail: { s3: 'ECONNREFUSED' } }), 'ECONNREFUSED'],
    ['a local errno', new SealgateError('SG_STORAGE_FAILED', { detail: { errno: 'EACCES' } }), 'EACCES'],
    ['only a Sealgate code', new SealgateError('SG_STORAGE_FULL'), 'SG_STORAGE_FULL'],
    ['a name that is not an identifier is not passed on', { code: 'bad name with spaces /etc/passwd' }, 'object store check failed'],
    ['nothing to go on', null, 'object store check failed'],
  ])('%s', (_name, err, want) => {
    expect(objectStoreReason(err)).toBe(want);
  });
});

describe('ObjectStoreCheck on a real local store', () => {
  it('passes while its directories are there; fails naming the errno once they are gone; a probe that never answers fails at the limit, and a second check does not queue another', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-ready-objects-'));
    try {
      const store = new LocalObjectStore(join(dir, 'store'));
      await store.init();
      const check = new ObjectStoreCheck({ probe: (ms) => store.probe(ms), timeoutMs: 5000 });
      expect(await check.run()).toEqual({ ok: true });
      await rm(join(dir, 'store'), { recursive: true, force: true });
      expect(await check.run()).toEqual({ ok: false, detail: 'ENOENT' });
      let answer: () => void = () => undefined;
      const hung = new ObjectStoreCheck({ probe: () => new Promise<void>((r) => (answer = r)), timeoutMs: 100 });
      expect(await hung.run()).toEqual({ ok: false, detail: 'object store did not answer in 100 ms' });
      expect(await hung.run()).toEqual({ ok: false, detail: 'an earlier object store probe has not finished' });
      answer();
      await new Promise((r) => setImmediate(r));
      expect(await hung.run()).toEqual({ ok: false, detail: 'object store did not answer in 100 ms' });
      answer();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
