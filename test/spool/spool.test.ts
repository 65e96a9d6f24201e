/**
 * The spool's write discipline on a real file system: write → commit puts
 * one encrypted file in place and reads back; a failing stage or a discard
 * leaves nothing; start-up cleanup removes temporary files and files whose
 * id has no queue row. What a failed write reports: the file system's
 * failures (a real full tmpfs, a missing directory) are SG_STORAGE_*, a
 * source's or a stage's own error comes back as it is.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PassThrough, Readable, Transform } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { isSealgateError, SealgateError } from '../../src/errors.js';
import { Spool } from '../../src/spool/spool.js';
import { openFds } from '../helpers/fds.js';
import { readAll } from '../helpers/read-all.js';

let dir: string;
let spool: Spool;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-spool-'));
  spool = new Spool(join(dir, 'spool'), new Keyring(masterKeyFromBytes(randomBytes(32))));
  await spool.init();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const upper = (): Transform =>
  new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'));
    },
  });

/** A source that sends `before` bytes in small pieces, then fails like a client that went away. */
function droppingSource(before: number): PassThrough {
  const src = new PassThrough();
  // the failure may come before the spool has opened its file and attached the pipeline (as accept-message does)
  src.on('error', () => undefined);
  let sent = 0;
  const pump = (): void => {
    if (sent >= before) {
      src.destroy(Object.assign(new Error('client gone'), { code: 'ECONNRESET' }));
      return;
    }
    const n = Math.min(997, before - sent);
    sent += n;
    src.write(Buffer.alloc(n, 0x61));
    setImmediate(pump);
  };
  setImmediate(pump);
  return src;
}

