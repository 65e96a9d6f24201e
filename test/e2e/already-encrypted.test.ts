import { describe, expect, it } from 'vitest';
import { alreadyEncrypted, type EncryptedKind } from '../../src/e2e/already-encrypted.js';

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
