/**
 * The stored MIME turned into what a message page shows: sender, the
 * recipients this reader may see, subject, date, the body as sanitised HTML
 * (or plain text), and the attachments (index, name, type, size).
 *
 * Bounded: the decrypted message is read only up to `maxBytes` (more is an
 * error before parsing starts); the HTML body is sanitised only up to
 * MAX_HTML_CHARS (beyond, the text version is shown); inline images are
 * embedded only up to a total size; at most MAX_LISTED recipients per
 * field are shown.
 *
 * Who is shown: the To and Cc of the message (never a Bcc header) to a
 * recipient who got it visibly; a recipient who got it as a blind copy
 * sees only their own address, like the portal store's rule
 * (PortalStore.recipientsVisibleTo).
 */
import type { Readable } from 'node:stream';
import { type AddressObject, type Attachment, type ParsedMail, simpleParser } from 'mailparser';
import { withClosingBlankLine } from '../../mime/closing-blank-line.js';
import { sanitizeLine } from '../notification.js';
import type { PortalRecipient } from '../portal-store.js';
import { readBounded as readWithin } from '../../stream/read-bounded.js';
import { safeContentType, safeFilename } from './format.js';
import { MAX_HTML_CHARS, sanitizeMessageHtml } from './sanitize.js';

export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
}

/** Reads a stream up to `maxBytes`; more rejects with MessageTooLargeError (and destroys the stream). */
export async function readBounded(stream: Readable, maxBytes: number): Promise<Buffer> {
  const bytes = await readWithin(stream, maxBytes);
  if (!bytes) throw new MessageTooLargeError('message is larger than the portal shows');
  return bytes;
}

/**
 * Parses the MIME (attachments in memory: the caller bounded the size). cid:
 * links stay, so this module decides what to embed. Closed with a blank line,
 * as the MIME walk does: mailparser hangs on bytes that stop inside an inline
 * attached message's headers (src/mime/closing-blank-line.ts).
 */
export function parseMessage(source: Buffer): Promise<ParsedMail> {
  return simpleParser(withClosingBlankLine(source), {
    keepCidLinks: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
  });
}

export interface ShownAttachment {
  /** Index into the message's attachments: the download route's :n. */
  readonly index: number;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

export interface RenderedMessage {
  readonly from: string[];
  readonly to: string[];
  /** More To addresses than shown. */
  readonly toMore: number;
  readonly cc: string[];
  readonly ccMore: number;
  /** The reader got it as a blind copy (To shows only them). */
  readonly blindCopy: boolean;
  readonly subject: string;
  /** ms since the epoch, from the Date header. */
  readonly date: number | undefined;
  /** Sanitised HTML, or undefined when the message is shown as text. */
  readonly bodyHtml: string | undefined;
  /** The text/plain body (when there is no HTML one, or it is too large). */
  readonly bodyText: string | undefined;
  /** The HTML body was too large and the text is shown instead. */
  readonly htmlTooLarge: boolean;
  readonly blockedImages: number;
  readonly attachments: ShownAttachment[];
}

export interface RenderOptions {
  /** The reader: their address and whether they got the message as a blind copy. */
  readonly viewer: PortalRecipient;
  /** PortalStore.recipientsVisibleTo(deposit, viewer): for a blind copy, only the viewer. */
  readonly visible: readonly PortalRecipient[];
  readonly showRemoteImages: boolean;
  readonly placeholder: (alt: string) => string;
}

/** Most addresses shown per field. */
export const MAX_LISTED = 50;
/** Inline (cid:) images embedded in a page, in total. */
export const MAX_INLINE_BYTES = 10 * 1024 * 1024;
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  if (!field) return [];
  const out: string[] = [];
  const visit = (list: AddressObject['value']): void => {
    for (const a of list) {
      if (a.group) visit(a.group);
      else {
        const address = sanitizeLine(a.address ?? '', 254);
        const name = sanitizeLine(a.name ?? '', 100);
        if (address || name) out.push(name && address ? `${name} <${address}>` : address || name);
      }
    }
  };
  for (const obj of Array.isArray(field) ? field : [field]) visit(obj.value);
  return out;
}

function cidOf(a: Attachment): string | undefined {
  const raw = a.cid ?? a.contentId;
  return raw ? raw.trim().replace(/^<|>$/g, '') : undefined;
}

export function renderMessage(parsed: ParsedMail, options: RenderOptions): RenderedMessage {
  const to = addresses(parsed.to);
  const cc = addresses(parsed.cc);
  const blindCopy = options.viewer.bcc;
  // a blind copy sees only what the store lets it see (itself), never the To/Cc of the others
  const shownTo = blindCopy ? options.visible.slice(0, MAX_LISTED).map((r) => sanitizeLine(r.address, 254)) : to.slice(0, MAX_LISTED);
  const shownCc = blindCopy ? [] : cc.slice(0, MAX_LISTED);

  let inlineBudget = MAX_INLINE_BYTES;
  const inlineImage = (cid: string): string | undefined => {
    const part = parsed.attachments.find((a) => cidOf(a) === cid);
    if (!part) return undefined;
    const type = safeContentType(part.contentType);
    if (!INLINE_TYPES.has(type) || part.content.length > inlineBudget) return undefined;
    inlineBudget -= part.content.length;
    return `data:${type};base64,${part.content.toString('base64')}`;
  };

  let bodyHtml: string | undefined;
  let blockedImages = 0;
  let usedCids: ReadonlySet<string> = new Set();
  const html = typeof parsed.html === 'string' ? parsed.html : undefined;
  const htmlTooLarge = html !== undefined && html.length > MAX_HTML_CHARS;
  if (html !== undefined && !htmlTooLarge) {
    const clean = sanitizeMessageHtml(html, { showRemoteImages: options.showRemoteImages, inlineImage, placeholder: options.placeholder });
    bodyHtml = clean.html;
    blockedImages = clean.blockedImages;
    usedCids = clean.usedCids;
  }
  const text = parsed.text ?? undefined;

  const attachments: ShownAttachment[] = [];
  parsed.attachments.forEach((a, index) => {
    const cid = cidOf(a);
    if (cid !== undefined && usedCids.has(cid)) return; // shown in the body
    attachments.push({ index, filename: safeFilename(a.filename, index), contentType: safeContentType(a.contentType), size: a.size ?? a.content.length });
  });

  const date = parsed.date instanceof Date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.getTime() : undefined;
  return {
    from: addresses(parsed.from).slice(0, MAX_LISTED),
    to: shownTo,
    toMore: blindCopy ? 0 : Math.max(0, to.length - MAX_LISTED),
    cc: shownCc,
    ccMore: blindCopy ? 0 : Math.max(0, cc.length - MAX_LISTED),
    blindCopy,
    subject: sanitizeLine(parsed.subject ?? '', 500),
    date,
    bodyHtml,
    bodyText: bodyHtml === undefined ? text : undefined,
    htmlTooLarge,
    blockedImages,
    attachments,
  };
}

/** The attachment at `index` (the download route), or undefined. */
export function attachmentAt(parsed: ParsedMail, index: number): { filename: string; contentType: string; content: Buffer } | undefined {
  const a = Number.isSafeInteger(index) && index >= 0 ? parsed.attachments[index] : undefined;
  if (!a) return undefined;
  return { filename: safeFilename(a.filename, index), contentType: safeContentType(a.contentType), content: a.content };
}
