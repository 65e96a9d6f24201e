/**
 * The same behaviour tests against both object stores, through
 * openObjectStore as the daemon opens them: the local directory, and the S3
 * store driven by the real AWS SDK against a real S3-compatible server on
 * loopback (s3rver in a child process, test/helpers/s3-server.ts; its limits
 * are named there: no AbortMultipartUpload, listing order that differs from
 * S3's where a key segment is a prefix of a sibling's, one account, no
 * quotas). Each test gets its own store (a fresh directory; a fresh key
 * prefix in the one bucket), so the tests do not see each other's objects.
 *
 * The S3 store is opened with 5 MiB parts (S3's minimum) and 3 keys per
 * listing page, so a 12 MiB object is a multipart upload of three parts and
 * a listing of ten keys takes four pages.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { objectsSchema } from '../../src/objects/config-schema.js';
import { openObjectStore, type OpenedObjectStore } from '../../src/objects/open.js';
import { objectStoreReason } from '../../src/health/readiness.js';
import { startS3Server, type TestS3 } from '../helpers/s3-server.js';
import { readAll } from '../helpers/read-all.js';
import { collect, errorOf, failingSource } from '../helpers/object-streams.js';

const MiB = 1024 * 1024;

let s3: TestS3;
let dir: string;
let prefixes = 0;

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3.stop();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-stores-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function secretFile(): Promise<string> {
  const file = join(dir, 's3-secret');
  await writeFile(file, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  return file;
}

const KINDS = ['local', 's3'] as const;
type Kind = (typeof KINDS)[number];

/** A fresh, initialised store of `kind`, opened from config as the daemon opens it. */
async function openStore(kind: Kind): Promise<OpenedObjectStore> {
  const objects =
    kind === 'local'
      ? objectsSchema.parse({ kind: 'local' })
      : objectsSchema.parse({
          kind: 's3',
          s3: {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            region: s3.region,
            prefix: `run/t${++prefixes}/`,
            forcePathStyle: true,
            accessKeyId: s3.accessKeyId,
            secretAccessKeyFile: await secretFile(),
            partSizeBytes: 5 * MiB,
            timeout: '20s',
          },
        });
  const store = await openObjectStore({ dataDir: join(dir, 'data'), objects }, { listPageSize: 3 });
  await store.init();
  return store;
}

function codeOf(err: unknown): unknown {
  return isSealgateError(err) ? err.code : err;
}

