/**
 * Property-based fuzzing of the BDAT command parser (src/smtp/bdat.ts).
 *
 * RFC 3030 §2:  bdat-cmd   ::= "BDAT" SP chunk-size [ SP end-marker ] CR LF
 *               chunk-size ::= 1*DIGIT
 *               end-marker ::= "LAST"
 * Keywords are case-insensitive (RFC 5321 §2.4). The parser gets the command
 * line without its CRLF. Its documented leniency: runs of SP between the
 * tokens and trailing SP (test/smtp/bdat.test.ts). Its implementation limit:
 * at most 15 digits. Nothing else is accepted: a chunk size decides where
 * the next command starts, so any other separator (TAB, a bare CR, VT, FF,
 * NBSP, NUL) could be read differently by a peer and is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBdat } from '../../src/smtp/bdat.js';
import { fuzzParams } from '../helpers/fuzz.js';

const GRAMMAR = /^BDAT +([0-9]{1,15})( +LAST)? *$/i;

/** The reference: the grammar above, written independently of the parser. */
function reference(line: string): { size: number; last: boolean } | undefined {
  const m = GRAMMAR.exec(line);
  if (!m) return undefined;
  return { size: Number(m[1]), last: m[2] !== undefined };
}

/** A keyword with each letter in random case. */
const anyCase = (word: string) => fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((up) => [...word].map((ch, i) => (up[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
const spaces = (min: number) => fc.integer({ min, max: 4 }).map((n) => ' '.repeat(n));
const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 15 });

/** Valid command lines as a client may send them, with what they mean. */
const valid = fc.record({ verb: anyCase('BDAT'), sep: spaces(1), size: digits, last: fc.option(fc.tuple(spaces(1), anyCase('LAST')), { nil: undefined }), tail: spaces(0) }).map((v) => ({
  line: `${v.verb}${v.sep}${v.size}${v.last ? v.last[0] + v.last[1] : ''}${v.tail}`,
  size: Number(v.size),
  last: v.last !== undefined,
}));

/** Characters a command line may carry (latin1, as the server decodes it), weighted to the interesting ones. */
const lineChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'BDATLSbdatls0123456789 ') },
  { weight: 2, arbitrary: fc.constantFrom('\t', '\r', '\n', '\v', '\f', '\0', '\xa0', '\x85', '+', '-', '.', 'e', 'x', ':', '=') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) },
);

/** A valid line with a few characters inserted, replaced or deleted. */
const mutated = fc
  .tuple(
    valid,
    fc.array(fc.tuple(fc.constantFrom('insert', 'replace', 'delete'), fc.nat(), lineChar), { minLength: 1, maxLength: 4 }),
  )
  .map(([v, edits]) => {
    let s = v.line;
    for (const [op, at, ch] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + (op === 'insert' ? 1 : 0));
      if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i);
      else if (op === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1);
      else s = s.slice(0, i) + s.slice(i + 1);
    }
    return s;
  });

function checkShape(r: ReturnType<typeof parseBdat>): void {
  if (r === undefined) return;
  expect(Object.keys(r).sort()).toEqual(['last', 'size']);
  expect(Number.isSafeInteger(r.size) && r.size >= 0).toBe(true);
  expect(typeof r.last).toBe('boolean');
}

describe('parseBdat (fuzzed)', () => {
  it('never throws on arbitrary strings, and accepts exactly the grammar', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: lineChar, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), (line) => {
        const r = parseBdat(line);
        checkShape(r);
        expect(r).toEqual(reference(line));
      }),
      fuzzParams(5000),
    );
  });

  it('mutated valid commands: accepted exactly when the mutation left a valid command', () => {
    fc.assert(
      fc.property(mutated, (line) => {
        const r = parseBdat(line);
        checkShape(r);
        expect(r).toEqual(reference(line));
      }),
      fuzzParams(5000),
    );
  });

  it('round trip: every valid command parses to its size and LAST flag', () => {
    fc.assert(
      fc.property(valid, ({ line, size, last }) => {
        expect(parseBdat(line)).toEqual({ size, last });
      }),
      fuzzParams(2000),
    );
  });

  it('round trip: the line a client builds from a size and a flag gives them back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 999_999_999_999_999 })), fc.boolean(), (size, last) => {
        expect(parseBdat(`BDAT ${size}${last ? ' LAST' : ''}`)).toEqual({ size, last });
      }),
      fuzzParams(2000),
    );
  });

  it('sizes past the 15-digit limit are refused, never rounded', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 16, maxLength: 40 }), fc.boolean(), (size, last) => {
        expect(parseBdat(`BDAT ${size}${last ? ' LAST' : ''}`)).toBeUndefined();
      }),
      fuzzParams(500),
    );
  });
});
