/**
 * Evidence exports started from the console, run inside the daemon.
 *
 * The same signed ZIP as `sealgate archive export` (src/archive/export.ts),
 * so `sealgate archive verify-export` accepts it, and the same audit record
 * (`archive:exported`, via "console"), written before the export can be
 * downloaded. Bounded: one running export per user and a few in all and at
 * most a few waiting for download per user (admission, pure), readable only
 * by the user who started it, and removed after its download or once it is
 * `keepMs` old (sweep).
 *
 * Shared by every node on one database (docs/console.md "Export"), so its
 * page and its download answer on any node behind a load balancer:
 *
 *   - The job is a row of `console_exports` (src/db/schema.ts): the node running
 *     it writes its progress there (at most once a second) and its outcome.
 *     Admission reads the rows inside a transaction holding one advisory
 *     lock (LOCK_SPACES.consoleExports; on SQLite the write transaction is
 *     alone anyway), so the limits hold across nodes.
 *   - The ZIP is written to a temporary file under `dir` (dataDir/exports,
 *     0700; the file 0600), then stored encrypted — the spool's SGSPOOL1
 *     stream (src/spool/crypt-stream.ts), a data key of its own wrapped by
 *     the master key, the export id bound into every tag — as the object
 *     `exports/<id>` before the row says `done`, and the file removed. The
 *     object store never holds the plaintext; any node decrypts it while it
 *     sends the download.
 *   - A running row whose node is no longer live (stopped, or without a
 *     heartbeat for three intervals: src/cluster/nodes.ts liveSince) is
 *     shown as failed, and the sweep (any node; idempotent) marks it so. A
 *     node marks its own running rows failed when it stops, and at start a
 *     node on SQLite (the only one on its file) marks every running row.
 *
 * writeExport reads inside one read snapshot (`readSnapshot`: on SQLite a
 * read transaction on a connection of its own, so an export never holds up
 * the gateway's writes; on PostgreSQL REPEATABLE READ on a pooled
 * connection). The audit record is a transaction of its own.
 *
 * Side effects are injected: clock, randomness, databases, object store, log.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { appendAudit } from '../../audit/log.js';
import { ExportError, writeExport, type ExportProgress } from '../../archive/export.js';
import { filterNames, type parseSearch, type RawSearch } from '../../archive/search.js';
import { loadOrCreateSigningKey } from '../../archive/signing-key.js';
import { liveSince } from '../../cluster/nodes.js';
import type { StageOwner } from '../../cluster/ownership.js';
import type { Keyring } from '../../crypto/keyring.js';
import { LOCK_SPACES, lockKey, type SqlDatabase, type SqlValue } from '../../db/sql-database.js';
import { isSealgateError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { ObjectStore } from '../../objects/object-store.js';
import { createDecryptStream, createEncryptStream } from '../../spool/crypt-stream.js';

export interface ExportLimits {
  /** Running exports per user. */
  readonly perUser: number;
  /** Running exports in all (every node). */
  readonly total: number;
  /** Exports a user may have at once, running or waiting for download (each an object in the store). */
  readonly keptPerUser: number;
  /** A finished export (its object and its page) is removed this long after it finished, downloaded or not. */
  readonly keepMs: number;
  /** Most entries one console export holds (export.ts MAX_EXPORT_ENTRIES when absent). */
  readonly maxEntries?: number | undefined;
}

export const DEFAULT_EXPORT_LIMITS: ExportLimits = { perUser: 1, total: 3, keptPerUser: 5, keepMs: 4 * 3600_000 };

/** The running node writes an export's progress to its row at most this often. */
export const PROGRESS_WRITE_MS = 1000;

/** The most exports the form lists for one user. */
const LISTED = 50;

export type ExportState = 'running' | 'done' | 'failed';

/** An export as its pages show it (from its row). */
export interface ExportJob {
  readonly id: string;
  readonly owner: string;
  readonly content: boolean;
  readonly startedAt: number;
  readonly state: ExportState;
  /** Messages to write (content exports), known once the entries are selected. */
  readonly total: number | undefined;
  readonly done: number;
  /** ZIP bytes written so far; once done, the ZIP's size. */
  readonly bytes: number;
  readonly finishedAt?: number;
  readonly entries?: number;
  readonly messages?: number;
  readonly manifestSha256?: string;
  /** Why it failed: one line for the user, no message content. */
  readonly problem?: string;
}

