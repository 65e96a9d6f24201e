/**
 * Splits a whole RFC 5322 message into the header fields that stay outside an
 * S/MIME envelope (transport headers) and the MIME entity that goes inside it
 * (the Content-* fields, the real Subject and the body), with CRLF line ends.
 */

/** One header field as it was written: its name and its raw (possibly folded) text, CRLF line ends, without the final CRLF. */
export interface HeaderField {
  readonly name: string;
  readonly raw: string;
}

export interface SplitMessage {
  readonly headers: readonly HeaderField[];
  /** The body after the blank line, line ends not yet normalised. */
  readonly body: Buffer;
}

/** The fields copied to the outer message (Subject is handled on its own). */
export const TRANSPORT_HEADERS: ReadonlySet<string> = new Set(['from', 'sender', 'to', 'cc', 'date', 'message-id', 'reply-to', 'in-reply-to', 'references', 'mime-version']);

const CR = 0x0d;
const LF = 0x0a;

/** Every bare LF (and CRLF) as CRLF. */
export function toCrlf(bytes: Buffer): Buffer {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === LF && (i === 0 || bytes[i - 1] !== CR)) bare++;
  if (bare === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + bare);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === LF && (i === 0 || bytes[i - 1] !== CR)) out[o++] = CR;
    out[o++] = b;
  }
  return out;
}

/** Where the header ends: the index of the blank line's first byte and where the body starts. */
function headerEnd(message: Buffer): { end: number; bodyStart: number } {
  let lineStart = 0;
  while (lineStart < message.length) {
    const nl = message.indexOf(LF, lineStart);
    if (nl === -1) return { end: message.length, bodyStart: message.length };
    const lineLen = nl - lineStart - (nl > lineStart && message[nl - 1] === CR ? 1 : 0);
    if (lineLen === 0) return { end: lineStart, bodyStart: nl + 1 };
    lineStart = nl + 1;
  }
  return { end: message.length, bodyStart: message.length };
}

export function splitMessage(message: Buffer): SplitMessage {
  const { end, bodyStart } = headerEnd(message);
  const lines = message.subarray(0, end).toString('latin1').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const headers: HeaderField[] = [];
  let current: string[] = [];
  const flush = (): void => {
    if (current.length === 0) return;
    const first = current[0] as string;
    const colon = first.indexOf(':');
    // a line that is no field (no colon) is dropped, as a parser would
    if (colon > 0) headers.push({ name: first.slice(0, colon).trim().toLowerCase(), raw: current.join('\r\n') });
    current = [];
  };
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && current.length > 0) current.push(line);
    else {
      flush();
      current = [line];
    }
  }
  flush();
  return { headers, body: message.subarray(bodyStart) };
}

/** The raw bytes of a field (header text is kept as the sender wrote it, byte for byte). */
export function fieldBytes(f: HeaderField): Buffer {
  return Buffer.from(`${f.raw}\r\n`, 'latin1');
}

/**
 * The header fields that stay outside, CRLF-ended: the transport fields as
 * written, a MIME-Version when there was none, and the Subject — `subject`
 * (already encoded) when given, else the original one(s).
 */
export function outerFields(split: SplitMessage, subject?: string): Buffer[] {
  const out: Buffer[] = [];
  for (const h of split.headers) if (TRANSPORT_HEADERS.has(h.name)) out.push(fieldBytes(h));
  if (!split.headers.some((h) => h.name === 'mime-version')) out.push(Buffer.from('MIME-Version: 1.0\r\n'));
  if (subject !== undefined) out.push(Buffer.from(`Subject: ${subject}\r\n`));
  else out.push(...subjectFields(split));
  return out;
}

/** The Subject field(s) as written, CRLF-ended. */
export function subjectFields(split: SplitMessage): Buffer[] {
  return split.headers.filter((h) => h.name === 'subject').map(fieldBytes);
}

/**
 * The MIME entity that goes inside the envelope: the Content-* fields (a
 * text/plain one when the message had none), the real Subject, a blank line,
 * the body — all with CRLF.
 */
export function innerEntity(split: SplitMessage): Buffer {
  const content = split.headers.filter((h) => h.name.startsWith('content-'));
  const subject = split.headers.filter((h) => h.name === 'subject');
  const parts: Buffer[] = [];
  if (!content.some((h) => h.name === 'content-type')) parts.push(Buffer.from('Content-Type: text/plain; charset=us-ascii\r\n'));
  for (const h of [...content, ...subject]) parts.push(fieldBytes(h));
  parts.push(Buffer.from('\r\n'), toCrlf(split.body));
  return Buffer.concat(parts);
}
