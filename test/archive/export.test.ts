/**
 * `sealgate archive export` and `archive verify-export` on a real gateway's
 * archive: three messages archived by the daemon, a clean stop, then
 * exports (all entries, one entry, --no-content) that verify offline, and
 * copies of an export changed in a byte of each member, in headers and the
 * central directory, with a member removed or added: each fails, naming the
 * member where there is one. The documented procedure with unzip,
 * sha256sum and openssl alone is run on a real export too.
 */
import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { verifyExport } from '../../src/archive/verify-export.js';
import { COMMENT_LENGTH, COMMENT_PREFIX, containerMessage, csvCell, sumsText, type Manifest } from '../../src/archive/export-format.js';
import { writeExport } from '../../src/archive/export.js';
import { parseSearch } from '../../src/archive/search.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { objectStoreRoot } from '../../src/objects/location.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/archive/signing-key.js';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { createHash, sign } from 'node:crypto';
import { dataPayload, RawSmtp } from '../helpers/smtp-client.js';
import { auditEvents, runCli, setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { readArchived, withDb } from '../helpers/spool-reader.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);
let setup: TestSetup;
let ids: string[] = [];
let fingerprint = '';
let full = '';

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'archive', ...args]);

async function send(port: number, rcpts: string[], subject: string, n: number): Promise<void> {
  const { client } = await RawSmtp.connect(port);
  await client.command('EHLO client.test');
  await client.command('MAIL FROM:<alice@example.com>');
  for (const r of rcpts) await client.command(`RCPT TO:<${r}>`);
  await client.data(dataPayload(`Subject: ${subject}\r\nMessage-ID: <m${n}@example.com>\r\n\r\nbody of ${subject}\r\n`));
  await client.quit();
}

interface Member {
  name: string;
  data: Buffer;
  /** Where the member's (compressed) data starts in the file, and its length there. */
  start: number;
  length: number;
  header: number;
}

