/**
 * `sealgate dkim keygen`: a new signing key written to a file that did not
 * exist (mode 0600, never overwritten), and the TXT record to publish.
 */
import { createPublicKey, generateKeyPair } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dkimTxtRecord, type DkimTxtRecord } from './dns-record.js';

export const RSA_BITS = [1024, 2048, 3072, 4096] as const;
export type KeygenAlgorithm = 'rsa' | 'ed25519';

export interface KeygenResult {
  readonly file: string;
  readonly algorithm: KeygenAlgorithm;
  readonly bits?: number;
  readonly record: DkimTxtRecord;
}

const generate = promisify(generateKeyPair);

/** Generates the key, writes it to `file` (exclusive create, 0600) and returns the record; EEXIST when the file exists. */
export async function dkimKeygen(input: { domain: string; selector: string; file: string; algorithm: KeygenAlgorithm; bits: number }): Promise<KeygenResult> {
  const pem =
    input.algorithm === 'ed25519'
      ? (await generate('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })).privateKey
      : (await generate('rsa', { modulusLength: input.bits, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })).privateKey;
  // 'wx': fails with EEXIST rather than replacing a key whose record may be published
  await writeFile(input.file, pem, { mode: 0o600, flag: 'wx' });
  const record = dkimTxtRecord(input.domain, input.selector, createPublicKey(pem));
  return input.algorithm === 'rsa' ? { file: input.file, algorithm: 'rsa', bits: input.bits, record } : { file: input.file, algorithm: 'ed25519', record };
}
