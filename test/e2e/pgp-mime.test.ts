import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import * as openpgp from 'openpgp';
import { buildPgpMime } from '../../src/e2e/pgp-mime.js';
import { isSealgateError } from '../../src/errors.js';
import { readKeyFile, recordFor } from '../../src/keys/index.js';
import { makePgpFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { gpgDecrypt, gpgImport, gpgListPackets } from './gpg.js';
import { attachmentBytes, composeOriginal, HTML, ORIGINAL_SUBJECT, TEXT } from './mail.js';

const NEUTRAL = 'Secure message';

function headerBlock(msg: Buffer): string {
  return msg.subarray(0, msg.indexOf('\r\n\r\n') + 2).toString('latin1');
}
function bodyOf(msg: Buffer): Buffer {
  return msg.subarray(msg.indexOf('\r\n\r\n') + 4);
}

describe('buildPgpMime with real GnuPG', () => {
  // alice: ed25519 + cv25519 (GnuPG future-default); bob: RSA 2048 with an RSA encryption subkey
  let alice: PgpFixtures;
  let bob: PgpFixtures;
  let orgSecret: string;
  let orgPublic: string;
  let orgFpr: string;
  let attachment: Buffer;
  let original: Buffer;

  beforeAll(async () => {
    if (!haveTool('gpg')) return;
    alice = makePgpFixtures(['good', 'signOnly']);
    bob = makePgpFixtures(['rsa']);
    const org = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Hospital Gateway', email: 'gateway@hospital.example' }], format: 'armored' });
    orgSecret = org.privateKey;
    orgPublic = org.publicKey;
    orgFpr = (await openpgp.readKey({ armoredKey: orgPublic })).getFingerprint();
    gpgImport(alice.home, orgPublic);
    gpgImport(bob.home, orgPublic);
    attachment = attachmentBytes(64 * 1024);
    original = await composeOriginal(attachment, { bcc: 'hidden@example.net' });
  });
  afterAll(() => {
    alice?.cleanup();
    bob?.cleanup();
  });

  it('decrypts with gpg to the original entity: text, HTML and attachment byte-identical, the real Subject protected inside', async (ctx) => {
    requireTool(ctx, 'gpg');
    const out = await buildPgpMime(original, { recipientKey: alice.armored('good'), outerSubject: NEUTRAL });
    expect(out.recipientFingerprint).toBe(alice.fpr.good);
    expect(out.signerFingerprint).toBeNull();

    // the outer message: transport headers, a neutral Subject, RFC 3156 structure, nothing of the content
    const head = headerBlock(out.message);
    expect(head).toMatch(/^Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted";\r\n boundary="sealgate-pgp-[0-9a-f]{24}"\r\n/m);
    expect(head).toContain('Message-ID: <e2e-test-1@hospital.example>\r\n');
    expect(head).toMatch(/^From: "Dr\. Sender" <sender@hospital\.example>\r\n/m);
    expect(head).toMatch(/^To: Alice Example <alice@example\.org>\r\n/m);
    expect(head).toMatch(/^Cc: rsa@example\.org\r\n/m);
    expect(head).toMatch(/^Date: /m);
    expect(head).toMatch(/^MIME-Version: 1\.0\r\n/m);
    expect(head).not.toMatch(/^Bcc:/im);
    expect(head).not.toMatch(/^X-Mailer:|^Content-Transfer-Encoding:/im);
    const outer = await simpleParser(out.message);
    expect(outer.subject).toBe(NEUTRAL);
    const wire = out.message.toString('latin1');
    for (const secret of ['results', 'Dear colleague', 'scan.bin', 'hidden@example.net', 'protected-headers']) expect(wire).not.toContain(secret);
    expect(wire).toMatch(/\r\nContent-Type: application\/pgp-encrypted\r\n[^]*?\r\n\r\nVersion: 1\r\n/);
    expect(wire).toMatch(/\r\nContent-Type: application\/octet-stream; name="encrypted\.asc"\r\n[^]*?\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n/);
    expect(wire).not.toMatch(/[^\r]\n/);

    // real GnuPG 2.2 decrypts it
    const dec = gpgDecrypt(alice.home, out.message);
    expect(dec.code).toBe(0);
    expect(dec.status.some((s) => s.startsWith('DECRYPTION_OKAY'))).toBe(true);
    expect(dec.status.some((s) => s.startsWith('GOODMDC'))).toBe(true);
    const entity = dec.stdout;
    const innerHead = headerBlock(entity);
    expect(innerHead).toMatch(/^Content-Type: multipart\/mixed;[^]*;\r\n protected-headers="v1"\r\n/);
    expect(innerHead).not.toMatch(/^Bcc:/im);
    // the body of the entity is the original body, byte for byte
    expect(bodyOf(entity).equals(bodyOf(original))).toBe(true);

    const inner = await simpleParser(entity);
    expect(inner.subject).toBe(ORIGINAL_SUBJECT);
    expect(inner.messageId).toBe('<e2e-test-1@hospital.example>');
    expect(inner.text).toBe(TEXT);
    expect(inner.html).toBe(HTML);
    expect(inner.attachments).toHaveLength(1);
    expect(inner.attachments[0]?.filename).toBe('scan.bin');
    expect(inner.attachments[0]?.content.equals(attachment)).toBe(true);
  });

  it('writes SEIPDv1 (MDC, no AEAD) for one recipient only: one PKESK naming its own encryption subkey', async (ctx) => {
    requireTool(ctx, 'gpg');
    for (const [who, home, key] of [
      ['alice', alice.home, alice.armored('good')],
      ['bob', bob.home, bob.armored('rsa')],
    ] as const) {
      const out = await buildPgpMime(original, { recipientKey: key });
      const packets = gpgListPackets(home, out.message);
      const pkesk = packets.match(/:pubkey enc packet: version 3, algo \d+, keyid ([0-9A-F]{16})/g) ?? [];
      expect(pkesk, who).toHaveLength(1);
      expect(pkesk[0]?.endsWith(out.encryptionKeyId.toUpperCase()), who).toBe(true);
      expect(packets, who).toMatch(/:encrypted data packet:\s+length: [^\n]+\s+mdc_method: 2/);
      expect(packets, who).not.toMatch(/aead/i);
    }
  });

  it('stays SEIPDv1 when the recipient key advertises SEIPDv2 (openpgp v6 would otherwise choose AEAD)', async (ctx) => {
    requireTool(ctx, 'gpg');
    const modern = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'modern@example.org' }], format: 'armored', config: { aeadProtect: true } });
    const features = (await openpgp.readKey({ armoredKey: modern.publicKey })).users[0]?.selfCertifications[0]?.features?.[0] ?? 0;
    // the SEIPDv2 feature flag (RFC 9580, 0x08; not in openpgp's enum types)
    expect(features & 0x08).not.toBe(0);
    gpgImport(alice.home, modern.privateKey);
    const out = await buildPgpMime(original, { recipientKey: modern.publicKey });
    expect(gpgListPackets(alice.home, out.message)).toMatch(/:encrypted data packet:\s+length: [^\n]+\s+mdc_method: 2/);
    const dec = gpgDecrypt(alice.home, out.message);
    expect(dec.code).toBe(0);
    expect(bodyOf(dec.stdout).equals(bodyOf(original))).toBe(true);
  });

  it('encrypts to the key directory record’s material (binary import reduced to an armored public key), to the subkey the verdict chose', async (ctx) => {
    requireTool(ctx, 'gpg');
    const now = Date.now();
    const [candidate] = await readKeyFile(bob.binary(['rsa']), [], now);
    expect(candidate?.kind).toBe('pgp');
    if (!candidate) return;
    const record = recordFor(candidate, 'rsa@example.org', 'admin', now);
    expect(record.valid).toBe(true);
    const out = await buildPgpMime(original, { recipientKey: record.material, outerSubject: NEUTRAL });
    expect(out.recipientFingerprint).toBe(record.fingerprint);
    const chosen = (record.details as { encryptionKey?: string | null }).encryptionKey ?? '';
    expect(chosen.endsWith(out.encryptionKeyId)).toBe(true);
    const dec = gpgDecrypt(bob.home, out.message);
    expect(dec.code).toBe(0);
    expect(bodyOf(dec.stdout).equals(bodyOf(original))).toBe(true);
  });

  it('two recipients, two calls: each message opens only with its own recipient’s key', async (ctx) => {
    requireTool(ctx, 'gpg');
    const forAlice = await buildPgpMime(original, { recipientKey: alice.armored('good'), outerSubject: NEUTRAL });
    const forBob = await buildPgpMime(original, { recipientKey: bob.armored('rsa'), outerSubject: NEUTRAL });
    expect(gpgDecrypt(alice.home, forAlice.message).code).toBe(0);
    expect(gpgDecrypt(bob.home, forBob.message).code).toBe(0);
    const crossA = gpgDecrypt(bob.home, forAlice.message);
    const crossB = gpgDecrypt(alice.home, forBob.message);
    expect(crossA.code).not.toBe(0);
    expect(crossB.code).not.toBe(0);
    expect(crossA.status.some((s) => s.startsWith('NO_SECKEY'))).toBe(true);
    expect(crossB.status.some((s) => s.startsWith('NO_SECKEY'))).toBe(true);
    expect(crossA.stdout.length + crossB.stdout.length).toBe(0);
    // bob's copy: same original content
    const inner = await simpleParser(gpgDecrypt(bob.home, forBob.message).stdout);
    expect(inner.attachments[0]?.content.equals(attachment)).toBe(true);
    expect(inner.subject).toBe(ORIGINAL_SUBJECT);
  });

  it('signed with the organisation key: gpg reports a good signature (GOODSIG, VALIDSIG)', async (ctx) => {
    requireTool(ctx, 'gpg');
    for (const compression of ['none', 'zlib'] as const) {
      const out = await buildPgpMime(original, { recipientKey: bob.armored('rsa'), signingKey: orgSecret, outerSubject: NEUTRAL, compression });
      expect(out.signerFingerprint).toBe(orgFpr);
      const dec = gpgDecrypt(bob.home, out.message);
      expect(dec.code, compression).toBe(0);
      expect(dec.status.some((s) => s.startsWith('GOODSIG ')), compression).toBe(true);
      expect(dec.status.some((s) => s.startsWith(`VALIDSIG ${orgFpr.toUpperCase()} `)), compression).toBe(true);
      expect(dec.status.some((s) => s.startsWith('BADSIG') || s.startsWith('ERRSIG')), compression).toBe(false);
      expect(bodyOf(dec.stdout).equals(bodyOf(original)), compression).toBe(true);
    }
  });

  it('signs with a key GnuPG made and exported (armored secret key without passphrase)', async (ctx) => {
    requireTool(ctx, 'gpg');
    gpgImport(bob.home, alice.armored('good'));
    const out = await buildPgpMime(original, { recipientKey: bob.armored('rsa'), signingKey: alice.armoredSecret('good') });
    expect(out.signerFingerprint).toBe(alice.fpr.good);
    const dec = gpgDecrypt(bob.home, out.message);
    expect(dec.code).toBe(0);
    expect(dec.status.some((s) => s.startsWith(`VALIDSIG ${alice.fpr.good.toUpperCase()} `))).toBe(true);
  });

  it('compresses with ZLIB when asked (gpg reads it)', async (ctx) => {
    requireTool(ctx, 'gpg');
    const plain = await buildPgpMime(original, { recipientKey: alice.armored('good') });
    const zlib = await buildPgpMime(original, { recipientKey: alice.armored('good'), compression: 'zlib' });
    const dec = gpgDecrypt(alice.home, zlib.message);
    expect(dec.code).toBe(0);
    expect(bodyOf(dec.stdout).equals(bodyOf(original))).toBe(true);
    // the base64 attachment compresses; the random bytes under it do not, so about 3/4
    expect(zlib.message.length).toBeLessThan(plain.message.length * 0.9);
  });

  it('keeps the original Subject outside when no neutral one is given; a message with LF line ends is sent with CRLF', async (ctx) => {
    requireTool(ctx, 'gpg');
    const lf = Buffer.from('From: a@hospital.example\nTo: alice@example.org\nSubject: plain words\nBcc: b@example.net\nX-Internal: yes\n\nline one\nline two\n');
    const out = await buildPgpMime(lf, { recipientKey: alice.armored('good') });
    const head = headerBlock(out.message);
    expect(head).toContain('\r\nSubject: plain words\r\n');
    expect(head).not.toMatch(/^(Bcc|X-Internal):/im);
    const entity = gpgDecrypt(alice.home, out.message).stdout.toString('latin1');
    expect(entity).toBe('Content-Type: text/plain; charset=us-ascii; protected-headers="v1"\r\nFrom: a@hospital.example\r\nTo: alice@example.org\r\nSubject: plain words\r\n\r\nline one\r\nline two\r\n');
  });

  it('refuses a key it cannot encrypt to, and a signing key that is no decrypted private key', async (ctx) => {
    requireTool(ctx, 'gpg');
    const codeOf = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
        return 'resolved';
      } catch (err) {
        expect(isSealgateError(err)).toBe(true);
        const e = err as Error & { code: string };
        // the message names the problem, never key material
        expect(e.message).not.toMatch(/-----BEGIN|[0-9a-f]{16}/i);
        return e.code;
      }
    };
    expect(await codeOf(buildPgpMime(original, { recipientKey: alice.armored('signOnly') }))).toBe('SG_KEY_FILE_INVALID');
    expect(await codeOf(buildPgpMime(original, { recipientKey: 'not a key' }))).toBe('SG_KEY_FILE_INVALID');
    expect(await codeOf(buildPgpMime(original, { recipientKey: alice.armored('good'), signingKey: orgPublic }))).toBe('SG_KEY_FILE_INVALID');
    const locked = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'gw@hospital.example' }], passphrase: 'secret', format: 'armored' });
    expect(await codeOf(buildPgpMime(original, { recipientKey: alice.armored('good'), signingKey: locked.privateKey }))).toBe('SG_KEY_FILE_INVALID');
  });
});

describe('buildPgpMime limits', () => {
  it('refuses input over maxBytes with SG_MESSAGE_TOO_BIG, before reading any key', async () => {
    const big = Buffer.alloc(1025, 0x61);
    await expect(buildPgpMime(big, { recipientKey: 'unused', maxBytes: 1024 })).rejects.toSatisfy((err: unknown) => isSealgateError(err, 'SG_MESSAGE_TOO_BIG'));
  });
});
