/** Text encodings the S/MIME message needs: wrapped base64 and an RFC 2047 Subject. */

/** Base64 in lines of 76 characters, each ended by CRLF. */
export function wrapBase64(bytes: Buffer): string {
  return prefixedBase64Lines(Buffer.alloc(0), bytes).toString('ascii');
}

/**
 * `prefix` followed by base64 of `bytes` in 76-character CRLF lines, written
 * into one buffer (no intermediate string of the whole: the DER of a large
 * message is tens of MB).
 */
export function prefixedBase64Lines(prefix: Buffer, bytes: Buffer): Buffer {
  const fullLines = Math.floor(bytes.length / 57);
  const rest = bytes.length % 57;
  const size = prefix.length + fullLines * 78 + (rest > 0 ? Math.ceil(rest / 3) * 4 + 2 : 0);
  const out = Buffer.allocUnsafe(size);
  let o = prefix.copy(out, 0);
  for (let i = 0; i < bytes.length; i += 57) {
    o += out.write(bytes.subarray(i, i + 57).toString('base64'), o, 'ascii');
    o += out.write('\r\n', o, 'ascii');
  }
  return out;
}

/**
 * Base64 in 76-character CRLF lines, fed piece by piece: the same text
 * prefixedBase64Lines writes for the whole, without ever holding the whole.
 * Keeps fewer than 57 bytes (one line's worth) between pieces.
 */
export class Base64Lines {
  private carry: Buffer = Buffer.alloc(0);

  /** The complete lines the bytes so far make (several pieces are taken in order, joined once). */
  push(...pieces: Buffer[]): Buffer {
    const data = this.carry.length === 0 && pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat([this.carry, ...pieces]);
    const lines = Math.floor(data.length / 57);
    this.carry = Buffer.from(data.subarray(lines * 57));
    if (lines === 0) return Buffer.alloc(0);
    const encoded = Buffer.from(data.subarray(0, lines * 57).toString('base64'), 'latin1');
    const out = Buffer.allocUnsafe(lines * 78);
    for (let i = 0, o = 0; i < encoded.length; i += 76, o += 78) {
      encoded.copy(out, o, i, i + 76);
      out[o + 76] = 0x0d;
      out[o + 77] = 0x0a;
    }
    return out;
  }

  /** The last, shorter line (with its padding and CRLF), if any bytes are left. */
  end(): Buffer {
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return rest.length === 0 ? rest : Buffer.from(`${rest.toString('base64')}\r\n`, 'latin1');
  }
}