/** Why a running export whose node is no longer live failed. */
export const NODE_GONE = 'the node running it stopped; start it again.';
/** Why an export still running when its node stopped failed. */
export const STOPPED = 'the gateway stopped while it ran; start it again.';

/** Pure: whether `owner` may start an export now, given the jobs there are. */
export function admission(jobs: readonly Pick<ExportJob, 'owner' | 'state'>[], owner: string, limits: Pick<ExportLimits, 'perUser' | 'total' | 'keptPerUser'>): 'ok' | 'user-busy' | 'user-full' | 'busy' {
  const running = jobs.filter((j) => j.state === 'running');
  if (running.filter((j) => j.owner === owner).length >= limits.perUser) return 'user-busy';
  if (jobs.filter((j) => j.owner === owner && j.state !== 'failed').length >= limits.keptPerUser) return 'user-full';
  if (running.length >= limits.total) return 'busy';
  return 'ok';
}

/** Pure: whether a job is to be removed at `now` (finished `keepMs` ago; a running one never). */
export function expired(job: Pick<ExportJob, 'state' | 'finishedAt'>, now: number, keepMs: number): boolean {
  return job.state !== 'running' && job.finishedAt !== undefined && now - job.finishedAt >= keepMs;
}

/** Export ids: 16 random bytes as hex (the URL and the object key; not guessable, and only the owner may use it anyway). */
export const EXPORT_ID = /^[0-9a-f]{32}$/;

/** The object holding an export's encrypted ZIP. */
export function exportObjectKey(id: string): string {
  if (!EXPORT_ID.test(id)) throw new RangeError('not an export id');
  return `exports/${id}`;
}

/** The context bound into the encrypted ZIP's tags: its object is readable as this export's only. */
const cryptContext = (id: string): string => `console-export:${id}`;

/**
 * Pure: the SQL condition (over `console_exports` as `alias`) that a row's
 * node is live at `now` — this node, or one with a recent heartbeat and no
 * clean stop — and its parameters. Without a node (no heartbeats: a test's
 * console) every node counts as live.
 */
export function liveNodeCondition(node: StageOwner | undefined, now: number, alias: string): { readonly sql: string; readonly params: readonly SqlValue[] } {
  if (!node) return { sql: '1 = 1', params: [] };
  return {
    sql: `(${alias}.node_id = ? OR EXISTS (SELECT 1 FROM nodes n WHERE n.id = ${alias}.node_id AND n.stopped_at IS NULL AND n.heartbeat_at >= ?))`,
    params: [node.id, liveSince(now, node.heartbeatMs())],
  };
}

/** A row of console_exports as read, with whether its node is live. */
export interface ExportRow {
  readonly id: string;
  readonly owner: string;
  readonly content: number;
  readonly state: string;
  readonly started_at: number | string;
  readonly finished_at: number | string | null;
  readonly total: number | string | null;
  readonly done: number | string;
  readonly bytes: number | string;
  readonly entries: number | string | null;
  readonly messages: number | string | null;
  readonly manifest_sha256: string | null;
  readonly problem: string | null;
  readonly live: number | string | boolean;
}

const num = (v: number | string | null): number | undefined => (v === null ? undefined : Number(v));

/** Pure: the job a row shows. A running row whose node is no longer live is failed (NODE_GONE); an unknown state too. */
export function jobOfRow(r: ExportRow): ExportJob {
  const live = r.live === true || Number(r.live) === 1;
  const known = r.state === 'running' || r.state === 'done' || r.state === 'failed';
  const gone = r.state === 'running' && !live;
  const state: ExportState = gone || !known ? 'failed' : (r.state as ExportState);
  const finishedAt = num(r.finished_at);
  const entries = num(r.entries);
  const messages = num(r.messages);
  const problem = gone ? NODE_GONE : (r.problem ?? (known ? undefined : 'unknown state'));
  return {
    id: r.id,
    owner: r.owner,
    content: Number(r.content) === 1,
    startedAt: Number(r.started_at),
    state,
    total: num(r.total),
    done: Number(r.done),
    bytes: Number(r.bytes),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    ...(entries !== undefined ? { entries } : {}),
    ...(messages !== undefined ? { messages } : {}),
    ...(r.manifest_sha256 !== null ? { manifestSha256: r.manifest_sha256 } : {}),
    ...(state === 'failed' && problem !== undefined ? { problem } : {}),
  };
}

