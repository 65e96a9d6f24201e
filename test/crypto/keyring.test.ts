/**
 * Master key files (format, modes, atomic create, races), the keyring and
 * data-key wrapping.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Keyring,
  keyIdOf,
  loadKeyring,
  loadOrCreateMasterKey,
  masterKeyFromBytes,
  unwrapKey,
  wrapKey,
} from '../../src/crypto/keyring.js';
import { SealgateError } from '../../src/errors.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sealgate-keyring-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function caught(p: Promise<unknown>): Promise<SealgateError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SealgateError);
  return err as SealgateError;
}

const HEX = 'ab'.repeat(32);

describe('master key file', () => {
  it('is created with mode 0600 in new 0700 directories, whatever the umask', async () => {
    const path = join(root, 'a', 'b', 'master.key');
    const old = process.umask(0);
    let key;
    try {
      key = await loadOrCreateMasterKey(path, { create: true });
    } finally {
      process.umask(old);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, 'a', 'b'))).mode & 0o777).toBe(0o700);
    expect((await stat(root)).mode & 0o777).toBe(0o700); // mkdtemp's own, untouched
    expect(await readFile(path, 'utf8')).toMatch(/^sealgate-master-key-v1:[0-9a-f]{64}\n$/);
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['master.key']); // no temp file left

    const again = await loadOrCreateMasterKey(path, { create: false });
    expect(again.id).toBe(key.id);
    expect(again.key.equals(key.key)).toBe(true);
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('derives the key id from sha256("sealgate-key-id:" || key) and uses the random source', async () => {
    const path = join(root, 'master.key');
    const key = await loadOrCreateMasterKey(path, { create: true, random: (n) => Buffer.alloc(n, 7) });
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('sealgate-key-id:'), Buffer.alloc(32, 7)])).digest('hex').slice(0, 16);
    expect(key.id).toBe(expected);
    expect(keyIdOf(Buffer.alloc(32, 7))).toBe(expected);
    expect(await readFile(path, 'utf8')).toBe(`sealgate-master-key-v1:${'07'.repeat(32)}\n`);
  });

  it('never overwrites an existing key file', async () => {
    const path = join(root, 'master.key');
    await writeFile(path, `sealgate-master-key-v1:${HEX}\n`, { mode: 0o600 });
    const key = await loadOrCreateMasterKey(path, { create: true });
    expect(key.key.toString('hex')).toBe(HEX);
    expect(await readFile(path, 'utf8')).toBe(`sealgate-master-key-v1:${HEX}\n`);
  });

  it('gives every racing creator the same key', async () => {
    const path = join(root, 'keys', 'master.key');
    const keys = await Promise.all(
      Array.from({ length: 8 }, (_, i) => loadOrCreateMasterKey(path, { create: true, random: (n) => Buffer.alloc(n, i + 1) })),
    );
    const onDisk = await loadOrCreateMasterKey(path, { create: false });
    for (const k of keys) expect(k.id).toBe(onDisk.id);
    expect(await readdir(join(root, 'keys'))).toEqual(['master.key']);
  });

  it('accepts trailing whitespace', async () => {
    const path = join(root, 'master.key');
    await writeFile(path, `sealgate-master-key-v1:${HEX}  \r\n\n\t `);
    expect((await loadOrCreateMasterKey(path, { create: false })).key.toString('hex')).toBe(HEX);
  });

  it.each([
    ['empty', ''],
    ['prefix only', 'sealgate-master-key-v1:\n'],
    ['63 hex chars', `sealgate-master-key-v1:${HEX.slice(1)}\n`],
    ['65 hex chars', `sealgate-master-key-v1:${HEX}a\n`],
    ['uppercase hex', `sealgate-master-key-v1:${HEX.toUpperCase()}\n`],
    ['leading whitespace', ` sealgate-master-key-v1:${HEX}\n`],
    ['other version', `sealgate-master-key-v2:${HEX}\n`],
    ['trailing garbage', `sealgate-master-key-v1:${HEX}\nmore\n`],
    ['bare hex', `${HEX}\n`],
    ['huge file', `sealgate-master-key-v1:${HEX}${' '.repeat(5000)}`],
  ])('rejects a malformed file: %s', async (_name, content) => {
    const path = join(root, 'bad.key');
    await writeFile(path, content);
    const err = await caught(loadOrCreateMasterKey(path, { create: true }));
    expect(err.code).toBe('SG_KEY_INVALID');
    expect(err.message).toContain(path);
    expect(err.message).not.toContain(HEX.slice(0, 16));
    expect(err.message).not.toContain(HEX.slice(0, 16).toUpperCase());
    expect(await readFile(path, 'utf8')).toBe(content); // left alone
  });

  it('rejects a directory in place of the file', async () => {
    const path = join(root, 'dir.key');
    await mkdir(path);
    const err = await caught(loadOrCreateMasterKey(path, { create: false }));
    expect(err.code).toBe('SG_KEY_INVALID');
    expect(err.message).toContain(path);
  });

  it('reports a missing file when create is false', async () => {
    const path = join(root, 'missing.key');
    const err = await caught(loadOrCreateMasterKey(path, { create: false }));
    expect(err.code).toBe('SG_KEY_INVALID');
    expect(err.message).toContain(path);
    expect(err.message).toContain('not found');
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('keyring', () => {
  const a = masterKeyFromBytes(randomBytes(32));
  const b = masterKeyFromBytes(randomBytes(32));

  it('finds current and previous keys and names an unknown id', async () => {
    const ring = new Keyring(b, [a]);
    expect(ring.current.id).toBe(b.id);
    expect(ring.get(a.id)).toBe(a);
    expect(ring.get(b.id)).toBe(b);
    let err: unknown;
    try {
      ring.get('0123456789abcdef');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SG_KEY_UNKNOWN', detail: { keyId: '0123456789abcdef' } });
  });

  it('loads previous key files but never creates them', async () => {
    const cur = join(root, 'cur.key');
    const prev = join(root, 'prev.key');
    await writeFile(prev, `sealgate-master-key-v1:${HEX}\n`);
    const ring = await loadKeyring({ masterKeyFile: cur, previousKeyFiles: [prev], create: true });
    expect(ring.get(keyIdOf(Buffer.from(HEX, 'hex'))).key.toString('hex')).toBe(HEX);
    expect(ring.current.id).toBe((await loadOrCreateMasterKey(cur, { create: false })).id);

    const missing = join(root, 'gone.key');
    const err = await caught(loadKeyring({ masterKeyFile: cur, previousKeyFiles: [missing], create: true }));
    expect(err.code).toBe('SG_KEY_INVALID');
    expect(err.message).toContain(missing);
  });

  it('wraps under the current key and unwraps after rotation', () => {
    const dataKey = randomBytes(32);
    const aad = Buffer.from('queue-id-1');
    const { keyId, wrapped } = wrapKey(new Keyring(a), dataKey, aad);
    expect(keyId).toBe(a.id);
    expect(wrapped.length).toBe(12 + 16 + 32);
    expect(unwrapKey(new Keyring(b, [a]), keyId, wrapped, aad).equals(dataKey)).toBe(true);
    expect(wrapKey(new Keyring(b, [a]), dataKey, aad).keyId).toBe(b.id);
  });

  it.each([
    ['wrong aad', (w: Buffer) => w, Buffer.from('queue-id-2')],
    ['flipped iv', (w: Buffer) => flip(w, 0), Buffer.from('queue-id-1')],
    ['flipped tag', (w: Buffer) => flip(w, 12), Buffer.from('queue-id-1')],
    ['flipped ciphertext', (w: Buffer) => flip(w, 40), Buffer.from('queue-id-1')],
    ['too short', (w: Buffer) => w.subarray(0, 20), Buffer.from('queue-id-1')],
  ])('rejects an unwrap with %s as SG_SPOOL_CORRUPT', (_name, mutate, aad) => {
    const ring = new Keyring(a);
    const { keyId, wrapped } = wrapKey(ring, randomBytes(32), Buffer.from('queue-id-1'));
    expect(() => unwrapKey(ring, keyId, mutate(wrapped), aad)).toThrow(expect.objectContaining({ code: 'SG_SPOOL_CORRUPT' }));
  });

  it('rejects an unwrap under an unknown key id as SG_KEY_UNKNOWN', () => {
    const { keyId, wrapped } = wrapKey(new Keyring(a), randomBytes(32), Buffer.alloc(0));
    expect(() => unwrapKey(new Keyring(b), keyId, wrapped, Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'SG_KEY_UNKNOWN' }));
  });
});

function flip(buf: Buffer, i: number): Buffer {
  const out = Buffer.from(buf);
  out[i] = (out[i] ?? 0) ^ 1;
  return out;
}
