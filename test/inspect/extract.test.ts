/**
 * The MIME walk on real messages built with nodemailer's composer: bodies,
 * HTML-only mail, text-like attachments, nested messages, DICOM, formats
 * without an extractor yet (fail closed), and the limits.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { compareRenderings, extractMessage, htmlText } from '../../src/inspect/extract.js';
import { inspectExtracted } from '../../src/inspect/verdict.js';
import { requireTool } from '../helpers/peers.js';
import { zip } from '../fixtures/dlp-corpus/containers.js';

const run = promisify(execFile);

async function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer({ from: 'alice@hospital.example', to: 'bob@clinic.example', ...options }).compile().build();
}

async function walk(raw: Buffer, limits?: Parameters<typeof extractMessage>[1]) {
  return extractMessage(Readable.from([raw]), limits);
}

describe('extractMessage', () => {
  it('finds PHI spread over the subject, the body and a CSV attachment', async () => {
    const raw = await compose({
      subject: 'Referral',
      text: 'Please see the attached list.',
      attachments: [{ filename: 'patients.csv', content: 'name,dob,diagnosis\nJane Roe,DOB 04/17/1968,diagnosed with diabetes\n' }],
    });
    const x = await walk(raw);
    expect(x.subject).toBe('Referral');
    expect(x.attachments).toEqual([{ filename: 'patients.csv', contentType: 'text/csv', size: expect.any(Number) as unknown, handling: 'text' }]);
    expect(x.notFullyScanned).toBe(false);
    expect(inspectExtracted(x)).toMatchObject({ phi: true, phiConfidence: 'high' });
  });

  it('reads HTML-only mail as text', async () => {
    const x = await walk(await compose({ subject: 'x', html: '<p>MRN: <b>00123456</b></p><p>started on <i>insulin</i></p>' }));
    expect(inspectExtracted(x).phi).toBe(true);
  });

  it('walks into a forwarded message', async () => {
    const inner = await compose({ subject: 'inner', text: 'SSN 536-22-1234, Dx: E11.9' });
    const x = await walk(await compose({ subject: 'Fwd', text: 'see below', attachments: [{ filename: 'forwarded.eml', content: inner, contentType: 'message/rfc822' }] }));
    expect(inspectExtracted(x).phi).toBe(true);
  });

  it('recognises a DICOM attachment as clinical data', async () => {
    const dicom = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]);
    const x = await walk(await compose({ subject: 'image', text: 'scan attached', attachments: [{ filename: 'scan.dcm', content: dicom, contentType: 'application/dicom' }] }));
    expect(x.dicom).toBe(true);
    expect(inspectExtracted(x)).toMatchObject({ phi: true, categories: expect.arrayContaining(['CLINICAL_FORMAT', 'PHI']) as unknown });
  });

  it('flags formats it cannot read as not fully scanned (fail closed)', async () => {
    const x = await walk(await compose({ subject: 'report', text: 'hi', attachments: [{ filename: 'labs.rtf', content: Buffer.from('{\\rtf1 ...}'), contentType: 'application/rtf' }] }));
    expect(x.notFullyScanned).toBe(true);
    expect(x.reasons).toEqual(['no text extractor for rtf']);
    expect(x.attachments[0]?.handling).toBe('unsupported');
  });

  it('a broken PDF is not fully scanned, never an exception', async () => {
    const x = await walk(await compose({ subject: 'report', text: 'hi', attachments: [{ filename: 'labs.pdf', content: Buffer.from('%PDF-1.7 ...'), contentType: 'application/pdf' }] }));
    expect(x.notFullyScanned).toBe(true);
    expect(x.attachments[0]?.handling).toBe('pdf');
  });

  it('reads PHI inside a DOCX attachment, and flags a zip bomb without crashing', async (ctx) => {
    requireTool(ctx, 'python3');
    const script = (path: string, body: string) => run('python3', ['-c', `import zipfile\nz = zipfile.ZipFile(${JSON.stringify(path)}, 'w', zipfile.ZIP_DEFLATED)\n${body}\nz.close()`]);
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-extract-'));
    try {
      await script(join(dir, 'a.docx'), "z.writestr('word/document.xml', '<w:document><w:p><w:t>MRN: 00123456 started on insulin</w:t></w:p></w:document>')");
      await script(join(dir, 'bomb.zip'), "z.writestr('zeros.txt', b'0' * (40 * 1024 * 1024))");
      const docx = await walk(await compose({ subject: 'note', text: 'attached', attachments: [{ filename: 'note.docx', content: await readFile(join(dir, 'a.docx')) }] }));
      expect(docx.attachments[0]?.handling).toBe('archive');
      expect(inspectExtracted(docx).phi).toBe(true);
      const bomb = await walk(await compose({ subject: 'bomb', text: 'x', attachments: [{ filename: 'bomb.zip', content: await readFile(join(dir, 'bomb.zip')) }] }));
      expect(bomb.notFullyScanned).toBe(true);
      expect(bomb.reasons).toContain('archive expands beyond the limits (possible zip bomb)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each<[string, string, string, boolean]>([
    ['text', 'MRN 00123456', 'text', false],
    ['binary', '\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008'.repeat(8), 'unsupported', true],
  ])('a part whose Content-Type cannot be parsed is read by its bytes (%s), never an exception (found by fuzzing)', async (_name, body, handling, notFullyScanned) => {
    // mailparser reports its content type as `false`: this was a TypeError thrown out of the parser's
    // event handler (an uncaught exception: a dead inspection thread, or the daemon with threads: 0) and a walk that never settled
    const raw = Buffer.from(`From: a@example.com\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n--p\r\nContent-Type: text/plain\r\n\r\nhello\r\n--p\r\nContent-Type: ;;;\r\nContent-Disposition: attachment; filename="x.bin"\r\n\r\n${body}\r\n--p--\r\n`);
    const x = await walk(raw);
    expect(x.attachments).toEqual([{ filename: 'x.bin', contentType: 'application/octet-stream', size: expect.any(Number) as unknown, handling }]);
    expect(x.notFullyScanned).toBe(notFullyScanned);
  });

  it.each([
    ['no blank line after the headers', 'From: a@example.com\r\nSubject: hi\r\nPatient Jane Roe SSN 536-22-1234 diagnosed with diabetes\r\n'],
    ['no headers at all', 'Patient Jane Roe SSN 536-22-1234 diagnosed with diabetes\r\n'],
    ['an attached message without headers', 'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n--p\r\nContent-Type: message/rfc822\r\n\r\nPatient Jane Roe SSN 536-22-1234 diagnosed with diabetes\r\n--p--\r\n'],
  ])('text in a malformed header block (%s) is scanned and the message is not fully scanned (found by fuzzing)', async (_name, raw) => {
    // mailparser reads such lines as neither headers nor body: they reached no detector and the verdict was clean
    const x = await walk(Buffer.from(raw));
    expect(x.notFullyScanned).toBe(true);
    expect(x.reasons).toContain('malformed header block');
    expect(inspectExtracted(x)).toMatchObject({ phi: true, categories: expect.arrayContaining(['SSN']) as unknown });
  });

  it.each([
    ['an inline message/rfc822 with headers only', 'Content-Type: message/rfc822\r\nContent-Disposition: inline'],
    ['the same, ending in CRLF', 'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n'],
    ['one inside another', 'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline'],
    ['the last part of a multipart, cut in its headers', 'Content-Type: multipart/mixed; boundary="p"\r\n\r\n--p\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline'],
  ])('a walk whose input stops inside an inline attached message\'s headers settles (%s; found by fuzzing)', async (_name, raw) => {
    // mailparser neither ended nor failed on these: the walk waited for the inspection thread's time limit
    const x = await walk(Buffer.from(raw));
    expect(x.texts.join('').trim()).toBe('');
    expect(inspectExtracted(x).phi).toBe(false);
  });

  it('an attached message cut by the size limit inside its headers settles and is not fully scanned (found by fuzzing)', async () => {
    const inner = `From: a@example.com\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\nX-Padding: ${'x'.repeat(400)}\r\n\r\nSubject: hi\r\n\r\nbody\r\n`;
    const raw = `From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n${inner}--b--\r\n`;
    const x = await walk(Buffer.from(raw), { maxTextChars: 4_000_000, maxAttachmentBytes: 200, maxAttachments: 10, maxPdfBytes: 1000 });
    expect(x.attachments.map((a) => a.handling)).toEqual(['message']);
    expect(x.notFullyScanned).toBe(true);
    expect(x.reasons).toContain('attachment 1 larger than the scan limit');
  });

  it('a well-formed header block, or an empty one, is not a scanning gap', async () => {
    expect((await walk(Buffer.from('From: a@example.com\r\nSubject: hi\r\n folded\r\nX-Custom-Header: v\r\n\r\nbody\r\n'))).notFullyScanned).toBe(false);
    expect((await walk(Buffer.from('\r\nbody only\r\n'))).notFullyScanned).toBe(false);
  });

  it('an image is binary content, not a scanning gap', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const x = await walk(await compose({ subject: 'logo', text: 'hi', attachments: [{ filename: 'logo.png', content: png, contentType: 'image/png' }] }));
    expect(x.notFullyScanned).toBe(false);
    expect(x.attachments[0]?.handling).toBe('binary');
  });

  it('stops at the text limit and says so', async () => {
    const x = await walk(await compose({ subject: 's', text: 'a'.repeat(10_000) }), { maxTextChars: 1000, maxAttachmentBytes: 1000, maxAttachments: 10, maxPdfBytes: 1000 });
    expect(x.texts.join('').length).toBe(1000);
    expect(x.notFullyScanned).toBe(true);
    expect(x.reasons).toContain('text limit reached');
  });
});

describe('attached and forwarded messages (message/rfc822)', () => {
  const inner = 'From: records@clinic.example\r\nSubject: lab\r\n\r\nPatient: Avery Testperson, DOB 04/17/1968, diagnosed with asthma.\r\n';
  const wrap = (body: string, b = 'b'): string =>
    `From: a@example.com\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=${b}\r\n\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--${b}\r\nContent-Type: message/rfc822\r\n\r\n${body}\r\n--${b}--\r\n`;
  it('walks the attached message like the outer one', async () => {
    const x = await extractMessage(Readable.from([Buffer.from(wrap(inner))]));
    expect(x.attachments.map((a) => a.handling)).toEqual(['message']);
    expect(inspectExtracted(x)).toMatchObject({ phi: true });
  });
  it('stops at three levels and says so', async () => {
    const deep = wrap(wrap(wrap(inner, 'b1'), 'b2'), 'b3');
    const x = await extractMessage(Readable.from([Buffer.from(deep)]));
    expect(x.notFullyScanned).toBe(true);
    expect(x.reasons).toContain('attached messages nested too deep');
  });
});

describe('HTML as the reader sees it', () => {
  it.each<[string, string, string, boolean]>([
    ['an HTML attachment with entities between the label and the digits', 'text/html', 'notes.html', true],
    ['an .htm file sent as octet-stream', 'application/octet-stream', 'notes.htm', true],
  ])('%s', async (_name, contentType, filename, phi) => {
    const html = '<html><head><style>.x{}</style><script>var ssn="000-00-0000"</script></head><body><p>SSN&nbsp;536&#45;22&#45;1234</p><p>Diagnosis:&#32;asthma</p></body></html>';
    const x = await walk(await compose({ subject: 'notes', text: 'see attached', attachments: [{ filename, content: Buffer.from(html), contentType }] }));
    const v = inspectExtracted(x);
    expect(v.phi).toBe(phi);
    expect(v.categories).toContain('SSN');
    expect(x.texts.join(' ')).not.toContain('var ssn');
    expect(x.attachments.map((a) => a.handling)).toEqual(['text']);
  });
});

describe('text attachments in other encodings', () => {
  const csv = 'name,ssn,diagnosis\r\nAvery Testperson,SSN 536-22-1234,asthma\r\n';
  it.each<[string, Buffer, string]>([
    ['UTF-16LE with a BOM (a spreadsheet\'s "Unicode text" export)', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]), 'text/plain'],
    ['UTF-8 with a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]), 'text/csv'],
    ['windows-1252 by its charset', Buffer.from(`${csv}caf\u00e9\r\n`, 'latin1'), 'text/csv; charset=windows-1252'],
  ])('%s', async (_name, content, contentType) => {
    const x = await walk(await compose({ subject: 'list', text: 'attached', attachments: [{ filename: 'list.csv', content, contentType }] }));
    expect(inspectExtracted(x).categories).toContain('SSN');
  });
});

describe('Office documents as the reader sees them', () => {
  const part = (name: string, xml: string) => ({ name, data: Buffer.from(xml) });
  it.each<[string, string, Buffer, string]>([
    ['a DOCX with the SSN split over runs', 'note.docx', zip([part('word/document.xml', '<w:document><w:body><w:p><w:r><w:t xml:space="preserve">Patient SSN: 536-2</w:t></w:r><w:proofErr w:type="spellStart"/><w:r w:rsidR="00AB"><w:rPr><w:b/></w:rPr><w:t>2-12</w:t></w:r><w:bookmarkStart w:id="0" w:name="x"/><w:r><w:t>34</w:t></w:r></w:p></w:body></w:document>')]), 'SSN'],
    ['a DOCX with the MRN in its header', 'letter.docx', zip([part('word/document.xml', '<w:document><w:body><w:p><w:r><w:t>Dear colleague</w:t></w:r></w:p></w:body></w:document>'), part('word/header1.xml', '<w:hdr><w:p><w:r><w:t>MRN: 0012</w:t></w:r><w:r><w:t>3456</w:t></w:r></w:p></w:hdr>')]), 'MRN'],
    ['an XLSX with a rich-text SSN cell', 'list.xlsx', zip([part('xl/worksheets/sheet1.xml', '<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row></sheetData></worksheet>'), part('xl/sharedStrings.xml', '<sst><si><t>SSN</t></si><si><r><t>536-2</t></r><r><rPr><b/></rPr><t>2-1234</t></r></si></sst>')]), 'SSN'],
    ['a PPTX with the date of birth split over runs', 'deck.pptx', zip([part('ppt/slides/slide1.xml', '<p:sld><a:p><a:r><a:t>DOB: 04/1</a:t></a:r><a:r><a:t>7/1968</a:t></a:r></a:p></p:sld>')]), 'DOB'],
    ['an ODT with the SSN split over spans', 'note.odt', zip([part('mimetype', 'application/vnd.oasis.opendocument.text'), part('content.xml', '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"><office:body><office:text><text:p>SSN: <text:span>536-2</text:span><text:span>2-1234</text:span></text:p></office:text></office:body></office:document-content>')]), 'SSN'],
  ])('%s', async (_name, filename, content, category) => {
    const x = await walk(await compose({ subject: 'document', text: 'attached', attachments: [{ filename, content }] }));
    expect(x.notFullyScanned).toBe(false);
    expect(x.attachments.map((a) => a.handling)).toEqual(['archive']);
    expect(inspectExtracted(x).categories).toContain(category);
  });
});

describe('content sniffing: the bytes decide, not the name or the declared type', () => {
  const hl7 = 'MSH|^~\\&|EPIC|HOSP|LAB|LAB|202611240930||ADT^A01|123|P|2.5\rPID|1||00123456^^^HOSP^MR||ROE^JANE||19680417|F\r';
  const ccda = '<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole><id extension="00123456"/><patient><name><given>Avery</given><family>Testperson</family></name></patient></patientRole></recordTarget></ClinicalDocument>';
  const csv = 'name,ssn,diagnosis\nAvery Testperson,SSN 536-22-1234,asthma\n';
  const docx = zip([{ name: 'word/document.xml', data: Buffer.from('<w:document><w:body><w:p><w:r><w:t>SSN 536-22-1234</w:t></w:r></w:p></w:body></w:document>') }]);
  const ole2 = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600, 0)]);
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 251));
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), random]);
  it.each<[string, string, string, Buffer, string, boolean, string?]>([
    ['HL7 v2 as export.dat (octet-stream)', 'export.dat', 'application/octet-stream', Buffer.from(hl7), 'text', false, 'CLINICAL_FORMAT'],
    ['HL7 v2 without an extension', 'results', 'application/octet-stream', Buffer.from(hl7), 'text', false, 'CLINICAL_FORMAT'],
    ['HL7 v2 as file.hl7.bin (x-unknown)', 'file.hl7.bin', 'application/x-unknown', Buffer.from(hl7), 'text', false, 'CLINICAL_FORMAT'],
    ['C-CDA as summary.ccd (octet-stream)', 'summary.ccd', 'application/octet-stream', Buffer.from(ccda), 'text', false, 'CLINICAL_FORMAT'],
    ['CSV in UTF-16 with a BOM as data.bin', 'data.bin', 'application/octet-stream', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]), 'text', false, 'SSN'],
    ['CSV in UTF-16 without a BOM', 'data.bin', 'application/octet-stream', Buffer.from(csv, 'utf16le'), 'text', false, 'SSN'],
    ['CSV in an 8-bit code page', 'list', 'application/octet-stream', Buffer.from(`${csv}caf\u00e9\n`, 'latin1'), 'text', false, 'SSN'],
    ['a DOCX as attachment.bin', 'attachment.bin', 'application/octet-stream', docx, 'archive', false, 'SSN'],
    ['a DOCX sent as text/plain', 'note.txt', 'text/plain', docx, 'archive', false, 'SSN'],
    ['a PDF sent as octet-stream without a name', 'document', 'application/octet-stream', Buffer.from('%PDF-1.7 broken'), 'pdf', true],
    ['a PDF sent as text/plain', 'report.txt', 'text/plain', Buffer.from('%PDF-1.7 broken'), 'pdf', true],
    ['HTML sent as octet-stream', 'page', 'application/octet-stream', Buffer.from('<!DOCTYPE html><html><body><p>SSN&nbsp;536&#45;22&#45;1234</p></body></html>'), 'text', false, 'SSN'],
    ['a legacy Word file (OLE2) named .dat', 'old.dat', 'application/octet-stream', ole2, 'unsupported', true],
    ['binary content declared as text/plain', 'notes.txt', 'text/plain', random, 'unsupported', true],
    ['binary content of an unknown type', 'blob', 'application/x-unknown', random, 'unsupported', true],
    ['a PNG named .dat', 'image.dat', 'application/octet-stream', png, 'binary', false],
    ['an S/MIME signature', 'smime.p7s', 'application/pkcs7-signature', random, 'binary', false],
    ['a DICOM file named .bin', 'study.bin', 'application/octet-stream', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]), 'dicom', false, 'CLINICAL_FORMAT'],
  ])('%s', async (_name, filename, contentType, content, handling, notFullyScanned, category) => {
    const x = await walk(await compose({ subject: 'file', text: 'attached', attachments: [{ filename, content, contentType }] }));
    expect(x.attachments.map((a) => a.handling)).toEqual([handling]);
    expect(x.notFullyScanned).toBe(notFullyScanned);
    if (category) expect(inspectExtracted(x).categories).toContain(category);
  });

  it.each<[string, string, Buffer, string | undefined, boolean]>([
    ['CCD_export.dat', 'C-CDA under any name', Buffer.from(ccda), 'CLINICAL_FORMAT', false],
    ['results', 'HL7 v2 without an extension', Buffer.from(hl7), 'CLINICAL_FORMAT', false],
    ['summary.cda', 'a .cda file', Buffer.from(ccda), 'CLINICAL_FORMAT', false],
    ['export.bin', 'a nested DOCX under another name', docx, 'SSN', false],
    ['list.dat', 'UTF-16 text', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]), 'SSN', false],
    ['old.doc', 'a legacy Word file', ole2, undefined, true],
    ['blob', 'unknown binary', random, undefined, true],
    ['photo.jpg', 'an image', Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), random]), undefined, false],
    ['__MACOSX/._list.csv', 'a macOS resource fork', Buffer.concat([Buffer.from('00051607', 'hex'), random]), undefined, false],
  ])('inside a ZIP: %s (%s)', async (name, _what, data, category, notFullyScanned) => {
    const archive = zip([{ name, data }]);
    const x = await walk(await compose({ subject: 'files', text: 'attached', attachments: [{ filename: 'files.zip', content: archive }] }));
    expect(x.notFullyScanned).toBe(notFullyScanned);
    if (category) expect(inspectExtracted(x).categories).toContain(category);
  });

  it('keeps the limits: a text attachment over the size limit is cut and says so', async () => {
    const x = await walk(await compose({ subject: 's', text: 'x', attachments: [{ filename: 'export.dat', content: Buffer.from('a'.repeat(300_000)), contentType: 'application/octet-stream' }] }), { maxTextChars: 1_000_000, maxAttachmentBytes: 100_000, maxAttachments: 10, maxPdfBytes: 1000 });
    expect(x.attachments.map((a) => a.handling)).toEqual(['text']);
    expect(x.reasons).toContain('attachment 1 larger than the scan limit');
  });
});

describe('multipart/alternative: both renderings are read', () => {
  it('finds PHI that is only in the HTML part', async () => {
    const eml = [
      'From: a@hospital.example', 'To: b@partner.example', 'Subject: report', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"', '',
      '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Please see the HTML version.', '',
      '--b1', 'Content-Type: text/html; charset=utf-8', '', '<p>Patient: Maria Alvarez, MRN: 00123456, on insulin.</p>', '',
      '--b1--', '',
    ].join('\r\n');
    const x = await extractMessage(Readable.from([Buffer.from(eml)]));
    expect(inspectExtracted(x)).toMatchObject({ phi: true, categories: expect.arrayContaining(['MRN']) as unknown });
  });

  it('reads the same words once when both parts say the same', async () => {
    const eml = [
      'Subject: same', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"', '',
      '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Staff meeting moved to Friday.', '',
      '--b1', 'Content-Type: text/html; charset=utf-8', '', '<p>Staff meeting <b>moved</b> to Friday.</p>', '',
      '--b1--', '',
    ].join('\r\n');
    const x = await extractMessage(Readable.from([Buffer.from(eml)]));
    expect(x.texts.filter((t) => t.includes('Friday'))).toHaveLength(1);
  });
});

describe('HTML tables', () => {
  it('are read as rows of cells, so the header labels its column', async () => {
    const html = '<table><tr><th>Patient</th><th>MRN</th><th>Dx</th></tr><tr><td>Maria Alvarez</td><td>00123456</td><td>E11.9 type 2 diabetes</td></tr></table>';
    expect(htmlText(html, 1_000_000)).toBe('Patient\tMRN\tDx\t\nMaria Alvarez\t00123456\tE11.9 type 2 diabetes\t');
    const eml = ['Subject: list', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n');
    const v = inspectExtracted(await extractMessage(Readable.from([Buffer.from(eml)])));
    expect(v.categories).toEqual(expect.arrayContaining(['MRN', 'ICD10', 'PERSON_NAME', 'PHI']));
  });

  it('in an HTML-only message signed off after the table: read once, with the cells apart, not as a signature', async () => {
    const html =
      "<p>Today's list:</p><table><tr><th>Patient</th><th>DOB</th><th>Procedure</th></tr><tr><td>Maria Santos</td><td>03/02/1971</td><td>Colonoscopy</td></tr></table><p>Thanks</p>";
    const eml = ['Subject: list', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n');
    const x = await extractMessage(Readable.from([Buffer.from(eml)]));
    // mailparser's own text of the HTML (cells run together) is left out: the subject and the HTML's rendering
    expect(x.texts).toEqual(['list', "Today's list:\n\nPatient\tDOB\tProcedure\t\nMaria Santos\t03/02/1971\tColonoscopy\t\n\nThanks"]);
    const v = inspectExtracted(x);
    expect(v.phi).toBe(true);
    expect(v.phiBasis).toMatchObject({ rule: 'identifier-and-health', identifier: 'DOB', health: 'colonoscopy' });
  });
});

describe('a plain-text stub signed off before the HTML alternative', () => {
  const alternative = (text: string, html: string): Buffer =>
    Buffer.from(
      ['Subject: update', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '', text, '--b1', 'Content-Type: text/html; charset=utf-8', '', html, '--b1--', ''].join('\r\n'),
    );
  it.each([
    ['a labelled patient after "Thanks," and a name', 'This message is best viewed in HTML.\r\n\r\nThanks,\r\nScheduling', '<p>Patient: Maria Santos</p><p>DOB: 03/02/1971</p><p>Procedure: colonoscopy on 12/10</p>', 'identifier-and-health'],
    ['a patient in prose after a bare "Regards"', 'See the HTML version.\r\n\r\nRegards', '<p>Mark Ellis in bed 12 spiked a fever overnight, blood cultures pending.</p>', 'individual-and-health'],
  ])('%s: the HTML is read as a message, not as the stub\'s signature', async (_name, text, html, rule) => {
    const v = inspectExtracted(await extractMessage(Readable.from([alternative(text, html)])));
    expect(v.phi).toBe(true);
    expect(v.phiBasis?.rule).toBe(rule);
  });
});

describe('two renderings of one body compared', () => {
  it.each([
    ['the same words, other spacing and punctuation', 'Hello, Maria!\n\nSee you Monday.', 'Hello Maria. See you  Monday', 'same-words'],
    ['cells run together in one', 'PatientDOBMaria Santos03/02/1971', 'Patient\tDOB\nMaria Santos\t03/02/1971', 'same-characters'],
    ['a word more in one', 'Patient Maria Santos', 'Patient Maria Santos diabetes', 'different'],
    ['the same letters in another order', 'ab cd', 'cd ab', 'different'],
  ] as const)('%s', (_name, a, b, expected) => {
    expect(compareRenderings(a, b)).toBe(expected);
  });
});
