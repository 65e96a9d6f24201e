/**
 * The Subject and Message-ID of a message's header block, read the way
 * mailparser reads them (the header lines split and unfolded as mailsplit
 * does, each value decoded by libmime: RFC 2047 encoded words in any
 * charset libmime knows, raw UTF-8 read as UTF-8), without mailparser's
 * stream machinery: the archive reads these two fields of every message,
 * and a whole MIME parser run on a header block cost about 75 µs of the
 * main thread a message. Pure; never throws.
 */
import libmime from 'libmime';

export interface HeaderFacts {
  /** The first non-empty Subject, decoded, cut at `subjectLimit` characters ('' when there is none). */
  readonly subject: string;
  /** The first non-empty Message-ID without its angle brackets (null when there is none, or it is longer than 998). */
  readonly messageId: string | null;
}

/** RFC 5322's line limit: a longer Message-ID is not kept. */
const MAX_MESSAGE_ID = 998;

/**
 * A message's first bytes up to their first empty line, as mailsplit ends a
 * header block (a line that is "\n" or "\r\n"), as text (one character a
 * byte): only the header block is decoded.
 */
function headerText(start: Buffer): string {
  for (let at = 0; at < start.length; ) {
    const code = start[at];
    if (code === 0x0a || (code === 0x0d && start[at + 1] === 0x0a)) return start.toString('latin1', 0, at);
    const next = start.indexOf(0x0a, at);
    if (next === -1) break;
    at = next + 1;
  }
  return start.toString('latin1');
}

function isFolding(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 0x20 || c === 0x09;
}

/**
 * The header block's fields as mailsplit's Headers lists them: each with
 * its key (the text before the first colon, lower case, trimmed) and its
 * line (continuation lines joined with CRLF). A first line that is an mbox
 * "From " or an HTTP "POST " preamble is no field.
 */
function headerFields(text: string): { key: string; line: string }[] {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x0a || text.charCodeAt(end - 1) === 0x0d)) end--;
  const lines = text.slice(0, end).split(/\r?\n/);
  const fields: { key: string; line: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    while (i + 1 < lines.length && isFolding(lines[i + 1] as string)) line += `\r\n${lines[++i] as string}`;
    if (fields.length === 0 && i === 0 && /^(?:From|POST) /i.test(line)) continue;
    const colon = line.indexOf(':');
    fields.push({ key: colon < 0 ? '' : line.slice(0, colon).toLowerCase().trim(), line });
  }
  return fields;
}

/** A field's value as mailparser makes it: unfolded, trimmed, its bytes read as UTF-8, its encoded words decoded. */
function decodedValue(line: string): string {
  const value = Buffer.from(String(libmime.decodeHeader(line).value ?? '').trim(), 'latin1').toString('utf8');
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** A Message-ID with the angle brackets it lacks added, as mailparser writes it. */
function bracketed(id: string): string {
  const opened = id.startsWith('<') ? id : `<${id}`;
  return opened.endsWith('>') ? opened : `${opened}>`;
}

/** The facts of the header block at the start of `start` (a message's first bytes, all of them or a prefix). */
export function headerFacts(start: Buffer, subjectLimit: number): HeaderFacts {
  let subject = '';
  let messageId = '';
  try {
    for (const { key, line } of headerFields(headerText(start))) {
      if (key === 'subject' && subject === '') subject = decodedValue(line);
      else if (key === 'message-id' && messageId === '') messageId = decodedValue(line);
      if (subject !== '' && messageId !== '') break;
    }
  } catch {
    return { subject: '', messageId: null };
  }
  // the archive keeps what is between the brackets (mailparser adds those a Message-ID lacks)
  const bare = messageId === '' ? '' : bracketed(messageId).trim().replace(/^<|>$/g, '');
  return { subject: subject.slice(0, subjectLimit), messageId: bare.length > 0 && bare.length <= MAX_MESSAGE_ID ? bare : null };
}
