/**
 * Streaming MIME walk (mailparser): the subject, every text and HTML body
 * (HTML as text), text attachments, nested messages, PDFs, ZIP archives and
 * Office documents, with limits on the text kept and the parts walked. What
 * an attachment is comes from its bytes (sniff.ts), not its name or declared
 * type. Formats without an extractor, binary content of an unknown type and
 * anything cut by a limit set `notFullyScanned`, which policy treats as
 * sensitive (fail closed). Nothing is written anywhere: the text exists only
 * in memory for the detectors.
 */
import { Readable } from 'node:stream';
import { MailParser, type AddressObject, type AttachmentStream, type EmailAddress, type MessageText } from 'mailparser';
import { convert } from 'html-to-text';
import { isContentLines, unfoldContentLines } from './content-lines.js';
import { closingBlankLine } from '../mime/closing-blank-line.js';
import { pdfText } from './pdf-text.js';
import { decodeAs, looksLikeHtml, readSniffed, sniff, SNIFF_BYTES } from './sniff.js';
import { zipText } from './zip-text.js';
import { personalMailbox } from './detect/personal-mailbox.js';

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
  /**
   * The display names of the To header's addresses (at most MAX_READER_NAMES):
   * a letter greeting its reader by first name ("Hi Priya - your allergy
   * shot …") speaks of the person named there. Names of people: never logged.
   */
  readonly readerNames: readonly string[];
  /**
   * The display names of the From header's addresses (at most
   * MAX_READER_NAMES): a message telling its author's own health ("my
   * blood pressure pills …") speaks of the person named there. Names of
   * people: never logged.
   */
  readonly authorNames: readonly string[];
  /**
   * The From address is at a personal mailbox provider (personalMailbox):
   * its author is a patient, a family member or the public, not staff. No
   * name or address is kept.
   */
  readonly personalAuthor: boolean;
  /** Text segments (subject first), for the detectors. */
  readonly texts: readonly string[];
  readonly attachments: readonly AttachmentInfo[];
  readonly dicom: boolean;
  /** An encrypted archive entry or a password-protected document was found. */
  readonly encrypted: boolean;
  readonly notFullyScanned: boolean;
  readonly reasons: readonly string[];
}

/** What of an extraction may leave the inspection: not its texts, nor the names and the author's kind read from its headers. */
export type ExtractedFacts = Omit<Extracted, 'texts' | 'readerNames' | 'authorNames' | 'personalAuthor'>;

/** The extraction without its texts and header names (ExtractedFacts): the one place that decides what inspection passes on. */
export function extractedFacts(extracted: Extracted): ExtractedFacts {
  const { texts: _texts, readerNames: _readers, authorNames: _authors, personalAuthor: _personal, ...facts } = extracted;
  return facts;
}

/** Declared text types and names: HTML among them is read as the reader sees it. */
const HTML = (contentType: string, filename: string): boolean => /^text\/html/.test(contentType) || /\.html?$/i.test(filename);
/** Container names, for the reason of one that cannot be read. */
const CONTAINER_EXTENSIONS = /\.(pdf|docx?|xlsx?|pptx?|zip|7z|rar|gz|tgz|tar|odt|ods|rtf|msg)$/i;
/** Declared types whose bytes carry no document text: images, sound, video, fonts, signatures and encrypted S/MIME or PGP data. */
const BINARY_TYPES = /^(image|audio|video|font)\/|^application\/(x-)?(pkcs7-(signature|mime)|pkcs7-certificates|pgp-(encrypted|signature|keys)|font-)/i;
const BINARY_EXTENSIONS = /\.(png|jpe?g|gif|bmp|tiff?|ico|heic|webp|svg|emf|wmf|mp3|m4a|wav|ogg|flac|aac|mp4|m4v|mov|avi|wmv|mkv|webm|ttf|otf|woff2?|p7s|p7m|p7c|sig|asc|gpg|pgp)$/i;

/**
 * How two renderings of a body compare: the same words in the same order;
 * the same letters and digits with words split elsewhere (mailparser's own
 * text of an HTML-only message runs a table's cells together:
 * "PatientDOBMaria Santos03/02/1971"); or different.
 */
export function compareRenderings(a: string, b: string): 'same-words' | 'same-characters' | 'different' {
  const words = (t: string): string => t.replace(/[^\p{L}\p{N}]+/gu, ' ').trim().toLowerCase();
  const wa = words(a);
  const wb = words(b);
  if (wa === wb) return 'same-words';
  return wa.replace(/ /g, '') === wb.replace(/ /g, '') ? 'same-characters' : 'different';
}

