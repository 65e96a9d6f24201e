/**
 * The S/MIME enveloping transform against real OpenSSL: messages composed by
 * nodemailer (text, HTML, a binary attachment, a UTF-8 subject) are encrypted
 * for RSA (PKCS#1 v1.5 and OAEP) and EC P-256 certificates made by OpenSSL,
 * decrypted by `openssl smime -decrypt` / `openssl cms -decrypt`, and the
 * inner entity parsed by mailparser must give back the original.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealgateError } from '../../src/errors.js';
import { envelopeSmime } from '../../src/smime/envelope.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtureName, type CertFixtures } from '../keys/fixtures.js';

let fx: CertFixtures | undefined;
let n = 0;

beforeAll(() => {
  if (haveTool('openssl')) fx = makeCertFixtures();
});
afterAll(() => fx?.cleanup());

const SUBJECT = 'Befund für Müller — vertraulich ✓ 検査結果';
const TEXT = 'Dear Dr. Müller,\nthe results are attached.\n\nRegards\n';
const HTML = '<p>Dear Dr. M&uuml;ller,</p><p>the <b>results</b> are attached — ✓.</p>';
const ATTACHMENT = randomBytes(70_000);

async function original(): Promise<Buffer> {
  return new MailComposer({
    from: 'Alice Sender <alice@hospital.example>',
    to: 'Bob <bob@clinic.example>',
    cc: 'carol@clinic.example',
    replyTo: 'desk@hospital.example',
    inReplyTo: '<prev@hospital.example>',
    references: '<prev@hospital.example>',
    messageId: '<orig-1@hospital.example>',
    date: new Date('2026-12-05T04:00:00Z'),
    subject: SUBJECT,
    text: TEXT,
    html: HTML,
    attachments: [{ filename: 'scan.bin', content: ATTACHMENT, contentType: 'application/octet-stream' }],
    headers: { 'X-Internal-Note': 'stays out' },
  })
    .compile()
    .build();
}

function file(bytes: Buffer): string {
  const f = join(fx?.dir ?? '', `out-${n++}.eml`);
  writeFileSync(f, bytes);
  return f;
}

function decrypt(tool: 'smime' | 'cms', f: string, name: CertFixtureName): Buffer {
  const dir = fx?.dir ?? '';
  return execFileSync('openssl', [tool, '-decrypt', '-binary', '-in', f, '-recip', join(dir, `${name}.pem`), '-inkey', join(dir, `${name}.key`)], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function decryptFails(f: string, name: CertFixtureName): boolean {
  const dir = fx?.dir ?? '';
  const r = spawnSync('openssl', ['cms', '-decrypt', '-in', f, '-recip', join(dir, `${name}.pem`), '-inkey', join(dir, `${name}.key`)]);
  return r.status !== 0;
}

function cmsPrint(f: string): string {
  return execFileSync('openssl', ['cms', '-cmsout', '-print', '-noout', '-in', f], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
}

/** The EnvelopedData inside the message, as pkijs reads it. */
async function envelopedOf(message: Buffer): Promise<pkijs.EnvelopedData> {
  const parsed = await simpleParser(message);
  const b64 = message.toString('latin1').split('\r\n\r\n').slice(1).join('').replace(/\s+/g, '');
  expect(parsed.attachments).toHaveLength(1);
  const ci = pkijs.ContentInfo.fromBER(Buffer.from(b64, 'base64'));
  expect(ci.contentType).toBe('1.2.840.113549.1.7.3');
  return new pkijs.EnvelopedData({ schema: ci.content as asn1js.Sequence });
}

async function expectOriginal(inner: Buffer): Promise<void> {
  const p = await simpleParser(inner);
  expect(p.subject).toBe(SUBJECT);
  expect(p.text?.replace(/\r\n/g, '\n')).toBe(TEXT);
  expect(p.html).toBe(HTML);
  expect(p.attachments).toHaveLength(1);
  expect(p.attachments[0]?.filename).toBe('scan.bin');
  expect(Buffer.compare(p.attachments[0]?.content ?? Buffer.alloc(0), ATTACHMENT)).toBe(0);
  // protected headers inside (as the OpenPGP transform does), nothing else
  expect(p.from?.value[0]?.address).toBe('alice@hospital.example');
  expect(p.messageId).toBe('<orig-1@hospital.example>');
  expect(p.headers.has('reply-to')).toBe(false);
  expect(p.headers.has('x-internal-note')).toBe(false);
  expect(String(p.headers.get('content-type') && (p.headers.get('content-type') as { params?: Record<string, string> }).params?.['protected-headers'])).toBe('v1');
}

