/**
 * The local object store on a real file system: put/get/exists/list/delete,
 * atomic puts (a failing source leaves no object and no temp file, and every
 * descriptor is released), file and directory modes, and key validation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { objectKeyProblem, validateObjectKey, validateObjectPrefix } from '../../src/objects/object-store.js';
import { openFds } from '../helpers/fds.js';
import { readAll } from '../helpers/read-all.js';

let dir: string;
let store: LocalObjectStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-objects-'));
  store = new LocalObjectStore(join(dir, 'store'));
  await store.init();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

/** Every regular file under `root`, relative. */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(root.length + 1));
  }
  return out.sort();
}

/** Sends `before` bytes in small pieces, then fails. */
function failingSource(before: number): PassThrough {
  const src = new PassThrough();
  src.on('error', () => undefined);
  let sent = 0;
  const pump = (): void => {
    if (sent >= before) {
      src.destroy(new Error('source failed'));
      return;
    }
    const n = Math.min(4093, before - sent);
    sent += n;
    src.write(Buffer.alloc(n, 0x61));
    setImmediate(pump);
  };
  setImmediate(pump);
  return src;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSealgateError(err) ? err.code : err).toBe(code);
}

describe('LocalObjectStore', () => {
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
  });

  it('replaces an existing object atomically', async () => {
    await store.put('k', Readable.from([Buffer.from('one')]));
    await store.put('k', Readable.from([Buffer.from('two!')]));
    expect((await readAll(store.get('k'))).toString()).toBe('two!');
    expect(await collect(store.list(''))).toEqual(['k']);
  });

  it('creates directories 0700 and files 0600', async () => {
    await store.put('p/q/r', Readable.from([Buffer.from('x')]));
    for (const d of ['', 'objects', 'objects/p', 'objects/p/q', 'tmp']) {
      expect((await stat(join(store.root, d))).mode & 0o777).toBe(0o700);
    }
    expect(await filesUnder(store.root)).toEqual(['objects/p/q/r@']);
    expect((await stat(join(store.root, 'objects/p/q/r@'))).mode & 0o777).toBe(0o600);
  });

  it('errors the stream with SG_OBJECT_NOT_FOUND for an absent key', async () => {
    await expectCode(readAll(store.get('nothing/here')), 'SG_OBJECT_NOT_FOUND');
    await store.put('a', Readable.from([Buffer.from('x')]));
    await expectCode(readAll(store.get('a/b')), 'SG_OBJECT_NOT_FOUND');
  });

  const ranges: { name: string; start: number; length: number }[] = [
    { name: 'the start', start: 0, length: 10 },
    { name: 'the middle, across read chunks', start: 70_000, length: 200_000 },
    { name: 'the last byte', start: 299_999, length: 1 },
    { name: 'the whole object', start: 0, length: 300_000 },
  ];
  for (const r of ranges) {
    it(`reads a range: ${r.name}`, async () => {
      const data = randomBytes(300_000);
      await store.put('r/obj', Readable.from([data]));
      expect((await readAll(store.getRange('r/obj', r.start, r.length))).equals(data.subarray(r.start, r.start + r.length))).toBe(true);
    });
  }

  it('a range past the end errors the stream; an absent object is SG_OBJECT_NOT_FOUND; bad bounds are a RangeError', async () => {
    await store.put('r/short', Readable.from([Buffer.alloc(100, 7)]));
    const past = await readAll(store.getRange('r/short', 50, 100)).catch((e: unknown) => e);
    expect(isSealgateError(past, 'SG_STORAGE_FAILED')).toBe(true);
    const absent = await readAll(store.getRange('r/none', 0, 1)).catch((e: unknown) => e);
    expect(isSealgateError(absent, 'SG_OBJECT_NOT_FOUND')).toBe(true);
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
    await expectCode(readAll(store.get('x/y')), 'SG_OBJECT_NOT_FOUND');
  });

  it('lists keys by prefix in byte order, with a key and keys under it side by side', async () => {
    const keys = ['a', 'a/b', 'a/b/c', 'a-b', 'a.b', 'a_b', 'ab', 'b/1', 'b/10', 'b/2', 'portal/0f/0f1', 'portal/ff/ff2', 'Z'];
    for (const k of keys) await store.put(k, Readable.from([Buffer.from(k)]));
    expect(await collect(store.list(''))).toEqual([...keys].sort());
    expect(await collect(store.list('a'))).toEqual(['a', 'a-b', 'a.b', 'a/b', 'a/b/c', 'a_b', 'ab']);
    expect(await collect(store.list('a/'))).toEqual(['a/b', 'a/b/c']);
    expect(await collect(store.list('b/1'))).toEqual(['b/1', 'b/10']);
    expect(await collect(store.list('portal/'))).toEqual(['portal/0f/0f1', 'portal/ff/ff2']);
    expect(await collect(store.list('portal/ff/'))).toEqual(['portal/ff/ff2']);
    expect(await collect(store.list('none/'))).toEqual([]);
    expect(await collect(store.list('q'))).toEqual([]);
    for (const k of keys) expect((await readAll(store.get(k))).toString()).toBe(k);
  });

  it('listInfo gives the keys of list with each size and time (a replaced object has its new time)', async () => {
    const keys = ['archive/2026/11/A-1', 'archive/2026/12/B', 'archive/2026/12/B-2', 'portal/x'];
    for (const k of keys) await store.put(k, Readable.from([Buffer.from(`${k}!`)]));
    const old = new Date(Date.UTC(2026, 0, 1));
    await utimes(join(store.root, 'objects', 'archive', '2026', '11', 'A-1@'), old, old);
    const infos: { key: string; bytes: number; modifiedAt: number }[] = [];
    for await (const info of store.listInfo('archive/')) infos.push(info);
    expect(infos.map((i) => i.key)).toEqual(await collect(store.list('archive/')));
    expect(infos.map((i) => [i.key, i.bytes])).toEqual(keys.slice(0, 3).map((k) => [k, k.length + 1]));
    expect(infos[0]?.modifiedAt).toBe(old.getTime());
    expect(infos[1]?.modifiedAt).toBeGreaterThan(old.getTime());
    await store.put('archive/2026/11/A-1', Readable.from([Buffer.from('again')]));
    for await (const info of store.listInfo('archive/2026/11/')) expect(info.modifiedAt).toBeGreaterThan(old.getTime());
  });

  it('a failing source leaves no object, no temp file, and no open descriptor', async () => {
    await store.put('keep', Readable.from([Buffer.from('kept')]));
    const before = await openFds();
    for (let i = 0; i < 5; i++) {
      await expectCode(store.put('lost/obj', failingSource(150_000 + i * 1000)), 'SG_STORAGE_FAILED');
    }
    expect(await openFds()).toBe(before);
    expect(await store.exists('lost/obj')).toBe(false);
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await filesUnder(store.root)).toEqual(['objects/keep@']);
    expect(await collect(store.list(''))).toEqual(['keep']);
  });

  it('a failed replacement keeps the previous object', async () => {
    await store.put('k', Readable.from([Buffer.from('old')]));
    await expectCode(store.put('k', failingSource(70_000)), 'SG_STORAGE_FAILED');
    expect((await readAll(store.get('k'))).toString()).toBe('old');
  });

  it('releases descriptors after full reads, early stops and missing objects', async () => {
    await store.put('big', Readable.from([randomBytes(1_000_000)]));
    const before = await openFds();
    for (let i = 0; i < 5; i++) {
      await readAll(store.get('big'));
      const s = store.get('big');
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.destroy();
      await new Promise((resolve) => s.once('close', resolve));
      await readAll(store.get('missing')).catch(() => undefined);
    }
    expect(await openFds()).toBe(before);
  });

  it('concurrent puts: new directories race safely, the same key ends whole, no temp file stays', async () => {
    const bodies = Array.from({ length: 12 }, (_, i) => randomBytes(20_000 + i * 1000));
    await Promise.all(bodies.map((b, i) => store.put(`new/dir/k${i}`, Readable.from([b]))));
    await Promise.all(bodies.map((b) => store.put('same', Readable.from([b]))));
    for (const [i, b] of bodies.entries()) expect((await readAll(store.get(`new/dir/k${i}`))).equals(b)).toBe(true);
    const same = await readAll(store.get('same'));
    expect(bodies.some((b) => b.equals(same))).toBe(true);
    expect(await readdir(store.tmpDir)).toEqual([]);
  });

  it('start-up cleanup removes old temp files and keeps young ones and objects', async () => {
    await store.put('keep', Readable.from([Buffer.from('kept')]));
    await writeFile(join(store.tmpDir, 'old.tmp'), 'x', { mode: 0o600 });
    await writeFile(join(store.tmpDir, 'young.tmp'), 'x', { mode: 0o600 });
    const now = Date.now();
    await utimes(join(store.tmpDir, 'old.tmp'), new Date(now - 7_200_000), new Date(now - 7_200_000));
    expect(await store.removeTemp(now)).toBe(1);
    expect(await readdir(store.tmpDir)).toEqual(['young.tmp']);
    expect(await store.removeTemp(now, 0)).toBe(1);
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await collect(store.list(''))).toEqual(['keep']);
  });

  it('validates keys before any file system access', async () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (err) {
        return isSealgateError(err) ? err.code : 'other';
      }
    };
    expect(code(() => store.get('../escape'))).toBe('SG_OBJECT_KEY_INVALID');
    await expectCode(store.put('/etc/passwd', Readable.from([])), 'SG_OBJECT_KEY_INVALID');
    await expectCode(store.exists('a/../../b'), 'SG_OBJECT_KEY_INVALID');
    await expectCode(store.delete('a//b'), 'SG_OBJECT_KEY_INVALID');
    await expectCode(collect(store.list('../')), 'SG_OBJECT_KEY_INVALID');
    expect(await readdir(dir)).toEqual(['store']);
  });
});

