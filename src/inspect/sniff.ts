/**
 * What a file is, by its bytes rather than its name or declared type: an
 * attachment or archive entry named `export.dat`, `results` or
 * `file.hl7.bin`, or sent as application/octet-stream, is read as what it
 * is. Pure, on the first bytes only (`SNIFF_BYTES`).
 */

/** How many leading bytes decide. */
export const SNIFF_BYTES = 64 * 1024;

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export type Sniffed =
  | { readonly kind: 'pdf' | 'archive' | 'dicom' | 'media' | 'unknown-binary' }
  /** A format with text inside that has no extractor here (legacy Office, RTF, 7z …): its name for the reason. */
  | { readonly kind: 'unreadable'; readonly label: string }
  | { readonly kind: 'text'; readonly encoding: TextEncoding };

const startsWith = (b: Buffer, hex: string, at = 0): boolean => {
  const sig = Buffer.from(hex, 'hex');
  return b.length >= at + sig.length && b.subarray(at, at + sig.length).equals(sig);
};

/** Containers with text inside that nothing here reads. */
const UNREADABLE: readonly [string, string, number?][] = [
  ['d0cf11e0a1b11ae1', 'ole2'], // legacy Word/Excel/PowerPoint, an Outlook .msg, a password-protected OOXML document
  ['7b5c727466', 'rtf'], // {\rtf
  ['377abcaf271c', '7z'],
  ['526172211a07', 'rar'],
  ['1f8b', 'gz'],
  ['425a68', 'bz2'],
  ['fd377a585a00', 'xz'],
  ['7573746172', 'tar', 257], // ustar
  ['789f3e22', 'tnef'], // winmail.dat
];

/** Images, sound, video, fonts: binary content, no text to scan. */
const MEDIA: readonly [string, number?][] = [
  ['89504e47'], ['ffd8ff'], ['47494638'], ['49492a00'], ['4d4d002a'], ['00000100'], ['52494646'], ['4f676753'], ['664c6143'], ['494433'], ['fffb'], ['fff3'], ['fff2'],
  ['66747970', 4], // ISO media (mp4, mov, heic, m4a)
  ['1a45dfa3'], // matroska / webm
  ['774f4646'], ['774f4632'], ['00010000'], ['4f54544f'], // fonts
];

/**
 * Whether the bytes are text, and in which encoding: a byte-order mark
 * (UTF-8, UTF-16), UTF-16 without one (every other byte NUL), or no NUL and
 * hardly any control characters (tab, newlines, form feed and the
 * separators X12, HL7 and MLLP use allowed): UTF-8 when valid, else a
 * single-byte code page if most bytes are ASCII.
 */
export function textEncoding(head: Buffer): TextEncoding | undefined {
  if (startsWith(head, 'efbbbf')) return 'utf-8';
  if (startsWith(head, 'fffe')) return 'utf-16le';
  if (startsWith(head, 'feff')) return 'utf-16be';
  const n = Math.min(head.length, SNIFF_BYTES);
  let nul = 0;
  let nulEven = 0;
  let control = 0;
  let high = 0;
  for (let i = 0; i < n; i++) {
    const c = head[i] as number;
    if (c === 0) {
      nul++;
      if (i % 2 === 0) nulEven++;
    } else if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0b && c !== 0x0c && c !== 0x0d && (c < 0x1c || c > 0x1f)) || c === 0x7f) {
      control++;
    } else if (c >= 0x80) {
      high++;
    }
  }
  if (nul > 0) {
    // UTF-16 without a byte-order mark: ASCII-range text has a NUL in every other byte
    if (n >= 4 && nul >= n * 0.4 && nul <= n * 0.6 && control <= n * 0.02) {
      if (nulEven === 0) return 'utf-16le';
      if (nulEven === nul) return 'utf-16be';
    }
    return undefined;
  }
  if (control > n * 0.02) return undefined;
  if (high === 0) return 'utf-8';
  if (validUtf8(head.subarray(0, n))) return 'utf-8';
  return high <= n * 0.3 ? 'windows-1252' : undefined;
}

function validUtf8(b: Buffer): boolean {
  try {
    // streaming: a multi-byte sequence cut at the end of the head is not an error
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true });
    return true;
  } catch {
    return false;
  }
}

export function sniff(head: Buffer): Sniffed {
  // at the start only: a text that merely mentions "%PDF-" stays text (a declared PDF is read as one anyway)
  if (/^\s{0,16}%PDF-/.test(head.subarray(0, 24).toString('latin1'))) return { kind: 'pdf' };
  if (startsWith(head, '504b0304') || startsWith(head, '504b0506')) return { kind: 'archive' };
  if (head.length >= 132 && head.subarray(128, 132).toString('latin1') === 'DICM') return { kind: 'dicom' };
  for (const [sig, label, at] of UNREADABLE) if (startsWith(head, sig, at)) return { kind: 'unreadable', label };
  for (const [sig, at] of MEDIA) if (startsWith(head, sig, at)) return { kind: 'media' };
  const encoding = textEncoding(head);
  if (encoding) return { kind: 'text', encoding };
  return { kind: 'unknown-binary' };
}

/** Bytes as text in the encoding sniffed (a declared charset is the caller's to apply first). */
export function decodeAs(bytes: Buffer, encoding: TextEncoding): string {
  if (encoding === 'utf-8') return (startsWith(bytes, 'efbbbf') ? bytes.subarray(3) : bytes).toString('utf8');
  const bom = (encoding === 'utf-16le' && startsWith(bytes, 'fffe')) || (encoding === 'utf-16be' && startsWith(bytes, 'feff'));
  return new TextDecoder(encoding).decode(bom ? bytes.subarray(2) : bytes);
}

/** An HTML document by its first characters. */
export function looksLikeHtml(text: string): boolean {
  return /^\s*(<!--[^]{0,200}?-->\s*)?<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])/i.test(text.slice(0, 512));
}

/**
 * Reads a stream: the first `SNIFF_BYTES` (or all of it, if shorter), then
 * as much as `decide` allows for what they show. With `stop`, reading ends
 * there (the stream is abandoned); without, the rest is drained unread (a
 * MIME part: the parser must go on).
 */
export async function readSniffed(source: AsyncIterable<Buffer | Uint8Array | string>, decide: (head: Buffer) => number, stop: boolean): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let limit: number | undefined;
  let truncated = false;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    if (limit === undefined) {
      chunks.push(buf);
      kept += buf.length;
      if (kept >= SNIFF_BYTES) limit = decide(Buffer.concat(chunks));
      else continue;
      if (kept > limit) {
        const all = Buffer.concat(chunks).subarray(0, limit);
        chunks.length = 0;
        chunks.push(all);
        kept = all.length;
        truncated = true;
        if (stop) break;
      }
      continue;
    }
    if (kept >= limit) {
      if (buf.length > 0) truncated = true;
      if (stop) break;
      continue;
    }
    const part = buf.subarray(0, limit - kept);
    chunks.push(part);
    kept += part.length;
    if (part.length < buf.length) {
      truncated = true;
      if (stop) break;
    }
  }
  let bytes = Buffer.concat(chunks);
  if (limit === undefined) {
    limit = decide(bytes);
    if (bytes.length > limit) {
      bytes = bytes.subarray(0, limit);
      truncated = true;
    }
  }
  return { bytes, truncated };
}
