/**
 * Reading OpenPGP public keys (armored or binary, one or many) with openpgp
 * v6 and gathering the facts the verdict needs at a given time. Secret key
 * material is never kept: a secret key is reduced to its public part.
 */
import type * as openpgp from 'openpgp';
import { loadOpenpgp } from './openpgp-module.js';
import type { PgpFacts } from './pgp-verdict.js';

export interface PgpKeyInfo {
  readonly fingerprint: string;
  readonly algorithm: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revoked: boolean;
  readonly userIds: readonly string[];
  /** Every address a user ID names, valid or not. */
  readonly emails: readonly string[];
  /** The public key, armored. */
  readonly armored: string;
  /** The input held the secret key; only its public part is kept. */
  readonly hadSecret: boolean;
  readonly facts: PgpFacts;
}

const ARMOR_BLOCK = /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/g;

/** True when the text holds an ASCII-armored OpenPGP key block. */
export function looksArmoredPgp(text: string): boolean {
  return /-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----/.test(text);
}

/** True when the bytes start like a binary OpenPGP packet (tag bit set): a DER SEQUENCE (0x30) never does. */
export function looksBinaryPgp(bytes: Uint8Array): boolean {
  return bytes.length > 0 && ((bytes[0] ?? 0) & 0x80) !== 0;
}

export async function readPgpKeys(input: { text: string } | { bytes: Uint8Array }): Promise<openpgp.Key[]> {
  const pgp = await loadOpenpgp();
  if ('bytes' in input) return pgp.readKeys({ binaryKeys: input.bytes });
  const keys: openpgp.Key[] = [];
  for (const block of input.text.match(ARMOR_BLOCK) ?? []) keys.push(...(await pgp.readKeys({ armoredKeys: block })));
  return keys;
}

function algorithmName(info: openpgp.AlgorithmInfo): string {
  if (info.bits) return `${info.algorithm}${info.bits}`;
  if (info.curve) return `${info.algorithm}/${info.curve}`;
  return info.algorithm;
}

/** Primary and subkey algorithms: "eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy". */
export function pgpAlgorithms(key: openpgp.Key): string {
  return [key.getAlgorithmInfo(), ...key.subkeys.map((s) => s.getAlgorithmInfo())].map(algorithmName).join(' + ');
}

function timeOf(t: Date | number | null): number | null {
  if (t === null || t === Infinity) return null;
  return t instanceof Date ? t.getTime() : t;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The facts about one key at `now` (ms since epoch). */
export async function inspectPgpKey(input: openpgp.Key, now: number): Promise<PgpKeyInfo> {
  const hadSecret = input.isPrivate();
  const key = hadSecret ? input.toPublic() : input;
  const date = new Date(now);
  const revoked = await key.isRevoked(undefined, undefined, date);
  let expiresAt: number | null = null;
  try {
    expiresAt = timeOf(await key.getExpirationTime());
  } catch {
    // no valid primary user: reported by verifyPrimaryKey below
  }
  let selfSignatureError: string | null = null;
  try {
    await key.verifyPrimaryKey(date);
  } catch (err) {
    const m = messageOf(err);
    if (!/is (?:expired|revoked)/i.test(m)) selfSignatureError = m;
  }
  let encryptionKey: string | null = null;
  try {
    encryptionKey = (await key.getEncryptionKey(undefined, date)).getFingerprint();
  } catch {
    encryptionKey = null;
  }
  const userIds: string[] = [];
  const emails: string[] = [];
  const validEmails: string[] = [];
  for (const user of key.users) {
    if (!user.userID) continue;
    userIds.push(user.userID.userID);
    const email = user.userID.email;
    if (email) emails.push(email);
    const ok = await user.verify(date).then(
      () => true,
      () => false,
    );
    if (ok && email) validEmails.push(email);
  }
  const createdAt = key.getCreationTime().getTime();
  return {
    fingerprint: key.getFingerprint().toLowerCase(),
    algorithm: pgpAlgorithms(key),
    createdAt,
    expiresAt,
    revoked,
    userIds,
    emails,
    armored: key.armor(),
    hadSecret,
    facts: { revoked, createdAt, expiresAt, selfSignatureError, encryptionKey: encryptionKey?.toLowerCase() ?? null, validEmails },
  };
}
