/**
 * The organisation key store: the gateway's own OpenPGP key and S/MIME
 * certificate (table org_keys, migration 15), one of each kind. The public
 * part is stored as is; the private key only sealed under the current master
 * key (src/crypto/keyring.ts wrapKey: AES-256-GCM, the master key id kept
 * in the row, so the key can be read after a rotation while the old master
 * key is in keys.previousKeyFiles). The AAD binds the ciphertext to its kind
 * and fingerprint, so a sealed key moved to another row does not open.
 *
 * The private key is never written in clear, logged, put in an error message
 * or an audit event: events carry fingerprints only. Portable SQL only.
 */
import { LOCK_SPACES, lockKey, type SqlDatabase } from '../db/sql-database.js';
import { appendAuditEvent } from '../audit/log.js';
import { type Keyring, unwrapKey, wrapKey } from '../crypto/keyring.js';
import { SealgateError } from '../errors.js';

export type OrgKeyKind = 'pgp' | 'smime';

/** What `keys org show` prints: everything but the secret. */
export interface OrgKeyInfo {
  readonly kind: OrgKeyKind;
  readonly fingerprint: string;
  readonly algorithm: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  /** OpenPGP: userIds; S/MIME: subject, issuer, serialNumber, emails, chain (count). */
  readonly details: Record<string, unknown>;
  /** Armored OpenPGP public key, or the PEM certificate followed by its chain. */
  readonly publicMaterial: string;
  /** Master key id that sealed the private key. */
  readonly keyId: string;
  readonly storedAt: number;
}

/** A new organisation key: its public facts and the private key (armored OpenPGP, or PKCS#8 PEM). */
export interface NewOrgKey extends Omit<OrgKeyInfo, 'keyId' | 'storedAt'> {
  readonly secret: string;
}

interface Row {
  kind: string;
  fingerprint: string;
  algorithm: string;
  created_at: number;
  expires_at: number | null;
  details: string;
  public_material: string;
  secret_ciphertext: Buffer;
  key_id: string;
  stored_at: number;
}

const PUBLIC_COLUMNS = 'kind, fingerprint, algorithm, created_at, expires_at, details, public_material, key_id, stored_at';

/** Additional data of the AEAD: the ciphertext opens only for this kind and fingerprint. */
export function orgKeyAad(kind: OrgKeyKind, fingerprint: string): Buffer {
  return Buffer.from(`sealgate-org-key-v1\0${kind}\0${fingerprint}`, 'utf8');
}

function fromRow(r: Omit<Row, 'secret_ciphertext'>): OrgKeyInfo {
  return {
    kind: r.kind as OrgKeyKind,
    fingerprint: r.fingerprint,
    algorithm: r.algorithm,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    details: JSON.parse(r.details) as Record<string, unknown>,
    publicMaterial: r.public_material,
    keyId: r.key_id,
    storedAt: Number(r.stored_at),
  };
}

export function orgKeyNotFound(kind: OrgKeyKind): SealgateError {
  const how = kind === 'pgp' ? 'sealgate keys org init' : 'sealgate keys org import';
  return new SealgateError('SG_ORG_KEY_NOT_FOUND', { message: `no organisation ${kind === 'pgp' ? 'OpenPGP key' : 'S/MIME certificate'}; create one with \`${how}\``, detail: { kind } });
}

export class SqlOrgKeyStore {
  constructor(
    private readonly db: SqlDatabase,
    /** Needed by put and loadSecret only; get and list read public columns. */
    private readonly keyring?: Keyring,
  ) {}

  private ring(): Keyring {
    if (!this.keyring) throw new Error('SqlOrgKeyStore: a keyring is needed to seal or open a private key');
    return this.keyring;
  }

  /** The stored key of `kind` (no secret), or undefined. */
  async get(kind: OrgKeyKind): Promise<OrgKeyInfo | undefined> {
    const r = await this.db.get<Omit<Row, 'secret_ciphertext'>>(`SELECT ${PUBLIC_COLUMNS} FROM org_keys WHERE kind = ?`, [kind]);
    return r ? fromRow(r) : undefined;
  }

  /** Every stored key (no secrets), pgp first. */
  async list(): Promise<OrgKeyInfo[]> {
    return (await this.db.all<Omit<Row, 'secret_ciphertext'>>(`SELECT ${PUBLIC_COLUMNS} FROM org_keys ORDER BY kind`)).map(fromRow);
  }

