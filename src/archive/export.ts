/**
 * The evidence export (`sealgate archive export`): the entries a search
 * selects, as one ZIP an auditor can check offline (verify-export.ts) or
 * with unzip, sha256sum and openssl alone (docs/archive.md, "Exporting
 * evidence"). The format is in export-format.ts.
 *
 * Written with yazl, streaming: message contents are decrypted one at a
 * time as the ZIP is written (each opened only when its turn comes), so
 * memory holds the evidence and the rows (bounded by MAX_EXPORT_ENTRIES and
 * MAX_EXPORT_RECIPIENTS), not the messages. Each member's SHA-256 is taken
 * as it passes; the manifest, written last, lists them and is signed with
 * the gateway key. The file is written under a temporary name, its
 * container signature (the ZIP comment) filled in, synced, and only then
 * linked to its name (never over an existing file).
 */
import { createHash, randomBytes, sign } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { Keyring } from '../crypto/keyring.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import type { ObjectStore } from '../objects/object-store.js';
import { CHECKPOINT_SELECT, checkpointFromRow, type Checkpoint } from './checkpoints.js';
import { entryKeyOf, openSubject, readArchiveContent } from './content.js';
import { pendingAware } from './pending.js';
import {
  CHAIN, chainLine, CHECKPOINTS, COMMENT_LENGTH, COMMENT_PREFIX, containerMessage, entryFromRows, EVIDENCE_CSV, EVIDENCE_JSON, evidenceCsv, EXPORT_FORMAT, EXPORT_VERSION,
  KEY_FILE, MANIFEST, MANIFEST_SIG, MAX_EXPORT_ENTRIES, MAX_EXPORT_RECIPIENTS, MAX_SEGMENT_EVENTS, messageFile, ROWS, rowLine, sha256Hex, SUMS, SUMS_SIG, sumsText,
  type ExportSubject, type Manifest, type ManifestFile,
} from './export-format.js';
import { MESSAGE_COLUMNS, RECIPIENT_COLUMNS } from './records.js';
import { searchArchive, SEARCH_MAX_LIMIT, type parseSearch } from './search.js';
import type { SigningKey } from './signing-key.js';
import type { ShownEntry } from './show.js';

/** Why an export was refused or failed: one line for the operator, no message content. */
export class ExportError extends Error {}

export interface ExportProgress {
  readonly entries: number;
  readonly done: number;
  readonly bytes: number;
}

export interface ExportOptions {
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  readonly objects: ObjectStore;
  readonly key: SigningKey;
  /** The parsed search (parseSearch); its limit and cursor are ignored: every page is read. */
  readonly search: ReturnType<typeof parseSearch>;
  /** The search as given, for the manifest (names and values). */
  readonly searchText: Readonly<Record<string, string>>;
  readonly out: string;
  readonly content: boolean;
  readonly operator: string;
  readonly now: number;
  readonly onProgress?: (p: ExportProgress) => void;
  /**
   * Called once the file is complete and signed, before it appears under
   * its name (the caller records the export in the audit chain here: no
   * export leaves without its record). A throw leaves no file.
   */
  readonly beforePublish?: (r: ExportResult) => Promise<void>;
  readonly maxEntries?: number;
}

export interface ExportResult {
  readonly entries: number;
  readonly recipients: number;
  readonly messages: number;
  readonly events: number;
  readonly checkpoints: number;
  readonly manifestSha256: string;
  readonly bytes: number;
}

