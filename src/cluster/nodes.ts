/**
 * The gateway nodes sharing one database (table `nodes`): each running
 * `sealgate start` registers itself when it starts (its id — the one its
 * delivery leases carry —, host name, listening addresses, version), beats
 * every `heartbeatMs` while it runs and says when it stopped cleanly. What
 * `sealgate nodes` lists; a node whose heartbeat is older than three
 * intervals is stale (dead, stalled or cut off from the database), and its
 * delivery work is taken over by the others after its leases run out.
 *
 * A single SQLite node lists itself. Rows of nodes stopped (or stale) for
 * longer than NODE_ROW_KEEP_MS are removed by the next node that starts.
 */
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';

export interface NodeRegistration {
  readonly id: string;
  readonly hostname: string;
  /** The SMTP listeners, e.g. "0.0.0.0:25, 0.0.0.0:587" (bounded to 200 characters). */
  readonly address: string;
  readonly version: string;
}

export type NodeState = 'live' | 'stale' | 'stopped';

export interface NodeRow extends NodeRegistration {
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly stoppedAt: number | null;
  readonly state: NodeState;
  /** Recipients this node has claimed and not finished (in flight under its lease). */
  readonly claimed: number;
}

/** A node's rows are kept this long after it stopped or went stale (a week), for `sealgate nodes` to show what happened. */
export const NODE_ROW_KEEP_MS = 7 * 86_400_000;

/** Pure: the oldest heartbeat of a node still live at `now`: a node is live while its last beat is within three intervals. */
export function liveSince(now: number, heartbeatMs: number): number {
  return now - 3 * heartbeatMs;
}

/** Pure: a node is live while its last heartbeat is within three intervals, stopped once it said so. */
export function nodeState(heartbeatAt: number, stoppedAt: number | null, now: number, heartbeatMs: number): NodeState {
  if (stoppedAt !== null) return 'stopped';
  return heartbeatAt >= liveSince(now, heartbeatMs) ? 'live' : 'stale';
}

/** Records the node as started (a restart with the same id starts afresh) and removes rows of nodes long gone. */
export async function registerNode(db: SqlDatabase, node: NodeRegistration, now: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO nodes (id, hostname, address, version, started_at, heartbeat_at, stopped_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
       ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, address = excluded.address, version = excluded.version,
         started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
      [node.id.slice(0, 200), node.hostname.slice(0, 200), node.address.slice(0, 200), node.version.slice(0, 50), now, now],
    );
    await tx.run('DELETE FROM nodes WHERE id <> ? AND heartbeat_at < ?', [node.id, now - NODE_ROW_KEEP_MS]);
  });
}

/** The node is alive at `now`. False when its row is gone (removed by hand): the caller registers again. */
export async function heartbeat(db: SqlDatabase, id: string, now: number): Promise<boolean> {
  const r = await db.transaction((tx) => tx.run('UPDATE nodes SET heartbeat_at = ?, stopped_at = NULL WHERE id = ?', [now, id]));
  return r.changes === 1;
}

/** The node stopped cleanly at `now`. */
export async function markStopped(db: SqlDatabase, id: string, now: number): Promise<void> {
  await db.transaction((tx) => tx.run('UPDATE nodes SET heartbeat_at = ?, stopped_at = ? WHERE id = ?', [now, now, id]));
}

/** Every known node, live ones first, then by id; with the recipients each holds in flight. */
export async function listNodes(db: SqlQueryable, now: number, heartbeatMs: number): Promise<NodeRow[]> {
  const rows = await db.all<{ id: string; hostname: string; address: string; version: string; started_at: number; heartbeat_at: number; stopped_at: number | null; claimed: number }>(
    `SELECT n.id, n.hostname, n.address, n.version, n.started_at, n.heartbeat_at, n.stopped_at,
            (SELECT COUNT(*) FROM recipients r WHERE r.lease_node = n.id AND r.state = 'in-flight') AS claimed
       FROM nodes n ORDER BY n.id`,
  );
  const order: Record<NodeState, number> = { live: 0, stale: 1, stopped: 2 };
  return rows
    .map((r): NodeRow => {
      const heartbeatAt = Number(r.heartbeat_at);
      const stoppedAt = r.stopped_at === null ? null : Number(r.stopped_at);
      return { id: r.id, hostname: r.hostname, address: r.address, version: r.version, startedAt: Number(r.started_at), heartbeatAt, stoppedAt, state: nodeState(heartbeatAt, stoppedAt, now, heartbeatMs), claimed: Number(r.claimed) };
    })
    .sort((a, b) => order[a.state] - order[b.state] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
