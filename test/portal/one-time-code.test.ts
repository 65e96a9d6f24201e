/**
 * The pure sign-in code decisions: issuing (uniform digits by rejection
 * sampling, HMAC with salt), checking (single use, life, tries, malformed
 * input), the lockout schedule and the per-recipient request limit.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkCode,
  CODE_LIFETIME_MS,
  type CodeState,
  deriveCodeKey,
  drawDigits,
  hashCode,
  issueCode,
  lockoutAfter,
  mayIssueCode,
  normalizeAttempt,
} from '../../src/portal/one-time-code.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const KEY = Buffer.alloc(32, 7);

/** A random source that hands out the given bytes in order (then zeros). */
function scripted(bytes: number[]): { random: (n: number) => Buffer; calls: number[] } {
  let pos = 0;
  const calls: number[] = [];
  return {
    calls,
    random: (n) => {
      calls.push(n);
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = pos < bytes.length ? (bytes[pos++] ?? 0) : 0;
      return out;
    },
  };
}

const seeded = (seed: string): ((n: number) => Buffer) => seededBytes(seed).random;

const SALT = Array.from({ length: 16 }, (_, i) => i);

function stateFor(code: string, over: Partial<CodeState> = {}): CodeState {
  const salt = Buffer.from(SALT).toString('hex');
  return { codeHash: hashCode(KEY, salt, code), salt, digits: code.length, expiresAt: NOW + CODE_LIFETIME_MS, wrongTries: 0, usedAt: null, ...over };
}

describe('issueCode', () => {
  it('gives exactly `digits` decimal digits, a salted HMAC and a 10-minute life', () => {
    for (const digits of [6, 7, 8]) {
      const c = issueCode({ now: NOW, random: seeded(`d${digits}`), key: KEY, digits });
      expect(c.code).toMatch(new RegExp(`^[0-9]{${digits}}$`));
      expect(c.digits).toBe(digits);
      expect(c.expiresAt).toBe(NOW + 10 * MIN);
      expect(c.salt).toMatch(/^[0-9a-f]{32}$/);
      expect(c.codeHash).toBe(hashCode(KEY, c.salt, c.code));
      expect(c.codeHash).not.toContain(c.code);
    }
    expect(issueCode({ now: NOW, random: seeded('x'), key: KEY }).code).toHaveLength(8);
  });

  it('keeps leading zeros', () => {
    // salt (16 bytes), then digit bytes 0, 10, 20, 3 … → "00034567"
    const { random } = scripted([...SALT, 0, 10, 20, 3, 4, 5, 6, 7]);
    const c = issueCode({ now: NOW, random, key: KEY });
    expect(c.code).toBe('00034567');
  });

  it('re-draws bytes that would bias `% 10` (250..255) instead of folding them', () => {
    // 250..255 would become 0..5 under a plain modulo; they are skipped
    const { random, calls } = scripted([...SALT, 250, 1, 255, 2, 3, 4, 5, 6, 7, 251, 8, 9, 252, 253, 254, 9]);
    const c = issueCode({ now: NOW, random, key: KEY });
    expect(c.code).toBe('12345678');
    expect(calls.length).toBeGreaterThan(2); // salt, a first draw of 8, then re-draws
    expect(drawDigits(scripted([255, 255, 249, 0]).random, 2)).toBe('90');
  });

  it('refuses a random source that only returns rejected bytes or too few bytes', () => {
    expect(() => drawDigits(() => Buffer.alloc(8, 0xff), 8)).toThrow(RangeError);
    expect(() => drawDigits(() => Buffer.alloc(1), 8)).toThrow(RangeError);
  });

  it.each([5, 9, 0, 6.5, Number.NaN])('refuses %s digits', (digits) => {
    expect(() => issueCode({ now: NOW, random: seeded('r'), key: KEY, digits })).toThrow(RangeError);
  });

  it('refuses a short key', () => {
    expect(() => issueCode({ now: NOW, random: seeded('r'), key: Buffer.alloc(16) })).toThrow(RangeError);
  });

  it('is near uniform over many draws (each digit 10% ± 1%, every position)', () => {
    const random = seeded('uniform');
    const counts = Array.from({ length: 10 }, () => 0);
    const n = 5000;
    let leadingZero = 0;
    for (let i = 0; i < n; i++) {
      const { code } = issueCode({ now: NOW, random, key: KEY });
      if (code.startsWith('0')) leadingZero++;
      for (const ch of code) counts[Number(ch)] = (counts[Number(ch)] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c / (n * 8) - 0.1)).toBeLessThan(0.01);
    expect(leadingZero).toBeGreaterThan(n * 0.07);
  });

  it('salts each code: equal codes hash differently', () => {
    const a = issueCode({ now: NOW, random: scripted([...SALT, 1, 2, 3, 4, 5, 6, 7, 8]).random, key: KEY });
    const b = issueCode({ now: NOW, random: scripted([...SALT.map((x) => x + 1), 1, 2, 3, 4, 5, 6, 7, 8]).random, key: KEY });
    expect(a.code).toBe(b.code);
    expect(a.codeHash).not.toBe(b.codeHash);
    // and a different server key gives a different hash
    expect(hashCode(randomBytes(32), a.salt, a.code)).not.toBe(a.codeHash);
  });

  it('derives a 32-byte key from the master key, deterministically', () => {
    const master = Buffer.alloc(32, 1);
    expect(deriveCodeKey(master)).toHaveLength(32);
    expect(deriveCodeKey(master).equals(deriveCodeKey(Buffer.from(master)))).toBe(true);
    expect(deriveCodeKey(master).equals(master)).toBe(false);
  });
});

