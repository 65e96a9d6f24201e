/**
 * The `alerts` section: where operational alerts go (mail through the queue,
 * a webhook, or both) and the thresholds that raise them. Alerts carry causes
 * and counts, never message content or addresses (docs/alerts.md).
 */
import { z } from 'zod';
import { duration } from '../config/duration.js';

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

export function alertsSchema() {
  return z
    .strictObject({
      to: z.array(z.string().regex(ADDRESS, { message: 'expected a mail address, e.g. "mail-admins@example.org"' })).max(20).default([]).describe('Addresses that get each alert by mail, through the queue like any other message (none: no alert mail).'),
      webhookUrl: z
        .string()
        .url()
        .refine((u) => u.startsWith('https://'), { message: 'the webhook must be an https:// URL (alerts name domains and hosts)' })
        .nullable()
        .default(null)
        .describe('An https:// URL that gets each alert as a JSON POST, retried (3 attempts); null: none.'),
      period: duration(60_000).default(3_600_000).describe('One alert per cause per period; repeats of the cause within it are counted, not sent.'),
      checkInterval: duration(1000).default(60_000).describe('How often the gateway looks for alert causes.'),
      tlsFailures: z.number().int().min(0).default(10).describe('Alert when this many delivery attempts fail their required transport security (4.7.5) within one period; 0: never.'),
      queueBacklog: z.number().int().min(0).default(5000).describe('Alert when more recipients than this wait in the queue (queued or deferred); 0: never.'),
      oldestMessage: duration(0).default(14_400_000).describe('Alert when a message has waited longer than this for delivery; 0: never.'),
      certificateExpiry: duration(0).default(21 * 86_400_000).describe('Alert when a listener certificate (SMTP, portal, console) or the delivery client certificate expires within this time; 0: never.'),
      chainVerifyInterval: duration(60_000).default(86_400_000).describe('How often the whole audit chain is verified in the background (new events are verified at every check); a break raises an alert.'),
    })
    .prefault({})
    .describe('Operational alerts (posture downgrades, TLS enforcement failures, DLP blocks, queue backlog and age, low disk, audit chain breaks, expiring certificates) by mail and/or webhook.');
}
