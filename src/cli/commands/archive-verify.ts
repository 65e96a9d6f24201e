/**
 * `sealgate archive verify`: check the archive rows against the hash chain
 * and its signed checkpoints (src/archive/verify.ts); `sealgate archive key`:
 * the gateway signing key's public half, for an auditor to keep elsewhere.
 * On either database: on PostgreSQL the archive rows, the chain and the
 * checkpoints of every node are checked (one chain, one signing key shared by
 * the nodes; docs/scale-out.md). Only rows are read, never content.
 */
import type { Command } from 'commander';
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { checkpointFromLogLine, type Checkpoint } from '../../archive/checkpoints.js';
import { readPublicSigningKey } from '../../archive/signing-key.js';
import { verifyArchive, type ArchiveVerifyResult, type VerifyCheck } from '../../archive/verify.js';
import { openCommandStore } from '../command-store.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand } from '../context.js';

/** Longer log lines are skipped unread (an ARCHIVE_CHECKPOINT line is under 1 KiB). */
const MAX_LOG_LINE = 64 * 1024;

/** The checkpoints in a log file (JSON lines, as the daemon writes them), read with bounded memory. */
async function* loggedCheckpoints(path: string): AsyncGenerator<Checkpoint> {
  let partial = '';
  let skipping = false;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream) {
      const lines = (partial + (chunk as string)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (skipping) {
          skipping = false;
          continue;
        }
        const c = checkpointFromLogLine(line);
        if (c) yield c;
      }
      if (partial.length > MAX_LOG_LINE) {
        partial = '';
        skipping = true;
      }
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliExit(EXIT_USAGE, `cannot read log file ${path} (${code ?? 'error'})`);
  }
  if (!skipping) {
    const c = checkpointFromLogLine(partial);
    if (c) yield c;
  }
}

function okLine(r: Extract<ArchiveVerifyResult, { ok: true }>): string {
  const parts = [
    `archive OK: ${r.auditEvents} audit events (last hash ${r.lastHash})`,
    `${r.messages} entries and ${r.recipients} recipient rows match their ${r.records} records`,
  ];
  if (r.newestCheckpoint) {
    const n = r.newestCheckpoint;
    parts.push(
      `${r.checkpoints} checkpoints signed by key ${r.keyFingerprint ?? '?'}, the newest #${n.seq} (${n.reason}, ${new Date(n.ts).toISOString()}) covers event #${n.auditSeq}` +
        (r.uncovered > 0 ? ` (${r.uncovered} newer ${r.uncovered === 1 ? 'event is' : 'events are'} covered by the chain only)` : ''),
    );
  } else {
    parts.push('no checkpoints yet');
  }
  if (r.anchors > 0) parts.push(`${r.anchors} logged checkpoints match`);
  return `${parts.join('; ')}\n`;
}

export function registerArchiveVerify(archive: Command): void {
  archive
    .command('verify')
    .description('check every archive row against the audit chain and the signed checkpoints; exit 1 and name the first bad entry')
    .option('--json', 'print the result as one JSON object')
    .option('--log <file>', 'also check the ARCHIVE_CHECKPOINT lines of this log file (a copy kept outside the database)')
    .option('--fingerprint <sha256>', 'the signing key fingerprint you keep elsewhere: any other key fails')
    .action(async (opts: { json?: boolean; log?: string; fingerprint?: string }, cmd: Command) => {
      if (opts.fingerprint !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.fingerprint)) throw new CliExit(EXIT_USAGE, '--fingerprint must be 64 hex digits (as "sealgate archive key" prints it)');
      // a log file that cannot be read is a usage error now, not after minutes of checking
      if (opts.log !== undefined) await access(opts.log, constants.R_OK).catch((err: unknown) => Promise.reject(new CliExit(EXIT_USAGE, `cannot read log file ${opts.log} (${(err as { code?: string }).code ?? 'error'})`)));
      const db = await openCommandStore(loadForCommand(cmd).config);
      const tty = process.stderr.isTTY && !opts.json;
      let lastShown = 0;
      const onProgress = (pass: VerifyCheck, done: number): void => {
        const t = Date.now();
        if (t - lastShown < 200) return;
        lastShown = t;
        process.stderr.write(`\r${`checking ${pass}: ${done}`.padEnd(40)}`);
      };
      let result: ArchiveVerifyResult;
      try {
        // one read snapshot: a consistent picture even while the gateway (every node) writes
        try {
          result = await db.readSnapshot((q) => verifyArchive(q, {
            now: Date.now(),
            ...(tty ? { onProgress } : {}),
            ...(opts.log !== undefined ? { anchors: loggedCheckpoints(opts.log) } : {}),
            ...(opts.fingerprint !== undefined ? { expectedFingerprint: opts.fingerprint } : {}),
          }));
        } finally {
          if (tty) process.stderr.write(`\r${' '.repeat(40)}\r`);
        }
      } finally {
        await db.close();
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        if (!result.ok) process.exitCode = EXIT_FAILURE;
        return;
      }
      if (result.ok) {
        process.stdout.write(okLine(result));
        return;
      }
      const p = result.problem;
      throw new CliExit(EXIT_FAILURE, `archive BROKEN at ${p.entry} (${p.reason}): ${p.detail}`);
    });

  archive
    .command('key')
    .description("the gateway's checkpoint signing key: its SHA-256 fingerprint (keep it somewhere else), or the public key")
    .option('--pem', 'print the public key (PEM) instead')
    .action(async (opts: { pem?: boolean }, cmd: Command) => {
      const db = await openCommandStore(loadForCommand(cmd).config);
      try {
        const key = await readPublicSigningKey(db);
        if (!key) throw new CliExit(EXIT_FAILURE, 'there is no gateway signing key yet: the gateway creates it when it first starts');
        process.stdout.write(opts.pem ? key.publicKeyPem : `ed25519 ${key.fingerprint} created ${new Date(key.createdAt).toISOString()}\n`);
      } finally {
        await db.close();
      }
    });
}
