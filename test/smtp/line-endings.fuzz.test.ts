/**
 * Property-based fuzzing of the DATA line-ending normaliser (smuggling
 * defence, src/smtp/line-endings.ts). The invariants, for any bytes cut into
 * any chunks (empty chunks included, as a writer may produce them):
 *
 * - the output does not depend on where the chunks were cut;
 * - it is the input with every line ending that is not CRLF (a CR not followed
 *   by LF, an LF not preceded by CR) written as CRLF, and nothing else changed;
 * - it therefore has no bare CR and no bare LF, and is a fixed point;
 * - `bareCount` is the number of such bare CRs and LFs, so the output is
 *   exactly `bareCount` bytes longer than the input;
 * - input whose line endings are all CRLF passes unchanged with bareCount 0.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineEndingNormalizer, LineEndingStream } from '../../src/smtp/line-endings.js';
import { cutAnywhere, fuzzParams, smugglingBytes } from '../helpers/fuzz.js';

const CR = 0x0d;
const LF = 0x0a;

/** The reference: an independent, obviously correct statement of the rule. */
function reference(input: Buffer): { out: Buffer; bare: number } {
  let bare = 0;
  const out = input.toString('latin1').replace(/\r\n|\r|\n/g, (m) => {
    if (m !== '\r\n') bare++;
    return '\r\n';
  });
  return { out: Buffer.from(out, 'latin1'), bare };
}

function hasBareLineEnding(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    if (b[i] === CR && b[i + 1] !== LF) return true;
    if (b[i] === LF && (i === 0 || b[i - 1] !== CR)) return true;
  }
  return false;
}

/** Input cut at arbitrary points. */
const chunked = cutAnywhere(smugglingBytes(400), 12);

/** Lines of arbitrary non-CR/LF bytes, each ended by CRLF (the last one maybe not). */
const crlfOnly = fc
  .tuple(fc.array(fc.uint8Array({ maxLength: 40 }).map((l) => Buffer.from(l.filter((b) => b !== CR && b !== LF))), { maxLength: 20 }), fc.boolean())
  .map(([lines, endsWithCrlf]) => {
    const joined = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\r\n')]));
    return endsWithCrlf || joined.length === 0 ? joined : joined.subarray(0, joined.length - 2);
  });

function runCore(chunks: readonly Buffer[]): { out: Buffer; bare: number } {
  const n = new LineEndingNormalizer();
  const parts = chunks.map((c) => n.push(c));
  parts.push(n.end());
  return { out: Buffer.concat(parts), bare: n.bareCount };
}

async function runStream(chunks: readonly Buffer[]): Promise<{ out: Buffer; bare: number }> {
  const stream = new LineEndingStream();
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      done();
    },
  });
  const done = pipeline(stream, sink);
  // written one by one (not through a Readable, which would drop empty chunks)
  for (const c of chunks) stream.write(c);
  stream.end();
  await done;
  return { out: Buffer.concat(parts), bare: stream.bareCount };
}

describe('LineEndingNormalizer (fuzzed)', () => {
  it('any chunking gives the reference output and count', () => {
    fc.assert(
      fc.property(chunked, ({ input, chunks }) => {
        const expected = reference(input);
        const got = runCore(chunks);
        expect(got.out.toString('latin1')).toBe(expected.out.toString('latin1'));
        expect(got.bare).toBe(expected.bare);
        expect(got.out.length).toBe(input.length + got.bare);
        expect(hasBareLineEnding(got.out)).toBe(false);
      }),
      fuzzParams(3000),
    );
  });

  it('the output is a fixed point: normalising it again changes nothing and counts nothing', () => {
    fc.assert(
      fc.property(chunked, ({ input, chunks }) => {
        const once = runCore([input]).out;
        const twice = runCore(chunks.length ? [once] : []);
        expect(twice.bare).toBe(0);
        expect(twice.out.equals(chunks.length ? once : Buffer.alloc(0))).toBe(true);
      }),
      fuzzParams(1000),
    );
  });

  it('CRLF-only input passes unchanged, however it is cut', () => {
    fc.assert(
      fc.property(
        crlfOnly.chain((input) => fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 8 }).map((cuts) => ({ input, cuts }))),
        ({ input, cuts }) => {
          const points = [0, ...cuts.sort((a, b) => a - b), input.length];
          const chunks = points.slice(1).map((p, i) => input.subarray(points[i], p));
          const got = runCore(chunks);
          expect(got.bare).toBe(0);
          expect(got.out.equals(input)).toBe(true);
        },
      ),
      fuzzParams(1000),
    );
  });
});

describe('LineEndingStream (fuzzed)', () => {
  it('any chunking gives the same output as one chunk, with no bare CR or LF and a consistent bareCount', async () => {
    await fc.assert(
      fc.asyncProperty(chunked, async ({ input, chunks }) => {
        const whole = await runStream([input]);
        const cut = await runStream(chunks);
        expect(cut.out.toString('latin1')).toBe(whole.out.toString('latin1'));
        expect(cut.bare).toBe(whole.bare);
        expect(whole.out.equals(reference(input).out)).toBe(true);
        expect(whole.bare).toBe(reference(input).bare);
        expect(cut.out.length).toBe(input.length + cut.bare);
        expect(hasBareLineEnding(cut.out)).toBe(false);
      }),
      fuzzParams(1000),
    );
  });

  it('CRLF-only input streams through unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(crlfOnly, fc.integer({ min: 1, max: 7 }), async (input, step) => {
        const chunks: Buffer[] = [];
        for (let i = 0; i < input.length; i += step) chunks.push(input.subarray(i, i + step));
        const got = await runStream(chunks);
        expect(got.bare).toBe(0);
        expect(got.out.equals(input)).toBe(true);
      }),
      fuzzParams(500),
    );
  });
});
