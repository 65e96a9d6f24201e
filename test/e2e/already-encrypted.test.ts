import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alreadyEncrypted, type EncryptedKind } from '../../src/e2e/already-encrypted.js';
import { buildPgpMime } from '../../src/e2e/pgp-mime.js';
import { requireTool } from '../helpers/peers.js';
import { makePgpFixtures } from '../keys/fixtures.js';
import { gpgRun } from './gpg.js';

const ARMOR = '-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA1234567890ABCDEF\r\n=abcd\r\n-----END PGP MESSAGE-----\r\n';

const CASES: ReadonlyArray<readonly [string, string, string, EncryptedKind | null]> = [
  ['PGP/MIME', 'From: a@b.example\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="x"\r\n', '--x\r\n', 'pgp-mime'],
  ['PGP/MIME, folded, odd case, unquoted protocol', 'Content-Type: Multipart/Encrypted;\r\n boundary=x;\r\n\tprotocol=Application/PGP-Encrypted\r\n', '', 'pgp-mime'],
  ['PGP/MIME, LF line ends', 'Subject: s\ncontent-type: multipart/encrypted; boundary=x; protocol="application/pgp-encrypted"\n\n', '', 'pgp-mime'],
  ['multipart/encrypted with another protocol', 'Content-Type: multipart/encrypted; protocol="application/x-other"; boundary=x\r\n', '', null],
  ['multipart/encrypted without protocol', 'Content-Type: multipart/encrypted; boundary=x\r\n', '', null],
  ['inline OpenPGP, no Content-Type', 'From: a@b.example\r\nSubject: s\r\n', ARMOR, 'pgp-inline'],
  ['inline OpenPGP, text/plain 7bit, leading blank lines', 'Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n', `\r\n  \r\n${ARMOR}`, 'pgp-inline'],
  ['inline OpenPGP, LF line ends', 'Content-Type: text/plain\n', '-----BEGIN PGP MESSAGE-----\n\nhQEM\n', 'pgp-inline'],
  ['inline OpenPGP, only the armor line seen', 'Content-Type: text/plain\r\n', '-----BEGIN PGP MESSAGE-----', 'pgp-inline'],
  ['text before the armor', 'Content-Type: text/plain\r\n', `Hello, here it is:\r\n${ARMOR}`, null],
  ['a signed (cleartext) message is not encrypted', 'Content-Type: text/plain\r\n', '-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n', null],
  ['a public key block is not a message', 'Content-Type: text/plain\r\n', '-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n', null],
  ['inline armor in quoted-printable text', 'Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n', ARMOR, null],
  ['inline armor in HTML', 'Content-Type: text/html\r\n', ARMOR, null],
  ['armor inside multipart/mixed', 'Content-Type: multipart/mixed; boundary=x\r\n', ARMOR, null],
  ['S/MIME enveloped-data', 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n', 'MIAGCSqGSIb3', 'smime'],
  ['S/MIME, legacy x-pkcs7-mime, quoted type', 'Content-Type: application/x-pkcs7-mime; name=smime.p7m;\r\n smime-type="Enveloped-Data"\r\n', '', 'smime'],
  ['S/MIME authEnveloped-data (RFC 8551)', 'Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\n', '', 'smime'],
  ['S/MIME opaque signed-data is not encrypted', 'Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n', '', null],
  ['S/MIME compressed-data is not encrypted', 'Content-Type: application/pkcs7-mime; smime-type=compressed-data\r\n', '', null],
  ['application/pkcs7-mime without smime-type', 'Content-Type: application/pkcs7-mime; name=smime.p7m\r\n', '', null],
  ['S/MIME multipart/signed', 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=x\r\n', '', null],
  ['PGP/MIME multipart/signed', 'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary=x\r\n', '', null],
  ['a parameter value is not the media type', 'Content-Type: text/plain; name="multipart/encrypted"\r\n', '', null],
  ['Content-Type only in a folded other header', 'X-Note: see\r\n Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"\r\n', '', null],
  ['plain mail', 'From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n', 'Hello\r\n', null],
];

describe('alreadyEncrypted', () => {
  it.each(CASES)('%s', (_name, header, body, want) => {
    expect(alreadyEncrypted(header, body)).toBe(want);
    // the same answer for bytes
    expect(alreadyEncrypted(Buffer.from(header, 'latin1'), Buffer.from(body, 'latin1'))).toBe(want);
  });
});

function split(message: Buffer): [Buffer, Buffer] {
  const at = message.indexOf('\r\n\r\n');
  return [message.subarray(0, at + 2), message.subarray(at + 4, at + 4 + 512)];
}

describe('alreadyEncrypted on real output', () => {
  it('recognises our PGP/MIME and gpg --armor --encrypt as an inline body', async (ctx) => {
    requireTool(ctx, 'gpg');
    const fx = makePgpFixtures(['good']);
    try {
      const original = Buffer.from('From: a@hospital.example\r\nTo: alice@example.org\r\nSubject: s\r\n\r\nhello\r\n');
      const out = await buildPgpMime(original, { recipientKey: fx.armored('good') });
      expect(alreadyEncrypted(...split(out.message))).toBe('pgp-mime');
      const armor = gpgRun(fx.home, ['--armor', '--trust-model', 'always', '--encrypt', '--recipient', 'alice@example.org'], 'hello\n').stdout;
      const inline = Buffer.concat([Buffer.from('From: a@hospital.example\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n'), Buffer.from(armor.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')]);
      expect(alreadyEncrypted(...split(inline))).toBe('pgp-inline');
      expect(alreadyEncrypted(...split(original))).toBeNull();
    } finally {
      fx.cleanup();
    }
  });

  it('recognises openssl smime -encrypt output, and not openssl smime -sign output', (ctx) => {
    requireTool(ctx, 'openssl');
    const dir = mkdtempSync(join(tmpdir(), 'sealgate-e2e-smime-'));
    try {
      const run = (args: string[], input?: string): Buffer => execFileSync('openssl', args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
      run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=Alice', '-days', '1']);
      const mail = 'Content-Type: text/plain\r\n\r\nhello\r\n';
      const enc = run(['smime', '-encrypt', '-aes256', '-from', 'a@hospital.example', '-to', 'alice@example.org', '-subject', 's', 'c.pem'], mail);
      expect(alreadyEncrypted(...split(Buffer.from(enc.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')))).toBe('smime');
      const opaque = run(['smime', '-sign', '-nodetach', '-signer', 'c.pem', '-inkey', 'k.pem'], mail);
      expect(alreadyEncrypted(...split(Buffer.from(opaque.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')))).toBeNull();
      const detached = run(['smime', '-sign', '-signer', 'c.pem', '-inkey', 'k.pem'], mail);
      expect(alreadyEncrypted(...split(Buffer.from(detached.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
