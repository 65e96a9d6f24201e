/**
 * A text as one sequential string. The readable text the detectors read is
 * mostly a string V8 keeps as a reference into others: the message's text
 * followed by the clinical formats' field lines (a concatenation, which V8
 * flattens at the first regex search but still reaches through the
 * concatenation's cell), the table rows spliced into it, or a slice of a
 * larger string. `charCodeAt`, which the start finders, the table and field
 * readers and the name and address tests call on most characters they look
 * at, follows that reference at every call: a loop of `charCodeAt` over 2 KB
 * takes about 1.5× as long on such a string as on a sequential one. One copy
 * per verdict costs far less than that (Buffer's native write and decoding,
 * about 0.2 µs per KB). Pure: the same code units, in a new string.
 */
import { Buffer } from 'node:buffer';

/** A character beyond U+00FF: the text is stored two bytes a character. */
export const WIDE = /[\u0100-\uFFFF]/;

/** Below this length the copy is not worth its call. */
const SHORT = 256;

/** Bytes of the buffer kept for the next text (a longer text gets a buffer of its own, not kept). */
const KEPT_BYTES = 1 << 21;

let kept = Buffer.allocUnsafe(8192);

/**
 * A buffer of at least `size` bytes to write a text into and decode it from
 * at once: the one kept for the next text (a larger one replaces it, up to
 * KEPT_BYTES). Its content is the caller's only until the next call.
 */
export function scratchBuffer(size: number): Buffer {
  if (size <= kept.length) return kept;
  const buffer = Buffer.allocUnsafe(size);
  if (size <= KEPT_BYTES) kept = buffer;
  return buffer;
}

/** The same code units as `text`, in a new sequential string (a short text as it is). */
export function flatText(text: string): string {
  if (text.length < SHORT) return text;
  // one byte a character when every character fits in one (latin1 keeps each as it is), else two (utf16le keeps every unit, lone surrogates included)
  const encoding = WIDE.test(text) ? 'utf16le' : 'latin1';
  const size = encoding === 'latin1' ? text.length : 2 * text.length;
  const buffer = scratchBuffer(size);
  buffer.write(text, 0, size, encoding);
  return buffer.toString(encoding, 0, size);
}
