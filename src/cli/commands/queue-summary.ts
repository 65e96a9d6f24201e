/**
 * `sealgate queue summary [--top N] [--json]`: the shape of the queue on one
 * screen (src/queue/summary.ts), like Postfix's qshape. Domains only, never
 * a local part, a subject or content.
 */
import type { Command } from 'commander';
import type { SqlDatabase } from '../../db/sql-database.js';
import { DEFAULT_TOP, MAX_TOP, queueSummary, WAITING_STATES, type QueueSummary } from '../../queue/summary.js';
import { RECIPIENT_STATES } from '../../queue/states.js';
import { CliExit, EXIT_USAGE } from '../context.js';

/** Pure: rows as aligned columns, two spaces apart; numbers right-aligned, text left-aligned, the last column unpadded. */
export function columns(rows: readonly (readonly (string | number)[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  return rows.map((r) =>
    r
      .map((c, i) => {
        const text = String(c);
        if (typeof c === 'number') return text.padStart(widths[i] ?? 0);
        return i === r.length - 1 ? text : text.padEnd(widths[i] ?? 0);
      })
      .join('  ')
      .trimEnd(),
  );
}

/** A stored domain as one printable line (it came from a client's RCPT). */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, '?');
}

function age(ms: number): string {
  const m = Math.max(0, Math.floor(ms / 60_000));
  if (m < 60) return `${m}m`;
  if (m < 1440) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(m / 1440)}d${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}h`;
}

export function formatSummary(s: QueueSummary): string {
  const out = [
    `${s.messages} message${s.messages === 1 ? '' : 's'}, ${s.bytes} bytes${s.oldestCreatedAt === null ? '' : `, oldest ${age(s.at - s.oldestCreatedAt)}`}`,
    `recipients: ${RECIPIENT_STATES.map((st) => `${st} ${s.recipients[st]}`).join(', ')}`,
    '',
    ...columns([
      ['AGE', ...s.ages.map((a) => a.bucket)],
      ['messages', ...s.ages.map((a) => a.messages)],
    ]),
  ];
  const d = s.domains;
  out.push('', `waiting recipients by domain (${d.lines.length} of ${d.total}${d.total > d.lines.length ? `; --top for more` : ''}):`);
  const stateHeads = WAITING_STATES.map((st) => st.toUpperCase());
  if (d.lines.length === 0) out.push('  none');
  else {
    out.push(
      ...columns([
        ['DOMAIN', 'WAITING', ...stateHeads],
        ...d.lines.map((l) => [printable(l.domain), l.recipients, ...WAITING_STATES.map((st) => l.states[st] ?? 0)]),
        ...(d.otherRecipients > 0 ? [[`(${d.total - d.lines.length} other domains)`, d.otherRecipients]] : []),
      ]),
    );
  }
  const f = s.deferrals;
  out.push('', `deferred recipients by last reply (${f.recipients}; one example text each, addresses shown by domain only):`);
  if (f.reasons.length === 0) out.push('  none');
  else {
    out.push(
      ...columns([
        ['RECIPIENTS', 'CODE', 'ENHANCED', 'EXAMPLE'],
        ...f.reasons.map((r) => [r.recipients, r.code === null ? '-' : String(r.code), r.enhanced ?? '-', r.example || '-']),
        ...(f.otherRecipients > 0 ? [[f.otherRecipients, '', '', '(other replies)']] : []),
      ]),
    );
  }
  return out.join('\n');
}

/** Opens the queue database for a command and closes it after `fn` (queue.ts's withQueueDb). */
export type WithQueueDb = <T>(cmd: Command, fn: (db: SqlDatabase) => Promise<T>) => Promise<T>;

export function registerSummary(queue: Command, withQueueDb: WithQueueDb): void {
  queue
    .command('summary')
    .description('the shape of the queue on one screen, like qshape: recipients per state, messages per age, the busiest domains, the commonest deferral replies (domains only; fast at 100 000 messages)')
    .option('--top <n>', `domains and deferral replies listed (1 to ${MAX_TOP})`, String(DEFAULT_TOP))
    .option('--json', 'JSON output')
    .action(async (opts: { top: string; json?: boolean }, cmd: Command) => {
      const top = Number(opts.top);
      if (!/^\d+$/.test(opts.top) || !Number.isInteger(top) || top < 1 || top > MAX_TOP) throw new CliExit(EXIT_USAGE, `--top must be a whole number from 1 to ${MAX_TOP}`);
      await withQueueDb(cmd, async (db) => {
        // its four grouped queries from one snapshot: the figures add up while the nodes go on writing
        const summary = await db.readSnapshot((q) => queueSummary(q, Date.now(), top));
        process.stdout.write(`${opts.json ? JSON.stringify(summary) : formatSummary(summary)}\n`);
      });
    });
}
