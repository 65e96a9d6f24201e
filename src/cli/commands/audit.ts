/**
 * `sealgate audit verify|tail`: check the hash chain, show recent events. On
 * either database (store.kind: sqlite | postgres): with several nodes there is
 * one chain, which every node appends to (docs/scale-out.md), so verifying
 * it checks every node's events. The chain is read in one snapshot.
 */
import type { Command } from 'commander';
import { tailAudit, verifyAuditChain } from '../../audit/log.js';
import { openCommandStore } from '../command-store.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand } from '../context.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('recompute the hash chain; exit 1 and name the first broken event if any was altered or removed')
    .action(async (_opts: unknown, cmd: Command) => {
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        // one snapshot: events nodes append meanwhile are not half read
        const result = await db.readSnapshot((q) => verifyAuditChain(q));
        if (result.ok) {
          process.stdout.write(`audit chain OK: ${result.count} events, last hash ${result.lastHash}\n`);
          return;
        }
        throw new CliExit(EXIT_FAILURE, `audit chain BROKEN at event #${result.brokenAt} (${result.reason}): that event or its predecessor was altered or removed; ${result.count} events before it verify`);
      } finally {
        await db.close();
      }
    });
  audit
    .command('tail')
    .description('print the most recent audit events')
    .option('-n, --lines <count>', 'how many events', '20')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { lines: string; json?: boolean }, cmd: Command) => {
      const lines = Number(opts.lines);
      if (!Number.isInteger(lines) || lines < 1 || lines > 100_000) throw new CliExit(EXIT_USAGE, '--lines must be a whole number from 1 to 100000');
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        for (const e of await tailAudit(db, lines)) {
          if (opts.json) process.stdout.write(`${JSON.stringify(e)}\n`);
          else process.stdout.write(`#${e.seq} ${new Date(e.ts).toISOString()} ${e.type} ${JSON.stringify(e.data)}\n`);
        }
      } finally {
        await db.close();
      }
    });
}
