/**
 * npm run bench:dlp — precision and recall of the DLP detectors on the
 * labelled synthetic corpus (test/fixtures/dlp-corpus): every message goes
 * through the real inspection (MIME walk, attachments, detectors, PHI
 * verdict) as the gateway runs it. Prints a table per category, the PHI
 * verdict, the same without the PDF-carried messages, and the
 * misclassified files (names and categories only). Exits 1 when overall
 * precision or recall is below 0.95.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractMessage } from '../src/inspect/extract.js';
import { inspectExtracted } from '../src/inspect/verdict.js';
import type { Label } from '../test/fixtures/dlp-corpus/generate.js';
import { precision, recall, score, type Counts, type Detected } from '../test/fixtures/dlp-corpus/score.js';

const root = join(process.cwd(), 'test', 'fixtures', 'dlp-corpus');

async function detectAll(labels: readonly Label[]): Promise<Map<string, Detected>> {
  const out = new Map<string, Detected>();
  for (const l of labels) {
    const extracted = await extractMessage(createReadStream(join(root, 'messages', l.file)));
    const v = inspectExtracted(extracted);
    out.set(l.file, { file: l.file, phi: v.phi, categories: v.categories });
  }
  return out;
}

const f = (x: number): string => x.toFixed(3);
const row = (name: string, c: Counts): string => `| ${name} | ${c.tp} | ${c.fp} | ${c.fn} | ${f(precision(c))} | ${f(recall(c))} |`;

async function main(): Promise<void> {
  const labels = JSON.parse(await readFile(join(root, 'labels.json'), 'utf8')) as Label[];
  const detected = await detectAll(labels);
  const all = score(labels, detected);
  const noPdf = score(labels.filter((l) => l.carrier !== 'pdf'), detected);
  const pdfOnly = score(labels.filter((l) => l.carrier === 'pdf'), detected);
  const lines = [
    `corpus: ${labels.length} messages (${labels.filter((l) => l.phi).length} PHI, ${labels.filter((l) => l.categories.length === 0).length} with nothing to find, ${labels.filter((l) => l.carrier === 'pdf').length} carried in PDF)`,
    '',
    '| category | TP | FP | FN | precision | recall |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(all.perCategory).map(([c, counts]) => row(c, counts)),
    row('**all categories**', all.overall),
    row('**PHI verdict**', all.phi),
    row('all categories, without PDF-carried messages', noPdf.overall),
    row('PHI verdict, without PDF-carried messages', noPdf.phi),
    row('all categories, PDF-carried messages only', pdfOnly.overall),
    '',
    `misclassified (${all.misses.length}):`,
    ...all.misses.map((m) => `  ${m.kind.toUpperCase()} ${m.category}  ${m.file}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const ok = precision(all.overall) >= 0.95 && recall(all.overall) >= 0.95;
  if (!ok) {
    process.stdout.write(`\noverall precision ${f(precision(all.overall))} / recall ${f(recall(all.overall))}: below 0.95\n`);
    process.exitCode = 1;
  }
}

await main();
