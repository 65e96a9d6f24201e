/**
 * What only the S3 store has: its config (objects.kind: s3, errors naming
 * the path and the fix), its credentials (a file or the environment, never
 * echoed), the key prefix that confines it in a shared bucket, multipart
 * uploads, and its failures (wrong credentials, a missing bucket, a server
 * that is gone, a server that lists out of order) mapped to the local
 * store's codes. Against s3rver on loopback (test/helpers/s3-server.ts names
 * its limits; the behaviour both stores share is in object-stores.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { embeddedDefaultConfig, validateConfig } from '../../src/config/load.js';
import { isSealgateError, SealgateError } from '../../src/errors.js';
import { objectsSchema, s3PrefixProblem } from '../../src/objects/config-schema.js';
import { describeObjectStore, openObjectStore, readSecretAccessKey } from '../../src/objects/open.js';
import { classifyS3Error, S3ObjectStore, type S3ObjectStoreOptions } from '../../src/objects/s3-store.js';
import { startS3Server, type TestS3 } from '../helpers/s3-server.js';
import { readAll } from '../helpers/read-all.js';
import { collect, errorOf, failingSource } from '../helpers/object-streams.js';

const MiB = 1024 * 1024;

let s3: TestS3;
let raw: S3Client;
let dir: string;
let n = 0;

beforeAll(async () => {
  s3 = await startS3Server();
  raw = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
});

afterAll(async () => {
  raw.destroy();
  await s3.stop();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-s3store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(over: Partial<S3ObjectStoreOptions> = {}): S3ObjectStoreOptions {
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    prefix: `s3only/p${++n}/`,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    partBytes: 5 * MiB,
    timeoutMs: 20_000,
    maxAttempts: 2,
    ...over,
  };
}

/** The multipart uploads s3rver holds (started, never completed), as the full keys they were for. */
async function pendingUploads(): Promise<string[]> {
  const uploads = join(s3.dir, s3.bucket, '._S3rver_uploads');
  const ids = await readdir(uploads).catch(() => [] as string[]);
  return Promise.all(ids.map((id) => readFile(join(uploads, id, 'key'), 'utf8')));
}

describe('classifyS3Error', () => {
  it.each([
    [{ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }, 'SG_OBJECT_NOT_FOUND'],
    [{ name: 'NotFound', $metadata: { httpStatusCode: 404 } }, 'SG_OBJECT_NOT_FOUND'],
    [{ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }, 'SG_STORAGE_FAILED'],
    [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, 'SG_STORAGE_FAILED'],
    [{ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }, 'SG_STORAGE_FAILED'],
    [{ name: 'XMinioStorageFull', $metadata: { httpStatusCode: 507 } }, 'SG_STORAGE_FULL'],
    [{ name: 'QuotaExceeded', $metadata: { httpStatusCode: 403 } }, 'SG_STORAGE_FULL'],
    [{ name: 'InternalError', $metadata: { httpStatusCode: 500 } }, 'SG_STORAGE_FAILED'],
    [{ name: 'TimeoutError' }, 'SG_STORAGE_FAILED'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'SG_STORAGE_FAILED'],
    ['a string', 'SG_STORAGE_FAILED'],
  ])('%j is %s', (err, code) => {
    expect(classifyS3Error(err).code).toBe(code);
  });

  it('passes on only an identifier as the name', () => {
    expect(classifyS3Error({ name: 'secret=abc def', $metadata: { httpStatusCode: 400 } })).toEqual({ code: 'SG_STORAGE_FAILED', name: 'Error', status: 400 });
  });
});

