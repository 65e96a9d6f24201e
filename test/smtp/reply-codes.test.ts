/**
 * The reply-code patch on smtp-server's send(): our enhanced codes replace the
 * library's, and refusals of LHLO (an unknown command on an SMTP listener)
 * carry one as RFC 2034 requires. Driven through the real send() with a
 * socket stand-in that records what would be written.
 */
import { describe, expect, it } from 'vitest';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { installReplyCodePatch } from '../../src/smtp/reply-codes.js';

installReplyCodePatch();

function connection(): { sent: string[]; send: (code: number, data?: unknown, context?: unknown) => void } {
  const sent: string[] = [];
  const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
  const conn = Object.assign(Object.create(proto) as Record<string, unknown>, {
    _server: { options: {}, logger: { debug: () => undefined } },
    session: {},
    _upgrading: false,
    _socket: { destroyed: false, readyState: 'open', write: (p: string) => sent.push(p) },
  });
  const send = proto.send as (this: unknown, code: number, data?: unknown, context?: unknown) => void;
  return { sent, send: (code, data, context) => send.call(conn, code, data, context) };
}

describe('reply codes', () => {
  it('keeps our enhanced code instead of adding the library one', () => {
    const c = connection();
    c.send(550, '5.7.1 Relay access denied');
    expect(c.sent).toEqual(['550 5.7.1 Relay access denied\r\n']);
  });

  it('adds the library code to replies without one', () => {
    const c = connection();
    c.send(500, 'Error: command not recognized', 'FOO');
    expect(c.sent).toEqual(['500 5.5.2 Error: command not recognized\r\n']);
  });

  it('LHLO is an unknown command here: its refusal carries 5.5.2 (found by fuzzing)', () => {
    const c = connection();
    c.send(500, 'Error: command not recognized', 'LHLO');
    expect(c.sent).toEqual(['500 5.5.2 Error: command not recognized\r\n']);
  });

  it('replies to HELO and EHLO stay without a code (RFC 2034 §3)', () => {
    const c = connection();
    c.send(250, ['gw.test Nice to meet you', 'PIPELINING'], false);
    c.send(501, 'Error: Syntax: HELO hostname', false);
    expect(c.sent).toEqual(['250-gw.test Nice to meet you\r\n250 PIPELINING\r\n', '501 Error: Syntax: HELO hostname\r\n']);
  });
});
