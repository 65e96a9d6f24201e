/**
 * The organisation's OpenPGP key (made as `sealgate keys org init` makes it)
 * with its secret half damaged, as a bad restore or a corrupt import would
 * leave it: it reads, it is decrypted, it has a signing key, so the
 * transform accepts it up front — openpgp fails only when it signs, at the
 * end of the stream, after most of the copy has been written to the spool.
 */
import * as openpgp from 'openpgp';
import { generateOrgPgpKey } from '../../src/keys/org-pgp.js';
import type { NewOrgKey } from '../../src/keys/org-store.js';

export async function damagedOrgPgpKey(): Promise<NewOrgKey> {
  const made = await generateOrgPgpKey({ name: 'Example Clinic', email: 'security@example.com', now: Date.now() });
  const key = await openpgp.readPrivateKey({ armoredKey: made.secret });
  const packet = key.keyPacket as unknown as { privateParams: Record<string, Uint8Array> };
  for (const value of Object.values(packet.privateParams)) value.forEach((b, i) => (value[i] = b ^ 0x5a));
  return { ...made, secret: key.armor() };
}