/** Sends `before` bytes in pieces, then fails (as a broken decryption or a dropped client would). */
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.each(KINDS)('object store: %s', (kind) => {
  let store: OpenedObjectStore;

  beforeEach(async () => {
    store = await openStore(kind);
  });

  afterEach(() => {
    store.close();
  });

  it('puts, gets back byte-identical content, and reports the size', async () => {
    const body = randomBytes(300_000);
    expect(await store.put('a/b/c', Readable.from([body.subarray(0, 1000), body.subarray(1000)]))).toEqual({ bytes: body.length });
    expect((await readAll(store.get('a/b/c'))).equals(body)).toBe(true);
    expect(await store.exists('a/b/c')).toBe(true);
    expect(await store.exists('a/b')).toBe(false);
    expect(await store.exists('a/b/c/d')).toBe(false);
  });

  it('stores an empty object', async () => {
    expect(await store.put('empty', Readable.from([]))).toEqual({ bytes: 0 });
    expect((await readAll(store.get('empty'))).length).toBe(0);
    expect(await store.exists('empty')).toBe(true);
  });

  it('a big object (12 MiB: multipart on S3) round-trips, and a range across its parts reads back', async () => {
    const body = randomBytes(12 * MiB);
    const pieces = Array.from({ length: 48 }, (_, i) => body.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
    expect(await store.put('big/one', Readable.from(pieces))).toEqual({ bytes: body.length });
    expect(sha256(await readAll(store.get('big/one')))).toBe(sha256(body));
    const start = 5 * MiB - 1000;
    expect((await readAll(store.getRange('big/one', start, 5 * MiB + 2000))).equals(body.subarray(start, start + 5 * MiB + 2000))).toBe(true);
    expect((await collect(store.listInfo('big/'))).map((i) => [i.key, i.bytes])).toEqual([['big/one', body.length]]);
  });

  it('replaces an existing object', async () => {
    await store.put('k', Readable.from([Buffer.from('one')]));
    await store.put('k', Readable.from([Buffer.from('two!')]));
    expect((await readAll(store.get('k'))).toString()).toBe('two!');
    expect(await collect(store.list(''))).toEqual(['k']);
  });

  it('an absent key: get and getRange error with SG_OBJECT_NOT_FOUND, exists is false', async () => {
    expect(codeOf(await errorOf(readAll(store.get('nothing/here'))))).toBe('SG_OBJECT_NOT_FOUND');
    expect(codeOf(await errorOf(readAll(store.getRange('nothing/here', 0, 10))))).toBe('SG_OBJECT_NOT_FOUND');
    expect(await store.exists('nothing/here')).toBe(false);
    await store.put('a', Readable.from([Buffer.from('x')]));
    expect(codeOf(await errorOf(readAll(store.get('a/b'))))).toBe('SG_OBJECT_NOT_FOUND');
  });

  const ranges: { name: string; start: number; length: number }[] = [
    { name: 'the start', start: 0, length: 10 },
    { name: 'the middle, across read chunks', start: 70_000, length: 200_000 },
    { name: 'the last byte', start: 299_999, length: 1 },
    { name: 'the whole object', start: 0, length: 300_000 },
  ];
  it.each(ranges)('reads a range: $name', async (r) => {
    const data = randomBytes(300_000);
    await store.put('r/obj', Readable.from([data]));
    expect((await readAll(store.getRange('r/obj', r.start, r.length))).equals(data.subarray(r.start, r.start + r.length))).toBe(true);
  });

  it('a range past the end or starting beyond it is SG_STORAGE_FAILED; bad bounds are a RangeError', async () => {
    await store.put('r/short', Readable.from([Buffer.alloc(100, 7)]));
    expect(codeOf(await errorOf(readAll(store.getRange('r/short', 50, 100))))).toBe('SG_STORAGE_FAILED');
    expect(codeOf(await errorOf(readAll(store.getRange('r/short', 200, 10))))).toBe('SG_STORAGE_FAILED');
    expect(() => store.getRange('r/short', -1, 1)).toThrow(RangeError);
    expect(() => store.getRange('r/short', 0, 0)).toThrow(RangeError);
    expect(() => store.getRange('r/short', 0.5, 1)).toThrow(RangeError);
  });

  it('deletes idempotently', async () => {
    await store.put('x/y', Readable.from([Buffer.from('x')]));
    await store.delete('x/y');
    await store.delete('x/y');
    await store.delete('never/was');
    expect(await store.exists('x/y')).toBe(false);
    expect(codeOf(await errorOf(readAll(store.get('x/y'))))).toBe('SG_OBJECT_NOT_FOUND');
  });

  it('lists keys by prefix in byte order, over several pages', async () => {
    // order-safe keys (no segment a prefix of a sibling's): s3rver's tree order agrees with S3's byte order on them
    const keys = ['B/1', 'a/00', 'a/01', 'a/02', 'a/10', 'a/ab', 'ab/c1', 'b/x0/y', 'b/x1/y', 'portal/0f/0f1', 'portal/ff/ff2', 'z'];
    for (const k of [...keys].reverse()) await store.put(k, Readable.from([Buffer.from(k)]));
    expect(await collect(store.list(''))).toEqual([...keys].sort());
    expect(await collect(store.list('a'))).toEqual(['a/00', 'a/01', 'a/02', 'a/10', 'a/ab', 'ab/c1']);
    expect(await collect(store.list('a/'))).toEqual(['a/00', 'a/01', 'a/02', 'a/10', 'a/ab']);
    expect(await collect(store.list('a/0'))).toEqual(['a/00', 'a/01', 'a/02']);
    expect(await collect(store.list('portal/'))).toEqual(['portal/0f/0f1', 'portal/ff/ff2']);
    expect(await collect(store.list('b/x1/'))).toEqual(['b/x1/y']);
    expect(await collect(store.list('none/'))).toEqual([]);
    expect(await collect(store.list('q'))).toEqual([]);
    for (const k of keys) expect((await readAll(store.get(k))).toString()).toBe(k);
  });

  it('listInfo gives the keys of list with each size and a time of its put', async () => {
    const before = Date.now();
    const keys = ['archive/2026/11/A1', 'archive/2026/12/B1', 'archive/2026/12/B2', 'portal/x'];
    for (const k of keys) await store.put(k, Readable.from([Buffer.from(`${k}!`)]));
    const after = Date.now();
    const infos = await collect(store.listInfo('archive/'));
    expect(infos.map((i) => i.key)).toEqual(await collect(store.list('archive/')));
    expect(infos.map((i) => [i.key, i.bytes])).toEqual(keys.slice(0, 3).map((k) => [k, k.length + 1]));
    // S3 keeps whole seconds
    for (const i of infos) {
      expect(i.modifiedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(i.modifiedAt).toBeLessThanOrEqual(after + 1000);
    }
  });

  it.each([
    ['before any part is sent (small)', 300_000],
    ['after the first part of a multipart upload', 7 * MiB],
  ])('a source failing %s leaves no object', async (_name, failAfter) => {
    await store.put('keep', Readable.from([Buffer.from('kept')]));
    expect(codeOf(await errorOf(store.put('lost/obj', failingSource(failAfter))))).toBe('SG_STORAGE_FAILED');
    expect(await store.exists('lost/obj')).toBe(false);
    expect(codeOf(await errorOf(readAll(store.get('lost/obj'))))).toBe('SG_OBJECT_NOT_FOUND');
    expect(await collect(store.list(''))).toEqual(['keep']);
  });

  it('a failed replacement keeps the previous object', async () => {
    await store.put('k', Readable.from([Buffer.from('old')]));
    expect(codeOf(await errorOf(store.put('k', failingSource(6 * MiB))))).toBe('SG_STORAGE_FAILED');
    expect((await readAll(store.get('k'))).toString()).toBe('old');
  });

  it('a reader that stops early leaves the store usable', async () => {
    const body = randomBytes(2 * MiB);
    await store.put('big', Readable.from([body]));
    for (let i = 0; i < 5; i++) {
      const s = store.get('big');
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.destroy();
      await new Promise((resolve) => s.once('close', resolve));
    }
    expect((await readAll(store.get('big'))).equals(body)).toBe(true);
  });

  it('concurrent puts of different keys end whole', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(20_000 + i * 1000));
    await Promise.all(bodies.map((b, i) => store.put(`new/dir/k${i}`, Readable.from([b]))));
    for (const [i, b] of bodies.entries()) expect((await readAll(store.get(`new/dir/k${i}`))).equals(b)).toBe(true);
  });

  // S3 promises it too (the last complete PUT wins); s3rver writes an object's file in place, so
  // concurrent writers of one key can interleave there (its limit): this one runs on the local store
  // defined for one kind only (not a skipped test on the other)
  if (kind === 'local') {
    it('concurrent puts of one key leave one of them whole', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(20_000 + i * 1000));
      await Promise.all(bodies.map((b) => store.put('same', Readable.from([b]))));
      const same = await readAll(store.get('same'));
      expect(bodies.some((b) => b.equals(same))).toBe(true);
    });
  }

  it('validates keys before any I/O', async () => {
    expect(() => store.get('../escape')).toThrow(expect.objectContaining({ code: 'SG_OBJECT_KEY_INVALID' }) as Error);
    expect(codeOf(await errorOf(store.put('/etc/passwd', Readable.from([]))))).toBe('SG_OBJECT_KEY_INVALID');
    expect(codeOf(await errorOf(store.exists('a/../../b')))).toBe('SG_OBJECT_KEY_INVALID');
    expect(codeOf(await errorOf(store.delete('a//b')))).toBe('SG_OBJECT_KEY_INVALID');
    expect(codeOf(await errorOf(collect(store.list('../'))))).toBe('SG_OBJECT_KEY_INVALID');
    expect(await collect(store.list(''))).toEqual([]);
  });
});

