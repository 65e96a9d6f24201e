import { describe, expect, it } from 'vitest';
import { buildReceivedHeader, hasMessageId, receivedProtocol, rfc5322Date, sanitizeToken } from '../../src/smtp/trace-headers.js';

describe('trace headers', () => {
  it.each([
    [{ tls: undefined, authenticated: false, smtputf8: false }, 'ESMTP'],
    [{ tls: { version: 'TLSv1.3', cipher: 'X' }, authenticated: false, smtputf8: false }, 'ESMTPS'],
    [{ tls: { version: 'TLSv1.3', cipher: 'X' }, authenticated: true, smtputf8: false }, 'ESMTPSA'],
    [{ tls: undefined, authenticated: true, smtputf8: false }, 'ESMTPA'],
    [{ tls: { version: 'TLSv1.2', cipher: 'X' }, authenticated: false, smtputf8: true }, 'UTF8SMTPS'],
  ])('protocol %j → %s', (info, expected) => {
    expect(receivedProtocol(info)).toBe(expected);
  });

  it('formats RFC 5322 dates in UTC', () => {
    expect(rfc5322Date(new Date(Date.UTC(2026, 10, 24, 9, 5, 7)))).toBe('Tue, 24 Nov 2026 09:05:07 +0000');
  });

  it('builds a folded Received header that a peer-supplied HELO cannot break', () => {
    const h = buildReceivedHeader({
      helo: 'evil\r\nBcc: x@y (z)',
      clientIp: '127.0.0.1',
      byHost: 'gw.example.org',
      queueId: '01ABCDEFGHJKMNPQRSTV',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      authenticated: false,
      smtputf8: false,
      date: new Date(Date.UTC(2026, 10, 24, 9, 5, 7)),
    });
    expect(h).toBe(
      'Received: from evil??Bcc:?x@y??z? ([127.0.0.1])\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n' +
        '\tby gw.example.org (Sealgate) with ESMTPS id 01ABCDEFGHJKMNPQRSTV;\r\n' +
        '\tTue, 24 Nov 2026 09:05:07 +0000\r\n',
    );
  });

  it.each([
    ['Subject: a\r\nMessage-ID: <x@y>\r\n', true],
    ['Subject: a\r\nmessage-id:<x@y>\r\n', true],
    ['Subject: a\r\n Message-ID: folded continuation\r\n', false],
    ['X-Message-ID: <x@y>\r\n', false],
    ['', false],
  ])('hasMessageId(%j) → %s', (block, expected) => {
    expect(hasMessageId(block)).toBe(expected);
  });

  it('sanitizes tokens', () => {
    expect(sanitizeToken('')).toBe('unknown');
    expect(sanitizeToken('a'.repeat(300)).length).toBe(255);
  });
});
