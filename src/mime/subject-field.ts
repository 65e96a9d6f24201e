/**
 * A Subject header field the gateway writes itself (the neutral outer
 * subject of an encrypted copy): control characters (CR and LF included)
 * become one space, so the text cannot start another header field; plain
 * ASCII stays as is, anything else becomes RFC 2047 encoded words
 * (nodemailer's encoder); the field is folded at 76 characters with white
 * space at the start of each continuation line. Pure. One encoder for the
 * OpenPGP and the S/MIME transforms.
 */
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';

export function subjectField(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const value = /^[\x20-\x7e]*$/.test(clean) ? clean : encodeWords(clean, 'Q', 52);
  return `${foldLines(`Subject: ${value}`, 76).replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '')}\r\n`;
}
