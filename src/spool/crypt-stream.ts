/**
 * Streaming authenticated encryption of spooled message bodies (format in
 * docs/spool-format.md). A random data key per stream, wrapped by the
 * keyring's current master key, encrypts 64 KiB chunks with AES-256-GCM in the
 * STREAM construction (counter + final flag in the nonce), so truncation,
 * reordering and appended data are detected. The context (queue id) is bound
 * into every authentication tag. Memory use is bounded by about one chunk.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type CipherGCM } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { type Keyring, unwrapKey, wrapKey } from '../crypto/keyring.js';
import { SealgateError } from '../errors.js';

export const SPOOL_MAGIC = Buffer.from('SGSPOOL1', 'ascii');
/**
 * Plaintext bytes per chunk written by createEncryptStream (readers take the
 * size from the header). 128 KiB, the inline spool's default limit
 * (queue.inlineMaxBytes): a message kept in the database is one chunk, so
 * reading it makes no buffer to join chunks in; a stream holds at most one
 * chunk of plaintext before it is sealed or verified. 64 KiB until
 * 2026-12-07 (docs/spool-format.md).
 */
export const SPOOL_CHUNK_SIZE = 128 * 1024;
/** Largest chunk size a header may declare; bounds what the decrypter buffers. */
export const SPOOL_MAX_CHUNK_SIZE = 1024 * 1024;
export const SPOOL_MAX_WRAPPED_KEY_LENGTH = 1024;
/** No valid header is longer; read this many bytes to call readSpoolHeader. */
export const SPOOL_MAX_HEADER_LENGTH = 8 + 1 + 255 + 2 + SPOOL_MAX_WRAPPED_KEY_LENGTH + 4;

const TAG_LENGTH = 16;
const DATA_KEY_LENGTH = 32;
const MIN_WRAPPED_KEY_LENGTH = 12 + 16; // IV + tag of the wrapping
const MAX_CHUNKS = 0x1_0000_0000; // 4-byte counter

export interface SpoolHeader {
  readonly keyId: string;
  readonly wrappedKey: Buffer;
  readonly chunkSize: number;
  /** Header length in bytes; the first chunk starts here. */
  readonly length: number;
}

function corrupt(message: string, detail?: Record<string, unknown>, cause?: unknown): SealgateError {
  return new SealgateError('SG_SPOOL_CORRUPT', { message: `spool file is corrupt: ${message}`, detail, cause });
}

/**
 * Parses the header at the start of `buf`. Returns null when `buf` is a valid
 * but incomplete prefix (read more bytes, at most SPOOL_MAX_HEADER_LENGTH);
 * throws SG_SPOOL_CORRUPT when it cannot be a header.
 */
export function readSpoolHeader(buf: Buffer): SpoolHeader | null {
  const magicPart = Math.min(buf.length, SPOOL_MAGIC.length);
  if (!buf.subarray(0, magicPart).equals(SPOOL_MAGIC.subarray(0, magicPart))) throw corrupt('bad magic');
  if (buf.length < 9) return null;
  const idLength = buf.readUInt8(8);
  if (idLength === 0) throw corrupt('empty key id');
  let off = 9 + idLength;
  if (buf.length < off + 2) return null;
  const idBytes = buf.subarray(9, off);
  if (idBytes.some((b) => b < 0x21 || b > 0x7e)) throw corrupt('key id is not printable ASCII');
  const keyId = idBytes.toString('latin1');
  const wrappedLength = buf.readUInt16BE(off);
  off += 2;
  if (wrappedLength < MIN_WRAPPED_KEY_LENGTH || wrappedLength > SPOOL_MAX_WRAPPED_KEY_LENGTH) {
    throw corrupt('wrapped key length out of range', { wrappedLength });
  }
  if (buf.length < off + wrappedLength + 4) return null;
  const wrappedKey = Buffer.from(buf.subarray(off, off + wrappedLength));
  off += wrappedLength;
  const chunkSize = buf.readUInt32BE(off);
  if (chunkSize < 1 || chunkSize > SPOOL_MAX_CHUNK_SIZE) throw corrupt('chunk size out of range', { chunkSize });
  return { keyId, wrappedKey, chunkSize, length: off + 4 };
}