describe('Spool', () => {
  it('writes through the stages, commits into its shard with mode 0600 and reads back', async () => {
    const body = Buffer.from('Subject: hi\r\n\r\nsecret body\r\n'.repeat(5000));
    const pending = await spool.write('01ABCDEFGHJKMNPQRSXY', Readable.from([body]), [upper()]);
    expect(await readdir(spool.tmpDir)).toEqual(['01ABCDEFGHJKMNPQRSXY']);
    const path = await pending.commit();
    expect(path).toBe(join(spool.msgDir, 'XY', '01ABCDEFGHJKMNPQRSXY'));
    expect(await readdir(spool.tmpDir)).toEqual([]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(path)).size).toBe(pending.bytes);
    expect((await readFile(path)).includes('SECRET BODY')).toBe(false);
    expect((await readAll(spool.read('01ABCDEFGHJKMNPQRSXY'))).toString('latin1')).toBe(body.toString('latin1').toUpperCase());
  });

  it('removes the temporary file when a stage fails, and reports a storage error', async () => {
    const failing = new Transform({
      transform(_chunk, _enc, done) {
        done(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
      },
    });
    const err = await spool.write('01ABCDEFGHJKMNPQRS01', Readable.from([Buffer.from('x')]), [failing]).catch((e: unknown) => e);
    expect(isSealgateError(err) && err.code).toBe('SG_STORAGE_FAILED');
    expect(await readdir(spool.tmpDir)).toEqual([]);
  });

  it('maps ENOSPC to SG_STORAGE_FULL', async () => {
    const full = new Transform({
      transform(_chunk, _enc, done) {
        done(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
      },
    });
    const err = await spool.write('01ABCDEFGHJKMNPQRS02', Readable.from([Buffer.from('x')]), [full]).catch((e: unknown) => e);
    expect(isSealgateError(err) && err.code).toBe('SG_STORAGE_FULL');
  });

  it('discard removes a committed or an uncommitted file', async () => {
    const a = await spool.write('01ABCDEFGHJKMNPQRS03', Readable.from([Buffer.from('a')]));
    await a.discard();
    const b = await spool.write('01ABCDEFGHJKMNPQRS04', Readable.from([Buffer.from('b')]));
    const path = await b.commit();
    await b.discard();
    expect(await readdir(spool.tmpDir)).toEqual([]);
    await expect(stat(path)).rejects.toThrow();
  });

  it('removeOrphans keeps queued files and removes temporary and unqueued ones', async () => {
    await (await spool.write('01ABCDEFGHJKMNPQRS05', Readable.from([Buffer.from('kept')]))).commit();
    await (await spool.write('01ABCDEFGHJKMNPQRS06', Readable.from([Buffer.from('orphan')]))).commit();
    await spool.write('01ABCDEFGHJKMNPQRS07', Readable.from([Buffer.from('never committed')]));
    const result = await spool.removeOrphans(async (id) => id === '01ABCDEFGHJKMNPQRS05');
    expect(result).toEqual({ tmp: 1, orphans: 1 });
    expect((await readAll(spool.read('01ABCDEFGHJKMNPQRS05'))).toString()).toBe('kept');
    await expect(readAll(spool.read('01ABCDEFGHJKMNPQRS06'))).rejects.toThrow();
  });

  it('a write whose source fails mid-stream releases its descriptor and leaves no file, while other writes complete intact', async () => {
    const before = await openFds();
    const ids = Array.from({ length: 60 }, (_, i) => `01ABCDEFGHJKMNPQ${String(i).padStart(4, '0')}`);
    const good = Buffer.from('Subject: kept\r\n\r\n' + 'intact body line\r\n'.repeat(3000));
    const results = await Promise.allSettled(
      ids.map(async (id, i) => {
        if (i % 3 === 0) return (await spool.write(id, Readable.from([good]))).commit();
        return spool.write(id, droppingSource(1 + ((i * 7919) % 20_000)));
      }),
    );
    for (const [i, r] of results.entries()) {
      if (i % 3 === 0) expect(r.status).toBe('fulfilled');
      else {
        expect(r.status).toBe('rejected');
        expect(isSealgateError((r as PromiseRejectedResult).reason)).toBe(true);
      }
    }
    expect(await readdir(spool.tmpDir)).toEqual([]);
    for (const [i, id] of ids.entries()) if (i % 3 === 0) expect((await readAll(spool.read(id))).equals(good)).toBe(true);
    expect(await openFds()).toBe(before);
  });

  it('a reader that stops early releases the file descriptor', async () => {
    await (await spool.write('01ABCDEFGHJKMNPQRS10', Readable.from([Buffer.alloc(1024 * 1024, 0x62)]))).commit();
    const before = await openFds();
    const reader = spool.read('01ABCDEFGHJKMNPQRS10');
    await new Promise<void>((resolve) => reader.once('data', () => resolve()));
    reader.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(await openFds()).toBe(before);
  });
});

/** A source that sends `before` bytes, then fails with `err` (as a transform does that fails part-way). */
function failingSource(before: number, err: unknown): Readable {
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < before; sent += 4096) yield Buffer.alloc(4096, 0x61);
      throw err;
    })(),
    { objectMode: false },
  );
}

