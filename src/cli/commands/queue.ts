/**
 * `sealgate queue list|show|stats|summary|hold|release|retry|delete`: the operator's
 * view of the queue, safe while the daemon runs (see src/queue/admin.ts).
 * Output names envelopes and states, never message content. On either
 * database: with store.kind: postgres, the shared queue of every node
 * (bounce and delete need the shared object store, objects.kind: s3, where
 * the nodes spool; docs/scale-out.md "Operator commands on PostgreSQL").
 */
import type { Command } from 'commander';
import { gatewayHostname, openKeyring, openSpool } from '../../runtime/stores.js';
import type { SqlDatabase, SqlQueryable } from '../../db/sql-database.js';
import { openCommandStore, requireSharedObjects } from '../command-store.js';
import type { Config } from '../../config/schema.js';
import type { Keyring } from '../../crypto/keyring.js';
import { openObjectStore } from '../../objects/open.js';
import type { Spool } from '../../spool/spool.js';
import { randomBytes } from 'node:crypto';
import { applyQueueAction, assertQueueId, bounceMessage, countMessages, DEFAULT_LIST_LIMIT, deleteMessage, listQuarantined, listMessages, messagesForAction, queueStats, showMessage, type MessageDetail, type MessageSummary, type OperatorAction, type QueueStats } from '../../queue/admin.js';
import { isRecipientState, RECIPIENT_STATES } from '../../queue/states.js';
import { showFinished, type FinishedMessage } from '../../queue/finished.js';
import { isSealgateError } from '../../errors.js';
import { registerSummary } from './queue-summary.js';
import { CliExit, EXIT_NOT_FOUND, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';


async function withQueueDb<T>(cmd: Command, fn: (db: SqlDatabase) => Promise<T>): Promise<T> {
  const db = await openCommandStore(loadForCommand(cmd).config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

function statesText(states: MessageSummary['states']): string {
  return RECIPIENT_STATES.filter((s) => states[s]).map((s) => `${s}:${states[s]}`).join(',');
}

/**
 * The `queue list` table, like `postqueue -p`: one line per message, then
 * why it is still here (the last temporary failure, in parentheses) and its
 * first recipients with their state, "+N more" for the rest.
 */
export function formatList(messages: readonly MessageSummary[], now: number, total = messages.length): string {
  const header = ['QUEUE ID', 'AGE', 'SIZE', 'CONNECTOR', 'RCPTS', 'STATES', 'SENDER'];
  const rows = messages.map((m) => [m.id, formatAge(now - m.createdAt), String(m.size), m.connector, String(m.recipients), statesText(m.states), m.sender || '<>']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const out = [line(header)];
  for (const [i, m] of messages.entries()) {
    out.push(line(rows[i] ?? []));
    const d = m.lastDeferral;
    if (d) out.push(`    (${[d.code, d.enhanced, oneLine(d.reason)].filter((x) => x !== null && x !== '').join(' ')} — ${formatAge(now - d.at)} ago${d.mx ? ` via ${d.mx}` : ''})`);
    const width = Math.max(...m.firstRecipients.map((r) => r.address.length));
    for (const r of m.firstRecipients) out.push(`    ${r.address.padEnd(width)}  ${r.state}`);
    if (m.moreRecipients > 0) out.push(`    +${m.moreRecipients} more`);
  }
  const bytes = messages.reduce((n, m) => n + m.size, 0);
  const shown = total > messages.length ? `${messages.length} of ${total} messages (oldest first; --limit for more)` : `${messages.length} message${messages.length === 1 ? '' : 's'}`;
  out.push(`-- ${shown}, ${bytes} bytes`);
  return out.join('\n');
}

/** A remote reply's text on one line, control characters shown as ? (it comes from another server). */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '?');
}

/** The key an end-to-end recipient's copy is encrypted to, or that the mail arrived encrypted. */
function methodEvidence(r: MessageDetail['recipients'][number]): string {
  if (r.passthrough) return ', arrived encrypted: sent as it is';
  return r.keyFingerprint ? `, key ${r.keyFingerprint} (${r.keySource ?? '?'})` : '';
}

export function formatDetail(m: MessageDetail): string {
  const out = [
    `queue id:    ${m.id}`,
    `queued at:   ${new Date(m.createdAt).toISOString()}`,
    `sender:      ${m.sender || '<>'}`,
    `size:        ${m.size} bytes (${m.bodyType}${m.smtputf8 ? ', SMTPUTF8' : ''})`,
    `received:    listener ${m.listener}, connector ${m.connector}, from ${m.clientIp} (HELO ${m.helo || '-'})${m.tlsVersion ? ` over ${m.tlsVersion}` : ' without TLS'}${m.authUser ? `, AUTH ${m.authUser}` : ''}`,
    `requiretls:  ${m.requireTls ? 'yes' : 'no'}`,
    `dsn:         RET=${m.dsnRet ?? '-'} ENVID=${m.dsnEnvid ?? '-'}`,
    'recipients:',
  ];
  for (const r of m.recipients) {
    out.push(`  ${r.seq}. ${r.address}  ${r.state}  attempts ${r.attempts}  next ${new Date(r.nextAttempt).toISOString()}${r.notify ? `  NOTIFY=${r.notify}` : ''}`);
    if (r.method !== null) out.push(`     method ${r.method} (transport ${r.requirement})${methodEvidence(r)}`);
    if (r.lastAttemptAt !== null) {
      out.push(`     last attempt ${new Date(r.lastAttemptAt).toISOString()}${r.lastMx ? ` via ${r.lastMx}` : ''}: ${r.lastCode ?? '-'} ${r.lastEnhanced ?? ''} ${r.lastError ?? ''}`.trimEnd());
    }
  }
  return out.join('\n');
}

/** `queue show` for a message that left the queue: what happened to each recipient (src/queue/finished.ts). */
export function formatFinished(m: FinishedMessage): string {
  const out = [
    `queue id:    ${m.id}`,
    `queued at:   ${new Date(m.createdAt).toISOString()}`,
    `finished at: ${new Date(m.finishedAt).toISOString()} — ${m.outcome === 'mixed' ? 'finished' : m.outcome}; no longer in the queue (kept for queue.keepFinished)`,
    `sender:      ${m.sender || '<>'}`,
    `size:        ${m.size} bytes`,
    `received:    connector ${m.connector}, from ${m.clientIp}`,
    'recipients:',
  ];
  for (const [i, r] of m.recipients.entries()) {
    out.push(`  ${i + 1}. ${r.address}  ${r.state}  attempts ${r.attempts}${r.finishedAt !== null ? `  at ${new Date(r.finishedAt).toISOString()}` : ''}`);
    if (r.method !== null) out.push(`     method ${r.method} (transport ${r.requirement})`);
    if (r.lastAttemptAt !== null || r.lastError !== null) {
      const when = r.lastAttemptAt !== null ? ` ${new Date(r.lastAttemptAt).toISOString()}` : '';
      out.push(`     ${r.state === 'delivered' ? 'accepted' : 'last reply'}${when}${r.lastMx ? ` via ${r.lastMx}` : ''}: ${[r.lastCode, r.lastEnhanced, r.lastError].filter((x) => x !== null && x !== '').join(' ') || '-'}`);
    }
  }
  return out.join('\n');
}

/** A queued message, or one that finished within queue.keepFinished; else the queue's not-found error. */
async function queuedOrFinished(db: SqlQueryable, id: string): Promise<MessageDetail | FinishedMessage> {
  try {
    return await showMessage(db, id);
  } catch (err) {
    if (!isSealgateError(err, 'SG_QUEUE_NOT_FOUND')) throw err;
    const finished = await showFinished(db, id);
    if (!finished) throw err;
    return finished;
  }
}

export function formatStats(s: QueueStats, now: number): string {
  const lines = [
    `messages: ${s.messages} (${s.bytes} bytes)`,
    `oldest:   ${s.oldestCreatedAt === null ? '-' : `${formatAge(now - s.oldestCreatedAt)} ago`}`,
    `recipients: ${RECIPIENT_STATES.map((st) => `${st} ${s.recipients[st] ?? 0}`).join(', ')}`,
  ];
  if (s.topDomains.length) {
    lines.push('pending by domain:');
    for (const d of s.topDomains) lines.push(`  ${d.domain} ${d.recipients}`);
  }
  return lines.join('\n');
}

function parseState(value: string | undefined): (typeof RECIPIENT_STATES)[number] | undefined {
  if (value === undefined) return undefined;
  if (!isRecipientState(value)) throw new CliExit(EXIT_USAGE, `--state must be one of ${RECIPIENT_STATES.join(', ')}`);
  return value;
}

/** Messages acted on together by `--all` (group commit takes up to 64 transactions in one commit). */
const ALL_BATCH = 64;

function registerAction(queue: Command, action: OperatorAction, description: string, verb: string): void {
  queue
    .command(`${action} [ids...]`)
    .description(description)
    .option('--all', 'every message the action applies to')
    .action(async (ids: string[], opts: { all?: boolean }, cmd: Command) => {
      if (opts.all && ids.length) throw new CliExit(EXIT_USAGE, `give queue ids or --all, not both`);
      if (!opts.all && ids.length === 0) throw new CliExit(EXIT_USAGE, `name at least one queue id, or --all`);
      await withQueueDb(cmd, async (db) => {
        const print = (r: { queueId: string; changed: number }): void => {
          process.stdout.write(`${verb} ${r.queueId}: ${r.changed} recipient${r.changed === 1 ? '' : 's'}\n`);
        };
        if (!opts.all) {
          // named ids: one by one, so the first that fails stops the rest
          for (const id of ids) print(await applyQueueAction(db, action, id, operatorName(), Date.now()));
          return;
        }
        // --all: a batch at a time, so group commit writes each batch's transactions (one per message, each with
        // its audit event) with one fsync instead of one each; a message that finished since it was listed is skipped
        const targets = await messagesForAction(db, action);
        let total = 0;
        let acted = 0;
        for (let at = 0; at < targets.length; at += ALL_BATCH) {
          const outcomes = await Promise.allSettled(targets.slice(at, at + ALL_BATCH).map((id) => applyQueueAction(db, action, id, operatorName(), Date.now())));
          for (const o of outcomes) {
            if (o.status === 'rejected') {
              if (isSealgateError(o.reason, 'SG_QUEUE_NOT_FOUND')) continue;
              throw o.reason;
            }
            print(o.value);
            total += o.value.changed;
            acted++;
          }
        }
        process.stdout.write(`${verb} ${acted} message${acted === 1 ? '' : 's'}, ${total} recipients\n`);
      });
    });
}

/** The spool as the daemon has it: with objects.kind s3 its larger content is in the object store, opened for the command and closed after. */
async function withSpool<T>(config: Config, keyring: Keyring, db: SqlDatabase, work: (spool: Spool) => Promise<T>): Promise<T> {
  if (config.objects.kind === 'local') return work(openSpool(config, keyring, db));
  const objects = await openObjectStore(config);
  try {
    return await work(openSpool(config, keyring, db, { store: objects }));
  } finally {
    objects.close();
  }
}

/** Refuses the ids a command was given unless they pass `check` (e.g. being quarantined). */
type IdCheck = (db: SqlQueryable, ids: readonly string[]) => Promise<void>;

/** Bounces messages: recipients bounce and the sender gets a DSN (audited). */
async function bounceIds(cmd: Command, ids: readonly string[], check?: IdCheck): Promise<void> {
  const { config } = loadForCommand(cmd);
  // on PostgreSQL the nodes spool into the shared object store: never this machine's dataDir/spool
  requireSharedObjects(config, `${cmd.parent?.name() ?? 'queue'} bounce`);
  const keyring = await openKeyring(config, false);
  await withQueueDb(cmd, (db) => withSpool(config, keyring, db, async (spool) => {
    const notice = { spool, hostname: gatewayHostname(config), now: Date.now, random: randomBytes, requirement: config.delivery.defaultRequirement, spoolKeyId: () => keyring.current.id };
    await check?.(db, ids);
    for (const id of ids) {
      const r = await bounceMessage(db, notice, id, operatorName());
      process.stdout.write(`bounced ${id}: ${r.changed} recipient${r.changed === 1 ? '' : 's'}\n`);
    }
  }));
}

/** Removes messages from the queue and the spool, no DSN (audited). */
async function deleteIds(cmd: Command, ids: readonly string[], check?: IdCheck): Promise<void> {
  const { config } = loadForCommand(cmd);
  requireSharedObjects(config, `${cmd.parent?.name() ?? 'queue'} delete`);
  const keyring = await openKeyring(config, false);
  await withQueueDb(cmd, (db) => withSpool(config, keyring, db, async (spool) => {
    await check?.(db, ids);
    for (const id of ids) {
      const r = await deleteMessage(db, id, operatorName(), Date.now(), (qid) => spool.remove(qid));
      process.stdout.write(`deleted ${id}: ${r.changed} recipient${r.changed === 1 ? '' : 's'}\n`);
    }
  }));
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('inspect and manage the mail queue (safe while the daemon runs)');
  queue
    .command('list')
    .description('queued messages, oldest first: each with its recipients (the first 3, then +N more) and why it is still here (the last temporary failure); counts per state: queue stats; the shape of a big queue: queue summary')
    .option('--state <state>', `only messages with a recipient in this state (${RECIPIENT_STATES.join(', ')})`)
    .option('--held', 'only messages with a held recipient (rate-limit and burst holds, queue hold, quarantine): the same as --state held')
    .option('--domain <domain>', 'only messages with a recipient at this domain')
    .option('--limit <n>', 'at most this many messages (oldest first)', String(DEFAULT_LIST_LIMIT))
    .option('--json', 'JSON output')
    .action(async (opts: { state?: string; held?: boolean; domain?: string; limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) throw new CliExit(EXIT_USAGE, '--limit must be a whole number from 1 to 1000000');
      if (opts.held && opts.state !== undefined && opts.state !== 'held') throw new CliExit(EXIT_USAGE, '--held lists held messages: give --held or --state, not both');
      const state = opts.held ? 'held' : parseState(opts.state);
      // the page and its count from one snapshot, while the nodes go on writing
      await withQueueDb(cmd, (db) => db.readSnapshot(async (q) => {
        const messages = await listMessages(q, { state, domain: opts.domain, limit });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(messages)}\n`);
          return;
        }
        const total = messages.length < limit ? messages.length : await countMessages(q, { state, domain: opts.domain });
        process.stdout.write(`${formatList(messages, Date.now(), total)}\n`);
      }));
    });
  queue
    .command('show <id>')
    .description('envelope, per-recipient status, attempts and last errors of one message (never its content); a finished message (delivered, bounced, expired) stays visible for queue.keepFinished')
    .option('--json', 'JSON output')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withQueueDb(cmd, async (db) => {
        const detail = await db.readSnapshot((q) => queuedOrFinished(q, id));
        process.stdout.write(`${opts.json ? JSON.stringify(detail) : 'finished' in detail ? formatFinished(detail) : formatDetail(detail)}\n`);
      });
    });
  queue
    .command('stats')
    .description('counts per recipient state, queue size, oldest message, busiest destinations')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withQueueDb(cmd, async (db) => {
        const stats = await db.readSnapshot((q) => queueStats(q));
        process.stdout.write(`${opts.json ? JSON.stringify(stats) : formatStats(stats, Date.now())}\n`);
      });
    });
  registerSummary(queue, withQueueDb);
  registerAction(queue, 'hold', 'stop delivery attempts for queued and deferred recipients until released', 'held');
  registerAction(queue, 'release', 'return held recipients to the queue, due now', 'released');
  registerAction(queue, 'retry', 'make queued and deferred recipients due now', 'retried');
  queue
    .command('bounce <ids...>')
    .description('give up on queued, deferred and held recipients: they bounce and the sender gets a DSN (audited)')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      await bounceIds(cmd, ids);
    });
  queue
    .command('delete <ids...>')
    .description('remove messages from the queue and the spool (refused while a recipient is being delivered)')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      await deleteIds(cmd, ids);
    });
}

/** Lines for held messages (quarantine list/show): verdict as categories and counts, each held recipient with its method and reasons. */
function formatQuarantined(held: Awaited<ReturnType<typeof listQuarantined>>, now: number): string[] {
  const lines: string[] = [];
  for (const m of held) {
    const v = m.verdict as { phi?: boolean; findings?: { category: string; count: number }[]; rules?: string[] } | null;
    const cats = v?.findings?.map((f) => `${f.category}×${f.count}`).join(', ') ?? '-';
    lines.push(`${m.id}  ${formatAge(now - m.createdAt)}  ${m.sender || '<>'}  ${v?.phi ? 'PHI' : 'no PHI'}  [${cats}]${v?.rules?.length ? `  rules: ${v.rules.join(', ')}` : ''}`);
    for (const r of m.held) lines.push(`  ${r.address}: needs ${r.method ?? '?'} — ${r.reasons.join('; ')}`);
  }
  return lines;
}

/** The ids given, each checked to be a held (quarantined) message. */
async function quarantinedIds(db: SqlQueryable, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    assertQueueId(id); // a malformed id is a usage error, as for queue show
    if ((await listQuarantined(db, 1, id)).length === 0) throw new CliExit(EXIT_NOT_FOUND, `${id.slice(0, 40)} is not a quarantined message (see sealgate quarantine list)`);
  }
}

/** `sealgate quarantine list|show|release|bounce|delete`: messages the inspection decision held for an administrator. */
export function registerQuarantine(program: Command): void {
  const q = program.command('quarantine').description('messages held by the inspection decision or a policy rule');
  q.command('list')
    .description('held messages with the method each recipient needs and why; the verdict as categories and counts, never values')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withQueueDb(cmd, async (db) => {
        const held = await listQuarantined(db);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(held)}\n`);
          return;
        }
        const lines = formatQuarantined(held, Date.now());
        lines.push(`-- ${held.length} held message${held.length === 1 ? '' : 's'}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
  q.command('show <id>')
    .description('one held message: verdict, matched rules, each held recipient\'s method and reasons, and its queue status (never its content)')
    .option('--json', 'JSON output')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withQueueDb(cmd, async (db) => {
        await quarantinedIds(db, [id]);
        const held = await listQuarantined(db, 1, id);
        const detail = await showMessage(db, id);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...held[0], queue: detail })}\n`);
          return;
        }
        process.stdout.write(`${[...formatQuarantined(held, Date.now()), '', formatDetail(detail)].join('\n')}\n`);
      });
    });
  q.command('release <ids...>')
    .description('deliver held messages after all (audited): each held recipient goes back to the queue with its transport requirement, never weaker')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      await withQueueDb(cmd, async (db) => {
        await quarantinedIds(db, ids);
        for (const id of ids) {
          const r = await applyQueueAction(db, 'release', id, operatorName(), Date.now());
          process.stdout.write(`released ${id}: ${r.changed} recipient${r.changed === 1 ? '' : 's'}\n`);
        }
      });
    });
  q.command('bounce <ids...>')
    .description('refuse held messages: the recipients bounce and the sender gets a DSN (audited)')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      await bounceIds(cmd, ids, quarantinedIds);
    });
  q.command('delete <ids...>')
    .description('remove held messages from the queue and the spool, no DSN (audited)')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      await deleteIds(cmd, ids, quarantinedIds);
    });
}
