/**
 * Portal storage: one encrypted copy of a message per deposit, readable by
 * the recipients it was deposited for (docs/portal.md, "Storage").
 *
 *   - The copy is the original MIME, encrypted in the keyed chunk format
 *     (crypt-stream.ts, `SGOBJK01`) under a random 256-bit data key of its
 *     own, and stored through the object store (no file paths here).
 *   - The data key is wrapped by the keyring's current master key, with an
 *     AAD that binds it to the deposit id and object key, and kept only in
 *     the deposit's row (portal_messages.wrapped_key) — never in the object.
 *   - Each recipient gets a link token (256 random bits, base64url) that is
 *     returned once to the caller; only its SHA-256 is stored.
 *   - Shredding destroys the wrapped key and deletes the object: with the
 *     master key and the stored ciphertext, the copy still cannot be opened.
 *
 * The rows are portable SQL (SQLite or PostgreSQL, docs/scale-out.md): what
 * reads then writes locks the deposit's row first on PostgreSQL (locks.ts),
 * so several nodes at once still number a deposit's recipients one after
 * another and shred a deposit once (one call answers true, one disposal
 * record).
 *
 * Side effects are injected: randomness through `options.random`, time as
 * the `now` argument. Errors and logs carry deposit ids and counts, never
 * content, tokens or addresses.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { ByteCounter } from '../stream/byte-counter.js';
import { type Keyring, openKey, sealKey, unwrapKey, wrapKey } from '../crypto/keyring.js';
import { isLinkFragment, LINK_FRAGMENT_BYTES, linkKek, linkSealAad } from './link-key.js';
import { forNoKeyUpdate } from '../db/locks.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import { SealgateError } from '../errors.js';
import type { ObjectStore } from '../objects/object-store.js';
import { createKeyedDecryptStream, createKeyedEncryptStream, KEYED_DATA_KEY_LENGTH } from '../spool/crypt-stream.js';

/** Random bytes in a link token (256 bits; at least 128 are required). */
export const PORTAL_TOKEN_BYTES = 32;
/** base64url without padding of PORTAL_TOKEN_BYTES bytes. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const DEPOSIT_ID_BYTES = 16;
const DEPOSIT_ID_PATTERN = /^[0-9a-f]{32}$/;
const WRAP_AAD_LABEL = 'sealgate-portal-key-v1';

export interface PortalRecipientInput {
  readonly address: string;
  /** A blind copy: invisible to the other recipients. */
  readonly bcc: boolean;
}

export interface DepositInput {
  readonly queueId: string;
  /** The original MIME. */
  readonly source: Readable;
  readonly recipients: readonly PortalRecipientInput[];
  /** ms since epoch. */
  readonly expiresAt: number;
  /** ms since epoch. */
  readonly now: number;
  /** Envelope sender of the original: where secure replies go. */
  readonly sender?: string | undefined;
  /** Zero-knowledge links: the data key is sealed per recipient under a key only their link's fragment completes. */
  readonly linkKey?: boolean | undefined;
  /** Issue a withdraw link token for the sender (portal.senderRevokeLinks). */
  readonly withdrawLink?: boolean | undefined;
}

export interface DepositedRecipient {
  readonly address: string;
  readonly bcc: boolean;
  /** The link token for `<publicUrl>/m/<token>`: returned here once, stored nowhere. */
  readonly token: string;
  /** Zero-knowledge links: the `#fragment` of the link, returned here once, stored nowhere. */
  readonly fragment?: string | undefined;
}

export interface DepositResult {
  readonly depositId: string;
  /** The sender's withdraw link token (`<publicUrl>/w/<token>`), returned once, stored only as its hash. */
  readonly withdrawToken?: string | undefined;
  /** Bytes of the original MIME. */
  readonly size: number;
  readonly recipients: readonly DepositedRecipient[];
}

/** An object written, its rows not yet committed (prepareDeposit). */
export interface PendingDeposit {
  readonly result: DepositResult;
  /** Inserts the deposit's rows in the caller's transaction. */
  commit(tx: SqlQueryable): Promise<void>;
  /** Deletes the object: call when the transaction that commits the rows fails. */
  discard(): Promise<void>;
}

export interface PortalRecipient {
  readonly address: string;
  readonly bcc: boolean;
}

