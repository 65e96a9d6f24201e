/**
 * ZIP and Office text extraction on archives made by Python's zipfile (a
 * real, independent ZIP writer): DOCX/XLSX text, nested archives, a zip bomb
 * and an encrypted entry end as flags, never as a crash.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipText, xmlText } from '../../src/inspect/zip-text.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Builds a zip with Python: `entries` is Python source for a list of (name, bytes, flags). */
async function pyZip(name: string, script: string): Promise<Buffer> {
  const path = join(dir, name);
  await run('python3', ['-c', `import zipfile, io\nout = ${JSON.stringify(path)}\n${script}`]);
  return readFile(path);
}

describe('zipText', () => {
  it('reads the text of a DOCX and an XLSX', async (ctx) => {
    requireTool(ctx, 'python3');
    const docx = await pyZip('a.docx', `z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)
z.writestr('[Content_Types].xml', '<Types/>')
z.writestr('word/document.xml', '<w:document><w:body><w:p><w:r><w:t>Patient DOB: 04/17/1968</w:t></w:r></w:p><w:p><w:r><w:t>diagnosed with asthma &amp; COPD</w:t></w:r></w:p></w:body></w:document>')
z.writestr('word/media/image1.png', b'\\x89PNG')
z.close()`);
    const x = await zipText(docx);
    expect(x.reasons).toEqual([]);
    expect(x.texts.join('\n')).toContain('Patient DOB: 04/17/1968');
    expect(x.texts.join('\n')).toContain('diagnosed with asthma & COPD');
    const xlsx = await pyZip('a.xlsx', `z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)
z.writestr('xl/sharedStrings.xml', '<sst><si><t>MRN</t></si><si><t>00123456</t></si></sst>')
z.writestr('xl/worksheets/sheet1.xml', '<worksheet><sheetData><row><c t="s"><v>0</v></c></row></sheetData></worksheet>')
z.close()`);
    expect((await zipText(xlsx)).texts.join(' ')).toMatch(/MRN\s+00123456/);
  });

  it('walks nested archives up to the depth limit', async (ctx) => {
    requireTool(ctx, 'python3');
    const zip = await pyZip('nested.zip', `inner = io.BytesIO()
zi = zipfile.ZipFile(inner, 'w'); zi.writestr('list.csv', 'ssn\\n536-22-1234\\n'); zi.close()
z = zipfile.ZipFile(out, 'w'); z.writestr('inner.zip', inner.getvalue()); z.close()`);
    expect((await zipText(zip)).texts.join('\n')).toContain('536-22-1234');
    const shallow = await zipText(zip, { maxDepth: 1, maxEntries: 100, maxTotalBytes: 1e6, maxEntryBytes: 1e6, maxRatio: 100 });
    expect(shallow.reasons).toContain('archive nesting too deep');
  });

  it('stops at a zip bomb with a flag', async (ctx) => {
    requireTool(ctx, 'python3');
    const bomb = await pyZip('bomb.zip', `z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)
z.writestr('zeros.txt', b'0' * (50 * 1024 * 1024))
z.close()`);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const x = await zipText(bomb);
    expect(x.reasons).toEqual(['archive expands beyond the limits (possible zip bomb)']);
    expect(x.texts).toEqual(['zeros.txt']);
  });

  it('flags an encrypted entry', async (ctx) => {
    requireTool(ctx, 'python3');
    // zipfile cannot encrypt: write a stored entry, then set the "encrypted" flag bit in both headers
    // zipfile cannot encrypt: store 12 header bytes + 10 "ciphertext" bytes, then mark the entry
    // encrypted with a 10-byte plaintext, as a ZipCrypto writer would, in both headers
    const enc = await pyZip('enc.zip', `z = zipfile.ZipFile(out, 'w')
z.writestr('secret.txt', b'H' * 12 + b'ciphertext')
z.close()
b = bytearray(open(out, 'rb').read())
b[6] |= 1
b[22:26] = (10).to_bytes(4, 'little')
cd = b.find(b'PK\\x01\\x02')
b[cd + 8] |= 1
b[cd + 24:cd + 28] = (10).to_bytes(4, 'little')
open(out, 'wb').write(bytes(b))`);
    const x = await zipText(enc);
    expect(x.encrypted).toBe(true);
    expect(x.reasons).toContain('encrypted archive entry');
  });

  it('reports an unreadable archive instead of throwing', async () => {
    expect((await zipText(Buffer.from('PK\u0003\u0004 not really'))).reasons).toEqual(['archive could not be read']);
  });

  it.each<[string, string]>([
    ['<a:p><a:t>x &lt; y</a:t></a:p>', ' x < y \n'],
    ['<t>&#169; 2026 &amp; co</t>', ' © 2026 & co '],
  ])('xmlText(%s)', (xml, expected) => {
    expect(xmlText(xml)).toBe(expected);
  });
});
