/**
 * `sealgate archive search|show`: find archived messages and read their
 * evidence (docs/archive.md, "Searching and reading"). Every search, read
 * and content open is itself recorded in the audit chain, with the
 * operating-system user who ran it; a search records the names of the
 * filters used, never their values. `archive search` runs on either
 * database (on PostgreSQL it finds every node's entries, in one read
 * snapshot), and so does `archive show` (its rows in one read snapshot; the
 * content, with --content, from the shared object store: objects.kind: s3
 * beside PostgreSQL, docs/scale-out.md).
 */
import type { Command } from 'commander';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { appendAuditEvent } from '../../audit/log.js';
import type { AuditEvent, AuditEventType } from '../../audit/events.js';
import { readArchiveContent } from '../../archive/content.js';
import { pendingAware } from '../../archive/pending.js';
import { filterNames, parseSearch, searchArchive, SearchInputError, type RawSearch, type SearchEntry, type SearchResult } from '../../archive/search.js';
import { entryKey, showArchiveEntry, type ShownEntry, type ShownRecipient } from '../../archive/show.js';
import { queryTerms } from '../../archive/terms.js';
import type { Keyring } from '../../crypto/keyring.js';
import { openKeyring } from '../../runtime/stores.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { openCommandStore, requireSharedObjects } from '../command-store.js';
import type { Config } from '../../config/schema.js';
import { openObjectStore } from '../../objects/open.js';
import { isQueueId } from '../../queue/ids.js';
import { filtersOf, withFilterFlags, type FilterFlags } from './archive-filters.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

/** Longest --reason for opening content (characters). */
export const MAX_REASON = 500;

interface SearchOptions extends FilterFlags {
  limit?: string;
  after?: string;
  json?: boolean;
}

/** The keyring and the configured store; `needsContent`: the command reads message content (on PostgreSQL, from the shared object store only). */
async function withArchive<T>(cmd: Command, fn: (db: SqlDatabase, keyring: Keyring, config: Config) => Promise<T>, needsContent?: string): Promise<T> {
  const { config } = loadForCommand(cmd);
  if (needsContent !== undefined) requireSharedObjects(config, needsContent);
  const keyring = await openKeyring(config, false);
  const db = await openCommandStore(config);
  try {
    return await fn(db, keyring, config);
  } finally {
    await db.close();
  }
}

async function audit<T extends AuditEventType>(db: SqlDatabase, event: AuditEvent<T>): Promise<void> {
  await db.transaction((tx) => appendAuditEvent(tx, event, Date.now()));
}

function usage(err: unknown): never {
  if (err instanceof SearchInputError) throw new CliExit(EXIT_USAGE, err.message);
  throw err;
}

function checkId(id: string): string {
  const upper = id.trim().toUpperCase();
  if (!isQueueId(upper)) throw new CliExit(EXIT_USAGE, 'the entry id is a queue id (20 characters, 0-9 and A-Z), as archive search shows it');
  return upper;
}


/**
 * Text for a terminal: subjects, addresses and remote replies come from
 * outside, so control characters (escape sequences) and bidirectional
 * overrides are shown as '?' instead of acting on the terminal.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** One line per entry: id, time, sender, recipients with method/state, verdict, size. */
export function formatSearchLine(e: SearchEntry): string {
  const rcpts = e.recipients.map((r) => `${r.address} ${r.method ?? '-'}/${r.state}`).join(', ');
  const more = e.recipientCount > e.recipients.length ? ` (+${e.recipientCount - e.recipients.length} more)` : '';
  const verdict = `${e.phi ? 'PHI' : 'no PHI'}${e.categories.length ? ` [${e.categories.join(',')}]` : ''}`;
  const flags = `${e.hold ? '  HOLD' : ''}${e.purged ? '  PURGED' : ''}`;
  return printable(`${e.id}  ${e.receivedAt}  ${e.sender || '<>'} -> ${rcpts || '-'}${more}  ${verdict}  ${e.size} bytes${flags}`);
}

export function formatSearch(result: SearchResult): string {
  const lines = result.entries.map(formatSearchLine);
  const n = result.entries.length;
  lines.push(`-- ${n} ${n === 1 ? 'entry' : 'entries'}, newest first${result.next ? `; next page: --after ${result.next}` : ''}`);
  return lines.join('\n');
}

