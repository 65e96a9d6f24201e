/**
 * insertQueuedMessage on both databases: SQLite writes a message's rows and
 * its inline content with one statement (the view queue_message_insert,
 * migration 35), PostgreSQL with one per table; the rows must be the same —
 * every column, recipients numbered from 1 in envelope order, held when the
 * message is held, the inline content only when given — and a failing
 * insert (a duplicate id) leaves nothing of the message behind. With
 * `atCommit` (accepting a message) a SQLite group commit writes the rows of
 * all the messages its transactions queued with one statement before its
 * COMMIT: the same rows, none from a transaction that failed, and one that
 * cannot be written fails the whole group. A message's inline content goes
 * with its messages row, whoever deletes it (trigger messages_inline_gone,
 * migration 36). The facts the ingress hands to inspection without reading
 * them back (messageFactsRow) are the row's, as the database gives them.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS, bothDatabases } from '../helpers/both-databases.js';
import { insertQueuedMessage, MESSAGE_FACTS_COLUMNS, messageFactsRow, type QueuedMessage } from '../../src/queue/store.js';
import type { InlineContent } from '../../src/spool/spool.js';

const dbs = bothDatabases();

function message(id: string, over: Partial<QueuedMessage> = {}): QueuedMessage {
  return {
    id, createdAt: 1_765_000_000_000, sender: 'alice@example.com', size: 2048, spoolKeyId: 'k1', listener: 'relay', connector: 'bench',
    clientIp: '127.0.0.1', helo: 'client.test', tlsVersion: 'TLSv1.3', authUser: undefined, bodyType: '8BITMIME', smtputf8: true, requireTls: false,
    dsnRet: 'HDRS', dsnEnvid: 'env-1', bareLineEndings: 2, requirement: 'may', acceptedBy: 'node-a',
    recipients: [
      { address: 'b@One.Test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;b@one.test' },
      { address: 'c@two.test' },
      { address: 'd@one.test', notify: ['NEVER'] },
    ],
    ...over,
  };
}

/** Inline content as the spool hands it over, noting how it was written. */
function inlineContent(content: Buffer): InlineContent & { how: string[] } {
  const how: string[] = [];
  return {
    content,
    how,
    store: async (tx) => {
      how.push('store');
      await tx.run('INSERT INTO spool_inline (id, data) VALUES (?, ?)', ['placeholder', content]);
    },
    written: () => how.push('written'),
  };
}

