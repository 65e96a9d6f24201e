/**
 * Text of a PDF attachment for the detectors, with pdfjs-dist (Mozilla's
 * PDF.js, legacy build for Node). Script evaluation and font loading are
 * off; pages and characters are bounded. Whatever cannot be read is reported
 * as a reason, and the message then counts as not fully scanned (fail
 * closed): a password-protected PDF, one pdf.js cannot parse, one cut by a
 * limit, and one whose pages carry no text at all (a scan: the words are in
 * an image no detector can read).
 *
 * It runs where inspection runs: normally in an inspection thread, whose
 * time and heap limits bound a hostile PDF (docs/dlp.md).
 */

export interface PdfLimits {
  readonly maxPages: number;
  readonly maxChars: number;
}

export const DEFAULT_PDF_LIMITS: PdfLimits = { maxPages: 1000, maxChars: 2_000_000 };

export interface PdfText {
  readonly texts: string[];
  readonly encrypted: boolean;
  readonly reasons: string[];
}

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let loading: Promise<PdfJs> | undefined;

function pdfjs(): Promise<PdfJs> {
  loading ??= loadKeepingNativeBuiltins();
  return loading;
}

/**
 * Built-ins the legacy build's core-js polyfills replace in Node 20 although
 * V8's own are correct for everything here. Left replaced, every
 * `Array.prototype.push` in the process (the detectors push per match) runs
 * core-js's JavaScript version after the first PDF: about a tenth of the
 * inspection time on 1 MB of mail.
 */
const NATIVE_BUILTINS: readonly (readonly [object, string])[] = [
  [Array.prototype, 'push'],
  [JSON, 'parse'],
  [JSON, 'stringify'],
  [Function.prototype, 'toString'],
];

/**
 * Loads pdf.js and, now rather than at the first document, its worker (in
 * Node the "worker" runs in this thread: pdf.js takes the module from
 * `globalThis.pdfjsWorker`), then puts back the built-ins both replaced.
 */
async function loadKeepingNativeBuiltins(): Promise<PdfJs> {
  const saved = NATIVE_BUILTINS.map(([owner, key]) => Reflect.get(owner, key) as unknown);
  try {
    const lib = await import('pdfjs-dist/legacy/build/pdf.mjs');
    // no type declarations ship for the worker module: its specifier is a plain string
    const workerModule: string = 'pdfjs-dist/legacy/build/pdf.worker.mjs';
    const scope = globalThis as { pdfjsWorker?: unknown };
    scope.pdfjsWorker ??= (await import(workerModule)) as unknown;
    return lib;
  } finally {
    NATIVE_BUILTINS.forEach(([owner, key], i) => Reflect.set(owner, key, saved[i]));
  }
}

interface PlacedText {
  readonly str: string;
  readonly hasEOL: boolean;
  readonly transform: readonly number[];
  readonly width: number;
}

/** A run's size on the page (its font size, from its transform), 10 when the transform says none. */
function sizeOf(t: PlacedText): number {
  return Math.abs(t.transform[3] ?? 0) || Math.abs(t.transform[0] ?? 0) || 10;
}

/**
 * Whether a page's runs were drawn out of reading order: a later run stands
 * higher on the page than the one before by more than a line (a form's
 * values drawn over its labels after them, as fax and e-form software does).
 */
function drawnOutOfOrder(runs: readonly PlacedText[]): boolean {
  for (let i = 1; i < runs.length; i++) {
    const prev = runs[i - 1] as PlacedText;
    const t = runs[i] as PlacedText;
    if ((t.transform[5] ?? 0) - (prev.transform[5] ?? 0) > sizeOf(prev) * 1.5) return true;
  }
  return false;
}

/**
 * The runs in reading order by where they stand: top to bottom, lines
 * grouped by a baseline within half a run's size, left to right on a line;
 * each line's last run ends it.
 */
function byPosition(runs: readonly PlacedText[]): PlacedText[] {
  const sorted = [...runs].sort((a, b) => (b.transform[5] ?? 0) - (a.transform[5] ?? 0));
  const lines: PlacedText[][] = [];
  for (const t of sorted) {
    const line = lines[lines.length - 1];
    const first = line?.[0];
    if (line && first && Math.abs((first.transform[5] ?? 0) - (t.transform[5] ?? 0)) < sizeOf(first) * 0.5) line.push(t);
    else lines.push([t]);
  }
  return lines.flatMap((line) => line.sort((a, b) => (a.transform[4] ?? 0) - (b.transform[4] ?? 0)).map((t, i) => ({ ...t, hasEOL: i === line.length - 1 })));
}

/**
 * A page's text as its reader sees the layout: items on one line joined by
 * a space, or by a tab where a wide gap separates them (a table's columns,
 * so its header labels them: src/inspect/detect/tables.ts); a new line
 * where the text does. A page drawn out of reading order (drawnOutOfOrder)
 * is read by position instead (byPosition), so a form's value stands on its
 * label's line.
 */
function pageText(all: readonly (PlacedText | object)[]): string {
  const placed = all.filter((item): item is PlacedText => 'str' in item);
  const runs = placed.filter((t) => t.str.trim() !== '');
  const items = drawnOutOfOrder(runs) ? byPosition(runs) : placed;
  let out = '';
  let prev: PlacedText | undefined;
  for (const t of items) {
    // pdf.js fills the gaps between runs with whitespace items: the gap is measured between the words
    if (t.str.trim() === '') {
      if (t.hasEOL && prev && !prev.hasEOL) {
        out += '\n';
        prev = t;
      }
      continue;
    }
    if (prev && !prev.hasEOL) {
      const sameLine = Math.abs((t.transform[5] ?? 0) - (prev.transform[5] ?? 0)) < 1;
      const gap = (t.transform[4] ?? 0) - ((prev.transform[4] ?? 0) + prev.width);
      const size = Math.abs(prev.transform[0] ?? 0) || 10;
      out += sameLine && gap > size * 1.5 ? '\t' : ' ';
    }
    out += t.str;
    if (t.hasEOL) out += '\n';
    prev = t;
  }
  return prev && !prev.hasEOL ? `${out} ` : out;
}

export async function pdfText(bytes: Uint8Array, limits: PdfLimits = DEFAULT_PDF_LIMITS): Promise<PdfText> {
  const lib = await pdfjs();
  const texts: string[] = [];
  const reasons: string[] = [];
  let doc;
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy
    doc = await lib.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 }).promise;
  } catch (err) {
    if ((err as Error).name === 'PasswordException') return { texts, encrypted: true, reasons: ['password-protected PDF'] };
    return { texts, encrypted: false, reasons: ['PDF could not be read'] };
  }
  try {
    let chars = 0;
    const pages = Math.min(doc.numPages, limits.maxPages);
    if (doc.numPages > limits.maxPages) reasons.push('PDF page limit reached');
    for (let i = 1; i <= pages; i++) {
      const page = await doc.getPage(i);
      const content = await page.getTextContent();
      const text = pageText(content.items);
      page.cleanup();
      if (chars + text.length > limits.maxChars) {
        texts.push(text.slice(0, Math.max(0, limits.maxChars - chars)));
        reasons.push('PDF text limit reached');
        break;
      }
      chars += text.length;
      texts.push(text);
    }
    if (pages > 0 && texts.every((t) => t.trim() === '')) reasons.push('PDF without a text layer (a scan?)');
  } catch {
    reasons.push('PDF could not be read completely');
  } finally {
    await doc.destroy();
  }
  return { texts, encrypted: false, reasons };
}
