/**
 * Streaming MIME walk (mailparser): the subject, every text and HTML body
 * (HTML as text), text-like attachments (text/*, CSV, JSON, XML, HL7) and
 * nested messages, with limits on the text kept and the parts walked. Formats
 * that need an extractor not built yet (PDF, Office, ZIP) and anything cut by
 * a limit set `notFullyScanned`, which policy treats as sensitive (fail
 * closed). Nothing is written anywhere: the text exists only in memory for
 * the detectors.
 */
import { Readable } from 'node:stream';
import { MailParser, type AddressObject, type AttachmentStream, type EmailAddress, type MessageText } from 'mailparser';
import { isDicom } from './detect/clinical-formats.js';
import { convert } from 'html-to-text';
import { pdfText } from './pdf-text.js';
import { zipText } from './zip-text.js';

export interface ExtractLimits {
  /** Text kept for the detectors, all parts together. */
  readonly maxTextChars: number;
  /** Bytes read from one text-like attachment. */
  readonly maxAttachmentBytes: number;
  /** Attachments walked. */
  readonly maxAttachments: number;
  /** Bytes read from one PDF (its text is extracted by pdf.js; a larger one is not fully scanned). */
  readonly maxPdfBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxTextChars: 4_000_000, maxAttachmentBytes: 10 * 1024 * 1024, maxAttachments: 200, maxPdfBytes: 32 * 1024 * 1024 };

export interface AttachmentInfo {
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** How the attachment was handled. */
  readonly handling: 'text' | 'archive' | 'message' | 'pdf' | 'dicom' | 'unsupported' | 'binary' | 'skipped';
}

export interface Extracted {
  readonly subject: string;
  /** Addresses in the To and Cc headers, lower case (envelope recipients not listed here are blind copies). */
  readonly visibleRecipients: readonly string[];
  /** Text segments (subject first), for the detectors. */
  readonly texts: readonly string[];
  readonly attachments: readonly AttachmentInfo[];
  readonly dicom: boolean;
  /** An encrypted archive entry or a password-protected document was found. */
  readonly encrypted: boolean;
  readonly notFullyScanned: boolean;
  readonly reasons: readonly string[];
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|csv|hl7-v2|fhir\+json|fhir\+xml|x-hl7|edi-x12|x-edi)|message\/delivery-status)/i;
const TEXT_EXTENSIONS = /\.(txt|csv|tsv|json|xml|hl7|x12|edi|ccda|ccd|log|md|html?)$/i;
/** Formats with text inside that need an extractor (not built yet: reported, never silently skipped). */
const ARCHIVE_TYPES = /^application\/(zip|x-zip-compressed|vnd\.openxmlformats-officedocument\.|vnd\.oasis\.opendocument\.)/i;
const ARCHIVE_EXTENSIONS = /\.(zip|docx|xlsx|pptx|odt|ods|odp)$/i;
const CONTAINER_TYPES = /^application\/(pdf|zip|x-zip-compressed|vnd\.openxmlformats-officedocument\.|msword|vnd\.ms-|x-7z|x-rar|gzip|x-tar|octet-stream)/i;
const CONTAINER_EXTENSIONS = /\.(pdf|docx?|xlsx?|pptx?|zip|7z|rar|gz|tgz|tar|odt|ods|rtf)$/i;

async function readBounded(stream: AttachmentStream['content'], max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    if (total < max) chunks.push(buf.subarray(0, max - total));
    total += buf.length;
    if (total > max) truncated = true;
  }
  return { bytes: Buffer.concat(chunks), truncated };
}

/** The text of an HTML document as a reader sees it (html-to-text: entities decoded, script and style dropped, no link targets). */
export function htmlText(html: string, maxChars: number): string {
  return convert(html, {
    wordwrap: false,
    limits: { maxInputLength: maxChars },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  });
}

/**
 * Bytes of a text attachment as characters: a byte-order mark decides
 * (UTF-16 from a spreadsheet's "Unicode text" export, UTF-8), else the
 * charset parameter of its content type, else UTF-8.
 */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  if (charset && !/^(utf-?8|us-ascii)$/i.test(charset)) {
    try {
      return new TextDecoder(charset.toLowerCase()).decode(bytes);
    } catch {
      // an unknown charset: read as UTF-8, the digits and ASCII labels survive
    }
  }
  return bytes.toString('utf8');
}

/** RFC 5322 field-name: printable US-ASCII except the colon. */
const FIELD_NAME = /^[!-9;-~]+$/;

/** How deep attached messages (message/rfc822) are walked. */
export const MAX_MESSAGE_DEPTH = 3;

/** Addresses of a header's address list (groups flattened), lower case, at most 1,000. */
function collectAddresses(list: readonly EmailAddress[], into: Set<string>): void {
  for (const a of list) {
    if (into.size >= 1000) return;
    if (a.address) into.add(a.address.toLowerCase());
    if (a.group) collectAddresses(a.group, into);
  }
}

