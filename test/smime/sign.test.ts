/**
 * Optional organisation signing: sign-then-encrypt with an RSA and an EC
 * P-256 organisation certificate made by OpenSSL; `openssl cms -decrypt`
 * opens the envelope, `openssl smime -verify -CAfile` accepts the
 * multipart/signed inside and returns the original entity; a changed byte
 * fails verification.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealgateError } from '../../src/errors.js';
import { envelopeSmime } from '../../src/smime/envelope.js';
import type { SmimeSigner } from '../../src/smime/sign.js';
import { signSmimeMessage } from '../../src/smime/signed-message.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtureName, type CertFixtures } from '../keys/fixtures.js';

let fx: CertFixtures | undefined;
let n = 0;

beforeAll(() => {
  if (haveTool('openssl')) fx = makeCertFixtures();
});
afterAll(() => fx?.cleanup());

const SUBJECT = 'Laborwerte für Frau Øre ✓';
const ATTACHMENT = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));

function original(): Promise<Buffer> {
  return new MailComposer({
    from: 'lab@hospital.example',
    to: 'doc@clinic.example',
    subject: SUBJECT,
    text: 'Results attached.\n',
    html: '<p>Results attached.</p>',
    attachments: [{ filename: 'values.bin', content: ATTACHMENT }],
  })
    .compile()
    .build();
}

function signer(name: CertFixtureName): SmimeSigner {
  const dir = fx?.dir ?? '';
  return { certPem: fx?.pem(name) ?? '', keyPem: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

function write(bytes: Buffer): string {
  const f = join(fx?.dir ?? '', `signed-${n++}.eml`);
  writeFileSync(f, bytes);
  return f;
}

function decrypt(f: string, name: CertFixtureName): Buffer {
  const dir = fx?.dir ?? '';
  return execFileSync('openssl', ['cms', '-decrypt', '-binary', '-in', f, '-recip', join(dir, `${name}.pem`), '-inkey', join(dir, `${name}.key`)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function verify(f: string): { ok: boolean; out: Buffer; err: string } {
  const r = spawnSync('openssl', ['smime', '-verify', '-binary', '-in', f, '-CAfile', fx?.caFile ?? '']);
  return { ok: r.status === 0, out: r.stdout, err: r.stderr.toString('utf8') };
}

describe('S/MIME organisation signing (sign, then encrypt)', () => {
  it.for<[string, CertFixtureName]>([
    ['RSA organisation certificate (sha256WithRSAEncryption)', 'rsa'],
    ['EC P-256 organisation certificate (ecdsa-with-SHA256)', 'ec'],
  ])('%s: decrypts, verifies against the CA, gives back the original', async ([, org], ctx) => {
    requireTool(ctx, 'openssl');
    const out = await envelopeSmime(await original(), fx?.pem('subjectEmailOnly') ?? '', { outerSubject: 'Secure message', sign: signer(org) });
    const inner = decrypt(write(out.message), 'subjectEmailOnly');
    const text = inner.toString('latin1');
    expect(text).toMatch(/^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256;/);
    expect((await simpleParser(inner)).subject).toBe(SUBJECT);
    const v = verify(write(inner));
    expect(v.err).toMatch(/Verification successful/);
    expect(v.ok).toBe(true);
    const p = await simpleParser(v.out);
    expect(p.subject).toBe(SUBJECT);
    expect(p.text?.replace(/\r\n/g, '\n')).toBe('Results attached.\n');
    expect(p.html).toBe('<p>Results attached.</p>');
    expect(Buffer.compare(p.attachments[0]?.content ?? Buffer.alloc(0), ATTACHMENT)).toBe(0);
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-noout', '-in', write(inner)]).toString('utf8');
    expect(printed).toMatch(/algorithm: sha256 /);
    expect(printed).toMatch(org === 'rsa' ? /algorithm: sha256WithRSAEncryption/ : /algorithm: ecdsa-with-SHA256/);
  });

  it('signed only (no encryption): transport headers and Subject outside, openssl smime -verify accepts the whole message', async (ctx) => {
    requireTool(ctx, 'openssl');
    const signed = await signSmimeMessage(await original(), signer('rsa'));
    const outer = await simpleParser(signed);
    expect(outer.subject).toBe(SUBJECT);
    expect(outer.from?.value[0]?.address).toBe('lab@hospital.example');
    expect(signed.toString('latin1')).toMatch(/^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256;$/m);
    const v = verify(write(signed));
    expect(v.ok).toBe(true);
    const p = await simpleParser(v.out);
    expect(p.html).toBe('<p>Results attached.</p>');
    expect(Buffer.compare(p.attachments[0]?.content ?? Buffer.alloc(0), ATTACHMENT)).toBe(0);
  });

  it('an organisation certificate under an intermediate verifies against the root only when chainPem carries the intermediate', async (ctx) => {
    requireTool(ctx, 'openssl');
    const dir = fx?.dir ?? '';
    const org = signer('viaIntermediate');
    const withChain = await signSmimeMessage(await original(), { ...org, chainPem: readFileSync(join(dir, 'inter.pem'), 'utf8') });
    expect(verify(write(withChain)).ok).toBe(true);
    const without = await signSmimeMessage(await original(), org);
    expect(verify(write(without)).ok).toBe(false);
  });

  it('a changed byte in the signed part fails verification', async (ctx) => {
    requireTool(ctx, 'openssl');
    const out = await envelopeSmime(await original(), fx?.pem('rsa') ?? '', { sign: signer('rsa') });
    const inner = decrypt(write(out.message), 'rsa').toString('latin1');
    const tampered = inner.replace('Results attached.', 'Results attachef.');
    expect(tampered).not.toBe(inner);
    expect(verify(write(Buffer.from(tampered, 'latin1'))).ok).toBe(false);
  });

  it('a signing key that is not a key, or does not fit the certificate, is a typed error', async (ctx) => {
    requireTool(ctx, 'openssl');
    const msg = await original();
    const bad = await envelopeSmime(msg, fx?.pem('rsa') ?? '', { sign: { certPem: fx?.pem('rsa') ?? '', keyPem: 'nope' } }).catch((e: unknown) => e);
    expect((bad as SealgateError).code).toBe('SG_KEY_FILE_INVALID');
    const mismatch = await envelopeSmime(msg, fx?.pem('rsa') ?? '', { sign: { certPem: fx?.pem('rsa') ?? '', keyPem: signer('ec').keyPem } }).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(SealgateError);
  });
});
