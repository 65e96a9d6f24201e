/**
 * npm run bench:dlp-diff [-- FILE] — the equivalence check for speed work on
 * the detectors: a change that makes them faster must not change what they
 * find. It builds several thousand texts from the first corpus and the
 * second corpus's tune half (never the held-out half): each message's
 * extracted text whole, cut at seeded random offsets, and mutated (case
 * changes, two-byte punctuation, lines joined, digits changed, words
 * doubled). For each text it writes, one JSON line, every default
 * detector's finding, spans and explanations, the person anchors, the
 * health spans, the signature zones, the readable text and the verdict.
 *
 * With no FILE (or a FILE that does not exist) it writes FILE
 * (default dist-bench/dlp-diff.jsonl, not committed): run it
 * on the build before a change. Run again after the change: it compares
 * with FILE line by line, prints the first differences and the count, and
 * exits 1 if any. The texts are the same on every run (a fixed seed).
 */
import { createReadStream, existsSync, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractMessage } from '../src/inspect/extract.js';
import { DEFAULT_DETECTORS, detectorText, inspectText, messageText } from '../src/inspect/verdict.js';
import { personAnchors } from '../src/inspect/detect/person-mentions.js';
import { sharedHealthTermSpans } from '../src/inspect/detect/health-terms.js';
import { signatureZones } from '../src/inspect/detect/signature.js';
import { withScanCache } from '../src/inspect/detect/scan-cache.js';
import { rng } from '../test/fixtures/dlp-corpus/values.js';

const file = process.argv[2] ?? join('dist-bench', 'dlp-diff.jsonl');


async function corpusTexts(): Promise<string[]> {
  const out: string[] = [];
  const root1 = join(process.cwd(), 'test', 'fixtures', 'dlp-corpus');
  const labels1 = JSON.parse(await readFile(join(root1, 'labels.json'), 'utf8')) as { file: string }[];
  for (const l of labels1) out.push(messageText((await extractMessage(createReadStream(join(root1, 'messages', l.file)))).texts));
  const root2 = join(process.cwd(), 'test', 'fixtures', 'dlp-corpus-2');
  const labels2 = JSON.parse(await readFile(join(root2, 'labels.json'), 'utf8')) as { file: string; half: string }[];
  for (const l of labels2.filter((x) => x.half === 'tune')) out.push(messageText((await extractMessage(createReadStream(join(root2, 'messages', l.file)))).texts));
  return out;
}

type Mutation = (text: string, r: () => number) => string;

const MUTATIONS: readonly Mutation[] = [
  // case changes: the whole text upper or lower, or every other word capitalised
  (t) => t.toUpperCase(),
  (t) => t.toLowerCase(),
  (t) => t.replace(/\b(\p{L})(\p{L}*)/gu, (_m, a: string, b: string) => a.toUpperCase() + b),
  // Outlook's two-byte punctuation
  (t) => t.replace(/'/g, '\u2019').replace(/"([^"\n]*)"/g, '\u201c$1\u201d').replace(/ - /g, ' \u2013 '),
  (t) => t.replace(/-/g, '\u2011').replace(/:/g, '\uff1a'),
  // lines joined (HTML mail made text), or with spaces
  (t) => t.replace(/\n/g, ' '),
  (t) => t.replace(/\n+/g, '\n'),
  // digits changed at random
  (t, r) => t.replace(/\d/g, (d) => (r() < 0.3 ? String(Math.floor(r() * 10)) : d)),
  // separators changed: tabs for double spaces and back
  (t) => t.replace(/\t/g, '  '),
  (t) => t.replace(/ {2,}/g, '\t'),
  // words doubled and dropped at random
  (t, r) => t.replace(/\S+/g, (w) => (r() < 0.05 ? `${w} ${w}` : r() < 0.03 ? '' : w)),
];

function* texts(corpus: readonly string[]): Generator<string> {
  const r = rng(12);
  for (const t of corpus) {
    yield t;
    // three random cuts, each whole and mutated by one random mutation
    for (let k = 0; k < 3; k++) {
      const a = Math.floor(r() * t.length);
      const b = Math.min(t.length, a + 1 + Math.floor(r() * 4096));
      const piece = t.slice(a, b);
      yield piece;
      const m = MUTATIONS[Math.floor(r() * MUTATIONS.length)] as Mutation;
      yield m(piece, r);
    }
    // every mutation of the whole text once in a while
    if (r() < 0.25) for (const m of MUTATIONS) yield m(t, r);
  }
}

/** Everything the detectors say about `text`, as one line. */
function record(text: string): string {
  const table = detectorText(text);
  const detectors = withScanCache(() =>
    DEFAULT_DETECTORS.map((d) => ({ id: d.id, finding: d.detect(table), spans: d.locate?.(table), explain: d.explain?.(table) })),
  );
  const parts = withScanCache(() => ({ anchors: personAnchors(table), health: sharedHealthTermSpans(table), zones: signatureZones(table) }));
  return JSON.stringify({ table, detectors, ...parts, verdict: inspectText(text) });
}

const corpus = await corpusTexts();
const all = [...texts(corpus)];
if (!existsSync(file)) {
  const out = createWriteStream(file);
  for (const t of all) out.write(`${record(t)}\n`);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  process.stdout.write(`wrote ${all.length} texts' records to ${file}\n`);
} else {
  const before = (await readFile(file, 'utf8')).split('\n');
  let differ = 0;
  all.forEach((t, i) => {
    const now = record(t);
    if (now !== before[i]) {
      differ++;
      if (differ <= 5) process.stdout.write(`text ${i} differs (length ${t.length})\n  before: ${(before[i] ?? '').slice(0, 400)}\n  now:    ${now.slice(0, 400)}\n`);
    }
  });
  if (before.length - 1 !== all.length) process.stdout.write(`the file holds ${before.length - 1} records, this run ${all.length}\n`);
  process.stdout.write(`${all.length} texts compared with ${file}: ${differ} differences\n`);
  if (differ > 0 || before.length - 1 !== all.length) process.exitCode = 1;
}
