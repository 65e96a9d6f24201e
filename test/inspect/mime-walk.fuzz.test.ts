/**
 * Property-based fuzzing of the MIME walk and text extraction
 * (src/inspect/extract.ts, extractMessage: the inspection threads run it on
 * every queued message). Seeds are valid messages built with nodemailer's
 * composer: multipart/mixed with quoted-printable and base64 parts, HTML,
 * CSV, a ZIP, a DOCX, a PDF, a UTF-16 attachment, nested message/rfc822 and
 * multipart/alternative. They are mutated: truncated, bytes flipped, bytes
 * inserted, boundaries duplicated or removed, charsets and
 * Content-Transfer-Encodings made absurd, header lines made enormous (within
 * the ingress header limit), parts spliced from another message, MIME nested
 * deep, hundreds of parts; then streamed in random chunks.
 *
 * Contract checked on every input:
 * - extractMessage never throws synchronously; its promise settles (no hang)
 *   either with a well-formed result or with an Error (which the inspection
 *   thread reports, and the pool turns into "not fully scanned": fail closed);
 * - nothing escapes: no unhandled rejection, no uncaught exception;
 * - a result respects its limits (text kept, recipients), says
 *   notFullyScanned exactly when it gives reasons, and the verdict on it is
 *   computed without an exception and is never less cautious than it;
 * - the same bytes give the same outcome whatever the chunking.
 */
import { deflateRawSync } from 'node:zlib';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractMessage, type ExtractLimits, type Extracted } from '../../src/inspect/extract.js';
import { inspectExtracted } from '../../src/inspect/verdict.js';
import { fuzzParams } from '../helpers/fuzz.js';

const SETTLE_LIMIT_MS = 30_000; // a hang detector, not a speed assertion

// ---------------------------------------------------------------------------
// Seeds

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = (CRC_TABLE[(c ^ x) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A small ZIP (deflated entries) written by hand: no zip tool needed. */
function zip(entries: readonly { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const packed = deflateRawSync(e.data);
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A one-page PDF with a text layer (pdf.js rebuilds the missing xref table). */
const PDF = Buffer.from(
  [
    '%PDF-1.4',
    '1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj',
    '2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj',
    '3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>> endobj',
    '4 0 obj <</Length 52>> stream',
    'BT /F1 12 Tf 20 100 Td (MRN 00123456 diabetes) Tj ET',
    'endstream endobj',
    '5 0 obj <</Type/Font/Subtype/Type1/BaseFont/Helvetica>> endobj',
    'trailer <</Root 1 0 R/Size 6>>',
    '%%EOF',
  ].join('\n'),
  'latin1',
);

async function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer({ from: 'Alice <alice@hospital.example>', to: 'Bob <bob@clinic.example>, carol@clinic.example', cc: 'Team: dan@clinic.example, eve@clinic.example;', ...options }).compile().build();
}

let seeds: Buffer[] = [];

beforeAll(async () => {
  const inner = await compose({
    subject: 'Fwd: labs =?utf-8?B?w6nDqA==?=',
    text: 'SSN 536-22-1234, Dx: E11.9\r\n',
    html: '<p>MRN&#58; <b>00123456</b> &amp; insulin</p>',
    attachments: [{ filename: 'list.csv', content: 'name,dob\nJane Roe,04/17/1968\n' }],
  });
  const docx = zip([
    { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
    { name: 'word/document.xml', data: Buffer.from('<w:document><w:p><w:t>MRN: 00123456 started on insulin</w:t></w:p></w:document>') },
  ]);
  seeds = [
    await compose({
      subject: 'Referral =?iso-8859-1?Q?caf=E9?=',
      text: `Please see attached.\r\n${'A long quoted-printable line with = signs and caf\u00e9 and more text '.repeat(4)}\r\n.\r\nend\r\n`,
      html: '<html><body><p>MRN&#58;&nbsp;00123456</p><script>x()</script><style>p{}</style></body></html>',
      attachments: [
        { filename: 'patients.csv', content: 'name,dob,diagnosis\nJane Roe,DOB 04/17/1968,diabetes\n' },
        { filename: 'records.zip', content: zip([{ name: 'a.txt', data: Buffer.from('SSN 536-22-1234') }, { name: 'nested.zip', data: zip([{ name: 'b.csv', data: Buffer.from('x,y\n1,2\n') }]) }]) },
        { filename: 'note.docx', content: docx },
        { filename: 'export.txt', content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('MRN 00123456\r\n', 'utf16le')]), contentType: 'text/plain; charset=utf-16' },
        { filename: 'page.html', content: '<p>DOB &#48;4/17/1968</p>', contentType: 'text/html' },
      ],
    }),
    await compose({ subject: 'Fwd', text: 'see below', attachments: [{ filename: 'forwarded.eml', content: inner, contentType: 'message/rfc822' }, { filename: 'labs.pdf', content: PDF, contentType: 'application/pdf' }] }),
    await compose({
      subject: 'alternative',
      alternatives: [{ contentType: 'text/calendar', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' }],
      text: 'plain part',
      html: '<p>html part</p>',
      attachments: [
        { filename: 'scan.dcm', content: Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(64)]), contentType: 'application/dicom' },
        { filename: 'blob.bin', content: Buffer.alloc(300, 7), contentType: 'application/octet-stream' },
        { filename: 'photo.png', content: Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 1)]), contentType: 'image/png' },
        { filename: 'inline.eml', content: await compose({ subject: 'deep', text: 'x', attachments: [{ filename: 'deeper.eml', content: inner, contentType: 'message/rfc822' }] }), contentType: 'message/rfc822' },
      ],
    }),
    // a 7bit message/rfc822 part: mailparser hands it over whole (the composer's base64 one it walks itself)
    Buffer.from(
      `From: a@example.com\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n${inner.toString('latin1')}\r\n--b--\r\n`,
      'latin1',
    ),
    Buffer.from('From: a@example.com\r\nTo: b@example.net\r\nSubject: plain\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nMRN=3A 00123456 caf=E9 =\r\nsoft break, diagnosed with diabetes\r\n', 'latin1'),
  ];
});