describe('object keys', () => {
  it.each([
    ['a'],
    ['portal/ab/0123456789abcdef'],
    ['A.b_c-d/e'],
    ['0'],
    ['x'.repeat(128)],
    [Array.from({ length: 4 }, () => 'y'.repeat(127)).join('/')],
  ])('accepts %j', (key) => {
    expect(objectKeyProblem(key)).toBeUndefined();
    expect(validateObjectKey(key)).toBe(key);
  });

  it.each([
    ['', 'empty'],
    ['..', 'dot-dot'],
    ['a/../b', 'dot-dot segment'],
    ['./a', 'dot segment'],
    ['/abs', 'absolute'],
    ['a/', 'trailing slash'],
    ['a//b', 'double slash'],
    ['.hidden', 'leading dot'],
    ['-opt', 'leading dash'],
    ['a b', 'space'],
    ['a\\b', 'backslash'],
    ['a\0b', 'NUL'],
    ['a@', 'the local suffix'],
    ['ä', 'non-ASCII'],
    ['a\nb', 'newline'],
    ['C:x', 'colon'],
    ['x'.repeat(129), 'segment too long'],
    [Array.from({ length: 5 }, () => 'y'.repeat(127)).join('/'), 'key too long'],
  ])('rejects %j (%s)', (key) => {
    expect(objectKeyProblem(key)).toBeTypeOf('string');
    expect(() => validateObjectKey(key)).toThrow(expect.objectContaining({ code: 'SG_OBJECT_KEY_INVALID' }) as Error);
  });

  it.each([[''], ['a'], ['a/'], ['a/b'], ['portal/0'], ['a.b/c-']])('accepts the prefix %j', (p) => {
    expect(validateObjectPrefix(p)).toBe(p);
  });

  it.each([['/'], ['../'], ['a//'], ['.x'], ['a/../'], ['a b'], ['a/.'], ['x'.repeat(513)]])('rejects the prefix %j', (p) => {
    expect(() => validateObjectPrefix(p)).toThrow(expect.objectContaining({ code: 'SG_OBJECT_KEY_INVALID' }) as Error);
  });
});
