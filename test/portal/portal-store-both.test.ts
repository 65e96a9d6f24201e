/**
 * Portal storage and lifecycle on SQLite and PostgreSQL, with a real object
 * store directory and real crypto: deposit → link → open, the portal
 * fallback joining recipients to a stored copy, a zero-knowledge copy,
 * the sender's withdraw link, first opening, shredding, revocation. Then
 * several writers at once (a second connection: another process on
 * SQLite, another node on PostgreSQL): a deposit is shredded once with one
 * disposal record, revoked once, recipients joined at once are numbered
 * one after another, a first opening is counted once — and the audit chain
 * stays whole.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvent, verifyAuditChain } from '../../src/audit/log.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import type { SqlDatabase } from '../../src/db/sql-database.js';
import { isSealgateError } from '../../src/errors.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { PortalLifecycle } from '../../src/portal/lifecycle.js';
import { PortalStore, type DepositResult } from '../../src/portal/portal-store.js';
import { bothDatabases, DIALECTS } from '../helpers/both-databases.js';
import { readAll } from '../helpers/read-all.js';

const dbs = bothDatabases();
const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const DAY = 86_400_000;
const SECRET = 'Diagnosis: zebra-fever-7731 for patient Jane Roe';
const MIME = Buffer.from(`From: dr@clinic.example\r\nTo: pat@gmail.example\r\nSubject: results\r\n\r\n${SECRET}\r\n`);
const RECIPIENTS = [
  { address: 'pat@gmail.example', bcc: false },
  { address: 'carer@outlook.example', bcc: false },
  { address: 'hidden@bcc.example', bcc: true },
];

let dir: string;
let objects: LocalObjectStore;
const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-portal-both-'));
  // one object store for both "nodes", as a shared S3 bucket is
  objects = new LocalObjectStore(join(dir, 'objects'));
  await objects.init();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function errorCode(p: Promise<unknown>): Promise<unknown> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isSealgateError(err) ? err.code : err;
}

/** A queue id of its own per test (the tests share one database per kind). */
const queueId = (): string => randomBytes(10).toString('hex').toUpperCase();