// ---------------------------------------------------------------------------
// Mutations

const LIMITS: readonly ExtractLimits[] = [
  { maxTextChars: 4_000_000, maxAttachmentBytes: 10 * 1024 * 1024, maxAttachments: 200, maxPdfBytes: 32 * 1024 * 1024 },
  { maxTextChars: 300, maxAttachmentBytes: 200, maxAttachments: 3, maxPdfBytes: 500 },
];

function boundaries(text: string): string[] {
  return [...text.matchAll(/boundary="?([^";\r\n]+)"?/gi)].map((m) => m[1] ?? '').filter(Boolean);
}

type Mutation =
  | { readonly k: 'truncate'; readonly at: number }
  | { readonly k: 'flip'; readonly at: number; readonly mask: number }
  | { readonly k: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly k: 'dupBoundary'; readonly which: number; readonly times: number }
  | { readonly k: 'dropBoundary'; readonly which: number }
  | { readonly k: 'charset'; readonly value: string }
  | { readonly k: 'encoding'; readonly value: string }
  | { readonly k: 'contentType'; readonly value: string }
  | { readonly k: 'bigHeader'; readonly name: string; readonly length: number; readonly folded: boolean }
  | { readonly k: 'splice'; readonly other: number; readonly from: number; readonly length: number; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => ({ k: 'truncate' as const, at })),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]) => ({ k: 'flip' as const, at, mask })),
  fc.tuple(fc.nat(), fc.array(fc.oneof(fc.constantFrom(0x0d, 0x0a, 0x2d, 0x3d, 0x3b, 0x22, 0x00, 0xff), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 })).map(([at, bytes]) => ({ k: 'insert' as const, at, bytes })),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 50 })).map(([which, times]) => ({ k: 'dupBoundary' as const, which, times })),
  fc.nat().map((which) => ({ k: 'dropBoundary' as const, which })),
  fc.constantFrom('x-unknown', 'utf-7', '', 'utf-16', 'utf-16be', 'iso-2022-jp', 'gb18030', '\u00ff\u00fe', '"unterminated', 'utf-8; charset=latin1', 'ucs-4', 'x'.repeat(300)).map((value) => ({ k: 'charset' as const, value })),
  fc.constantFrom('base64base64', 'x-uuencode', 'uuencode', 'quoted-printable; foo=bar', 'binary', '7bit', '8bit', 'BASE64 junk', 'qUoTeD-PrInTaBlE', 'x-gzip', '', 'base64\u0000').map((value) => ({ k: 'encoding' as const, value })),
  fc.constantFrom('multipart/mixed', 'multipart/mixed; boundary=""', 'multipart/alternative; boundary=-', 'message/rfc822', 'message/global', 'text/html', 'application/pdf', 'application/zip', 'text/plain; charset=utf-16le', 'multipart/digest; boundary=x', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', ';;;', 'text/').map((value) => ({ k: 'contentType' as const, value })),
  fc.tuple(fc.constantFrom('Subject', 'X-Long', 'To', 'Content-Type', 'Received'), fc.integer({ min: 1000, max: 400_000 }), fc.boolean()).map(([name, length, folded]) => ({ k: 'bigHeader' as const, name, length, folded })),
  fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 4000 }), fc.nat()).map(([other, from, length, at]) => ({ k: 'splice' as const, other, from, length, at })),
);