describe('objects config', () => {
  const base = embeddedDefaultConfig();
  const problems = (objects: unknown): string => {
    try {
      validateConfig({ ...base, objects }, 'test');
      return 'valid';
    } catch (err) {
      return isSealgateError(err, 'SG_CONFIG_INVALID') ? err.message : String(err);
    }
  };

  it('defaults to the local store', () => {
    expect(validateConfig(base, 'test').objects).toEqual({ kind: 'local' });
  });

  it('fills the s3 defaults', () => {
    expect(objectsSchema.parse({ kind: 's3', s3: { bucket: 'sealgate-objects' } })).toEqual({
      kind: 's3',
      s3: { bucket: 'sealgate-objects', region: 'us-east-1', prefix: '', forcePathStyle: false, partSizeBytes: 8 * MiB, timeout: 60_000, maxAttempts: 3 },
    });
  });

  it.each([
    [{ kind: 's3' }, 'objects.s3', 'needs objects.s3'],
    [{ kind: 'local', s3: { bucket: 'abc' } }, 'objects.s3', 'set objects.kind: s3 or remove objects.s3'],
    [{ kind: 's3', s3: { bucket: 'abc', accessKeyId: 'AKIA1' } }, 'objects.s3.secretAccessKeyFile', 'together, or neither'],
    [{ kind: 's3', s3: { bucket: 'abc', secretAccessKeyFile: '/x' } }, 'objects.s3.accessKeyId', 'together, or neither'],
    [{ kind: 's3', s3: { bucket: 'Bad_Bucket' } }, 'objects.s3.bucket', 'S3 bucket name'],
    [{ kind: 's3', s3: { bucket: 'abc', prefix: 'no-slash' } }, 'objects.s3.prefix', 'must end with "/"'],
    [{ kind: 's3', s3: { bucket: 'abc', prefix: '../' } }, 'objects.s3.prefix', 'path segments'],
    [{ kind: 's3', s3: { bucket: 'abc', endpoint: 'ftp://x' } }, 'objects.s3.endpoint', 'http:// or https://'],
    [{ kind: 's3', s3: { bucket: 'abc', partSizeBytes: 1024 } }, 'objects.s3.partSizeBytes', ''],
    [{ kind: 's3', s3: { bucket: 'abc', secretAccessKey: 'inline' } }, 'objects.s3', ''],
    [{ kind: 'gcs' }, 'objects.kind', ''],
  ])('%j is refused naming %s', (objects, path, fix) => {
    const message = problems(objects);
    expect(message).toContain(path);
    expect(message).toContain(fix);
    expect(message).not.toContain('inline');
  });

  it.each([[''], ['sealgate/'], ['a/b-c/']])('accepts the prefix %j', (p) => {
    expect(s3PrefixProblem(p)).toBeUndefined();
  });

  it('reads the secret from the first line of its file; a missing or empty file names the key and the fix, never the content', async () => {
    const file = join(dir, 'secret');
    await writeFile(file, 'TOPSECRETVALUE\nsecond line\n', { mode: 0o600 });
    expect(await readSecretAccessKey(file)).toBe('TOPSECRETVALUE');
    await writeFile(file, '\nTOPSECRETVALUE\n');
    const empty = await errorOf(readSecretAccessKey(file));
    expect(isSealgateError(empty, 'SG_CONFIG_INVALID') && empty.message).toContain('objects.s3.secretAccessKeyFile');
    expect(String((empty as Error).message)).not.toContain('TOPSECRETVALUE');
    const missing = await errorOf(readSecretAccessKey(join(dir, 'none')));
    expect(isSealgateError(missing, 'SG_CONFIG_INVALID') && missing.message).toMatch(/secretAccessKeyFile: cannot read .* \(ENOENT\); create it/);
  });

  it('describes where the store is without any credential', () => {
    const objects = objectsSchema.parse({ kind: 's3', s3: { bucket: 'sealgate-objects', prefix: 'gw1/', endpoint: 'https://minio.example.org:9000/', accessKeyId: 'AKIAEXAMPLE', secretAccessKeyFile: '/etc/sealgate/s3-secret' } });
    expect(describeObjectStore({ dataDir: '/d', objects })).toBe('s3://sealgate-objects/gw1/ at https://minio.example.org:9000');
    expect(describeObjectStore({ dataDir: '/d', objects: { kind: 'local' } })).toBe('/d/store');
  });
});