function encodeHeader(keyId: string, wrapped: Buffer, chunkSize: number): Buffer {
  const id = Buffer.from(keyId, 'latin1');
  if (id.length < 1 || id.length > 255 || wrapped.length > SPOOL_MAX_WRAPPED_KEY_LENGTH) {
    throw new RangeError('key id or wrapped key too long for the spool header');
  }
  const lens = Buffer.alloc(7);
  lens.writeUInt16BE(wrapped.length, 0);
  lens.writeUInt32BE(chunkSize, 3);
  return Buffer.concat([SPOOL_MAGIC, Buffer.of(id.length), id, lens.subarray(0, 2), wrapped, lens.subarray(3)]);
}

/** AAD for wrapping the data key: magic || context (UTF-8). */
function wrapAad(context: string): Buffer {
  return Buffer.concat([SPOOL_MAGIC, Buffer.from(context, 'utf8')]);
}

/** AAD for every chunk: sha256(header bytes || context (UTF-8)). */
function chunkAad(header: Buffer, context: string): Buffer {
  return createHash('sha256').update(header).update(context, 'utf8').digest();
}

/** 7 zero bytes || 4-byte BE counter || final flag. */
function chunkNonce(counter: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(counter, 7);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/** Seals a stream's chunks in order (the STREAM construction): each record is length (4) || ciphertext || tag. */
class ChunkSealer {
  private counter = 0;
  private readonly aad: Buffer;

  constructor(
    private readonly dataKey: Buffer,
    header: Buffer,
    context: string,
  ) {
    this.aad = chunkAad(header, context);
  }

  /**
   * The record of one chunk whose plaintext is `pieces` (in order), as
   * pieces of its own: the length, the ciphertext of each piece as the
   * cipher gave it, the tag — no copy of the plaintext gathered from the
   * pieces, none of the ciphertext into one record (a stream's reader joins
   * or writes them as they come).
   */
  sealPieces(pieces: readonly Buffer[], final: boolean): Buffer[] {
    const cipher = this.next(final);
    let length = 0;
    for (const p of pieces) length += p.length;
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(length, 0);
    const record = [head];
    let sealed = 0;
    for (const p of pieces) {
      const c = cipher.update(p);
      sealed += c.length;
      if (c.length > 0) record.push(c);
    }
    // GCM's final() gives no bytes; kept anyway, so the record holds all there is
    const rest = cipher.final();
    sealed += rest.length;
    if (rest.length > 0) record.push(rest);
    if (sealed !== length) throw new Error(`spool chunk sealed to ${sealed} bytes for ${length}`);
    record.push(cipher.getAuthTag());
    return record;
  }

  /** The next chunk's cipher (counted). */
  private next(final: boolean): CipherGCM {
    if (this.counter >= MAX_CHUNKS) {
      throw new SealgateError('SG_MESSAGE_TOO_BIG', { message: 'message too large for the spool format' });
    }
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, chunkNonce(this.counter, final), { authTagLength: TAG_LENGTH });
    cipher.setAAD(this.aad);
    this.counter++;
    return cipher;
  }

  /**
   * Seals one chunk into `out` at `at` — length, ciphertext, tag: the record
   * written once, no concatenation of a concatenation — and returns where it
   * ends. `out` has recordLength(plaintext.length) bytes from `at`.
   */
  sealInto(plaintext: Buffer, final: boolean, out: Buffer, at: number): number {
    const cipher = this.next(final);
    const body = cipher.update(plaintext);
    // GCM's final() gives no bytes; written anyway, so the record holds all there is
    const rest = cipher.final();
    const length = body.length + rest.length;
    // GCM is a stream mode: as long as the plaintext (what the caller sized `out` by)
    if (length !== plaintext.length) throw new Error(`spool chunk sealed to ${length} bytes for ${plaintext.length}`);
    out.writeUInt32BE(length, at);
    body.copy(out, at + 4);
    rest.copy(out, at + 4 + body.length);
    cipher.getAuthTag().copy(out, at + 4 + length);
    return at + recordLength(length);
  }
}

