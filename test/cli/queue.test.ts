/**
 * `sealgate queue …` against a running daemon: the CLI is a second process
 * on the same SQLite file (WAL) and spool. Messages are queued through real
 * SMTP, then listed, shown, held, released, retried and deleted; every change
 * is in the audit log, and no command prints message content.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { spooledAt, withDb } from '../helpers/spool-reader.js';

let setup: TestSetup;
let gw: RunningGateway;
const ids: string[] = [];
const SECRET = 'Patient Jane Roe MRN 0042 body text';

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }] });
  gw = await startGateway(setup.configPath);
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  for (const rcpts of [['bob@one.example'], ['carol@two.example', 'dave@one.example'], ['erin@three.example']]) {
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    for (const r of rcpts) expect((await client.command(`RCPT TO:<${r}> NOTIFY=FAILURE`)).code).toBe(250);
    const reply = await client.data(dataPayload(`From: alice@example.com\r\nSubject: ${SECRET}\r\n\r\n${SECRET}\r\n`));
    ids.push(queueIdOf(reply) ?? 'missing');
  }
  await client.quit();
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'queue', ...args]);

describe('sealgate queue', () => {
  it('lists queued messages, filtered by domain and state, as a table and as JSON', async () => {
    const table = await cli('list');
    expect(table.code).toBe(0);
    for (const id of ids) expect(table.stdout).toContain(id);
    expect(table.stdout).toMatch(/^QUEUE ID\s+AGE\s+SIZE\s+CONNECTOR\s+RCPTS\s+STATES\s+SENDER$/m);
    expect(table.stdout).toContain('-- 3 messages');
    expect(table.stdout).not.toContain(SECRET);

    const one = JSON.parse((await cli('list', '--domain', 'one.example', '--json')).stdout) as { id: string; recipients: number }[];
    expect(one.map((m) => m.id)).toEqual([ids[0], ids[1]]);
    expect(one[1]?.recipients).toBe(2);

    const held = JSON.parse((await cli('list', '--state', 'held', '--json')).stdout) as unknown[];
    expect(held).toEqual([]);
    const bad = await cli('list', '--state', 'lost');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('shows the envelope and recipients of one message without its content', async () => {
    const shown = await cli('show', ids[1] ?? '');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('sender:      alice@example.com');
    expect(shown.stdout).toMatch(/1\. carol@two\.example {2}queued {2}attempts 0 .*NOTIFY=FAILURE/);
    expect(shown.stdout).toMatch(/2\. dave@one\.example {2}queued/);
    expect(shown.stdout).not.toContain(SECRET);
    const json = JSON.parse((await cli('show', ids[1] ?? '', '--json')).stdout) as { recipients: { address: string; state: string }[] };
    expect(json.recipients.map((r) => r.state)).toEqual(['queued', 'queued']);
  });

  it('reports unknown and malformed ids with one line and a non-zero exit', async () => {
    const missing = await cli('show', '00000000000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('sealgate: no queued message 00000000000000000000\n');
    const malformed = await cli('show', 'nope');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('holds, releases and retries while the daemon runs, and audits each change', async () => {
    const hold = await cli('hold', ids[0] ?? '');
    expect(hold.stdout).toBe(`held ${ids[0]}: 1 recipient\n`);
    const heldList = JSON.parse((await cli('list', '--state', 'held', '--json')).stdout) as { id: string }[];
    expect(heldList.map((m) => m.id)).toEqual([ids[0]]);

    const stats = JSON.parse((await cli('stats', '--json')).stdout) as { messages: number; recipients: Record<string, number>; topDomains: { domain: string; recipients: number }[] };
    expect(stats.messages).toBe(3);
    expect(stats.recipients).toEqual({ held: 1, queued: 3 });
    expect(stats.topDomains[0]).toEqual({ domain: 'one.example', recipients: 2 });

    const release = await cli('release', '--all');
    expect(release.stdout).toContain(`released ${ids[0]}: 1 recipient`);
    expect(release.stdout).toContain('released 1 message, 1 recipients');
    const retry = await cli('retry', ids[2] ?? '');
    expect(retry.code).toBe(0);
    const state = await withDb(setup.dataDir, (db) => db.all<{ state: string }>('SELECT state FROM recipients ORDER BY message_id, seq'));
    expect(state.map((s) => s.state)).toEqual(['queued', 'queued', 'queued', 'queued']);

    const usage = await cli('hold');
    expect(usage.code).toBe(2);

    const audit = await runCli(['-c', setup.configPath, 'audit', 'tail', '--json', '-n', '5']);
    const types = audit.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string; data: { operator?: string } }));
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(['queue:held', 'queue:released', 'queue:retried']));
    expect(types.find((t) => t.type === 'queue:held')?.data.operator).toBeTruthy();
    expect((await runCli(['-c', setup.configPath, 'audit', 'verify'])).code).toBe(0);
  });

  it('deletes a message: rows, spooled content, audit event', async () => {
    const id = ids[2] ?? '';
    // a small message: its encrypted content is a database row (queue.inlineMaxBytes), not a file
    expect(await spooledAt(setup.dataDir, id)).toBe('inline');
    const del = await cli('delete', id);
    expect(del.stdout).toBe(`deleted ${id}: 1 recipient\n`);
    expect(await spooledAt(setup.dataDir, id)).toBe('none');
    const left = JSON.parse((await cli('list', '--json')).stdout) as { id: string }[];
    expect(left.map((m) => m.id)).toEqual([ids[0], ids[1]]);
    const again = await cli('delete', id);
    expect(again.code).toBe(1);
    const audit = await runCli(['-c', setup.configPath, 'audit', 'tail', '--json', '-n', '1']);
    expect(JSON.parse(audit.stdout) as { type: string; data: { queueId: string } }).toMatchObject({ type: 'queue:deleted', data: { queueId: id } });
  });

  it('retry --all acts on every message (in batches sharing commits), one audit event each, and names none twice', async () => {
    const open = await withDb(setup.dataDir, (db) => db.all<{ id: string; n: number }>("SELECT message_id AS id, count(*) AS n FROM recipients WHERE state IN ('queued', 'deferred') GROUP BY message_id ORDER BY message_id"));
    expect(open.length).toBeGreaterThan(1);
    const before = (await withDb(setup.dataDir, (db) => db.get<{ n: number }>('SELECT max(seq) AS n FROM audit_log')))?.n ?? 0;
    const all = await cli('retry', '--all');
    expect(all.code).toBe(0);
    const recipients = open.reduce((a, m) => a + m.n, 0);
    expect(all.stdout.trim().split('\n')).toEqual([...open.map((m) => `retried ${m.id}: ${m.n} recipient${m.n === 1 ? '' : 's'}`), `retried ${open.length} messages, ${recipients} recipients`]);
    const events = await withDb(setup.dataDir, (db) => db.all<{ type: string; data: string }>('SELECT type, data FROM audit_log WHERE seq > ? ORDER BY seq', [before]));
    expect(events.map((e) => e.type)).toEqual(open.map(() => 'queue:retried'));
    expect(events.map((e) => (JSON.parse(e.data) as { queueId: string }).queueId).sort()).toEqual(open.map((m) => m.id));
    expect((await runCli(['-c', setup.configPath, 'audit', 'verify'])).code).toBe(0);
  });
});