/** The members of a ZIP with their bytes and where their data lies in the file. */
async function members(path: string): Promise<Member[]> {
  const file = await readFile(path);
  const zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.open(path, { lazyEntries: true }, (e, z) => (e || !z ? rej(e) : res(z))));
  const out: Member[] = [];
  await new Promise<void>((res, rej) => {
    zip.on('entry', (e: yauzl.Entry) => {
      zip.openReadStream(e, (err, s) => {
        if (err || !s) return rej(err);
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => {
          const h = e.relativeOffsetOfLocalHeader;
          const start = h + 30 + file.readUInt16LE(h + 26) + file.readUInt16LE(h + 28);
          out.push({ name: e.fileName, data: Buffer.concat(chunks), start, length: e.compressedSize, header: h });
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => res());
    zip.on('error', rej);
    zip.readEntry();
  });
  zip.close();
  return out;
}

/** A new ZIP (yazl, no container signature) of the given members. */
async function rezip(path: string, list: { name: string; data: Buffer }[]): Promise<void> {
  const z = new yazl.ZipFile();
  for (const m of list) z.addBuffer(m.data, m.name);
  z.end();
  await pipeline(z.outputStream, createWriteStream(path));
}

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }] });
  const gw = await startGateway(setup.configPath);
  await send(gw.port, ['bob@example.net', 'carol@example.org'], 'first zebra', 1);
  await send(gw.port, ['dave@example.net'], 'second zebra', 2);
  await send(gw.port, ['=cmd@example.net'], 'third zebra', 3);
  const deadline = Date.now() + 60_000;
  while (gw.logLines().filter((l) => l.event === 'MESSAGE_ARCHIVED').length < 3) {
    if (Date.now() > deadline) throw new Error(`messages not archived; stdout: ${gw.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await gw.stop()).toBe(0);
  const search = await cli('search', '--json');
  ids = (JSON.parse(search.stdout) as { id: string }[]).map((e) => e.id);
  fingerprint = (await cli('key')).stdout.split(' ')[1] ?? '';
  full = join(setup.dir, 'all.zip');
  const r = await cli('export', '--from', 'alice@example.com', '--out', full);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^exported 3 entries \(4 recipient rows, 3 messages, chain segment of \d+ events, [1-9]\d* checkpoints\) to .*all\.zip: \d+ bytes, manifest sha256 [0-9a-f]{64}\n$/);
});

afterAll(async () => {
  await setup?.cleanup();
});

describe('archive export', () => {
  it('holds the messages byte for byte, the evidence, the rows, the chain segment and the signed manifest; verify-export says OK', async () => {
    expect(ids).toHaveLength(3);
    const list = await members(full);
    const names = list.map((m) => m.name).sort();
    expect(names).toEqual(
      ['SHA256SUMS', 'SHA256SUMS.sig', 'chain.jsonl', 'checkpoints.json', 'evidence.csv', 'evidence.json', 'gateway-signing.pem', 'manifest.json', 'manifest.sig', 'rows.jsonl', ...ids.map((id) => `messages/${id}.eml`)].sort(),
    );
    for (const id of ids) {
      const eml = list.find((m) => m.name === `messages/${id}.eml`)?.data;
      expect(eml?.equals((await readArchived(setup.dataDir, setup.masterKeyFile, id)) ?? Buffer.alloc(0))).toBe(true);
    }
    // evidence.json is archive show --json, entry by entry
    const evidence = JSON.parse(list.find((m) => m.name === 'evidence.json')?.data.toString('utf8') ?? '') as Record<string, unknown>[];
    for (const e of evidence) {
      const shown = JSON.parse((await cli('show', String(e.id), '--json')).stdout) as Record<string, unknown>;
      expect(e).toEqual(shown);
    }
    const csv = list.find((m) => m.name === 'evidence.csv')?.data.toString('utf8') ?? '';
    expect(csv.split('\r\n')).toHaveLength(1 + 4 + 1);
    expect(csv).toContain(",'=cmd@example.net,"); // a cell a spreadsheet would run is defused
    const manifest = JSON.parse(list.find((m) => m.name === 'manifest.json')?.data.toString('utf8') ?? '') as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 'sealgate-archive-export', version: 1, entries: 3, recipients: 4, content: true, search: { from: 'alice@example.com' }, key: { fingerprint } });

    const ok = await cli('verify-export', full, '--fingerprint', fingerprint);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^export OK: .*all\\.zip: 3 entries, 4 recipient rows, 3 messages; chain segment #\\d+\\.\\.#\\d+ \\(\\d+ events\\), [1-9]\\d* signed checkpoints; signed by key ${fingerprint} on `));
    expect(ok.stdout).not.toContain('covered by the chain only'); // the stop checkpoint signed the segment's end
  });

  it('is audited with the filter names, the count, content yes/no and the manifest hash', async () => {
    const manifest = (await members(full)).find((m) => m.name === 'manifest.json')?.data ?? Buffer.alloc(0);
    const sha = (await import('node:crypto')).createHash('sha256').update(manifest).digest('hex');
    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'archive:exported');
    expect(events[0]?.data).toMatchObject({ via: 'cli', filters: ['from'], entries: 3, content: 'yes', sha256: sha });
    expect(JSON.stringify(events)).not.toContain('alice@');
  });

  it('--no-content: metadata and evidence only, no Subject; one entry by --queue-id', async () => {
    const out = join(setup.dir, 'meta.zip');
    const r = await cli('export', '--queue-id', ids[0] ?? '', '--no-content', '--out', out);
    expect(r.code).toBe(0);
    const list = await members(out);
    expect(list.some((m) => m.name.startsWith('messages/'))).toBe(false);
    const evidence = JSON.parse(list.find((m) => m.name === 'evidence.json')?.data.toString('utf8') ?? '') as { id: string; subject: unknown }[];
    expect(evidence.map((e) => [e.id, e.subject])).toEqual([[ids[0], null]]);
    expect(list.map((m) => m.data.toString('latin1')).join('')).not.toContain('zebra'); // no subject word anywhere
    const ok = await cli('verify-export', out);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/: 1 entries, \d recipient rows, no content \(--no-content\);/);
    const events = (await auditEvents(setup.configPath)).filter((e) => e.type === 'archive:exported');
    expect(events.at(-1)?.data).toMatchObject({ filters: ['queueId'], entries: 1, content: 'no' });
  });

  it('refuses a selection over the maximum, and leaves no file behind', async () => {
    const keyring = await loadKeyring({ masterKeyFile: setup.masterKeyFile, create: false });
    const out = join(setup.dir, 'too-many.zip');
    const err = await withDb(setup.dataDir, async (db) => {
      const key = await loadOrCreateSigningKey(db, keyring, Date.now());
      const objects = new LocalObjectStore(objectStoreRoot(setup.dataDir));
      return writeExport({ db, keyring, objects, key, search: parseSearch({}, Date.now(), () => []), searchText: {}, out, content: true, operator: 'test', now: Date.now(), maxEntries: 2 }).then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect((err as Error).message).toBe('the search selects more than 2 entries, the most one export holds; narrow it (--since/--until, another filter) and export in parts');
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(setup.dir)).filter((n) => n.includes('.partial'))).toEqual([]);
  });

  it.for([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['two\r\nlines', '"two\r\nlines"'],
    [null, ''],
    [250, '250'],
  ] as const)('CSV cell %j is written %j', ([value, cell]) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('refuses an existing --out, an empty selection, and a bad filter, with one line', async () => {
    const exists = await cli('export', '--out', full);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/^sealgate: .*all\.zip exists; give another --out/);
    const none = await cli('export', '--from', 'nobody@example.com', '--out', join(setup.dir, 'none.zip'));
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('sealgate: no archive entry matches the search: nothing to export\n');
    const bad = await cli('export', '--since', 'yesterday', '--out', join(setup.dir, 'bad.zip'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain('yesterday');
  });
});