export interface ExportJobsDeps {
  /** The gateway's database: the jobs, the signing key, the export's reads (one snapshot), the audit record. */
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  /** The archive's object store: the messages read, and the encrypted ZIPs (exports/<id>). */
  readonly objects: ObjectStore;
  /** Where the ZIPs are written before they are encrypted into the object store (dataDir/exports). */
  readonly dir: string;
  /**
   * This node (its id in `nodes`, its heartbeat interval): a running job of
   * a node no longer live is failed. Absent (no heartbeats): every node counts
   * as live, and this one's id is drawn at random.
   */
  readonly node?: StageOwner | undefined;
  readonly now: () => number;
  readonly random: (n: number) => Buffer;
  readonly log: Logger;
  readonly limits?: Partial<ExportLimits> | undefined;
}

export interface StartRequest {
  readonly owner: string;
  readonly content: boolean;
  /** The filters as given (names and values go in the manifest; the audit record has the names). */
  readonly raw: RawSearch;
  readonly search: ReturnType<typeof parseSearch>;
}

export type StartOutcome = { ok: true; job: ExportJob } | { ok: false; reason: 'user-busy' | 'user-full' | 'busy' | 'closed' };

const COLUMNS = 'e.id, e.owner, e.content, e.state, e.started_at, e.finished_at, e.total, e.done, e.bytes, e.entries, e.messages, e.manifest_sha256, e.problem';