/** The ids the search selects, newest first, every page; refuses more than `max`. */
async function selectIds(db: SqlQueryable, search: ReturnType<typeof parseSearch>, max: number): Promise<string[]> {
  const ids: string[] = [];
  const { afterId: _ignored, ...base } = search;
  let after: string | undefined;
  for (;;) {
    const page = await searchArchive(db, { ...base, limit: SEARCH_MAX_LIMIT, ...(after !== undefined ? { afterId: after } : {}) });
    for (const e of page.entries) ids.push(e.id);
    if (ids.length > max) throw new ExportError(`the search selects more than ${max} entries, the most one export holds; narrow it (--since/--until, another filter) and export in parts`);
    if (!page.next) return ids;
    after = page.next;
  }
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
type Row = Record<string, unknown>;

/** The entries' message rows and recipient rows (all columns and record_seq), in `ids` order. */
async function readRows(db: SqlQueryable, ids: readonly string[]): Promise<{ message: Row; recipients: Row[] }[]> {
  const messages = new Map<string, Row>();
  const recipients = new Map<string, Row[]>(ids.map((id) => [id, []]));
  let recipientCount = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    for (const m of await db.all<Row>(`SELECT ${MESSAGE_COLUMNS.join(', ')}, record_seq FROM archive_messages WHERE id IN (${marks(chunk.length)})`, chunk)) messages.set(String(m.id), m);
    for (const r of await db.all<Row>(`SELECT ${RECIPIENT_COLUMNS.join(', ')}, record_seq FROM archive_recipients WHERE archive_id IN (${marks(chunk.length)}) ORDER BY archive_id, seq`, chunk)) {
      recipients.get(String(r.archive_id))?.push(r);
      if (++recipientCount > MAX_EXPORT_RECIPIENTS) throw new ExportError(`the entries selected have more than ${MAX_EXPORT_RECIPIENTS} recipients, the most one export holds; narrow the search and export in parts`);
    }
  }
  return ids.map((id) => {
    const message = messages.get(id);
    if (!message) throw new ExportError(`archive entry ${id} disappeared during the export; run it again`);
    return { message, recipients: recipients.get(id) ?? [] };
  });
}

/** Hashes and counts what passes. */
class Tap extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;
  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }
  sha256(): string {
    return this.hash.digest('hex');
  }
}

/** A deferred: the member's hash once yazl has read it all. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed where awaited
  return { promise, resolve, reject };
}

/** The SHA-256 of a file's first `length` bytes. */
async function prefixSha256(path: string, length: number): Promise<string> {
  const h = createHash('sha256');
  if (length > 0) for await (const c of createReadStream(path, { start: 0, end: length - 1 })) h.update(c as Buffer);
  return h.digest('hex');
}

interface BuiltZip {
  readonly entries: number;
  readonly totalRecipients: number;
  readonly messages: number;
  readonly first: number;
  readonly last: number;
  readonly checkpoints: number;
  readonly manifestBytes: Buffer;
}

