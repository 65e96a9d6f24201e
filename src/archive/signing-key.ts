/**
 * The gateway's own Ed25519 signing key, which signs the archive's
 * checkpoints (checkpoints.ts). Created on the daemon's first start and kept
 * in `gateway_keys` (migration 18): the public key as PEM (SPKI) with its
 * fingerprint, the private key (PKCS#8 DER) sealed with AES-256-GCM under
 * the master key, bound by its AAD to its purpose.
 *
 * Why the database rather than a file under dataDir/keys: the key then
 * travels with the database in backups and restores (a restored database
 * whose checkpoints were signed by a key in a lost file could not prove they
 * were ours), and it is written in a transaction, so two processes starting
 * at once cannot each create one. The sealing keeps it unusable to whoever
 * reads the database without the master key.
 *
 * The fingerprint — lowercase hex SHA-256 of the public key's SPKI DER, what
 * `sealgate archive key` prints and `openssl pkey -pubin -outform DER |
 * sha256sum` gives — is what an auditor writes down somewhere else: a
 * checkpoint is only as good as the knowledge that the key is ours.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import { openKey, sealKey, type Keyring } from '../crypto/keyring.js';
import { SealgateError } from '../errors.js';

/** `gateway_keys.purpose` of the checkpoint signing key. */
export const CHECKPOINT_KEY_PURPOSE = 'checkpoint-signing';

export interface PublicSigningKey {
  readonly algorithm: 'ed25519';
  /** PEM (SPKI). */
  readonly publicKeyPem: string;
  /** Lowercase hex SHA-256 of the SPKI DER. */
  readonly fingerprint: string;
  readonly createdAt: number;
  readonly publicKey: KeyObject;
}

export interface SigningKey extends PublicSigningKey {
  readonly privateKey: KeyObject;
}

interface KeyRow {
  algorithm: string;
  public_key: string;
  fingerprint: string;
  secret_ciphertext: Buffer;
  key_id: string;
  created_at: number;
}

/** Lowercase hex SHA-256 of a public key's SPKI DER. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

function sealAad(purpose: string): Buffer {
  return Buffer.from(`sealgate-gateway-key:${purpose}`, 'utf8');
}

function corrupt(why: string, cause?: unknown): SealgateError {
  return new SealgateError('SG_KEY_INVALID', {
    message: `the gateway signing key in the database ${why}; restore the database (or the master key file) from your backup`,
    cause,
  });
}

function publicFromRow(row: KeyRow): PublicSigningKey {
  if (row.algorithm !== 'ed25519') throw corrupt(`has algorithm ${JSON.stringify(row.algorithm)}, not ed25519`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(row.public_key);
  } catch (err) {
    throw corrupt('has an unreadable public key', err);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw corrupt('has a public key that is not Ed25519');
  const fingerprint = publicKeyFingerprint(publicKey);
  // the stored fingerprint is for humans and indexes; the one that counts is computed from the key itself
  if (fingerprint !== row.fingerprint) throw corrupt('has a fingerprint that does not match its public key');
  return { algorithm: 'ed25519', publicKeyPem: row.public_key, fingerprint, createdAt: row.created_at, publicKey };
}

const SELECT = 'SELECT algorithm, public_key, fingerprint, secret_ciphertext, key_id, created_at FROM gateway_keys WHERE purpose = ?';

/** The public half of the signing key (no master key needed); undefined before the daemon's first start. */
export async function readPublicSigningKey(db: SqlQueryable): Promise<PublicSigningKey | undefined> {
  const row = await db.get<KeyRow>(SELECT, [CHECKPOINT_KEY_PURPOSE]);
  return row ? publicFromRow(row) : undefined;
}

function unseal(row: KeyRow, keyring: Keyring): SigningKey {
  const pub = publicFromRow(row);
  let privateKey: KeyObject;
  try {
    const der = openKey(keyring.get(row.key_id).key, row.secret_ciphertext, sealAad(CHECKPOINT_KEY_PURPOSE), row.key_id);
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (err) {
    if (err instanceof SealgateError && err.code === 'SG_KEY_UNKNOWN') throw err;
    throw corrupt(`does not decrypt under master key ${row.key_id}`, err);
  }
  // a private key that is not the public key's other half would sign checkpoints nobody can verify
  if (publicKeyFingerprint(createPublicKey(privateKey)) !== pub.fingerprint) throw corrupt('has a private key that does not match its public key');
  return { ...pub, privateKey };
}

/**
 * The signing key, created (and stored sealed under the current master key)
 * when there is none yet; one sealed under a previous master key (rotation,
 * keys.previousKeyFiles) is sealed again under the current one. `generate`
 * is injectable for tests.
 */
export async function loadOrCreateSigningKey(
  db: SqlDatabase,
  keyring: Keyring,
  now: number,
  generate: () => { publicKey: KeyObject; privateKey: KeyObject } = () => generateKeyPairSync('ed25519'),
): Promise<SigningKey> {
  const existing = await db.get<KeyRow>(SELECT, [CHECKPOINT_KEY_PURPOSE]);
  if (existing) {
    const key = unseal(existing, keyring);
    if (existing.key_id !== keyring.current.id) {
      // sealed under a previous master key: seal it under the current one, so the old key file can be retired later
      const der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
      await db.transaction((tx) =>
        tx.run('UPDATE gateway_keys SET secret_ciphertext = ?, key_id = ? WHERE purpose = ? AND key_id = ?', [
          sealKey(keyring.current.key, der, sealAad(CHECKPOINT_KEY_PURPOSE)),
          keyring.current.id,
          CHECKPOINT_KEY_PURPOSE,
          existing.key_id,
        ]),
      );
    }
    return key;
  }
  const pair = generate();
  const der = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
  const row: KeyRow = {
    algorithm: 'ed25519',
    public_key: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: publicKeyFingerprint(pair.publicKey),
    secret_ciphertext: sealKey(keyring.current.key, der, sealAad(CHECKPOINT_KEY_PURPOSE)),
    key_id: keyring.current.id,
    created_at: now,
  };
  // insert unless there is one, then read back: if another process or node created one first, its key wins and ours is dropped
  const stored = await db.transaction(async (tx) => {
    await tx.run(
      'INSERT INTO gateway_keys (purpose, algorithm, public_key, fingerprint, secret_ciphertext, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (purpose) DO NOTHING',
      [CHECKPOINT_KEY_PURPOSE, row.algorithm, row.public_key, row.fingerprint, row.secret_ciphertext, row.key_id, row.created_at],
    );
    return tx.get<KeyRow>(SELECT, [CHECKPOINT_KEY_PURPOSE]);
  });
  if (!stored) throw corrupt('could not be stored');
  return unseal(stored, keyring);
}
