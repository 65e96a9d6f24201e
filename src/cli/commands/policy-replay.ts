/**
 * `sealgate policy replay [--since T] [--until T] [--config NEW.yaml]
 * [--limit N] [--json]`: re-decides archived messages under a proposed
 * config (or the current one) and reports what would change — per method,
 * per rule, protection rising or falling, and the changed entries by queue
 * id (docs/policy.md, "Replaying policy over the archive").
 *
 * It opens archived content (inside this process only: nothing of it is
 * printed), so the run is recorded as one `policy:replayed` audit event with
 * the operator, the window and the counts — written after the run, and also
 * when the run fails part way, before anything is printed.
 *
 * On either database (docs/scale-out.md "Operator commands on PostgreSQL"):
 * on PostgreSQL every node's archive entries, read in one snapshot, their
 * content from the shared object store (objects.kind: s3), the event in the
 * one audit chain.
 *
 * `--config` after `replay` names the PROPOSED config. The gateway's own
 * config — whose database, master keys and archive are read — is the
 * program's `-c/--config` before the command (`sealgate -c gw.yaml policy
 * replay --config new.yaml`), or `-c` after `replay` (`sealgate policy
 * replay --config new.yaml -c gw.yaml`). Commander tells them apart: the
 * program parses its options positionally (main.ts), so everything after
 * `replay` is this command's, where `--config` and `-c` are two options.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendAuditEvent } from '../../audit/log.js';
import { parseTime, SearchInputError } from '../../archive/search.js';
import { loadConfig } from '../../config/load.js';
import { openKeyring } from '../../runtime/stores.js';
import { openCommandStore, requireSharedObjects } from '../command-store.js';
import { openObjectStore, type OpenedObjectStore } from '../../objects/open.js';
import { emptyReport, formatReplayReport, type ReplayWindow } from '../../policy/replay-report.js';
import { DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT, replayPolicy } from '../../policy/replay.js';
import { CliExit, EXIT_USAGE, operatorName } from '../context.js';

/**
 * The gateway's config (`-c` after `replay`, else the program's or
 * `policy`'s `-c/--config`) and the proposed one (`--config` after
 * `replay`), from the parsed command. The gateway's given both before and
 * after `replay`, differently, is refused: which one was meant?
 */
export function replayConfigPaths(cmd: Command): { current?: string; proposed?: string } {
  const own = cmd.opts<{ c?: string; config?: string }>();
  const before = cmd.parent?.optsWithGlobals<{ config?: string }>().config;
  if (own.c !== undefined && before !== undefined && own.c !== before) {
    throw new CliExit(EXIT_USAGE, 'the gateway\'s config is given twice (-c before "policy" and -c after "replay"): give it once; --config after "replay" is the proposed config');
  }
  const current = own.c ?? before;
  return { ...(current !== undefined ? { current } : {}), ...(own.config !== undefined ? { proposed: own.config } : {}) };
}

function parseLimit(text: string): number {
  if (!/^\d{1,7}$/.test(text.trim())) throw new CliExit(EXIT_USAGE, `--limit: a whole number from 1 to ${MAX_REPLAY_LIMIT}`);
  const n = Number(text.trim());
  if (n < 1 || n > MAX_REPLAY_LIMIT) throw new CliExit(EXIT_USAGE, `--limit: a whole number from 1 to ${MAX_REPLAY_LIMIT}`);
  return n;
}

function window(opts: { since: string; until?: string }, now: number): { since: number; until: number | undefined } {
  try {
    const since = parseTime(opts.since, now, 'since');
    const until = opts.until !== undefined ? parseTime(opts.until, now, 'until') : undefined;
    if (until !== undefined && since >= until) throw new CliExit(EXIT_USAGE, '--since must be before --until');
    return { since, until };
  } catch (err) {
    if (err instanceof SearchInputError) throw new CliExit(EXIT_USAGE, err.message);
    throw err;
  }
}

