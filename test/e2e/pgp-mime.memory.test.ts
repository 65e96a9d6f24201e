/**
 * Memory of the OpenPGP transform on a 25 MB message: the figures go to the
 * test log (no assertion on them, nor on time). Its own file, so the
 * process's peak RSS is this test's.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buildPgpMime, streamPgpMime } from '../../src/e2e/pgp-mime.js';
import { makePgpFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { gpgDecrypt } from './gpg.js';
import { attachmentBytes, composeOriginal } from './mail.js';

const MB = 1024 * 1024;
let alice: PgpFixtures;

beforeAll(() => {
  if (haveTool('gpg')) alice = makePgpFixtures(['good']);
});
afterAll(() => alice?.cleanup());

it('encrypts a 25 MB message for three recipients in turn; gpg decrypts it; RSS growth is logged', async (ctx) => {
  requireTool(ctx, 'gpg');
  // 18.75 MB of attachment is 25 MB of base64
  const original = await composeOriginal(attachmentBytes(Math.round(18.75 * MB)));
  const key = alice.armored('good');
  const before = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  let last: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 3; i++) last = (await buildPgpMime(original, { recipientKey: key })).message;
  const after = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `pgp-mime memory: message ${(original.length / MB).toFixed(1)} MB, output ${(last.length / MB).toFixed(1)} MB; RSS before ${(before / MB).toFixed(0)} MB, after three encryptions ${(after / MB).toFixed(0)} MB; peak RSS ${(peakBefore / MB).toFixed(0)} MB before, ${(peak / MB).toFixed(0)} MB after: growth over the RSS before at most ${((peak - before) / MB).toFixed(0)} MB`,
  );
  const dec = gpgDecrypt(alice.home, last);
  expect(dec.code).toBe(0);
  const body = (b: Buffer): Buffer => b.subarray(b.indexOf('\r\n\r\n') + 4);
  expect(body(dec.stdout).equals(body(original))).toBe(true);
});

it('streams a 25 MB message for three recipients without holding the output; RSS growth is logged', async (ctx) => {
  requireTool(ctx, 'gpg');
  const original = await composeOriginal(attachmentBytes(Math.round(18.75 * MB)));
  const key = alice.armored('good');
  const before = process.memoryUsage().rss;
  let max = before;
  let written = 0;
  const kept: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    const { stream } = await streamPgpMime(original, { recipientKey: key });
    await pipeline(
      stream,
      new Writable({
        write(chunk: Buffer, _enc, done) {
          written += chunk.length;
          if (i === 2) kept.push(chunk);
          max = Math.max(max, process.memoryUsage().rss);
          done();
        },
      }),
    );
  }
  console.log(`pgp-mime stream memory: message ${(original.length / MB).toFixed(1)} MB, ${(written / MB).toFixed(1)} MB written for three recipients; RSS before ${(before / MB).toFixed(0)} MB, highest while writing ${(max / MB).toFixed(0)} MB (growth ${((max - before) / MB).toFixed(0)} MB; the last copy is kept for gpg)`);
  const dec = gpgDecrypt(alice.home, Buffer.concat(kept));
  expect(dec.code).toBe(0);
  const body = (b: Buffer): Buffer => b.subarray(b.indexOf('\r\n\r\n') + 4);
  expect(body(dec.stdout).equals(body(original))).toBe(true);
});