function apply(raw: Buffer, m: Mutation): Buffer {
  const pos = (n: number): number => (raw.length === 0 ? 0 : n % (raw.length + 1));
  switch (m.k) {
    case 'truncate':
      return raw.subarray(0, pos(m.at));
    case 'flip': {
      if (raw.length === 0) return raw;
      const out = Buffer.from(raw);
      const i = m.at % raw.length;
      out[i] = (out[i] ?? 0) ^ m.mask;
      return out;
    }
    case 'insert':
      return Buffer.concat([raw.subarray(0, pos(m.at)), Buffer.from(m.bytes), raw.subarray(pos(m.at))]);
    case 'dupBoundary':
    case 'dropBoundary': {
      const text = raw.toString('latin1');
      const all = boundaries(text);
      const b = all[m.which % Math.max(1, all.length)];
      if (!b) return raw;
      const lines = text.split('\r\n');
      const idx = lines.map((l, i) => (l.startsWith(`--${b}`) ? i : -1)).filter((i) => i >= 0);
      const target = idx[m.which % Math.max(1, idx.length)];
      if (target === undefined) return raw;
      if (m.k === 'dropBoundary') lines.splice(target, 1);
      else lines.splice(target, 0, ...Array<string>(m.times).fill(lines[target] ?? ''));
      return Buffer.from(lines.join('\r\n'), 'latin1');
    }
    case 'charset':
      return Buffer.from(raw.toString('latin1').replace(/charset=("[^"]*"|[^;\s]+)/gi, `charset=${m.value}`), 'latin1');
    case 'encoding':
      return Buffer.from(raw.toString('latin1').replace(/^(Content-Transfer-Encoding:)[^\r\n]*/gim, `$1 ${m.value}`), 'latin1');
    case 'contentType': {
      // one Content-Type header, chosen by the position
      const text = raw.toString('latin1');
      const hits = [...text.matchAll(/^Content-Type:[^\r\n]*(\r\n[ \t][^\r\n]*)*/gim)];
      const hit = hits[m.value.length % Math.max(1, hits.length)];
      if (!hit || hit.index === undefined) return raw;
      return Buffer.from(`${text.slice(0, hit.index)}Content-Type: ${m.value}${text.slice(hit.index + hit[0].length)}`, 'latin1');
    }
    case 'bigHeader': {
      const value = m.folded ? Array.from({ length: Math.ceil(m.length / 70) }, (_, i) => `x${i}@a.example,`.padEnd(68, 'y')).join('\r\n ') : 'z'.repeat(m.length);
      return Buffer.concat([Buffer.from(`${m.name}: ${value}\r\n`, 'latin1'), raw]);
    }
    case 'splice': {
      const other = seeds[m.other % seeds.length] ?? raw;
      const from = other.length === 0 ? 0 : m.from % other.length;
      return Buffer.concat([raw.subarray(0, pos(m.at)), other.subarray(from, from + m.length), raw.subarray(pos(m.at))]);
    }
  }
}

/** Structures no seed has: deep multipart nesting, message/rfc822 in message/rfc822, hundreds of parts (each carries MARKER once). */
const MARKER = 'MARKER-7f3a';
const structured: fc.Arbitrary<Buffer> = fc.oneof(
  fc.integer({ min: 1, max: 120 }).map((depth) => {
    let body = `Content-Type: text/plain\r\n\r\nMRN 00123456 ${MARKER}\r\n`;
    for (let i = 0; i < depth; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--\r\n`;
    return Buffer.from(`From: a@example.com\r\nSubject: deep\r\n${body}`, 'latin1');
  }),
  fc.integer({ min: 1, max: 12 }).map((depth) => {
    let msg = `Subject: innermost\r\n\r\nSSN 536-22-1234 ${MARKER}\r\n`;
    for (let i = 0; i < depth; i++) msg = `Subject: level ${i}\r\nContent-Type: message/rfc822\r\n\r\n${msg}`;
    return Buffer.from(msg, 'latin1');
  }),
  fc.tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom('text/plain', 'application/octet-stream', 'text/csv', 'application/zip', 'message/rfc822')).map(([n, type]) => {
    const parts = Array.from({ length: n }, (_, i) => `--p\r\nContent-Type: ${type}\r\nContent-Disposition: attachment; filename="f${i}"\r\n\r\npart ${i}${i === n - 1 ? ` ${MARKER}` : ''}\r\n`).join('');
    return Buffer.from(`From: a@example.com\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${parts}--p--\r\n`, 'latin1');
  }),
);

/** A message: a seed (or a generated structure) and up to five mutations. */
const message = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat(), fc.array(mutation, { minLength: 0, maxLength: 5 })).map(([i, ms]) => ({ seed: i, structured: undefined as Buffer | undefined, ms })) },
  { weight: 1, arbitrary: fc.tuple(structured, fc.array(mutation, { maxLength: 2 })).map(([b, ms]) => ({ seed: 0, structured: b, ms })) },
);

function build(m: { seed: number; structured: Buffer | undefined; ms: readonly Mutation[] }): Buffer {
  let raw = m.structured ?? seeds[m.seed % seeds.length] ?? Buffer.alloc(0);
  for (const mu of m.ms) raw = apply(raw, mu);
  return raw;
}

function chunks(raw: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [0, ...cuts.map((c) => (raw.length ? c % (raw.length + 1) : 0)).sort((a, b) => a - b), raw.length];
  return points.slice(1).map((p, i) => raw.subarray(points[i], p)).filter((c) => c.length > 0);
}

// ---------------------------------------------------------------------------
// Running one walk

type Outcome = { readonly ok: true; readonly value: Extracted } | { readonly ok: false; readonly error: unknown };

const escaped: unknown[] = [];
const onEscape = (err: unknown): void => {
  escaped.push(err);
};

beforeAll(() => {
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});

afterAll(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
});

async function walk(parts: readonly Buffer[], limits: ExtractLimits): Promise<Outcome> {
  escaped.length = 0;
  let promise: Promise<Extracted>;
  try {
    promise = extractMessage(Readable.from(parts), limits);
  } catch (error) {
    throw new Error(`extractMessage threw synchronously: ${String(error)}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`extractMessage did not settle within ${SETTLE_LIMIT_MS} ms`)), SETTLE_LIMIT_MS);
  });
  try {
    return await Promise.race([promise.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), hang]);
  } finally {
    clearTimeout(timer);
    // anything the walk left behind gets a turn to fail loudly before the check
    await new Promise((r) => setImmediate(r));
  }
}

