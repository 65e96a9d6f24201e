/**
 * Master keys: reading and creating the master key file, the keyring of the
 * current and previous master keys (rotation), and wrapping / unwrapping of
 * per-message data keys with AES-256-GCM. Error messages name files and key
 * ids, never key material.
 *
 * Key file format: `sealgate-master-key-v1:` + 64 lowercase hex characters
 * (32 random bytes) + newline; trailing whitespace is accepted on read.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { SealgateError } from '../errors.js';
import { fsyncDir } from '../fs/fsync-dir.js';

export const MASTER_KEY_PREFIX = 'sealgate-master-key-v1:';
export const MASTER_KEY_LENGTH = 32;
const KEY_FILE_PATTERN = /^sealgate-master-key-v1:([0-9a-f]{64})\s*$/;
/** A valid file is 88 bytes; anything much larger is not a key file. */
const MAX_KEY_FILE_SIZE = 4096;

const IV_LENGTH = 12;
const TAG_LENGTH = 16;

export interface MasterKey {
  /** First 16 hex chars of sha256("sealgate-key-id:" || key); safe to log. */
  readonly id: string;
  readonly key: Buffer;
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('sealgate-key-id:').update(key).digest('hex').slice(0, 16);
}

export function masterKeyFromBytes(key: Buffer): MasterKey {
  if (key.length !== MASTER_KEY_LENGTH) {
    throw new SealgateError('SG_KEY_INVALID', { message: `master key must be ${MASTER_KEY_LENGTH} bytes` });
  }
  return { id: keyIdOf(key), key: Buffer.from(key) };
}

export function formatMasterKeyFile(key: MasterKey): string {
  return `${MASTER_KEY_PREFIX}${key.key.toString('hex')}\n`;
}

function invalidKeyFile(path: string, cause?: unknown): SealgateError {
  return new SealgateError('SG_KEY_INVALID', {
    message:
      `master key file ${path} is invalid: it must hold one line "${MASTER_KEY_PREFIX}" followed by 64 lowercase hex characters. ` +
      'Restore the file from your backup; only if no data encrypted under it must be kept, move it away and start again to create a new key.',
    cause,
    detail: { path },
  });
}

/** Parses key file text; `path` is only used in the error message. */
export function parseMasterKeyFile(text: string, path: string): MasterKey {
  const m = KEY_FILE_PATTERN.exec(text);
  if (!m?.[1]) throw invalidKeyFile(path);
  return masterKeyFromBytes(Buffer.from(m[1], 'hex'));
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Reads a key file; undefined when it does not exist. */
async function readKeyFile(path: string): Promise<MasterKey | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new SealgateError('SG_KEY_INVALID', {
      message: `cannot open master key file ${path} (${errnoCode(err) ?? 'error'}); check that it is a regular file readable by the gateway user`,
      cause: err,
      detail: { path },
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_KEY_FILE_SIZE) throw invalidKeyFile(path);
    return parseMasterKeyFile(await fh.readFile('utf8'), path);
  } finally {
    await fh.close();
  }
}

/** mkdir -p with mode 0700 on every directory it creates (independent of umask). */
async function makeDirs(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  let d = resolve(first);
  const target = resolve(dir);
  await chmod(d, 0o700);
  for (const part of relative(d, target).split(sep).filter(Boolean)) {
    d = resolve(d, part);
    await chmod(d, 0o700);
  }
}

/**
 * Writes the key to a 0600 temp file, fsyncs it, then hard-links it to `path`
 * (link fails with EEXIST instead of replacing) and fsyncs the directory.
 * Returns the key now in `path`: ours, or the one a racing process wrote.
 */
async function createKeyFile(path: string, key: MasterKey): Promise<MasterKey> {
  const dir = dirname(path);
  await makeDirs(dir);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.chmod(0o600);
      await fh.writeFile(formatMasterKeyFile(key));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, path);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const other = await readKeyFile(path);
      if (!other) throw invalidKeyFile(path, err);
      return other;
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
  return key;
}

export interface LoadMasterKeyOptions {
  /** Create a new key file when `path` does not exist. */
  readonly create: boolean;
  /** Source of the 32 key bytes (tests); default crypto.randomBytes. */
  readonly random?: (n: number) => Buffer;
}

