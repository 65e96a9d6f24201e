/**
 * Passkeys (WebAuthn credentials) of portal recipients, in `portal_passkeys`
 * (docs/portal.md, "Passkeys").
 *
 * A passkey belongs to a recipient address (lower case), not to a message:
 * it signs its owner in to every message sent to that address, and to no
 * other address's. What is stored per passkey: the credential id (base64url,
 * the primary key), the COSE public key, the signature counter, the
 * transports the browser reported, and when it was added and last used.
 * Nothing stored can sign anyone in: the private key never leaves the
 * recipient's authenticator.
 *
 * The WebAuthn user handle is not stored either: it is derived, an
 * HMAC-SHA-256 of the lower-case address under a key derived (HKDF) from
 * the portal's CSRF key, itself derived from the master key (csrf.ts).
 *
 * Portable SQL (SQLite or PostgreSQL, docs/scale-out.md), correct with
 * several nodes writing at once: adding takes the address's lock first
 * (lockKey, space portalPasskeys: PostgreSQL's advisory lock; SQLite's
 * write lock is held already), so the limit per address holds; the insert is
 * `ON CONFLICT DO NOTHING`, so one credential id added twice at once is
 * stored once; and a sign-in moves the signature counter only forward
 * (compare-and-set), so two sign-ins that show the same counter to two
 * nodes at once succeed once.
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { LOCK_SPACES, lockKey, type SqlDatabase } from '../db/sql-database.js';

const USER_KEY_INFO = 'sealgate-portal-passkey-user-v1';
/** Most passkeys kept per address: more are refused. */
export const MAX_PASSKEYS_PER_RECIPIENT = 20;
/** A WebAuthn credential id in base64url (the spec bounds ids at 1023 bytes). */
export const CREDENTIAL_ID_PATTERN = /^[A-Za-z0-9_-]{16,1400}$/;
const TRANSPORT_PATTERN = /^[a-z][a-z-]{0,19}$/;

export interface StoredPasskey {
  /** base64url */
  readonly credentialId: string;
  /** Lower case. */
  readonly recipient: string;
  /** COSE public key. */
  readonly publicKey: Buffer;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

interface PasskeyRow {
  credential_id: string;
  recipient: string;
  public_key: Buffer;
  counter: number;
  transports: string | null;
  created_at: number;
  last_used_at: number | null;
}

/** The key of derived user handles, from the portal's CSRF key (derivePortalCsrfKey(master key)). */
export function derivePasskeyUserKey(csrfKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', csrfKey, Buffer.alloc(0), USER_KEY_INFO, 32));
}

/** Pure: the WebAuthn user handle of an address: 32 bytes, the same for every message to it, revealing nothing of it. */
export function passkeyUserId(userKey: Buffer, address: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHmac('sha256', userKey).update(`${USER_KEY_INFO}\0${address.toLowerCase()}`, 'utf8').digest());
}

/** Pure: what the audit records of a credential: the SHA-256 (hex) of its id. */
export function credentialDigest(credentialId: string): string {
  return createHash('sha256').update(credentialId, 'utf8').digest('hex');
}

/** Pure: the transports a browser reported, kept when they look like transports (at most 8). */
export function cleanTransports(transports: unknown): string[] {
  if (!Array.isArray(transports)) return [];
  return [...new Set(transports.filter((t): t is string => typeof t === 'string' && TRANSPORT_PATTERN.test(t)))].slice(0, 8);
}

