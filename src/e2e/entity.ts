/**
 * Reading a whole RFC 5322 message as the PGP/MIME transform needs it: line
 * ends made CRLF, the header block split from the body, header fields kept
 * as they were written (folding included) so nothing is re-encoded.
 */

export interface HeaderField {
  /** The field name as written, e.g. "Content-Type". */
  readonly name: string;
  /** The whole field, folded lines included, ending in CRLF. */
  readonly raw: string;
}

export interface SplitMessage {
  /** Header fields in their order (a header block read as latin1, byte for byte). */
  readonly fields: readonly HeaderField[];
  /** The body, after the blank line that ends the header block (CRLF line ends). */
  readonly body: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;

/** Pure: the bytes with every bare LF (not after a CR) and every bare CR (not before an LF) made CRLF; the same buffer when there is none. */
export function toCrlf(bytes: Uint8Array): Buffer {
  const src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // counted with indexOf (native) rather than a byte loop: mail from SMTP is CRLF already, and this pass over a 25 MB message was the transforms' largest cost
  let bare = 0;
  for (let i = src.indexOf(LF); i !== -1; i = src.indexOf(LF, i + 1)) if (i === 0 || src[i - 1] !== CR) bare++;
  for (let i = src.indexOf(CR); i !== -1; i = src.indexOf(CR, i + 1)) if (src[i + 1] !== LF) bare++;
  if (bare === 0) return src;
  const out = Buffer.allocUnsafe(src.length + bare);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b === LF && (i === 0 || src[i - 1] !== CR)) {
      out[o++] = CR;
      out[o++] = LF;
    } else if (b === CR && src[i + 1] !== LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else out[o++] = b;
  }
  return out.subarray(0, o);
}

/** Pure: header fields of a header block (CRLF line ends, without the blank line). Lines that are not fields are dropped. */
export function parseHeaderFields(block: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      fields[fields.length - 1] = { name: last.name, raw: `${last.raw}${line}\r\n` };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon).trimEnd())) continue;
    fields.push({ name: line.slice(0, colon).trimEnd(), raw: `${line}\r\n` });
  }
  return fields;
}

/** Pure: a CRLF message split at the first blank line. A message without one is all header. */
export function splitMessage(crlf: Buffer): SplitMessage {
  let headerEnd: number;
  let bodyStart: number;
  if (crlf.subarray(0, 2).toString('latin1') === '\r\n') {
    headerEnd = 0;
    bodyStart = 2;
  } else {
    const at = crlf.indexOf('\r\n\r\n');
    headerEnd = at < 0 ? crlf.length : at + 2;
    bodyStart = at < 0 ? crlf.length : at + 4;
  }
  return { fields: parseHeaderFields(crlf.subarray(0, headerEnd).toString('latin1')), body: crlf.subarray(bodyStart) };
}

/** Pure: the value of a field (after the colon), unfolded and trimmed. */
export function fieldValue(field: HeaderField): string {
  return field.raw.slice(field.raw.indexOf(':') + 1).replace(/\r\n(?=[ \t])/g, '').replace(/\r\n$/, '').trim();
}

export function isNamed(field: HeaderField, name: string): boolean {
  return field.name.toLowerCase() === name.toLowerCase();
}
