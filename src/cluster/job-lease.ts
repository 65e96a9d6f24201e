/**
 * Work that one node of several must do alone — the alert monitor's pass,
 * the TLS-RPT reports, the pruning and retention sweeps — runs on the node
 * holding the job's lease (table `node_jobs`: the job's name, the node, until
 * when). A node asks before each pass: it holds the lease when no one does,
 * when it held it already (renewed), or when the holder's lease ran out (its
 * node died or stalled). One statement on both databases:
 *
 *   INSERT … ON CONFLICT (name) DO UPDATE … WHERE the row is ours or expired
 *
 * changes one row exactly when this node holds the lease afterwards (the
 * conflict's WHERE false changes none, on SQLite and on PostgreSQL). The
 * row is locked by that statement on PostgreSQL, so two nodes asking at once
 * are decided one after the other: one gets it.
 *
 * A single node (SQLite) always holds every lease; the cost is one small
 * write per pass.
 */
import type { SqlDatabase } from '../db/sql-database.js';

/**
 * The periodic jobs that run on one node at a time (their lease rows'
 * names): done on two nodes they would be done twice — two alert mails for
 * one cause, two TLS reports for one domain and day. The sweeps (finished
 * messages, portal deposits, spool objects) delete what is over and run on
 * every node: two nodes sweeping at once only share the work.
 */
export const SINGLETON_JOBS = ['alerts', 'tlsrpt-reports'] as const;
export type SingletonJob = (typeof SINGLETON_JOBS)[number];

/** Asked before each pass of a one-at-a-time job: true when this node may run it now. */
export type JobGate = () => Promise<boolean>;

/**
 * True when `node` holds `job`'s lease until `now + leaseMs` (taken or
 * renewed); false while another node's lease runs. `leaseMs` should cover a
 * pass and the pause to the next one, so a live holder renews before it ends.
 */
export async function holdJobLease(db: SqlDatabase, job: string, node: string, now: number, leaseMs: number): Promise<boolean> {
  const r = await db.transaction((tx) =>
    tx.run(
      `INSERT INTO node_jobs (name, node_id, lease_until) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET node_id = excluded.node_id, lease_until = excluded.lease_until
       WHERE node_jobs.node_id = excluded.node_id OR node_jobs.lease_until < ?`,
      [job, node, now + leaseMs, now],
    ),
  );
  return r.changes === 1;
}

/** Gives the lease back at a clean stop, so another node takes the job at once instead of after the lease. */
export async function releaseJobLeases(db: SqlDatabase, node: string): Promise<void> {
  await db.transaction((tx) => tx.run('DELETE FROM node_jobs WHERE node_id = ?', [node]));
}

/** Who holds which job (for `sealgate nodes`). */
export async function jobLeases(db: SqlDatabase): Promise<{ name: string; node: string; leaseUntil: number }[]> {
  const rows = await db.all<{ name: string; node_id: string; lease_until: number }>('SELECT name, node_id, lease_until FROM node_jobs ORDER BY name');
  return rows.map((r) => ({ name: r.name, node: r.node_id, leaseUntil: Number(r.lease_until) }));
}

/**
 * The gate of one job for one node: holds (takes or renews) the job's lease
 * for `leaseMs()` at each call. A database that does not answer means "not
 * now" (reported to `onError`): the pass is skipped, never run unguarded.
 */
export function jobGate(db: SqlDatabase, job: SingletonJob, node: string, leaseMs: () => number, now: () => number, onError: (err: unknown) => void): JobGate {
  return async () => {
    try {
      return await holdJobLease(db, job, node, now(), leaseMs());
    } catch (err) {
      onError(err);
      return false;
    }
  };
}