describe('archive verify-export: any change fails', () => {
  it('a byte flipped inside each member names that member', async () => {
    const list = await members(full);
    const file = await readFile(full);
    for (const m of list) {
      const copy = Buffer.from(file);
      const at = m.start + Math.floor(m.length / 2);
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      const path = join(setup.dir, 'flip.zip');
      await writeFile(path, copy);
      const r = await verifyExport(path);
      expect(r.ok, m.name).toBe(false);
      if (!r.ok) {
        const expected = m.name === 'manifest.json' ? /^manifest\.(json|sig)$/ : m.name === 'SHA256SUMS' ? /^SHA256SUMS(\.sig)?$/ : new RegExp(`^${m.name.replace(/\./g, '\\.')}$`);
        expect(r.at, `${m.name}: ${r.detail}`).toMatch(expected);
      }
    }
  });

  it('a byte changed anywhere — headers, times, the central directory, the comment — fails', async () => {
    const file = await readFile(full);
    const positions = new Set<number>();
    for (let i = 0; i < file.length; i += 61) positions.add(i);
    for (const m of await members(full)) for (let i = m.header; i < m.start; i++) positions.add(i); // every local header byte
    for (let i = file.length - 200; i < file.length; i++) positions.add(i); // the central directory's end and the comment
    const path = join(setup.dir, 'byte.zip');
    for (const at of positions) {
      const copy = Buffer.from(file);
      copy[at] = (copy[at] ?? 0) ^ 0x20;
      await writeFile(path, copy);
      const r = await verifyExport(path);
      expect(r.ok, `byte ${at} of ${file.length}`).toBe(false);
    }
    const longer = join(setup.dir, 'longer.zip');
    await writeFile(longer, Buffer.concat([file, Buffer.from('\n')]));
    expect((await verifyExport(longer)).ok).toBe(false);
    const cut = join(setup.dir, 'cut.zip');
    await writeFile(cut, file.subarray(0, file.length >> 1));
    expect(await verifyExport(cut)).toMatchObject({ ok: false, at: 'the ZIP', detail: expect.stringMatching(/^it cannot be read as a ZIP file/) as unknown });
    await writeFile(cut, 'not a zip at all\n');
    expect(await verifyExport(cut)).toMatchObject({ ok: false, at: 'the ZIP' });
  });

  it('a member removed, a member added, a message replaced: named, exit 1', async () => {
    const list = await members(full);
    const eml = `messages/${ids[1] ?? ''}.eml`;
    const cases: { name: string; members: { name: string; data: Buffer }[]; at: RegExp }[] = [
      { name: 'removed', members: list.filter((m) => m.name !== eml), at: new RegExp(`^export BROKEN at ${eml.replace(/\./g, '\\.')}: it is missing`) },
      { name: 'removed-csv', members: list.filter((m) => m.name !== 'evidence.csv'), at: /^export BROKEN at evidence\.csv: it is missing/ },
      { name: 'added', members: [...list, { name: 'notes.txt', data: Buffer.from('hello') }], at: /^export BROKEN at notes\.txt: it is not part of an export/ },
      { name: 'added-eml', members: [...list, { name: 'messages/00000000000000000000.eml', data: Buffer.from('x') }], at: /^export BROKEN at messages\/00000000000000000000\.eml: it is not listed in the manifest/ },
      {
        name: 'replaced',
        members: list.map((m) => (m.name === eml ? { name: m.name, data: Buffer.from(m.data.toString('latin1').replace('body of', 'BODY OF'), 'latin1') } : m)),
        at: new RegExp(`^export BROKEN at ${eml.replace(/\./g, '\\.')}: its SHA-256 differs from the manifest`),
      },
      { name: 'same-members-rezipped', members: list, at: /^export BROKEN at the ZIP: / },
    ];
    for (const c of cases) {
      const path = join(setup.dir, `${c.name}.zip`);
      await rezip(path, c.members);
      const r = await cli('verify-export', path);
      expect(r.code, c.name).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.replace(/^sealgate: /, '').trim(), c.name).toMatch(c.at);
    }
    const other = await cli('verify-export', full, '--fingerprint', 'f'.repeat(64));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^sealgate: export BROKEN at manifest\.json: it is signed by key [0-9a-f]{64}, not by the key you gave/);
  });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * What someone holding the gateway key could make: the export's members with
 * `change` applied, hashed, listed and signed again — manifest, SHA256SUMS
 * and container — so that only verify-export's cross-checks can tell.
 */
