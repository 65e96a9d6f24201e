/**
 * `sealgate nodes [--json]`: the gateway nodes sharing the configured
 * database (src/cluster/nodes.ts) — live, stale or stopped, with their
 * heartbeat, version, listeners and the recipients each holds in flight —
 * and which node runs each one-at-a-time job (src/cluster/job-lease.ts).
 * Works on SQLite (one node lists itself) and PostgreSQL.
 */
import type { Command } from 'commander';
import { jobLeases } from '../../cluster/job-lease.js';
import { listNodes, type NodeRow } from '../../cluster/nodes.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { openCommandStore } from '../command-store.js';
import { loadForCommand } from '../context.js';
import { columns } from './queue-summary.js';

export interface NodesReport {
  readonly at: number;
  readonly heartbeatMs: number;
  readonly nodes: readonly NodeRow[];
  readonly jobs: readonly { readonly name: string; readonly node: string; readonly leaseUntil: number }[];
}

/** Pure: a duration as "42s", "5m", "3h", "2d". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** Pure: the text form. */
export function formatNodes(r: NodesReport): string {
  const live = r.nodes.filter((n) => n.state === 'live').length;
  const out = [`${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}, ${live} live (heartbeat every ${ago(r.heartbeatMs)}; stale after three missed)`];
  if (r.nodes.length > 0) {
    out.push(
      '',
      ...columns([
        ['NODE', 'STATE', 'HEARTBEAT', 'UP', 'VERSION', 'CLAIMED', 'HOST', 'LISTENING'],
        ...r.nodes.map((n) => [n.id, n.state, `${ago(r.at - n.heartbeatAt)} ago`, n.state === 'live' ? ago(r.at - n.startedAt) : '-', n.version, n.claimed, n.hostname, n.address || '-']),
      ]),
    );
  }
  out.push('', 'one-at-a-time jobs:');
  if (r.jobs.length === 0) out.push('  none held yet');
  else out.push(...columns(r.jobs.map((j) => ['  ' + j.name, j.node, j.leaseUntil >= r.at ? `lease ${ago(j.leaseUntil - r.at)} left` : `lease ran out ${ago(r.at - j.leaseUntil)} ago`])));
  return `${out.join('\n')}\n`;
}

export async function nodesReport(db: SqlDatabase, now: number, heartbeatMs: number): Promise<NodesReport> {
  return { at: now, heartbeatMs, nodes: await listNodes(db, now, heartbeatMs), jobs: await jobLeases(db) };
}

export function registerNodes(program: Command): void {
  program
    .command('nodes')
    .description('the gateway nodes sharing the database: live, stale or stopped, heartbeat, version, claimed work')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const db = await openCommandStore(config);
      try {
        const report = await nodesReport(db, Date.now(), config.store.heartbeat);
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatNodes(report));
      } finally {
        await db.close();
      }
    });
}
