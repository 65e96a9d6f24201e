/**
 * Text from ZIP archives and the Office formats built on them (DOCX, XLSX,
 * PPTX), with yauzl: entries are read one at a time, recursively into nested
 * archives, within limits on depth, entry count, total expanded size and
 * expansion ratio — a zip bomb ends the walk with a flag, not a crash or an
 * exhausted heap. Encrypted entries are flagged (their content cannot be
 * inspected).
 */
import yauzl from 'yauzl';

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
}

const TEXT_ENTRY = /\.(txt|csv|tsv|json|xml|hl7|x12|edi|htm|html|md|log|rels)$/i;
const ARCHIVE_ENTRY = /\.(zip|docx|xlsx|pptx|odt|ods|odp)$/i;
/** Office XML parts that carry the document's text. */
const OFFICE_TEXT_PART = /^(word\/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml|xl\/(sharedStrings|worksheets\/sheet\d+|comments\d*)\.xml|ppt\/(slides\/slide\d+|notesSlides\/notesSlide\d+)\.xml|content\.xml|docProps\/core\.xml)$/i;

/** XML to text: tags become spaces, entities decoded. */
export function xmlText(xml: string): string {
  return xml
    .replace(/<\/(w:p|a:p|text:p|row|si)>/g, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&')
    .replace(/[ \t]{2,}/g, ' ');
}

function open(buffer: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => (err || !zip ? reject(err ?? new Error('not a zip')) : resolve(zip)));
  });
}

function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > max) {
          stream.destroy();
          resolve({ bytes: Buffer.concat(chunks), truncated: true });
          return;
        }
        chunks.push(c);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve({ bytes: Buffer.concat(chunks), truncated: false }));
    });
  });
}

export async function zipText(buffer: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS, depth = 0, budget = { bytes: 0, entries: 0 }): Promise<ZipText> {
  const out: ZipText = { texts: [], reasons: [], encrypted: false };
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
      const isText = TEXT_ENTRY.test(entry.fileName) || OFFICE_TEXT_PART.test(entry.fileName);
      const isArchive = ARCHIVE_ENTRY.test(entry.fileName);
      if (!isText && !isArchive) continue;
      let read;
      try {
        read = await readEntry(zip, entry, Math.min(limits.maxEntryBytes, limits.maxTotalBytes - budget.bytes));
      } catch {
        out.reasons.push('archive entry could not be read');
        continue;
      }
      const { bytes, truncated } = read;
      budget.bytes += bytes.length;
      if (truncated) out.reasons.push('archive entry larger than the scan limit');
      if (isArchive) {
        const inner = await zipText(bytes, limits, depth + 1, budget);
        out.texts.push(...inner.texts);
        out.reasons.push(...inner.reasons);
        out.encrypted ||= inner.encrypted;
      } else {
        const text = bytes.toString('utf8');
        out.texts.push(/\.xml$|\.rels$|\.html?$/i.test(entry.fileName) ? xmlText(text) : text);
      }
    }
  } finally {
    zip.close();
  }
  return out;
}