async function forge(path: string, key: SigningKey, change: (m: Map<string, Buffer>) => void): Promise<void> {
  const m = new Map((await members(full)).map((x) => [x.name, x.data]));
  change(m);
  const manifest = JSON.parse(m.get('manifest.json')?.toString('utf8') ?? '') as Manifest & { files: Record<string, { sha256: string; size: number }> };
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const [name, data] of m) if (!['manifest.json', 'manifest.sig', 'SHA256SUMS', 'SHA256SUMS.sig'].includes(name)) files[name] = { sha256: sha(data), size: data.length };
  const sums = Buffer.from(sumsText(files));
  m.set('SHA256SUMS', sums);
  m.set('SHA256SUMS.sig', sign(null, sums, key.privateKey));
  files['SHA256SUMS'] = { sha256: sha(sums), size: sums.length };
  files['SHA256SUMS.sig'] = { sha256: sha(m.get('SHA256SUMS.sig') ?? Buffer.alloc(0)), size: 64 };
  const bytes = Buffer.from(`${JSON.stringify({ ...manifest, files: Object.fromEntries(Object.keys(files).sort().map((n) => [n, files[n]])) }, null, 1)}\n`);
  m.set('manifest.json', bytes);
  m.set('manifest.sig', sign(null, bytes, key.privateKey));
  const z = new yazl.ZipFile();
  for (const [name, data] of m) z.addBuffer(data, name);
  z.end({ forceZip64Format: false, comment: COMMENT_PREFIX + 'A'.repeat(COMMENT_LENGTH - COMMENT_PREFIX.length) });
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream) chunks.push(c as Buffer);
  const file = Buffer.concat(chunks);
  const n = file.length - COMMENT_LENGTH;
  file.write(COMMENT_PREFIX + sign(null, Buffer.from(containerMessage(sha(file.subarray(0, n)), n)), key.privateKey).toString('base64'), n, 'latin1');
  await writeFile(path, file);
}

