/**
 * The search filters every archive command that selects entries takes
 * (`archive search`, `hold`/`release` per search, `export`): one set of
 * flags, one help text, one mapping to the search's input.
 */
import type { Command } from 'commander';
import type { RawSearch } from '../../archive/search.js';

/** The filter flags as commander hands them over. */
export interface FilterFlags {
  from?: string;
  to?: string;
  domain?: string;
  since?: string;
  until?: string;
  subject?: string;
  category?: string;
  method?: string;
  state?: string;
  queueId?: string;
  messageId?: string;
}

/** Adds the filter flags to `cmd`. */
export function withFilterFlags(cmd: Command): Command {
  return cmd
    .option('--from <address>', 'envelope sender (<> for the null sender)')
    .option('--to <address>', 'a recipient')
    .option('--domain <domain>', "the sender's or a recipient's domain")
    .option('--since <time>', 'received at or after: 2026-12-01, 2026-12-01T08:30:00Z, or ago: 30m, 12h, 7d, 1y')
    .option('--until <time>', 'received before (same forms as --since)')
    .option('--subject <words>', 'every word must be in the subject (matched by keyed hash, case-insensitive)')
    .option('--category <name>', 'a DLP category found in the message, e.g. SSN')
    .option('--method <method>', 'a recipient protected by this method (tls-verified, pgp, smime, portal, …)')
    .option('--state <state>', 'a recipient in this state (delivered, bounced, held, deleted, …)')
    .option('--queue-id <id>', 'the queue id')
    .option('--message-id <id>', 'the Message-ID header (with or without <>)');
}

/** The search input of the given flags (paging left to the caller). */
export function filtersOf(f: FilterFlags): RawSearch {
  return {
    from: f.from,
    to: f.to,
    domain: f.domain,
    since: f.since,
    until: f.until,
    subject: f.subject,
    category: f.category,
    method: f.method,
    state: f.state,
    queueId: f.queueId,
    messageId: f.messageId,
  };
}