/** A sealed chunk's record size for `plaintextLength` bytes: length (4), ciphertext, tag. */
function recordLength(plaintextLength: number): number {
  return 4 + plaintextLength + TAG_LENGTH;
}

/** How many chunks sealWhole (and the stream) makes of `length` bytes: at least one (an empty message is one empty final chunk). */
function chunkCount(length: number): number {
  return Math.max(1, Math.ceil(length / SPOOL_CHUNK_SIZE));
}

class EncryptStream extends Transform {
  private readonly sealer: ChunkSealer;
  /**
   * The plaintext not sealed yet, as it came: a chunk is sealed from the
   * pieces it is in, never gathered into a copy (a buffer of a whole chunk,
   * 64 KiB, was once allocated, zeroed and wiped for every message).
   */
  private queue = new ByteQueue();
  private headerSent = false;

  /** Takes ownership of `dataKey` (wiped when the stream ends or is destroyed). */
  constructor(
    private readonly dataKey: Buffer,
    private readonly header: Buffer,
    context: string,
  ) {
    super();
    this.sealer = new ChunkSealer(dataKey, header, context);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.sendHeader();
      this.queue.append(chunk);
      // A full chunk is sealed only once more data arrives: it is not the final one.
      while (this.queue.length > SPOOL_CHUNK_SIZE) this.sealFront(SPOOL_CHUNK_SIZE, false);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.sendHeader();
      this.sealFront(this.queue.length, true);
      this.wipe();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.wipe();
    callback(err);
  }

  /** Seals the first `n` queued bytes as one chunk, from the pieces they are in (no copy), its record pushed as pieces. */
  private sealFront(n: number, final: boolean): void {
    for (const piece of this.sealer.sealPieces(this.queue.takePieces(n), final)) this.push(piece);
  }

  private wipe(): void {
    this.dataKey.fill(0);
    this.queue = new ByteQueue();
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.push(this.header);
  }
}

/**
 * What EncryptStream writes for `plaintext` given at once: the header, then
 * SPOOL_CHUNK_SIZE pieces (the last one, possibly empty or full, final).
 * The same bytes for the same key; no stream machinery (a 2 KB message's
 * pipeline cost more than its encryption). Wipes `dataKey`.
 */
function sealWhole(dataKey: Buffer, header: Buffer, context: string, plaintext: Buffer): Buffer {
  try {
    const sealer = new ChunkSealer(dataKey, header, context);
    // every record written straight into the output, sized ahead (one buffer of the message's size, not one a record
    // and then their concatenation)
    const out = Buffer.allocUnsafe(header.length + chunkCount(plaintext.length) * recordLength(0) + plaintext.length);
    let at = header.copy(out, 0);
    let off = 0;
    do {
      const end = Math.min(off + SPOOL_CHUNK_SIZE, plaintext.length);
      at = sealer.sealInto(plaintext.subarray(off, end), end === plaintext.length, out, at);
      off = end;
    } while (off < plaintext.length);
    if (at !== out.length) throw new Error(`spool sealed ${at} of ${out.length} bytes`);
    return out;
  } finally {
    dataKey.fill(0);
  }
}

/** How a decrypter reads a header and gets the data key it names or implies. */
interface HeaderOpener {
  /** No valid header is longer. */
  readonly maxLength: number;
  /** null: a valid but incomplete prefix; throws SG_SPOOL_CORRUPT when it cannot be a header. */
  read(buf: Buffer): { readonly length: number; readonly chunkSize: number } | null;
  dataKey(header: { readonly length: number; readonly chunkSize: number }, context: string): Buffer;
}