describe('S3ObjectStore on s3rver', () => {
  it('opens from config with the secret from its file, and keeps to its prefix in a shared bucket', async () => {
    const file = join(dir, 'secret');
    await writeFile(file, `${s3.secretAccessKey}\n`, { mode: 0o600 });
    const cfg = (prefix: string) =>
      objectsSchema.parse({ kind: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, prefix, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: file } });
    const one = await openObjectStore({ dataDir: dir, objects: cfg('shared/one/') });
    const two = await openObjectStore({ dataDir: dir, objects: cfg('shared/two/') });
    await one.init();
    await one.put('portal/aa/x', Readable.from([Buffer.from('one')]));
    await two.put('portal/aa/x', Readable.from([Buffer.from('two')]));
    // other software's objects beside and under the prefix: never listed as ours, never touched
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'shared/one-beside', Body: 'b' }));
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'shared/one/.hidden', Body: 'h' }));
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'shared/one/portal/aa/bad name', Body: 'h' }));
    expect(await collect(one.list(''))).toEqual(['portal/aa/x']);
    expect((await readAll(one.get('portal/aa/x'))).toString()).toBe('one');
    expect((await readAll(two.get('portal/aa/x'))).toString()).toBe('two');
    await one.delete('portal/aa/x');
    expect(await collect(one.list(''))).toEqual([]);
    expect(await collect(two.list(''))).toEqual(['portal/aa/x']);
    one.close();
    two.close();
  });

  it('a big put is a multipart upload; one whose source fails is never completed and its key stays absent', async () => {
    const store = new S3ObjectStore(options());
    const before = await pendingUploads();
    await store.put('big', Readable.from([randomBytes(11 * MiB)]));
    // completed: s3rver removes a completed upload's parts
    expect(await pendingUploads()).toEqual(before);
    expect(isSealgateError(await errorOf(store.put('lost', failingSource(8 * MiB))), 'SG_STORAGE_FAILED')).toBe(true);
    // the upload was started (part 1 sent while the source was read) and never completed; s3rver cannot abort it (its limit)
    expect((await pendingUploads()).filter((k) => !before.includes(k))).toEqual([`${store.prefix}lost`]);
    expect(await store.exists('lost')).toBe(false);
    store.close();
  });

  it('wrong credentials: SG_STORAGE_FAILED naming the S3 error, never the secret', async () => {
    // s3rver checks the access key id, not V4 signatures (its limit): an unknown id is the wrong credential it refuses
    const store = new S3ObjectStore(options({ credentials: { accessKeyId: 'NOTANACCOUNT', secretAccessKey: 'WRONGSECRET123' } }));
    const init = await errorOf(store.init());
    expect(isSealgateError(init, 'SG_STORAGE_FAILED') && init.message).toBe(
      `object store bucket ${s3.bucket} refused these credentials (HTTP 403): check objects.s3.accessKeyId and its secret (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), and that they may use the bucket`,
    );
    const errs = [await errorOf(store.put('k', Readable.from([Buffer.from('x')]))), await errorOf(collect(store.list('')))];
    for (const err of errs) {
      expect(isSealgateError(err, 'SG_STORAGE_FAILED')).toBe(true);
      const text = JSON.stringify({ message: (err as SealgateError).message, detail: (err as SealgateError).detail, cause: (err as SealgateError).cause });
      expect(text).toMatch(/InvalidAccessKeyId \(HTTP 403\)/);
      expect(text).not.toContain('WRONGSECRET123');
    }
    store.close();
  });

  it('a missing bucket fails init naming the bucket and the fix', async () => {
    const store = new S3ObjectStore(options({ bucket: 'no-such-bucket' }));
    const err = await errorOf(store.init());
    expect(isSealgateError(err, 'SG_STORAGE_FAILED') && err.message).toBe('object store bucket no-such-bucket does not exist: create it, or fix objects.s3.bucket');
    store.close();
  });

  it('a server that is gone: every operation fails with SG_STORAGE_FAILED (exists does not say "absent")', async () => {
    const gone = await startS3Server('gone-bucket');
    const store = new S3ObjectStore(options({ endpoint: gone.endpoint, bucket: gone.bucket, maxAttempts: 1, timeoutMs: 5_000 }));
    await store.put('k', Readable.from([Buffer.from('x')]));
    await gone.stop();
    const ops: (() => Promise<unknown>)[] = [
      () => store.init(),
      () => store.put('k', Readable.from([Buffer.from('y')])),
      () => readAll(store.get('k')),
      () => readAll(store.getRange('k', 0, 1)),
      () => store.exists('k'),
      () => store.delete('k'),
      () => collect(store.list('')),
    ];
    for (const op of ops) {
      const err = await errorOf(op());
      expect(isSealgateError(err, 'SG_STORAGE_FAILED') && err.detail).toEqual({ s3: 'ECONNREFUSED' });
    }
    store.close();
  });

  it('refuses a listing out of byte order instead of trusting it (s3rver lists "a/b" before "a")', async () => {
    const store = new S3ObjectStore(options());
    await store.put('a', Readable.from([Buffer.from('1')]));
    await store.put('a/b', Readable.from([Buffer.from('2')]));
    const err = await errorOf(collect(store.list('')));
    expect(isSealgateError(err, 'SG_STORAGE_FAILED') && err.message).toContain('out of byte order');
    store.close();
  });

  it('refuses a prefix that is not segments ending in "/" and parts under 5 MiB', () => {
    expect(() => new S3ObjectStore(options({ prefix: '../' }))).toThrow(expect.objectContaining({ code: 'SG_OBJECT_KEY_INVALID' }) as Error);
    expect(() => new S3ObjectStore(options({ partBytes: MiB }))).toThrow(RangeError);
  });
});
