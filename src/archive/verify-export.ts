/**
 * Checks an evidence export offline (`sealgate archive verify-export`): no
 * database, no master key, no configuration — only the ZIP and, ideally,
 * the gateway key's fingerprint the auditor kept elsewhere. Stops at the
 * first problem and names the file or entry:
 *
 *  1. the container signature in the ZIP comment (every byte before it);
 *  2. the members: only the expected names, each once;
 *  3. manifest.json signed by the key it names (and that key has the
 *     fingerprint given), SHA256SUMS equal to the manifest's list and signed;
 *  4. every member's SHA-256 and size as the manifest lists them, and no
 *     member missing or unlisted;
 *  5. the checkpoints: hash recomputed, signed by the key, linked;
 *  6. the chain segment: consecutive events, prev_hash links, each hash
 *     recomputed (chain.ts eventHash), the last as the manifest says, and
 *     each checkpoint's signed head found in it with its hash;
 *  7. every exported row: its canonical hash (records.ts) equals the
 *     `archive:record` event at its record_seq, which names that row, and
 *     no later event in the segment records a newer version of it;
 *  8. evidence.json and evidence.csv are what the rows say;
 *  9. each message's SHA-256 and size equal its entry's content_sha256.
 *
 * The container check comes last in the report order only in the sense
 * that a changed member is named first: a byte changed inside a member
 * names that member; one changed in a ZIP header names the container.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { open as openFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { canonicalJson, eventHash } from '../audit/chain.js';
import { checkpointHash, checkpointSignatureValid, type Checkpoint } from './checkpoints.js';
import {
  CHAIN, CHECKPOINTS, COMMENT_LENGTH, COMMENT_PREFIX, containerMessage, EOCD_LENGTH, entryFacts, entryFromRows, EVIDENCE_CSV, EVIDENCE_JSON, evidenceCsv, EXPORT_FORMAT,
  EXPORT_VERSION, KEY_FILE, LISTED_FIXED, MANIFEST, MANIFEST_SIG, MAX_EXPORT_ENTRIES, MAX_EXPORT_RECIPIENTS, MAX_SEGMENT_EVENTS, MESSAGE_FILE_RE, messageFile, ROW_KEYS, ROWS,
  SUMS, SUMS_SIG, sumsText, type ExportedRow, type Manifest,
} from './export-format.js';
import { recordHash } from './records.js';
import { publicKeyFingerprint } from './signing-key.js';
import type { ShownEntry } from './show.js';

/** Largest member read into memory (the manifest, evidence, rows, checkpoints). */
const MAX_MEMBER_IN_MEMORY = 512 * 1024 * 1024;
/** Longest line of chain.jsonl. */
const MAX_CHAIN_LINE = 1024 * 1024;

export interface ExportVerifyOk {
  readonly ok: true;
  readonly entries: number;
  readonly recipients: number;
  readonly messages: number;
  readonly content: boolean;
  readonly events: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly checkpoints: number;
  /** Events at the end of the segment no exported checkpoint signed (covered by the chain only). */
  readonly uncovered: number;
  readonly keyFingerprint: string;
  readonly createdAt: string;
}

export interface ExportVerifyBad {
  readonly ok: false;
  /** The file (member name, or "the ZIP") or entry the problem is in. */
  readonly at: string;
  readonly detail: string;
}

export type ExportVerifyResult = ExportVerifyOk | ExportVerifyBad;

class Bad extends Error {
  constructor(
    readonly at: string,
    detail: string,
  ) {
    super(detail);
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, decodeStrings: true, autoClose: false }, (err, zip) =>
      err || !zip ? reject(err ?? new Error('not a ZIP file')) : resolve(zip),
    );
  });
}

async function listEntries(zip: yauzl.ZipFile, max: number): Promise<yauzl.Entry[]> {
  const out: yauzl.Entry[] = [];
  return new Promise((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      if (out.length > max) {
        reject(new Bad('the ZIP', `it has more than ${max} members`));
        return;
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve(out));
    zip.on('error', (err: Error) => reject(new Bad('the ZIP', `it cannot be read as a ZIP file (${err.message})`)));
    zip.readEntry();
  });
}