describe('normalizeAttempt', () => {
  it.each([
    ['12345678', '12345678'],
    [' 12345678\n', '12345678'],
    ['1234 5678', '12345678'],
    ['1234-5678', '12345678'],
    ['１２３４５６７８', '12345678'], // full-width digits (NFKC)
    ['1234567', undefined],
    ['123456789', undefined],
    ['abcdefgh', undefined],
    ['1234567a', undefined],
    ['0x123456', undefined],
    ['1'.repeat(17), undefined],
    ['        12345678', '12345678'], // 16 characters: still looked at
    ['         12345678', undefined], // 17: too long before trimming
    ['', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeAttempt(input, 8)).toBe(expected);
  });

  it.each([null, undefined, 12345678, ['12345678'], { code: '12345678' }])('non-string %j is malformed', (input) => {
    expect(normalizeAttempt(input, 8)).toBeUndefined();
  });
});

describe('checkCode', () => {
  const CODE = '04281937';

  type Step = [attempt: unknown, outcome: string];
  it.each<[string, Step[], Partial<CodeState>, number?]>([
    ['right code', [[CODE, 'ok']], {}],
    ['right code with spaces', [[' 0428 1937 ', 'ok']], {}],
    ['right code with a hyphen', [['0428-1937', 'ok']], {}],
    ['wrong ×4 then right', [['11111111', 'wrong'], ['22222222', 'wrong'], ['33333333', 'wrong'], ['44444444', 'wrong'], [CODE, 'ok']], {}],
    [
      'wrong ×5 → locked, then even the right code is locked',
      [['11111111', 'wrong'], ['22222222', 'wrong'], ['33333333', 'wrong'], ['44444444', 'wrong'], ['55555555', 'locked'], [CODE, 'locked']],
      {},
    ],
    ['reused', [[CODE, 'ok'], [CODE, 'used'], ['11111111', 'used']], {}],
    ['expired (at exactly 10 minutes)', [[CODE, 'expired']], {}, NOW + CODE_LIFETIME_MS],
    ['expired long ago', [[CODE, 'expired'], ['x', 'expired']], {}, NOW + 2 * HOUR],
    ['malformed: letters', [['abcdefgh', 'malformed'], [CODE, 'ok']], {}],
    ['malformed: lowercase hex-looking', [['0428193a', 'malformed']], {}],
    ['malformed: too long', [['0'.repeat(40), 'malformed']], {}],
    ['malformed: wrong length', [['0428193', 'malformed'], ['042819370', 'malformed']], {}],
    ['malformed: not a string', [[42819370, 'malformed'], [null, 'malformed'], [undefined, 'malformed']], {}],
    [
      'malformed input counts: 5 of them lock',
      [['a', 'malformed'], ['b', 'malformed'], ['c', 'malformed'], ['d', 'malformed'], ['e', 'locked'], [CODE, 'locked']],
      {},
    ],
    ['already 4 wrong: the next wrong locks', [['11111111', 'locked']], { wrongTries: 4 }],
    ['already used', [[CODE, 'used']], { usedAt: NOW - MIN }],
    ['corrupt stored hash never matches, never throws', [[CODE, 'wrong']], { codeHash: 'zz' }],
  ])('%s', (_name, steps, over, at = NOW + MIN) => {
    let state = stateFor(CODE, over);
    for (const [attempt, outcome] of steps) {
      const d = checkCode(state, attempt, at, KEY);
      expect(d.outcome).toBe(outcome);
      state = d.nextState;
    }
  });

  it('ok consumes the code (usedAt = now) and changes nothing else', () => {
    const s = stateFor(CODE, { wrongTries: 2 });
    const d = checkCode(s, CODE, NOW + MIN, KEY);
    expect(d).toEqual({ outcome: 'ok', nextState: { ...s, usedAt: NOW + MIN }, lockedNow: false, triesLeft: 3 });
  });

  it('counts tries, reports what is left and flags the locking try once', () => {
    let s = stateFor(CODE);
    const seen: [number, boolean][] = [];
    for (let i = 0; i < 6; i++) {
      const d = checkCode(s, '99999999', NOW + MIN, KEY);
      seen.push([d.triesLeft, d.lockedNow]);
      s = d.nextState;
    }
    expect(seen).toEqual([
      [4, false],
      [3, false],
      [2, false],
      [1, false],
      [0, true],
      [0, false],
    ]);
    expect(s.wrongTries).toBe(5);
  });

  it('used, locked and expired leave the state as it was', () => {
    for (const s of [stateFor(CODE, { usedAt: NOW }), stateFor(CODE, { wrongTries: 5 })]) {
      expect(checkCode(s, '11111111', NOW + MIN, KEY).nextState).toBe(s);
    }
    const s = stateFor(CODE);
    expect(checkCode(s, '11111111', NOW + CODE_LIFETIME_MS, KEY).nextState).toBe(s);
  });

  it('a wrong server key makes the right code wrong', () => {
    expect(checkCode(stateFor(CODE), CODE, NOW + MIN, Buffer.alloc(32, 8)).outcome).toBe('wrong');
    expect(checkCode(stateFor(CODE), CODE, NOW + MIN, Buffer.alloc(0)).outcome).toBe('wrong');
  });

  it('works for 6-digit codes', () => {
    const s = stateFor('000123');
    expect(checkCode(s, '000123', NOW, KEY).outcome).toBe('ok');
    expect(checkCode(s, '00012300', NOW, KEY).outcome).toBe('malformed');
  });
});

