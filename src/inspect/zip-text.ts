/**
 * Text from ZIP archives and the Office formats built on them (DOCX, XLSX,
 * PPTX, OpenDocument; their parts read as the reader sees them by
 * office-text.ts), with yauzl: entries are read one at a time, recursively into nested
 * archives, within limits on depth, entry count, total expanded size and
 * expansion ratio — a zip bomb ends the walk with a flag, not a crash or an
 * exhausted heap. Encrypted entries are flagged (their content cannot be
 * inspected).
 */
import yauzl from 'yauzl';
import { pdfText } from './pdf-text.js';
import { decodeAs, looksLikeHtml, readSniffed, sniff, SNIFF_BYTES } from './sniff.js';
import { officeXmlText, sharedStrings, sheetText, xmlText, type OfficePartKind } from './office-text.js';

export interface ZipLimits {
  readonly maxDepth: number;
  readonly maxEntries: number;
  /** Expanded bytes read from all entries together. */
  readonly maxTotalBytes: number;
  /** Expanded bytes read from one entry. */
  readonly maxEntryBytes: number;
  /** Largest allowed uncompressed/compressed ratio of an entry. */
  readonly maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxDepth: 3, maxEntries: 1000, maxTotalBytes: 100 * 1024 * 1024, maxEntryBytes: 20 * 1024 * 1024, maxRatio: 200 };

export interface ZipText {
  readonly texts: string[];
  readonly reasons: string[];
  encrypted: boolean;
  /** A DICOM file was found among the entries. */
  dicom: boolean;
}

/** Entries that are images, sound, video or fonts by name: not read. */
const MEDIA_ENTRY = /\.(png|jpe?g|gif|bmp|tiff?|ico|heic|webp|emf|wmf|mp3|m4a|wav|ogg|flac|mp4|m4v|mov|avi|wmv|mkv|webm|ttf|otf|odttf|woff2?)$/i;
/** Operating-system litter in archives (macOS resource forks, Finder and Explorer caches): not content. */
const LITTER_ENTRY = /(^|\/)(__MACOSX\/|\.DS_Store$|Thumbs\.db$)/i;

/**
 * How an Office package's part is read, by its name: the parts that carry
 * what the reader sees (body, headers, footers, notes, comments, slides,
 * cells, document properties). Other parts of a package (styles, settings,
 * relationships, themes) are structure, not read.
 */
export function officePart(name: string): OfficePartKind | 'structure' | undefined {
  if (/^word\/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml$/i.test(name)) return 'ooxml';
  if (/^ppt\/(slides\/slide\d+|notesSlides\/notesSlide\d+)\.xml$/i.test(name)) return 'ooxml';
  if (/^xl\/comments\d*\.xml$/i.test(name)) return 'ooxml';
  if (/^xl\/sharedStrings\.xml$/i.test(name)) return 'shared-strings';
  if (/^xl\/worksheets\/sheet\d+\.xml$/i.test(name)) return 'sheet';
  if (/^(docProps\/core|meta)\.xml$/i.test(name)) return 'properties';
  if (/^(content|styles)\.xml$/i.test(name)) return 'odf';
  if (/^customXml\/item\d+\.xml$/i.test(name)) return 'xml';
  // embedded objects (a spreadsheet in a Word document …) are files of their own: their bytes decide
  if (/^(word|xl|ppt)\/embeddings\//i.test(name)) return undefined;
  if (/^(word|xl|ppt|docProps|customXml|_rels|META-INF|Thumbnails|Configurations2)\/|^\[Content_Types\]\.xml$|\.rels$|^(settings|manifest\.rdf|mimetype)$|^settings\.xml$/i.test(name)) return 'structure';
  return undefined;
}

/** The text of one Office part (see office-text.ts); an OpenDocument-named part that is not OpenDocument is read as plain text. */
function partText(text: string, kind: Exclude<OfficePartKind, 'sheet' | 'shared-strings'>): string {
  if (kind === 'odf' && !/urn:oasis:names:tc:opendocument|<office:document/.test(text.slice(0, 4096))) return text;
  return officeXmlText(text, kind);
}

export { xmlText };

function open(buffer: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => (err || !zip ? reject(err ?? new Error('not a zip')) : resolve(zip)));
  });
}

/** An entry's bytes: the first ones first, then as much as `decide` allows for what they show. */
function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, decide: (head: Buffer) => number): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      readSniffed(stream as AsyncIterable<Buffer>, decide, true).then(resolve, reject);
    });
  });
}

