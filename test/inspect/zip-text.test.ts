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
import { columnOf, officeXmlText, sharedStrings, sheetText } from '../../src/inspect/office-text.js';
import { officePart, zipText, xmlText } from '../../src/inspect/zip-text.js';
import { zip } from '../fixtures/dlp-corpus/containers.js';
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
    ['<a:p><a:t>x &lt; y</a:t></a:p>', ' x < y '],
    ['<t>&#169; 2026 &amp; co</t>', ' © 2026 & co '],
    ['<t>&amp;lt;</t>', ' &lt; '],
  ])('xmlText(%s)', (xml, expected) => {
    expect(xmlText(xml)).toBe(expected);
  });
});

const W = (body: string): string => `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`;

describe('Office text as the reader sees it', () => {
  it.each<[string, string, 'ooxml' | 'odf' | 'properties', string]>([
    ['a number split over runs, proofing marks and bookmarks between them', W('<w:p><w:r><w:t>123-4</w:t></w:r><w:proofErr w:type="spellStart"/><w:bookmarkStart w:id="0" w:name="x"/><w:r w:rsidR="00AB"><w:rPr><w:b/></w:rPr><w:t>5-6789</w:t></w:r></w:p>'), 'ooxml', '123-45-6789\n'],
    ['tab, line break, carriage return, non-breaking hyphen', W('<w:p><w:r><w:t>SSN:</w:t><w:tab/><w:t>536</w:t><w:noBreakHyphen/><w:t>22</w:t><w:noBreakHyphen/><w:t>1234</w:t><w:br/><w:t>a</w:t><w:cr/><w:t>b</w:t></w:r></w:p>'), 'ooxml', 'SSN:\t536-22-1234\na\nb\n'],
    ['tab stops in paragraph properties are not text', W('<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>x</w:t></w:r></w:p>'), 'ooxml', 'x\n'],
    ['paragraphs end with a newline, table cells with a tab, rows with a newline', W('<w:p><w:r><w:t>one</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>MRN</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>00123456</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'), 'ooxml', 'one\nMRN\t00123456\t\n'],
    ['field codes are skipped, the field result is read', W('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> MERGEFIELD 999-99-9999 </w:instrText></w:r><w:r><w:t>shown</w:t></w:r></w:p>'), 'ooxml', 'shown\n'],
    ['tracked deletions are read apart, after the text as it now reads', W('<w:p><w:r><w:t>123-4</w:t></w:r><w:del w:id="1"><w:r><w:delText>9</w:delText></w:r></w:del><w:r><w:t>5-6789</w:t></w:r></w:p>'), 'ooxml', '123-45-6789\n9\n'],
    ['entities are decoded once', W('<w:p><w:r><w:t>a &amp;lt; b &lt; c &#x41;&#66; &#0; &bogus;</w:t></w:r></w:p>'), 'ooxml', 'a &lt; b < c AB &#0; &bogus;\n'],
    ['CDATA and comments', W('<w:p><!-- <w:t>hidden</w:t> --><w:r><w:t><![CDATA[a<b]]></w:t></w:r></w:p>'), 'ooxml', 'a<b\n'],
    ['a drawing\'s fallback copy is read once', W('<w:p><mc:AlternateContent><mc:Choice><w:t>box</w:t></mc:Choice><mc:Fallback><w:t>box</w:t></mc:Fallback></mc:AlternateContent></w:p>'), 'ooxml', 'box\n'],
    ['a PPTX slide: runs within a paragraph, line breaks', '<p:sld><p:txBody><a:p><a:r><a:t>DOB 04/1</a:t></a:r><a:r><a:rPr b="1"/><a:t>7/1968</a:t></a:r><a:br/><a:r><a:t>next</a:t></a:r></a:p><a:p><a:r><a:t>two</a:t></a:r></a:p></p:txBody></p:sld>', 'ooxml', 'DOB 04/17/1968\nnext\ntwo\n'],
    ['ODT: spans inside a paragraph, spaces, tabs, line breaks', '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:body><office:text><text:p>SSN <text:span text:style-name="T1">536-2</text:span><text:span>2-1234</text:span><text:s text:c="3"/>x<text:tab/>y<text:line-break/>z</text:p><text:h>Title</text:h></office:text></office:body></office:document-content>', 'odf', 'SSN 536-22-1234   x\ty\nz\nTitle\n'],
    ['ODS: cells separated by a tab, rows by a newline, style names not read', '<office:document-content><table:table><table:table-row><table:table-cell office:value-type="string"><text:p>MRN</text:p></table:table-cell><table:table-cell office:value="123"><text:p>00123456</text:p></table:table-cell></table:table-row></table:table></office:document-content>', 'odf', 'MRN\t00123456\t\n'],
    ['document properties: title, subject, keywords, description', '<cp:coreProperties><dc:title>Avery Testperson</dc:title><dc:subject>referral</dc:subject><dc:creator>staff</dc:creator><cp:keywords>MRN 00123456</cp:keywords><dc:description>asthma</dc:description></cp:coreProperties>', 'properties', 'Avery Testperson\nreferral\nMRN 00123456\nasthma\n'],
  ])('%s', (_name, xml, kind, expected) => {
    expect(officeXmlText(xml, kind)).toBe(expected);
  });

  it('XLSX: rich-text shared strings joined, cells by index, inline strings, numbers; phonetic guides and formulas not read', () => {
    const strings = sharedStrings('<sst><si><r><t>12</t></r><r><rPr><b/></rPr><t>3-45-6789</t></r><rPh><t>ruby</t></rPh></si><si><t xml:space="preserve">SSN</t></si><si><t>unused 7</t></si></sst>');
    expect(strings).toEqual(['123-45-6789', 'SSN', 'unused 7']);
    const used = new Set<number>();
    const sheet = '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><r><t>MRN 0012</t></r><r><t>3456</t></r></is></c><c r="B2"><v>536221234</v></c><c r="C2" t="str"><f>CONCAT("9","9")</f><v>99</v></c><c r="D2" t="s"><v>77</v></c></row></sheetData></worksheet>';
    expect(sheetText(sheet, strings, used)).toBe('SSN\t123-45-6789\t\nMRN 00123456\t536221234\t99\t\t\n');
    expect([...used].sort()).toEqual([0, 1]);
  });

  it('XLSX: a cell left out of a row (empty) keeps its place by its reference, so the values stay under their headers', () => {
    const sheet = '<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Last</t></is></c><c r="B1" t="inlineStr"><is><t>MI</t></is></c><c r="C1" t="inlineStr"><is><t>SSN</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Herrera</t></is></c><c r="C2" t="inlineStr"><is><t>247-15-7326</t></is></c></row><row r="3"><c r="XFD3"><v>1</v></c></row><row r="4"><c><v>2</v></c><c><v>3</v></c></row></sheetData></worksheet>';
    expect(sheetText(sheet, [])).toBe(`Last\tMI\tSSN\t\nHerrera\t\t247-15-7326\t\n${'\t'.repeat(64)}1\t\n2\t3\t\n`);
  });

  it.each<[string | undefined, number | undefined]>([['A1', 0], ['E3', 4], ['Z9', 25], ['AA10', 26], ['XFD1048576', 16383], ['b2', 1], [undefined, undefined], ['12', undefined], ['ABCD1', undefined]])('columnOf(%s) is %s', (reference, column) => {
    expect(columnOf(reference)).toBe(column);
  });

  it.each<[string, string]>([
    ['word/document.xml', 'ooxml'], ['word/header2.xml', 'ooxml'], ['word/footer1.xml', 'ooxml'], ['word/footnotes.xml', 'ooxml'], ['word/endnotes.xml', 'ooxml'], ['word/comments.xml', 'ooxml'],
    ['ppt/slides/slide3.xml', 'ooxml'], ['ppt/notesSlides/notesSlide1.xml', 'ooxml'], ['xl/sharedStrings.xml', 'shared-strings'], ['xl/worksheets/sheet2.xml', 'sheet'],
    ['docProps/core.xml', 'properties'], ['meta.xml', 'properties'], ['content.xml', 'odf'], ['styles.xml', 'odf'],
    ['word/styles.xml', 'structure'], ['[Content_Types].xml', 'structure'], ['_rels/.rels', 'structure'], ['xl/workbook.xml', 'structure'],
  ])('officePart(%s) is %s', (name, kind) => {
    expect(officePart(name)).toBe(kind);
  });

  it('a DOCX: body, headers, footers, footnotes, comments and properties are read, runs joined', async () => {
    const docx = zip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'word/document.xml', data: Buffer.from(W('<w:p><w:r><w:t>SSN 536-2</w:t></w:r><w:r><w:t>2-1234</w:t></w:r></w:p>')) },
      { name: 'word/header1.xml', data: Buffer.from('<w:hdr><w:p><w:r><w:t>MRN: 0012</w:t></w:r><w:r><w:t>3456</w:t></w:r></w:p></w:hdr>') },
      { name: 'word/footer1.xml', data: Buffer.from('<w:ftr><w:p><w:r><w:t>footer text</w:t></w:r></w:p></w:ftr>') },
      { name: 'word/footnotes.xml', data: Buffer.from('<w:footnotes><w:footnote><w:p><w:r><w:t>footnote text</w:t></w:r></w:p></w:footnote></w:footnotes>') },
      { name: 'word/comments.xml', data: Buffer.from('<w:comments><w:comment><w:p><w:r><w:t>comment text</w:t></w:r></w:p></w:comment></w:comments>') },
      { name: 'docProps/core.xml', data: Buffer.from('<cp:coreProperties><dc:title>title text</dc:title></cp:coreProperties>') },
      { name: 'word/styles.xml', data: Buffer.from('<w:styles><w:style w:styleId="x"><w:name w:val="Heading 1"/></w:style></w:styles>') },
    ]);
    const x = await zipText(docx);
    const text = x.texts.join('\n');
    expect(x.reasons).toEqual([]);
    for (const s of ['SSN 536-22-1234', 'MRN: 00123456', 'footer text', 'footnote text', 'comment text', 'title text']) expect(text).toContain(s);
  });

  it('an XLSX whose shared strings come after the sheets (as Excel writes them) reads cell by cell', async () => {
    const xlsx = zip([
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.from('<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row></sheetData></worksheet>') },
      { name: 'xl/sharedStrings.xml', data: Buffer.from('<sst><si><t>SSN</t></si><si><r><t>536-22</t></r><r><t>-1234</t></r></si></sst>') },
    ]);
    expect((await zipText(xlsx)).texts.join('\n')).toContain('SSN\t536-22-1234');
  });

  it.each<[string, () => string]>([
    ['a 5 MB run of text runs', () => '<w:p>' + '<w:r><w:t>1</w:t></w:r>'.repeat(230_000) + '</w:p>'],
    ['200,000 nested elements', () => '<w:p>'.repeat(200_000) + '<w:t>x</w:t>' + '</w:p>'.repeat(200_000)],
    ['an unterminated tag with a long attribute', () => '<w:p><w:t>a</w:t><w:r w:x="' + 'y'.repeat(5_000_000)],
    ['an unterminated comment', () => '<w:p><!--' + '<w:t>'.repeat(1_000_000)],
    ['a million tags without a closing bracket after the first', () => '<w:t>ok</w:t><' + 'a '.repeat(2_000_000)],
    ['many entities and spaces', () => '<text:p>' + '&amp;<text:s text:c="99999999"/>'.repeat(200_000) + '</text:p>'],
  ])('hostile XML finishes quickly: %s', (_name, make) => {
    const xml = make();
    const start = Date.now();
    for (const kind of ['ooxml', 'odf', 'properties'] as const) officeXmlText(xml, kind);
    sharedStrings(xml);
    sheetText(xml, ['a']);
    xmlText(xml);
    expect(Date.now() - start).toBeLessThan(5000);
  });
});
