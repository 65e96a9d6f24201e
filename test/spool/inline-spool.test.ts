/**
 * Small messages inside the database (queue.inlineMaxBytes): a write at or
 * under the limit touches no file and becomes durable with the caller's
 * transaction; a larger one spills to a spool file as before, also when the
 * limit is crossed mid-stream. Reads, removal and start-up cleanup cover both
 * places; the database holds only ciphertext. Real SQLite, real files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { isSealgateError } from '../../src/errors.js';
import { DatabaseInlineSpool } from '../../src/spool/inline-store.js';
import { Spool } from '../../src/spool/spool.js';
import { openFds } from '../helpers/fds.js';
import { readAll } from '../helpers/read-all.js';
import { insertQueuedMessage, removeIfFinished, type QueuedMessage } from '../../src/queue/store.js';
import { generateQueueId } from '../../src/queue/ids.js';

const LIMIT = 16 * 1024;
let dir: string;
let db: Database;
let spool: Spool;
let keyring: Keyring;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-inline-'));
  db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  spool = new Spool(join(dir, 'spool'), keyring, { store: new DatabaseInlineSpool(db), maxBytes: LIMIT });
  await spool.init();
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function spoolFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const f of await readdir(join(dir, 'spool', 'tmp'))) out.push(`tmp/${f}`);
  for (const shard of await readdir(join(dir, 'spool', 'msg'))) for (const f of await readdir(join(dir, 'spool', 'msg', shard))) out.push(`msg/${shard}/${f}`);
  return out;
}

/** A queued message with one recipient, as ingress would insert it. */
function queuedMessage(id: string, size: number): QueuedMessage {
  return {
    id, createdAt: 0, sender: '', size, spoolKeyId: 'k', listener: 'l', connector: 'c', clientIp: '127.0.0.1', helo: 'h',
    tlsVersion: undefined, authUser: undefined, bodyType: '7BIT', smtputf8: false, requireTls: false, dsnRet: undefined, dsnEnvid: undefined,
    bareLineEndings: 0, recipients: [{ address: 'bob@example.net' }], requirement: 'may',
  };
}

const inlineIds = async (): Promise<string[]> => (await db.all<{ id: string }>('SELECT id FROM spool_inline ORDER BY id')).map((r) => r.id);

/** `size` bytes of a recognisable text, in pieces of `piece` bytes (so a limit can be crossed between chunks). */
function body(size: number, piece = 4096): Readable {
  const text = Buffer.alloc(size, 'Patient record line 0123456789\r\n');
  const parts: Buffer[] = [];
  for (let i = 0; i < size; i += piece) parts.push(text.subarray(i, i + piece));
  return Readable.from(parts);
}