/** Writes the ZIP to `tmp` (its comment a placeholder), reading every row through `q`, one read snapshot. */
async function writeZip(o: ExportOptions, q: SqlQueryable, tmp: string): Promise<BuiltZip> {
  const ids = await selectIds(q, o.search, o.maxEntries ?? MAX_EXPORT_ENTRIES);
  if (ids.length === 0) throw new ExportError('no archive entry matches the search: nothing to export');
  const rows = await readRows(q, ids);
  // the segment: from the first record of these rows to the last, extended to the first checkpoint that signed it
  let first = Number.MAX_SAFE_INTEGER;
  let lastRecord = 0;
  for (const r of rows) {
    for (const row of [r.message, ...r.recipients]) {
      const s = Number(row.record_seq);
      first = Math.min(first, s);
      lastRecord = Math.max(lastRecord, s);
    }
  }
  const cover = await q.get<{ audit_seq: number }>('SELECT audit_seq FROM archive_checkpoints WHERE audit_seq >= ? ORDER BY seq LIMIT 1', [lastRecord]);
  const last = cover?.audit_seq ?? lastRecord;
  if (last - first + 1 > MAX_SEGMENT_EVENTS) throw new ExportError(`the entries selected span ${last - first + 1} audit events, more than the ${MAX_SEGMENT_EVENTS} one export holds; narrow the search (--since/--until) and export in parts`);
  const checkpoints: Checkpoint[] = (await q.all<Parameters<typeof checkpointFromRow>[0]>(`${CHECKPOINT_SELECT} WHERE audit_seq >= ? AND audit_seq <= ? ORDER BY seq`, [first, last])).map(checkpointFromRow);
  const lastEvent = await q.get<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = ?', [last]);
  if (!lastEvent) throw new ExportError(`audit event #${last} is missing: run "sealgate archive verify"`);

  const entries: ShownEntry[] = rows.map(({ message, recipients }) => {
    let subject: ExportSubject = { note: 'not exported (--no-content)' };
    if (o.content) {
      if (message.purged_at !== null || message.wrapped_key === null || message.key_id === null) subject = { note: 'purged: the entry key was destroyed' };
      else if (!o.keyring.has(String(message.key_id))) throw new ExportError(`archive entry ${String(message.id)} is sealed under master key ${String(message.key_id)}, which is not loaded; add its key file to keys.previousKeyFiles`);
      else {
        try {
          subject = { subject: openSubject(o.keyring, entryKeyOf(message as Parameters<typeof entryKeyOf>[0]), message.subject_sealed === null ? null : Buffer.from(message.subject_sealed as Uint8Array)) };
        } catch {
          // as archive show: the rest of the entry is still evidence (its content, if changed, fails its SHA-256 below)
          subject = { note: 'could not be opened: the sealed subject or its key does not verify' };
        }
      }
    }
    return entryFromRows(message, recipients, subject);
  });
  const withContent = o.content ? rows.filter((r) => r.message.purged_at === null && r.message.wrapped_key !== null) : [];
  const totalRecipients = rows.reduce((n, r) => n + r.recipients.length, 0);

  const pending: Promise<void>[] = [];
  const zip = new yazl.ZipFile();
  const zipFailed = deferred<void>();
  // a member's stream that fails is reported by yazl here; without a listener it would end the process
  zip.on('error', (err: unknown) => zipFailed.reject(err));
  const mtime = new Date(o.now);
  const fileOpts = { mtime, mode: 0o100644 };
  const files: Record<string, ManifestFile> = {};
  const addBuffer = (name: string, data: Buffer): void => {
    files[name] = { sha256: sha256Hex(data), size: data.length };
    zip.addBuffer(data, name, fileOpts);
  };
  let bytes = 0;
  let done = 0;
  const progress = (): void => o.onProgress?.({ entries: withContent.length, done, bytes });
  /** A member streamed from `open()` when yazl reaches it; its hash recorded when it has passed. */
  const addStream = (name: string, openStream: () => Readable, onEnd?: (f: ManifestFile) => void): void => {
    const d = deferred<void>();
    pending.push(d.promise);
    zip.addReadStreamLazy(name, { ...fileOpts, compress: true }, (cb) => {
      const tap = new Tap((n) => {
        bytes += n;
      });
      let source: Readable;
      try {
        source = openStream();
      } catch (err) {
        d.reject(err);
        cb(err, tap);
        return;
      }
      // yazl does not listen for a stream's errors: each is taken here and ends the export
      tap.on('error', (err) => d.reject(err));
      source.on('error', (err) => {
        d.reject(err);
        tap.destroy(err);
      });
      tap.on('end', () => {
        const f = { sha256: tap.sha256(), size: tap.size };
        files[name] = f;
        try {
          onEnd?.(f);
          d.resolve();
        } catch (err) {
          d.reject(err);
        }
      });
      cb(null, source.pipe(tap));
    });
  };

  const output = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
  const written = pipeline(zip.outputStream as unknown as Readable, output);
  written.catch(() => undefined);

  addBuffer(KEY_FILE, Buffer.from(o.key.publicKeyPem, 'utf8'));
  addBuffer(EVIDENCE_JSON, Buffer.from(`${JSON.stringify(entries, null, 1)}\n`, 'utf8'));
  addBuffer(EVIDENCE_CSV, Buffer.from(evidenceCsv(entries), 'utf8'));
  addBuffer(ROWS, Buffer.from(rows.map((r) => rowLine('message', r.message, Number(r.message.record_seq)) + r.recipients.map((x) => rowLine('recipient', x, Number(x.record_seq))).join('')).join(''), 'utf8'));
  addBuffer(CHECKPOINTS, Buffer.from(`${JSON.stringify(checkpoints, null, 1)}\n`, 'utf8'));
  const db = q;
  addStream(CHAIN, () => {
    async function* lines(): AsyncGenerator<Buffer> {
      for (let at = first; at <= last; at += 1000) {
        const page = await db.all<{ seq: number; ts: number; type: string; data: string; prev_hash: string; hash: string }>(
          'SELECT seq, ts, type, data, prev_hash, hash FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq',
          [at, Math.min(last, at + 999)],
        );
        if (page.length !== Math.min(last, at + 999) - at + 1) throw new ExportError(`the audit chain has a gap near event #${at}: run "sealgate archive verify"`);
        yield Buffer.from(page.map(chainLine).join(''), 'utf8');
      }
    }
    return Readable.from(lines(), { objectMode: false });
  });
  // the count is known from here: a progress display can show "0 of N" before the first message passes
  progress();
  for (const r of withContent) {
    const expected = { sha256: String(r.message.content_sha256), size: Number(r.message.size) };
    const id = String(r.message.id);
    addStream(
      messageFile(id),
      () => readArchiveContent(pendingAware(o.objects, o.db), o.keyring, entryKeyOf(r.message as Parameters<typeof entryKeyOf>[0])),
      (f) => {
        if (f.sha256 !== expected.sha256 || f.size !== expected.size) throw new ExportError(`archive entry ${id}: its content does not match its recorded SHA-256; run "sealgate archive verify"`);
        done++;
        progress();
      },
    );
  }
  try {
    await Promise.race([Promise.all(pending), zipFailed.promise, written.then(() => Promise.reject(new ExportError('the ZIP ended early')))]);
  } catch (err) {
    output.destroy();
    throw err;
  }

  const sums = Buffer.from(sumsText(files), 'utf8');
  addBuffer(SUMS, sums);
  addBuffer(SUMS_SIG, sign(null, sums, o.key.privateKey));
  const manifest: Manifest = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    createdAt: new Date(o.now).toISOString(),
    operator: o.operator,
    search: o.searchText,
    entries: entries.length,
    recipients: totalRecipients,
    content: o.content,
    key: { algorithm: 'ed25519', fingerprint: o.key.fingerprint, publicKeyPem: o.key.publicKeyPem },
    chain: { firstSeq: first, lastSeq: last, lastHash: lastEvent.hash },
    checkpoints: checkpoints.length,
    files: Object.fromEntries(Object.keys(files).sort().map((n) => [n, files[n] as ManifestFile])),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`, 'utf8');
  zip.addBuffer(manifestBytes, MANIFEST, fileOpts);
  zip.addBuffer(sign(null, manifestBytes, o.key.privateKey), MANIFEST_SIG, fileOpts);
  // a placeholder of the signature's length; filled in once the bytes before it are known
  zip.end({ forceZip64Format: false, comment: COMMENT_PREFIX + 'A'.repeat(COMMENT_LENGTH - COMMENT_PREFIX.length) });
  await written;
  return { entries: entries.length, totalRecipients, messages: withContent.length, first, last, checkpoints: checkpoints.length, manifestBytes };
}

/**
 * Writes the export. Reads everything inside one read snapshot, so the
 * rows, the chain segment and the checkpoints are one consistent picture
 * while the gateway (every node, on PostgreSQL) goes on writing.
 */
export async function writeExport(o: ExportOptions): Promise<ExportResult> {
  const tmp = join(dirname(o.out), `.${basename(o.out)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    // everything read from one snapshot (SqlDatabase.readSnapshot: on PostgreSQL one connection in REPEATABLE READ)
    const built = await o.db.readSnapshot((q) => writeZip(o, q, tmp));
    const { entries, totalRecipients, messages, first, last, checkpoints, manifestBytes } = built;
    let bytes = 0;
    const fh = await open(tmp, 'r+');
    try {
      const { size } = await fh.stat();
      const prefix = size - COMMENT_LENGTH;
      const tail = Buffer.alloc(COMMENT_LENGTH);
      await fh.read(tail, 0, COMMENT_LENGTH, prefix);
      if (!tail.toString('latin1').startsWith(COMMENT_PREFIX)) throw new ExportError('the ZIP writer did not end the file with the comment where expected');
      const sig = sign(null, Buffer.from(containerMessage(await prefixSha256(tmp, prefix), prefix), 'utf8'), o.key.privateKey).toString('base64');
      await fh.write(Buffer.from(COMMENT_PREFIX + sig, 'latin1'), 0, COMMENT_LENGTH, prefix);
      await fh.sync();
      bytes = size;
    } finally {
      await fh.close();
    }
    const result: ExportResult = {
      entries,
      recipients: totalRecipients,
      messages,
      events: last - first + 1,
      checkpoints,
      manifestSha256: sha256Hex(manifestBytes),
      bytes,
    };
    await o.beforePublish?.(result);
    try {
      await link(tmp, o.out);
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') throw new ExportError(`${o.out} exists; give another --out (an export never replaces a file)`);
      throw err;
    }
    return result;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
