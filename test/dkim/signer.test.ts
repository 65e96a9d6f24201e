/**
 * Key loading (real files, real node:crypto keys) and the signer (mailauth's
 * dkimSign), checked by mailauth's verifier with the records dkimTxtRecord
 * makes for the keys.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { algo } from './verify.js';
import { dkimTxtRecord, zoneLine } from '../../src/dkim/dns-record.js';
import { loadDkimKeys, type DkimKey } from '../../src/dkim/keys.js';
import { prepend } from '../../src/dkim/prepend.js';
import { readHeaderBlock, signMessage } from '../../src/dkim/signer.js';
import { isSealgateError } from '../../src/errors.js';

let dir: string;
const records = new Map<string, string>();
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const pkcs8 = { type: 'pkcs8', format: 'pem' } as const;
const resolver = async (name: string): Promise<string[][]> => {
  const value = records.get(name);
  if (value === undefined) throw Object.assign(new Error(`no record ${name}`), { code: 'ENOTFOUND' });
  return [[value]];
};
/** A stream of `bytes` cut into `size`-byte chunks (a header end may fall between two). */
const chunked = (bytes: Buffer, size: number) => (): Readable => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_v, i) => bytes.subarray(i * size, (i + 1) * size)));

let rsaFile: string;
let edFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealgate-dkim-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ed = generateKeyPairSync('ed25519');
  rsaFile = file('rsa.key', rsa.privateKey.export(pkcs8).toString());
  edFile = file('ed.key', ed.privateKey.export(pkcs8).toString());
  for (const [selector, k] of [['r1', rsa.publicKey], ['e1', ed.publicKey]] as const) {
    const r = dkimTxtRecord('example.org', selector, k);
    records.set(r.name, r.value);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadDkimKeys', () => {
  it('loads RSA (PKCS#8 and PKCS#1) and Ed25519 keys with their algorithm', () => {
    const pkcs1 = file('rsa1.key', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    const keys = loadDkimKeys([
      { domain: 'example.org', selector: 'r1', keyFile: rsaFile },
      { domain: 'example.org', selector: 'e1', keyFile: edFile },
      { domain: 'example.net', selector: 'old', keyFile: pkcs1 },
    ]);
    expect(keys.map((k) => [k.domain, k.selector, k.algorithm])).toEqual([
      ['example.org', 'r1', 'rsa-sha256'],
      ['example.org', 'e1', 'ed25519-sha256'],
      ['example.net', 'old', 'rsa-sha256'],
    ]);
  });

  it('names the path and the fix for every bad file, and never the key', () => {
    const short = file('short.key', generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export(pkcs8).toString());
    const ec = file('ec.key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export(pkcs8).toString());
    const encrypted = file('enc.key', generateKeyPairSync('ed25519').privateKey.export({ ...pkcs8, cipher: 'aes-256-cbc', passphrase: 'pw' }).toString());
    const garbage = file('garbage.key', 'not a key\n');
    const pub = file('pub.key', createPublicKey(generateKeyPairSync('ed25519').privateKey).export({ type: 'spki', format: 'pem' }).toString());
    const entries = [
      { domain: 'example.org', selector: 'a', keyFile: join(dir, 'missing.key') },
      { domain: 'example.org', selector: 'b', keyFile: short },
      { domain: 'example.org', selector: 'c', keyFile: ec },
      { domain: 'example.org', selector: 'd', keyFile: encrypted },
      { domain: 'example.org', selector: 'e', keyFile: garbage },
      { domain: 'example.org', selector: 'f', keyFile: pub },
    ];
    let problems: string[] = [];
    try {
      loadDkimKeys(entries);
    } catch (err) {
      expect(isSealgateError(err, 'SG_CONFIG_INVALID')).toBe(true);
      problems = (err as { detail: { problems: string[] } }).detail.problems;
    }
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe(`dkim.keys[0].keyFile: ${join(dir, 'missing.key')}: the file does not exist: create it with "sealgate dkim keygen DOMAIN --selector S --out FILE" or correct the path`);
    expect(problems[1]).toMatch(/^dkim\.keys\[1\]\.keyFile: .*short\.key: the key is a 512-bit RSA key; .*2048-bit/);
    expect(problems[2]).toMatch(/^dkim\.keys\[2\]\.keyFile: .*ec\.key: the key is of type ec; DKIM signs with RSA/);
    expect(problems[3]).toMatch(/^dkim\.keys\[3\]\.keyFile: .*enc\.key: the key is protected by a passphrase/);
    expect(problems[4]).toMatch(/^dkim\.keys\[4\]\.keyFile: .*garbage\.key: not a PEM private key/);
    expect(problems[5]).toMatch(/^dkim\.keys\[5\]\.keyFile: .*pub\.key: not a PEM private key/);
    // no key material: no base64 run as long as a key's
    expect(problems.join('\n')).not.toMatch(/[A-Za-z0-9+/]{40}/);
  });

  it('says how to fix an unreadable file', () => {
    // the file system port answers as for a file of another user (tests run as root, who reads any file)
    const denied = (): Buffer => {
      throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
    };
    expect(() => loadDkimKeys([{ domain: 'example.org', selector: 'a', keyFile: '/etc/sealgate/dkim.key' }], denied)).toThrow(
      'dkim.keys[0].keyFile: /etc/sealgate/dkim.key: cannot read it: give the user running Sealgate read access (mode 0600, owned by that user)',
    );
  });
});

describe('signMessage', () => {
  let keys: DkimKey[];
  beforeAll(() => {
    keys = loadDkimKeys([
      { domain: 'example.org', selector: 'r1', keyFile: rsaFile },
      { domain: 'example.org', selector: 'e1', keyFile: edFile },
    ]);
  });
  const message = Buffer.from('From: "Alice" <alice@billing.example.org>\r\nTo: bob@partner.test\r\nSubject: results\r\nDate: Sat, 05 Dec 2026 06:00:00 +0000\r\nMessage-ID: <1@example.org>\r\nX-Sealgate-Class: phi\r\n\r\nline one\r\nline two  \r\n\r\n\r\n');

  it('makes an RSA and an Ed25519 signature that mailauth verifies and DMARC aligns (relaxed)', async () => {
    const result = await signMessage(chunked(message, 7), { keys, now: () => Date.UTC(2026, 11, 5, 6) });
    expect(result.signed).toBe(true);
    if (!result.signed) return;
    expect(result.domain).toBe('example.org');
    expect(result.selectors).toEqual(['r1', 'e1']);
    const text = result.header.toString('latin1');
    expect(text).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;/);
    expect(text).toMatch(/\r\nDKIM-Signature: v=1; a=ed25519-sha256; /);
    expect(text).toContain(`t=${Date.UTC(2026, 11, 5, 6) / 1000}`);
    expect(text).not.toMatch(/X-Sealgate|[; ]l=/);
    // what the engine sends: the signature on top of the same bytes
    const sent = Buffer.concat(await prepend(result.header, chunked(message, 5))().toArray());
    const verified = await dkimVerify(sent, { resolver });
    expect(verified.results.map((r) => [r.signingDomain, algo(r), r.status.result, r.status.aligned])).toEqual([
      ['example.org', 'rsa-sha256', 'pass', 'example.org'],
      ['example.org', 'ed25519-sha256', 'pass', 'example.org'],
    ]);
    // the signature covers the Subject: a changed one fails both
    const changed = Buffer.from(sent.toString('latin1').replace('Subject: results', 'Subject: [secure] results'), 'latin1');
    expect((await dkimVerify(changed, { resolver })).results.map((r) => r.status.result)).toEqual(['fail', 'fail']);
  });

  it.each<[string, string, string]>([
    ['no key for the From domain', 'From: a@example.com\r\n\r\nbody\r\n', 'no-key'],
    ['no From field', 'Subject: x\r\n\r\nbody\r\n', 'no-from-domain'],
    ['From domains of two organisations', 'From: a@example.org, b@example.com\r\n\r\nbody\r\n', 'no-from-domain'],
  ])('leaves a message unsigned: %s', async (_name, text, reason) => {
    expect(await signMessage(chunked(Buffer.from(text), 4), { keys, now: Date.now })).toEqual({ signed: false, reason });
  });

  it('leaves a message unsigned when its header block is larger than the limit', async () => {
    const huge = Buffer.concat([Buffer.from('From: a@example.org\r\n'), Buffer.alloc(1024 * 1024 + 10, 'X-Pad: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n'), Buffer.from('\r\nbody\r\n')]);
    expect(await signMessage(chunked(huge, 64 * 1024), { keys, now: Date.now })).toEqual({ signed: false, reason: 'header-too-large' });
  });

  it.each<[string, Buffer]>([
    ['one line longer than 1 MiB', Buffer.alloc(1024 * 1024 + 1, 'A')],
    ['a run of empty lines longer than 1 MiB', Buffer.alloc(1024 * 1024 + 2, '\r\n')],
  ])('leaves a message unsigned when its body has %s (mailauth would hold it and copy it again per chunk)', async (_name, body) => {
    const text = Buffer.concat([Buffer.from('From: a@example.org\r\n\r\nstart\r\n'), body, Buffer.from('\r\nend\r\n')]);
    expect(await signMessage(chunked(text, 64 * 1024), { keys, now: Date.now })).toEqual({ signed: false, reason: 'line-too-long' });
  });

  it('signs a body of many ordinary lines, whatever its size', async () => {
    const line = Buffer.from(`${'QUJD'.repeat(19)}\r\n`);
    const text = Buffer.concat([Buffer.from('From: a@example.org\r\nContent-Transfer-Encoding: base64\r\n\r\n'), Buffer.concat(Array<Buffer>(40_000).fill(line))]);
    const result = await signMessage(chunked(text, 64 * 1024), { keys, now: Date.now });
    expect(result.signed).toBe(true);
    if (result.signed) expect((await dkimVerify(Buffer.concat([result.header, text]), { resolver })).results.map((r) => r.status.result)).toEqual(['pass', 'pass']);
  });

  it('throws when mailauth cannot sign (the engine then sends unsigned)', async () => {
    const wrong = keys.map((k) => ({ ...k, algorithm: 'ed25519-sha256' as const, privateKeyPem: keys[0]?.privateKeyPem ?? '' }));
    await expect(signMessage(chunked(message, 100), { keys: wrong, now: Date.now })).rejects.toThrow(/DKIM signing failed: Invalid key type/);
  });
});

