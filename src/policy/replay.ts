/**
 * Policy replay (`sealgate policy replay`, docs/policy.md "Replaying policy
 * over the archive"): archived messages are decided again under a proposed
 * config, with the same code the daemon runs — inspection
 * (src/inspect/inspect-here.ts inspectHere, the proposed inspection profile and
 * custom detectors, its scan time limit) and the per-recipient evaluation
 * (evaluatePolicy, the proposed policy, portal and keys.prefer) — and
 * compared with what was decided then (src/policy/replay-report.ts).
 *
 * Recipient capabilities are what the gateway knows now, without the
 * network: the stored probe results (loadProbe, as the inspector reads
 * them) and the valid keys of the key directory (recipient_keys; no
 * discovery). Keys are looked at only for recipients whose mail needs
 * protection, as the inspector does.
 *
 * Each entry's content is decrypted into this process only, streamed into
 * the extraction and dropped; nothing of it is returned but the verdict's
 * names and counts. The caller records the one `policy:replayed` audit
 * event that covers these opens.
 */
import type { Keyring } from '../crypto/keyring.js';
import type { SqlDatabase, SqlQueryable, SqlValue } from '../db/sql-database.js';
import type { Config } from '../config/schema.js';
import { readArchiveContent, type EntryKey } from '../archive/content.js';
import { pendingAware } from '../archive/pending.js';
import type { ObjectStore } from '../objects/object-store.js';
import { keyCapabilities } from '../e2e/recipient-keys.js';
import { tryNormalizeAddress } from '../keys/address.js';
import { usableKeys } from '../keys/choose.js';
import { listKeys } from '../keys/store.js';
import { inspectHere } from '../inspect/inspect-here.js';
import { inspectionProfile, type InspectionProfile } from '../inspect/verdict.js';
import { explainProtectedMail, loadProbe } from '../probe/domain-probe.js';
import { subjectTag, type RecipientCapabilities } from './decide.js';
import { evaluatePolicy, type PolicyEvaluation } from './evaluate.js';
import { messageFacts } from './message-facts.js';
import { builtInSettings } from './profile.js';
import { addEntry, emptyReport, skipEntry, type ReplayedEntry, type ReplayReport } from './replay-report.js';

/** Default and largest --limit: entries re-decided in one run. */
export const DEFAULT_REPLAY_LIMIT = 10_000;
export const MAX_REPLAY_LIMIT = 1_000_000;
/** Changed entries listed in the report (all are counted). */
export const REPLAY_LIST_LIMIT = 200;
/** Entries read from the database at a time. */
const PAGE = 200;

export interface ReplayDeps {
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  readonly objects: ObjectStore;
  readonly now: () => number;
  /** Told after each entry (for a progress line on a terminal). */
  readonly onProgress?: (done: number) => void;
}

export interface ReplayOptions {
  /** received_at >= since (ms) */
  readonly since: number;
  /** received_at < until (ms); undefined: up to now */
  readonly until?: number | undefined;
  readonly limit: number;
  readonly listLimit?: number;
}

export interface ReplayResult {
  readonly report: ReplayReport;
  /** The window held more than `limit` entries: the oldest were left out. */
  readonly cut: boolean;
}

interface EntryRow {
  id: string;
  received_at: number;
  sender: string;
  connector: string;
  size: number;
  verdict: string;
  object_key: string;
  object_offset: number;
  object_length: number;
  wrapped_key: Buffer | Uint8Array | null;
  key_id: string | null;
  purged_at: number | null;
}

interface ThenVerdict {
  inspected: boolean;
  phi: boolean;
  protection: string | null;
  rules: string[];
  categories: string[];
}

/** Pure: the stored verdict (src/archive/verdict.ts) as the replay compares it. */
export function thenVerdict(json: string): ThenVerdict {
  let v: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(json) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) v = parsed as Record<string, unknown>;
  } catch {
    // an unreadable verdict is treated as not inspected
  }
  const strings = (x: unknown): string[] => (Array.isArray(x) ? (x as unknown[]).filter((s): s is string => typeof s === 'string') : []);
  const findings = Array.isArray(v.findings) ? (v.findings as unknown[]) : [];
  return {
    inspected: v.inspected === true,
    phi: v.phi === true,
    protection: typeof v.protection === 'string' ? v.protection : null,
    rules: strings(v.rules),
    categories: [...new Set(findings.flatMap((f) => (typeof f === 'object' && f !== null && typeof (f as { category?: unknown }).category === 'string' ? [(f as { category: string }).category] : [])))],
  };
}

/** The entries of the window, newest first, a page at a time (keyset paging: stable while the daemon archives more). */
async function* entriesOf(db: SqlQueryable, opts: ReplayOptions): AsyncGenerator<EntryRow> {
  let after: { at: number; id: string } | undefined;
  for (;;) {
    const cond = ['received_at >= ?'];
    const params: SqlValue[] = [opts.since];
    if (opts.until !== undefined) {
      cond.push('received_at < ?');
      params.push(opts.until);
    }
    if (after) {
      cond.push('(received_at < ? OR (received_at = ? AND id < ?))');
      params.push(after.at, after.at, after.id);
    }
    const rows = await db.all<EntryRow>(
      `SELECT id, received_at, sender, connector, size, verdict, object_key, object_offset, object_length, wrapped_key, key_id, purged_at
         FROM archive_messages WHERE ${cond.join(' AND ')} ORDER BY received_at DESC, id DESC LIMIT ${PAGE}`,
      params,
    );
    for (const r of rows) yield r;
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) return;
    after = { at: last.received_at, id: last.id };
  }
}

