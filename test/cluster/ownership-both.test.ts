/**
 * Which messages a node's inspection and archive stages take
 * (src/cluster/ownership.ts), on both databases: on PostgreSQL the mail it
 * accepted, mail no node owns, and the mail of nodes that stopped or whose
 * heartbeat is older than three intervals — never the mail of another live
 * node; on SQLite (one node owns the file) everything.
 */
import { describe, expect, it } from 'vitest';
import { registerNode, markStopped } from '../../src/cluster/nodes.js';
import { ownedMessages } from '../../src/cluster/ownership.js';
import { insertQueuedMessage, internalMessage } from '../../src/queue/store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';

const dbs = bothDatabases();
const T = Date.UTC(2026, 11, 6, 12);
const BEAT = 10_000;
const owner = { id: 'me/1/aa', heartbeatMs: () => BEAT };

describe('ownedMessages (pure)', () => {
  it.each([
    ['sqlite', owner, ''],
    ['postgres', undefined, ''],
  ] as const)('no condition on %s with owner %o', (dialect, o, sql) => {
    expect(ownedMessages(dialect, o, T)).toEqual({ sql, params: [] });
  });

  it('on PostgreSQL: own, nobody’s, or a node not live since three beats', () => {
    const r = ownedMessages('postgres', owner, T, 'm');
    expect(r.sql).toBe(' AND (m.accepted_by IS NULL OR m.accepted_by = ? OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = m.accepted_by AND n.stopped_at IS NULL AND n.heartbeat_at >= ?))');
    expect(r.params).toEqual(['me/1/aa', T - 3 * BEAT]);
  });
});

describe.each(DIALECTS)('the stages’ messages on %s', (kind) => {
  it('takes its own, nobody’s, a stopped node’s and a stale node’s mail; leaves a live node’s', async () => {
    const db = await dbs.fresh(kind);
    await registerNode(db, { id: 'me/1/aa', hostname: 'me', address: '', version: '1' }, T);
    await registerNode(db, { id: 'live/2/bb', hostname: 'live', address: '', version: '1' }, T - BEAT);
    await registerNode(db, { id: 'stale/3/cc', hostname: 'stale', address: '', version: '1' }, T - 3 * BEAT - 1);
    await registerNode(db, { id: 'gone/4/dd', hostname: 'gone', address: '', version: '1' }, T - BEAT);
    await markStopped(db, 'gone/4/dd', T - 1000);
    const byNode: Record<string, string | undefined> = { M1: 'me/1/aa', M2: 'live/2/bb', M3: 'stale/3/cc', M4: 'gone/4/dd', M5: undefined, M6: 'never/5/ee' };
    await db.transaction(async (tx) => {
      for (const [id, acceptedBy] of Object.entries(byNode)) {
        await insertQueuedMessage(tx, { ...internalMessage({ id, createdAt: T, size: 1, spoolKeyId: 'k', helo: 'h', requirement: 'may', recipients: ['a@example.net'] }), inspected: false, archived: false, acceptedBy });
      }
    });
    const owned = ownedMessages(db.dialect, owner, T);
    const rows = await db.all<{ id: string }>(`SELECT id FROM messages WHERE inspected = 0${owned.sql} ORDER BY id`, [...owned.params]);
    // on PostgreSQL a live node's mail is its own; a node with no row at all is no longer live
    expect(rows.map((r) => r.id)).toEqual(kind === 'postgres' ? ['M1', 'M3', 'M4', 'M5', 'M6'] : ['M1', 'M2', 'M3', 'M4', 'M5', 'M6']);
    expect(await db.all('SELECT accepted_by FROM messages WHERE id = ?', ['M2'])).toEqual([{ accepted_by: 'live/2/bb' }]);
  });
});
