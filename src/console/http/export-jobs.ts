/**
 * Evidence exports started from the console, run inside the daemon.
 *
 * The same signed ZIP as `sealgate archive export` (src/archive/export.ts),
 * so `sealgate archive verify-export` accepts it, and the same audit record
 * (`archive:exported`, via "console"), written before the file appears under
 * its name. Bounded: one running export per user and a few in all
 * and at most a few waiting for download per user (admission, pure); each ZIP is written under dataDir/exports (directory
 * 0700, file 0600), readable only by the user who started it, and removed
 * after its download or once it is `keepMs` old (sweep). The jobs live in
 * memory: a restart forgets them, and `init` removes the files they left.
 *
 * writeExport reads inside one read snapshot (`readSnapshot`: on SQLite a
 * read transaction on a connection of its own, so an export never holds up
 * the gateway's writes; on PostgreSQL REPEATABLE READ on a pooled
 * connection). The audit record is a transaction of its own.
 *
 * With several nodes, an export's job and its file are the node's that ran
 * it: its page and its download answer on that node only (docs/console.md).
 *
 * Side effects are injected: clock, randomness, databases, log.
 */
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { appendAudit } from '../../audit/log.js';
import { ExportError, writeExport, type ExportProgress } from '../../archive/export.js';
import { filterNames, type parseSearch, type RawSearch } from '../../archive/search.js';
import { loadOrCreateSigningKey } from '../../archive/signing-key.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { isSealgateError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { ObjectStore } from '../../objects/object-store.js';

export interface ExportLimits {
  /** Running exports per user. */
  readonly perUser: number;
  /** Running exports in all. */
  readonly total: number;
  /** Exports a user may have at once, running or waiting for download (each is a file on the gateway's disk). */
  readonly keptPerUser: number;
  /** A finished export (its file and its page) is removed this long after it finished, downloaded or not. */
  readonly keepMs: number;
  /** Most entries one console export holds (export.ts MAX_EXPORT_ENTRIES when absent). */
  readonly maxEntries?: number | undefined;
}

export const DEFAULT_EXPORT_LIMITS: ExportLimits = { perUser: 1, total: 3, keptPerUser: 5, keepMs: 4 * 3600_000 };

export type ExportState = 'running' | 'done' | 'failed';

export interface ExportJob {
  readonly id: string;
  readonly owner: string;
  readonly content: boolean;
  readonly startedAt: number;
  readonly file: string;
  state: ExportState;
  /** Messages to write (content exports), known once the entries are selected. */
  total: number | undefined;
  done: number;
  bytes: number;
  finishedAt?: number;
  entries?: number;
  messages?: number;
  manifestSha256?: string;
  /** Why it failed: one line for the user, no message content. */
  problem?: string;
}

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

/** Export ids: 16 random bytes as hex (the file name and the URL; not guessable, and only the owner may use it anyway). */
export const EXPORT_ID = /^[0-9a-f]{32}$/;

export interface ExportJobsDeps {
  /** The gateway's database: the signing key, the export's reads (one snapshot), the audit record. */
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  readonly objects: ObjectStore;
  /** Where the ZIPs are written (dataDir/exports). */
  readonly dir: string;
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

export class ExportJobs {
  private readonly jobs = new Map<string, ExportJob>();
  private readonly running = new Set<Promise<void>>();
  readonly limits: ExportLimits;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: ExportJobsDeps) {
    this.limits = { ...DEFAULT_EXPORT_LIMITS, ...deps.limits };
  }