describe('probe (the readiness check of the object store)', () => {
  it('local: passes while its directories are there, fails naming the errno once they are gone', async () => {
    const store = await openStore('local');
    await store.probe(1000);
    await rm(join(dir, 'data'), { recursive: true, force: true });
    const err = await errorOf(store.probe(1000));
    expect(codeOf(err)).toBe('SG_STORAGE_FAILED');
    expect(objectStoreReason(err)).toBe('ENOENT');
  });

  it('s3: passes while s3rver answers, fails with the socket error while it is down, and passes again once it is back', async () => {
    const store = await openStore('s3');
    try {
      await store.probe(5000);
      await s3.kill();
      const err = await errorOf(store.probe(5000));
      expect(codeOf(err)).toBe('SG_STORAGE_FAILED');
      expect(objectStoreReason(err)).toBe('ECONNREFUSED');
      await s3.start();
      await store.probe(5000);
    } finally {
      store.close();
    }
  });

  it('s3: a server that accepts the connection and never answers fails the probe at its time limit', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const objects = objectsSchema.parse({
      kind: 's3',
      s3: { endpoint: `http://127.0.0.1:${port}`, bucket: 'silent', region: 'us-east-1', prefix: 'p/', forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: await secretFile(), maxAttempts: 1, timeout: '60s' },
    });
    const store = await openObjectStore({ dataDir: join(dir, 'data'), objects });
    try {
      const err = await errorOf(store.probe(300));
      expect(codeOf(err)).toBe('SG_STORAGE_FAILED');
      expect(objectStoreReason(err)).toMatch(/^(TimeoutError|AbortError)$/);
    } finally {
      store.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