describe('an export re-signed with the gateway key after a change: the cross-checks', () => {
  const edit = (m: Map<string, Buffer>, name: string, fn: (text: string) => string): void => {
    m.set(name, Buffer.from(fn(m.get(name)?.toString('utf8') ?? ''), 'utf8'));
  };
  const cases: { name: string; change: (m: Map<string, Buffer>, id: string) => void; at: (id: string) => RegExp }[] = [
    { name: 'untouched (the forger itself is sound)', change: () => undefined, at: () => /^$/ },
    {
      name: 'a state in evidence.json',
      change: (m) => edit(m, 'evidence.json', (t) => t.replace('"state": "deferred"', '"state": "delivered"').replace('"state": "queued"', '"state": "delivered"')),
      at: () => /^entry [0-9A-Z]{20}: its evidence in evidence\.json is not what its recorded rows say$/,
    },
    { name: 'a cell of evidence.csv', change: (m) => edit(m, 'evidence.csv', (t) => t.replace('dave@', 'mallory@')), at: () => /^evidence\.csv: it is not what evidence\.json says$/ },
    {
      name: 'a column of a row',
      change: (m, id) => edit(m, 'rows.jsonl', (t) => t.split('\n').map((l) => (l.includes(`"archive_id":"${id}"`) && l.includes('"seq":1,') ? l.replace(/"attempts":\d+/, '"attempts":7') : l)).join('\n')),
      at: (id) => new RegExp(`^entry ${id} recipient #1: the row does not match the hash recorded in audit event #\\d+`),
    },
    {
      name: 'a message replaced',
      change: (m, id) => m.set(`messages/${id}.eml`, Buffer.from('Subject: other\r\n\r\nanother message\r\n')),
      at: (id) => new RegExp(`^entry ${id}: its message is not the one archived`),
    },
    {
      name: 'a checkpoint dropped',
      change: (m) => edit(m, 'checkpoints.json', (t) => JSON.stringify((JSON.parse(t) as unknown[]).slice(1))),
      at: () => /^checkpoints\.json: it does not hold the checkpoints the manifest counts$/,
    },
  ];

  it.for(cases)('$name', async ({ change, at }) => {
    const keyring = await loadKeyring({ masterKeyFile: setup.masterKeyFile, create: false });
    const key = await withDb(setup.dataDir, (db) => loadOrCreateSigningKey(db, keyring, Date.now()));
    const id = ids[0] ?? '';
    const path = join(setup.dir, 'forged.zip');
    await forge(path, key, (m) => change(m, id));
    const r = await verifyExport(path, { expectedFingerprint: fingerprint });
    const got = r.ok ? '' : `${r.at}: ${r.detail}`;
    expect(got).toMatch(at(id));
  });
});