const HANDLING = new Set(['text', 'archive', 'message', 'pdf', 'dicom', 'unsupported', 'binary', 'skipped']);

function checkOutcome(o: Outcome, limits: ExtractLimits): void {
  expect(escaped, 'unhandled rejection or uncaught exception during the walk').toEqual([]);
  if (!o.ok) {
    // the thread reports err.message and the pool counts the message as not fully scanned
    expect(o.error, `rejection is an Error: ${String(o.error)}`).toBeInstanceOf(Error);
    expect(typeof (o.error as Error).message).toBe('string');
    return;
  }
  const x = o.value;
  expect(Object.keys(x).sort()).toEqual(['attachments', 'authorNames', 'dicom', 'encrypted', 'notFullyScanned', 'personalAuthor', 'readerNames', 'reasons', 'subject', 'texts', 'visibleRecipients']);
  expect(typeof x.subject).toBe('string');
  for (const t of x.texts) expect(typeof t).toBe('string');
  expect(x.texts.reduce((n, t) => n + t.length, 0)).toBeLessThanOrEqual(limits.maxTextChars);
  expect(x.visibleRecipients.length).toBeLessThanOrEqual(1000);
  for (const r of x.visibleRecipients) expect(r).toBe(r.toLowerCase());
  expect(x.readerNames.length).toBeLessThanOrEqual(10);
  for (const n of x.readerNames) expect(typeof n === 'string' && n.length > 0 && n.length <= 100).toBe(true);
  expect(x.authorNames.length).toBeLessThanOrEqual(10);
  for (const n of x.authorNames) expect(typeof n === 'string' && n.length > 0 && n.length <= 100).toBe(true);
  expect(typeof x.personalAuthor).toBe('boolean');
  for (const a of x.attachments) {
    expect(typeof a.filename).toBe('string');
    expect(typeof a.contentType).toBe('string');
    expect(Number.isFinite(a.size) && a.size >= 0, `attachment size ${a.size}`).toBe(true);
    expect(HANDLING.has(a.handling), a.handling).toBe(true);
  }
  expect(typeof x.dicom).toBe('boolean');
  expect(typeof x.encrypted).toBe('boolean');
  expect(x.notFullyScanned).toBe(x.reasons.length > 0);
  for (const r of x.reasons) expect(typeof r).toBe('string');
  if (x.attachments.filter((a) => a.handling !== 'skipped').length > limits.maxAttachments) throw new Error(`more than ${limits.maxAttachments} attachments walked`);
  const verdict = inspectExtracted(x);
  expect(typeof verdict.phi).toBe('boolean');
  // the verdict is never less cautious than the walk
  if (x.notFullyScanned) expect(verdict.notFullyScanned).toBe(true);
}

