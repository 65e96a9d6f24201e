/**
 * Header changes the policy asks for, applied while a message streams to the
 * recipient (the spooled copy is never changed): the subject tag removed
 * ([secure], [encrypt], +encrypt+) and headers added on top. Only the header
 * block is touched, and only up to HEADER_LIMIT bytes of it; a message whose
 * header block is longer is sent unchanged.
 *
 * Removing the tag changes the Subject, which DKIM signatures cover: a
 * message signed upstream (e.g. by Microsoft 365) then fails that signature
 * (docs/policy.md).
 */
import { Readable } from 'node:stream';
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { SUBJECT_TAGS } from '../policy/decide.js';

export interface MessageRewrite {
  readonly stripSubjectTag: boolean;
  readonly addHeaders: Readonly<Record<string, string>>;
}

export const HEADER_LIMIT = 256 * 1024;

/** Pure: RFC 2047 encoded words decoded (B and Q; unknown charsets left as they are). */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g, (word, charset: string, enc: string, text: string) => {
      try {
        const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
        return new TextDecoder(charset.toLowerCase()).decode(bytes);
      } catch {
        return word;
      }
    });
}

/** Pure: a Subject value without the tag (encoded again when it is not plain ASCII). */
export function stripTagFromSubject(rawValue: string): string {
  const unfolded = rawValue.replace(/\r?\n(?=[ \t])/g, '');
  // raw UTF-8 (SMTPUTF8 mail) arrives here as latin1 characters: read it as UTF-8, and write it back the same way
  const eightBit = /[\x80-\xff]/.test(unfolded);
  const text = eightBit ? Buffer.from(unfolded, 'latin1').toString('utf8') : unfolded;
  const decoded = decodeEncodedWords(text.trim());
  if (!SUBJECT_TAGS.test(decoded)) return rawValue;
  const stripped = decoded.replace(new RegExp(SUBJECT_TAGS.source, 'gi'), '').replace(/\s{2,}/g, ' ').trim();
  if (eightBit) return ` ${Buffer.from(stripped, 'utf8').toString('latin1')}`;
  const value = /^[\x20-\x7e]*$/.test(stripped) ? stripped : encodeWords(stripped, 'Q', 52);
  return ` ${value}`;
}

/** Pure: the header block (up to and including its final CRLF, without the empty line) rewritten. */
export function rewriteHeaderBlock(header: string, rw: MessageRewrite): string {
  let out = header;
  if (rw.stripSubjectTag) {
    out = out.replace(/^(Subject:)((?:[^\r\n]*)(?:\r\n[ \t][^\r\n]*)*)\r\n/im, (_m, name: string, value: string) => `${foldLines(`${name}${stripTagFromSubject(value)}`, 76).replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '')}\r\n`);
  }
  const added = Object.entries(rw.addHeaders).map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, ' ')}\r\n`).join('');
  return added + out;
}

/** The message with the rewrite applied to its header block; the body streams through untouched. */
export function rewriteMessage(source: Readable, rewrite: MessageRewrite | undefined): Readable {
  if (!rewrite || (!rewrite.stripSubjectTag && Object.keys(rewrite.addHeaders).length === 0)) return source;
  const rw = rewrite;
  async function* run(): AsyncGenerator<Buffer> {
    let head = Buffer.alloc(0);
    let done = false;
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      if (done) {
        yield buf;
        continue;
      }
      head = Buffer.concat([head, buf]);
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) {
        yield Buffer.from(rewriteHeaderBlock(head.subarray(0, end + 2).toString('latin1'), rw), 'latin1');
        yield head.subarray(end + 2);
        done = true;
      } else if (head.length > HEADER_LIMIT) {
        // an unusually long header block: sent as it is
        yield head;
        done = true;
      }
    }
    if (!done && head.length) yield head;
  }
  const out = Readable.from(run());
  out.on('close', () => source.destroy());
  return out;
}