describe.each(DIALECTS)('%s', (kind) => {
  it.each<[string, Partial<QueuedMessage>]>([
    ['TLS, SMTPUTF8, no user', {}],
    ['plain, 7BIT, an authenticated user', { tlsVersion: undefined, authUser: 'staff@example.com', smtputf8: false, bodyType: '7BIT' }],
    ['null sender, a large size', { sender: '', size: 52_428_800 }],
  ])('messageFactsRow is the committed row as read back (%s)', async (name, over) => {
    const db = dbs.get(kind);
    const id = `FACT${name.length}${kind}`;
    const m = message(id, over);
    await db.transaction((tx) => insertQueuedMessage(tx, m, undefined, { atCommit: true }));
    const row = await db.get<Record<string, unknown>>(`SELECT ${MESSAGE_FACTS_COLUMNS} FROM messages WHERE id = ?`, [id]);
    expect({ ...row, created_at: Number(row?.created_at), size: Number(row?.size), smtputf8: Number(row?.smtputf8) }).toEqual(messageFactsRow(m));
  });

  it('writes the message row, its recipients in order and its inline content', async () => {
    const db = dbs.get(kind);
    const content = Buffer.from('SGSPOOL1 ciphertext stand-in');
    const inline = inlineContent(content);
    await db.transaction((tx) => insertQueuedMessage(tx, message(`INS1${kind}`), inline));
    const m = await db.get<Record<string, unknown>>(
      'SELECT created_at, sender, size, spool_key_id, listener, connector, client_ip, helo, tls_version, auth_user, body_type, smtputf8, requiretls, dsn_ret, dsn_envid, bare_line_endings, inspected, route, archived, accepted_by FROM messages WHERE id = ?',
      [`INS1${kind}`],
    );
    expect({ ...m, created_at: Number(m?.created_at), size: Number(m?.size) }).toEqual({
      created_at: 1_765_000_000_000, sender: 'alice@example.com', size: 2048, spool_key_id: 'k1', listener: 'relay', connector: 'bench', client_ip: '127.0.0.1',
      helo: 'client.test', tls_version: 'TLSv1.3', auth_user: null, body_type: '8BITMIME', smtputf8: 1, requiretls: 0, dsn_ret: 'HDRS', dsn_envid: 'env-1',
      bare_line_endings: 2, inspected: 1, route: null, archived: 1, accepted_by: 'node-a',
    });
    const rs = await db.all<Record<string, unknown>>('SELECT seq, address, domain, state, next_attempt, dsn_notify, dsn_orcpt, requirement, method FROM recipients WHERE message_id = ? ORDER BY seq', [`INS1${kind}`]);
    expect(rs.map((r) => ({ ...r, seq: Number(r.seq), next_attempt: Number(r.next_attempt) }))).toEqual([
      { seq: 1, address: 'b@One.Test', domain: 'one.test', state: 'queued', next_attempt: 1_765_000_000_000, dsn_notify: 'SUCCESS,FAILURE', dsn_orcpt: 'rfc822;b@one.test', requirement: 'may', method: null },
      { seq: 2, address: 'c@two.test', domain: 'two.test', state: 'queued', next_attempt: 1_765_000_000_000, dsn_notify: null, dsn_orcpt: null, requirement: 'may', method: null },
      { seq: 3, address: 'd@one.test', domain: 'one.test', state: 'queued', next_attempt: 1_765_000_000_000, dsn_notify: 'NEVER', dsn_orcpt: null, requirement: 'may', method: null },
    ]);
    if (kind === 'sqlite') {
      // one statement wrote the content under the message's id
      expect(inline.how).toEqual(['written']);
      const row = await db.get<{ data: Buffer }>('SELECT data FROM spool_inline WHERE id = ?', [`INS1${kind}`]);
      expect(Buffer.from(row?.data ?? Buffer.alloc(0)).equals(content)).toBe(true);
    } else {
      expect(inline.how).toEqual(['store']);
    }
  });

  it('a held message starts with held recipients; without inline content no content row is written; its method is kept', async () => {
    const db = dbs.get(kind);
    await db.transaction((tx) => insertQueuedMessage(tx, message(`INS2${kind}`, { held: true, method: 'portal', inspected: false, archived: false, route: '127.0.0.9:2525' })));
    const rs = await db.all<{ state: string; method: string }>('SELECT state, method FROM recipients WHERE message_id = ? ORDER BY seq', [`INS2${kind}`]);
    expect(rs).toEqual([{ state: 'held', method: 'portal' }, { state: 'held', method: 'portal' }, { state: 'held', method: 'portal' }]);
    const m = await db.get<{ inspected: number; archived: number; route: string }>('SELECT inspected, archived, route FROM messages WHERE id = ?', [`INS2${kind}`]);
    expect(m).toEqual({ inspected: 0, archived: 0, route: '127.0.0.9:2525' });
    expect(await db.get('SELECT id FROM spool_inline WHERE id = ?', [`INS2${kind}`])).toBeUndefined();
  });

  it('a duplicate id fails the insert and leaves the first message as it was, with no extra recipients', async () => {
    const db = dbs.get(kind);
    await db.transaction((tx) => insertQueuedMessage(tx, message(`INS3${kind}`)));
    await expect(db.transaction((tx) => insertQueuedMessage(tx, message(`INS3${kind}`, { sender: 'mallory@example.com', recipients: [{ address: 'x@y.test' }] })))).rejects.toThrow();
    expect(await db.get<{ sender: string }>('SELECT sender FROM messages WHERE id = ?', [`INS3${kind}`])).toEqual({ sender: 'alice@example.com' });
    expect(Number((await db.get<{ n: number | string }>('SELECT count(*) AS n FROM recipients WHERE message_id = ?', [`INS3${kind}`]))?.n)).toBe(3);
  });

  it('atCommit: the messages a group queued are written at its COMMIT, the same rows; a failing transaction of the group takes its message back', async () => {
    const db = dbs.get(kind);
    const ids = [0, 1, 2, 3, 4].map((n) => `INS4${kind}${n}`);
    const seenInside: number[] = [];
    const results = await Promise.allSettled(
      ids.map((id, n) =>
        db.transaction(async (tx) => {
          const content = Buffer.from(`content ${n}`);
          // PostgreSQL's inline store writes the content under the message's id in the caller's transaction
          const inline: InlineContent = { content, store: async (q) => void (await q.run('INSERT INTO spool_inline (id, data) VALUES (?, ?)', [id, content])), written: () => undefined };
          await insertQueuedMessage(tx, message(id, { recipients: [{ address: `r${n}@one.test` }, { address: `s${n}@two.test` }] }), inline, { atCommit: true });
          seenInside.push(Number((await tx.get<{ n: number | string }>('SELECT count(*) AS n FROM messages WHERE id = ?', [id]))?.n));
          if (n === 2) throw new Error('this one fails');
        }, { rerunnable: true }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    // SQLite: not there before the group's COMMIT; PostgreSQL: written at once
    expect(new Set(seenInside)).toEqual(new Set([kind === 'sqlite' ? 0 : 1]));
    const rows = await db.all<{ message_id: string; seq: number | string; address: string }>(`SELECT message_id, seq, address FROM recipients WHERE message_id LIKE 'INS4${kind}%' ORDER BY message_id, seq`);
    expect(rows.map((r) => `${r.message_id}/${Number(r.seq)}/${r.address}`)).toEqual([0, 1, 3, 4].flatMap((n) => [`${ids[n]}/1/r${n}@one.test`, `${ids[n]}/2/s${n}@two.test`]));
    const content = await db.all<{ id: string; data: Buffer }>(`SELECT id, data FROM spool_inline WHERE id LIKE 'INS4${kind}%' ORDER BY id`);
    expect(content.map((c) => `${c.id}:${Buffer.from(c.data).toString()}`)).toEqual([0, 1, 3, 4].map((n) => `${ids[n]}:content ${n}`));
  });

  // SQLite only: PostgreSQL writes the rows at once, so a duplicate fails its own transaction (the test above)
  if (kind === 'sqlite') it('atCommit: rows that cannot be written at the COMMIT (a duplicate id) fail every transaction of the group, and nothing of it is in', async () => {
    const db = dbs.get(kind);
    await db.transaction((tx) => insertQueuedMessage(tx, message(`INS5${kind}dup`)));
    const results = await Promise.allSettled([
      db.transaction((tx) => insertQueuedMessage(tx, message(`INS5${kind}a`), undefined, { atCommit: true })),
      db.transaction((tx) => insertQueuedMessage(tx, message(`INS5${kind}dup`, { sender: 'mallory@example.com' }), undefined, { atCommit: true })),
      db.transaction((tx) => tx.run('INSERT INTO spool_inline (id, data) VALUES (?, ?)', [`INS5${kind}other`, Buffer.from('x')])),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await db.get('SELECT id FROM messages WHERE id = ?', [`INS5${kind}a`])).toBeUndefined();
    expect(await db.get('SELECT id FROM spool_inline WHERE id = ?', [`INS5${kind}other`])).toBeUndefined();
    expect(await db.get<{ sender: string }>('SELECT sender FROM messages WHERE id = ?', [`INS5${kind}dup`])).toEqual({ sender: 'alice@example.com' });
  });

  it('deleting a messages row deletes its inline content with it, and no other', async () => {
    const db = dbs.get(kind);
    for (const id of [`INS6${kind}a`, `INS6${kind}b`]) {
      const content = Buffer.from(`content of ${id}`);
      const inline: InlineContent = { content, store: async (q) => void (await q.run('INSERT INTO spool_inline (id, data) VALUES (?, ?)', [id, content])), written: () => undefined };
      await db.transaction((tx) => insertQueuedMessage(tx, message(id), inline));
    }
    await db.transaction((tx) => tx.run('DELETE FROM messages WHERE id = ?', [`INS6${kind}a`]));
    expect(await db.all(`SELECT id FROM spool_inline WHERE id LIKE 'INS6${kind}%' ORDER BY id`)).toEqual([{ id: `INS6${kind}b` }]);
    expect(Number((await db.get<{ n: number | string }>('SELECT count(*) AS n FROM recipients WHERE message_id = ?', [`INS6${kind}a`]))?.n)).toBe(0);
  });
});