describe('inline spool', () => {
  // the encrypted form adds a header and 20 bytes per 64 KiB chunk, so these sizes sit clearly on each side of LIMIT
  it.each([
    { name: 'empty', size: 0, where: 'inline' },
    { name: '2 KB', size: 2048, where: 'inline' },
    { name: 'just under the limit', size: LIMIT - 200, where: 'inline' },
    { name: 'just over the limit', size: LIMIT + 1, where: 'file' },
    { name: '300 KB, crossing the limit mid-stream', size: 300 * 1024, where: 'file' },
  ])('$name: stored as $where, reads back the same bytes, removed by remove()', async ({ size, where }) => {
    const id = `ID${size}`;
    const pending = await spool.write(id, body(size));
    expect(pending.inline !== undefined).toBe(where === 'inline');
    if (pending.inline) await db.transaction((tx) => pending.inline!.store(tx));
    else await pending.commit();
    expect(await spoolFiles()).toEqual(where === 'file' ? [`msg/${id.slice(-2)}/${id}`] : []);
    expect(await inlineIds()).toEqual(where === 'inline' ? [id] : []);
    expect((await readAll(spool.read(id))).equals(await readAll(body(size)))).toBe(true);
    // read whole (decrypted in one call when inline): the same bytes; undefined past maxBytes
    expect((await spool.readWhole(id, size))?.equals(await readAll(body(size)))).toBe(true);
    if (size > 0) expect(await spool.readWhole(id, size - 1)).toBeUndefined();
    await spool.remove(id);
    expect(await spoolFiles()).toEqual([]);
    expect(await inlineIds()).toEqual([]);
  });

  it('inline content stored in a transaction that rolls back leaves nothing; commit() makes it durable on its own; discard removes it', async () => {
    const first = await spool.write('AAA1', body(1000));
    await expect(
      db.transaction(async (tx) => {
        await first.inline!.store(tx);
        throw new Error('the queue rows failed');
      }),
    ).rejects.toThrow('the queue rows failed');
    await first.discard();
    expect(await inlineIds()).toEqual([]);

    const second = await spool.write('AAA2', body(1000));
    expect(await second.commit()).toBe('inline');
    expect(await inlineIds()).toEqual(['AAA2']);
    await second.discard();
    expect(await inlineIds()).toEqual([]);
  });

  it('the database holds only ciphertext, bound to its queue id', async () => {
    const pending = await spool.write('BBB1', Readable.from([Buffer.from('Subject: biopsy results\r\n\r\nSSN 123-45-6789\r\n')]));
    await db.transaction((tx) => pending.inline!.store(tx));
    const row = await db.get<{ data: Buffer }>('SELECT data FROM spool_inline WHERE id = ?', ['BBB1']);
    expect(row?.data.subarray(0, 8).toString('latin1')).toBe('SGSPOOL1');
    expect(row?.data.includes(Buffer.from('123-45-6789'))).toBe(false);
    expect(row?.data.includes(Buffer.from('biopsy'))).toBe(false);
    // the same bytes under another id do not decrypt
    await db.run('INSERT INTO spool_inline (id, data) VALUES (?, ?)', ['BBB2', row?.data ?? Buffer.alloc(0)]);
    const err = await readAll(spool.read('BBB2')).catch((e: unknown) => e);
    expect(isSealgateError(err) && err.code).toBe('SG_SPOOL_CORRUPT');
    const whole = await spool.readWhole('BBB2', 1024).catch((e: unknown) => e);
    expect(isSealgateError(whole) && whole.code).toBe('SG_SPOOL_CORRUPT');
  });

  it('a source that fails after the limit was crossed leaves no file and no row', async () => {
    const src = new PassThrough();
    src.on('error', () => undefined);
    src.write(Buffer.alloc(LIMIT * 2, 'x'));
    // an error of the source itself comes back as it is (write-error.ts; accept-message names it SG_CLIENT_GONE)
    setImmediate(() => src.destroy(new Error('client gone')));
    await expect(spool.write('CCC1', src)).rejects.toThrow('client gone');
    expect(await spoolFiles()).toEqual([]);
    expect(await inlineIds()).toEqual([]);
  });

  it('a source that fails while the spill file is still being created: the file is released and removed, no descriptor left', async () => {
    const fdsBefore = await openFds();
    for (let i = 0; i < 20; i++) {
      // a stage passes on a chunk that crosses the limit (the file's creation starts) and fails in the same step,
      // before that creation is done
      const failing = new Transform({
        transform(chunk: Buffer, _enc, done) {
          this.push(Buffer.concat([chunk, Buffer.alloc(200 * 1024, 'x')]));
          done(new Error('client gone'));
        },
      });
      await expect(spool.write(`RACE${i}`, Readable.from([Buffer.from('start')]), [failing])).rejects.toThrow('client gone');
    }
    expect(await spoolFiles()).toEqual([]);
    expect(await inlineIds()).toEqual([]);
    expect(await openFds()).toBeLessThanOrEqual(fdsBefore);
  });

  it('start-up cleanup removes inline content whose message has no queue row and keeps queued ones', async () => {
    for (const id of ['QUEUED1', 'ORPHAN1']) await (await spool.write(id, body(500))).commit();
    await db.transaction((tx) => insertQueuedMessage(tx, queuedMessage('QUEUED1', 500)));
    expect(await spool.removeOrphans(async () => true)).toEqual({ tmp: 0, orphans: 1 });
    expect(await inlineIds()).toEqual(['QUEUED1']);
  });

  it('with a minimum age (several nodes on one database), unqueued content younger than it stays: its queue rows may be on their way', async () => {
    const T = Date.UTC(2026, 11, 6, 12);
    const old = generateQueueId(T - 2 * 3_600_000, randomBytes);
    const young = generateQueueId(T - 60_000, randomBytes);
    const queued = generateQueueId(T - 3 * 3_600_000, randomBytes);
    for (const id of [old, young, queued]) await (await spool.write(id, body(500))).commit();
    await db.transaction((tx) => insertQueuedMessage(tx, queuedMessage(queued, 500)));
    expect(await spool.removeOrphans(async () => true, T, { inlineMinAgeMs: 3_600_000 })).toEqual({ tmp: 0, orphans: 1 });
    expect((await inlineIds()).filter((id) => [old, young, queued].includes(id)).sort()).toEqual([young, queued].sort());
    expect(await readAll(spool.read(old)).catch((e: unknown) => e)).toBeInstanceOf(Error);
    expect((await readAll(spool.read(young))).equals(await readAll(body(500)))).toBe(true);
  });

  it('a finished message\'s content goes with its queue rows in the finishing transaction, and stays when that rolls back', async () => {
    const queue = async (id: string): Promise<void> => {
      const pending = await spool.write(id, body(700));
      await db.transaction(async (tx) => {
        await pending.inline!.store(tx);
        await insertQueuedMessage(tx, queuedMessage(id, 700));
        await tx.run("UPDATE recipients SET state = 'delivered', finished_at = 1 WHERE message_id = ?", [id]);
      });
    };
    await queue('FIN1');
    await queue('FIN2');
    await expect(
      db.transaction(async (tx) => {
        expect(await removeIfFinished(tx, 'FIN1')).toBe(true);
        throw new Error('the record failed');
      }),
    ).rejects.toThrow('the record failed');
    expect(await inlineIds()).toEqual(['FIN1', 'FIN2']);
    expect(await db.transaction((tx) => removeIfFinished(tx, 'FIN1'))).toBe(true);
    expect(await inlineIds()).toEqual(['FIN2']);
    // the spool's own remove afterwards finds nothing left to do
    await spool.remove('FIN1');
    expect(await inlineIds()).toEqual(['FIN2']);
  });

  it('removeFinished after the commit that removed the rows: the copy kept in memory goes too, and files and copies with it', async () => {
    const pending = await spool.write('FIN3', body(2000));
    await db.transaction(async (tx) => {
      await pending.inline!.store(tx);
      await insertQueuedMessage(tx, queuedMessage('FIN3', 2000));
    });
    await (await spool.writeCopy('FIN3', 'r1', body(500))).commit();
    // read once: kept in memory
    expect((await spool.readWhole('FIN3', 4096))?.length).toBe(2000);
    await db.run("UPDATE recipients SET state = 'delivered', finished_at = 1 WHERE message_id = 'FIN3'");
    expect(await db.transaction((tx) => removeIfFinished(tx, 'FIN3'))).toBe(true);
    expect(await inlineIds()).toEqual([]);
    await spool.removeFinished('FIN3');
    const err = await readAll(spool.read('FIN3')).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(await spoolFiles()).toEqual([]);
  });

  it('content read or written lately is served from memory only while it is stored: a removed message reads as missing', async () => {
    const pending = await spool.write('MEM1', body(2000));
    await db.transaction((tx) => pending.inline!.store(tx));
    expect((await readAll(spool.read('MEM1'))).equals(await readAll(body(2000)))).toBe(true);
    await spool.remove('MEM1');
    const err = await readAll(spool.read('MEM1')).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('more content than the memory bound: every message still reads back its own bytes', async () => {
    // a bound of about two messages' ciphertext, so the oldest are dropped from memory and read from the database
    const small = new Spool(join(dir, 'spool'), keyring, { store: new DatabaseInlineSpool(db, 5000), maxBytes: LIMIT });
    const sizes = [2000, 2100, 2200, 2300, 2400, 6000];
    for (const [i, size] of sizes.entries()) {
      const pending = await small.write(`BND${i}`, body(size));
      await db.transaction((tx) => pending.inline!.store(tx));
    }
    for (const [i, size] of [...sizes.entries()].reverse()) expect((await readAll(small.read(`BND${i}`))).equals(await readAll(body(size)))).toBe(true);
  });

  it('a read of an id stored nowhere fails like a missing file', async () => {
    const err = await readAll(spool.read('NOPE1')).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('writeCopy stays a file whatever its size', async () => {
    await (await spool.writeCopy('DDD1', 'r1', body(100))).commit();
    expect(await spoolFiles()).toEqual(['msg/D1/DDD1.copies']);
    expect(await inlineIds()).toEqual([]);
    expect((await readFile(join(dir, 'spool', 'msg', 'D1', 'DDD1.copies', 'r1'))).subarray(0, 8).toString('latin1')).toBe('SGSPOOL1');
  });
});
