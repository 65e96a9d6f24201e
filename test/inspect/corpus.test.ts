/**
 * The labelled DLP corpus (test/fixtures/dlp-corpus): the committed files
 * are exactly what the generator makes, and the real inspection (MIME walk,
 * attachments, detectors, PHI verdict) meets the quality bar on it:
 * precision and recall of at least 0.95, for the categories and for the PHI
 * verdict, PDF-carried messages included. `npm run bench:dlp` prints the
 * full table.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractMessage } from '../../src/inspect/extract.js';
import { inspectExtracted } from '../../src/inspect/verdict.js';
import { buildCorpus, type Label } from '../fixtures/dlp-corpus/generate.js';
import { precision, recall, score, type Detected } from '../fixtures/dlp-corpus/score.js';

const root = join('test', 'fixtures', 'dlp-corpus');
let labels: Label[];
const detected = new Map<string, Detected & { notFullyScanned: boolean }>();

beforeAll(async () => {
  labels = JSON.parse(await readFile(join(root, 'labels.json'), 'utf8')) as Label[];
  for (const l of labels) {
    const v = inspectExtracted(await extractMessage(createReadStream(join(root, 'messages', l.file))));
    detected.set(l.file, { file: l.file, phi: v.phi, categories: v.categories, notFullyScanned: v.notFullyScanned });
  }
});

describe('the labelled DLP corpus', () => {
  it('is what the generator makes (run `npm run corpus:dlp` after changing it)', async () => {
    const corpus = buildCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(corpus.map((m) => m.label)).toEqual(labels);
    expect((await readdir(join(root, 'messages'))).filter((f) => f.endsWith('.eml')).sort()).toEqual(labels.map((l) => l.file).sort());
    for (const m of corpus.filter((_, i) => i % 17 === 0)) expect(await readFile(join(root, 'messages', m.label.file), 'utf8')).toBe(m.eml);
  });

  it('covers every carrier and has tricky negatives', () => {
    expect(new Set(labels.map((l) => l.carrier))).toEqual(new Set(['body', 'txt', 'csv', 'docx', 'xlsx', 'zip', 'forwarded', 'pdf', 'native']));
    expect(labels.filter((l) => l.categories.length === 0 && !l.phi).length).toBeGreaterThanOrEqual(60);
  });

  it('precision and recall of at least 0.95, overall and for the PHI verdict', () => {
    const s = score(labels, detected);
    expect(precision(s.overall)).toBeGreaterThanOrEqual(0.95);
    expect(recall(s.overall)).toBeGreaterThanOrEqual(0.95);
    expect(precision(s.phi)).toBeGreaterThanOrEqual(0.95);
    expect(recall(s.phi)).toBeGreaterThanOrEqual(0.95);
  });

  it('reads every attachment of the corpus: no message is left "not fully scanned"', () => {
    expect(labels.filter((l) => detected.get(l.file)?.notFullyScanned).map((l) => l.file)).toEqual([]);
  });
});
