import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { extractWithin } from '../../src/inspect/inspect-here.js';

describe('extractWithin: the time limit on one inspection', () => {
  it('a message that never finishes arriving is abandoned as not fully scanned, and its source closed', async () => {
    let source: Readable | undefined;
    const r = await extractWithin(() => {
      source = new Readable({ read() {} });
      source.push('Subject: slow\r\n\r\nPatient SSN 536-22-1234');
      return source;
    }, 200);
    expect(r).toMatchObject({ notFullyScanned: true, reasons: ['time limit reached (0 s)'], texts: [] });
    expect(source?.destroyed).toBe(true);
  });

  it('a message read in time is extracted as usual', async () => {
    const r = await extractWithin(() => Readable.from([Buffer.from('Subject: quick\r\n\r\nhello\r\n')]), 30_000);
    expect(r.notFullyScanned).toBe(false);
    expect(r.subject).toBe('quick');
  });
});
