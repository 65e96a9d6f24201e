/**
 * The junk-command limit's decision, and the smtp-server handlers it wraps
 * (the session behaviour is tested on the real daemon in
 * test/integration/session-limits.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { overJunkLimit } from '../../src/smtp/junk-commands.js';

describe('overJunkLimit', () => {
  it.each<[string, number, number | undefined, boolean]>([
    ['first command, limit 100', 1, 100, false],
    ['exactly at the limit', 100, 100, false],
    ['one past the limit', 101, 100, true],
    ['limit 0 means none', 10_000, 0, false],
    ['no limit configured', 10_000, undefined, false],
    ['limit 1, second command', 2, 1, true],
  ])('%s', (_name, count, limit, expected) => {
    expect(overJunkLimit(count, limit)).toBe(expected);
  });
});

describe('smtp-server internals used by the junk-command limit', () => {
  it('has the handlers it wraps', () => {
    const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
    for (const m of ['handler_NOOP', 'handler_RSET', 'handler_VRFY', 'handler_HELP', 'send']) expect(typeof proto[m], `SMTPConnection.${m}`).toBe('function');
  });
});
