/**
 * Spool encryption streams: round trips at chunk boundaries and under odd
 * input slicing, detection of every kind of tampering, key rotation and
 * bounded buffering.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import {
  createDecryptStream,
  createEncryptStream,
  createKeyedDecryptStream,
  createKeyedEncryptStream,
  decryptWhole,
  encryptWhole,
  keyedDecryptWhole,
  keyedEncryptWhole,
  readSpoolHeader,
  SPOOL_CHUNK_SIZE,
} from '../../src/spool/crypt-stream.js';

const S = SPOOL_CHUNK_SIZE;
const keyA = masterKeyFromBytes(randomBytes(32));
const keyB = masterKeyFromBytes(randomBytes(32));
const ringA = new Keyring(keyA);
const CTX = 'Q4fT9zK2mA';

/**
 * How a test cuts its input: in one piece, in random pieces, in one-byte pieces, or in one-byte pieces only within
 * EDGE_RADIUS of the given offsets (chunk and header edges, where the stream's state changes) and random pieces
 * between them — the one-byte cuts that matter, without tens of thousands of writes through a stream.
 */
type Slicing = 'whole' | 'random' | 'bytes' | { edges: readonly number[] };
const EDGE_RADIUS = 40;

function slice(buf: Buffer, how: Slicing): Buffer[] {
  if (how === 'whole') return [buf];
  const nearEdge = (off: number): boolean => typeof how === 'object' && how.edges.some((e) => Math.abs(off - e) <= EDGE_RADIUS);
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; ) {
    const n = how === 'bytes' || nearEdge(off) ? 1 : 1 + Math.floor(Math.random() * 3000);
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** A plaintext's edges: its start, every chunk boundary, its end. */
const plaintextEdges = (size: number): { edges: number[] } => ({ edges: [0, size, ...Array.from({ length: Math.floor(size / S) }, (_, i) => (i + 1) * S)] });

async function run(stream: Transform, input: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(input), stream, sink);
  return Buffer.concat(out);
}

const encrypt = (pt: Buffer, ring = ringA, ctx = CTX, how: Slicing = 'whole') => run(createEncryptStream(ring, ctx), slice(pt, how));
const decrypt = (ct: Buffer, ring = ringA, ctx = CTX, how: Slicing = 'whole') => run(createDecryptStream(ring, ctx), slice(ct, how));

interface Chunk {
  start: number; // length prefix
  body: number; // ciphertext
  tag: number;
  end: number;
}

/** Header length and chunk offsets of a well-formed ciphertext. */
function layout(ct: Buffer): { headerLength: number; chunks: Chunk[] } {
  const header = readSpoolHeader(ct);
  if (!header) throw new Error('no header');
  const chunks: Chunk[] = [];
  for (let off = header.length; off < ct.length; ) {
    const n = ct.readUInt32BE(off);
    chunks.push({ start: off, body: off + 4, tag: off + 4 + n, end: off + 4 + n + 16 });
    off += 4 + n + 16;
  }
  return { headerLength: header.length, chunks };
}

function flip(buf: Buffer, i: number): Buffer {
  const out = Buffer.from(buf);
  out[i] = (out[i] ?? 0) ^ 1;
  return out;
}

