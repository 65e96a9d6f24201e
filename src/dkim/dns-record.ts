/**
 * The DNS TXT record that publishes a DKIM public key (RFC 6376 §3.6.1,
 * RFC 8463 §4.2 for Ed25519): pure functions of the key.
 */
import type { KeyObject } from 'node:crypto';

export interface DkimTxtRecord {
  /** `<selector>._domainkey.<domain>` */
  readonly name: string;
  /** `v=DKIM1; k=rsa; p=...` (one string; DNS splits it, see zoneLine) */
  readonly value: string;
}

/** Length of the DER prefix of an Ed25519 SubjectPublicKeyInfo (the raw 32-byte key follows). */
const ED25519_SPKI_PREFIX = 12;

/** Pure: the TXT record for a public (or private: its public half) RSA or Ed25519 key. */
export function dkimTxtRecord(domain: string, selector: string, publicKey: KeyObject): DkimTxtRecord {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const type = publicKey.asymmetricKeyType;
  // RSA publishes the SubjectPublicKeyInfo, Ed25519 the bare 32-byte key (RFC 8463 §4.2)
  const p = type === 'ed25519' ? spki.subarray(ED25519_SPKI_PREFIX).toString('base64') : spki.toString('base64');
  if (type !== 'rsa' && type !== 'ed25519') throw new Error(`a ${type ?? 'unknown'} key cannot be published for DKIM`);
  return { name: `${selector}._domainkey.${domain}`, value: `v=DKIM1; k=${type}; p=${p}` };
}

/** Pure: the record as one zone-file line, its value cut into quoted strings of at most 255 bytes (a TXT string's limit). */
export function zoneLine(record: DkimTxtRecord): string {
  const parts: string[] = [];
  for (let i = 0; i < record.value.length; i += 255) parts.push(`"${record.value.slice(i, i + 255)}"`);
  return `${record.name}. IN TXT ( ${parts.join(' ')} )`;
}
