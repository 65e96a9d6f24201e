/**
 * PDF text for the detectors (pdf.js): text from plain and Flate-compressed
 * pages, PHI found inside a PDF attachment, a password-protected PDF flagged
 * as encrypted, broken and text-less PDFs flagged — never an exception. And
 * the acceptance case: a message over 25 MB with a 20 MB PDF is inspected in an
 * inspection thread with a 256 MiB heap limit (so with bounded memory) and
 * its PHI found, while the main thread only streams it.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { extractMessage } from '../../src/inspect/extract.js';
import { InspectionPool } from '../../src/inspect/inspect-pool.js';
import { pdfText } from '../../src/inspect/pdf-text.js';
import { inspectExtracted } from '../../src/inspect/verdict.js';
import { workerUrl } from '../../src/workers/worker-url.js';
import { bulkyPdf, encryptedPdf, mime, pdf, pdfOfContent } from '../fixtures/dlp-corpus/containers.js';

const LINES = ['Patient: Avery Testperson', 'DOB: 04/17/1968', 'Diagnosis: type 2 diabetes mellitus (E11.9)'];

const withPdf = (data: Buffer, name = 'scan.pdf'): string =>
  mime({ from: 'a@clinic.example', to: 'b@partner.example', subject: 'scan', date: 'Tue, 24 Nov 2026 10:00:00 +0000', id: 'pdf-test', text: 'See attached.', attachments: [{ filename: name, contentType: 'application/pdf', data }] });

describe('pdfText', () => {
  it.each([false, true])('reads the text of every page (compressed: %s)', async (compress) => {
    const r = await pdfText(pdf([LINES, ['Page two: continue metformin 500 mg']], compress));
    expect(r.reasons).toEqual([]);
    expect(r.encrypted).toBe(false);
    expect(r.texts.join('\n')).toContain('DOB: 04/17/1968');
    expect(r.texts[1]).toContain('continue metformin');
  });

  it.each<[string, Buffer, { encrypted: boolean; reasons: string[] }]>([
    ['a password-protected PDF', encryptedPdf(LINES, 'open-sesame'), { encrypted: true, reasons: ['password-protected PDF'] }],
    ['garbage that says it is a PDF', Buffer.from('%PDF-1.7\nthis is not a pdf at all'), { encrypted: false, reasons: ['PDF could not be read'] }],
    ['a truncated PDF', pdf([LINES], true).subarray(0, 200), { encrypted: false, reasons: ['PDF could not be read'] }],
    ['a PDF without a text layer', pdf([[]], false), { encrypted: false, reasons: ['PDF without a text layer (a scan?)'] }],
  ])('%s is flagged, not thrown', async (_name, bytes, expected) => {
    const r = await pdfText(bytes);
    expect({ encrypted: r.encrypted, reasons: r.reasons }).toEqual(expected);
  });

  it('a PDF with an empty user password opens like any other', async () => {
    const r = await pdfText(encryptedPdf(LINES, ''));
    expect(r.texts.join('\n')).toContain('Avery Testperson');
  });

  it('stops at the page limit and says so', async () => {
    const r = await pdfText(pdf([LINES, LINES, LINES], false), { maxPages: 2, maxChars: 1_000_000 });
    expect(r.texts).toHaveLength(2);
    expect(r.reasons).toEqual(['PDF page limit reached']);
  });
});

describe('PDF attachments in the MIME walk', () => {
  it('finds PHI inside a PDF attachment', async () => {
    const x = await extractMessage(Readable.from([Buffer.from(withPdf(pdf([LINES], true)))]));
    expect(x.notFullyScanned).toBe(false);
    expect(x.attachments.map((a) => a.handling)).toEqual(['pdf']);
    expect(inspectExtracted(x)).toMatchObject({ phi: true, categories: expect.arrayContaining(['DOB', 'ICD10', 'PERSON_NAME', 'PHI']) as unknown });
  });

  it('a password-protected PDF makes the message encrypted and not fully scanned', async () => {
    const x = await extractMessage(Readable.from([Buffer.from(withPdf(encryptedPdf(LINES, 'open-sesame')))]));
    expect(x).toMatchObject({ encrypted: true, notFullyScanned: true, reasons: ['password-protected PDF'] });
  });
});

describe('a 27 MB message with a 20 MB PDF (the acceptance case, base64 makes it larger than 25 MB)', () => {
  const pool = new InspectionPool({ threads: 1, url: workerUrl(new URL('../../src/daemon.ts', import.meta.url).href, 'inspect/inspect-thread'), maxHeapMb: 256 });
  afterAll(async () => {
    await pool.close();
  });

  it('is inspected within a 256 MiB thread heap, its PHI found; the main thread only streams it', async () => {
    const big = bulkyPdf(LINES, 20 * 1024 * 1024, (n) => randomBytes(n));
    const message = Buffer.from(withPdf(big, 'chart.pdf'));
    expect(big.length).toBeGreaterThan(20 * 1024 * 1024);
    expect(message.length).toBeGreaterThan(25 * 1024 * 1024);
    const chunks: Buffer[] = [];
    for (let i = 0; i < message.length; i += 64 * 1024) chunks.push(message.subarray(i, i + 64 * 1024));
    const heapBefore = process.memoryUsage().heapUsed;
    const r = await pool.inspect({ source: () => Readable.from(chunks), custom: [], timeoutMs: 120_000, size: message.length });
    const heapAfter = process.memoryUsage().heapUsed;
    expect(r.verdict).toMatchObject({ phi: true, notFullyScanned: false });
    expect(r.verdict.categories).toEqual(expect.arrayContaining(['DOB', 'ICD10']));
    // the main thread held chunks, not a parsed copy of the message (the message itself is outside the JS heap)
    expect(heapAfter - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('PDF layout', () => {
  it('reads a table\'s columns apart (a tab where a wide gap is), so its header labels them', async () => {
    // two rows of three columns at x = 50, 220 and 330, as a report writer places them
    const cell = (x: number, y: number, s: string): string => `BT /F1 10 Tf 1 0 0 1 ${x} ${y} Tm (${s}) Tj ET`;
    const content = [cell(50, 700, 'Patient'), cell(220, 700, 'MRN'), cell(330, 700, 'Diagnosis'), cell(50, 686, 'Maria Alvarez'), cell(220, 686, '00123456'), cell(330, 686, 'type 2 diabetes')].join('\n');
    const r = await pdfText(pdfOfContent([content], false));
    expect(r.texts.join('').split('\n')[0]).toMatch(/^Patient\tMRN\tDiagnosis/);
    const v = inspectExtracted({ texts: r.texts, dicom: false, notFullyScanned: false, reasons: [] });
    expect(v.categories).toEqual(expect.arrayContaining(['MRN', 'PERSON_NAME', 'PHI']));
  });

  it('reads a form whose values were drawn after its labels by position, each value on its label\'s line', async () => {
    // a fax form: the labels first, top to bottom, then the values over them in another order (as e-form and fax software draw them)
    const at = (x: number, y: number, s: string): string => `BT /F1 10 Tf 1 0 0 1 ${x} ${y} Tm (${s}) Tj ET`;
    const labels = [at(50, 700, 'Patient Name:'), at(300, 700, 'DOB:'), at(50, 680, 'Insurance ID:'), at(50, 660, 'Reason for referral:')];
    const values = [at(330, 700, '11/02/1979'), at(150, 660, 'iron deficiency anemia'), at(150, 700, 'Marisol Ferreira'), at(150, 680, 'KMH882104473')];
    const r = await pdfText(pdfOfContent([[...labels, ...values].join('\n')], false));
    const lines = r.texts.join('').split('\n');
    expect(lines[0]).toMatch(/^Patient Name:\tMarisol Ferreira\tDOB:\s11\/02\/1979$/);
    expect(lines[1]).toBe('Insurance ID:\tKMH882104473');
    const v = inspectExtracted({ texts: r.texts, dicom: false, notFullyScanned: false, reasons: [] });
    expect(v.categories).toEqual(expect.arrayContaining(['DOB', 'MEMBER_ID', 'PERSON_NAME', 'PHI']));
  });

  it('keeps a page drawn in reading order as it is drawn', async () => {
    const at = (x: number, y: number, s: string): string => `BT /F1 10 Tf 1 0 0 1 ${x} ${y} Tm (${s}) Tj ET`;
    // a second column started lower than the first's top stays after it: no jump up the page
    const r = await pdfText(pdfOfContent([[at(50, 700, 'First line.'), at(50, 686, 'Second line.'), at(320, 640, 'Sidebar note.')].join('\n')], false));
    expect(r.texts.join('').split('\n').map((l) => l.trim()).filter(Boolean)).toEqual(['First line.', 'Second line.', 'Sidebar note.']);
  });
});