describe('round trip', () => {
  it.each([0, 1, S - 1, S, S + 1, 3 * S + 5, 5 * 1024 * 1024])('%i bytes', async (size) => {
    const pt = randomBytes(size);
    const ct = await encrypt(pt);
    const { chunks } = layout(ct);
    expect(chunks.length).toBe(Math.max(1, Math.ceil(size / S)));
    expect((await decrypt(ct)).equals(pt)).toBe(true);
    // Fed back (and written) in random small slices.
    expect((await decrypt(ct, ringA, CTX, 'random')).equals(pt)).toBe(true);
    const ct2 = await encrypt(pt, ringA, CTX, 'random');
    expect(ct2.length).toBe(ct.length);
    expect((await decrypt(ct2, ringA, CTX, 'random')).equals(pt)).toBe(true);
  });

  it.each([0, 1, 2048])('%i bytes with 1-byte writes', async (size) => {
    const pt = randomBytes(size);
    const ct = await encrypt(pt, ringA, CTX, 'bytes');
    expect((await decrypt(ct, ringA, CTX, 'bytes')).equals(pt)).toBe(true);
  });

  it.each([S - 1, S, S + 1, 2 * S + 1])('%i bytes with 1-byte writes around every header and chunk edge', async (size) => {
    const pt = randomBytes(size);
    const ct = await encrypt(pt, ringA, CTX, plaintextEdges(size));
    const { headerLength, chunks } = layout(ct);
    const edges = [0, headerLength, ct.length, ...chunks.flatMap((c) => [c.start, c.body, c.tag, c.end])];
    expect((await decrypt(ct, ringA, CTX, { edges })).equals(pt)).toBe(true);
  });

  it('produces a different ciphertext every time', async () => {
    const pt = Buffer.from('same body');
    expect((await encrypt(pt)).equals(await encrypt(pt))).toBe(false);
  });

  it('does not leak a plaintext marker', async () => {
    const marker = 'MARKER-Patient-Jane-Roe-DOB-1970-01-01';
    const pt = Buffer.from(`Subject: ${marker}\r\n\r\n${`${marker}\r\n`.repeat(5000)}`);
    const ct = await encrypt(pt);
    expect(ct.includes(marker)).toBe(false);
    expect(ct.includes(Buffer.from(marker, 'utf16le'))).toBe(false);
    expect(ct.includes('MARKER')).toBe(false);
    expect((await decrypt(ct)).equals(pt)).toBe(true);
  });

  it('respects backpressure and stays bounded for a large slow-consumed stream', async () => {
    const total = 16 * 1024 * 1024;
    const piece = 16 * 1024;
    const srcHash = createHash('sha256');
    const outHash = createHash('sha256');
    const enc = createEncryptStream(ringA, CTX);
    const dec = createDecryptStream(ringA, CTX);
    let maxBuffered = 0;
    let received = 0;
    async function* source() {
      for (let sent = 0; sent < total; sent += piece) {
        const b = randomBytes(piece);
        srcHash.update(b);
        yield b;
      }
    }
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        outHash.update(chunk);
        received += chunk.length;
        maxBuffered = Math.max(maxBuffered, enc.writableLength + enc.readableLength + dec.writableLength + dec.readableLength);
        setImmediate(cb);
      },
    });
    await pipeline(source, enc, dec, sink);
    expect(received).toBe(total);
    expect(outHash.digest('hex')).toBe(srcHash.digest('hex'));
    expect(maxBuffered).toBeLessThan(1024 * 1024);
  });
});