export interface TokenMatch {
  readonly depositId: string;
  readonly queueId: string;
  readonly recipient: PortalRecipient & { readonly seq: number; readonly notifiedAt: number | null; readonly openedAt: number | null };
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly shreddedAt: number | null;
  /** A zero-knowledge copy: opening it needs the link's key part (LinkAccess). */
  readonly linkKey: boolean;
}

export interface ShredOptions {
  /**
   * Runs inside the transaction that destroys the key, only in the call that shreds (e.g. to append the disposal
   * audit event), after the deposit's row is locked.
   */
  inTransaction?(tx: SqlQueryable): Promise<void>;
}

export interface PortalStoreOptions {
  readonly db: SqlDatabase;
  readonly objects: ObjectStore;
  readonly keyring: Keyring;
  /** Source of data keys, deposit ids and tokens; default crypto.randomBytes. */
  readonly random?: (n: number) => Buffer;
}

/** What opens a zero-knowledge copy: the recipient's seq and their link's fragment. */
export interface LinkAccess {
  readonly seq: number;
  readonly fragment: string;
}

interface MessageRow {
  link_key: number;
  sender: string;
  deposit_id: string;
  queue_id: string;
  object_key: string;
  wrapped_key: Buffer | null;
  key_id: string;
  size: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  shredded_at: number | null;
}

interface RecipientRow {
  seq: number;
  address: string;
  bcc: number;
  notified_at: number | null;
  opened_at: number | null;
}

/** The stored hex hash against the looked-up one, in constant time (the lookup by hash already matched; this keeps the compare honest). */
function sameHash(storedHex: string, hashHex: string): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  const given = Buffer.from(hashHex, 'hex');
  return stored.length === given.length && timingSafeEqual(stored, given);
}

/** Hex SHA-256 of a link token: what is stored and looked up. */
export function hashPortalToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function wrapAad(depositId: string, objectKey: string): Buffer {
  return Buffer.from(`${WRAP_AAD_LABEL}\0${depositId}\0${objectKey}`, 'utf8');
}

/** Bound into every chunk's tag: a copy moved to another deposit's key does not open. */
function chunkContext(depositId: string, objectKey: string): string {
  return `portal:${depositId}:${objectKey}`;
}

