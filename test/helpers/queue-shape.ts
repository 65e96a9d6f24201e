/**
 * A small queue of a known shape for `queue summary` (src/queue/summary.ts):
 * six messages queued through the queue store (insertQueuedMessage, as
 * ingress writes them) at ages in each age bucket, five recipients then
 * deferred as the delivery engine records a temporary failure, one held as
 * `queue hold` leaves it; and the summary those rows must give. Local parts
 * (patient.jane, roe.john) and the sender appear in the rows and in reply
 * texts, never in a summary.
 */
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { insertQueuedMessage, type QueuedMessage } from '../../src/queue/store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Local parts and the sender in the rows: a summary prints none of them. */
export const PRIVATE_TEXTS = ['patient.jane', 'roe.john', 'a2@', 'secret.sender'];

export const shapeId = (n: number): string => `SUMMARY${String(n).padStart(13, '0')}`;

function message(id: string, createdAt: number, recipients: readonly string[]): QueuedMessage {
  return {
    id, createdAt, sender: 'secret.sender@example.com', size: 1000, spoolKeyId: 'k', listener: 'relay', connector: 'loopback', clientIp: '127.0.0.1', helo: 'client.test',
    tlsVersion: undefined, authUser: undefined, bodyType: '7BIT', smtputf8: false, requireTls: false, dsnRet: undefined, dsnEnvid: undefined,
    bareLineEndings: 0, recipients: recipients.map((address) => ({ address })), requirement: 'may',
  };
}

/** Writes the shape with ages counted back from `now`. */
export async function writeQueueShape(db: SqlDatabase, now: number): Promise<void> {
  // ages far from the bucket edges (5m, 1h, 4h, 1d), so a summary a few seconds later gives the same figures
  const plan: [age: number, rcpts: string[]][] = [
    [1 * MIN, ['patient.jane@big.test', 'roe.john@big.test']],
    [1 * MIN, ['a1@big.test']],
    [30 * MIN, ['a2@big.test', 'b1@mid.test']],
    [2 * HOUR, ['b2@mid.test']],
    [10 * HOUR, ['c1@small.test']],
    [3 * 24 * HOUR, ['a3@big.test', 'b3@mid.test', 'd1@tiny.test']],
  ];
  await db.transaction(async (tx) => {
    for (const [i, [age, rcpts]] of plan.entries()) await insertQueuedMessage(tx, message(shapeId(i), now - age, rcpts));
    // deferred as the engine's record step writes it (src/delivery/engine.ts): three 452 4.2.2 quoting the recipient,
    // one 451 4.7.1 over two lines, one connection failure (no reply code)
    const deferrals: [n: number, seq: number, code: number | null, enhanced: string | null, text: string][] = [
      [0, 1, 452, '4.2.2', 'Mailbox full: <patient.jane@big.test>'],
      [0, 2, 452, '4.2.2', 'Mailbox full: <roe.john@big.test>'],
      [2, 1, 452, '4.2.2', 'Mailbox full: <a2@big.test>'],
      [2, 2, 451, '4.7.1', 'Greylisted,\r\n try again later'],
      [5, 1, null, null, 'connect ECONNREFUSED 127.0.0.9:25'],
    ];
    for (const [n, seq, code, enhanced, text] of deferrals) {
      await tx.run(
        `UPDATE recipients SET state = 'deferred', attempts = attempts + 1, next_attempt = ?, last_attempt_at = ?, last_code = ?, last_enhanced = ?, last_mx = ?, last_error = ?
          WHERE message_id = ? AND seq = ?`,
        [now + HOUR, now, code, enhanced, 'mx.test', text, shapeId(n), seq],
      );
    }
    // held as `queue hold` leaves a queued recipient (src/queue/admin.ts)
    await tx.run(`UPDATE recipients SET state = 'held' WHERE message_id = ? AND state = 'queued'`, [shapeId(4)]);
  });
}

/** The summary of that shape (--top 20), less `at`. */
export const SHAPE_SUMMARY = {
  messages: 6,
  bytes: 6000,
  recipients: { queued: 4, 'in-flight': 0, deferred: 5, delivered: 0, bounced: 0, held: 1, expired: 0 },
  ages: [
    { bucket: '<5m', messages: 2 },
    { bucket: '<1h', messages: 1 },
    { bucket: '<4h', messages: 1 },
    { bucket: '<1d', messages: 1 },
    { bucket: 'older', messages: 1 },
  ],
  domains: {
    top: 20,
    total: 4,
    lines: [
      { domain: 'big.test', recipients: 5, states: { queued: 1, 'in-flight': 0, deferred: 4, held: 0 } },
      { domain: 'mid.test', recipients: 3, states: { queued: 2, 'in-flight': 0, deferred: 1, held: 0 } },
      // a tie, by name
      { domain: 'small.test', recipients: 1, states: { queued: 0, 'in-flight': 0, deferred: 0, held: 1 } },
      { domain: 'tiny.test', recipients: 1, states: { queued: 1, 'in-flight': 0, deferred: 0, held: 0 } },
    ],
    otherRecipients: 0,
  },
  deferrals: {
    recipients: 5,
    // most first; a tie by code, no code (a connection failure) first
    reasons: [
      { code: 452, enhanced: '4.2.2', recipients: 3, example: 'Mailbox full: <…@big.test>' },
      { code: null, enhanced: null, recipients: 1, example: 'connect ECONNREFUSED 127.0.0.9:25' },
      { code: 451, enhanced: '4.7.1', recipients: 1, example: 'Greylisted, try again later' },
    ],
    otherRecipients: 0,
  },
};