describe('tampering', () => {
  const pt = randomBytes(3 * S + 5); // chunks: S, S, S, 5
  const ctP = encrypt(pt);

  it('detects a flipped bit in every header byte', async () => {
    const small = await encrypt(Buffer.from('short body'));
    const { headerLength } = layout(small);
    const keyIdRange = [9, 9 + keyA.id.length];
    for (let i = 0; i < headerLength; i++) {
      const code = i >= keyIdRange[0]! && i < keyIdRange[1]! ? 'SG_KEY_UNKNOWN' : 'SG_SPOOL_CORRUPT';
      await expect(decrypt(flip(small, i)), `header byte ${i}`).rejects.toMatchObject({ name: 'SealgateError', code });
    }
  });

  it.each<[string, (c: Chunk[]) => number]>([
    ['chunk 0 length prefix (low byte)', (c) => c[0]!.start + 3],
    ['chunk 1 length prefix (second byte)', (c) => c[1]!.start + 1],
    ['chunk 0 first body byte', (c) => c[0]!.body],
    ['chunk 2 middle body byte', (c) => c[2]!.body + 30000],
    ['final chunk body byte', (c) => c[3]!.body + 4],
    ['chunk 0 tag', (c) => c[0]!.tag],
    ['chunk 1 last tag byte', (c) => c[1]!.end - 1],
    ['final chunk tag', (c) => c[3]!.tag + 7],
  ])('detects a flipped bit in %s', async (_name, where) => {
    const ct = await ctP;
    await expect(decrypt(flip(ct, where(layout(ct).chunks)))).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it.each<[string, (h: number, c: Chunk[], len: number) => number]>([
    ['empty file', () => 0],
    ['inside the magic', () => 5],
    ['inside the header', (h) => h - 1],
    ['right after the header', (h) => h],
    ['inside a length prefix', (_h, c) => c[0]!.start + 2],
    ['inside chunk 0', (_h, c) => c[0]!.body + 100],
    ['at the end of chunk 0', (_h, c) => c[0]!.end],
    ['at the end of chunk 2 (before the final chunk)', (_h, c) => c[2]!.end],
    ['inside the final tag', (_h, _c, len) => len - 1],
    ['before the final tag', (_h, _c, len) => len - 16],
  ])('detects truncation %s', async (_name, at) => {
    const ct = await ctP;
    const { headerLength, chunks } = layout(ct);
    await expect(decrypt(ct.subarray(0, at(headerLength, chunks, ct.length)))).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it.each<[string, number, (ct: Buffer, c: Chunk[]) => Buffer]>([
    ['one byte', 3 * S + 5, (ct) => Buffer.concat([ct, Buffer.of(0)])],
    ['a copy of the final chunk', 3 * S + 5, (ct, c) => Buffer.concat([ct, ct.subarray(c[3]!.start)])],
    ['one byte after a full-size final chunk', S, (ct) => Buffer.concat([ct, Buffer.of(0)])],
    ['a chunk after an empty final chunk', 0, (ct, c) => Buffer.concat([ct, ct.subarray(c[0]!.start)])],
  ])('detects appended data: %s', async (_name, size, append) => {
    const ct = await encrypt(randomBytes(size));
    await expect(decrypt(append(ct, layout(ct).chunks))).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it.each<[string, (ct: Buffer, h: number, c: Chunk[]) => Buffer]>([
    ['swapped chunks 0 and 1', (ct, h, c) => Buffer.concat([ct.subarray(0, h), ct.subarray(c[1]!.start, c[1]!.end), ct.subarray(c[0]!.start, c[0]!.end), ct.subarray(c[2]!.start)])],
    ['dropped chunk 1', (ct, _h, c) => Buffer.concat([ct.subarray(0, c[1]!.start), ct.subarray(c[2]!.start)])],
    ['duplicated chunk 0', (ct, _h, c) => Buffer.concat([ct.subarray(0, c[1]!.start), ct.subarray(c[0]!.start)])],
    ['final chunk dropped', (ct, _h, c) => ct.subarray(0, c[3]!.start)],
  ])('detects reordering: %s', async (_name, mutate) => {
    const ct = await ctP;
    const { headerLength, chunks } = layout(ct);
    await expect(decrypt(mutate(ct, headerLength, chunks))).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it.each<[string, (c: Chunk[]) => number]>([
    ['body', (c) => c[1]!.body + 10],
    ['tag', (c) => c[1]!.tag],
  ])('never emits plaintext of a chunk whose %s was tampered with', async (_name, where) => {
    const ct = await ctP;
    const dec = createDecryptStream(ringA, CTX);
    const out: Buffer[] = [];
    dec.on('data', (b: Buffer) => out.push(b));
    dec.end(flip(ct, where(layout(ct).chunks)));
    const [err] = await once(dec, 'error');
    expect(err).toMatchObject({ code: 'SG_SPOOL_CORRUPT', detail: { chunk: 1 } });
    expect(Buffer.concat(out).equals(pt.subarray(0, S))).toBe(true); // chunk 0 only
  });

  it('detects chunks spliced under the header of another file', async () => {
    const ct = await ctP;
    const other = await encrypt(randomBytes(3 * S + 5));
    const spliced = Buffer.concat([other.subarray(0, layout(other).headerLength), ct.subarray(layout(ct).headerLength)]);
    await expect(decrypt(spliced)).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it.each(['Q4fT9zK2mB', '', `${CTX} `])('rejects decryption under another context %j', async (ctx) => {
    await expect(decrypt(await ctP, ringA, ctx)).rejects.toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it('rejects an unknown key id as SG_KEY_UNKNOWN', async () => {
    await expect(decrypt(await ctP, new Keyring(keyB))).rejects.toMatchObject({
      code: 'SG_KEY_UNKNOWN',
      detail: { keyId: keyA.id },
    });
  });
});

describe('bounded buffering', () => {
  /** Writes `bytes` without ending the stream and waits for the error. */
  async function errorWithoutEnd(bytes: Buffer): Promise<unknown> {
    const dec = createDecryptStream(ringA, CTX);
    dec.resume();
    dec.write(bytes);
    const [err] = await once(dec, 'error');
    return err;
  }

  it('rejects a declared chunk length above the chunk size at once', async () => {
    const ct = await encrypt(Buffer.from('x'));
    const { headerLength } = layout(ct);
    const err = await errorWithoutEnd(Buffer.concat([ct.subarray(0, headerLength), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
    expect(err).toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
    const justOver = Buffer.alloc(4);
    justOver.writeUInt32BE(S + 1);
    expect(await errorWithoutEnd(Buffer.concat([ct.subarray(0, headerLength), justOver]))).toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it('rejects a wrapped key length above 1024 at once', async () => {
    const ct = await encrypt(Buffer.from('x'));
    const off = 9 + keyA.id.length;
    const bad = Buffer.from(ct.subarray(0, off + 2));
    bad.writeUInt16BE(1025, off);
    expect(await errorWithoutEnd(bad)).toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it('rejects a header chunk size above 1 MiB at once', async () => {
    const ct = await encrypt(Buffer.from('x'));
    const { headerLength } = layout(ct);
    const bad = Buffer.from(ct.subarray(0, headerLength));
    bad.writeUInt32BE(0xffffffff, headerLength - 4);
    expect(await errorWithoutEnd(bad)).toMatchObject({ code: 'SG_SPOOL_CORRUPT' });
  });

  it('emits a chunk only after its tag has been read and verified', async () => {
    const pt = randomBytes(2 * S + 10);
    const ct = await encrypt(pt);
    const { chunks } = layout(ct);
    const dec = createDecryptStream(ringA, CTX);
    const out: Buffer[] = [];
    dec.on('data', (b: Buffer) => out.push(b));
    const tick = () => new Promise((r) => setImmediate(r));
    dec.write(ct.subarray(0, chunks[0]!.end - 1)); // all but the last tag byte
    await tick();
    expect(out.length).toBe(0);
    dec.write(ct.subarray(chunks[0]!.end - 1, chunks[0]!.end)); // full chunk: could still be the final one
    await tick();
    expect(out.length).toBe(0);
    dec.write(ct.subarray(chunks[0]!.end, chunks[0]!.end + 1)); // more follows: chunk 0 is not final
    await tick();
    expect(Buffer.concat(out).equals(pt.subarray(0, S))).toBe(true);
    dec.end(ct.subarray(chunks[0]!.end + 1));
    await once(dec, 'end');
    expect(Buffer.concat(out).equals(pt)).toBe(true);
  });
});

describe('key rotation', () => {
  it('decrypts old files with a previous key and encrypts new ones with the current key', async () => {
    const pt = randomBytes(S + 123);
    const old = await encrypt(pt, new Keyring(keyA));
    expect(readSpoolHeader(old)?.keyId).toBe(keyA.id);

    const rotated = new Keyring(keyB, [keyA]);
    expect((await decrypt(old, rotated)).equals(pt)).toBe(true);
    const fresh = await encrypt(pt, rotated);
    expect(readSpoolHeader(fresh)?.keyId).toBe(keyB.id);
    expect((await decrypt(fresh, rotated)).equals(pt)).toBe(true);
    await expect(decrypt(fresh, new Keyring(keyA))).rejects.toMatchObject({ code: 'SG_KEY_UNKNOWN' });
  });
});

describe('readSpoolHeader', () => {
  it('returns null for an incomplete prefix and the header once complete', async () => {
    const ct = await encrypt(Buffer.from('hello'));
    const { headerLength } = layout(ct);
    for (const n of [0, 1, 8, 9, headerLength - 1]) expect(readSpoolHeader(ct.subarray(0, n))).toBeNull();
    expect(readSpoolHeader(ct.subarray(0, headerLength))).toMatchObject({ keyId: keyA.id, chunkSize: S, length: headerLength });
    expect(() => readSpoolHeader(Buffer.from('SGSPOOL2'))).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
    expect(() => readSpoolHeader(Buffer.from('X'))).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
  });
});

describe('whole-buffer encryption and decryption (small messages held in memory)', () => {
  const sizes = [0, 1, 2048, S - 1, S, S + 1, 2 * S, 3 * S + 5];

  it.each(sizes)('%i bytes: encryptWhole and the decrypting stream, the encrypting stream and decryptWhole, agree', async (size) => {
    const pt = randomBytes(size);
    expect((await decrypt(encryptWhole(ringA, CTX, pt))).equals(pt)).toBe(true);
    expect(decryptWhole(ringA, CTX, await encrypt(pt)).equals(pt)).toBe(true);
    // the same layout as the stream: the same chunk lengths
    expect(layout(encryptWhole(ringA, CTX, pt)).chunks.map((c) => c.end - c.start)).toEqual(layout(await encrypt(pt)).chunks.map((c) => c.end - c.start));
  });

  it.each(sizes)('%i bytes: the keyed stream writes the same bytes however its input is cut (pieces sealed where they are or gathered)', async (size) => {
    const pt = randomBytes(size);
    const key = randomBytes(32);
    const whole = keyedEncryptWhole(key, CTX, pt);
    for (const how of ['whole', 'random', size <= 2048 ? 'bytes' : plaintextEdges(size)] as const) {
      const pieces = slice(pt, how);
      expect((await run(createKeyedEncryptStream(key, CTX), pieces)).equals(whole), JSON.stringify(how)).toBe(true);
      // the stream left what it was given as it was (only its own copies are wiped)
      expect(Buffer.concat(pieces).equals(pt), JSON.stringify(how)).toBe(true);
    }
  });

  it.each(sizes)('%i bytes: keyedEncryptWhole writes what the keyed stream writes, byte for byte, and leaves the key as it was', async (size) => {
    const pt = randomBytes(size);
    const key = randomBytes(32);
    const copy = Buffer.from(key);
    const whole = keyedEncryptWhole(key, CTX, pt);
    expect(key.equals(copy)).toBe(true);
    expect(whole.equals(await run(createKeyedEncryptStream(key, CTX), [pt]))).toBe(true);
    expect(keyedDecryptWhole(key, CTX, whole).equals(pt)).toBe(true);
    expect((await run(createKeyedDecryptStream(key, CTX), [whole])).equals(pt)).toBe(true);
    expect(key.equals(copy)).toBe(true);
  });

  it.each<[string, (ct: Buffer) => Buffer]>([
    ['a flipped bit in the wrapped key', (ct) => flip(ct, layout(ct).headerLength - 10)],
    ['a flipped bit in chunk 1', (ct) => flip(ct, layout(ct).chunks[1]!.body + 3)],
    ['a flipped bit in the final tag', (ct) => flip(ct, ct.length - 1)],
    ['truncated before the final chunk', (ct) => ct.subarray(0, layout(ct).chunks[3]!.start)],
    ['truncated inside the header', (ct) => ct.subarray(0, 10)],
    ['one byte appended', (ct) => Buffer.concat([ct, Buffer.of(0)])],
    ['chunks 0 and 1 swapped', (ct) => {
      const { headerLength: h, chunks: c } = layout(ct);
      return Buffer.concat([ct.subarray(0, h), ct.subarray(c[1]!.start, c[1]!.end), ct.subarray(c[0]!.start, c[0]!.end), ct.subarray(c[2]!.start)]);
    }],
  ])('decryptWhole refuses %s (SG_SPOOL_CORRUPT)', async (_name, mutate) => {
    const ct = await encrypt(randomBytes(3 * S + 5));
    expect(() => decryptWhole(ringA, CTX, mutate(ct))).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
  });

  it('decryptWhole refuses another context, and a key it does not hold (SG_KEY_UNKNOWN)', () => {
    const ct = encryptWhole(ringA, CTX, randomBytes(100));
    expect(() => decryptWhole(ringA, 'another-id', ct)).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
    expect(() => decryptWhole(new Keyring(keyB), CTX, ct)).toThrow(expect.objectContaining({ code: 'SG_KEY_UNKNOWN' }));
  });

  it('keyedDecryptWhole refuses another key and another context', () => {
    const key = randomBytes(32);
    const ct = keyedEncryptWhole(key, CTX, randomBytes(100));
    expect(() => keyedDecryptWhole(randomBytes(32), CTX, ct)).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
    expect(() => keyedDecryptWhole(key, 'another', ct)).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
  });
});