/** FIFO of byte buffers that hands out exact-length prefixes. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;

  append(buf: Buffer): void {
    if (buf.length === 0) return;
    this.parts.push(buf);
    this.length += buf.length;
  }

  /** The first n (<= length) bytes as one buffer, without consuming them. */
  peek(n: number): Buffer {
    if (n > this.length) throw new RangeError('ByteQueue.peek past the end');
    const first = this.parts[0];
    if (first === undefined || n === 0) return Buffer.alloc(0);
    if (first.length >= n) return first.subarray(0, n);
    let k = 0;
    let have = 0;
    while (have < n) have += this.parts[k++]?.length ?? 0;
    const merged = Buffer.concat(this.parts.slice(0, k));
    this.parts.splice(0, k, merged);
    return merged.subarray(0, n);
  }

  /** Consumes the first n (<= length) bytes and returns the pieces that hold them (views of the buffers appended, no copy). */
  takePieces(n: number): Buffer[] {
    if (n > this.length) throw new RangeError('ByteQueue.takePieces past the end');
    const out: Buffer[] = [];
    for (let left = n; left > 0; ) {
      const part = this.parts[0] as Buffer;
      if (part.length <= left) {
        out.push(part);
        this.parts.shift();
        left -= part.length;
      } else {
        out.push(part.subarray(0, left));
        this.parts[0] = part.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
    return out;
  }

  take(n: number): Buffer {
    const out = this.peek(n);
    const first = this.parts[0];
    if (first !== undefined && n > 0) {
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      this.length -= n;
    }
    return out;
  }
}

/**
 * The decrypter's state machine: bytes in (`append`), verified plaintext out
 * (`process`), a chunk only once its tag has verified. Errors with
 * SG_SPOOL_CORRUPT on tampering, truncation, trailing data or a wrong
 * context. Used by the stream and by the whole-buffer read alike.
 */
class ChunkReader {
  private readonly queue = new ByteQueue();
  private state: 'header' | 'chunks' | 'done' = 'header';
  private dataKey: Buffer | undefined;
  private aad: Buffer = Buffer.alloc(0);
  private chunkSize = 0;
  private counter = 0;
  /** Declared ciphertext length of the chunk being read; -1 before its prefix. */
  private chunkLength = -1;

  constructor(
    private readonly openHeader: HeaderOpener,
    private readonly context: string,
  ) {}

  append(chunk: Buffer): void {
    this.queue.append(chunk);
  }

  /** Hands `emit` the plaintext of every chunk complete so far, each as soon as its tag verified; `ended`: no more bytes come (a missing final chunk is an error). */
  process(ended: boolean, emit: (plaintext: Buffer) => void): void {
    if (this.state === 'header') {
      const header = this.openHeader.read(this.queue.peek(Math.min(this.queue.length, this.openHeader.maxLength)));
      if (!header) {
        if (ended) throw corrupt('truncated header', { context: this.context });
        return;
      }
      const headerBytes = this.queue.take(header.length);
      const dataKey = this.openHeader.dataKey(header, this.context);
      if (dataKey.length !== DATA_KEY_LENGTH) throw corrupt('data key has the wrong length', { context: this.context });
      this.dataKey = dataKey;
      this.aad = chunkAad(headerBytes, this.context);
      this.chunkSize = header.chunkSize;
      this.state = 'chunks';
    }
    while (this.state === 'chunks') {
      if (this.chunkLength < 0) {
        if (this.queue.length < 4) break;
        const declared = this.queue.take(4).readUInt32BE(0);
        if (declared > this.chunkSize) {
          throw corrupt('chunk length exceeds the chunk size', { context: this.context, chunk: this.counter });
        }
        this.chunkLength = declared;
      }
      const recordLength = this.chunkLength + TAG_LENGTH;
      if (this.queue.length < recordLength) break;
      // Only the last chunk may be short; a full one is final only if nothing follows it.
      let final: boolean;
      if (this.chunkLength < this.chunkSize) final = true;
      else if (this.queue.length > recordLength) final = false;
      else if (ended) final = true;
      else break;
      emit(this.open(this.queue.take(recordLength), final));
      this.chunkLength = -1;
      if (final) this.state = 'done';
    }
    if (this.state === 'done' && this.queue.length > 0) throw corrupt('data after the final chunk', { context: this.context });
    if (ended && this.state !== 'done') throw corrupt('truncated (no final chunk)', { context: this.context, chunk: this.counter });
  }

  wipe(): void {
    this.dataKey?.fill(0);
  }

  private open(record: Buffer, final: boolean): Buffer {
    if (this.counter >= MAX_CHUNKS || !this.dataKey) throw corrupt('too many chunks', { context: this.context });
    const ct = record.subarray(0, this.chunkLength);
    const decipher = createDecipheriv('aes-256-gcm', this.dataKey, chunkNonce(this.counter, final), { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(record.subarray(this.chunkLength));
    decipher.setAAD(this.aad);
    let plaintext: Buffer;
    try {
      const body = decipher.update(ct);
      // GCM's final() checks the tag and gives no bytes: the chunk's plaintext is what update gave, not a copy of it
      const rest = decipher.final();
      plaintext = rest.length === 0 ? body : Buffer.concat([body, rest]);
    } catch (err) {
      throw corrupt(`chunk ${this.counter} failed authentication`, { context: this.context, chunk: this.counter }, err);
    }
    this.counter++;
    return plaintext;
  }
}

class DecryptStream extends Transform {
  private readonly reader: ChunkReader;

  constructor(openHeader: HeaderOpener, context: string) {
    super();
    this.reader = new ChunkReader(openHeader, context);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.reader.append(chunk);
      // each chunk emitted only once its tag has verified
      this.reader.process(false, (plaintext) => this.push(plaintext));
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.reader.process(true, (plaintext) => this.push(plaintext));
      this.reader.wipe();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.reader.wipe();
    callback(err);
  }
}

/** Every chunk of `data` opened at once (the whole ciphertext in memory); the same checks as the stream. */
function openWhole(openHeader: HeaderOpener, context: string, data: Buffer): Buffer {
  const reader = new ChunkReader(openHeader, context);
  try {
    reader.append(data);
    const parts: Buffer[] = [];
    reader.process(true, (plaintext) => parts.push(plaintext));
    // one chunk (a message up to SPOOL_CHUNK_SIZE) is its own plaintext: no copy
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  } finally {
    reader.wipe();
  }
}

/** Encrypts a message body; `context` (e.g. the queue id) must be given again to decrypt. */
export function createEncryptStream(keyring: Keyring, context: string): Transform {
  const dataKey = randomBytes(DATA_KEY_LENGTH);
  const { keyId, wrapped } = wrapKey(keyring, dataKey, wrapAad(context));
  return new EncryptStream(dataKey, encodeHeader(keyId, wrapped, SPOOL_CHUNK_SIZE), context);
}

/** createEncryptStream's output for a plaintext held whole in memory (a small message): the same format, no stream. */
export function encryptWhole(keyring: Keyring, context: string, plaintext: Buffer): Buffer {
  const dataKey = randomBytes(DATA_KEY_LENGTH);
  const { keyId, wrapped } = wrapKey(keyring, dataKey, wrapAad(context));
  return sealWhole(dataKey, encodeHeader(keyId, wrapped, SPOOL_CHUNK_SIZE), context, plaintext);
}

/** The spool header's opener: the data key is wrapped in the header, under a key of the keyring. */
function spoolOpener(keyring: Keyring): HeaderOpener {
  return {
    maxLength: SPOOL_MAX_HEADER_LENGTH,
    read: readSpoolHeader,
    dataKey: (header, ctx) => {
      const h = header as SpoolHeader;
      return unwrapKey(keyring, h.keyId, h.wrappedKey, wrapAad(ctx));
    },
  };
}

/** createDecryptStream over a ciphertext held whole in memory: the plaintext, or the same errors. */
export function decryptWhole(keyring: Keyring, context: string, data: Buffer): Buffer {
  return openWhole(spoolOpener(keyring), context, data);
}

/**
 * Decrypts and verifies; errors with SG_SPOOL_CORRUPT on any tampering,
 * truncation, trailing data or wrong context, SG_KEY_UNKNOWN when the header's
 * key id is not in the keyring. Output before an error is verified plaintext
 * of the chunks so far, never the whole message: discard it on error.
 */
export function createDecryptStream(keyring: Keyring, context: string): Transform {
  return new DecryptStream(spoolOpener(keyring), context);
}

// ---- keyed objects (SGOBJK01): the data key is kept by the caller, not in the stream ----

export const KEYED_MAGIC = Buffer.from('SGOBJK01', 'ascii');
/** magic (8) || chunk size (4). */
const KEYED_HEADER_LENGTH = KEYED_MAGIC.length + 4;
export const KEYED_DATA_KEY_LENGTH = DATA_KEY_LENGTH;

function readKeyedHeader(buf: Buffer): { length: number; chunkSize: number } | null {
  const magicPart = Math.min(buf.length, KEYED_MAGIC.length);
  if (!buf.subarray(0, magicPart).equals(KEYED_MAGIC.subarray(0, magicPart))) throw corrupt('bad magic');
  if (buf.length < KEYED_HEADER_LENGTH) return null;
  const chunkSize = buf.readUInt32BE(KEYED_MAGIC.length);
  if (chunkSize < 1 || chunkSize > SPOOL_MAX_CHUNK_SIZE) throw corrupt('chunk size out of range', { chunkSize });
  return { length: KEYED_HEADER_LENGTH, chunkSize };
}

function checkDataKey(dataKey: Buffer): void {
  if (dataKey.length !== DATA_KEY_LENGTH) throw new RangeError(`data key must be ${DATA_KEY_LENGTH} bytes`);
}

/**
 * Encrypts with a data key the caller keeps (wrapped, in its own metadata)
 * instead of in the stream's header, so destroying the caller's copy of the
 * wrapped key makes the stream unreadable (crypto-shredding). Same chunk
 * format as the spool; `context` is bound into every tag. The stream wipes
 * its own copy of the key; the caller's buffer is left as it is.
 */
export function createKeyedEncryptStream(dataKey: Buffer, context: string): Transform {
  checkDataKey(dataKey);
  return new EncryptStream(Buffer.from(dataKey), keyedHeader(), context);
}

function keyedHeader(): Buffer {
  const header = Buffer.alloc(KEYED_HEADER_LENGTH);
  KEYED_MAGIC.copy(header);
  header.writeUInt32BE(SPOOL_CHUNK_SIZE, KEYED_MAGIC.length);
  return header;
}

/** createKeyedEncryptStream's output for a plaintext held whole in memory; the caller's key is left as it is. */
export function keyedEncryptWhole(dataKey: Buffer, context: string, plaintext: Buffer): Buffer {
  checkDataKey(dataKey);
  return sealWhole(Buffer.from(dataKey), keyedHeader(), context, plaintext);
}

/** Inverse of createKeyedEncryptStream; errors with SG_SPOOL_CORRUPT like createDecryptStream. */
export function createKeyedDecryptStream(dataKey: Buffer, context: string): Transform {
  checkDataKey(dataKey);
  return new DecryptStream(keyedOpener(Buffer.from(dataKey)), context);
}

/** createKeyedDecryptStream over a ciphertext held whole in memory. */
export function keyedDecryptWhole(dataKey: Buffer, context: string, data: Buffer): Buffer {
  checkDataKey(dataKey);
  return openWhole(keyedOpener(Buffer.from(dataKey)), context, data);
}

/** The keyed header's opener: `own`, a copy of the caller's key, is the data key (wiped by the reader when done). */
function keyedOpener(own: Buffer): HeaderOpener {
  return { maxLength: KEYED_HEADER_LENGTH, read: readKeyedHeader, dataKey: () => own };
}