function entryStream(zip: yauzl.ZipFile, e: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(e, (err, s) => (err || !s ? reject(new Bad(e.fileName, `it cannot be read (${err?.message ?? 'no stream'})`)) : resolve(s))));
}

/** A member's bytes, their SHA-256 and size, read through `onChunk` (or kept, up to MAX_MEMBER_IN_MEMORY). */
async function readMember(zip: yauzl.ZipFile, e: yauzl.Entry, keep: boolean, onChunk?: (b: Buffer) => void): Promise<{ sha256: string; size: number; bytes: Buffer }> {
  const h = createHash('sha256');
  const kept: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of await entryStream(zip, e)) {
      const b = c as Buffer;
      h.update(b);
      size += b.length;
      if (keep) {
        if (size > MAX_MEMBER_IN_MEMORY) throw new Bad(e.fileName, `it is larger than ${MAX_MEMBER_IN_MEMORY} bytes`);
        kept.push(b);
      }
      onChunk?.(b);
    }
  } catch (err) {
    if (err instanceof Bad) throw err;
    throw new Bad(e.fileName, `it cannot be read (${(err as Error).message})`);
  }
  return { sha256: h.digest('hex'), size, bytes: Buffer.concat(kept) };
}

function parseJson<T>(name: string, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new Bad(name, 'it is not valid JSON');
  }
}

const isHex = (s: unknown, n: number): s is string => typeof s === 'string' && s.length === n && /^[0-9a-f]+$/.test(s);

/** Checks the container signature: the ZIP comment signs every byte before it. */
async function checkContainer(path: string, key: KeyObject): Promise<void> {
  const fh = await openFile(path, 'r');
  try {
    const { size } = await fh.stat();
    const prefix = size - COMMENT_LENGTH;
    if (prefix < EOCD_LENGTH) throw new Bad('the ZIP', 'it is too short to be an export');
    const tail = Buffer.alloc(EOCD_LENGTH + COMMENT_LENGTH);
    await fh.read(tail, 0, tail.length, prefix - EOCD_LENGTH);
    // the end record's signature and its comment length must put the comment exactly at the end of the file
    if (tail.readUInt32LE(0) !== 0x06054b50 || tail.readUInt16LE(20) !== COMMENT_LENGTH) throw new Bad('the ZIP', 'its end record was changed, or bytes were added after it');
    const comment = tail.subarray(EOCD_LENGTH).toString('latin1');
    const sig = Buffer.from(comment.slice(COMMENT_PREFIX.length), 'base64');
    // canonical base64 only: another spelling of the same bytes is a changed byte too
    if (!comment.startsWith(COMMENT_PREFIX) || sig.length !== 64 || COMMENT_PREFIX + sig.toString('base64') !== comment) throw new Bad('the ZIP', 'its comment (the container signature) was changed');
    const h = createHash('sha256');
    if (prefix > 0) for await (const c of fh.createReadStream({ start: 0, end: prefix - 1, autoClose: false })) h.update(c as Buffer);
    if (!verify(null, Buffer.from(containerMessage(h.digest('hex'), prefix), 'utf8'), key, sig)) {
      throw new Bad('the ZIP', 'the container signature does not verify: a byte of the file outside its members (a ZIP header) was changed');
    }
  } finally {
    await fh.close();
  }
}