function expectFormat(message: Buffer): void {
  const text = message.toString('latin1');
  expect(text).not.toMatch(/[^\r]\n/);
  const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
  expect(head).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=enveloped-data; name=smime\.p7m$/m);
  expect(head).toMatch(/^Content-Disposition: attachment; filename=smime\.p7m$/m);
  expect(head).toMatch(/^Content-Transfer-Encoding: base64$/m);
  expect(head).toMatch(/^MIME-Version: 1\.0$/m);
  expect(head).not.toMatch(/X-Internal-Note/i);
  const lines = body.split('\r\n');
  expect(lines.pop()).toBe('');
  for (const l of lines.slice(0, -1)) expect(l).toMatch(/^[A-Za-z0-9+/]{76}$/);
  expect(lines.at(-1)).toMatch(/^[A-Za-z0-9+/=]{1,76}$/);
}

describe('S/MIME enveloping with real OpenSSL', () => {
  it('RSA, PKCS#1 v1.5 by default: openssl smime and cms decrypt to the original entity; outer headers kept, Subject neutral', async (ctx) => {
    requireTool(ctx, 'openssl');
    const out = await envelopeSmime(await original(), fx?.pem('rsa') ?? '', { outerSubject: 'Secure message' });
    expect(out.keyTransport).toBe('rsa-pkcs1v15');
    expectFormat(out.message);
    const outer = await simpleParser(out.message);
    expect(outer.subject).toBe('Secure message');
    expect(outer.from?.value[0]?.address).toBe('alice@hospital.example');
    expect(outer.messageId).toBe('<orig-1@hospital.example>');
    expect(outer.inReplyTo).toBe('<prev@hospital.example>');
    expect(outer.headers.get('reply-to')).toBeTruthy();
    expect(outer.headers.get('cc')).toBeTruthy();
    expect(outer.date?.toISOString()).toBe('2026-12-05T04:00:00.000Z');
    const f = file(out.message);
    const printed = cmsPrint(f);
    expect(printed).toMatch(/algorithm: rsaEncryption/);
    expect(printed).toMatch(/algorithm: aes-256-cbc/);
    const viaSmime = decrypt('smime', f, 'rsa');
    expect(viaSmime.toString('latin1')).not.toMatch(/[^\r]\n/);
    await expectOriginal(viaSmime);
    await expectOriginal(decrypt('cms', f, 'rsa'));
  });

  it('RSA-OAEP (SHA-256) when asked: openssl cms decrypts it', async (ctx) => {
    requireTool(ctx, 'openssl');
    const out = await envelopeSmime(await original(), fx?.pem('rsa') ?? '', { rsaOaep: true, outerSubject: 'Secure message' });
    expect(out.keyTransport).toBe('rsa-oaep-sha256');
    const f = file(out.message);
    const printed = cmsPrint(f);
    expect(printed).toMatch(/algorithm: rsaesOaep/);
    expect(printed).toMatch(/sha256/);
    await expectOriginal(decrypt('cms', f, 'rsa'));
  });

  it('RSA-OAEP also when the certificate\'s SMIMECapabilities extension lists RSAES-OAEP (RFC 4262)', async (ctx) => {
    requireTool(ctx, 'openssl');
    const dir = fx?.dir ?? '';
    writeFileSync(
      join(dir, 'caps.cnf'),
      '[caps_ext]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = emailProtection\nsubjectAltName = email:oaep@example.org\n' +
        '1.2.840.113549.1.9.15 = ASN1:SEQUENCE:caps\n[caps]\nc1 = SEQUENCE:aes\nc2 = SEQUENCE:oaep\n[aes]\noid = OID:2.16.840.1.101.3.4.1.42\n[oaep]\noid = OID:1.2.840.113549.1.1.7\n',
    );
    const ossl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'oaepcap.key', '-out', 'oaepcap.csr', '-subj', '/CN=Oaep Caps']);
    ossl(['x509', '-req', '-in', 'oaepcap.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-extfile', 'caps.cnf', '-extensions', 'caps_ext', '-out', 'oaepcap.pem']);
    const out = await envelopeSmime(await original(), readFileSync(join(dir, 'oaepcap.pem'), 'utf8'));
    expect(out.keyTransport).toBe('rsa-oaep-sha256');
    const f = file(out.message);
    expect(cmsPrint(f)).toMatch(/algorithm: rsaesOaep/);
    await expectOriginal(decrypt('cms', f, 'oaepcap' as CertFixtureName));
    // a certificate without the extension keeps PKCS#1 v1.5
    expect((await envelopeSmime(await original(), fx?.pem('rsa') ?? '')).keyTransport).toBe('rsa-pkcs1v15');
  });

  it('EC P-256 via ECDH ephemeral-static with a ukm: openssl cms decrypts it', async (ctx) => {
    requireTool(ctx, 'openssl');
    const out = await envelopeSmime(await original(), fx?.pem('ec') ?? '', { outerSubject: 'Secure message' });
    expect(out.keyTransport).toBe('ecdh-p256-sha256kdf');
    expectFormat(out.message);
    const ed = await envelopedOf(out.message);
    expect(ed.recipientInfos).toHaveLength(1);
    const kari = ed.recipientInfos[0]?.value;
    expect(kari).toBeInstanceOf(pkijs.KeyAgreeRecipientInfo);
    expect((kari as pkijs.KeyAgreeRecipientInfo).ukm?.valueBlock.valueHexView.byteLength).toBe(64);
    const f = file(out.message);
    const printed = cmsPrint(f);
    expect(printed).toMatch(/dhSinglePass-stdDH-sha256kdf-scheme/);
    expect(printed).toMatch(/algorithm: aes-256-cbc/);
    await expectOriginal(decrypt('cms', f, 'ec'));
  });

  it('without outerSubject the Subject stays as written outside too; a UTF-8 neutral subject is RFC 2047-encoded', async (ctx) => {
    requireTool(ctx, 'openssl');
    const kept = await envelopeSmime(await original(), fx?.pem('rsa') ?? '');
    expect((await simpleParser(kept.message)).subject).toBe(SUBJECT);
    const neutral = 'Vertrauliche Nachricht — bitte öffnen, sie ist verschlüsselt und enthält Befunde';
    const enc = await envelopeSmime(await original(), fx?.pem('rsa') ?? '', { outerSubject: `${neutral}\r\nBcc: x@evil.example` });
    expect(enc.message.toString('latin1')).not.toMatch(/^Bcc:/im);
    expect((await simpleParser(enc.message)).subject).toBe(`${neutral} Bcc: x@evil.example`);
    expect(enc.message.toString('latin1').split('\r\n').every((l) => l.length <= 998)).toBe(true);
    await expectOriginal(decrypt('cms', file(enc.message), 'rsa'));
  });

  it('two recipients → two calls → each copy names one recipient and opens only with its own key', async (ctx) => {
    requireTool(ctx, 'openssl');
    const msg = await original();
    const forAlice = file((await envelopeSmime(msg, fx?.pem('rsa') ?? '')).message);
    const forBob = file((await envelopeSmime(msg, fx?.pem('subjectEmailOnly') ?? '')).message);
    for (const f of [forAlice, forBob]) expect((await envelopedOf(readFileSync(f))).recipientInfos).toHaveLength(1);
    await expectOriginal(decrypt('cms', forAlice, 'rsa'));
    await expectOriginal(decrypt('cms', forBob, 'subjectEmailOnly'));
    expect(decryptFails(forAlice, 'subjectEmailOnly')).toBe(true);
    expect(decryptFails(forBob, 'rsa')).toBe(true);
  });

  it('a message with LF line ends and no Content-Type becomes a CRLF text/plain entity', async (ctx) => {
    requireTool(ctx, 'openssl');
    const msg = Buffer.from('From: a@hospital.example\nTo: b@clinic.example\nSubject: plain\n  folded\n\nline one\nline two\n');
    const out = await envelopeSmime(msg, fx?.pem('rsa') ?? '', { outerSubject: 'Secure message' });
    const inner = decrypt('cms', file(out.message), 'rsa').toString('latin1');
    expect(inner).toBe('Content-Type: text/plain; charset=us-ascii; protected-headers="v1"\r\nFrom: a@hospital.example\r\nTo: b@clinic.example\r\nSubject: plain\r\n  folded\r\n\r\nline one\r\nline two\r\n');
  });

  it('refuses a message over the limit and a certificate it cannot use, with typed errors that carry no content', async (ctx) => {
    requireTool(ctx, 'openssl');
    const msg = await original();
    const big = await envelopeSmime(msg, fx?.pem('rsa') ?? '', { maxBytes: 1000 }).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(SealgateError);
    expect((big as SealgateError).code).toBe('SG_MESSAGE_TOO_BIG');
    expect((big as SealgateError).message).not.toMatch(/Müller|results/);
    const bad = await envelopeSmime(msg, 'not a certificate').catch((e: unknown) => e);
    expect((bad as SealgateError).code).toBe('SG_KEY_FILE_INVALID');
    const tmp = fx?.dir ?? '';
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(tmp, 'p384.key'), '-out', join(tmp, 'p384.pem'), '-subj', '/CN=p384', '-days', '1'], { stdio: 'ignore' });
    const p384 = await envelopeSmime(msg, readFileSync(join(tmp, 'p384.pem'), 'utf8')).catch((e: unknown) => e);
    expect((p384 as SealgateError).code).toBe('SG_KEY_FILE_INVALID');
  });
});
