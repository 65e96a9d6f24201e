/**
 * An archive entry's content: the message bytes, encrypted with a data key
 * of its own (wrapped by the master key and kept in the entry's row, so
 * destroying the row's copy shreds the content), stored in the object store
 * under `archive/<yyyy>/<mm>/<queue id>`. While the bytes stream through,
 * their SHA-256 and size are computed and the header block is kept (at most
 * HEADER_LIMIT bytes) for the Subject and Message-ID.
 */
import { createHash, randomBytes } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { simpleParser } from 'mailparser';
import { sealKey, openKey, unwrapKey, wrapKey, type Keyring } from '../crypto/keyring.js';
import type { ObjectStore } from '../objects/object-store.js';
import { createKeyedDecryptStream, createKeyedEncryptStream, KEYED_DATA_KEY_LENGTH } from '../spool/crypt-stream.js';

/** Header bytes kept for the Subject and Message-ID (a longer header block is cut there). */
const HEADER_LIMIT = 64 * 1024;
/** Longest Subject kept (characters); longer ones are cut. */
const SUBJECT_LIMIT = 998;

export interface WrittenContent {
  readonly objectKey: string;
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

/** Where an entry's content is stored: by month of receipt, so a listing or a purge walks one month at a time. */
export function archiveObjectKey(id: string, receivedAt: number): string {
  const d = new Date(receivedAt);
  return `archive/${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${id}`;
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

/** Counts and hashes what passes, and keeps the start of it (the header block). */
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

  /** The header block: up to the first empty line, or all that was kept. */
  headerBlock(): Buffer {
    const head = Buffer.concat(this.head);
    const end = head.indexOf('\r\n\r\n');
    const endLf = head.indexOf('\n\n');
    const cut = end !== -1 && (endLf === -1 || end < endLf) ? end + 2 : endLf !== -1 ? endLf + 1 : head.length;
    return head.subarray(0, cut);
  }
}

/** Subject and Message-ID from a header block (RFC 2047 words decoded); never throws. */
export async function headerFacts(block: Buffer): Promise<{ subject: string; messageId: string | null }> {
  try {
    const parsed = await simpleParser(Buffer.concat([block, Buffer.from('\r\n')]), { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const subject = (parsed.subject ?? '').slice(0, SUBJECT_LIMIT);
    const mid = parsed.messageId?.trim().replace(/^<|>$/g, '') ?? '';
    return { subject, messageId: mid.length > 0 && mid.length <= 998 ? mid : null };
  } catch {
    return { subject: '', messageId: null };
  }
}

/**
 * Encrypts `source` into the object store as entry `id`'s content. Resolves
 * once the object is durable; the caller then records the returned key and
 * facts in the entry's row (in its transaction).
 */
export async function writeArchiveContent(objects: ObjectStore, keyring: Keyring, id: string, receivedAt: number, source: Readable): Promise<WrittenContent> {
  const objectKey = archiveObjectKey(id, receivedAt);
  const dataKey = randomBytes(KEYED_DATA_KEY_LENGTH);
  try {
    const { keyId, wrapped } = wrapKey(keyring, dataKey, wrapAad(id, objectKey));
    const tap = new ContentTap();
    const encrypt = createKeyedEncryptStream(dataKey, chunkContext(id, objectKey));
    // an error anywhere destroys every stage; put sees it on `encrypt`
    const encrypted = pipeline(source, tap, encrypt, () => undefined);
    await objects.put(objectKey, encrypted);
    const { subject, messageId } = await headerFacts(tap.headerBlock());
    const subjectSealed = subject ? sealKey(dataKey, Buffer.from(subject, 'utf8'), subjectAad(id)) : null;
    return { objectKey, wrappedKey: wrapped, keyId, sha256: tap.digest(), size: tap.bytes, subject, subjectSealed, messageId };
  } catch (err) {
    source.destroy();
    throw err;
  } finally {
    dataKey.fill(0);
  }
}

/** The stored key material of an entry (from its row). */
export interface EntryKey {
  readonly id: string;
  readonly objectKey: string;
  readonly wrappedKey: Buffer;
  readonly keyId: string;
}

function dataKeyOf(keyring: Keyring, entry: EntryKey): Buffer {
  return unwrapKey(keyring, entry.keyId, entry.wrappedKey, wrapAad(entry.id, entry.objectKey));
}

/** The original message bytes of an entry (decrypted and verified as they stream). */
export function readArchiveContent(objects: ObjectStore, keyring: Keyring, entry: EntryKey): Readable {
  const dataKey = dataKeyOf(keyring, entry);
  try {
    const decrypt = createKeyedDecryptStream(dataKey, chunkContext(entry.id, entry.objectKey));
    return pipeline(objects.get(entry.objectKey), decrypt, () => undefined);
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
