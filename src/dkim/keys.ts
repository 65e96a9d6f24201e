/**
 * Reading the DKIM private keys named in `dkim.keys` (at daemon start and on
 * every reload, so a bad key refuses the start or the reload and the running
 * keys stay). Each problem names the config path, the file and the fix;
 * nothing of the key itself ever appears in a message.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { SealgateError } from '../errors.js';
import type { DkimKeyConfig } from './config-schema.js';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimKey {
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** PKCS#8 PEM, what mailauth's signer takes. */
  readonly privateKeyPem: string;
}

/** RFC 8301: verifiers may ignore RSA keys shorter than 1024 bits; 2048 is what we recommend and generate. */
export const MIN_RSA_BITS = 1024;
/** A PEM private key is a few kilobytes at most; anything larger is not one. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Pure: the key's DKIM algorithm, or why it cannot sign. */
export function keyAlgorithm(key: KeyObject): { algorithm: DkimAlgorithm } | { problem: string } {
  if (key.type !== 'private') return { problem: 'is not a private key' };
  if (key.asymmetricKeyType === 'ed25519') return { algorithm: 'ed25519-sha256' };
  if (key.asymmetricKeyType !== 'rsa') return { problem: `is of type ${key.asymmetricKeyType ?? 'unknown'}; DKIM signs with RSA (rsa-sha256) or Ed25519 (ed25519-sha256) keys` };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return { problem: `is a ${bits}-bit RSA key; receivers ignore DKIM keys under ${MIN_RSA_BITS} bits: make a 2048-bit one with "sealgate dkim keygen"` };
  return { algorithm: 'rsa-sha256' };
}

/** The loaded keys of `dkim.keys`, in config order; throws SG_CONFIG_INVALID listing every problem. */
export function loadDkimKeys(entries: readonly DkimKeyConfig[], read: (path: string) => Buffer = readBounded): DkimKey[] {
  const keys: DkimKey[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const where = `dkim.keys[${i}].keyFile: ${entry.keyFile}`;
    let pem: Buffer;
    try {
      pem = read(resolve(entry.keyFile));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const fix =
        code === 'ENOENT'
          ? 'the file does not exist: create it with "sealgate dkim keygen DOMAIN --selector S --out FILE" or correct the path'
          : code === 'EACCES'
            ? 'cannot read it: give the user running Sealgate read access (mode 0600, owned by that user)'
            : code === 'EFBIG'
              ? `larger than ${MAX_KEY_FILE_BYTES} bytes: this is not a PEM private key`
              : `cannot read it (${code ?? 'error'})`;
      problems.push(`${where}: ${fix}`);
      return;
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch (err) {
      const encrypted = /ENCRYPTED|passphrase/i.test(pem.toString('latin1', 0, 200)) || /passphrase/i.test((err as Error).message);
      problems.push(
        encrypted
          ? `${where}: the key is protected by a passphrase, which the daemon cannot enter: store it unencrypted with mode 0600 (openssl pkey -in OLD -out NEW)`
          : `${where}: not a PEM private key (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----"): point it at the key file "sealgate dkim keygen" wrote`,
      );
      return;
    }
    const kind = keyAlgorithm(key);
    if ('problem' in kind) {
      problems.push(`${where}: the key ${kind.problem}`);
      return;
    }
    keys.push({ domain: entry.domain, selector: entry.selector, algorithm: kind.algorithm, privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString() });
  });
  if (problems.length > 0) throw new SealgateError('SG_CONFIG_INVALID', { message: problems.join('; '), detail: { problems } });
  return keys;
}

function readBounded(path: string): Buffer {
  if (statSync(path).size > MAX_KEY_FILE_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
  return readFileSync(path);
}