function checkManifestShape(m: Manifest): void {
  const ok =
    m.format === EXPORT_FORMAT &&
    m.version === EXPORT_VERSION &&
    typeof m.key === 'object' && m.key !== null &&
    typeof m.key.publicKeyPem === 'string' &&
    typeof m.chain === 'object' && m.chain !== null &&
    Number.isSafeInteger(m.chain.firstSeq) && Number.isSafeInteger(m.chain.lastSeq) && m.chain.firstSeq >= 1 && m.chain.lastSeq >= m.chain.firstSeq &&
    isHex(m.chain.lastHash, 64) &&
    typeof m.files === 'object' && m.files !== null &&
    typeof m.content === 'boolean' &&
    Number.isSafeInteger(m.entries) && m.entries >= 1 && m.entries <= MAX_EXPORT_ENTRIES &&
    Number.isSafeInteger(m.recipients) && m.recipients >= 0 && m.recipients <= MAX_EXPORT_RECIPIENTS &&
    m.chain.lastSeq - m.chain.firstSeq < MAX_SEGMENT_EVENTS;
  if (!ok) throw new Bad(MANIFEST, `it is not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} manifest`);
  for (const [name, f] of Object.entries(m.files)) {
    if (typeof f !== 'object' || f === null || !isHex(f.sha256, 64) || !Number.isSafeInteger(f.size) || f.size < 0) throw new Bad(MANIFEST, `its entry for ${name} is malformed`);
  }
}

export interface VerifyExportOptions {
  /** The fingerprint the auditor kept: any other key fails. */
  readonly expectedFingerprint?: string;
}

