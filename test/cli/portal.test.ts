/**
 * `sealgate portal …` from the built CLI, against a running daemon: the CLI
 * is a second process on the same SQLite file (WAL) and object store. Portal
 * messages are deposited through the real PortalStore (the daemon does not
 * deposit yet), then listed, shown, revoked and purged; revocation and purge
 * destroy the keys and objects, every change is audited, and no command
 * prints message content.
 */
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { objectStoreRoot } from '../../src/objects/location.js';
import { PortalStore } from '../../src/portal/portal-store.js';
import { generateQueueId } from '../../src/queue/ids.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { withDb } from '../helpers/spool-reader.js';
import { credentialDigest, PasskeyStore } from '../../src/portal/passkey-store.js';

const SECRET = 'Patient Jane Roe MRN 0042 diagnosis zebra-fever';
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

let setup: TestSetup;
let gw: RunningGateway;
const T = Date.now();
const q = { active: generateQueueId(T - 3 * MIN, randomBytes), expired: generateQueueId(T - 120 * MIN, randomBytes), twice: generateQueueId(T - 2 * MIN, randomBytes) };
const dep: Record<'active' | 'expired' | 'twice1' | 'twice2', string> = { active: '', expired: '', twice1: '', twice2: '' };
const body = Buffer.from(`From: dr@example.com\r\nSubject: ${SECRET}\r\n\r\n${SECRET}\r\n`);
const recipients = [
  { address: 'pat@one.example', bcc: false },
  { address: 'hidden@two.example', bcc: true },
];

beforeAll(async () => {
  setup = await setupGateway();
  gw = await startGateway(setup.configPath);
  const keyring = await loadKeyring({ masterKeyFile: setup.masterKeyFile, create: false });
  const objects = new LocalObjectStore(objectStoreRoot(setup.dataDir));
  await objects.init();
  await withDb(setup.dataDir, async (db) => {
    const portal = new PortalStore({ db, objects, keyring });
    const put = async (queueId: string, now: number, expiresAt: number): Promise<string> =>
      (await portal.deposit({ queueId, source: Readable.from([body]), recipients, expiresAt, now })).depositId;
    dep.expired = await put(q.expired, T - 120 * MIN, T - 60 * MIN);
    dep.active = await put(q.active, T - 3 * MIN, T + 30 * DAY);
    dep.twice1 = await put(q.twice, T - 2 * MIN, T + 30 * DAY);
    dep.twice2 = await put(q.twice, T - MIN, T + 30 * DAY);
    await db.run("UPDATE portal_messages SET sender = 'alice@example.com'");
    await db.run('UPDATE portal_recipients SET notified_at = ?, opened_at = ?, replied_at = ? WHERE deposit_id = ? AND seq = 0', [T - 170_000, T - 160_000, T - 150_000, dep.active]);
    await db.run('UPDATE portal_recipients SET notified_at = ? WHERE deposit_id = ? AND seq = 1', [T - 170_000, dep.active]);
  });
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'portal', ...args]);
const iso = (ms: number): string => new Date(ms).toISOString();

