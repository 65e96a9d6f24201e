/**
 * Mail that arrives already encrypted: S/MIME enveloped data made by real
 * OpenSSL and by our own transform, PGP/MIME; not: signed-only S/MIME
 * (detached and opaque, made by OpenSSL), plain mail.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrivedEncrypted, parseContentType } from '../../src/smime/detect.js';
import { envelopeSmime } from '../../src/smime/envelope.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtures } from '../keys/fixtures.js';

let fx: CertFixtures | undefined;
beforeAll(() => {
  if (haveTool('openssl')) fx = makeCertFixtures();
});
afterAll(() => fx?.cleanup());

const PLAIN = Buffer.from('From: a@hospital.example\r\nTo: b@clinic.example\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nhello\r\n');

function openssl(args: string[]): Buffer {
  const dir = fx?.dir ?? '';
  writeFileSync(join(dir, 'plain.eml'), PLAIN);
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('already end-to-end encrypted mail', () => {
  it('S/MIME from openssl smime -encrypt and from our transform → smime', async (ctx) => {
    requireTool(ctx, 'openssl');
    expect(arrivedEncrypted(openssl(['smime', '-encrypt', '-aes256', '-in', 'plain.eml', '-subject', 'x', 'rsa.pem']))).toBe('smime');
    expect(arrivedEncrypted(openssl(['cms', '-encrypt', '-aes256', '-in', 'plain.eml', '-recip', 'ec.pem']))).toBe('smime');
    expect(arrivedEncrypted((await envelopeSmime(PLAIN, fx?.pem('rsa') ?? '')).message)).toBe('smime');
  });

  it('signed-only S/MIME (detached and opaque) and plain mail → null', (ctx) => {
    requireTool(ctx, 'openssl');
    const dir = fx?.dir ?? '';
    expect(arrivedEncrypted(openssl(['smime', '-sign', '-in', 'plain.eml', '-signer', 'rsa.pem', '-inkey', join(dir, 'rsa.key')]))).toBeNull();
    expect(arrivedEncrypted(openssl(['smime', '-sign', '-nodetach', '-in', 'plain.eml', '-signer', 'rsa.pem', '-inkey', join(dir, 'rsa.key')]))).toBeNull();
    expect(arrivedEncrypted(PLAIN)).toBeNull();
    expect(arrivedEncrypted(Buffer.from(readFileSync(join(dir, 'plain.eml'), 'latin1').replace(/Content-Type:[^\r]*\r\n/, ''), 'latin1'))).toBeNull();
  });

  it.for<[string, string, 'smime' | 'pgp' | null]>([
    ['PGP/MIME', 'multipart/encrypted; protocol="application/pgp-encrypted";\r\n boundary="b"', 'pgp'],
    ['PGP/MIME, case and no quotes', 'Multipart/Encrypted; boundary=b; Protocol=Application/PGP-Encrypted', 'pgp'],
    ['multipart/encrypted of another protocol', 'multipart/encrypted; protocol="application/x-other"; boundary=b', null],
    ['x-pkcs7-mime enveloped', 'application/x-pkcs7-mime; smime-type=enveloped-data; name=smime.p7m', 'smime'],
    ['authEnveloped', 'application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m', 'smime'],
    ['p7m without smime-type', 'application/pkcs7-mime; name="smime.p7m"', 'smime'],
    ['certs-only', 'application/pkcs7-mime; smime-type=certs-only; name=smime.p7c', null],
  ])('%s', ([, ct, want]) => {
    expect(arrivedEncrypted(Buffer.from(`From: a@x.example\r\nContent-Type: ${ct}\r\n\r\nbody\r\n`))).toBe(want);
  });

  it('parses Content-Type parameters: quoted with escapes, first of a repeated name wins', () => {
    const ct = parseContentType(' Text/Plain; charset="utf\\"8"; format=flowed; charset=latin1');
    expect(ct.type).toBe('text/plain');
    expect(ct.params.get('charset')).toBe('utf"8');
    expect(ct.params.get('format')).toBe('flowed');
  });
});