describe('an export of a changed archive', () => {
  /** A copy of the data directory, changed with the sqlite3 shell, and a config that points at it. */
  async function changedCopy(name: string, statement: string): Promise<string> {
    const dataDir = join(setup.dir, `data-${name}`);
    await cp(setup.dataDir, dataDir, { recursive: true });
    await run('sqlite3', [join(dataDir, 'sealgate.db'), statement]);
    const config = parse(await readFile(setup.configPath, 'utf8')) as Record<string, unknown>;
    const path = join(setup.dir, `sealgate-${name}.yaml`);
    await writeFile(path, stringify({ ...config, dataDir }));
    return path;
  }

  const cases = [
    {
      name: 'a recipient row changed in the database',
      statement: (id: string) => `UPDATE archive_recipients SET state = 'delivered' WHERE archive_id = '${id}' AND seq = 1`,
      expected: (id: string) => new RegExp(`^sealgate: export BROKEN at entry ${id} recipient #1: the row does not match the hash recorded in audit event #\\d+`),
    },
    {
      name: 'an archive record rewritten in the audit log',
      statement: (id: string) => `UPDATE audit_log SET data = replace(data, '"sha256":"', '"sha256":"0') WHERE type = 'archive:record' AND data LIKE '%${id}%'`,
      expected: () => /^sealgate: export BROKEN at chain\.jsonl event #\d+: its hash does not match its fields/,
    },
  ];

  it('content that cannot be read stops the export with one line, and leaves no file behind', async () => {
    const config = await changedCopy('no-store', 'SELECT 1');
    await rm(join(setup.dir, 'data-no-store', 'store', 'objects', 'archive'), { recursive: true });
    const out = join(setup.dir, 'no-store.zip');
    const exported = async (): Promise<number> => (await auditEvents(config)).filter((e) => e.type === 'archive:exported').length;
    const before = await exported();
    const r = await runCli(['-c', config, 'archive', 'export', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sealgate: the export failed \([^\n]*\); nothing was written\n$/);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(setup.dir)).filter((n) => n.includes('.partial'))).toEqual([]);
    expect(await exported()).toBe(before); // recorded only for an export that was written
    // --no-content needs no stored object
    expect((await runCli(['-c', config, 'archive', 'export', '--no-content', '--out', out])).code).toBe(0);
    expect(await exported()).toBe(before + 1);
  });

  it.for(cases)('$name: the export is made, and verify-export names it', async ({ name, statement, expected }, ctx) => {
    requireTool(ctx, 'sqlite3');
    const id = ids[0] ?? '';
    const config = await changedCopy(name.replace(/\W+/g, '-'), statement(id));
    const out = join(setup.dir, `${name.replace(/\W+/g, '-')}.zip`);
    const made = await runCli(['-c', config, 'archive', 'export', '--queue-id', id, '--out', out]);
    expect(made.code).toBe(0);
    const r = await runCli(['-c', config, 'archive', 'verify-export', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(expected(id));
    expect(r.stderr).not.toContain('@');
  });
});

describe('checking an export with unzip, sha256sum and openssl alone (docs/archive.md)', () => {
  it('the documented procedure verifies a real export, and fails on a changed file', async (ctx) => {
    requireTool(ctx, 'unzip');
    requireTool(ctx, 'openssl');
    const dir = join(setup.dir, 'by-hand');
    await mkdir(dir);
    const zip = join(dir, 'export.zip');
    await copyFile(full, zip);
    const sh = (script: string) => run('sh', ['-ec', script], { cwd: dir });
    // the procedure, as docs/archive.md gives it
    await sh('unzip -q export.zip -d export');
    const fp = await sh('cd export && openssl pkey -pubin -in gateway-signing.pem -outform DER | sha256sum');
    expect(fp.stdout.slice(0, 64)).toBe(fingerprint);
    const m = await sh('cd export && openssl pkeyutl -verify -pubin -inkey gateway-signing.pem -rawin -in manifest.json -sigfile manifest.sig');
    expect(m.stdout).toContain('Signature Verified Successfully');
    const s = await sh('cd export && openssl pkeyutl -verify -pubin -inkey gateway-signing.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig');
    expect(s.stdout).toContain('Signature Verified Successfully');
    const sums = await sh('cd export && sha256sum -c SHA256SUMS');
    expect(sums.stdout.trim().split('\n')).toHaveLength(6 + ids.length);
    expect(sums.stdout).not.toMatch(/FAILED/);
    const container = await sh(
      [
        'N=$(( $(stat -c %s export.zip) - 107 ))',
        'printf \'sealgate-export-v1 sha256=%s length=%s\' "$(head -c "$N" export.zip | sha256sum | cut -c1-64)" "$N" > container.txt',
        'tail -c 88 export.zip | base64 -d > container.sig',
        'openssl pkeyutl -verify -pubin -inkey export/gateway-signing.pem -rawin -in container.txt -sigfile container.sig',
      ].join('\n'),
    );
    expect(container.stdout).toContain('Signature Verified Successfully');
    // a changed file fails sha256sum -c
    await writeFile(join(dir, 'export', 'evidence.csv'), `${await readFile(join(dir, 'export', 'evidence.csv'), 'utf8')}x`);
    await expect(sh('cd export && sha256sum -c --quiet SHA256SUMS')).rejects.toMatchObject({ stdout: expect.stringContaining('evidence.csv: FAILED') as unknown });
  });
});