function tlsText(r: ShownRecipient): string {
  if (!r.evidence) return 'no attempt';
  const t = r.tls;
  if (!t) return 'no TLS';
  const cert = t.verified ? `certificate verified${t.certSha256 ? ` (sha256 ${t.certSha256})` : ''}` : `certificate NOT verified${t.certError ? ` (${t.certError})` : ''}`;
  return `${t.version} ${t.cipher}, ${cert}${t.dane ? `, DANE ${t.dane}` : ''}`;
}

interface VerdictView {
  inspected?: boolean;
  phi?: boolean;
  phiRule?: string;
  notFullyScanned?: boolean;
  protection?: string;
  findings?: { category: string; count: number; confidence?: string }[];
  methods?: string[];
  rules?: string[];
}

function verdictText(v: unknown): string {
  const verdict = (typeof v === 'object' && v !== null ? v : {}) as VerdictView;
  if (verdict.inspected === false) return 'not inspected';
  const parts = [verdict.phi ? `PHI${verdict.phiRule ? ` (${verdict.phiRule})` : ''}` : 'no PHI'];
  const findings = verdict.findings ?? [];
  if (findings.length) parts.push(findings.map((f) => `${f.category}×${f.count}${f.confidence ? ` (${f.confidence})` : ''}`).join(', '));
  if (verdict.protection) parts.push(`protection ${verdict.protection}`);
  if (verdict.rules?.length) parts.push(`rules ${verdict.rules.join(', ')}`);
  if (verdict.notFullyScanned) parts.push('not fully scanned');
  return parts.join('; ');
}

export function formatShow(e: ShownEntry): string {
  const out = [
    `entry:        ${e.id} (${e.origin})`,
    `message-id:   ${e.messageId ? `<${e.messageId}>` : '-'}`,
    `received:     ${e.receivedAt} through connector ${e.connector} from ${e.clientIp}${e.tlsVersion ? ` over ${e.tlsVersion}` : ' without TLS'}${e.authUser ? `, AUTH ${e.authUser}` : ''}`,
    `archived:     ${e.archivedAt}`,
    `sender:       ${e.sender || '<>'}`,
    `subject:      ${e.subject ?? `(${e.subjectNote ?? 'none'})`}`,
    `size:         ${e.size} bytes, sha256 ${e.contentSha256}`,
    `verdict:      ${verdictText(e.verdict)}`,
    `retained to:  ${e.retainUntil}${e.hold ? ' (legal hold)' : ''}`,
    ...(e.purgedAt ? [`purged:       ${e.purgedAt} (key destroyed: the content cannot be read)`] : []),
    'recipients:',
  ];
  for (const r of e.recipients) {
    out.push(`  ${r.seq}. ${r.address}${r.bcc ? ' (bcc)' : ''}  ${r.method ?? 'undecided'}${r.requirement ? ` (transport ${r.requirement})` : ''}  ${r.state}  attempts ${r.attempts}${r.finishedAt ? `  final ${r.finishedAt}` : ''}`);
    if (r.reasons.length) out.push(`     why: ${r.reasons.join('; ')}`);
    if (r.keyFingerprint) out.push(`     key: ${r.keyFingerprint} (${r.keySource ?? '?'})`);
    const ev = r.evidence;
    if (ev) {
      const via = ev.mx ? ` via ${ev.mx}${ev.ip ? ` [${ev.ip}]` : ''}` : '';
      const policy = [ev.mtaSts ? `MTA-STS ${ev.mtaSts}` : '', ev.tlsPolicy ? `policy ${ev.tlsPolicy}` : '', `required ${ev.requirement}`].filter(Boolean).join(', ');
      out.push(`     last attempt ${r.lastAttemptAt ?? '-'}${via}: ${tlsText(r)}; ${policy}`);
      // the reply text often starts with its enhanced code already
      const enhanced = ev.reply.enhanced && !ev.reply.text.startsWith(ev.reply.enhanced) ? ev.reply.enhanced : '';
      out.push(`     reply: ${[ev.reply.code ?? '-', enhanced, ev.reply.text].filter((x) => x !== '').join(' ')}`);
    } else {
      out.push(`     ${tlsText(r)}`);
    }
  }
  return out.map(printable).join('\n');
}

