/**
 * `queue summary`'s queries (src/queue/summary.ts) are portable SQL: the
 * same queue shape (test/helpers/queue-shape.ts) gives the same summary on
 * SQLite and on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { queueSummary } from '../../src/queue/summary.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';
import { SHAPE_SUMMARY, writeQueueShape } from '../helpers/queue-shape.js';

const dbs = bothDatabases();

describe.each(DIALECTS)('queue summary on %s', (kind) => {
  it('gives the figures of the queue shape', async () => {
    const db = dbs.get(kind);
    const now = Date.now();
    await writeQueueShape(db, now);
    const { at, oldestCreatedAt, ...rest } = await queueSummary(db, now);
    expect(rest).toEqual(SHAPE_SUMMARY);
    expect(at).toBe(now);
    expect(oldestCreatedAt).toBe(now - 3 * 86_400_000);
    const one = await queueSummary(db, now, 1);
    expect(one.domains).toMatchObject({ top: 1, total: 4, otherRecipients: 5 });
    expect(one.deferrals).toMatchObject({ recipients: 5, otherRecipients: 2 });
  });
});
