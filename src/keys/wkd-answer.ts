/**
 * Reading a WKD answer: binary OpenPGP (armored accepted too, as some
 * servers send it), each key inspected with the directory's own reader. A
 * key none of whose user IDs names the address is set aside, never stored.
 */
import { sameAddress } from './address.js';
import { inspectPgpKey, looksArmoredPgp, readPgpKeys, type PgpKeyInfo } from './openpgp.js';

export interface WkdAnswer {
  /** Keys with a user ID naming the address (valid or not: the verdict decides). */
  readonly matching: readonly PgpKeyInfo[];
  /** Keys served for the address that do not name it. */
  readonly foreign: readonly PgpKeyInfo[];
}

/** Throws when the bytes are not OpenPGP keys. */
export async function readWkdAnswer(bytes: Buffer, address: string, now: number): Promise<WkdAnswer> {
  const text = bytes.toString('latin1');
  const keys = looksArmoredPgp(text) ? await readPgpKeys({ text }) : await readPgpKeys({ bytes });
  const matching: PgpKeyInfo[] = [];
  const foreign: PgpKeyInfo[] = [];
  for (const key of keys) {
    const info = await inspectPgpKey(key, now);
    (info.emails.some((e) => sameAddress(e, address)) ? matching : foreign).push(info);
  }
  return { matching, foreign };
}