  /** Creates the directory (0700) and removes files an earlier run left (its jobs are forgotten). */
  async init(): Promise<void> {
    await mkdir(this.deps.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.deps.dir)) {
      if (name.endsWith('.zip') || name.endsWith('.partial')) await unlink(join(this.deps.dir, name)).catch(() => undefined);
    }
    this.sweeper = setInterval(() => void this.sweep(), 10 * 60_000);
    this.sweeper.unref();
  }

  /** Starts an export, or says why not. The job runs on; its page reads `get`. */
  start(request: StartRequest): { ok: true; job: ExportJob } | { ok: false; reason: 'user-busy' | 'user-full' | 'busy' | 'closed' } {
    if (this.closed) return { ok: false, reason: 'closed' };
    const verdict = admission([...this.jobs.values()], request.owner, this.limits);
    if (verdict !== 'ok') return { ok: false, reason: verdict };
    const id = this.deps.random(16).toString('hex');
    if (!EXPORT_ID.test(id)) throw new RangeError('random source returned too few bytes');
    const job: ExportJob = { id, owner: request.owner, content: request.content, startedAt: this.deps.now(), file: join(this.deps.dir, `${id}.zip`), state: 'running', total: undefined, done: 0, bytes: 0 };
    this.jobs.set(id, job);
    const run = this.run(job, request).finally(() => this.running.delete(run));
    this.running.add(run);
    return { ok: true, job };
  }

  /** The job `id` if `owner` started it (anyone else: as if there were none). */
  get(id: string, owner: string): ExportJob | undefined {
    const job = EXPORT_ID.test(id) ? this.jobs.get(id) : undefined;
    return job && job.owner === owner ? job : undefined;
  }

  /** The owner's jobs, newest first. */
  of(owner: string): ExportJob[] {
    return [...this.jobs.values()].filter((j) => j.owner === owner).sort((a, b) => b.startedAt - a.startedAt);
  }

  /** Removes a job and its file (after its download). */
  async remove(job: ExportJob): Promise<void> {
    this.jobs.delete(job.id);
    await unlink(job.file).catch(() => undefined);
  }

  /** Removes the jobs finished `keepMs` ago, with their files. */
  async sweep(): Promise<void> {
    const now = this.deps.now();
    for (const job of [...this.jobs.values()]) if (expired(job, now, this.limits.keepMs)) await this.remove(job);
  }

  /**
   * Stops taking exports and waits a little for the running ones (their
   * audit record needs the daemon's connection). One still running after
   * `waitMs` fails when that connection closes: its file never appears.
   */
  async close(waitMs = 10_000): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private async run(job: ExportJob, request: StartRequest): Promise<void> {
    const { deps } = this;
    try {
      const now = deps.now();
      const key = await loadOrCreateSigningKey(deps.db, deps.keyring, now);
      const searchText = Object.fromEntries(Object.entries(request.raw).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'after'));
      const result = await writeExport({
        db: deps.db,
        keyring: deps.keyring,
        objects: deps.objects,
        key,
        search: request.search,
        searchText,
        out: job.file,
        content: request.content,
        operator: job.owner,
        now,
        ...(this.limits.maxEntries !== undefined ? { maxEntries: this.limits.maxEntries } : {}),
        onProgress: (p: ExportProgress) => {
          job.total = p.entries;
          job.done = p.done;
          job.bytes = p.bytes;
        },
        // recorded before the file appears under its name: no export leaves without its audit record
        beforePublish: async (r) => {
          await appendAudit(
            deps.db,
            { type: 'archive:exported', data: { operator: job.owner, via: 'console', filters: filterNames(request.raw), entries: r.entries, content: request.content ? 'yes' : 'no', sha256: r.manifestSha256 } },
            deps.now(),
          );
        },
      });
      Object.assign(job, { state: 'done', entries: result.entries, messages: result.messages, manifestSha256: result.manifestSha256, bytes: result.bytes, finishedAt: deps.now() });
    } catch (err) {
      const problem = err instanceof ExportError ? err.message : 'the export failed; nothing was written. Try again; if it goes on, tell the gateway administrator.';
      if (!(err instanceof ExportError)) {
        deps.log.error({ event: 'CONSOLE_EXPORT_FAILED', reason: isSealgateError(err) ? err.code : undefined, errno: typeof (err as { code?: unknown }).code === 'string' ? String((err as { code: string }).code).slice(0, 64) : undefined }, 'console export failed');
      }
      Object.assign(job, { state: 'failed', problem, finishedAt: deps.now() });
      await unlink(job.file).catch(() => undefined);
    }
  }
}
