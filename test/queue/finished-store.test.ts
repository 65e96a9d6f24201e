/**
 * The finished-messages store (src/queue/finished.ts) on both databases: a
 * message's queue rows copied into one finished row (recipients as JSON in
 * RCPT order), replaced when recorded again, read back by `queue show`, and
 * pruned in bounded batches; finishMessage writes the same row and removes
 * the queue rows (on SQLite in one statement, through the view of migration
 * 38). The daemon's path through it is in list-and-finished.test.ts (SQLite).
 */
import { describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { finishMessage, pruneFinished, recordFinished, showFinished, type FinishedRecipient } from '../../src/queue/finished.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = 1_800_000_000_000;

async function queueMessage(db: SqlDatabase, id: string, recipients: readonly Partial<FinishedRecipient>[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO messages (id, created_at, sender, size, spool_key_id, listener, connector, client_ip, helo, body_type)
       VALUES (?, ?, ?, ?, 'k1', 'relay', 'loopback', '127.0.0.1', 'client.test', '7BIT')`,
      [id, T, `alice@example.com`, 1234],
    );
    // the rows go in last RCPT first: the order read back must come from seq, not from the order of insertion
    for (let seq = recipients.length - 1; seq >= 0; seq--) {
      const r = recipients[seq] ?? {};
      await tx.run(
        `INSERT INTO recipients (message_id, seq, address, domain, state, next_attempt, attempts, last_error, last_attempt_at, last_code, last_enhanced, last_mx, finished_at, requirement, method)
         VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, seq, r.address ?? null, 'example.net', r.state ?? 'queued', r.attempts ?? 0, r.lastError ?? null, r.lastAttemptAt ?? null, r.lastCode ?? null, r.lastEnhanced ?? null, r.lastMx ?? null, r.finishedAt ?? null, r.requirement ?? 'may', r.method ?? null],
      );
    }
  });
}

const delivered: FinishedRecipient = {
  address: 'bob@example.net',
  state: 'delivered',
  attempts: 1,
  finishedAt: T + 10,
  lastAttemptAt: T + 10,
  lastCode: 250,
  lastEnhanced: '2.0.0',
  lastMx: 'mx.example.net',
  lastError: null,
  method: 'tls-verified',
  requirement: 'verify',
};
const bounced: FinishedRecipient = {
  address: 'zoë@example.net',
  state: 'bounced',
  attempts: 3,
  finishedAt: T + 20,
  lastAttemptAt: T + 20,
  lastCode: 550,
  lastEnhanced: '5.1.1',
  lastMx: 'mx.example.net',
  lastError: '550 5.1.1 "zoë" unknown \\ here',
  method: null,
  requirement: 'may',
};

