/**
 * Which queued messages a node's inspection and archive stages take, with
 * several nodes on one PostgreSQL: the mail it accepted itself
 * (`messages.accepted_by`), mail no node owns (rows from before migration
 * 29), and the mail of a node that is no longer live — stopped, or without
 * a heartbeat for three intervals (src/cluster/nodes.ts) — so a dead node's
 * accepted mail is inspected and archived by the others. Without this every
 * node would inspect every message (the stages' writes are idempotent, but
 * the work would be done once per node).
 *
 * On SQLite one node owns the file: no condition (a restarted node takes
 * its previous run's mail at once).
 */
import type { Dialect, SqlValue } from '../db/sql-database.js';
import { liveSince } from './nodes.js';

/** The node whose stages select messages, and its heartbeat interval (for "no longer live"). */
export interface StageOwner {
  readonly id: string;
  readonly heartbeatMs: () => number;
}

/**
 * Pure: the condition (to AND onto a WHERE over `messages`, as `alias`)
 * and its parameters. Empty on SQLite or without an owner.
 */
export function ownedMessages(dialect: Dialect, owner: StageOwner | undefined, now: number, alias = 'messages'): { readonly sql: string; readonly params: readonly SqlValue[] } {
  if (dialect === 'sqlite' || owner === undefined) return { sql: '', params: [] };
  return {
    sql: ` AND (${alias}.accepted_by IS NULL OR ${alias}.accepted_by = ? OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = ${alias}.accepted_by AND n.stopped_at IS NULL AND n.heartbeat_at >= ?))`,
    params: [owner.id, liveSince(now, owner.heartbeatMs())],
  };
}