export function extractMessage(source: Readable, limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS, depth = 0): Promise<Extracted> {
  const parser = new MailParser({ skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: limits.maxTextChars });
  let subject = '';
  const visible = new Set<string>();
  const texts: string[] = [];
  const attachments: AttachmentInfo[] = [];
  const reasons = new Set<string>();
  let dicom = false;
  let encrypted = false;
  let chars = 0;
  const keep = (text: string): void => {
    if (chars >= limits.maxTextChars) {
      reasons.add('text limit reached');
      return;
    }
    const part = text.slice(0, limits.maxTextChars - chars);
    if (part.length < text.length) reasons.add('text limit reached');
    chars += part.length;
    texts.push(part);
  };
  return new Promise((resolve, reject) => {
    const pending: Promise<void>[] = [];
    // A line in the header block that is not a header field (a message without the blank line
    // after its headers, or with no headers at all) is neither a header nor body text to
    // mailparser: its words would reach no detector. They are scanned here, and the message
    // counts as not fully scanned (found by fuzzing)
    parser.on('headerLines', (lines: { key: string; line: string }[]) => {
      const stray = lines.filter((l) => !FIELD_NAME.test(l.key) && l.line !== '');
      if (stray.length === 0) return;
      reasons.add('malformed header block');
      for (const l of stray) keep(l.line);
    });
    parser.on('headers', (headers) => {
      subject = String(headers.get('subject') ?? '');
      if (subject) keep(subject);
      for (const name of ['to', 'cc']) {
        const value = headers.get(name) as AddressObject | AddressObject[] | undefined;
        for (const obj of Array.isArray(value) ? value : value ? [value] : []) collectAddresses(obj.value, visible);
      }
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        if (data.text) keep(data.text);
        else if (typeof data.html === 'string') keep(htmlText(data.html, limits.maxTextChars));
        return;
      }
      const filename = data.filename ?? '';
      // mailparser gives `false` for a Content-Type it cannot parse ("Content-Type: ;;;"): such a
      // part counts as an opaque binary, so it is not fully scanned (fail closed), never a TypeError
      const contentType = typeof data.contentType === 'string' && data.contentType ? data.contentType.toLowerCase() : 'application/octet-stream';
      if (filename) keep(filename);
      if (attachments.length >= limits.maxAttachments) {
        reasons.add('attachment limit reached');
        attachments.push({ filename, contentType, size: 0, handling: 'skipped' });
        data.content.resume();
        data.release?.();
        return;
      }
      const work = (async () => {
        try {
          const textLike = TEXT_TYPES.test(contentType) || TEXT_EXTENSIONS.test(filename);
          const message = !textLike && (/^message\/(rfc822|global)$/.test(contentType) || /\.eml$/i.test(filename));
          const archive = !textLike && !message && (ARCHIVE_TYPES.test(contentType) || ARCHIVE_EXTENSIONS.test(filename));
          const isPdf = !textLike && !message && !archive && (contentType === 'application/pdf' || /\.pdf$/i.test(filename));
          const { bytes, truncated } = await readBounded(data.content, isPdf ? limits.maxPdfBytes : textLike || archive || message ? limits.maxAttachmentBytes : Math.max(132, 1024));
          if (isPdf) {
            if (truncated) {
              reasons.add(`attachment ${attachments.length + 1} larger than the PDF scan limit`);
            } else {
              const pdf = await pdfText(bytes);
              for (const t of pdf.texts) keep(t);
              for (const r of pdf.reasons) reasons.add(r);
              encrypted ||= pdf.encrypted;
            }
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'pdf' });
          } else if (message) {
            // a forwarded or attached message: walked like the outer one, a few levels deep
            if (truncated) reasons.add(`attachment ${attachments.length + 1} larger than the scan limit`);
            if (depth + 1 >= MAX_MESSAGE_DEPTH) {
              reasons.add('attached messages nested too deep');
            } else {
              const inner = await extractMessage(Readable.from([bytes]), { ...limits, maxTextChars: Math.max(0, limits.maxTextChars - chars) }, depth + 1);
              for (const t of inner.texts) keep(t);
              for (const r of inner.reasons) reasons.add(r);
              encrypted ||= inner.encrypted;
              dicom ||= inner.dicom;
            }
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'message' });
          } else if (archive) {
            if (truncated) reasons.add(`attachment ${attachments.length + 1} larger than the scan limit`);
            const inner = await zipText(bytes);
            for (const t of inner.texts) keep(t);
            for (const r of inner.reasons) reasons.add(r);
            encrypted ||= inner.encrypted;
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'archive' });
          } else if (textLike) {
            if (truncated) reasons.add(`attachment ${attachments.length + 1} larger than the scan limit`);
            const raw = decodeText(bytes, (data.headers.get('content-type') as { params?: { charset?: string } } | undefined)?.params?.charset);
            // HTML as the reader sees it: entities decoded, scripts and styles dropped
            keep(/^text\/html/.test(contentType) || /\.html?$/i.test(filename) ? htmlText(raw, limits.maxTextChars) : raw);
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'text' });
          } else if (isDicom(bytes)) {
            dicom = true;
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'dicom' });
          } else if (CONTAINER_TYPES.test(contentType) || CONTAINER_EXTENSIONS.test(filename)) {
            reasons.add(`no text extractor for ${CONTAINER_EXTENSIONS.exec(filename)?.[1]?.toLowerCase() ?? contentType}`);
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'unsupported' });
          } else {
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'binary' });
          }
        } finally {
          data.release?.();
        }
      })();
      pending.push(work);
    });
    parser.on('error', reject);
    parser.on('end', () => {
      Promise.all(pending).then(
        () => resolve({ subject, visibleRecipients: [...visible], texts, attachments, dicom, encrypted, notFullyScanned: reasons.size > 0, reasons: [...reasons] }),
        reject,
      );
    });
    source.on('error', reject);
    source.pipe(parser);
  });
}
