/**
 * The organisation's OpenPGP key: generated with openpgp v6 as a v4 key
 * (ed25519 primary for certification and signing, cv25519 encryption
 * subkey), which GnuPG 2.2 reads. No passphrase: the store seals it under
 * the master key instead.
 */
import { SealgateError } from '../errors.js';
import { inspectPgpKey } from './openpgp.js';
import { loadOpenpgp } from './openpgp-module.js';
import type { NewOrgKey } from './org-store.js';

export interface OrgPgpOptions {
  readonly name: string;
  readonly email: string;
  /** Creation time (ms since epoch). */
  readonly now: number;
}

/** A new organisation OpenPGP key, ready for SqlOrgKeyStore.put. */
export async function generateOrgPgpKey(opts: OrgPgpOptions): Promise<NewOrgKey> {
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(opts.email)) throw new SealgateError('SG_USAGE', { message: 'expected --email to be an address like security@example.org' });
  if (/[<>\r\n]/.test(opts.name)) throw new SealgateError('SG_USAGE', { message: 'expected --name without <, > or line breaks' });
  const { privateKey } = await (await loadOpenpgp()).generateKey({
    // 'ecc' + curve25519Legacy: EdDSA (legacy, algorithm 22) and ECDH cv25519 — what GnuPG 2.2 reads; 'curve25519' would be the RFC 9580 algorithms it does not
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: opts.name, email: opts.email }],
    date: new Date(opts.now),
    format: 'object',
    config: { v6Keys: false },
  });
  const info = await inspectPgpKey(privateKey, opts.now);
  return {
    kind: 'pgp',
    fingerprint: info.fingerprint,
    algorithm: info.algorithm,
    createdAt: info.createdAt,
    expiresAt: info.expiresAt,
    details: { userIds: info.userIds },
    publicMaterial: info.armored,
    secret: privateKey.armor(),
  };
}
