/**
 * The evidence export's format (pure, no I/O): member names, limits, the
 * evidence derived from the archive rows, the CSV, and the container
 * signature kept in the ZIP comment. Both the writer (export.ts) and the
 * offline checker (verify-export.ts) use these, so the checker recomputes
 * exactly what the writer wrote. docs/archive.md ("Exporting evidence")
 * describes the format for auditors; keep them in step.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/chain.js';
import { canonicalRecord, MESSAGE_COLUMNS, RECIPIENT_COLUMNS } from './records.js';
import { shownRecipient, type ShownEntry } from './show.js';

export const EXPORT_FORMAT = 'sealgate-archive-export';
export const EXPORT_VERSION = 1;

/**
 * Most entries one export holds: the evidence and the rows are built in
 * memory (and checked in memory offline), so an export stays a file an
 * auditor's laptop can verify. Narrow the search (--since/--until) for more.
 */
export const MAX_EXPORT_ENTRIES = 10_000;
/** Most recipient rows one export holds (same reason). */
export const MAX_EXPORT_RECIPIENTS = 100_000;
/** Most audit events in the chain segment (it is streamed, but checking it offline reads every one). */
export const MAX_SEGMENT_EVENTS = 5_000_000;

export const MANIFEST = 'manifest.json';
export const MANIFEST_SIG = 'manifest.sig';
export const SUMS = 'SHA256SUMS';
export const SUMS_SIG = 'SHA256SUMS.sig';
export const KEY_FILE = 'gateway-signing.pem';
export const EVIDENCE_JSON = 'evidence.json';
export const EVIDENCE_CSV = 'evidence.csv';
export const ROWS = 'rows.jsonl';
export const CHAIN = 'chain.jsonl';
export const CHECKPOINTS = 'checkpoints.json';
export const messageFile = (id: string): string => `messages/${id}.eml`;
export const MESSAGE_FILE_RE = /^messages\/([0-9A-Z]{20})\.eml$/;

/** The members listed in the manifest (everything except the manifest and its signature). */
export const LISTED_FIXED = [SUMS, SUMS_SIG, KEY_FILE, EVIDENCE_JSON, EVIDENCE_CSV, ROWS, CHAIN, CHECKPOINTS] as const;

/**
 * The container signature: the ZIP comment is `sealgate-export-v1 ` and the
 * base64 Ed25519 signature of `containerMessage(sha256, length)`, where sha256
 * and length are those of every byte of the file before the comment. It is
 * what makes a changed byte anywhere in the ZIP fail, also in a header
 * field (a time, an attribute) that no member's content covers.
 */
export const COMMENT_PREFIX = 'sealgate-export-v1 ';
/** The prefix and 88 characters of base64 (64 bytes). */
export const COMMENT_LENGTH = COMMENT_PREFIX.length + 88;
/** The end-of-central-directory record before the comment (no ZIP64 end locator follows it). */
export const EOCD_LENGTH = 22;
export function containerMessage(sha256: string, length: number): string {
  return `sealgate-export-v1 sha256=${sha256} length=${length}`;
}

export const sha256Hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** One file's entry in the manifest. */
export interface ManifestFile {
  readonly sha256: string;
  readonly size: number;
}

export interface Manifest {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: number;
  readonly createdAt: string;
  readonly operator: string;
  /** The search as given (filter names and values: this is an auditor's export, it holds the addresses anyway). */
  readonly search: Readonly<Record<string, string>>;
  readonly entries: number;
  readonly recipients: number;
  /** Whether messages/<id>.eml were written (--no-content: false). */
  readonly content: boolean;
  readonly key: { readonly algorithm: 'ed25519'; readonly fingerprint: string; readonly publicKeyPem: string };
  /** The chain segment: audit events firstSeq..lastSeq, the hash of the last. */
  readonly chain: { readonly firstSeq: number; readonly lastSeq: number; readonly lastHash: string };
  readonly checkpoints: number;
  readonly files: Readonly<Record<string, ManifestFile>>;
}

/** `SHA256SUMS`: the manifest's file hashes in `sha256sum -c` form, sorted by name. */
export function sumsText(files: Readonly<Record<string, ManifestFile>>): string {
  return Object.keys(files)
    .filter((n) => n !== SUMS && n !== SUMS_SIG)
    .sort()
    .map((n) => `${files[n]?.sha256 ?? ''}  ${n}\n`)
    .join('');
}

/** An archive row as exported in rows.jsonl: its canonical record (records.ts) and the audit event that recorded it. */
export interface ExportedRow {
  readonly recordSeq: number;
  readonly row: Record<string, unknown>;
}

export function rowLine(part: 'message' | 'recipient', row: Readonly<Record<string, unknown>>, recordSeq: number): string {
  return `${JSON.stringify({ recordSeq, row: canonicalRecord(part, row) })}\n`;
}

/** A chain event as exported in chain.jsonl (`data` as stored: canonical JSON). */
export function chainLine(e: { seq: number; ts: number; type: string; data: string; prev_hash: string; hash: string }): string {
  return `{"seq":${e.seq},"ts":${e.ts},"type":${JSON.stringify(e.type)},"data":${e.data},"prevHash":${JSON.stringify(e.prev_hash)},"hash":${JSON.stringify(e.hash)}}\n`;
}

