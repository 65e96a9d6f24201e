/**
 * The inspection threads: real worker threads running the compiled
 * inspection (npm test builds first). A message is inspected there with the
 * same verdict as on the main thread; one that never finishes arriving is cut
 * at the time limit, counted as not fully scanned, and its thread replaced so
 * the next message is inspected normally.
 */
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { InspectionPool } from '../../src/inspect/inspect-pool.js';
import { workerUrl } from '../../src/workers/worker-url.js';

const pool = new InspectionPool({ threads: 1, url: workerUrl(new URL('../../src/daemon.ts', import.meta.url).href, 'inspect/inspect-thread'), maxHeapMb: 256 });

afterAll(async () => {
  await pool.close();
});

const message = (body: string): (() => Readable) => () => Readable.from([Buffer.from(`From: a@example.com\r\nSubject: Results for DOB 04/17/1968\r\n\r\n${body}\r\n`)]);

describe('InspectionPool', () => {
  it('inspects in a thread: the verdict, the subject check and custom detectors, but never the text', async () => {
    const r = await pool.inspect({
      source: message('Member number ACM123456789 was diagnosed with asthma.'),
      custom: [{ id: 'acme', category: 'MEMBER_NO', pattern: '\\bACM\\d{9}\\b', keywords: ['member number'], keywordRequired: true, window: 40, validator: 'none', minCount: 1, identifier: true }],
      timeoutMs: 30_000,
    });
    expect(r.verdict.phi).toBe(true);
    expect(r.verdict.findings.map((f) => f.category)).toContain('MEMBER_NO');
    expect(r.subjectSensitive).toBe(true);
    expect(r.extracted.subject).toBe('Results for DOB 04/17/1968');
    expect(Object.keys(r.extracted)).not.toContain('texts');
    expect(JSON.stringify(r)).not.toContain('ACM123456789');
  });

  it('cuts a message at the time limit, fails closed, and the next message is inspected by a fresh thread', async () => {
    const stuck = new Readable({ read() {} });
    stuck.push('Subject: slow\r\n\r\nPatient SSN 536-22-1234');
    const r = await pool.inspect({ source: () => stuck, custom: [], timeoutMs: 300 });
    expect(r.verdict).toMatchObject({ notFullyScanned: true, phi: false, scanReasons: ['time limit reached (0 s)'] });
    expect(stuck.destroyed).toBe(true);
    const next = await pool.inspect({ source: message('Nothing to see.'), custom: [], timeoutMs: 30_000 });
    expect(next.verdict).toMatchObject({ notFullyScanned: false, phi: false });
  });

  it('runs more messages than threads, one after another', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => pool.inspect({ source: message(`note ${i}`), custom: [], timeoutMs: 30_000 })));
    expect(results.map((r) => r.verdict.notFullyScanned)).toEqual([false, false, false, false, false]);
  });
});
