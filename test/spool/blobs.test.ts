/**
 * The spool's content backends (src/spool/blobs.ts) against the same tests:
 * local files (dataDir/spool, objects.kind local) and the object store
 * (spool/<id>/… keys, objects.kind s3) over the real S3 store driven by the
 * AWS SDK against s3rver on loopback (test/helpers/s3-server.ts names its
 * limits), opened from config as the daemon opens it, with 5 MiB parts so a
 * 12 MiB message is a multipart upload. Then what only the object backend
 * has: the spool through it (ciphertext only in the bucket), a store that
 * cannot be reached, a removal that fails, and the sweep's minimum age.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { SealgateError, isSealgateError } from '../../src/errors.js';
import { objectsSchema } from '../../src/objects/config-schema.js';
import { openObjectStore, type OpenedObjectStore } from '../../src/objects/open.js';
import type { HeldBlobs, SpoolBlobs } from '../../src/spool/blobs.js';
import { LocalSpoolFiles } from '../../src/spool/local-blobs.js';
import { ObjectSpoolBlobs, spoolObjectId, spoolObjectKey } from '../../src/spool/object-blobs.js';
import { Spool } from '../../src/spool/spool.js';
import { startSpoolObjectSweep } from '../../src/spool/object-sweep.js';
import { createLogger } from '../../src/log/logger.js';
import { until } from '../helpers/wait.js';
import { collect, errorOf, failingSource } from '../helpers/object-streams.js';
import { filePaths } from '../helpers/files.js';
import { readAll } from '../helpers/read-all.js';
import { startS3Server, type TestS3 } from '../helpers/s3-server.js';

const MiB = 1024 * 1024;
const ID = '01ABCDEFGHJKMNPQRSXY';
const OTHER = '01ABCDEFGHJKMNPQRSZZ';

let s3: TestS3;
let dir: string;
let prefixes = 0;
const opened: OpenedObjectStore[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3.stop();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-blobs-'));
});

afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
});

/** The S3 store on a fresh prefix of the one bucket, opened and checked as the daemon does. */
async function openS3(overrides: { endpoint?: string } = {}): Promise<OpenedObjectStore> {
  const secretFile = join(dir, 's3-secret');
  await writeFile(secretFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  const objects = objectsSchema.parse({
    kind: 's3',
    s3: { endpoint: overrides.endpoint ?? s3.endpoint, bucket: s3.bucket, region: s3.region, prefix: `blobs/t${++prefixes}/`, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: secretFile, partSizeBytes: 5 * MiB, timeout: '20s', maxAttempts: 1 },
  });
  const store = await openObjectStore({ dataDir: join(dir, 'data'), objects });
  opened.push(store);
  return store;
}

const KINDS = ['files', 'objects'] as const;
type Kind = (typeof KINDS)[number];

async function backend(kind: Kind): Promise<SpoolBlobs> {
  const blobs = kind === 'files' ? new LocalSpoolFiles(join(dir, 'spool')) : new ObjectSpoolBlobs(await openS3(), { minOrphanAgeMs: 0 });
  await blobs.init();
  return blobs;
}

/** Whether `name` can be read back. */
async function readable(blobs: SpoolBlobs, id: string, copy?: string): Promise<boolean> {
  return readAll(blobs.read({ id, copy })).then(
    () => true,
    () => false,
  );
}

describe.each(KINDS)('spool backend: %s', (kind) => {
  it('content past the inline limit is stored; after commit it reads back byte for byte', async () => {
    const blobs = await backend(kind);
    const content = randomBytes(300 * 1024);
    const written = await blobs.write({ id: ID }, Readable.from([content.subarray(0, 1000), content.subarray(1000)]), [], 64 * 1024);
    expect(written.inline).toBeUndefined();
    expect(written.bytes).toBe(content.length);
    await written.blob?.commit();
    expect((await readAll(blobs.read({ id: ID }))).equals(content)).toBe(true);
  });

  it('content within the inline limit comes back in memory, and nothing is stored', async () => {
    const blobs = await backend(kind);
    const written = await blobs.write({ id: ID }, Readable.from([Buffer.from('small')]), [], 64 * 1024);
    expect(written.inline?.toString()).toBe('small');
    expect(written.blob).toBeUndefined();
    expect(await readable(blobs, ID)).toBe(false);
  });

  it('passes the content through the stages, in order', async () => {
    const blobs = await backend(kind);
    const upper = new Transform({ transform: (c: Buffer, _e, done) => done(null, Buffer.from(c.toString('latin1').toUpperCase(), 'latin1')) });
    const written = await blobs.write({ id: ID }, Readable.from([Buffer.from('abc'.repeat(1000))]), [upper], 0);
    await written.blob?.commit();
    expect((await readAll(blobs.read({ id: ID }))).toString()).toBe('ABC'.repeat(1000));
  });

  it('a 12 MiB message streams through (a multipart upload on S3) and reads back', async () => {
    const blobs = await backend(kind);
    const chunk = randomBytes(MiB);
    const written = await blobs.write({ id: ID }, Readable.from(Array.from({ length: 12 }, () => chunk)), [], 128 * 1024);
    await written.blob?.commit();
    const back = await readAll(blobs.read({ id: ID }));
    expect(back.length).toBe(12 * MiB);
    expect(back.subarray(11 * MiB).equals(chunk)).toBe(true);
  });

  it('a source that fails mid-stream fails the write with its own error and stores nothing', async () => {
    const blobs = await backend(kind);
    const err = await errorOf(blobs.write({ id: ID }, failingSource(600 * 1024), [], 64 * 1024));
    expect((err as Error).message).toBe('source failed');
    expect(await readable(blobs, ID)).toBe(false);
  });

  it('a stage that fails with a SealgateError keeps its code; nothing is stored', async () => {
    const blobs = await backend(kind);
    let seen = 0;
    const stage = new Transform({
      transform: (c: Buffer, _e, done) => {
        seen += c.length;
        done(seen > 200 * 1024 ? new SealgateError('SG_E2E_FAILED') : null, c);
      },
    });
    const err = await errorOf(blobs.write({ id: ID }, Readable.from(Array.from({ length: 8 }, () => randomBytes(64 * 1024))), [stage], 0));
    expect(isSealgateError(err) && err.code).toBe('SG_E2E_FAILED');
    expect(await readable(blobs, ID)).toBe(false);
  });

  it('discard removes the content, committed or not', async () => {
    const blobs = await backend(kind);
    const a = await blobs.write({ id: ID }, Readable.from([randomBytes(1000)]), [], 0);
    await a.blob?.discard();
    expect(await readable(blobs, ID)).toBe(false);
    const b = await blobs.write({ id: ID }, Readable.from([randomBytes(1000)]), [], 0);
    await b.blob?.commit();
    await b.blob?.discard();
    expect(await readable(blobs, ID)).toBe(false);
  });

  it('copies are kept apart from the message and from each other; remove takes the message and every copy, and only those', async () => {
    const blobs = await backend(kind);
    for (const [id, copy, text] of [
      [ID, undefined, 'message'],
      [ID, 'r1', 'copy one'],
      [ID, 'r12', 'copy twelve'],
      [OTHER, undefined, 'other message'],
    ] as const) {
      await (await blobs.write({ id, copy }, Readable.from([Buffer.from(text)]), [], 0)).blob?.commit();
    }
    expect((await readAll(blobs.read({ id: ID, copy: 'r12' }))).toString()).toBe('copy twelve');
    expect((await readAll(blobs.read({ id: ID, copy: 'r1' }))).toString()).toBe('copy one');
    await blobs.remove(ID);
    for (const copy of [undefined, 'r1', 'r12']) expect(await readable(blobs, ID, copy)).toBe(false);
    expect((await readAll(blobs.read({ id: OTHER }))).toString()).toBe('other message');
    // nothing there: no error
    await blobs.remove(ID);
  });

  // what the caller knows the store holds (the delivery's record read the recipients' copies; inline content was kept in memory)
  it.each<{ name: string; written: readonly (string | undefined)[]; held: HeldBlobs | undefined }>([
    { name: 'nothing known: the message and its copies are looked for and removed', written: [undefined, 'r1'], held: undefined },
    { name: 'a blob and copies held: both removed', written: [undefined, 'r1', 'r2'], held: { blob: true, copies: true } },
    { name: 'content inline, copies held: the copies removed', written: ['r1'], held: { blob: false, copies: true } },
    { name: 'a blob, no copies: the blob removed', written: [undefined], held: { blob: true, copies: false } },
    { name: 'content inline, no copies: nothing to look for, no error', written: [], held: { blob: false, copies: false } },
  ])('remove with what is held: $name', async ({ written, held }) => {
    const blobs = await backend(kind);
    for (const copy of written) await (await blobs.write({ id: ID, copy }, Readable.from([Buffer.from(`part ${copy ?? 'message'}`)]), [], 0)).blob?.commit();
    await (await blobs.write({ id: OTHER }, Readable.from([Buffer.from('other message')]), [], 0)).blob?.commit();
    for (const copy of written) expect(await readable(blobs, ID, copy)).toBe(true);
    await blobs.remove(ID, held);
    for (const copy of written) expect(await readable(blobs, ID, copy)).toBe(false);
    expect((await readAll(blobs.read({ id: OTHER }))).toString()).toBe('other message');
  });

  it('removeOrphans keeps queued messages and their copies, removes the rest', async () => {
    const blobs = await backend(kind);
    await (await blobs.write({ id: ID }, Readable.from([Buffer.from('kept')]), [], 0)).blob?.commit();
    await (await blobs.write({ id: ID, copy: 'r1' }, Readable.from([Buffer.from('kept copy')]), [], 0)).blob?.commit();
    await (await blobs.write({ id: OTHER }, Readable.from([Buffer.from('orphan')]), [], 0)).blob?.commit();
    await (await blobs.write({ id: OTHER, copy: 'r2' }, Readable.from([Buffer.from('orphan copy')]), [], 0)).blob?.commit();
    const result = await blobs.removeOrphans(async (id) => id === ID, Date.now() + 1000);
    // counted as each backend keeps them (files: the message's file and its copy directory; objects: per message)
    expect(result.orphans).toBeGreaterThan(0);
    expect(await readable(blobs, ID)).toBe(true);
    expect(await readable(blobs, ID, 'r1')).toBe(true);
    expect(await readable(blobs, OTHER)).toBe(false);
    expect(await readable(blobs, OTHER, 'r2')).toBe(false);
  });
});

describe('the object store backend', () => {
  it('keys: spool/<id>/message and spool/<id>/copies/<name>; the id read back from either', () => {
    const cases: [Parameters<typeof spoolObjectKey>[0], string][] = [
      [{ id: ID }, `spool/${ID}/message`],
      [{ id: ID, copy: 'r3' }, `spool/${ID}/copies/r3`],
    ];
    for (const [name, key] of cases) {
      expect(spoolObjectKey(name)).toBe(key);
      expect(spoolObjectId(key)).toBe(ID);
    }
    for (const key of ['portal/ab/x', 'spool', 'spool/']) expect(spoolObjectId(key)).toBeUndefined();
    expect(() => spoolObjectKey({ id: '../x' })).toThrow(/invalid/);
  });

  it('the spool through it: the bucket holds ciphertext only, under spool/, and the spool reads the message back', async () => {
    const store = await openS3();
    const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
    const spool = new Spool(join(dir, 'spool'), keyring, undefined, new ObjectSpoolBlobs(store));
    await spool.init();
    const marker = 'MARKER-SPOOL-OBJECT-7391';
    const body = Buffer.from(`Subject: x\r\n\r\n${`${marker} `.repeat(20_000)}\r\n`);
    const pending = await spool.write(ID, Readable.from([body]));
    expect(await pending.commit()).toBe(`object:spool/${ID}/message`);
    const copy = await spool.writeCopy(ID, 'r2', Readable.from([Buffer.from(`copy ${marker}`)]));
    await copy.commit();
    expect(await collect(store.list(''))).toEqual([`spool/${ID}/copies/r2`, `spool/${ID}/message`]);
    expect((await readAll(spool.read(ID))).equals(body)).toBe(true);
    expect((await readAll(spool.readCopy(ID, 'r2'))).toString()).toBe(`copy ${marker}`);
    // nothing on the local disk; nothing in clear in s3rver's files
    expect(await readdir(dir)).not.toContain('spool');
    const files = await filePaths(s3.dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect((await readFile(f)).includes(Buffer.from(marker)), f).toBe(false);
    await spool.remove(ID);
    expect(await collect(store.list(''))).toEqual([]);
  });

  it('a store that cannot be reached fails the write with SG_STORAGE_FAILED (SMTP 451 4.3.0), nothing half-stored', async () => {
    // a port nothing listens on: connection refused
    const down = await openS3({ endpoint: 'http://127.0.0.1:9' });
    const blobs = new ObjectSpoolBlobs(down);
    const err = await errorOf(blobs.write({ id: ID }, Readable.from(Array.from({ length: 8 }, () => randomBytes(64 * 1024))), [], 64 * 1024));
    expect(isSealgateError(err) && err.code).toBe('SG_STORAGE_FAILED');
    expect(isSealgateError(err) && err.smtp).toEqual({ code: 451, enhanced: '4.3.0' });
  });

  it('a removal that fails is reported to onRemoveFailed and not thrown; without it, it rejects', async () => {
    const down = await openS3({ endpoint: 'http://127.0.0.1:9' });
    const failures: [string, string][] = [];
    await new ObjectSpoolBlobs(down, { onRemoveFailed: (id, e) => failures.push([id, e.code]) }).remove(ID);
    expect(failures).toEqual([[ID, 'SG_STORAGE_FAILED']]);
    const err = await errorOf(new ObjectSpoolBlobs(down).remove(ID));
    expect(isSealgateError(err) && err.code).toBe('SG_STORAGE_FAILED');
  });

  it('the daemon\'s periodic sweep removes what a failed removal left, keeps queued messages, and logs the count', async () => {
    const store = await openS3();
    const spool = new Spool(join(dir, 'spool'), new Keyring(masterKeyFromBytes(randomBytes(32))), undefined, new ObjectSpoolBlobs(store));
    await (await spool.write(ID, Readable.from([randomBytes(1000)]))).commit();
    await (await spool.write(OTHER, Readable.from([randomBytes(1000)]))).commit();
    await (await spool.writeCopy(OTHER, 'r1', Readable.from([randomBytes(1000)]))).commit();
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString('utf8')), cb()) }) });
    // OTHER left the queue (its removal failed); the clock is two hours on, past the minimum age
    const sweep = startSpoolObjectSweep(spool, async (id) => id === ID, () => Date.now() + 2 * 60 * 60 * 1000, log, 20);
    try {
      await until('the orphan swept', async () => (await collect(store.list('spool/'))).length === 1);
    } finally {
      await sweep.stop();
    }
    expect(await collect(store.list('spool/'))).toEqual([`spool/${ID}/message`]);
    expect(lines.some((l) => l.includes('"event":"SPOOL_ORPHANS_REMOVED"') && l.includes('"orphans":1'))).toBe(true);
  });

  it('the sweep keeps objects younger than its minimum age (another node may not have committed yet)', async () => {
    const blobs = new ObjectSpoolBlobs(await openS3(), { minOrphanAgeMs: 60 * 60 * 1000 });
    await (await blobs.write({ id: OTHER }, Readable.from([Buffer.from('in flight')]), [], 0)).blob?.commit();
    const notQueued = async (): Promise<boolean> => false;
    expect((await blobs.removeOrphans(notQueued, Date.now())).orphans).toBe(0);
    expect(await readable(blobs, OTHER)).toBe(true);
    expect((await blobs.removeOrphans(notQueued, Date.now() + 2 * 60 * 60 * 1000)).orphans).toBe(1);
    expect(await readable(blobs, OTHER)).toBe(false);
  });
});