export async function loadOrCreateMasterKey(path: string, options: LoadMasterKeyOptions): Promise<MasterKey> {
  const existing = await readKeyFile(path);
  if (existing) return existing;
  if (!options.create) {
    throw new SealgateError('SG_KEY_INVALID', {
      message: `master key file ${path} not found; restore it from your backup, or let the gateway create a new one on first start (only when no spooled data needs it)`,
      detail: { path },
    });
  }
  const key = masterKeyFromBytes((options.random ?? randomBytes)(MASTER_KEY_LENGTH));
  try {
    return await createKeyFile(path, key);
  } catch (err) {
    if (err instanceof SealgateError) throw err;
    throw new SealgateError('SG_KEY_INVALID', {
      message: `cannot create master key file ${path} (${errnoCode(err) ?? 'error'}); check that its directory is writable by the gateway user`,
      cause: err,
      detail: { path },
    });
  }
}

/** The current master key (wraps new data keys) plus older keys kept for reading. */
export class Keyring {
  readonly current: MasterKey;
  readonly previous: readonly MasterKey[];
  private readonly byId = new Map<string, MasterKey>();

  constructor(current: MasterKey, previous: MasterKey[] = []) {
    this.current = current;
    this.previous = [...previous];
    for (const k of [...previous].reverse()) this.byId.set(k.id, k);
    this.byId.set(current.id, current);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): MasterKey {
    const k = this.byId.get(id);
    if (!k) {
      throw new SealgateError('SG_KEY_UNKNOWN', {
        message: `no master key with id ${id}; add the key file that has it to keys.previousKeyFiles`,
        detail: { keyId: id },
      });
    }
    return k;
  }
}

export interface LoadKeyringOptions {
  readonly masterKeyFile: string;
  readonly previousKeyFiles?: readonly string[];
  /** Create masterKeyFile when missing (previous key files are never created). */
  readonly create: boolean;
}

export async function loadKeyring(options: LoadKeyringOptions): Promise<Keyring> {
  const current = await loadOrCreateMasterKey(options.masterKeyFile, { create: options.create });
  const previous: MasterKey[] = [];
  for (const p of options.previousKeyFiles ?? []) previous.push(await loadOrCreateMasterKey(p, { create: false }));
  return new Keyring(current, previous);
}

/** AES-256-GCM under the current master key: 12-byte IV | 16-byte tag | ciphertext. */
export function wrapKey(keyring: Keyring, dataKey: Buffer, aad: Buffer): { keyId: string; wrapped: Buffer } {
  const { id, key } = keyring.current;
  return { keyId: id, wrapped: sealKey(key, dataKey, aad) };
}

/** AES-256-GCM of a key under `kek` (32 bytes): iv ‖ tag ‖ ciphertext. */
export function sealKey(kek: Buffer, dataKey: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

/**
 * Inverse of wrapKey. Throws SG_KEY_UNKNOWN when keyId is not in the keyring
 * and SG_SPOOL_CORRUPT when the wrapped key or the AAD does not authenticate.
 */
export function unwrapKey(keyring: Keyring, keyId: string, wrapped: Buffer, aad: Buffer): Buffer {
  return openKey(keyring.get(keyId).key, wrapped, aad, keyId);
}

/** Reverses sealKey; SG_SPOOL_CORRUPT when `wrapped` is short or fails authentication (a wrong key too). */
export function openKey(kek: Buffer, wrapped: Buffer, aad: Buffer, keyId = 'link'): Buffer {
  if (wrapped.length < IV_LENGTH + TAG_LENGTH) {
    throw new SealgateError('SG_SPOOL_CORRUPT', { message: 'wrapped data key is too short', detail: { keyId } });
  }
  const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, IV_LENGTH), { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(wrapped.subarray(IV_LENGTH, IV_LENGTH + TAG_LENGTH));
  decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(IV_LENGTH + TAG_LENGTH)), decipher.final()]);
  } catch (err) {
    throw new SealgateError('SG_SPOOL_CORRUPT', { message: 'wrapped data key failed authentication', cause: err, detail: { keyId } });
  }
}