describe('lockoutAfter', () => {
  it.each([
    [0, 0],
    [-1, 0],
    [1.5, 0],
    [1, 1 * MIN],
    [2, 2 * MIN],
    [3, 4 * MIN],
    [4, 8 * MIN],
    [5, 16 * MIN],
    [6, 32 * MIN],
    [7, 64 * MIN],
    [8, 128 * MIN],
    [9, 256 * MIN],
    [10, 512 * MIN],
    [11, 1024 * MIN],
    [12, 24 * HOUR], // 2048 min > 24 h: capped
    [13, 24 * HOUR],
    [1000, 24 * HOUR],
    [Number.MAX_SAFE_INTEGER, 24 * HOUR],
  ])('lock %s → %s ms', (count, ms) => {
    expect(lockoutAfter(count)).toBe(ms);
  });
});

describe('mayIssueCode', () => {
  it.each<[string, number[], number | null, ReturnType<typeof mayIssueCode>]>([
    ['first code', [], null, { allowed: true }],
    ['4 in the last hour', [NOW - 50 * MIN, NOW - 30 * MIN, NOW - 10 * MIN, NOW - MIN], null, { allowed: true }],
    [
      '5 in the last hour',
      [NOW - 50 * MIN, NOW - 30 * MIN, NOW - 10 * MIN, NOW - MIN, NOW],
      null,
      { allowed: false, reason: 'rate', retryAt: NOW + 10 * MIN },
    ],
    ['5, but the oldest exactly an hour ago', [NOW - HOUR, NOW - 30 * MIN, NOW - 10 * MIN, NOW - MIN, NOW], null, { allowed: true }],
    [
      '7 in the last hour: wait for 3 to leave',
      [NOW - 55 * MIN, NOW - 50 * MIN, NOW - 40 * MIN, NOW - 30 * MIN, NOW - 20 * MIN, NOW - 10 * MIN, NOW],
      null,
      { allowed: false, reason: 'rate', retryAt: NOW + 20 * MIN },
    ],
    ['old codes do not count', [NOW - 3 * HOUR, NOW - 2 * HOUR, NOW - 2 * HOUR, NOW - 90 * MIN, NOW - 61 * MIN], null, { allowed: true }],
    ['locked', [], NOW + 4 * MIN, { allowed: false, reason: 'locked', retryAt: NOW + 4 * MIN }],
    ['lock over at exactly lockedUntil', [], NOW, { allowed: true }],
    ['lock long over', [NOW - 2 * HOUR], NOW - HOUR, { allowed: true }],
    [
      'locked and over the rate: locked wins',
      [NOW - 5, NOW - 4, NOW - 3, NOW - 2, NOW - 1],
      NOW + 2 * MIN,
      { allowed: false, reason: 'locked', retryAt: NOW + 2 * MIN },
    ],
  ])('%s', (_name, issuedAt, lockedUntil, expected) => {
    expect(mayIssueCode({ issuedAt, lockedUntil }, NOW)).toEqual(expected);
  });
});
