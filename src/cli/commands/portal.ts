/**
 * `sealgate portal list|status|revoke|purge`: the operator's view of secure
 * portal messages and their lifecycle (docs/portal.md, "Lifecycle"). Safe
 * while the daemon runs: a second process on the same SQLite file (WAL, writes
 * under BEGIN IMMEDIATE) and object store, or one more writer of the shared
 * PostgreSQL (store.kind: postgres; the stores lock what they change,
 * docs/scale-out.md). Output names ids, times, states, sizes and recipient
 * addresses, never message content.
 */
import type { Command } from 'commander';
import type { Config } from '../../config/schema.js';
import { openDatabase, openKeyring } from '../../runtime/stores.js';
import { openPostgres } from '../../db/open-store.js';
import { POSTGRES_MIGRATIONS, postgresSchemaVersion } from '../../db/schema-postgres.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { SealgateError } from '../../errors.js';
import { openObjectStore } from '../../objects/open.js';
import { listPortalMessages, portalStatus, type PortalDepositStatus, type PortalMessageSummary } from '../../portal/admin.js';
import { CodeStore } from '../../portal/code-store.js';
import { PortalLifecycle, type PurgeResult, type RevokeOutcome } from '../../portal/lifecycle.js';
import { deriveCodeKey } from '../../portal/one-time-code.js';
import { PortalStore } from '../../portal/portal-store.js';
import { credentialDigest, PasskeyStore } from '../../portal/passkey-store.js';
import { appendAudit } from '../../audit/log.js';
import { CliExit, errorLine, EXIT_FAILURE, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

const QUEUE_ID = /^[0-9A-Z]{20}$/;
const DEPOSIT_ID = /^[0-9a-f]{32}$/;

/**
 * The configured PostgreSQL, at the schema this sealgate knows: a database
 * behind is not migrated here (that is `sealgate db migrate`'s, once for all
 * nodes), a newer one belongs to a newer sealgate.
 */
async function openPortalPostgres(config: Config): Promise<SqlDatabase> {
  const db = await openPostgres(config, { warn: (line) => void process.stderr.write(`${errorLine(new Error(`warning: ${line}`))}\n`) });
  try {
    const version = await postgresSchemaVersion(db);
    const latest = POSTGRES_MIGRATIONS.length;
    if (version < latest) throw new CliExit(EXIT_FAILURE, `the database is at schema version ${version}, this sealgate needs ${latest}: run sealgate db migrate`);
    if (version > latest) throw new CliExit(EXIT_FAILURE, `the database is at schema version ${version}, newer than this sealgate knows (${latest}): upgrade sealgate`);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

async function withPortalDb<T>(cmd: Command, fn: (db: SqlDatabase, config: Config) => Promise<T>): Promise<T> {
  const { config } = loadForCommand(cmd);
  const db = config.store.kind === 'postgres' ? await openPortalPostgres(config) : await openDatabase(config);
  try {
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

async function openLifecycle(config: Config, db: SqlDatabase): Promise<PortalLifecycle> {
  const keyring = await openKeyring(config, false);
  const objects = await openObjectStore(config);
  const portal = new PortalStore({ db, objects, keyring });
  const codes = new CodeStore({ db, key: deriveCodeKey(keyring.current.key) });
  return new PortalLifecycle({ db, portal, objects, codes, now: Date.now });
}

function assertPortalId(id: string): void {
  if (!QUEUE_ID.test(id) && !DEPOSIT_ID.test(id)) {
    const shown = id.replace(/[^\x21-\x7e]/g, '?').slice(0, 40);
    throw new SealgateError('SG_USAGE', { message: `"${shown}" is not a queue id (20 characters, 0-9 and A-Z) or a deposit id (32 hex digits)` });
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const cell = (ms: number | null): string => iso(ms) ?? '-';
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function table(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)];
}

function summaryJson(m: PortalMessageSummary): Record<string, unknown> {
  return {
    queueId: m.queueId,
    depositId: m.depositId,
    state: m.state,
    createdAt: iso(m.createdAt),
    expiresAt: iso(m.expiresAt),
    revokedAt: iso(m.revokedAt),
    shreddedAt: iso(m.shreddedAt),
    recipients: m.recipients,
    opened: m.opened,
    size: m.size,
  };
}

export function formatPortalList(messages: readonly PortalMessageSummary[]): string {
  const rows = messages.map((m) => [m.queueId, m.depositId, cell(m.createdAt), cell(m.expiresAt), m.state, String(m.recipients), String(m.opened), String(m.size)]);
  const bytes = messages.reduce((n, m) => n + m.size, 0);
  return [...table(['QUEUE ID', 'DEPOSIT ID', 'CREATED', 'EXPIRES', 'STATE', 'RCPTS', 'OPENED', 'SIZE'], rows), `-- ${plural(messages.length, 'deposit')}, ${bytes} bytes`].join('\n');
}

function statusJson(d: PortalDepositStatus): Record<string, unknown> {
  return {
    ...summaryJson(d),
    sender: d.sender,
    revokedBy: d.revokedBy,
    recipients: d.recipientStatus.map((r) => ({
      address: r.address,
      bcc: r.bcc,
      notifiedAt: iso(r.notifiedAt),
      openedAt: iso(r.openedAt),
      repliedAt: iso(r.repliedAt),
      expiredAt: iso(r.expiredAt),
      revokedAt: iso(r.revokedAt),
    })),
  };
}

export function formatPortalStatus(deposits: readonly PortalDepositStatus[]): string {
  const blocks = deposits.map((d) => {
    const rows = d.recipientStatus.map((r) => [r.address, r.bcc ? 'yes' : 'no', cell(r.notifiedAt), cell(r.openedAt), cell(r.repliedAt), cell(r.expiredAt), cell(r.revokedAt)]);
    return [
      `queue id:   ${d.queueId}`,
      `deposit id: ${d.depositId}`,
      `sender:     ${d.sender || '<>'}`,
      `state:      ${d.state}`,
      `size:       ${d.size} bytes`,
      `created:    ${cell(d.createdAt)}`,
      `expires:    ${cell(d.expiresAt)}`,
      `revoked:    ${d.revokedAt === null ? '-' : `${cell(d.revokedAt)} by ${d.revokedBy ?? '?'}`}`,
      `shredded:   ${cell(d.shreddedAt)}`,
      `recipients: ${d.recipientStatus.length}`,
      ...table(['ADDRESS', 'BCC', 'NOTIFIED', 'OPENED', 'REPLIED', 'EXPIRED', 'REVOKED'], rows, '  '),
    ].join('\n');
  });
  return blocks.join('\n\n');
}

export function formatRevoke(outcomes: readonly RevokeOutcome[]): string {
  const lines = outcomes.map((o) => {
    const what = `${o.queueId} deposit ${o.depositId}`;
    if (o.revoked && o.shredded) return `revoked ${what}: key destroyed, copy removed (${o.size} bytes)`;
    if (o.shredded) return `revoked ${what}: already revoked at ${cell(o.revokedAt)} by ${o.revokedBy ?? '?'}; key destroyed now (${o.size} bytes)`;
    if (o.revokedAt !== null) return `unchanged ${what}: already revoked at ${cell(o.revokedAt)} by ${o.revokedBy ?? '?'}, key destroyed at ${cell(o.shreddedAt)}`;
    return `unchanged ${what}: already shredded at ${cell(o.shreddedAt)} (not revoked)`;
  });
  const now = outcomes.filter((o) => o.shredded).length;
  lines.push(`-- ${plural(now, 'deposit')} revoked and shredded now, ${outcomes.length - now} already`);
  return lines.join('\n');
}

export function formatPurge(result: PurgeResult, leftovers: number | null): string {
  const verb = result.dryRun ? 'would shred' : 'shredded';
  const lines = result.shredded.map((s) => `${verb} ${s.queueId} deposit ${s.depositId}: ${s.reason}, ${s.size} bytes`);
  for (const f of result.failed) lines.push(`failed ${f.queueId} deposit ${f.depositId}: ${f.reason}, ${f.error}`);
  const bytes = result.shredded.reduce((n, s) => n + s.size, 0);
  if (result.dryRun) {
    lines.push(`-- dry run: ${plural(result.shredded.length, 'deposit')} would be shredded (${bytes} bytes); nothing changed`);
  } else {
    const extra = [`${plural(result.codes ?? 0, 'sign-in code')}`, `${plural(result.sessions ?? 0, 'idle session')}`, `${plural(leftovers ?? 0, 'leftover object')}`];
    lines.push(`-- ${plural(result.shredded.length, 'deposit')} shredded (${bytes} bytes); removed ${extra.join(', ')}${result.failed.length ? `; ${result.failed.length} failed` : ''}`);
  }
  return lines.join('\n');
}

export function registerPortal(program: Command): void {
  const portal = program.command('portal').description('secure portal messages: list, status, revoke, purge; recipients\' passkeys (safe while the daemon runs)');
  portal
    .command('list')
    .description('portal deposits, newest first: ids, times, state, recipients, opened, size (never content)')
    .option('--limit <n>', 'at most this many deposits', '100')
    .option('--json', 'JSON output (times in ISO 8601)')
    .action(async (opts: { limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) throw new CliExit(EXIT_USAGE, '--limit must be a whole number from 1 to 1000000');
      await withPortalDb(cmd, async (db) => {
        const messages = await listPortalMessages(db, { limit, now: Date.now() });
        process.stdout.write(`${opts.json ? JSON.stringify(messages.map(summaryJson)) : formatPortalList(messages)}\n`);
      });
    });
  portal
    .command('status <id>')
    .description('per recipient of a message (queue id or deposit id): notified, opened, replied, expired, revoked, with times')
    .option('--json', 'JSON output (times in ISO 8601)')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      assertPortalId(id);
      await withPortalDb(cmd, async (db) => {
        const deposits = await portalStatus(db, id, Date.now());
        process.stdout.write(`${opts.json ? JSON.stringify({ deposits: deposits.map(statusJson) }) : formatPortalStatus(deposits)}\n`);
      });
    });
  portal
    .command('revoke <id>')
    .description('revoke a message (queue id, or one deposit id) and destroy its keys at once: nobody can open it any more (audited)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      assertPortalId(id);
      await withPortalDb(cmd, async (db, config) => {
        const outcomes = await (await openLifecycle(config, db)).revoke(id, operatorName());
        process.stdout.write(`${formatRevoke(outcomes)}\n`);
      });
    });
  portal
    .command('passkeys <address>')
    .description("a recipient address's passkeys (credential digest, created, last used); --remove deletes them (all, or --credential DIGEST)")
    .option('--remove', 'remove them: the recipient signs in with a code again (audited)')
    .option('--credential <digest>', 'with --remove: only the passkey whose credential digest starts with this (at least 8 hex digits)')
    .option('--json', 'JSON output (times in ISO 8601)')
    .action(async (address: string, opts: { remove?: boolean; credential?: string; json?: boolean }, cmd: Command) => {
      if (!/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(address)) throw new CliExit(EXIT_USAGE, `"${address.slice(0, 80)}" is not an email address`);
      if (opts.credential !== undefined && !/^[0-9a-fA-F]{8,64}$/.test(opts.credential)) throw new CliExit(EXIT_USAGE, '--credential takes at least 8 hex digits of a credential digest (see sealgate portal passkeys ADDRESS)');
      await withPortalDb(cmd, async (db) => {
        const store = new PasskeyStore(db);
        if (opts.remove) {
          const count = await store.remove(address, opts.credential);
          if (opts.credential !== undefined && count === 0) throw new CliExit(EXIT_FAILURE, `no single passkey of ${address} has a credential digest starting with ${opts.credential}`);
          if (count > 0) await appendAudit(db, { type: 'portal:passkeys_removed', data: { recipient: address.toLowerCase(), operator: operatorName(), count } }, Date.now());
          process.stdout.write(opts.json ? `${JSON.stringify({ removed: count })}\n` : `removed ${plural(count, 'passkey')} of ${address}\n`);
          return;
        }
        const keys = await store.listFor(address);
        const rows = keys.map((k) => ({ credential: credentialDigest(k.credentialId).slice(0, 16), createdAt: new Date(k.createdAt).toISOString(), lastUsedAt: k.lastUsedAt === null ? null : new Date(k.lastUsedAt).toISOString(), transports: k.transports }));
        if (opts.json) process.stdout.write(`${JSON.stringify({ address, passkeys: rows })}\n`);
        else process.stdout.write(`${rows.length ? rows.map((r) => `${r.credential}  created ${r.createdAt}  last used ${r.lastUsedAt ?? 'never'}${r.transports.length ? `  (${r.transports.join(', ')})` : ''}`).join('\n') : `no passkeys for ${address}`}\n`);
      });
    });
  portal
    .command('purge')
    .description('shred now what expired or was revoked, delete spent sign-in codes and idle sessions')
    .option('--dry-run', 'only list what would be shredded; change nothing')
    .option('--json', 'JSON output')
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      await withPortalDb(cmd, async (db, config) => {
        const life = await openLifecycle(config, db);
        const result = await life.purgeDue(Date.now(), { dryRun: opts.dryRun === true });
        const leftovers = result.dryRun ? null : await life.removeLeftovers();
        process.stdout.write(`${opts.json ? JSON.stringify({ ...result, leftovers }) : formatPurge(result, leftovers)}\n`);
        if (result.failed.length > 0) {
          throw new CliExit(EXIT_FAILURE, `${plural(result.failed.length, 'deposit')} could not be shredded (first: ${result.failed[0]?.error ?? '?'}); run sealgate portal purge again`);
        }
      });
    });
}