/** The text of an HTML document as a reader sees it (html-to-text: entities decoded, script and style dropped, no link targets). */
export function htmlText(html: string, maxChars: number): string {
  return convert(html, {
    wordwrap: false,
    limits: { maxInputLength: maxChars },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      // a table as rows of tab-separated cells, so its header row labels its columns (src/inspect/detect/tables.ts)
      { selector: 'table', format: 'block' },
      { selector: 'tr', format: 'tableRowLine' },
      { selector: 'td', format: 'tableCellTab' },
      { selector: 'th', format: 'tableCellTab' },
    ],
    formatters: {
      tableRowLine: (elem, walk, builder) => {
        builder.openBlock({ leadingLineBreaks: 1 });
        walk(elem.children, builder);
        builder.closeBlock({ trailingLineBreaks: 1 });
      },
      tableCellTab: (elem, walk, builder) => {
        walk(elem.children, builder);
        builder.addLiteral('\t');
      },
    },
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
/** Display names kept from the To header, and the longest kept. */
const MAX_READER_NAMES = 10;
const MAX_READER_NAME = 100;

function collectNames(list: readonly EmailAddress[], into: string[]): void {
  for (const a of list) {
    if (into.length >= MAX_READER_NAMES) return;
    const name = a.name.trim();
    if (name && name.length <= MAX_READER_NAME) into.push(name);
    if (a.group) collectNames(a.group, into);
  }
}

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
  const readerNames: string[] = [];
  const authorNames: string[] = [];
  let personalAuthor = false;
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
      const from = headers.get('from') as AddressObject | undefined;
      if (from) {
        collectNames(from.value, authorNames);
        personalAuthor = from.value.some((a) => a.address !== undefined && personalMailbox(a.address));
      }
      for (const name of ['to', 'cc']) {
        const value = headers.get(name) as AddressObject | AddressObject[] | undefined;
        for (const obj of Array.isArray(value) ? value : value ? [value] : []) {
          collectAddresses(obj.value, visible);
          if (name === 'to') collectNames(obj.value, readerNames);
        }
      }
    });
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') {
        // the HTML alternative is what most clients show: read it too unless it says the same as the plain text. A
        // plain text with the same characters but words run together (mailparser's rendering of an HTML-only body,
        // a table's cells glued) is left out: the HTML's cells stay apart, and its sign-off would make the HTML's
        // first lines after it a signature
        const html = typeof data.html === 'string' ? htmlText(data.html, limits.maxTextChars) : undefined;
        const same = html !== undefined && data.text ? compareRenderings(html, data.text) : 'different';
        if (data.text && same !== 'same-characters') keep(data.text);
        if (html !== undefined && (!data.text || same !== 'same-words')) keep(html);
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
          // the bytes decide what a part is, not its name or declared type (export.dat, an HL7 file
          // sent as application/octet-stream, a PDF sent as text/plain); a declared message is walked as one
          const message = /^message\/(rfc822|global)$/.test(contentType) || /\.eml$/i.test(filename);
          const declaredPdf = contentType === 'application/pdf' || /\.pdf$/i.test(filename);
          const { bytes, truncated } = await readSniffed(
            data.content,
            (head) => {
              if (message) return limits.maxAttachmentBytes;
              const k = sniff(head).kind;
              if (k === 'pdf' || (k === 'unknown-binary' && declaredPdf)) return limits.maxPdfBytes;
              return k === 'archive' || k === 'text' ? limits.maxAttachmentBytes : head.length;
            },
            false,
          );
          const sniffed = sniff(bytes.subarray(0, SNIFF_BYTES));
          const kind = message ? 'message' : sniffed.kind === 'unknown-binary' && declaredPdf ? 'pdf' : sniffed.kind;
          const isPdf = kind === 'pdf';
          const archive = kind === 'archive';
          const textLike = kind === 'text';
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
            dicom ||= inner.dicom;
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'archive' });
          } else if (textLike) {
            if (truncated) reasons.add(`attachment ${attachments.length + 1} larger than the scan limit`);
            const charset = (data.headers.get('content-type') as { params?: { charset?: string } } | undefined)?.params?.charset;
            const encoding = sniffed.kind === 'text' ? sniffed.encoding : 'utf-8';
            // a byte-order mark or the declared charset first; UTF-16 without a mark and 8-bit text as sniffed
            const raw = /^utf-16/.test(encoding) || (encoding === 'windows-1252' && !charset) ? decodeAs(bytes, encoding) : decodeText(bytes, charset);
            // HTML as the reader sees it: entities decoded, scripts and styles dropped; a calendar's or a contact card's lines unfolded
            keep(HTML(contentType, filename) || looksLikeHtml(raw) ? htmlText(raw, limits.maxTextChars) : isContentLines(contentType, filename, raw) ? unfoldContentLines(raw) : raw);
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'text' });
          } else if (kind === 'dicom') {
            dicom = true;
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'dicom' });
          } else if (kind === 'media' || (kind === 'unknown-binary' && (BINARY_TYPES.test(contentType) || BINARY_EXTENSIONS.test(filename)))) {
            // images, sound, video, signatures: no text to scan, not a gap
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'binary' });
          } else {
            // a container nothing here reads (legacy Office, RTF, 7z …) or binary content of an unknown
            // type, whatever its name or declared type said: not fully scanned (fail closed)
            const label = CONTAINER_EXTENSIONS.exec(filename)?.[1]?.toLowerCase() ?? (sniffed.kind === 'unreadable' ? sniffed.label : contentType);
            reasons.add(`no text extractor for ${label}`);
            attachments.push({ filename, contentType, size: data.size ?? bytes.length, handling: 'unsupported' });
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
        () => resolve({ subject, visibleRecipients: [...visible], readerNames, authorNames, personalAuthor, texts, attachments, dicom, encrypted, notFullyScanned: reasons.size > 0, reasons: [...reasons] }),
        reject,
      );
    });
    source.on('error', reject);
    // mailparser hangs when the input stops inside an inline attached message's headers: see src/mime/closing-blank-line.ts
    source.pipe(closingBlankLine()).pipe(parser);
  });
}
