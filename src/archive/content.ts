/**
 * An archive entry's content: the message bytes, encrypted with a data key
 * of its own (wrapped by the master key and kept in the entry's row, so
 * destroying the row's copy shreds the content), stored in the object
 * store. Messages archived together share one object, a pack
 * (`archive/<yyyy>/<mm>/<first id>-<random>`), each entry's ciphertext at
 * its own offset: one durable write (file and directory fsync) for a whole
 * batch instead of one per message. A large message gets an object of its
 * own (`archive/<yyyy>/<mm>/<queue id>`). Every chunk's tag binds the
 * entry's id and object key, so a range cannot be passed off as another
 * entry's. While the bytes stream through, their SHA-256 and size are
 * computed and their first HEADER_LIMIT bytes are kept for the Subject and
 * Message-ID of the header block there.
 */
import { createHash, randomBytes } from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { sealKey, openKey, unwrapKey, wrapKey, type Keyring } from '../crypto/keyring.js';
import type { ObjectStore } from '../objects/object-store.js';
import type { ArchiveRanges } from './pending.js';
import { createKeyedDecryptStream, createKeyedEncryptStream, KEYED_DATA_KEY_LENGTH, keyedEncryptWhole } from '../spool/crypt-stream.js';
import { headerFacts } from './header-facts.js';

/** Header bytes kept for the Subject and Message-ID (a longer header block is cut there). */
const HEADER_LIMIT = 64 * 1024;
/** Longest Subject kept (characters); longer ones are cut. */
const SUBJECT_LIMIT = 998;

export interface WrittenContent {
  readonly objectKey: string;
  /** Where the entry's ciphertext starts in the object, and its length. */
  readonly offset: number;
  readonly length: number;
  readonly wrappedKey: Buffer;
  readonly keyId: string;
  readonly sha256: string;
  readonly size: number;
  /** The decoded Subject ('' when absent). */
  readonly subject: string;
  /** The Subject sealed under the entry's data key; null when there is none. */
  readonly subjectSealed: Buffer | null;
  /** The Message-ID without angle brackets; null when absent. */
  readonly messageId: string | null;
}

/** The month directory of an entry received at `receivedAt`: a listing or a purge walks one month at a time. */
function monthPrefix(receivedAt: number): string {
  const d = new Date(receivedAt);
  return `archive/${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/`;
}

/** The object of an entry stored alone. */
export function archiveObjectKey(id: string, receivedAt: number): string {
  return monthPrefix(receivedAt) + id;
}

/** A new pack's object key: the month and id of its first entry, and a random part (a retried batch never reuses a key). */
export function archivePackKey(firstId: string, receivedAt: number, random: (n: number) => Buffer = randomBytes): string {
  return `${monthPrefix(receivedAt)}${firstId}-${random(6).toString('hex')}`;
}

/** The master key wraps an entry's data key bound to the entry and its object. */
function wrapAad(id: string, objectKey: string): Buffer {
  return Buffer.from(`sealgate-archive-key:${id}:${objectKey}`, 'utf8');
}

function chunkContext(id: string, objectKey: string): string {
  return `archive:${id}:${objectKey}`;
}

function subjectAad(id: string): Buffer {
  return Buffer.from(`sealgate-archive-subject:${id}`, 'utf8');
}

/** Counts and hashes what passes, and keeps its first HEADER_LIMIT bytes (where the header block is). */
class ContentTap extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private readonly head: Buffer[] = [];
  private headBytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.headBytes < HEADER_LIMIT) {
      const part = chunk.subarray(0, HEADER_LIMIT - this.headBytes);
      this.head.push(part);
      this.headBytes += part.length;
    }
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  /** The message's first bytes that were kept (headerFacts finds where its header block ends). */
  start(): Buffer {
    return Buffer.concat(this.head);
  }
}

/** One message to archive: its id, when it was received, and its bytes (opened when its turn comes). */
export interface ContentSource {
  readonly id: string;
  readonly receivedAt: number;
  readonly open: () => Readable;
  /** The bytes, when they are already in memory (a small message): encrypted in one call, no stream. */
  readonly bytes?: Buffer | undefined;
}

/** An entry being written: its key, counters and facts, filled in as its bytes pass. */
class EntryWriter {
  readonly dataKey = randomBytes(KEYED_DATA_KEY_LENGTH);
  readonly tap = new ContentTap();
  offset = 0;
  length = 0;

  constructor(
    readonly source: ContentSource,
    readonly objectKey: string,
  ) {}

  /** What was read of content held in memory: its digest, size and first HEADER_LIMIT bytes. */
  private whole: { readonly sha256: string; readonly size: number; readonly start: Buffer } | undefined;

  /** The entry's ciphertext: in one piece for content in memory, else streamed from its source. */
  encrypted(): AsyncIterable<unknown> | Iterable<Buffer> {
    const bytes = this.source.bytes;
    if (bytes) return [this.encryptWhole(bytes)];
    const encrypt = createKeyedEncryptStream(this.dataKey, chunkContext(this.source.id, this.objectKey));
    // an error anywhere destroys every stage; the reader sees it on `encrypt`
    return pipeline(this.source.open(), this.tap, encrypt, () => undefined);
  }