describe.each(DIALECTS)('finished messages on %s', (kind) => {
  const db = () => dbs.get(kind);

  it('records a message and its recipients in RCPT order, and queue show reads them back', async () => {
    await queueMessage(db(), 'F1', [delivered, bounced]);
    await db().transaction((tx) => recordFinished(tx, 'F1', T + 30));
    expect(await showFinished(db(), 'F1')).toEqual({
      id: 'F1',
      finished: true,
      outcome: 'mixed',
      createdAt: T,
      finishedAt: T + 30,
      sender: 'alice@example.com',
      size: 1234,
      connector: 'loopback',
      clientIp: '127.0.0.1',
      recipients: [delivered, bounced],
    });
    expect(await showFinished(db(), 'nope')).toBeUndefined();
  });

  it('keeps RCPT order for many recipients, and a message without recipients has an empty list', async () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ ...delivered, address: `r${i}@example.net` }));
    await queueMessage(db(), 'F2', many);
    await queueMessage(db(), 'F3', []);
    await db().transaction(async (tx) => {
      await recordFinished(tx, 'F2', null);
      await recordFinished(tx, 'F3', null);
    });
    const f2 = await showFinished(db(), 'F2');
    expect(f2?.recipients.map((r) => r.address)).toEqual(many.map((r) => r.address));
    expect(f2).toMatchObject({ outcome: 'delivered', finishedAt: T }); // no time given: the creation time
    expect(await showFinished(db(), 'F3')).toMatchObject({ recipients: [], outcome: 'mixed' });
  });

  it('recording a message again replaces its row', async () => {
    await queueMessage(db(), 'F4', [{ ...bounced, state: 'deferred' }]);
    await db().transaction((tx) => recordFinished(tx, 'F4', T + 1));
    await db().run("UPDATE recipients SET state = 'bounced' WHERE message_id = 'F4'");
    await db().transaction((tx) => recordFinished(tx, 'F4', T + 2));
    expect(await showFinished(db(), 'F4')).toMatchObject({ outcome: 'bounced', finishedAt: T + 2, recipients: [bounced] });
    expect((await db().get<{ n: number }>("SELECT count(*) AS n FROM finished_messages WHERE id = 'F4'"))?.n).toBe(1);
  });

  /** A finished row as stored (its recipients' JSON parsed: the engines differ in whitespace only), without its id. */
  const stored = async (id: string): Promise<Record<string, unknown>> => {
    const row = await db().get<Record<string, unknown>>('SELECT created_at, finished_at, sender, size, connector, client_ip, recipients FROM finished_messages WHERE id = ?', [id]);
    return { ...row, created_at: Number(row?.created_at), finished_at: Number(row?.finished_at), size: Number(row?.size), recipients: JSON.parse(String(row?.recipients)) };
  };
  const queued = async (id: string): Promise<number> =>
    Number((await db().get<{ n: number }>('SELECT (SELECT count(*) FROM messages WHERE id = ?) + (SELECT count(*) FROM recipients WHERE message_id = ?) AS n', [id, id]))?.n);

  it.each([
    ['two recipients and a finish time', [delivered, bounced], T + 40],
    ['many recipients, no finish time (the creation time)', Array.from({ length: 25 }, (_, i) => ({ ...delivered, address: `r${i}@example.net` })), null],
    ['no recipients', [], T + 41],
  ] as const)('finishMessage writes the row recordFinished writes and removes the queue rows: %s', async (_name, recipients, at) => {
    const tag = `${recipients.length}-${at ?? 'none'}`;
    await queueMessage(db(), `RF${tag}`, recipients);
    await queueMessage(db(), `FM${tag}`, recipients);
    await db().transaction(async (tx) => {
      await recordFinished(tx, `RF${tag}`, at);
      await tx.run('DELETE FROM messages WHERE id = ?', [`RF${tag}`]);
    });
    await db().transaction((tx) => finishMessage(tx, `FM${tag}`, at));
    expect(await stored(`FM${tag}`)).toEqual(await stored(`RF${tag}`));
    expect(await stored(`FM${tag}`)).toMatchObject({ finished_at: at ?? T, sender: 'alice@example.com', size: 1234 });
    expect(await queued(`FM${tag}`)).toBe(0);
  });

  it('finishMessage replaces a finished row recorded before, and does nothing for a message that is gone', async () => {
    await queueMessage(db(), 'F5', [{ ...bounced, state: 'deferred' }]);
    await db().transaction((tx) => recordFinished(tx, 'F5', T + 1));
    await db().run("UPDATE recipients SET state = 'bounced' WHERE message_id = 'F5'");
    await db().transaction((tx) => finishMessage(tx, 'F5', T + 2));
    expect(await showFinished(db(), 'F5')).toMatchObject({ outcome: 'bounced', finishedAt: T + 2, recipients: [bounced] });
    expect((await db().get<{ n: number }>("SELECT count(*) AS n FROM finished_messages WHERE id = 'F5'"))?.n).toBe(1);
    expect(await queued('F5')).toBe(0);
    await db().transaction((tx) => finishMessage(tx, 'F5', T + 3));
    await db().transaction((tx) => finishMessage(tx, 'never-queued', T + 3));
    expect(await showFinished(db(), 'F5')).toMatchObject({ finishedAt: T + 2 });
    expect(await showFinished(db(), 'never-queued')).toBeUndefined();
  });

  it('prunes rows finished before a time, oldest first, at most a batch per call', async () => {
    await db().run('DELETE FROM finished_messages');
    for (let i = 0; i < 5; i++) {
      await queueMessage(db(), `P${i}`, [delivered]);
      await db().transaction((tx) => recordFinished(tx, `P${i}`, T + i));
    }
    expect(await pruneFinished(db(), T + 3, 2)).toBe(2);
    expect(await pruneFinished(db(), T + 3, 2)).toBe(1);
    expect(await pruneFinished(db(), T + 3, 2)).toBe(0);
    expect((await db().all<{ id: string }>('SELECT id FROM finished_messages ORDER BY id')).map((r) => r.id)).toEqual(['P3', 'P4']);
  });
});