const asBuffer = (v: Buffer | Uint8Array): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

/** What the gateway knows now about recipients, without the network: stored probes and the key directory. */
class Capabilities {
  private readonly probes = new Map<string, boolean | undefined>();

  constructor(
    private readonly db: SqlQueryable,
    private readonly now: () => number,
  ) {}

  async transport(address: string, domain: string): Promise<RecipientCapabilities> {
    if (!this.probes.has(domain)) {
      const probe = await loadProbe(this.db, domain, this.now());
      this.probes.set(domain, probe ? explainProtectedMail(probe).method === 'tls-verified' : undefined);
    }
    return { address, domain, verifiedTls: this.probes.get(domain) };
  }

  async keys(c: RecipientCapabilities): Promise<RecipientCapabilities> {
    const normalized = tryNormalizeAddress(c.address);
    if (normalized === undefined) return c;
    const keys = usableKeys(await listKeys(this.db, { address: normalized }), this.now());
    return { ...c, ...keyCapabilities(keys) };
  }
}

/** Re-decides one entry under `config`; a skip reason when it cannot be. */
async function replayEntry(deps: ReplayDeps, q: SqlQueryable, config: Config, profile: InspectionProfile, caps: Capabilities, row: EntryRow): Promise<ReplayedEntry | { skipped: 'purged' | 'not-inspected' | 'key-not-loaded' | 'unreadable' }> {
  if (row.purged_at !== null || row.wrapped_key === null || row.key_id === null) return { skipped: 'purged' };
  const then = thenVerdict(row.verdict);
  // portal replies and mail archived with inspection off were never decided
  if (!then.inspected) return { skipped: 'not-inspected' };
  if (!deps.keyring.has(row.key_id)) return { skipped: 'key-not-loaded' };
  const key: EntryKey = { id: row.id, objectKey: row.object_key, offset: row.object_offset, length: row.object_length, wrappedKey: asBuffer(row.wrapped_key), keyId: row.key_id };
  const rows = await q.all<{ seq: number; address: string; domain: string; method: string | null }>('SELECT seq, address, domain, method FROM archive_recipients WHERE archive_id = ? ORDER BY seq', [row.id]);
  let content: Awaited<ReturnType<typeof inspectHere>>;
  try {
    content = await inspectHere(() => readArchiveContent(pendingAware(deps.objects, deps.db), deps.keyring, key), profile, config.inspection.maxScanTime);
  } catch {
    return { skipped: 'unreadable' };
  }
  const { extracted, verdict } = content;
  const { tagged } = subjectTag(extracted.subject);
  const facts = messageFacts({ sender: row.sender, connector: row.connector, size: row.size }, extracted, verdict, tagged);
  const evaluate = (recipients: readonly RecipientCapabilities[]): PolicyEvaluation =>
    evaluatePolicy({ policy: config.policy, builtIn: builtInSettings(config.inspection.e2eDomains), message: facts, recipients, portalEnabled: config.portal.enabled, prefer: config.keys.prefer });
  const transport = await Promise.all(rows.map((r) => caps.transport(r.address, r.domain)));
  let evaluation = evaluate(transport);
  // as the inspector: keys only for recipients whose mail needs protection, then decided again with them
  const withKeys = await Promise.all(transport.map((c, i) => (evaluation.recipients[i]?.protection === 'none' ? c : caps.keys(c))));
  if (withKeys.some((c) => c.pgpKey || c.smimeCertificate)) evaluation = evaluate(withKeys);
  return {
    id: row.id,
    receivedAt: row.received_at,
    then: { protection: then.protection, rules: then.rules, phi: then.phi, categories: then.categories },
    now: { protection: evaluation.baseProtection, rules: [...evaluation.matchedRules], phi: verdict.phi, categories: [...new Set(verdict.findings.map((f) => f.category))] },
    recipients: rows.map((r, i) => ({ seq: r.seq, then: r.method, now: evaluation.recipients[i]?.method ?? 'undecided' })),
  };
}

/**
 * Replays `config`'s policy over the archive entries of the window, newest
 * first, at most `opts.limit` of them. Entries are decided one after
 * another: memory holds one message's extraction and the report (its list
 * of changed entries is bounded). `report` is filled as entries are
 * decided, so a caller still has the counts when the run fails part way.
 * Every row is read in one read snapshot (SqlDatabase.readSnapshot, on
 * SQLite or PostgreSQL): the run sees the archive, probes and keys as they
 * were when it began, and the daemon's writers go on beside it.
 */
export async function replayPolicy(deps: ReplayDeps, config: Config, opts: ReplayOptions, report: ReplayReport = emptyReport()): Promise<ReplayResult> {
  // built once: compiling the custom detectors for every entry would cost more than some inspections
  const profile = inspectionProfile(config.inspection.customDetectors);
  const listLimit = opts.listLimit ?? REPLAY_LIST_LIMIT;
  // one read snapshot for the whole run (entries, recipients, probes, keys): a consistent window that never holds the writers up
  return deps.db.readSnapshot(async (q) => {
    const caps = new Capabilities(q, deps.now);
    let seen = 0;
    let cut = false;
    for await (const row of entriesOf(q, opts)) {
      if (seen >= opts.limit) {
        cut = true;
        break;
      }
      seen++;
      const e = await replayEntry(deps, q, config, profile, caps, row);
      if ('skipped' in e) skipEntry(report, e.skipped);
      else addEntry(report, e, listLimit);
      deps.onProgress?.(seen);
    }
    return { report, cut };
  });
}