/** A reason to open content: required, one line, bounded. */
export function checkReason(reason: string | undefined): string {
  const r = reason?.trim() ?? '';
  if (r.length === 0) throw new CliExit(EXIT_USAGE, '--content needs --reason TEXT (why the message is opened; it is recorded in the audit log)');
  if (r.length > MAX_REASON) throw new CliExit(EXIT_USAGE, `--reason is longer than ${MAX_REASON} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(r)) throw new CliExit(EXIT_USAGE, '--reason must be one line of text');
  return r;
}

/** Writes a stream to stdout, waiting when stdout is full; rejects on a read error. */
async function toStdout(source: Readable): Promise<void> {
  for await (const chunk of source) {
    if (!process.stdout.write(chunk as Buffer)) await once(process.stdout, 'drain');
  }
}

export function registerArchiveSearch(archive: Command): void {
  withFilterFlags(
    archive.command('search').description('find archived messages, newest first (metadata only; audited with the filter names)'),
  )
    .option('--limit <n>', 'entries per page (1 to 1000)', '50')
    .option('--after <id>', 'the next page: the queue id of the last entry of the previous one')
    .option('--json', 'a JSON array of entries')
    .action(async (opts: SearchOptions, cmd: Command) => {
      const raw: RawSearch = { ...filtersOf(opts), limit: opts.limit, after: opts.after };
      await withArchive(cmd, async (db, keyring) => {
        let result: SearchResult;
        try {
          const parsed = parseSearch(raw, Date.now(), (s) => queryTerms(keyring, s));
          // its counts and its page from one snapshot, while the nodes go on archiving
          result = await db.readSnapshot((q) => searchArchive(q, parsed));
        } catch (err) {
          usage(err);
        }
        await audit(db, { type: 'archive:searched', data: { operator: operatorName(), via: 'cli', filters: filterNames(raw), results: result.entries.length } });
        process.stdout.write(`${opts.json ? JSON.stringify(result.entries) : formatSearch(result)}\n`);
      });
    });
  archive
    .command('show <id>')
    .description("an entry's metadata, verdict and per-recipient evidence (audited); with --content --reason, the original message on stdout")
    .option('--json', 'JSON output')
    .option('--content', 'write the original message (MIME, byte for byte) to stdout instead; needs --reason')
    .option('--reason <text>', `why the content is opened (recorded in the audit log; at most ${MAX_REASON} characters)`)
    .action(async (idArg: string, opts: { json?: boolean; content?: boolean; reason?: string }, cmd: Command) => {
      const id = checkId(idArg);
      if (!opts.content && opts.reason !== undefined) throw new CliExit(EXIT_USAGE, '--reason goes with --content');
      if (opts.content && opts.json) throw new CliExit(EXIT_USAGE, '--content writes the message itself; leave out --json');
      const reason = opts.content ? checkReason(opts.reason) : undefined;
      await withArchive(cmd, async (db, keyring, config) => {
        if (reason === undefined) {
          // the entry's row and its recipients' from one snapshot, while the nodes go on delivering
          const entry = await db.readSnapshot((q) => showArchiveEntry(q, keyring, id));
          if (!entry) throw new CliExit(EXIT_FAILURE, `no archive entry ${id}`);
          await audit(db, { type: 'archive:read', data: { queueId: id, operator: operatorName(), via: 'cli' } });
          process.stdout.write(`${opts.json ? JSON.stringify(entry) : formatShow(entry)}\n`);
          return;
        }
        const key = await entryKey(db, id);
        if (!key) throw new CliExit(EXIT_FAILURE, `no archive entry ${id}`);
        if (key === 'purged') throw new CliExit(EXIT_FAILURE, `archive entry ${id} was purged: its key was destroyed and its content cannot be read (its metadata and evidence remain: archive show ${id})`);
        if (!keyring.has(key.keyId)) throw new CliExit(EXIT_FAILURE, `archive entry ${id} is sealed under master key ${key.keyId}, which is not loaded; add its key file to keys.previousKeyFiles`);
        // recorded before a byte is read: no content leaves without its audit record
        await audit(db, { type: 'archive:content_opened', data: { queueId: id, operator: operatorName(), via: 'cli', reason } });
        const objects = await openObjectStore(config);
        try {
          await toStdout(readArchiveContent(pendingAware(objects, db), keyring, key));
        } catch (err) {
          throw new CliExit(EXIT_FAILURE, `archive entry ${id}: the content could not be read (${(err as Error).message})`);
        } finally {
          objects.close();
        }
      }, reason === undefined ? undefined : 'archive show --content');
    });
}