function fromRow(row: PasskeyRow): StoredPasskey {
  let transports: string[] = [];
  try {
    transports = cleanTransports(JSON.parse(row.transports ?? '[]'));
  } catch {
    transports = [];
  }
  return {
    credentialId: row.credential_id,
    recipient: row.recipient,
    publicKey: row.public_key,
    counter: row.counter,
    transports,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export type AddPasskeyResult = { readonly outcome: 'added' } | { readonly outcome: 'exists' } | { readonly outcome: 'taken' } | { readonly outcome: 'full' };

export class PasskeyStore {
  constructor(private readonly db: SqlDatabase) {}

  /** The address's passkeys, oldest first. */
  async listFor(recipient: string): Promise<StoredPasskey[]> {
    const rows = await this.db.all<PasskeyRow>(
      'SELECT credential_id, recipient, public_key, counter, transports, created_at, last_used_at FROM portal_passkeys WHERE recipient = ? ORDER BY created_at, credential_id',
      [recipient.toLowerCase()],
    );
    return rows.map(fromRow);
  }

  async count(recipient: string): Promise<number> {
    const row = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM portal_passkeys WHERE recipient = ?', [recipient.toLowerCase()]);
    return row?.n ?? 0;
  }

  /** The passkey with this credential id, whoever it belongs to. */
  async find(credentialId: string): Promise<StoredPasskey | undefined> {
    if (!CREDENTIAL_ID_PATTERN.test(credentialId)) return undefined;
    const row = await this.db.get<PasskeyRow>(
      'SELECT credential_id, recipient, public_key, counter, transports, created_at, last_used_at FROM portal_passkeys WHERE credential_id = ?',
      [credentialId],
    );
    return row ? fromRow(row) : undefined;
  }

  /**
   * Stores a verified new passkey for `recipient`, in one write
   * transaction: `exists` when this address already has it (nothing
   * changes), `taken` when another address has this credential id, `full`
   * at MAX_PASSKEYS_PER_RECIPIENT.
   */
  async add(input: { credentialId: string; recipient: string; publicKey: Uint8Array; counter: number; transports: readonly string[]; now: number }): Promise<AddPasskeyResult> {
    const recipient = input.recipient.toLowerCase();
    return this.db.transaction(async (tx) => {
      // the address's count cannot change under this transaction (another node adding waits here)
      await lockKey(tx, LOCK_SPACES.portalPasskeys, recipient);
      const holder = async (): Promise<AddPasskeyResult | undefined> => {
        const existing = await tx.get<{ recipient: string }>('SELECT recipient FROM portal_passkeys WHERE credential_id = ?', [input.credentialId]);
        return existing ? { outcome: existing.recipient === recipient ? 'exists' : 'taken' } : undefined;
      };
      const before = await holder();
      if (before) return before;
      const n = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM portal_passkeys WHERE recipient = ?', [recipient]);
      if ((n?.n ?? 0) >= MAX_PASSKEYS_PER_RECIPIENT) return { outcome: 'full' } as const;
      // the same credential id for another address at this moment (that one holds its own address's lock): stored once
      const { changes } = await tx.run(
        `INSERT INTO portal_passkeys (credential_id, recipient, public_key, counter, transports, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (credential_id) DO NOTHING`,
        [input.credentialId, recipient, Buffer.from(input.publicKey), input.counter, JSON.stringify(cleanTransports(input.transports)), input.now],
      );
      if (changes > 0) return { outcome: 'added' } as const;
      return (await holder()) ?? { outcome: 'taken' };
    });
  }

  /**
   * Removes the address's passkeys (all, or the one whose credential digest
   * starts with `digestPrefix`, at least 8 hex digits); returns how many went.
   */
  async remove(recipient: string, digestPrefix?: string): Promise<number> {
    const all = await this.listFor(recipient);
    const prefix = digestPrefix?.toLowerCase();
    const gone = prefix === undefined ? all : all.filter((p) => credentialDigest(p.credentialId).startsWith(prefix));
    if (prefix !== undefined && (gone.length !== 1 || !/^[0-9a-f]{8,64}$/.test(prefix))) return 0;
    await this.db.transaction(async (tx) => {
      for (const p of gone) await tx.run('DELETE FROM portal_passkeys WHERE credential_id = ?', [p.credentialId]);
    });
    return gone.length;
  }

  /**
   * After a verified sign-in: the authenticator's new counter and the time,
   * only if the counter still moves forward from what is stored now
   * (compare-and-set; an authenticator without a counter always shows 0).
   * False: another sign-in (on this node or another) stored this counter or
   * a later one meanwhile — the same signature counter twice, as from a
   * cloned authenticator or a replay: the sign-in must be refused.
   */
  async markUsed(credentialId: string, counter: number, now: number): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) =>
      counter === 0
        ? tx.run('UPDATE portal_passkeys SET last_used_at = ? WHERE credential_id = ? AND counter = 0', [now, credentialId])
        : tx.run('UPDATE portal_passkeys SET counter = ?, last_used_at = ? WHERE credential_id = ? AND counter < ?', [counter, now, credentialId, counter]),
    );
    return changes > 0;
  }
}
