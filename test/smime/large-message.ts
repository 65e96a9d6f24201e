/**
 * A large test message built with Buffer operations only (no MIME library,
 * so building it leaves no garbage that would hide the transform's memory
 * use): a short text part and an application/octet-stream attachment in
 * 76-column base64, CRLF, `bytes` long give or take a line. Deterministic:
 * the attachment is an AES-256-CTR key stream under a fixed key, so every run
 * and every tool encrypts the same data.
 */
import { createCipheriv } from 'node:crypto';
import { prefixedBase64Lines } from '../../src/smime/text.js';

export function largeMessage(bytes: number): Buffer {
  const head = Buffer.from(
    [
      'From: Dr. Sender <sender@hospital.example>',
      'To: Alice Example <alice@example.org>',
      'Subject: Befund (large)',
      'Date: Sat, 05 Dec 2026 04:00:00 +0000',
      'Message-ID: <large-1@hospital.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="large-boundary"',
      '',
      '--large-boundary',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Dear colleague,',
      'the scan is attached.',
      '',
      '--large-boundary',
      'Content-Type: application/octet-stream; name="scan.bin"',
      'Content-Disposition: attachment; filename="scan.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
  const tail = Buffer.from('--large-boundary--\r\n', 'latin1');
  // 57 raw bytes → one 78-byte line
  const raw = Math.max(0, Math.floor(((bytes - head.length - tail.length) / 78) * 57));
  const stream = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0)).update(Buffer.alloc(raw));
  return Buffer.concat([prefixedBase64Lines(head, stream), tail]);
}