export function registerPolicyReplay(policy: Command): void {
  policy
    .command('replay')
    .description('re-decide archived messages under a proposed config (or the current one) and report what would change; opens archived content inside this process only (audited)')
    .option('--since <time>', 'entries received at or after: 2026-12-01, 2026-12-01T08:30:00Z, or ago: 12h, 7d, 2w', '7d')
    .option('--until <time>', 'entries received before (same forms as --since)')
    .option('--config <file>', 'the PROPOSED config (its policy, inspection, portal and keys.prefer); default: the gateway\'s own')
    .option('-c <file>', 'the gateway\'s own config (database, keys, archive), as -c before "policy"')
    .option('--limit <n>', `entries re-decided at most, newest first (1 to ${MAX_REPLAY_LIMIT})`, String(DEFAULT_REPLAY_LIMIT))
    .option('--json', 'the report as one JSON object')
    .addHelpText(
      'after',
      '\nTwo configs: the gateway\'s own (-c, before "policy" or after "replay") is read for its database, keys and archive;\n--config after "replay" is the proposed one, replayed over the archive. E.g.\n  sealgate -c /etc/sealgate/sealgate.yaml policy replay --since 7d --config proposed.yaml',
    )
    .action(async (opts: { since: string; until?: string; limit: string; json?: boolean }, cmd: Command) => {
      const limit = parseLimit(opts.limit);
      const now = Date.now();
      const { since, until } = window(opts, now);
      const paths = replayConfigPaths(cmd);
      const { config } = loadConfig(paths.current);
      let proposed = config;
      let configSha256: string | undefined;
      if (paths.proposed !== undefined) {
        proposed = loadConfig(paths.proposed).config;
        configSha256 = createHash('sha256').update(readFileSync(paths.proposed)).digest('hex');
      }
      // archived content is read from the nodes' shared object store, never this machine's dataDir
      requireSharedObjects(config, 'policy replay');
      const keyring = await openKeyring(config, false);
      const db = await openCommandStore(config);
      let objects: OpenedObjectStore | undefined;
      const report = emptyReport();
      const progress = process.stderr.isTTY && !opts.json;
      try {
        let cut = false;
        let complete = false;
        try {
          objects = await openObjectStore(config);
          ({ cut } = await replayPolicy(
            {
              db,
              keyring,
              objects,
              now: Date.now,
              ...(progress ? { onProgress: (n: number) => (n % 100 === 0 ? process.stderr.write(`\r${n} entries re-decided…`) : undefined) } : {}),
            },
            proposed,
            { since, until, limit },
            report,
          ));
          complete = true;
        } finally {
          if (progress) process.stderr.write('\r\x1b[K');
          // one event covers every content open of the run, written before anything is printed (also when the run failed part way)
          const { purged, 'not-inspected': notInspected, 'key-not-loaded': keyNotLoaded, unreadable } = report.skipped;
          await db.transaction((tx) =>
            appendAuditEvent(
              tx,
              {
                type: 'policy:replayed',
                data: {
                  operator: operatorName(),
                  via: 'cli',
                  since: new Date(since).toISOString(),
                  ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
                  policy: configSha256 ? 'file' : 'current',
                  ...(configSha256 ? { configSha256 } : {}),
                  entries: report.replayed + unreadable,
                  skipped: purged + notInspected + keyNotLoaded,
                  changed: report.changed,
                  complete: String(complete),
                },
              },
              Date.now(),
            ),
          );
        }
        const w: ReplayWindow = { since, until, policySource: paths.proposed !== undefined ? `proposed config ${paths.proposed}` : 'current config', limit, cut };
        if (opts.json) {
          const out = {
            window: { since: new Date(since).toISOString(), until: until === undefined ? null : new Date(until).toISOString(), limit, cut },
            policy: paths.proposed !== undefined ? { source: 'file', file: paths.proposed, sha256: configSha256 } : { source: 'current' },
            ...report,
          };
          process.stdout.write(`${JSON.stringify(out)}\n`);
        } else {
          process.stdout.write(`${formatReplayReport(report, w)}\n`);
        }
      } finally {
        objects?.close();
        await db.close();
      }
    });
}