async function objectFileOf(depositId: string): Promise<string> {
  return join(objectStoreRoot(setup.dataDir), 'objects', 'portal', depositId.slice(0, 2), `${depositId}@`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function wrappedKeyOf(depositId: string): Promise<Buffer | null> {
  return withDb(setup.dataDir, async (db) => (await db.get<{ wrapped_key: Buffer | null }>('SELECT wrapped_key FROM portal_messages WHERE deposit_id = ?', [depositId]))?.wrapped_key ?? null);
}

interface ListEntry {
  queueId: string;
  depositId: string;
  state: string;
  createdAt: string;
  expiresAt: string;
  recipients: number;
  opened: number;
  size: number;
}

describe('sealgate portal', () => {
  it('lists deposits newest first, as a table and as JSON, bounded by --limit', async () => {
    const table = await cli('list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^QUEUE ID\s+DEPOSIT ID\s+CREATED\s+EXPIRES\s+STATE\s+RCPTS\s+OPENED\s+SIZE$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[1])).toEqual([dep.twice2, dep.twice1, dep.active, dep.expired]);
    expect(lines[3]).toMatch(new RegExp(`^${q.active}\\s+${dep.active}\\s+${iso(T - 3 * MIN)}\\s+${iso(T + 30 * DAY)}\\s+active\\s+2\\s+1\\s+${body.length}$`));
    expect(lines[4]).toMatch(/\s+expired\s+2\s+0\s+/);
    expect(lines[5]).toBe(`-- 4 deposits, ${4 * body.length} bytes`);
    expect(table.stdout).not.toContain('zebra');

    const json = JSON.parse((await cli('list', '--json', '--limit', '2')).stdout) as ListEntry[];
    expect(json).toHaveLength(2);
    expect(json[0]).toEqual({
      queueId: q.twice,
      depositId: dep.twice2,
      state: 'active',
      createdAt: iso(T - MIN),
      expiresAt: iso(T + 30 * DAY),
      revokedAt: null,
      shreddedAt: null,
      recipients: 2,
      opened: 0,
      size: body.length,
    });
    const bad = await cli('list', '--limit', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('shows per recipient: notified, opened, replied, expired, revoked, with times', async () => {
    const shown = await cli('status', q.active);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`queue id:   ${q.active}\ndeposit id: ${dep.active}\nsender:     alice@example.com\nstate:      active\n`);
    expect(shown.stdout).toMatch(/^ {2}ADDRESS\s+BCC\s+NOTIFIED\s+OPENED\s+REPLIED\s+EXPIRED\s+REVOKED$/m);
    expect(shown.stdout).toMatch(new RegExp(`^  pat@one\\.example\\s+no\\s+${iso(T - 170_000)}\\s+${iso(T - 160_000)}\\s+${iso(T - 150_000)}\\s+-\\s+-$`, 'm'));
    expect(shown.stdout).toMatch(new RegExp(`^  hidden@two\\.example\\s+yes\\s+${iso(T - 170_000)}\\s+-\\s+-\\s+-\\s+-$`, 'm'));
    expect(shown.stdout).not.toContain('zebra');

    const expired = JSON.parse((await cli('status', q.expired, '--json')).stdout) as { deposits: { state: string; recipients: Record<string, unknown>[] }[] };
    expect(expired.deposits).toHaveLength(1);
    expect(expired.deposits[0]?.state).toBe('expired');
    expect(expired.deposits[0]?.recipients).toEqual([
      { address: 'pat@one.example', bcc: false, notifiedAt: null, openedAt: null, repliedAt: null, expiredAt: iso(T - 60 * MIN), revokedAt: null },
      { address: 'hidden@two.example', bcc: true, notifiedAt: null, openedAt: null, repliedAt: null, expiredAt: iso(T - 60 * MIN), revokedAt: null },
    ]);
    const byDeposit = JSON.parse((await cli('status', dep.twice2, '--json')).stdout) as { deposits: { depositId: string }[] };
    expect(byDeposit.deposits.map((d) => d.depositId)).toEqual([dep.twice2]);
  });

  it('reports unknown and malformed ids with one line and a non-zero exit', async () => {
    const unknown = generateQueueId(T, randomBytes);
    for (const verb of ['status', 'revoke']) {
      const missing = await cli(verb, unknown);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`sealgate: no portal message with queue id ${unknown}\n`);
      expect(missing.stdout).toBe('');
      const malformed = await cli(verb, 'nope');
      expect(malformed.code).toBe(2);
      expect(malformed.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('revokes every deposit of a message while the daemon runs: keys and objects destroyed, audited; again changes nothing', async () => {
    const files = [await objectFileOf(dep.twice1), await objectFileOf(dep.twice2)];
    for (const f of files) expect(await exists(f)).toBe(true);
    const revoked = await cli('revoke', q.twice);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(
      [
        `revoked ${q.twice} deposit ${dep.twice1}: key destroyed, copy removed (${body.length} bytes)`,
        `revoked ${q.twice} deposit ${dep.twice2}: key destroyed, copy removed (${body.length} bytes)`,
        '-- 2 deposits revoked and shredded now, 0 already',
        '',
      ].join('\n'),
    );
    for (const f of files) expect(await exists(f)).toBe(false);
    expect(await wrappedKeyOf(dep.twice1)).toBeNull();
    expect(await wrappedKeyOf(dep.twice2)).toBeNull();
    expect(await wrappedKeyOf(dep.active)).not.toBeNull();

    const events = (await auditEvents(setup.configPath)).filter((e) => e.type.startsWith('portal:'));
    expect(events.map((e) => [e.type, e.data.depositId, e.data.reason ?? null])).toEqual([
      ['portal:revoked', dep.twice1, null],
      ['portal:revoked', dep.twice2, null],
      ['portal:shredded', dep.twice1, 'revoked'],
      ['portal:shredded', dep.twice2, 'revoked'],
    ]);
    expect(events[0]?.data.operator).toBeTruthy();
    expect(JSON.stringify(events)).not.toMatch(/zebra|pat@one|hidden@two/);

    const again = await cli('revoke', q.twice);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${q.twice} deposit ${dep.twice1}: already revoked at `);
    expect(again.stdout).toContain('-- 0 deposits revoked and shredded now, 2 already');
    expect((await auditEvents(setup.configPath)).filter((e) => e.type.startsWith('portal:'))).toHaveLength(4);

    const list = JSON.parse((await cli('list', '--json')).stdout) as ListEntry[];
    expect(list.filter((m) => m.queueId === q.twice).map((m) => m.state)).toEqual(['shredded', 'shredded']);
    const status = await cli('status', q.twice);
    expect(status.stdout).toMatch(/^state: {6}shredded$/m);
    expect(status.stdout).toMatch(/^revoked: {4}\S+ by \S+$/m);
  });

  it('purges what expired: a dry run lists and changes nothing, the real run shreds and audits, a second finds nothing', async () => {
    const file = await objectFileOf(dep.expired);
    const dry = await cli('purge', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      [`would shred ${q.expired} deposit ${dep.expired}: expired, ${body.length} bytes`, `-- dry run: 1 deposit would be shredded (${body.length} bytes); nothing changed`, ''].join('\n'),
    );
    expect(await exists(file)).toBe(true);
    expect(await wrappedKeyOf(dep.expired)).not.toBeNull();

    const run = await cli('purge');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `shredded ${q.expired} deposit ${dep.expired}: expired, ${body.length} bytes`,
        `-- 1 deposit shredded (${body.length} bytes); removed 0 sign-in codes, 0 idle sessions, 0 leftover objects`,
        '',
      ].join('\n'),
    );
    expect(await exists(file)).toBe(false);
    expect(await wrappedKeyOf(dep.expired)).toBeNull();
    const last = (await auditEvents(setup.configPath, 1))[0];
    expect(last).toMatchObject({ type: 'portal:shredded', data: { depositId: dep.expired, queueId: q.expired, reason: 'expired' } });

    const again = JSON.parse((await cli('purge', '--json')).stdout) as { dryRun: boolean; shredded: unknown[]; failed: unknown[] };
    expect(again).toMatchObject({ dryRun: false, shredded: [], failed: [], codes: 0, sessions: 0, leftovers: 0 });
    expect(await wrappedKeyOf(dep.active)).not.toBeNull();
    expect((await runCli(['-c', setup.configPath, 'audit', 'verify'])).code).toBe(0);
  });
});

describe('sealgate portal passkeys', () => {
  it('lists an address\'s passkeys by credential digest, removes one or all, audited', async () => {
    const digests = await withDb(setup.dataDir, async (db) => {
      const store = new PasskeyStore(db);
      for (const id of ['cred-one-AAAA', 'cred-two-BBBB']) {
        await store.add({ credentialId: id, recipient: 'keys@gmail.example', publicKey: Buffer.from([1, 2, 3]), counter: 0, transports: ['internal'], now: T });
      }
      return ['cred-one-AAAA', 'cred-two-BBBB'].map((id) => credentialDigest(id));
    });
    const listed = await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'Keys@gmail.example']);
    expect(listed.code).toBe(0);
    for (const d of digests) expect(listed.stdout).toContain(d.slice(0, 16));
    expect(listed.stdout).toContain('(internal)');
    const json = JSON.parse((await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'keys@gmail.example', '--json'])).stdout) as { passkeys: unknown[] };
    expect(json.passkeys).toHaveLength(2);

    const one = await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'keys@gmail.example', '--remove', '--credential', (digests[0] ?? '').slice(0, 12)]);
    expect(one.stdout.trim()).toBe('removed 1 passkey of keys@gmail.example');
    const missing = await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'keys@gmail.example', '--remove', '--credential', (digests[0] ?? '').slice(0, 12)]);
    expect(missing.code).toBe(1);
    const all = await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'keys@gmail.example', '--remove']);
    expect(all.stdout.trim()).toBe('removed 1 passkey of keys@gmail.example');
    expect((await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'keys@gmail.example'])).stdout.trim()).toBe('no passkeys for keys@gmail.example');
    const bad = await runCli(['-c', setup.configPath, 'portal', 'passkeys', 'not-an-address']);
    expect(bad.code).toBe(2);
    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'portal:passkeys_removed');
    expect(events.map((e) => e.data.count)).toEqual([1, 1]);
  });
});