describe('what a failed write reports', () => {
  it.each<[string, () => unknown]>([
    ['a library error (openpgp raised a DOMException)', () => new DOMException('Invalid keyData', 'DataError')],
    ['a TypeError', () => new TypeError('x is undefined')],
    ['a SealgateError', () => new SealgateError('SG_CLIENT_GONE')],
  ])('a source failing part-way with %s: the same error, no file left', async (_name, make) => {
    const err = make();
    const got = await spool.writeCopy('01ABCDEFGHJKMNPQRS20', 'r1', failingSource(256 * 1024, err)).catch((e: unknown) => e);
    expect(got).toBe(err);
    expect(await readdir(spool.tmpDir)).toEqual([]);
  });

  it('a stage that throws its own error: the same error', async () => {
    const err = new SealgateError('SG_MESSAGE_TOO_BIG');
    const stage = new Transform({
      transform(_chunk, _enc, done) {
        done(err);
      },
    });
    expect(await spool.write('01ABCDEFGHJKMNPQRS21', Readable.from([Buffer.from('x')]), [stage]).catch((e: unknown) => e)).toBe(err);
  });

  it('a spool file that cannot be created (its directory is gone) is SG_STORAGE_FAILED with the errno', async () => {
    await rm(spool.tmpDir, { recursive: true });
    const got = await spool.writeCopy('01ABCDEFGHJKMNPQRS22', 'r1', Readable.from([Buffer.from('x')])).catch((e: unknown) => e);
    expect(isSealgateError(got, 'SG_STORAGE_FAILED') && got.detail).toEqual({ errno: 'ENOENT' });
  });

  it('a file system that fills up in the middle of a write is SG_STORAGE_FULL, the partial file removed', async (ctx) => {
    const small = join(dir, 'small');
    await mkdir(small);
    try {
      await promisify(execFile)('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', small]);
    } catch (err) {
      ctx.skip(`cannot mount a tmpfs: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    try {
      const onSmall = new Spool(join(small, 'spool'), new Keyring(masterKeyFromBytes(randomBytes(32))));
      await onSmall.init();
      const got = await onSmall.writeCopy('01ABCDEFGHJKMNPQRS23', 'r1', failingSource(4 * 1024 * 1024, new Error('never reached'))).catch((e: unknown) => e);
      expect(isSealgateError(got, 'SG_STORAGE_FULL') && got.detail).toEqual({ errno: 'ENOSPC' });
      expect(await readdir(onSmall.tmpDir)).toEqual([]);
    } finally {
      await promisify(execFile)('umount', [small]);
    }
  });
});

describe('per-recipient copies', () => {
  const id = 'A1B2C3D4E5F6G7H8';

  it('writes a copy beside its message, encrypted, bound to message and name; remove takes both', async () => {
    await (await spool.write(id, Readable.from([Buffer.from('original')]))).commit();
    const copy = await spool.writeCopy(id, 'r3', Readable.from([Buffer.from('copy for recipient 3')]));
    const path = await copy.commit();
    expect(path).toBe(join(spool.copyDirFor(id), 'r3'));
    expect((await readFile(path)).includes(Buffer.from('copy for recipient 3'))).toBe(false);
    expect((await readAll(spool.readCopy(id, 'r3'))).toString()).toBe('copy for recipient 3');
    expect((await readAll(spool.read(id))).toString()).toBe('original');
    // bound to its name: another recipient's name cannot read it
    await rm(join(spool.copyDirFor(id), 'r4'), { force: true });
    await copyFile(path, join(spool.copyDirFor(id), 'r4'));
    await expect(readAll(spool.readCopy(id, 'r4'))).rejects.toSatisfy((e: unknown) => isSealgateError(e, 'SG_SPOOL_CORRUPT'));
    await spool.remove(id);
    expect(await readdir(join(spool.msgDir, id.slice(-2)))).toEqual([]);
  });

  it.each([['../x'], ['R3'], [''], ['a'.repeat(33)], ['r/3']])('refuses the copy name %j', async (name) => {
    await expect(spool.writeCopy(id, name, Readable.from([Buffer.from('x')]))).rejects.toSatisfy((e: unknown) => isSealgateError(e, 'SG_STORAGE_FAILED'));
  });

  it('discard before commit leaves nothing; start-up cleanup removes copies of messages without a queue row', async () => {
    const pending = await spool.writeCopy(id, 'r1', Readable.from([Buffer.from('x')]));
    await pending.discard();
    expect(await readdir(spool.tmpDir)).toEqual([]);
    await (await spool.write(id, Readable.from([Buffer.from('m')]))).commit();
    await (await spool.writeCopy(id, 'r1', Readable.from([Buffer.from('c')]))).commit();
    const other = 'ZZZZZZZZZZZZZZH8';
    await (await spool.writeCopy(other, 'r1', Readable.from([Buffer.from('c')]))).commit();
    const r = await spool.removeOrphans(async (qid) => qid === id);
    expect(r.orphans).toBe(1);
    expect((await readAll(spool.readCopy(id, 'r1'))).toString()).toBe('c');
    expect((await readdir(join(spool.msgDir, 'H8'))).sort()).toEqual([id, `${id}.copies`]);
  });
});