/** Addresses compare case-insensitively (the local part too: one mailbox, one recipient entry). */
function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export class PortalStore {
  private readonly db: SqlDatabase;
  private readonly objects: ObjectStore;
  private readonly keyring: Keyring;
  private readonly random: (n: number) => Buffer;

  constructor(options: PortalStoreOptions) {
    this.db = options.db;
    this.objects = options.objects;
    this.keyring = options.keyring;
    this.random = options.random ?? randomBytes;
  }

  /**
   * Stores one encrypted copy of `source` for `recipients` and returns each
   * recipient's link token. The object is durable before the rows commit; if
   * the rows fail, the object is deleted again.
   */
  async deposit(input: DepositInput): Promise<DepositResult> {
    const pending = await this.prepareDeposit(input);
    try {
      await this.db.transaction((tx) => pending.commit(tx));
    } catch (err) {
      await pending.discard();
      throw err;
    }
    return pending.result;
  }

  /**
   * The first half of a deposit, for callers that commit the rows in a
   * transaction of their own (the delivery step: the portal rows, the
   * recipients' final state and the notifications in one commit). Writes the
   * encrypted object (durable when this resolves); `commit(tx)` inserts the
   * rows; `discard()` deletes the object when that transaction fails. A crash
   * in between leaves an object no row names: removeOrphans takes it at start.
   */
  async prepareDeposit(input: DepositInput): Promise<PendingDeposit> {
    const recipients = dedupeRecipients(input.recipients);
    if (recipients.length === 0) {
      input.source.destroy();
      throw new RangeError('a portal deposit needs at least one recipient');
    }
    if (!Number.isSafeInteger(input.now) || !Number.isSafeInteger(input.expiresAt) || input.expiresAt <= input.now) {
      input.source.destroy();
      throw new RangeError('a portal deposit needs integer ms times with expiresAt after now');
    }
    const depositId = this.random(DEPOSIT_ID_BYTES).toString('hex');
    const objectKey = `portal/${depositId.slice(0, 2)}/${depositId}`;
    const dataKey = Buffer.from(this.random(KEYED_DATA_KEY_LENGTH));
    const linkKey = input.linkKey === true;
    // tokens (and link fragments) before the object: nothing after the put may fail but the rows
    const issued = recipients.map((r) => ({
      ...r,
      token: this.random(PORTAL_TOKEN_BYTES).toString('base64url'),
      fragment: linkKey ? this.random(LINK_FRAGMENT_BYTES).toString('base64url') : undefined,
    }));
    const serverPart = linkKey ? Buffer.from(this.random(KEYED_DATA_KEY_LENGTH)) : undefined;
    const withdrawToken = input.withdrawLink ? this.random(PORTAL_TOKEN_BYTES).toString('base64url') : undefined;
    let wrapped: { keyId: string; wrapped: Buffer };
    let sealed: (Buffer | null)[] = [];
    let size: number;
    try {
      if (
        !DEPOSIT_ID_PATTERN.test(depositId) ||
        dataKey.length !== KEYED_DATA_KEY_LENGTH ||
        !issued.every((r) => TOKEN_PATTERN.test(r.token) && (!linkKey || isLinkFragment(r.fragment))) ||
        (withdrawToken !== undefined && !TOKEN_PATTERN.test(withdrawToken)) ||
        (serverPart !== undefined && serverPart.length !== KEYED_DATA_KEY_LENGTH)
      ) {
        throw new RangeError('random source returned too few bytes');
      }
      if (serverPart) {
        // the master key wraps only the server part; the data key is sealed per recipient under server part + fragment
        wrapped = wrapKey(this.keyring, serverPart, wrapAad(depositId, objectKey));
        sealed = issued.map((r, seq) => {
          const kek = linkKek(serverPart, r.fragment ?? '', depositId, seq);
          try {
            return sealKey(kek, dataKey, linkSealAad(depositId, seq));
          } finally {
            kek.fill(0);
          }
        });
      } else {
        wrapped = wrapKey(this.keyring, dataKey, wrapAad(depositId, objectKey));
      }
      const counter = new ByteCounter();
      const encrypt = createKeyedEncryptStream(dataKey, chunkContext(depositId, objectKey));
      // errors anywhere destroy every stage; put sees them on `encrypt`
      const encrypted = pipeline(input.source, counter, encrypt, () => undefined);
      await this.objects.put(objectKey, encrypted);
      size = counter.bytes;
    } catch (err) {
      input.source.destroy();
      throw err;
    } finally {
      dataKey.fill(0);
      serverPart?.fill(0);
    }
    const sender = input.sender ?? '';
    return {
      result: { depositId, size, withdrawToken, recipients: issued.map((r) => (linkKey ? r : { address: r.address, bcc: r.bcc, token: r.token })) },
      commit: async (tx) => {
        await tx.run(
          `INSERT INTO portal_messages (deposit_id, queue_id, object_key, wrapped_key, key_id, size, created_at, expires_at, sender, link_key, withdraw_token_hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [depositId, input.queueId, objectKey, wrapped.wrapped, wrapped.keyId, size, input.now, input.expiresAt, sender, linkKey ? 1 : 0, withdrawToken ? hashPortalToken(withdrawToken) : null],
        );
        let seq = 0;
        for (const r of issued) {
          await tx.run('INSERT INTO portal_recipients (deposit_id, seq, address, bcc, token_hash, link_wrapped_key) VALUES (?, ?, ?, ?, ?, ?)', [
            depositId,
            seq,
            r.address,
            r.bcc ? 1 : 0,
            hashPortalToken(r.token),
            sealed[seq] ?? null,
          ]);
          seq++;
        }
      },
      discard: () => this.objects.delete(objectKey).catch(() => undefined),
    };
  }

  /**
   * More recipients for an existing deposit (one copy per message: a
   * recipient that reaches the portal later — the portal fallback — joins
   * the copy already stored). Returns their new tokens and a `commit(tx)`
   * that inserts their rows; a recipient already on the deposit gets a new
   * token that replaces the old one. Refuses a shredded deposit.
   */
  async prepareRecipients(depositId: string, input: readonly PortalRecipientInput[]): Promise<{ result: DepositResult; commit(tx: SqlQueryable): Promise<void> }> {
    const row = await this.message(depositId);
    if (row.shredded_at !== null || row.wrapped_key === null) throw new SealgateError('SG_PORTAL_SHREDDED', { detail: { depositId } });
    // a zero-knowledge copy cannot take recipients: the server cannot recover its data key to seal it for them
    if (row.link_key === 1) throw new RangeError('a zero-knowledge deposit cannot take more recipients: deposit a new copy');
    const recipients = dedupeRecipients(input);
    if (recipients.length === 0) throw new RangeError('a portal deposit needs at least one recipient');
    const issued = recipients.map((r) => ({ ...r, token: this.random(PORTAL_TOKEN_BYTES).toString('base64url') }));
    if (!issued.every((r) => TOKEN_PATTERN.test(r.token))) throw new RangeError('random source returned too few bytes');
    return {
      result: { depositId, size: row.size, recipients: issued },
      commit: async (tx) => {
        // several nodes joining recipients to this copy at once: one after another, each numbering after the last
        if (tx.dialect === 'postgres') await tx.get(`SELECT deposit_id FROM portal_messages WHERE deposit_id = ?${forNoKeyUpdate(tx)}`, [depositId]);
        for (const r of issued) {
          const existing = await tx.get<{ seq: number }>('SELECT seq FROM portal_recipients WHERE deposit_id = ? AND lower(address) = lower(?)', [depositId, r.address]);
          if (existing) {
            await tx.run('UPDATE portal_recipients SET token_hash = ?, bcc = bcc * ? WHERE deposit_id = ? AND seq = ?', [hashPortalToken(r.token), r.bcc ? 1 : 0, depositId, existing.seq]);
            continue;
          }
          const next = await tx.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM portal_recipients WHERE deposit_id = ?', [depositId]);
          await tx.run('INSERT INTO portal_recipients (deposit_id, seq, address, bcc, token_hash) VALUES (?, ?, ?, ?, ?)', [
            depositId,
            (next?.seq ?? -1) + 1,
            r.address,
            r.bcc ? 1 : 0,
            hashPortalToken(r.token),
          ]);
        }
      },
    };
  }

  /** The newest deposit of a queued message that can still take recipients (not revoked, shredded or expired). */
  async openDepositOf(queueId: string, now: number): Promise<{ depositId: string; expiresAt: number } | undefined> {
    const row = await this.db.get<{ deposit_id: string; expires_at: number }>(
      `SELECT deposit_id, expires_at FROM portal_messages
        WHERE queue_id = ? AND revoked_at IS NULL AND shredded_at IS NULL AND wrapped_key IS NOT NULL AND expires_at > ? AND link_key = 0
        ORDER BY created_at DESC LIMIT 1`,
      [queueId, now],
    );
    return row ? { depositId: row.deposit_id, expiresAt: row.expires_at } : undefined;
  }

  /**
   * The deposit and recipient a link token belongs to, or undefined. Only the
   * token's hash is looked up; the stored hash is then compared in constant time.
   */
  async findByToken(token: string): Promise<TokenMatch | undefined> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
    const hash = hashPortalToken(token);
    const row = await this.db.get<MessageRow & RecipientRow & { token_hash: string }>(
      `SELECT m.deposit_id, m.queue_id, m.created_at, m.expires_at, m.revoked_at, m.shredded_at, m.link_key,
              r.seq, r.address, r.bcc, r.token_hash, r.notified_at, r.opened_at
         FROM portal_recipients r JOIN portal_messages m ON m.deposit_id = r.deposit_id
        WHERE r.token_hash = ?`,
      [hash],
    );
    if (!row || !sameHash(row.token_hash, hash)) return undefined;
    return {
      depositId: row.deposit_id,
      queueId: row.queue_id,
      recipient: {
        seq: row.seq,
        address: row.address,
        bcc: row.bcc === 1,
        notifiedAt: row.notified_at,
        openedAt: row.opened_at,
      },
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      shreddedAt: row.shredded_at,
      linkKey: row.link_key === 1,
    };
  }

  private async message(depositId: string): Promise<MessageRow> {
    const row = DEPOSIT_ID_PATTERN.test(depositId)
      ? await this.db.get<MessageRow>('SELECT * FROM portal_messages WHERE deposit_id = ?', [depositId])
      : undefined;
    if (!row) throw new SealgateError('SG_PORTAL_NOT_FOUND', { detail: { depositId: depositId.slice(0, 64) } });
    return row;
  }

  /**
   * The original MIME, decrypted and verified while it streams. Rejects with
   * SG_PORTAL_NOT_FOUND or SG_PORTAL_SHREDDED; the stream errors with
   * SG_OBJECT_NOT_FOUND when the object is missing and SG_SPOOL_CORRUPT when
   * it fails authentication. Expiry and revocation are the caller's to check
   * (findByToken returns both); this only refuses what can no longer be opened.
   */
  async open(depositId: string, link?: LinkAccess): Promise<Readable> {
    const row = await this.message(depositId);
    if (row.shredded_at !== null || row.wrapped_key === null) {
      throw new SealgateError('SG_PORTAL_SHREDDED', { detail: { depositId } });
    }
    const unwrapped = unwrapKey(this.keyring, row.key_id, Buffer.from(row.wrapped_key), wrapAad(depositId, row.object_key));
    const dataKey = row.link_key === 1 ? await this.linkDataKey(depositId, unwrapped, link) : unwrapped;
    let decrypt: Transform;
    try {
      decrypt = createKeyedDecryptStream(dataKey, chunkContext(depositId, row.object_key));
    } finally {
      dataKey.fill(0);
    }
    // the object stream closes its descriptor when it ends or when the reader destroys `decrypt`
    return pipeline(this.objects.get(row.object_key), decrypt, () => undefined);
  }

  /** Zero-knowledge copy: the data key from the server part and the recipient's link fragment. */
  private async linkDataKey(depositId: string, serverPart: Buffer, link: LinkAccess | undefined): Promise<Buffer> {
    try {
      if (!link || !isLinkFragment(link.fragment)) throw new SealgateError('SG_PORTAL_LINK_KEY', { message: 'this portal message opens only with the key part of its link', detail: { depositId } });
      const r = await this.db.get<{ link_wrapped_key: Buffer | null }>('SELECT link_wrapped_key FROM portal_recipients WHERE deposit_id = ? AND seq = ?', [depositId, link.seq]);
      if (!r?.link_wrapped_key) throw new SealgateError('SG_PORTAL_LINK_KEY', { message: 'this portal message opens only with the key part of its link', detail: { depositId } });
      const kek = linkKek(serverPart, link.fragment, depositId, link.seq);
      try {
        return openKey(kek, Buffer.from(r.link_wrapped_key), linkSealAad(depositId, link.seq));
      } catch {
        throw new SealgateError('SG_PORTAL_LINK_KEY', { message: 'the key part of this link does not open the message', detail: { depositId } });
      } finally {
        kek.fill(0);
      }
    } finally {
      serverPart.fill(0);
    }
  }

  /** The deposit a sender's withdraw link belongs to (hash lookup, then a constant-time compare), or undefined. */
  async findByWithdrawToken(token: string): Promise<{ depositId: string; queueId: string; sender: string; createdAt: number; expiresAt: number; revokedAt: number | null; shreddedAt: number | null; recipients: number } | undefined> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
    const hash = hashPortalToken(token);
    const row = await this.db.get<MessageRow & { withdraw_token_hash: string; recipients: number }>(
      `SELECT m.*, (SELECT count(*) FROM portal_recipients r WHERE r.deposit_id = m.deposit_id) AS recipients
         FROM portal_messages m WHERE m.withdraw_token_hash = ?`,
      [hash],
    );
    if (!row || !sameHash(row.withdraw_token_hash, hash)) return undefined;
    return { depositId: row.deposit_id, queueId: row.queue_id, sender: row.sender, createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at, shreddedAt: row.shredded_at, recipients: row.recipients };
  }

  /**
   * The recipients `address` may see on this message: a BCC recipient sees
   * only themself; a visible recipient sees every visible recipient and no
   * BCC recipient; an address that is not a recipient sees nobody.
   */
  async recipientsVisibleTo(depositId: string, address: string): Promise<PortalRecipient[]> {
    await this.message(depositId);
    const rows = await this.db.all<RecipientRow>(
      'SELECT seq, address, bcc, notified_at, opened_at FROM portal_recipients WHERE deposit_id = ? ORDER BY seq',
      [depositId],
    );
    const me = rows.find((r) => sameAddress(r.address, address));
    if (!me) return [];
    if (me.bcc === 1) return [{ address: me.address, bcc: true }];
    return rows.filter((r) => r.bcc === 0).map((r) => ({ address: r.address, bcc: false }));
  }

  /**
   * Records that recipient `seq` of the deposit read the message: the first
   * time only (later calls keep it). Returns true when this was the first.
   */
  async markOpened(depositId: string, seq: number, now: number): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) =>
      tx.run('UPDATE portal_recipients SET opened_at = ? WHERE deposit_id = ? AND seq = ? AND opened_at IS NULL', [now, depositId, seq]),
    );
    return changes > 0;
  }

  /**
   * Start-up cleanup: deletes portal objects that no deposit row names (a
   * crash between the object's put and the rows' commit leaves one; it is
   * unreadable anyway, its data key was never stored). It cannot tell such an
   * object from one whose deposit is still in flight: call it at start,
   * before this or any other process begins deposits.
   */
  async removeOrphans(): Promise<number> {
    let removed = 0;
    for await (const key of this.objects.list('portal/')) {
      const row = await this.db.get('SELECT 1 AS found FROM portal_messages WHERE object_key = ?', [key]);
      if (!row) {
        await this.objects.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Crypto-shredding: destroys the wrapped data key (first, in one committed
   * transaction), then deletes the object. Idempotent; `shredded_at` keeps the
   * first time. Afterwards `open` rejects with SG_PORTAL_SHREDDED, and even the
   * master key cannot recover the data key. Resolves true when this call was
   * the one that shredded (false: it was shredded already).
   *
   * `options.inTransaction` runs inside the key's destroying transaction, and
   * only in the call that shreds, so a disposal record written there (the
   * audit event) commits together with the key's destruction or not at all.
   */
  async shred(depositId: string, now: number, options: ShredOptions = {}): Promise<boolean> {
    const row = await this.message(depositId);
    const first = await this.db.transaction(async (tx) => {
      // read again under the write lock (SQLite) or the row's lock (PostgreSQL): another process or node may have
      // shredded it meanwhile, and one that shreds it at the same moment waits here until this one commits
      const current = await tx.get<Pick<MessageRow, 'wrapped_key' | 'shredded_at'>>(
        `SELECT wrapped_key, shredded_at FROM portal_messages WHERE deposit_id = ?${forNoKeyUpdate(tx)}`,
        [depositId],
      );
      // overwrite the key's bytes in place before dropping them, so the freed
      // space in the database page holds zeros rather than the wrapped key
      if (current?.wrapped_key) {
        await tx.run('UPDATE portal_messages SET wrapped_key = ? WHERE deposit_id = ?', [
          Buffer.alloc(current.wrapped_key.length),
          depositId,
        ]);
      }
      await tx.run('UPDATE portal_recipients SET link_wrapped_key = NULL WHERE deposit_id = ?', [depositId]);
      await tx.run('UPDATE portal_messages SET wrapped_key = NULL, shredded_at = COALESCE(shredded_at, ?) WHERE deposit_id = ?', [
        now,
        depositId,
      ]);
      const shredsNow = current !== undefined && current.shredded_at === null;
      if (shredsNow) await options.inTransaction?.(tx);
      return shredsNow;
    });
    await this.objects.delete(row.object_key);
    return first;
  }
}

function dedupeRecipients(input: readonly PortalRecipientInput[]): PortalRecipientInput[] {
  const out: PortalRecipientInput[] = [];
  for (const r of input) {
    if (typeof r.address !== 'string' || r.address.length === 0) throw new RangeError('a portal recipient needs an address');
    const i = out.findIndex((o) => sameAddress(o.address, r.address));
    const prev = i >= 0 ? out[i] : undefined;
    // listed both visibly and as a blind copy: visible (the sender showed the address)
    if (prev) out[i] = { address: prev.address, bcc: prev.bcc && r.bcc };
    else out.push({ address: r.address, bcc: r.bcc });
  }
  return out;
}
