/** Text encodings the S/MIME message needs: wrapped base64 and an RFC 2047 Subject. */

/** Base64 in lines of 76 characters, each ended by CRLF. */
export function wrapBase64(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.map((l) => `${l}\r\n`).join('');
}

/**
 * A Subject value that is safe in a header: control characters (CR, LF
 * included) become spaces; printable ASCII stays as is (folded by nobody —
 * keep neutral subjects short); anything else becomes RFC 2047 B-encoded
 * words of at most 75 characters, never splitting a character, folded.
 */
export function encodeSubject(subject: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = subject.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (/^[\u0020-\u007e]*$/.test(clean) && clean.length <= 900) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    // 45 bytes of UTF-8 → 60 base64 characters + 12 for =?UTF-8?B?...?= = 72
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}