  /** The ciphertext of content held in memory, in one call (its digest, size and first bytes kept for `result`). */
  encryptWhole(bytes: Buffer): Buffer {
    this.whole = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, start: bytes.subarray(0, HEADER_LIMIT) };
    return keyedEncryptWhole(this.dataKey, chunkContext(this.source.id, this.objectKey), bytes);
  }

  async result(keyring: Keyring): Promise<WrittenContent> {
    const { id } = this.source;
    const { keyId, wrapped } = wrapKey(keyring, this.dataKey, wrapAad(id, this.objectKey));
    const whole = this.whole;
    const { subject, messageId } = headerFacts(whole ? whole.start : this.tap.start(), SUBJECT_LIMIT);
    const subjectSealed = subject ? sealKey(this.dataKey, Buffer.from(subject, 'utf8'), subjectAad(id)) : null;
    const sha256 = whole ? whole.sha256 : this.tap.digest();
    const size = whole ? whole.size : this.tap.bytes;
    return { objectKey: this.objectKey, offset: this.offset, length: this.length, wrappedKey: wrapped, keyId, sha256, size, subject, subjectSealed, messageId };
  }

  wipe(): void {
    this.dataKey.fill(0);
  }
}

/**
 * Encrypts `sources` one after another into one object at `objectKey` (a
 * pack; one source: an object of its own), each under its own data key.
 * Resolves once the object is durable; the caller then records each
 * entry's key, place and facts in its row (in its transaction). A source
 * that fails fails the whole object (nothing is stored).
 */
export async function writeArchiveObject(objects: ObjectStore, keyring: Keyring, objectKey: string, sources: readonly ContentSource[]): Promise<WrittenContent[]> {
  const writers = sources.map((s) => new EntryWriter(s, objectKey));
  try {
    async function* ciphertexts(): AsyncGenerator<Buffer> {
      let at = 0;
      for (const w of writers) {
        w.offset = at;
        for await (const chunk of w.encrypted()) {
          const b = chunk as Buffer;
          at += b.length;
          yield b;
        }
        w.length = at - w.offset;
      }
    }
    await objects.put(objectKey, Readable.from(ciphertexts(), { objectMode: false }));
    const out: WrittenContent[] = [];
    for (const w of writers) out.push(await w.result(keyring));
    return out;
  } finally {
    for (const w of writers) w.wipe();
  }
}

/** A message's content sealed for its place in an object not stored yet (a pending piece, pending.ts), and its ciphertext. */
export interface SealedPiece {
  readonly content: WrittenContent;
  readonly ciphertext: Buffer;
}

/**
 * Encrypts one message held in memory for its place in the object
 * `objectKey` (`place` is given the ciphertext's length, synchronously, and
 * answers its offset), without storing anything: the ciphertext is exactly what
 * writeArchiveObject would put there, so the object can be assembled later
 * from such pieces (src/archive/pending.ts).
 */
export async function sealArchivePiece(keyring: Keyring, objectKey: string, place: (length: number) => number, source: { readonly id: string; readonly receivedAt: number; readonly bytes: Buffer }): Promise<SealedPiece> {
  const bytes = source.bytes;
  const writer = new EntryWriter({ ...source, open: () => Readable.from([bytes]) }, objectKey);
  try {
    const ciphertext = writer.encryptWhole(bytes);
    // before the first await: the caller's next piece is placed after this one
    writer.offset = place(ciphertext.length);
    writer.length = ciphertext.length;
    return { content: await writer.result(keyring), ciphertext };
  } finally {
    writer.wipe();
  }
}

/** One message in an object of its own (`archive/<yyyy>/<mm>/<id>`). */
export async function writeArchiveContent(objects: ObjectStore, keyring: Keyring, id: string, receivedAt: number, source: Readable): Promise<WrittenContent> {
  const [written] = await writeArchiveObject(objects, keyring, archiveObjectKey(id, receivedAt), [{ id, receivedAt, open: () => source }]);
  if (!written) throw new Error('archive object written without its entry');
  return written;
}

/** The stored key material of an entry (from its row). */
export interface EntryKey {
  readonly id: string;
  readonly objectKey: string;
  readonly offset: number;
  readonly length: number;
  readonly wrappedKey: Buffer;
  readonly keyId: string;
}

function dataKeyOf(keyring: Keyring, entry: EntryKey): Buffer {
  return unwrapKey(keyring, entry.keyId, entry.wrappedKey, wrapAad(entry.id, entry.objectKey));
}

/**
 * The original message bytes of an entry (decrypted and verified as they
 * stream). `objects`: the object store as `pendingAware` (pending.ts) wraps
 * it, so that an entry whose pack is not stored yet is read from its piece.
 */
export function readArchiveContent(objects: ArchiveRanges, keyring: Keyring, entry: EntryKey): Readable {
  const dataKey = dataKeyOf(keyring, entry);
  try {
    const decrypt = createKeyedDecryptStream(dataKey, chunkContext(entry.id, entry.objectKey));
    return pipeline(objects.getRange(entry.objectKey, entry.offset, entry.length), decrypt, () => undefined);
  } finally {
    dataKey.fill(0);
  }
}

/** The entry's Subject, or '' when none was sealed. */
export function openSubject(keyring: Keyring, entry: EntryKey, sealed: Buffer | null): string {
  if (!sealed) return '';
  const dataKey = dataKeyOf(keyring, entry);
  try {
    return openKey(dataKey, sealed, subjectAad(entry.id), entry.keyId).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** The key material and place of an entry, from its `archive_messages` row. */
export function entryKeyOf(row: { id: string; object_key: string; object_offset: number; object_length: number; wrapped_key: Buffer | Uint8Array; key_id: string }): EntryKey {
  return { id: row.id, objectKey: row.object_key, offset: row.object_offset, length: row.object_length, wrappedKey: Buffer.from(row.wrapped_key), keyId: row.key_id };
}