  /**
   * Seals the private key under the current master key and stores the row,
   * replacing the key of the same kind; audited in the same transaction.
   * Returns the fingerprint it replaced, if any.
   */
  async put(key: NewOrgKey, ctx: { operator: string; now: number; event: 'keys:org_created' | 'keys:org_imported' }): Promise<{ replaced: string | undefined }> {
    const plain = Buffer.from(key.secret, 'utf8');
    let sealed: { keyId: string; wrapped: Buffer };
    try {
      sealed = wrapKey(this.ring(), plain, orgKeyAad(key.kind, key.fingerprint));
    } finally {
      plain.fill(0);
    }
    return await this.db.transaction(async (tx) => {
      // two nodes replacing the key of one kind at once: one after the other, each naming the key it replaced
      await lockKey(tx, LOCK_SPACES.orgKeys, key.kind);
      const old = await tx.get<{ fingerprint: string }>('SELECT fingerprint FROM org_keys WHERE kind = ?', [key.kind]);
      await tx.run('DELETE FROM org_keys WHERE kind = ?', [key.kind]);
      await tx.run('INSERT INTO org_keys (kind, fingerprint, algorithm, created_at, expires_at, details, public_material, secret_ciphertext, key_id, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        key.kind,
        key.fingerprint,
        key.algorithm,
        key.createdAt,
        key.expiresAt,
        JSON.stringify(key.details),
        key.publicMaterial,
        sealed.wrapped,
        sealed.keyId,
        ctx.now,
      ]);
      const replaced = old?.fingerprint;
      await appendAuditEvent(tx, { type: ctx.event, data: { fingerprint: key.fingerprint, kind: key.kind, operator: ctx.operator, ...(replaced !== undefined ? { replaced } : {}) } }, ctx.now);
      return { replaced };
    });
  }

  /**
   * The decrypted private key of `kind` (armored OpenPGP private key, or
   * PKCS#8 PEM) with its public facts. SG_ORG_KEY_NOT_FOUND when none is
   * stored; SG_KEY_UNKNOWN when the master key that sealed it is not in the
   * keyring; SG_ORG_KEY_CORRUPT when the ciphertext does not authenticate.
   */
  async loadSecret(kind: OrgKeyKind): Promise<{ info: OrgKeyInfo; secret: string }> {
    const r = await this.db.get<Row>(`SELECT ${PUBLIC_COLUMNS}, secret_ciphertext FROM org_keys WHERE kind = ?`, [kind]);
    if (!r) throw orgKeyNotFound(kind);
    const info = fromRow(r);
    let plain: Buffer;
    try {
      plain = unwrapKey(this.ring(), r.key_id, Buffer.from(r.secret_ciphertext), orgKeyAad(kind, r.fingerprint));
    } catch (err) {
      if (err instanceof SealgateError && err.code === 'SG_KEY_UNKNOWN') throw err;
      throw new SealgateError('SG_ORG_KEY_CORRUPT', { message: `the stored organisation ${kind} key ${r.fingerprint} does not decrypt under master key ${r.key_id}`, cause: err, detail: { kind, keyId: r.key_id } });
    }
    try {
      return { info, secret: plain.toString('utf8') };
    } finally {
      plain.fill(0);
    }
  }
}

/** For the OpenPGP transform (buildPgpMime's signingKey): the organisation's armored, decrypted private key. */
export async function loadOrgPgpSigningKey(db: SqlDatabase, keyring: Keyring): Promise<{ fingerprint: string; signingKey: string }> {
  const { info, secret } = await new SqlOrgKeyStore(db, keyring).loadSecret('pgp');
  return { fingerprint: info.fingerprint, signingKey: secret };
}

/** Splits stored S/MIME public material into the signer certificate and its chain. */
export function splitCertChain(pem: string): { certPem: string; chainPem: string } {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  return { certPem: blocks[0] ?? '', chainPem: blocks.slice(1).join('') };
}

/** For S/MIME signing (src/smime SmimeSigner): the organisation's certificate, chain and PKCS#8 key. */
export async function loadOrgSmimeSigner(db: SqlDatabase, keyring: Keyring): Promise<{ fingerprint: string; certPem: string; keyPem: string; chainPem?: string }> {
  const { info, secret } = await new SqlOrgKeyStore(db, keyring).loadSecret('smime');
  const { certPem, chainPem } = splitCertChain(info.publicMaterial);
  return { fingerprint: info.fingerprint, certPem, keyPem: secret, ...(chainPem ? { chainPem } : {}) };
}