export class ExportJobs {
  private readonly running = new Set<Promise<void>>();
  readonly limits: ExportLimits;
  private readonly nodeId: string;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: ExportJobsDeps) {
    this.limits = { ...DEFAULT_EXPORT_LIMITS, ...deps.limits };
    this.nodeId = deps.node?.id ?? `console/${deps.random(8).toString('hex')}`;
  }

  /**
   * Creates the directory (0700) and removes the temporary files an earlier
   * run left; marks this node's running jobs failed (on SQLite, the only node
   * on its file, every running job: they are an earlier run's).
   */
  async init(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.deps.dir)) {
      if (name.endsWith('.zip') || name.endsWith('.partial')) await unlink(join(this.deps.dir, name)).catch(() => undefined);
    }
    const { db } = this.deps;
    const mine = db.dialect === 'sqlite' ? '' : ' AND node_id = ?';
    await db.transaction((tx) => tx.run(`UPDATE console_exports SET state = 'failed', problem = ?, finished_at = ? WHERE state = 'running'${mine}`, [STOPPED, this.deps.now(), ...(mine ? [this.nodeId] : [])]));
    this.sweeper = setInterval(() => void this.sweep().catch((err: unknown) => this.failed('CONSOLE_EXPORT_SWEEP_FAILED', err)), 10 * 60_000);
    this.sweeper.unref();
  }

  /** Starts an export, or says why not. The job runs on; its page reads `get` (on any node). */
  async start(request: StartRequest): Promise<StartOutcome> {
    if (this.closed) return { ok: false, reason: 'closed' };
    const id = this.deps.random(16).toString('hex');
    if (!EXPORT_ID.test(id)) throw new RangeError('random source returned too few bytes');
    const now = this.deps.now();
    const live = liveNodeCondition(this.deps.node, now, 'e');
    const verdict = await this.deps.db.transaction(async (tx) => {
      // one admission at a time across nodes: the counts below stay true until this commits
      await lockKey(tx, LOCK_SPACES.consoleExports, 'admission');
      const rows = await tx.all<ExportRow>(`SELECT ${COLUMNS}, CASE WHEN ${live.sql} THEN 1 ELSE 0 END AS live FROM console_exports e WHERE e.state = 'running' OR e.owner = ?`, [...live.params, request.owner]);
      const v = admission(rows.map(jobOfRow), request.owner, this.limits);
      if (v === 'ok') {
        await tx.run("INSERT INTO console_exports (id, owner, content, node_id, state, started_at, done, bytes) VALUES (?, ?, ?, ?, 'running', ?, 0, 0)", [id, request.owner, request.content ? 1 : 0, this.nodeId, now]);
      }
      return v;
    });
    if (verdict !== 'ok') return { ok: false, reason: verdict };
    const job: ExportJob = { id, owner: request.owner, content: request.content, startedAt: now, state: 'running', total: undefined, done: 0, bytes: 0 };
    const run = this.run(job, request).finally(() => this.running.delete(run));
    this.running.add(run);
    return { ok: true, job };
  }

  /** The job `id` if `owner` started it (anyone else: as if there were none). */
  async get(id: string, owner: string): Promise<ExportJob | undefined> {
    if (!EXPORT_ID.test(id)) return undefined;
    const live = liveNodeCondition(this.deps.node, this.deps.now(), 'e');
    const row = await this.deps.db.get<ExportRow>(`SELECT ${COLUMNS}, CASE WHEN ${live.sql} THEN 1 ELSE 0 END AS live FROM console_exports e WHERE e.id = ? AND e.owner = ?`, [...live.params, id, owner]);
    return row ? jobOfRow(row) : undefined;
  }

  /** The owner's jobs, newest first (the latest LISTED). */
  async of(owner: string): Promise<ExportJob[]> {
    const live = liveNodeCondition(this.deps.node, this.deps.now(), 'e');
    const rows = await this.deps.db.all<ExportRow>(
      `SELECT ${COLUMNS}, CASE WHEN ${live.sql} THEN 1 ELSE 0 END AS live FROM console_exports e WHERE e.owner = ? ORDER BY e.started_at DESC, e.id LIMIT ?`,
      [...live.params, owner, LISTED],
    );
    return rows.map(jobOfRow);
  }

  /**
   * A finished job's ZIP, decrypted as it is read from the object store;
   * undefined when its object is gone (the job is removed then). An error
   * reading or authenticating it errors the stream.
   */
  async open(job: ExportJob): Promise<Readable | undefined> {
    const key = exportObjectKey(job.id);
    if (!(await this.deps.objects.exists(key))) {
      await this.remove(job);
      return undefined;
    }
    const source = this.deps.objects.get(key);
    const plain = createDecryptStream(this.deps.keyring, cryptContext(job.id));
    source.on('error', (err) => plain.destroy(err));
    plain.on('close', () => source.destroy());
    return source.pipe(plain);
  }

  /** Removes a job's object, then its row (after its download; idempotent, from any node). */
  async remove(job: Pick<ExportJob, 'id'>): Promise<void> {
    await this.deps.objects.delete(exportObjectKey(job.id));
    await this.deps.db.transaction((tx) => tx.run('DELETE FROM console_exports WHERE id = ?', [job.id]));
  }

  /**
   * Marks failed the running jobs of nodes no longer live, and removes the
   * jobs finished `keepMs` ago with their objects. Any node, any number at
   * once: every step is idempotent. A removal that fails (the object store
   * away) is logged and tried again at the next sweep.
   */
  async sweep(): Promise<void> {
    const { db, node } = this.deps;
    const now = this.deps.now();
    if (node) {
      const live = liveNodeCondition(node, now, 'console_exports');
      await db.transaction((tx) => tx.run(`UPDATE console_exports SET state = 'failed', problem = ?, finished_at = ? WHERE state = 'running' AND NOT ${live.sql}`, [NODE_GONE, now, ...live.params]));
    }
    const rows = await db.all<{ id: string; state: string; finished_at: number | string | null }>("SELECT id, state, finished_at FROM console_exports WHERE state <> 'running'");
    for (const r of rows) {
      const finishedAt = num(r.finished_at);
      if (!expired({ state: r.state === 'done' ? 'done' : 'failed', ...(finishedAt !== undefined ? { finishedAt } : {}) }, now, this.limits.keepMs)) continue;
      await this.remove(r).catch((err: unknown) => this.failed('CONSOLE_EXPORT_SWEEP_FAILED', err));
    }
  }

  /**
   * Stops taking exports and waits a little for the running ones (their
   * audit record needs the daemon's connection), then marks this node's
   * jobs still running failed (best effort: one that ends later finds its
   * row failed and removes its object).
   */
  async close(waitMs = 10_000): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    if (this.running.size > 0) {
      await this.deps.db
        .transaction((tx) => tx.run("UPDATE console_exports SET state = 'failed', problem = ?, finished_at = ? WHERE state = 'running' AND node_id = ?", [STOPPED, this.deps.now(), this.nodeId]))
        .catch(() => undefined);
    }
  }

  private failed(event: 'CONSOLE_EXPORT_FAILED' | 'CONSOLE_EXPORT_PROGRESS_FAILED' | 'CONSOLE_EXPORT_SWEEP_FAILED', err: unknown): void {
    const what = { CONSOLE_EXPORT_FAILED: 'console export failed', CONSOLE_EXPORT_PROGRESS_FAILED: 'console export progress not recorded', CONSOLE_EXPORT_SWEEP_FAILED: 'console export sweep failed; the next sweep tries again' }[event];
    // the error's code only: never a path, a key or content
    this.deps.log.error({ event, reason: isSealgateError(err) ? err.code : undefined, errno: typeof (err as { code?: unknown }).code === 'string' ? String((err as { code: string }).code).slice(0, 64) : undefined }, what);
  }

  /** Progress to the row, at most once every PROGRESS_WRITE_MS and one write at a time (a running row only). */
  private progressWriter(id: string): { report: (p: ExportProgress) => void; settled: () => Promise<void> } {
    let last = Number.NEGATIVE_INFINITY;
    let writing: Promise<void> | undefined;
    return {
      report: (p) => {
        const at = this.deps.now();
        if (writing || at - last < PROGRESS_WRITE_MS) return;
        last = at;
        writing = this.deps.db
          .transaction((tx) => tx.run("UPDATE console_exports SET total = ?, done = ?, bytes = ? WHERE id = ? AND state = 'running'", [p.entries, p.done, p.bytes, id]))
          .then(
            () => undefined,
            (err: unknown) => this.failed('CONSOLE_EXPORT_PROGRESS_FAILED', err),
          )
          .finally(() => (writing = undefined));
      },
      settled: async () => {
        await writing;
      },
    };
  }

  /** Encrypts the finished ZIP into the object store (SGSPOOL1, its own data key under the master key). */
  private async upload(id: string, file: string): Promise<void> {
    const source = createReadStream(file);
    const sealed = createEncryptStream(this.deps.keyring, cryptContext(id));
    source.on('error', (err) => sealed.destroy(err));
    await this.deps.objects.put(exportObjectKey(id), source.pipe(sealed));
  }

  private async run(job: ExportJob, request: StartRequest): Promise<void> {
    const { deps } = this;
    const file = join(deps.dir, `${job.id}.zip`);
    const key = exportObjectKey(job.id);
    const progress = this.progressWriter(job.id);
    try {
      const now = deps.now();
      const signingKey = await loadOrCreateSigningKey(deps.db, deps.keyring, now);
      const searchText = Object.fromEntries(Object.entries(request.raw).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'after'));
      const result = await writeExport({
        db: deps.db,
        keyring: deps.keyring,
        objects: deps.objects,
        key: signingKey,
        search: request.search,
        searchText,
        out: file,
        content: request.content,
        operator: job.owner,
        now,
        ...(this.limits.maxEntries !== undefined ? { maxEntries: this.limits.maxEntries } : {}),
        onProgress: progress.report,
        // recorded before the export can be downloaded (its row says done after this): no export leaves without its audit record
        beforePublish: async (r) => {
          await appendAudit(
            deps.db,
            { type: 'archive:exported', data: { operator: job.owner, via: 'console', filters: filterNames(request.raw), entries: r.entries, content: request.content ? 'yes' : 'no', sha256: r.manifestSha256 } },
            deps.now(),
          );
        },
      });
      await this.upload(job.id, file);
      await progress.settled();
      const marked = await deps.db.transaction((tx) =>
        tx.run(
          "UPDATE console_exports SET state = 'done', total = ?, done = ?, entries = ?, messages = ?, manifest_sha256 = ?, bytes = ?, finished_at = ? WHERE id = ? AND state = 'running'",
          [result.messages, result.messages, result.entries, result.messages, result.manifestSha256, result.bytes, deps.now(), job.id],
        ),
      );
      // failed meanwhile (this node taken for gone, or stopping) or removed: its object goes too
      if (marked.changes !== 1) await deps.objects.delete(key);
    } catch (err) {
      const problem = err instanceof ExportError ? err.message : 'the export failed; nothing was written. Try again; if it goes on, tell the gateway administrator.';
      if (!(err instanceof ExportError)) this.failed('CONSOLE_EXPORT_FAILED', err);
      await progress.settled();
      await deps.db.transaction((tx) => tx.run("UPDATE console_exports SET state = 'failed', problem = ?, finished_at = ? WHERE id = ? AND state = 'running'", [problem, deps.now(), job.id])).catch((e: unknown) => this.failed('CONSOLE_EXPORT_FAILED', e));
      await deps.objects.delete(key).catch(() => undefined);
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }
}
