/**
 * buildCopies on a real spool with real keys: a copy per request, committed
 * and readable; a key the transform refuses fails that recipient alone (an
 * error code, no content), and so does a transform that fails part-way
 * through the stream (SG_E2E_FAILED), while a real file-system failure is
 * still thrown for the inspection to be retried; a message over the limit
 * fails every request; already-encrypted mail is passed through without a
 * copy.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { buildCopies, headerAndBodyStart, type CopyDeps } from '../../src/e2e/copies.js';
import { isSealgateError } from '../../src/errors.js';
import { Spool } from '../../src/spool/spool.js';
import { haveTool } from '../helpers/peers.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { damagedOrgPgpKey } from './damaged-key.js';
import { gpgDecrypt } from './gpg.js';

const live = haveTool('gpg') && haveTool('openssl') ? describe : describe.skip;
const ID = '01M92ABCDEFGHJKMNPQR';
const MESSAGE = 'From: a@example.com\r\nTo: b@example.org\r\nSubject: results\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nDiagnosed with diabetes.\r\n';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('headerAndBodyStart', () => {
  it.each([
    ['CRLF', 'A: 1\r\nB: 2\r\n\r\nbody', 'A: 1\r\nB: 2\r\n\r\n', 'body'],
    ['LF', 'A: 1\n\nbody', 'A: 1\n\n', 'body'],
    ['no body', 'A: 1\r\n', 'A: 1\r\n', ''],
  ])('%s', (_name, message, header, body) => {
    const r = headerAndBodyStart(Buffer.from(message));
    expect(r.header.toString()).toBe(header);
    expect(r.bodyStart.toString()).toBe(body);
  });
});

live('buildCopies', () => {
  let dir: string;
  let spool: Spool;
  let pgp: PgpFixtures;
  let certs: CertFixtures;
  let deps: CopyDeps;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-copies-'));
    spool = new Spool(join(dir, 'spool'), new Keyring(masterKeyFromBytes(randomBytes(32))));
    await spool.init();
    pgp = makePgpFixtures(['good']);
    certs = makeCertFixtures();
    deps = { spool, rsaOaep: false, maxBytes: 1024 * 1024 };
  });

  afterAll(async () => {
    pgp?.cleanup();
    certs?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const store = async (id: string, text: string): Promise<void> => {
    await (await spool.write(id, Readable.from([Buffer.from(text)]))).commit();
  };

  it('builds one committed copy per recipient; a refused key fails only its recipient', async () => {
    await store(ID, MESSAGE);
    const out = await buildCopies(deps, ID, { stripSubjectTag: false, addHeaders: { 'X-Class': 'phi' } }, 'Secure message', [
      { seq: 0, method: 'pgp', key: { fingerprint: pgp.fpr.good, source: 'admin', material: pgp.armored('good') } },
      { seq: 1, method: 'smime', key: { fingerprint: 'f'.repeat(64), source: 'admin', material: certs.pem('rsa') } },
      { seq: 2, method: 'pgp', key: { fingerprint: 'e'.repeat(40), source: 'wkd', material: 'not a key' } },
    ]);
    expect(out.map((o) => [o.seq, o.kind])).toEqual([
      [0, 'copy'],
      [1, 'copy'],
      [2, 'failed'],
    ]);
    const failed = out[2];
    expect(failed?.kind === 'failed' ? failed.why : '').toBe('SG_KEY_FILE_INVALID');
    // the PGP copy: the added header outside, the neutral subject outside, the real one inside
    const copy = await readAll(spool.readCopy(ID, 'r0'));
    // the size recorded is the copy's (the SIZE delivery declares), not the original's
    const first = out[0];
    expect(first?.kind === 'copy' ? first.size : -1).toBe(copy.length);
    const text = copy.toString('latin1');
    expect(text).toContain('X-Class: phi\r\n');
    expect(text).toContain('Subject: Secure message\r\n');
    expect(text).not.toContain('diabetes');
    const armored = text.slice(text.indexOf('-----BEGIN PGP MESSAGE-----'), text.indexOf('-----END PGP MESSAGE-----') + 25);
    const inner = gpgDecrypt(pgp.home, armored);
    expect(inner.code).toBe(0);
    expect(inner.stdout.toString('latin1')).toContain('Subject: results');
    expect(inner.stdout.toString('latin1')).toContain('Diagnosed with diabetes.');
    expect((await readAll(spool.readCopy(ID, 'r1'))).toString('latin1')).toContain('Content-Type: application/pkcs7-mime; smime-type=enveloped-data');
  });

  it('a transform that fails part-way (the signing key fails at the end of the stream) fails that copy alone: no retry, no file, the other copy intact', async () => {
    const id = '01M92ABCDEFGHJKMNPQU';
    // large enough that the copy streams in many chunks before openpgp signs
    await store(id, MESSAGE + 'line of the report\r\n'.repeat(20_000));
    const { secret: signingKey } = await damagedOrgPgpKey();
    const out = await buildCopies({ ...deps, pgpSigningKey: async () => signingKey }, id, undefined, 'Secure message', [
      { seq: 0, method: 'pgp', key: { fingerprint: pgp.fpr.good, source: 'admin', material: pgp.armored('good') } },
      { seq: 1, method: 'smime', key: { fingerprint: 'f'.repeat(64), source: 'admin', material: certs.pem('rsa') } },
    ]);
    expect(out.map((o) => [o.seq, o.kind])).toEqual([
      [0, 'failed'],
      [1, 'copy'],
    ]);
    const failed = out[0];
    // an error code, never the library's text
    expect(failed?.kind === 'failed' ? failed.why : '').toBe('SG_E2E_FAILED');
    expect(await readdir(spool.copyDirFor(id))).toEqual(['r1']);
    expect(await readdir(spool.tmpDir)).toEqual([]);
    expect((await readAll(spool.readCopy(id, 'r1'))).toString('latin1')).toContain('Content-Type: application/pkcs7-mime; smime-type=enveloped-data');
  });

  it('a real file-system failure is still a storage failure: the inspection is retried, the copies made so far removed', async () => {
    const id = '01M92ABCDEFGHJKMNPQV';
    await store(id, MESSAGE);
    // r1's place is taken by a directory that is not empty: the rename into place fails (EISDIR / ENOTEMPTY)
    await mkdir(join(spool.copyDirFor(id), 'r1', 'x'), { recursive: true });
    await writeFile(join(spool.copyDirFor(id), 'r1', 'x', 'y'), 'in the way');
    const err = await buildCopies(deps, id, undefined, undefined, [
      { seq: 0, method: 'pgp', key: { fingerprint: pgp.fpr.good, source: 'admin', material: pgp.armored('good') } },
      { seq: 1, method: 'smime', key: { fingerprint: 'f'.repeat(64), source: 'admin', material: certs.pem('rsa') } },
    ]).catch((e: unknown) => e);
    expect(isSealgateError(err, 'SG_STORAGE_FAILED')).toBe(true);
    // r0 was committed, then discarded when r1 failed
    expect((await readdir(spool.copyDirFor(id))).sort()).toEqual(['r1']);
    expect(await readdir(spool.tmpDir)).toEqual([]);
  });

  it('a message over the limit fails every request; nothing is written', async () => {
    const id = '01M92ABCDEFGHJKMNPQS';
    await store(id, MESSAGE + 'x'.repeat(2048));
    const out = await buildCopies({ ...deps, maxBytes: 1024 }, id, undefined, undefined, [{ seq: 0, method: 'pgp', key: { fingerprint: pgp.fpr.good, source: 'admin', material: pgp.armored('good') } }]);
    expect(out).toEqual([{ seq: 0, kind: 'failed', why: 'message larger than 1024 bytes' }]);
    await expect(readAll(spool.readCopy(id, 'r0'))).rejects.toThrow();
  });

  it('already-encrypted mail is passed through: no copy', async () => {
    const id = '01M92ABCDEFGHJKMNPQT';
    await store(id, 'From: a@example.com\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggFA\r\n');
    const out = await buildCopies(deps, id, undefined, undefined, [{ seq: 3, method: 'smime', key: { fingerprint: 'f'.repeat(64), source: 'admin', material: certs.pem('rsa') } }]);
    expect(out).toEqual([{ seq: 3, kind: 'passthrough', encrypted: 'smime' }]);
  });
});