/** What must not depend on chunking (the order of asynchronously handled parts may). */
function essence(o: Outcome): unknown {
  if (!o.ok) return { rejected: true };
  const x = o.value;
  return {
    subject: x.subject,
    visibleRecipients: [...x.visibleRecipients].sort(),
    attachments: x.attachments.map((a) => `${a.handling} ${a.contentType} ${a.filename}`).sort(),
    dicom: x.dicom,
    encrypted: x.encrypted,
    notFullyScanned: x.notFullyScanned,
  };
}

describe('MIME walk (fuzzed)', () => {
  it('the unmutated seeds walk cleanly and find what they carry', async () => {
    const handled: string[] = [];
    for (const seed of seeds) {
      const o = await walk([seed], LIMITS[0] as ExtractLimits);
      checkOutcome(o, LIMITS[0] as ExtractLimits);
      if (!o.ok) throw o.error;
      expect(inspectExtracted(o.value).phi).toBe(true);
      handled.push(...o.value.attachments.map((a) => a.handling));
    }
    // the seeds reach every kind of part the walk handles
    expect(new Set(handled)).toEqual(new Set(['text', 'archive', 'message', 'pdf', 'dicom', 'binary', 'unsupported']));
  });

  it('mutated and generated MIME: settles, nothing escapes, result well formed, chunking does not matter', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.array(fc.nat(), { maxLength: 8 }), fc.nat({ max: LIMITS.length - 1 }), async (m, cuts, li) => {
        const limits = LIMITS[li] as ExtractLimits;
        const raw = build(m);
        const whole = await walk([raw], limits);
        checkOutcome(whole, limits);
        const cut = await walk(chunks(raw, cuts), limits);
        checkOutcome(cut, limits);
        expect(essence(cut)).toEqual(essence(whole));
      }),
      // a hang is found after SETTLE_LIMIT_MS and each shrinking step that still hangs costs as much:
      // stop in time to report the seed and the counterexample instead of vitest's bare timeout
      fuzzParams(300, { timeout: 60_000, interruptAfterTimeLimit: 240_000 }),
    );
  }, 300_000);

  it('never fails open: the marker text of a generated structure is found, or the message is not fully scanned', async () => {
    await fc.assert(
      fc.asyncProperty(structured, fc.array(fc.nat(), { maxLength: 8 }), fc.nat({ max: LIMITS.length - 1 }), async (raw, cuts, li) => {
        const limits = LIMITS[li] as ExtractLimits;
        const o = await walk(chunks(raw, cuts), limits);
        checkOutcome(o, limits);
        if (!o.ok) throw o.error;
        expect(o.value.texts.join('\n').includes(MARKER) || o.value.notFullyScanned, `${MARKER} neither found nor flagged; reasons: ${o.value.reasons.join('; ')}`).toBe(true);
      }),
      fuzzParams(200, { timeout: 60_000, interruptAfterTimeLimit: 100_000 }),
    );
  });

  it('arbitrary bytes: settles, nothing escapes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), fc.nat({ max: LIMITS.length - 1 }), async (bytes, li) => {
        const limits = LIMITS[li] as ExtractLimits;
        checkOutcome(await walk([Buffer.from(bytes)], limits), limits);
      }),
      fuzzParams(300, { timeout: 60_000, interruptAfterTimeLimit: 100_000 }),
    );
  });
});
