/**
 * Our own output against the shared pass-through check (src/e2e/already-encrypted.ts):
 * an S/MIME enveloped message is recognised as already encrypted (a second
 * transform leaves it alone); a signed-only one is not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alreadyEncrypted } from '../../src/e2e/already-encrypted.js';
import { envelopeSmime } from '../../src/smime/envelope.js';
import { signSmimeMessage } from '../../src/smime/signed-message.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtures } from '../keys/fixtures.js';

let fx: CertFixtures | undefined;
beforeAll(() => {
  if (haveTool('openssl')) fx = makeCertFixtures();
});
afterAll(() => fx?.cleanup());

const PLAIN = Buffer.from('From: a@hospital.example\r\nTo: b@clinic.example\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nhello\r\n');

function classify(message: Buffer): ReturnType<typeof alreadyEncrypted> {
  const at = message.indexOf('\r\n\r\n');
  return alreadyEncrypted(message.subarray(0, at), message.subarray(at + 4));
}

describe('our S/MIME output and the already-encrypted check', () => {
  it('enveloped (RSA and EC) → smime; signed only → null', async (ctx) => {
    requireTool(ctx, 'openssl');
    expect(classify((await envelopeSmime(PLAIN, fx?.pem('rsa') ?? '')).message)).toBe('smime');
    expect(classify((await envelopeSmime(PLAIN, fx?.pem('ec') ?? '', { outerSubject: 'Secure message' })).message)).toBe('smime');
    const signer = { certPem: fx?.pem('rsa') ?? '', keyPem: readFileSync(join(fx?.dir ?? '', 'rsa.key'), 'utf8') };
    expect(classify(await signSmimeMessage(PLAIN, signer))).toBeNull();
  });
});