describe('readHeaderBlock', () => {
  it.each<[string, string, number, string | undefined]>([
    ['CRLF CRLF split over chunks', 'A: 1\r\nB: 2\r\n\r\nbody', 1, 'A: 1\r\nB: 2\r\n'],
    ['bare LF line ends', 'A: 1\nB: 2\n\nbody', 3, 'A: 1\nB: 2\n'],
    ['no body: the whole message', 'A: 1\r\nB: 2\r\n', 4, 'A: 1\r\nB: 2\r\n'],
  ])('%s', async (_name, text, size, expected) => {
    expect(await readHeaderBlock(chunked(Buffer.from(text), size)())).toBe(expected);
  });

  it('stops reading past the limit and closes the stream', async () => {
    const stream = chunked(Buffer.alloc(10_000, 'a'), 100)();
    expect(await readHeaderBlock(stream, 1000)).toBeUndefined();
    expect(stream.destroyed).toBe(true);
  });
});

describe('dkimTxtRecord', () => {
  it('publishes RSA as SubjectPublicKeyInfo and Ed25519 as its bare 32-byte key, in strings of at most 255 bytes', () => {
    const rsa = dkimTxtRecord('example.org', 's', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    expect(rsa.name).toBe('s._domainkey.example.org');
    expect(rsa.value).toMatch(/^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/]+=*$/);
    const strings = [...zoneLine(rsa).matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(strings.length).toBe(2);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(strings.join('')).toBe(rsa.value);
    const ed = dkimTxtRecord('example.org', 's', generateKeyPairSync('ed25519').publicKey);
    expect(Buffer.from(ed.value.replace(/^v=DKIM1; k=ed25519; p=/, ''), 'base64')).toHaveLength(32);
  });
});
