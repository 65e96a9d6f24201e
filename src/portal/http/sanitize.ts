/**
 * The message's HTML body made safe to put into a portal page (pure).
 *
 * An allowlist (sanitize-html), not a blocklist: only text-formatting tags,
 * lists, tables, links and images survive, and of their attributes only a
 * few harmless ones. Everything that can run code, load something or
 * change the page is dropped:
 *   - no <script>, <style>, <link>, <meta>, <base>, <form>/<input>, <iframe>,
 *     <object>/<embed>, <svg>, <math>, <template> (their content goes too);
 *   - no event handler attributes, no `style` attributes, no `class`/`id`
 *     (so a message cannot borrow the page's own styles), no `background`,
 *     `srcset` or other URL attributes but `href` and `src`;
 *   - links only to http, https and mailto URLs, checked after the URL
 *     parser's own normalisation (so `java&#x09;script:` is caught), and
 *     opened in a new tab with rel="noopener noreferrer";
 *   - images: `cid:` parts of the message come back as data: URIs of
 *     raster types only (from `inlineImage`); data: URIs of PNG, JPEG, GIF
 *     and WebP stay; `https:` images only when the reader asked for them,
 *     otherwise they become their alternative text and are counted; any
 *     other source (http, relative, SVG data) becomes the alternative text.
 * The page's CSP forbids inline scripts and styles anyway; this is the
 * first of the two layers.
 */
import sanitizeHtml from 'sanitize-html';

export interface SanitizeOptions {
  /** The reader chose "Show images": keep https images. */
  readonly showRemoteImages: boolean;
  /** A data: URI for the message part with this Content-ID (raster images only), or undefined. */
  readonly inlineImage: (cid: string) => string | undefined;
  /** The text shown instead of an image that is not loaded. */
  readonly placeholder: (alt: string) => string;
}

export interface SanitizedHtml {
  readonly html: string;
  /** https images not loaded (0 when they are shown): what "Show images" would add. */
  readonly blockedImages: number;
  /** Content-IDs shown inline (those parts need not be listed as attachments). */
  readonly usedCids: ReadonlySet<string>;
}

const ALLOWED_TAGS = [
  'a', 'abbr', 'acronym', 'address', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code',
  'col', 'colgroup', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'font', 'h1', 'h2',
  'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'samp', 'small',
  'span', 'strike', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr',
  'tt', 'u', 'ul', 'var', 'wbr',
];

/** Dropped with everything inside them (the rest of the disallowed tags keep their text). */
const NON_TEXT_TAGS = [
  'script', 'style', 'textarea', 'option', 'select', 'noscript', 'title', 'head', 'template', 'svg', 'math', 'iframe',
  'frame', 'frameset', 'object', 'embed', 'applet', 'xmp', 'noembed', 'noframes', 'plaintext', 'video', 'audio',
  'canvas', 'button', 'datalist', 'map',
];

const CELL = ['colspan', 'rowspan', 'align', 'valign', 'width', 'height'];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  a: ['href', 'title', 'target', 'rel'],
  img: ['src', 'alt', 'title', 'width', 'height'],
  td: CELL,
  th: [...CELL, 'scope'],
  table: ['width', 'align', 'summary'],
  col: ['span', 'width'],
  colgroup: ['span', 'width'],
  ol: ['start', 'type', 'reversed'],
  li: ['value'],
  div: ['align'],
  p: ['align'],
  blockquote: ['cite'],
  q: ['cite'],
  time: ['datetime'],
  '*': ['dir', 'lang', 'title'],
};

const RASTER_DATA_URI = /^data:image\/(?:png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=\s]+$/i;
const RASTER_DATA_PREFIX = /^data:image\/(?:png|jpeg|gif|webp);base64,/;
/** Longest HTML body sanitised; a longer one is shown as text. */
export const MAX_HTML_CHARS = 8 * 1024 * 1024;
/** Class of the text that stands in for an image not loaded. */
export const PLACEHOLDER_CLASS = 'sg-image';
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The href to keep, or undefined: only absolute http(s) and mailto URLs, as the URL parser reads them. */
export function safeHref(href: string | undefined): string | undefined {
  if (href === undefined) return undefined;
  const trimmed = href.trim();
  if (trimmed === '' || trimmed.length > 4096) return undefined;
  try {
    const url = new URL(trimmed);
    if (!LINK_PROTOCOLS.has(url.protocol)) return undefined;
    if (url.protocol !== 'mailto:' && (url.username || url.password)) return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

type ImageSource = { kind: 'keep'; src: string } | { kind: 'remote'; src: string } | { kind: 'drop' };

function classifyImage(src: string | undefined, inlineImage: (cid: string) => string | undefined, usedCids: Set<string>): ImageSource {
  const s = (src ?? '').trim();
  if (/^cid:/i.test(s)) {
    const cid = s.slice(4).replace(/^<|>$/g, '');
    const data = inlineImage(cid);
    if (data !== undefined && RASTER_DATA_PREFIX.test(data)) {
      usedCids.add(cid);
      return { kind: 'keep', src: data };
    }
    return { kind: 'drop' };
  }
  if (/^data:/i.test(s)) return s.length <= 16 * 1024 * 1024 && RASTER_DATA_URI.test(s) ? { kind: 'keep', src: s } : { kind: 'drop' };
  try {
    const url = new URL(s);
    if (url.protocol === 'https:' && !url.username && !url.password) return { kind: 'remote', src: url.href };
  } catch {
    // not an absolute URL: relative sources would load from the portal itself
  }
  return { kind: 'drop' };
}

export function sanitizeMessageHtml(html: string, options: SanitizeOptions): SanitizedHtml {
  let blockedImages = 0;
  const usedCids = new Set<string>();
  const out = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    // only the placeholder's own class (a message using it just gets that look)
    allowedClasses: { span: [PLACEHOLDER_CLASS] },
    allowedStyles: {},
    parseStyleAttributes: false,
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    allowVulnerableTags: false,
    disallowedTagsMode: 'discard',
    nonTextTags: NON_TEXT_TAGS,
    enforceHtmlBoundary: false,
    nestingLimit: 200,
    transformTags: {
      a: (_tag, attribs) => {
        const href = safeHref(attribs.href);
        const out: Record<string, string> = {};
        if (attribs.title !== undefined) out.title = attribs.title;
        if (href !== undefined) {
          out.href = href;
          out.target = '_blank';
          out.rel = 'noopener noreferrer';
        }
        return { tagName: 'a', attribs: out };
      },
      img: (_tag, attribs) => {
        const source = classifyImage(attribs.src, options.inlineImage, usedCids);
        const alt = (attribs.alt ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
        if (source.kind === 'keep' || (source.kind === 'remote' && options.showRemoteImages)) {
          const kept: Record<string, string> = { src: source.src, alt };
          for (const a of ['title', 'width', 'height'] as const) if (attribs[a] !== undefined) kept[a] = attribs[a];
          return { tagName: 'img', attribs: kept };
        }
        if (source.kind === 'remote') blockedImages++;
        return { tagName: 'span', attribs: { class: PLACEHOLDER_CLASS }, text: options.placeholder(alt) };
      },
    },
  });
  return { html: out, blockedImages, usedCids };
}
