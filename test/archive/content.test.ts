/**
 * Archive content in packs, on a real object store: several messages in one
 * object, each under its own data key at its own range; each reads back
 * byte for byte with its SHA-256, Subject and Message-ID; a range read as
 * another entry's fails authentication; a source that fails stores nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archivePackKey, openSubject, readArchiveContent, writeArchiveObject, type ContentSource } from '../../src/archive/content.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { isSealgateError } from '../../src/errors.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';

let dir: string;
let objects: LocalObjectStore;
const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-archive-content-'));
  objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const messages = [
  Buffer.from('Subject: =?utf-8?q?Befund_M=C3=BCller?=\r\nMessage-ID: <a@x>\r\n\r\nshort\r\n'),
  Buffer.concat([Buffer.from('Subject: big one\r\nMessage-ID: <b@x>\r\n\r\n'), randomBytes(200_000)]),
  Buffer.from('From: nobody\r\n\r\nno subject, no id\r\n'),
];
const ids = ['ID00000000000000000A', 'ID00000000000000000B', 'ID00000000000000000C'];
/** `inMemory`: which messages are given as bytes (encrypted in one call) instead of only as a stream. */
const sources = (inMemory: (i: number) => boolean = () => false): ContentSource[] =>
  messages.map((m, i) => ({ id: ids[i] ?? '', receivedAt: Date.UTC(2026, 11, 5), open: () => Readable.from([m]), bytes: inMemory(i) ? m : undefined }));

describe('archive packs', () => {
  it.each([
    { name: 'streamed', inMemory: () => false },
    { name: 'held in memory', inMemory: () => true },
    { name: 'some streamed, some in memory', inMemory: (i: number) => i !== 1 },
  ])('stores several messages in one object; each reads back from its own range with its facts ($name)', async ({ inMemory }) => {
    const key = archivePackKey(ids[0] ?? '', Date.UTC(2026, 11, 5));
    expect(key).toMatch(/^archive\/2026\/12\/ID00000000000000000A-[0-9a-f]{12}$/);
    const written = await writeArchiveObject(objects, keyring, key, sources(inMemory));
    expect(written.map((w) => w.objectKey)).toEqual([key, key, key]);
    expect(written.map((w) => w.subject)).toEqual(['Befund Müller', 'big one', '']);
    expect(written.map((w) => w.messageId)).toEqual(['a@x', 'b@x', null]);
    for (const [i, w] of written.entries()) {
      const entry = { id: ids[i] ?? '', objectKey: w.objectKey, offset: w.offset, length: w.length, wrappedKey: w.wrappedKey, keyId: w.keyId };
      const back = await readAll(readArchiveContent(objects, keyring, entry));
      expect(back.equals(messages[i] ?? Buffer.alloc(0))).toBe(true);
      expect(w.sha256).toBe(createHash('sha256').update(back).digest('hex'));
      expect(w.size).toBe(back.length);
      expect(openSubject(keyring, entry, w.subjectSealed)).toBe(w.subject);
    }
    // ranges follow each other without gaps
    expect(written[1]?.offset).toBe((written[0]?.offset ?? 0) + (written[0]?.length ?? 0));
  });

  it("an entry read at another entry's range (or with its key) fails authentication", async () => {
    const key = archivePackKey(ids[0] ?? '', Date.now());
    const [a, b] = await writeArchiveObject(objects, keyring, key, sources());
    if (!a || !b) throw new Error('not written');
    const swapped = readArchiveContent(objects, keyring, { id: ids[0] ?? '', objectKey: key, offset: b.offset, length: b.length, wrappedKey: a.wrappedKey, keyId: a.keyId });
    expect(isSealgateError(await readAll(swapped).catch((e: unknown) => e), 'SG_SPOOL_CORRUPT')).toBe(true);
    expect(() => readArchiveContent(objects, keyring, { id: ids[0] ?? '', objectKey: key, offset: a.offset, length: a.length, wrappedKey: b.wrappedKey, keyId: b.keyId })).toThrow();
  });

  it('a source that fails part-way stores nothing', async () => {
    const key = archivePackKey(ids[0] ?? '', Date.now());
    const failing: ContentSource = {
      id: 'ID00000000000000000D',
      receivedAt: Date.now(),
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from('Subject: x\r\n\r\n');
            await Promise.resolve();
            throw new Error('spool read failed');
          })(),
        ),
    };
    await expect(writeArchiveObject(objects, keyring, key, [...sources(), failing])).rejects.toThrow();
    expect(await objects.exists(key)).toBe(false);
  });
});
