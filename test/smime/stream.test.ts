/**
 * The streamed S/MIME envelope: its BER layout (what `openssl cms -encrypt
 * -stream` writes: indefinite lengths, the encrypted content as a
 * constructed [0] of definite-length OCTET STRING chunks), read back by
 * `openssl asn1parse` and `openssl cms -cmsout -print`; and a 3 MB message
 * streamed to a file for an RSA (PKCS#1 v1.5 and OAEP) and an EC P-256
 * recipient that `openssl cms -decrypt` turns back into the original entity
 * byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCTET_CHUNK, derLength, octetChunks } from '../../src/smime/cms-stream.js';
import { streamSmime } from '../../src/smime/envelope.js';
import { innerEntityParts, splitMessage } from '../../src/smime/entity.js';
import { attachmentBytes, composeOriginal } from '../e2e/mail.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtureName, type CertFixtures } from '../keys/fixtures.js';

const MB = 1024 * 1024;
let fx: CertFixtures | undefined;
let n = 0;

beforeAll(() => {
  if (haveTool('openssl')) fx = makeCertFixtures();
});
afterAll(() => fx?.cleanup());

async function streamToFile(original: Buffer, name: CertFixtureName, rsaOaep = false): Promise<{ file: string; keyTransport: string }> {
  const { stream, keyTransport } = await streamSmime(original, fx?.pem(name) ?? '', { outerSubject: 'Secure message', rsaOaep });
  const file = join(fx?.dir ?? '', `stream-${n++}.eml`);
  await pipeline(stream, createWriteStream(file));
  return { file, keyTransport };
}

function openssl(args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: fx?.dir, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MB });
}

/** The DER/BER inside the message's base64 body. */
function berOf(file: string): Buffer {
  const text = readFileSync(file, 'latin1');
  return Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4).replace(/\r\n/g, ''), 'base64');
}

describe('DER lengths', () => {
  it.for<[number, string]>([
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65_535, '82ffff'],
    [65_552, '83010010'],
  ])('%i → %s', ([len, hex]) => {
    expect(derLength(len).toString('hex')).toBe(hex);
  });
});

describe('OCTET STRING chunks', () => {
  it.for<[number, string[]]>([
    [0, []],
    [16, ['0410']],
    [4096, ['04821000']],
    [4112, ['04821000', '0410']],
    [65_552, [...Array.from({ length: 16 }, () => '04821000'), '0410']],
  ])('%i bytes of ciphertext → headers %j, each followed by a view of the next bytes', ([n, headers]) => {
    const encrypted = Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
    const pieces = octetChunks(encrypted);
    expect(pieces.filter((_, i) => i % 2 === 0).map((h) => h.toString('hex'))).toEqual(headers);
    const data = pieces.filter((_, i) => i % 2 === 1);
    expect(Buffer.concat(data).equals(encrypted)).toBe(true);
    // views of the ciphertext, not copies
    for (const d of data) expect(d.buffer).toBe(encrypted.buffer);
  });
});

describe('streamed S/MIME with real OpenSSL', () => {
  it('writes the BER layout of a streamed CMS: indefinite lengths, a constructed [0] of OCTET STRING chunks, end-of-contents', async (ctx) => {
    requireTool(ctx, 'openssl');
    const original = await composeOriginal(attachmentBytes(200_000));
    const { file } = await streamToFile(original, 'rsa');
    const ber = berOf(file);
    // ContentInfo and the levels below it open with indefinite lengths and close with five end-of-contents pairs
    expect(ber.subarray(0, 2).toString('hex')).toBe('3080');
    expect(ber.subarray(-10).toString('hex')).toBe('00'.repeat(10));
    const derFile = join(fx?.dir ?? '', `ber-${n++}.der`);
    execFileSync('sh', ['-c', 'cat > "$1"', 'sh', derFile], { input: ber });
    const parsed = openssl(['asn1parse', '-inform', 'DER', '-in', derFile]).toString('latin1').split('\n');
    expect(parsed[0]).toMatch(/cons: SEQUENCE\s*$/);
    expect(parsed[0]).toMatch(/l=inf/);
    const content = parsed.findIndex((l, i) => i > 5 && /cons: cont \[ 0 \]/.test(l) && /l=inf/.test(l));
    expect(content).toBeGreaterThan(0);
    const chunks = parsed.slice(content + 1).filter((l) => /prim: OCTET STRING/.test(l));
    const lengths = chunks.map((l) => Number(/\bl=\s*(\d+)/.exec(l)?.[1]));
    // OCTET STRINGs of at most 4096 bytes (as OpenSSL writes them) holding the whole padded ciphertext
    expect(Math.max(...lengths)).toBe(OCTET_CHUNK);
    const entityBytes = innerEntityParts(splitMessage(original)).reduce((sum, p) => sum + p.length, 0);
    expect(lengths.reduce((a, b) => a + b, 0)).toBe((Math.floor(entityBytes / 16) + 1) * 16);
    const printed = openssl(['cms', '-cmsout', '-print', '-noout', '-in', file]).toString('utf8');
    expect(printed).toMatch(/algorithm: aes-256-cbc/);
    expect(printed).toMatch(/algorithm: rsaEncryption/);
  });

  it.for<[string, CertFixtureName, boolean, string]>([
    ['RSA (PKCS#1 v1.5)', 'rsa', false, 'rsa-pkcs1v15'],
    ['RSA-OAEP (SHA-256)', 'rsa', true, 'rsa-oaep-sha256'],
    ['EC P-256 (ECDH, X9.63 KDF, AES key wrap)', 'ec', false, 'ecdh-p256-sha256kdf'],
  ])('%s: a 3 MB message streamed to a file; openssl cms -decrypt gives back the original entity byte for byte', async ([, name, oaep, transport], ctx) => {
    requireTool(ctx, 'openssl');
    // 2.25 MB of attachment is 3 MB of base64
    const original = await composeOriginal(attachmentBytes(Math.round(2.25 * MB)));
    const { file, keyTransport } = await streamToFile(original, name, oaep);
    expect(keyTransport).toBe(transport);
    const text = readFileSync(file, 'latin1');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4).split('\r\n');
    expect(body.pop()).toBe('');
    for (const line of body.slice(0, -1)) expect(line.length).toBe(76);
    const dir = fx?.dir ?? '';
    const decrypted = openssl(['cms', '-decrypt', '-binary', '-in', file, '-recip', join(dir, `${name}.pem`), '-inkey', join(dir, `${name}.key`)]);
    expect(decrypted.equals(Buffer.concat(innerEntityParts(splitMessage(original))))).toBe(true);
  });
});