export async function zipText(buffer: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS, depth = 0, budget = { bytes: 0, entries: 0 }): Promise<ZipText> {
  const out: ZipText = { texts: [], reasons: [], encrypted: false, dicom: false };
  if (depth >= limits.maxDepth) {
    out.reasons.push('archive nesting too deep');
    return out;
  }
  let zip: yauzl.ZipFile;
  try {
    zip = await open(buffer);
  } catch {
    out.reasons.push('archive could not be read');
    return out;
  }
  // an XLSX's worksheets show shared strings by their index: read at the end, whatever the entry order
  const sheets: Buffer[] = [];
  const strings: string[] = [];
  try {
    for (;;) {
      let entry: yauzl.Entry | undefined;
      try {
        entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
          zip.once('entry', resolve);
          zip.once('end', () => resolve(undefined));
          zip.once('error', reject);
          zip.readEntry();
        });
      } catch {
        out.reasons.push('archive could not be read completely');
        break;
      }
      zip.removeAllListeners('entry');
      zip.removeAllListeners('end');
      zip.removeAllListeners('error');
      if (!entry) break;
      if (entry.fileName.endsWith('/')) continue;
      if (++budget.entries > limits.maxEntries) {
        out.reasons.push('too many archive entries');
        break;
      }
      out.texts.push(entry.fileName);
      // bit 0 of the general purpose flags: the entry is encrypted
      if ((entry.generalPurposeBitFlag & 0x1) !== 0) {
        out.encrypted = true;
        out.reasons.push('encrypted archive entry');
        continue;
      }
      const ratio = entry.compressedSize > 0 ? entry.uncompressedSize / entry.compressedSize : entry.uncompressedSize > 0 ? Infinity : 1;
      if (ratio > limits.maxRatio || budget.bytes + entry.uncompressedSize > limits.maxTotalBytes) {
        out.reasons.push('archive expands beyond the limits (possible zip bomb)');
        break;
      }
      const part = officePart(entry.fileName);
      if (part === 'structure' || LITTER_ENTRY.test(entry.fileName)) continue;
      if (part === undefined && MEDIA_ENTRY.test(entry.fileName)) continue;
      // any other entry, whatever its name (CCD_export.dat, no extension, .ccd): its bytes decide
      const max = Math.min(limits.maxEntryBytes, limits.maxTotalBytes - budget.bytes);
      let read;
      try {
        read = await readEntry(zip, entry, (head) => {
          if (part) return max;
          const k = sniff(head).kind;
          return k === 'archive' || k === 'text' || k === 'pdf' ? max : Math.min(head.length, max);
        });
      } catch {
        out.reasons.push('archive entry could not be read');
        continue;
      }
      const { bytes } = read;
      budget.bytes += bytes.length;
      const sniffed = part ? undefined : sniff(bytes.subarray(0, SNIFF_BYTES));
      const readsWhole = part !== undefined || sniffed?.kind === 'archive' || sniffed?.kind === 'text' || sniffed?.kind === 'pdf';
      if (read.truncated && readsWhole) out.reasons.push('archive entry larger than the scan limit');
      if (part === 'sheet') {
        sheets.push(bytes);
      } else if (part === 'shared-strings') {
        strings.push(...sharedStrings(bytes.toString('utf8')));
      } else if (part) {
        out.texts.push(partText(bytes.toString('utf8'), part));
      } else if (sniffed?.kind === 'archive') {
        const inner = await zipText(bytes, limits, depth + 1, budget);
        out.texts.push(...inner.texts);
        out.reasons.push(...inner.reasons);
        out.encrypted ||= inner.encrypted;
        out.dicom ||= inner.dicom;
      } else if (sniffed?.kind === 'pdf') {
        if (!read.truncated) {
          const pdf = await pdfText(bytes);
          out.texts.push(...pdf.texts);
          out.reasons.push(...pdf.reasons);
          out.encrypted ||= pdf.encrypted;
        }
      } else if (sniffed?.kind === 'text') {
        // any text file, XML included, as it is (as a text attachment is: a C-CDA or FHIR
        // document keeps the markup the clinical-format detector recognises); HTML as text
        const text = decodeAs(bytes, sniffed.encoding);
        out.texts.push(/\.html?$/i.test(entry.fileName) || looksLikeHtml(text) ? xmlText(text) : text);
      } else if (sniffed?.kind === 'dicom') {
        out.dicom = true;
      } else if (sniffed?.kind === 'unreadable') {
        out.reasons.push(`no text extractor for ${sniffed.label} (in an archive)`);
      } else if (sniffed?.kind === 'unknown-binary') {
        out.reasons.push('archive entry in a format without a text extractor');
      }
    }
    const used = new Set<number>();
    for (const sheet of sheets) out.texts.push(sheetText(sheet.toString('utf8'), strings, used));
    // strings no cell shows are still in the file
    const unused = strings.filter((_, i) => !used.has(i));
    if (unused.length > 0) out.texts.push(unused.join('\n'));
  } finally {
    zip.close();
  }
  return out;
}
