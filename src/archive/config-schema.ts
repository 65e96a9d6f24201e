/**
 * The `archive` section of the config (issue 14's contract names
 * `archive.enabled`, `archive.retention`, `archive.journalTo`).
 */
import { z } from 'zod';
import { duration } from '../config/duration.js';

const DAY = 86_400_000;

export const archiveSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Keep an encrypted copy of every accepted message (and every portal reply) with its per-recipient evidence in the archive; delivery of a message waits until it is archived.'),
    retention: duration(DAY)
      .default(6 * 365 * DAY)
      .describe('How long an archive entry is kept after it was received (HIPAA: 6 years), e.g. "6y", "2555d"; a legal hold keeps an entry longer.'),
    journalTo: z
      .email()
      .nullable()
      .default(null)
      .describe('Also send a copy of every archived message to this address (an external archive or journaling mailbox), through the queue over verified TLS; null: no journaling.'),
  })
  .prefault({})
  .describe('The archive (docs/archive.md): what was sent, to whom, how each recipient was protected, tamper-evident.');