const iso = (ms: unknown): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Subject of an exported entry: opened (with content), or why not. */
export type ExportSubject = { readonly subject: string } | { readonly note: string };

/**
 * An entry as `archive show --json` gives it, derived from its canonical
 * rows (as rows.jsonl holds them: BLOBs hex). The checker derives it again
 * and compares, so evidence.json cannot say anything the recorded rows do not.
 */
export function entryFromRows(m: Readonly<Record<string, unknown>>, recipients: readonly Readonly<Record<string, unknown>>[], subject: ExportSubject): ShownEntry {
  return {
    id: str(m.id),
    origin: str(m.origin),
    messageId: strOrNull(m.message_id),
    receivedAt: iso(m.received_at) ?? '',
    archivedAt: iso(m.archived_at) ?? '',
    sender: str(m.sender),
    senderDomain: str(m.sender_domain),
    connector: str(m.connector),
    clientIp: str(m.client_ip),
    tlsVersion: strOrNull(m.tls_version),
    authUser: strOrNull(m.auth_user),
    size: num(m.size),
    contentSha256: str(m.content_sha256),
    retainUntil: iso(m.retain_until) ?? '',
    hold: m.hold === 1,
    purgedAt: iso(m.purged_at),
    subject: 'subject' in subject ? subject.subject : null,
    ...('note' in subject ? { subjectNote: subject.note } : {}),
    verdict: parseJson(m.verdict),
    recipients: recipients.map((r) =>
      shownRecipient({
        seq: num(r.seq),
        address: str(r.address),
        domain: str(r.domain),
        bcc: num(r.bcc),
        method: strOrNull(r.method),
        requirement: strOrNull(r.requirement),
        decision: strOrNull(r.decision),
        key_fingerprint: strOrNull(r.key_fingerprint),
        key_source: strOrNull(r.key_source),
        state: str(r.state),
        attempts: num(r.attempts),
        last_attempt_at: typeof r.last_attempt_at === 'number' ? r.last_attempt_at : null,
        finished_at: typeof r.finished_at === 'number' ? r.finished_at : null,
        evidence: strOrNull(r.evidence),
      }),
    ),
  };
}

/** Canonical JSON of an entry without its Subject (which the checker cannot open): what must match the rows. */
export function entryFacts(e: ShownEntry): string {
  const { subject: _s, subjectNote: _n, ...rest } = e;
  return canonicalJson(JSON.parse(JSON.stringify(rest)) as unknown);
}

export const CSV_COLUMNS = [
  'queue_id', 'received_at', 'sender', 'message_id', 'phi', 'categories', 'recipient_seq', 'recipient', 'bcc', 'method', 'requirement', 'reasons', 'state', 'attempts',
  'last_attempt_at', 'finished_at', 'mx', 'ip', 'tls_version', 'tls_cipher', 'tls_verified', 'cert_sha256', 'cert_error', 'dane', 'mta_sts', 'tls_policy', 'required',
  'reply_code', 'reply_enhanced', 'reply_text', 'key_fingerprint',
] as const;

/**
 * One CSV cell (RFC 4180). A cell that a spreadsheet would run as a formula
 * (=, +, -, @, tab, CR first) gets a leading apostrophe: addresses and
 * replies come from outside, and auditors open CSV in spreadsheets.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

interface VerdictFacts {
  phi?: unknown;
  findings?: { category?: unknown }[];
}

/** evidence.csv: one row per recipient, CRLF lines, a header row first. */
export function evidenceCsv(entries: readonly ShownEntry[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of entries) {
    const v = (typeof e.verdict === 'object' && e.verdict !== null ? e.verdict : {}) as VerdictFacts;
    const categories = [...new Set((Array.isArray(v.findings) ? v.findings : []).map((f) => f.category).filter((c): c is string => typeof c === 'string'))].join(' ');
    for (const r of e.recipients) {
      const ev = r.evidence;
      const cells: unknown[] = [
        e.id, e.receivedAt, e.sender, e.messageId, v.phi === true ? 'yes' : 'no', categories, r.seq, r.address, r.bcc ? 'yes' : 'no', r.method, r.requirement, r.reasons.join('; '),
        r.state, r.attempts, r.lastAttemptAt, r.finishedAt, ev?.mx, ev?.ip, r.tls?.version, r.tls?.cipher, r.tls ? (r.tls.verified ? 'yes' : 'no') : null, r.tls?.certSha256,
        r.tls?.certError, r.tls?.dane, ev?.mtaSts, ev?.tlsPolicy, ev?.requirement, ev?.reply.code, ev?.reply.enhanced, ev?.reply.text, r.keyFingerprint,
      ];
      lines.push(cells.map(csvCell).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The columns of the canonical rows, for the checker to refuse a row with a column too many or too few. */
export const ROW_KEYS = {
  message: ['part', ...MESSAGE_COLUMNS].sort(),
  recipient: ['part', ...RECIPIENT_COLUMNS].sort(),
} as const;