/** Checks the export at `path`; the first problem found, or what was checked. */
export async function verifyExport(path: string, opts: VerifyExportOptions = {}): Promise<ExportVerifyResult> {
  let zip: yauzl.ZipFile | undefined;
  try {
    try {
      zip = await openZip(path);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') throw err;
      throw new Bad('the ZIP', `it cannot be read as a ZIP file (${(err as Error).message})`);
    }
    const members = await listEntries(zip, MAX_EXPORT_ENTRIES + LISTED_FIXED.length + 2);
    const byName = new Map<string, yauzl.Entry>();
    for (const e of members) {
      if (byName.has(e.fileName)) throw new Bad(e.fileName, 'it is in the ZIP twice');
      if (e.fileName !== MANIFEST && e.fileName !== MANIFEST_SIG && !(LISTED_FIXED as readonly string[]).includes(e.fileName) && !MESSAGE_FILE_RE.test(e.fileName)) {
        throw new Bad(e.fileName, 'it is not part of an export: a file was added');
      }
      byName.set(e.fileName, e);
    }
    const member = (name: string): yauzl.Entry => {
      const e = byName.get(name);
      if (!e) throw new Bad(name, 'it is missing');
      return e;
    };
    const z = zip;

    // the manifest, its signature, and the key it names
    const manifestBytes = (await readMember(z, member(MANIFEST), true)).bytes;
    const manifestSig = (await readMember(z, member(MANIFEST_SIG), true)).bytes;
    const manifest = parseJson<Manifest>(MANIFEST, manifestBytes);
    checkManifestShape(manifest);
    let key: KeyObject;
    try {
      key = createPublicKey(manifest.key.publicKeyPem);
    } catch {
      throw new Bad(MANIFEST, 'its public key cannot be read');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new Bad(MANIFEST, 'its public key is not Ed25519');
    const fingerprint = publicKeyFingerprint(key);
    if (fingerprint !== manifest.key.fingerprint) throw new Bad(MANIFEST, 'its key fingerprint does not match its public key');
    if (opts.expectedFingerprint !== undefined && fingerprint !== opts.expectedFingerprint.toLowerCase()) {
      throw new Bad(MANIFEST, `it is signed by key ${fingerprint}, not by the key you gave (--fingerprint)`);
    }
    if (manifestSig.length !== 64 || !verify(null, manifestBytes, key, manifestSig)) throw new Bad(MANIFEST_SIG, 'the signature of manifest.json does not verify');

    // every member listed, every listed member present, each with its hash
    for (const name of byName.keys()) if (name !== MANIFEST && name !== MANIFEST_SIG && !(name in manifest.files)) throw new Bad(name, 'it is not listed in the manifest: a file was added');
    for (const name of Object.keys(manifest.files)) member(name);
    for (const name of LISTED_FIXED) if (!(name in manifest.files)) throw new Bad(MANIFEST, `it does not list ${name}`);
    const checked = async (name: string, keep: boolean, onChunk?: (b: Buffer) => void): Promise<Buffer> => {
      // a problem found while streaming is reported after the hash: a changed file is named as changed
      let found: unknown;
      const got = await readMember(z, member(name), keep, (b) => {
        if (found !== undefined || !onChunk) return;
        try {
          onChunk(b);
        } catch (err) {
          found = err;
        }
      });
      const want = manifest.files[name];
      if (!want || got.sha256 !== want.sha256 || got.size !== want.size) throw new Bad(name, 'its SHA-256 differs from the manifest: the file was changed');
      if (found !== undefined) throw found;
      return got.bytes;
    };

    const sums = await checked(SUMS, true);
    if (sums.toString('utf8') !== sumsText(manifest.files)) throw new Bad(SUMS, 'it does not list what the manifest lists');
    const sumsSig = await checked(SUMS_SIG, true);
    if (sumsSig.length !== 64 || !verify(null, sums, key, sumsSig)) throw new Bad(SUMS_SIG, 'the signature of SHA256SUMS does not verify');
    if ((await checked(KEY_FILE, true)).toString('utf8') !== manifest.key.publicKeyPem) throw new Bad(KEY_FILE, 'it is not the key the manifest names');

    // checkpoints: recomputed, signed, linked
    const checkpoints = parseJson<Checkpoint[]>(CHECKPOINTS, await checked(CHECKPOINTS, true));
    if (!Array.isArray(checkpoints) || checkpoints.length !== manifest.checkpoints) throw new Bad(CHECKPOINTS, 'it does not hold the checkpoints the manifest counts');
    const wantHead = new Map<number, Checkpoint>();
    let prev: Checkpoint | undefined;
    for (const c of checkpoints) {
      const at = `checkpoint #${String(c.seq)}`;
      if (!Number.isSafeInteger(c.seq) || !Number.isSafeInteger(c.auditSeq) || !Number.isSafeInteger(c.ts) || typeof c.reason !== 'string' || !isHex(c.auditHash, 64) || !isHex(c.prevHash, 64)) throw new Bad(at, 'it is malformed');
      if (c.keyFingerprint !== fingerprint) throw new Bad(at, 'it names another signing key');
      if (checkpointHash(c) !== c.hash) throw new Bad(at, 'its hash does not match its fields: it was changed');
      if (!checkpointSignatureValid(key, c, c.signature) || Buffer.from(c.signature, 'base64').toString('base64') !== c.signature) throw new Bad(at, 'its signature does not verify');
      if (prev && (c.seq !== prev.seq + 1 || c.prevHash !== prev.hash)) throw new Bad(at, `it does not follow checkpoint #${prev.seq}`);
      if (c.auditSeq < manifest.chain.firstSeq || c.auditSeq > manifest.chain.lastSeq) throw new Bad(at, 'it signed an event outside the chain segment');
      wantHead.set(c.auditSeq, c);
      prev = c;
    }

    // the rows, grouped by entry
    const rowLines = (await checked(ROWS, true)).toString('utf8').split('\n');
    if (rowLines.pop() !== '') throw new Bad(ROWS, 'it does not end with a newline');
    const rows: ExportedRow[] = rowLines.map((l, i) => {
      const r = parseJson<ExportedRow>(`${ROWS} line ${i + 1}`, Buffer.from(l, 'utf8'));
      const part = r?.row?.part;
      if (!Number.isSafeInteger(r.recordSeq) || (part !== 'message' && part !== 'recipient') || canonicalJson(Object.keys(r.row).sort()) !== canonicalJson(ROW_KEYS[part])) {
        throw new Bad(`${ROWS} line ${i + 1}`, 'it is not an archive row');
      }
      return r;
    });
    const needed = new Map<number, ExportedRow>();
    /** Each row's record, by the row's name as an `archive:record` event gives it (queue id, part, recipient number). */
    const rowKey = (queueId: unknown, part: unknown, seq: unknown): string => JSON.stringify([queueId, part, seq ?? null]);
    const recordOf = new Map<string, number>();
    for (const r of rows) {
      recordOf.set(r.row.part === 'message' ? rowKey(r.row.id, 'message', null) : rowKey(r.row.archive_id, 'recipient', r.row.seq), r.recordSeq);
      if (r.recordSeq < manifest.chain.firstSeq || r.recordSeq > manifest.chain.lastSeq) throw new Bad(`entry ${String(r.row.id ?? r.row.archive_id)}`, `its record (audit event #${r.recordSeq}) is outside the chain segment`);
      if (needed.has(r.recordSeq)) throw new Bad(`audit event #${r.recordSeq}`, 'two rows claim the same record');
      needed.set(r.recordSeq, r);
    }

    // the chain segment, streamed
    let expectSeq = manifest.chain.firstSeq;
    let prevHash: string | undefined;
    let partial = '';
    const matched = new Set<number>();
    const onEvent = (line: string): void => {
      const at = `${CHAIN} event #${expectSeq}`;
      let e: { seq?: unknown; ts?: unknown; type?: unknown; data?: unknown; prevHash?: unknown; hash?: unknown };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        throw new Bad(at, 'it is not valid JSON');
      }
      if (e.seq !== expectSeq) throw new Bad(at, `the segment has a gap or is out of order (found #${String(e.seq)})`);
      if (!Number.isSafeInteger(e.ts) || typeof e.type !== 'string' || !isHex(e.prevHash, 64) || !isHex(e.hash, 64)) throw new Bad(at, 'it is malformed');
      if (prevHash !== undefined && e.prevHash !== prevHash) throw new Bad(at, 'its prev_hash is not the previous event\'s hash');
      let hash: string;
      try {
        hash = eventHash(e.prevHash, { seq: expectSeq, ts: e.ts as number, type: e.type, data: e.data });
      } catch {
        throw new Bad(at, 'its data cannot be hashed');
      }
      if (hash !== e.hash) throw new Bad(at, 'its hash does not match its fields: it was changed');
      const c = wantHead.get(expectSeq);
      if (c && c.auditHash !== hash) throw new Bad(`checkpoint #${c.seq}`, `it signed another hash for audit event #${expectSeq}: the chain segment was rewritten`);
      if (e.type === 'archive:record' && typeof e.data === 'object' && e.data !== null) {
        const d = e.data as { queueId?: unknown; part?: unknown; seq?: unknown };
        const current = recordOf.get(rowKey(d.queueId, d.part, d.seq));
        // a later record of an exported row: the export holds an older version than the chain
        if (current !== undefined && expectSeq > current) throw new Bad(`entry ${String(d.queueId)}${d.part === 'recipient' ? ` recipient #${String(d.seq)}` : ''}`, `audit event #${expectSeq} recorded a newer version of this row than the export holds`);
      }
      const row = needed.get(expectSeq);
      if (row) {
        const part = row.row.part as 'message' | 'recipient';
        const entryId = String(part === 'message' ? row.row.id : row.row.archive_id);
        const name = `entry ${entryId}${part === 'recipient' ? ` recipient #${String(row.row.seq)}` : ''}`;
        const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as { queueId?: unknown; part?: unknown; seq?: unknown; sha256?: unknown };
        if (e.type !== 'archive:record' || d.queueId !== entryId || d.part !== part || (part === 'recipient' ? d.seq !== row.row.seq : d.seq !== undefined)) {
          throw new Bad(name, `audit event #${expectSeq} is not the record of this row`);
        }
        if (d.sha256 !== recordHash(part, row.row)) throw new Bad(name, `the row does not match the hash recorded in audit event #${expectSeq}: a column was changed`);
        matched.add(expectSeq);
      }
      prevHash = hash;
      expectSeq++;
    };
    await checked(CHAIN, false, (b) => {
      const lines = (partial + b.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_CHAIN_LINE) throw new Bad(`${CHAIN} event #${expectSeq}`, 'it is too long');
      for (const l of lines) onEvent(l);
    });
    if (partial !== '') throw new Bad(CHAIN, 'it does not end with a newline');
    if (expectSeq !== manifest.chain.lastSeq + 1) throw new Bad(CHAIN, `it ends at event #${expectSeq - 1}, not at #${manifest.chain.lastSeq} as the manifest says`);
    if (prevHash !== manifest.chain.lastHash) throw new Bad(CHAIN, 'its last hash is not the one the manifest names');
    if (matched.size !== needed.size) throw new Bad(ROWS, 'a row has no record in the segment');

    // evidence: what the rows say, entry by entry
    const evidence = parseJson<ShownEntry[]>(EVIDENCE_JSON, await checked(EVIDENCE_JSON, true));
    if (!Array.isArray(evidence) || evidence.length !== manifest.entries) throw new Bad(EVIDENCE_JSON, 'it does not hold the entries the manifest counts');
    const messages = new Map<string, Record<string, unknown>>();
    const recipients = new Map<string, Record<string, unknown>[]>();
    for (const r of rows) {
      if (r.row.part === 'message') messages.set(String(r.row.id), r.row);
      else recipients.set(String(r.row.archive_id), [...(recipients.get(String(r.row.archive_id)) ?? []), r.row]);
    }
    if (messages.size !== evidence.length) throw new Bad(ROWS, 'it does not hold one message row per entry');
    let recipientCount = 0;
    const contentOf = new Map<string, { sha256: string; size: number }>();
    for (const e of evidence) {
      const id = typeof e?.id === 'string' ? e.id : '?';
      const m = messages.get(id);
      if (!m) throw new Bad(`entry ${id}`, 'it has no message row');
      const rs = (recipients.get(id) ?? []).sort((a, b) => Number(a.seq) - Number(b.seq));
      recipientCount += rs.length;
      if (entryFacts(e) !== entryFacts(entryFromRows(m, rs, { note: '' }))) throw new Bad(`entry ${id}`, 'its evidence in evidence.json is not what its recorded rows say');
      if (manifest.content && m.purged_at === null && m.wrapped_key !== null) contentOf.set(id, { sha256: String(m.content_sha256), size: Number(m.size) });
    }
    if (recipientCount !== rows.length - messages.size || recipientCount !== manifest.recipients) throw new Bad(ROWS, 'it holds recipient rows of no exported entry');
    if ((await checked(EVIDENCE_CSV, true)).toString('utf8') !== evidenceCsv(evidence)) throw new Bad(EVIDENCE_CSV, 'it is not what evidence.json says');

    // the messages
    for (const name of byName.keys()) {
      const id = MESSAGE_FILE_RE.exec(name)?.[1];
      if (id !== undefined && !contentOf.has(id)) throw new Bad(name, 'it is not the content of an exported entry');
    }
    for (const [id, want] of contentOf) {
      const name = messageFile(id);
      if (!byName.has(name)) throw new Bad(name, 'it is missing');
      await checked(name, false);
      if (manifest.files[name]?.sha256 !== want.sha256 || manifest.files[name]?.size !== want.size) throw new Bad(`entry ${id}`, "its message is not the one archived (SHA-256 differs from the entry's content_sha256)");
    }

    await checkContainer(path, key);
    const newestSigned = prev?.auditSeq ?? manifest.chain.firstSeq - 1;
    return {
      ok: true,
      entries: evidence.length,
      recipients: recipientCount,
      messages: contentOf.size,
      content: manifest.content,
      events: manifest.chain.lastSeq - manifest.chain.firstSeq + 1,
      firstSeq: manifest.chain.firstSeq,
      lastSeq: manifest.chain.lastSeq,
      checkpoints: checkpoints.length,
      uncovered: manifest.chain.lastSeq - Math.max(newestSigned, manifest.chain.firstSeq - 1),
      keyFingerprint: fingerprint,
      createdAt: typeof manifest.createdAt === 'string' ? manifest.createdAt : '',
    };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, at: err.at, detail: err.message };
    throw err;
  } finally {
    zip?.close();
  }
}

