/**
 * The file spool read as objects under the object spool's keys
 * (src/spool/file-spool-source.ts, what `sealgate migrate` carries): the
 * pure naming rules (table-driven), the listing of a real dataDir/spool
 * written by the Spool (queued blobs only; temporary files and unqueued
 * messages counted as orphans), and the point of it all: a message and its
 * copy written by the Spool on files, copied byte for byte into a real object
 * store (the local one) with copy-objects.ts, are read back by a Spool on the
 * object backend — the same ciphertext and encryption context in both
 * spools, nothing decrypted on the way. A second copy skips everything and
 * the check finds the store equal; a blob changed in the store is found.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { copyObjects, verifyObjects } from '../../src/objects/copy-objects.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { fileSpoolSource, listFileSpool, shardEntry, spoolKeyOf } from '../../src/spool/file-spool-source.js';
import { ObjectSpoolBlobs, spoolObjectKey } from '../../src/spool/object-blobs.js';
import { Spool } from '../../src/spool/spool.js';
import { readAll } from '../helpers/read-all.js';

const ID = '01ABCDEFGHJKMNPQRSXY';
const OTHER = '01ABCDEFGHJKMNPQRSZZ';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-file-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('naming (pure)', () => {
  it.each([
    { name: ID, dir: false, want: { kind: 'message', id: ID } },
    { name: `${ID}.copies`, dir: true, want: { kind: 'copies', id: ID } },
    { name: ID, dir: true, want: undefined },
    { name: `${ID}.copies`, dir: false, want: undefined },
    { name: '.copies', dir: true, want: undefined },
    { name: `${ID}.copies-r1`, dir: false, want: undefined },
  ])('shardEntry($name, dir $dir)', ({ name, dir: isDir, want }) => {
    expect(shardEntry(name, isDir)).toEqual(want);
  });

  it.each([
    { name: { id: ID }, want: { key: `spool/${ID}/message` } },
    { name: { id: ID, copy: 'r3' }, want: { key: `spool/${ID}/copies/r3` } },
    { name: { id: ID, copy: 'R3' }, want: { problem: 'not a copy name the gateway writes' } },
    { name: { id: ID, copy: 'x'.repeat(33) }, want: { problem: 'not a copy name the gateway writes' } },
    { name: { id: 'a/b' }, want: { problem: 'a slash in the id' } },
  ])('spoolKeyOf($name)', ({ name, want }) => {
    expect(spoolKeyOf(name)).toEqual(want);
  });

  it('gives the keys the object spool reads', () => {
    for (const name of [{ id: ID }, { id: ID, copy: 'r1' }, { id: OTHER, copy: 'r12' }]) expect(spoolKeyOf(name)).toEqual({ key: spoolObjectKey(name) });
  });
});

describe('a file spool carried into an object store', () => {
  it('lists queued blobs only, copies them byte for byte, and the object spool reads them back', async () => {
    const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
    const root = join(dir, 'spool');
    const files = new Spool(root, keyring);
    await files.init();
    const message = randomBytes(200_000);
    const copy = randomBytes(50_000);
    await (await files.write(ID, Readable.from([message]))).commit();
    await (await files.writeCopy(ID, 'r1', Readable.from([copy]))).commit();
    await (await files.write(OTHER, Readable.from([randomBytes(1000)]))).commit();
    // a write that never got its 250
    await writeFile(join(root, 'tmp', 'UNFINISHED'), 'x');

    const listing = await listFileSpool(root, (id) => id === ID);
    expect(listing.files.map((f) => f.key)).toEqual([`spool/${ID}/copies/r1`, `spool/${ID}/message`]);
    expect(listing.orphans).toBe(2);
    expect(listing.unfit).toEqual([]);
    expect(listing.files.find((f) => f.name.copy === undefined)?.bytes).toBe((await readFile(files.pathFor(ID))).length);

    const store = new LocalObjectStore(join(dir, 'store'));
    await store.init();
    const source = fileSpoolSource(listing.files);
    const scope = { prefix: 'spool/' };
    expect(await copyObjects(source, store, undefined, scope)).toMatchObject({ objects: 2, copied: 2, skipped: 0 });
    // the stored bytes are the file's: ciphertext, carried as it is
    expect(await readAll(store.get(`spool/${ID}/message`))).toEqual(await readFile(files.pathFor(ID)));

    const objects = new Spool(join(dir, 'unused'), keyring, undefined, new ObjectSpoolBlobs(store));
    expect(await readAll(objects.read(ID))).toEqual(message);
    expect(await readAll(objects.readCopy(ID, 'r1'))).toEqual(copy);

    // again: nothing copied, everything equal
    expect(await copyObjects(source, store, undefined, scope)).toMatchObject({ objects: 2, copied: 0, skipped: 2 });
    expect(await verifyObjects(source, store, 20, scope)).toMatchObject({ objects: 2, problems: 0, missing: [], different: [], extra: [] });

    // a blob changed in the store, and one the source does not have, are found
    await store.put(`spool/${ID}/copies/r1`, Readable.from([randomBytes(10)]));
    await store.put(`spool/${OTHER}/message`, Readable.from([randomBytes(10)]));
    expect(await verifyObjects(source, store, 20, scope)).toMatchObject({ problems: 2, different: [`spool/${ID}/copies/r1`], extra: [`spool/${OTHER}/message`] });
    // and other parts of the store are not the spool's concern, nor the spool keys theirs
    await store.put('archive/x', Readable.from([Buffer.from('a')]));
    expect((await verifyObjects(source, store, 20, scope)).problems).toBe(2);
    const nothing = { async *listInfo() {}, get: () => Readable.from([]) };
    expect(await verifyObjects(nothing, store, 20, { ignore: 'spool/' })).toMatchObject({ problems: 1, extra: ['archive/x'] });
  });

  it('an empty or absent spool lists nothing; a copy name the gateway never writes is unfit, not copied', async () => {
    expect(await listFileSpool(join(dir, 'none'), () => true)).toEqual({ files: [], orphans: 0, unfit: [] });
    const copies = join(dir, 'spool', 'msg', 'XY', `${ID}.copies`);
    await mkdir(copies, { recursive: true });
    await writeFile(join(copies, 'Bad Name'), 'x');
    expect(await listFileSpool(join(dir, 'spool'), () => true)).toEqual({ files: [], orphans: 0, unfit: [`${ID} copy Bad Name (not a copy name the gateway writes)`] });
  });
});
