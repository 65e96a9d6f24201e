/**
 * Memory of the streamed S/MIME transform (issue 13, item 8): a 25 MB
 * message encrypted for three recipients in turn (RSA, RSA-OAEP, EC P-256),
 * each output read by a sink that checks a few bytes and keeps none. The
 * bound asserted is on memory (RSS growth under 200 MB), not on time. Its
 * own file, so the process's RSS is this test's.
 */
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { streamSmime } from '../../src/smime/envelope.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, type CertFixtureName, type CertFixtures } from '../keys/fixtures.js';
import { largeMessage } from './large-message.js';

const MB = 1024 * 1024;
let fx: CertFixtures | undefined;

beforeAll(() => {
  if (haveTool('openssl')) fx = makeCertFixtures();
});
afterAll(() => fx?.cleanup());

/** Counts bytes, checks the header opens the message and every base64 line is 76 characters and CRLF; keeps nothing. */
function checkingSink(onRss: () => void): { sink: Writable; result: () => { bytes: number; headOk: boolean; badLines: number } } {
  let bytes = 0;
  let headOk = false;
  let badLines = 0;
  let inBody = false;
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (bytes === 0) headOk = chunk.toString('latin1').includes('Content-Type: application/pkcs7-mime; smime-type=enveloped-data');
      bytes += chunk.length;
      if (!inBody) {
        inBody = chunk.includes('\r\n\r\n');
      } else {
        // the body comes in whole lines; look at its first and last line only
        const text = partial + chunk.toString('latin1');
        const lines = text.split('\r\n');
        partial = lines.pop() ?? '';
        for (const l of [lines[0], lines[lines.length - 1]]) if (l !== undefined && !/^[A-Za-z0-9+/]{76}$/.test(l) && !/^[A-Za-z0-9+/]{1,75}=*$/.test(l)) badLines++;
      }
      onRss();
      done();
    },
  });
  return { sink, result: () => ({ bytes, headOk, badLines: badLines + (partial === '' ? 0 : 1) }) };
}

it('streams a 25 MB message for three recipients (RSA, RSA-OAEP, EC P-256) with RSS growth under 200 MB', async (ctx) => {
  requireTool(ctx, 'openssl');
  const original = largeMessage(25 * MB);
  // collect what building the message left behind, so its freed pages cannot hide the transform's growth
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const before = process.memoryUsage().rss;
  let max = before;
  const sample = (): void => {
    max = Math.max(max, process.memoryUsage().rss);
  };
  const recipients: [CertFixtureName, boolean][] = [
    ['rsa', false],
    ['subjectEmailOnly', true],
    ['ec', false],
  ];
  let written = 0;
  for (const [name, rsaOaep] of recipients) {
    const { stream } = await streamSmime(original, fx?.pem(name) ?? '', { outerSubject: 'Secure message', rsaOaep });
    const { sink, result } = checkingSink(sample);
    await pipeline(stream, sink);
    const r = result();
    expect(r.headOk).toBe(true);
    expect(r.badLines).toBe(0);
    // base64 of the entity plus a few hundred bytes of CMS: a third more than the original
    expect(r.bytes).toBeGreaterThan(original.length * 1.3);
    written += r.bytes;
  }
  const growth = max - before;
  console.log(
    `smime stream memory: message ${(original.length / MB).toFixed(1)} MB, ${(written / MB).toFixed(1)} MB written for three recipients; RSS before ${(before / MB).toFixed(0)} MB, highest while writing ${(max / MB).toFixed(0)} MB (growth ${(growth / MB).toFixed(0)} MB); peak RSS of the process ${((process.resourceUsage().maxRSS * 1024) / MB).toFixed(0)} MB`,
  );
  expect(growth).toBeLessThan(200 * MB);
});