describe.each(DIALECTS)('portal storage on %s', (kind) => {
  const db = (): SqlDatabase => dbs.get(kind);
  const portal = (on: SqlDatabase = db()): PortalStore => new PortalStore({ db: on, objects, keyring });
  const lifecycle = (on: SqlDatabase = db()): PortalLifecycle => new PortalLifecycle({ db: on, portal: portal(on), objects, now: () => NOW + 1000 });
  const deposit = (queue = queueId(), extra: { linkKey?: boolean; withdrawLink?: boolean; sender?: string } = {}): Promise<DepositResult> =>
    portal().deposit({ queueId: queue, source: Readable.from([MIME]), recipients: RECIPIENTS, expiresAt: NOW + DAY, now: NOW, ...extra });
  const events = async (type: string, depositId: string): Promise<number> =>
    (await db().get<{ n: number }>('SELECT count(*) AS n FROM audit_log WHERE type = ? AND data LIKE ?', [type, `%${depositId}%`]))?.n ?? -1;

  it('deposit → link → open; who sees whom; first opening once; the withdraw link', async () => {
    const queue = queueId();
    const dep = await deposit(queue, { withdrawLink: true, sender: 'dr@clinic.example' });
    const [pat, , hidden] = dep.recipients;
    const match = await portal().findByToken(pat?.token ?? '');
    expect(match).toMatchObject({ depositId: dep.depositId, queueId: queue, recipient: { seq: 0, address: 'pat@gmail.example', bcc: false, openedAt: null }, expiresAt: NOW + DAY, revokedAt: null, shreddedAt: null, linkKey: false });
    expect((await portal().findByToken(hidden?.token ?? ''))?.recipient).toMatchObject({ seq: 2, bcc: true });
    expect(await portal().findByToken(randomBytes(32).toString('base64url'))).toBeUndefined();
    expect((await readAll(await portal().open(dep.depositId))).toString()).toContain(SECRET);
    expect(await portal().recipientsVisibleTo(dep.depositId, 'PAT@gmail.example')).toEqual([
      { address: 'pat@gmail.example', bcc: false },
      { address: 'carer@outlook.example', bcc: false },
    ]);
    expect(await portal().recipientsVisibleTo(dep.depositId, 'hidden@bcc.example')).toEqual([{ address: 'hidden@bcc.example', bcc: true }]);
    expect(await portal().markOpened(dep.depositId, 0, NOW + 5)).toBe(true);
    expect(await portal().markOpened(dep.depositId, 0, NOW + 6)).toBe(false);
    expect(await portal().findByWithdrawToken(dep.withdrawToken ?? '')).toMatchObject({ depositId: dep.depositId, queueId: queue, sender: 'dr@clinic.example', recipients: 3 });
    expect(await portal().openDepositOf(queue, NOW)).toEqual({ depositId: dep.depositId, expiresAt: NOW + DAY });
    expect(await portal().openDepositOf(queue, NOW + DAY)).toBeUndefined();
  });

  it('recipients joining a stored copy: a new one is numbered next, one already there gets a new link', async () => {
    const dep = await deposit();
    const joined = await portal().prepareRecipients(dep.depositId, [
      { address: 'late@x.example', bcc: true },
      { address: 'PAT@gmail.example', bcc: true },
    ]);
    await db().transaction((tx) => joined.commit(tx));
    const [late, pat] = joined.result.recipients;
    expect((await portal().findByToken(late?.token ?? ''))?.recipient).toMatchObject({ seq: 3, address: 'late@x.example', bcc: true });
    // listed visibly before: stays visible; the old link is replaced
    expect((await portal().findByToken(pat?.token ?? ''))?.recipient).toMatchObject({ seq: 0, bcc: false });
    expect(await portal().findByToken(dep.recipients[0]?.token ?? '')).toBeUndefined();
  });

  it('a zero-knowledge copy opens only with its link\'s key part', async () => {
    const dep = await deposit(queueId(), { linkKey: true });
    const [pat, carer] = dep.recipients;
    expect((await portal().findByToken(pat?.token ?? ''))?.linkKey).toBe(true);
    expect((await readAll(await portal().open(dep.depositId, { seq: 1, fragment: carer?.fragment ?? '' }))).toString()).toContain(SECRET);
    expect(await errorCode(portal().open(dep.depositId, { seq: 0, fragment: carer?.fragment ?? '' }))).toBe('SG_PORTAL_LINK_KEY');
    expect(await errorCode(portal().open(dep.depositId))).toBe('SG_PORTAL_LINK_KEY');
  });

  it('shredding destroys the key and the object, once; revocation shreds at once', async () => {
    const dep = await deposit();
    expect(await portal().shred(dep.depositId, NOW + 1)).toBe(true);
    expect(await portal().shred(dep.depositId, NOW + 2)).toBe(false);
    expect(await db().get('SELECT wrapped_key, shredded_at FROM portal_messages WHERE deposit_id = ?', [dep.depositId])).toEqual({ wrapped_key: null, shredded_at: NOW + 1 });
    expect(await errorCode(portal().open(dep.depositId))).toBe('SG_PORTAL_SHREDDED');
    const queue = queueId();
    const revoked = await deposit(queue);
    const outcome = await lifecycle().revoke(queue, 'ann');
    expect(outcome).toEqual([expect.objectContaining({ depositId: revoked.depositId, revoked: true, shredded: true, revokedBy: 'ann' })]);
    expect(await events('portal:revoked', revoked.depositId)).toBe(1);
    expect(await events('portal:shredded', revoked.depositId)).toBe(1);
  });

  it('one deposit shredded at once from two connections (two nodes): one call shreds it, one disposal record', async () => {
    const other = await dbs.connect(kind);
    for (let round = 0; round < 4; round++) {
      const dep = await deposit();
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          portal(i % 2 ? other : db()).shred(dep.depositId, NOW + 10 + i, {
            async inTransaction(tx) {
              await appendAuditEvent(tx, { type: 'portal:shredded', data: { depositId: dep.depositId, queueId: 'Q', reason: 'expired' } }, NOW + 10);
            },
          }),
        ),
      );
      // the object is deleted by every call; a call that finds it gone already still succeeds
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(results.filter((r) => r.status === 'fulfilled' && r.value)).toHaveLength(1);
      expect(await events('portal:shredded', dep.depositId)).toBe(1);
    }
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true });
  });

  it('one message revoked at once from two connections (two nodes): each deposit revoked and shredded once, no deadlock', async () => {
    const other = await dbs.connect(kind);
    for (let round = 0; round < 3; round++) {
      const queue = queueId();
      const deps = [await deposit(queue), await deposit(queue)];
      const results = await Promise.allSettled([lifecycle().revoke(queue, 'ann'), lifecycle(other).revoke(queue, 'bob'), lifecycle().revoke(deps[1]?.depositId ?? '', 'cid')]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const outcomes = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      for (const d of deps) {
        expect(outcomes.filter((o) => o.depositId === d.depositId && o.revoked)).toHaveLength(1);
        expect(outcomes.filter((o) => o.depositId === d.depositId && o.shredded)).toHaveLength(1);
        expect(await events('portal:revoked', d.depositId)).toBe(1);
        expect(await events('portal:shredded', d.depositId)).toBe(1);
      }
    }
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true });
  });

  it('recipients joined to one copy at once from two connections (two nodes): all joined, numbered one after another', async () => {
    const other = await dbs.connect(kind);
    const dep = await deposit();
    const joins = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const on = i % 2 ? other : db();
        const joined = await portal(on).prepareRecipients(dep.depositId, [{ address: `late${i}@x.example`, bcc: false }]);
        await on.transaction((tx) => joined.commit(tx));
        return joined.result.recipients[0]?.token ?? '';
      }),
    );
    const seqs = await Promise.all(joins.map(async (token) => (await portal().findByToken(token))?.recipient.seq));
    expect([...seqs].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a first opening seen at once by two connections (two nodes) is counted once', async () => {
    const other = await dbs.connect(kind);
    const dep = await deposit();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => portal(i % 2 ? other : db()).markOpened(dep.depositId, 1, NOW + i)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('purges on two nodes at once shred each due deposit once', async () => {
    const other = await dbs.connect(kind);
    const due = [await deposit(), await deposit(), await deposit()];
    const later = NOW + 2 * DAY;
    const [a, b] = await Promise.all([lifecycle().purgeDue(later), lifecycle(other).purgeDue(later)]);
    expect([...a.failed, ...b.failed]).toEqual([]);
    for (const d of due) {
      expect([...a.shredded, ...b.shredded].filter((s) => s.depositId === d.depositId)).toEqual([expect.objectContaining({ reason: 'expired' })]);
      expect(await events('portal:shredded', d.depositId)).toBe(1);
    }
  });
});
