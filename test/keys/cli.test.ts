/**
 * `sealgate keys import|list|show|remove` run as a child process (the built
 * CLI), on keys made by GnuPG and certificates made by OpenSSL.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/gateway.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from './fixtures.js';

let dir: string;
let cfg: string[];
let pgp: PgpFixtures | undefined;
let certs: CertFixtures | undefined;
let pgpFile: string;
let binFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealgate-keys-cli-'));
  if (haveTool('gpg')) {
    pgp = makePgpFixtures(['good', 'expired', 'revoked', 'signOnly']);
    pgpFile = join(dir, 'keys.asc');
    await writeFile(pgpFile, ['good', 'expired', 'revoked', 'signOnly'].map((n) => pgp?.armored(n as 'good')).join('\n'));
    binFile = join(dir, 'good.gpg');
    await writeFile(binFile, pgp.binary(['good']));
  }
  if (haveTool('openssl')) certs = makeCertFixtures();
  const target = join(dir, 'etc');
  const init = await runCli(['init', target]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const file = join(target, 'sealgate.yaml');
  if (certs) {
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/^keys:\n/m, `keys:\n  smimeTrustRoots: [${JSON.stringify(certs.caFile)}]\n`));
  }
  cfg = ['-c', file];
});

afterAll(() => {
  pgp?.cleanup();
  certs?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (s: string): string[] => s.trim().split('\n').filter(Boolean);

describe('sealgate keys', () => {
  it('import prints one line per OpenPGP key with its verdict, and list / show / remove work on them', async (ctx) => {
    requireTool(ctx, 'gpg');
    const f = pgp?.fpr ?? ({} as Record<string, string>);
    const r = await runCli([...cfg, 'keys', 'import', pgpFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      `${f.good}\tpgp\talice@example.org\tvalid`,
      `${f.expired}\tpgp\texpired@example.org\tinvalid: expired (the key or certificate has expired)`,
      `${f.revoked}\tpgp\trevoked@example.org\tinvalid: revoked (the key is revoked)`,
      `${f.signOnly}\tpgp\tsignonly@example.org\tinvalid: no-encryption-key (no usable encryption-capable key or subkey)`,
    ]);

    const list = await runCli([...cfg, 'keys', 'list', '--json']);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(4);
    expect(rows.find((x) => x.fingerprint === f.good)).toEqual({
      fingerprint: f.good,
      kind: 'pgp',
      address: 'alice@example.org',
      source: 'admin',
      algorithm: 'eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy',
      createdAt: expect.any(Number),
      expiresAt: null,
      revoked: false,
      valid: true,
      reason: 'valid',
      reasonText: 'usable for this address',
      importedAt: expect.any(Number),
      checkedAt: expect.any(Number),
    });
    expect(rows.find((x) => x.fingerprint === f.expired)).toMatchObject({ expiresAt: Date.UTC(2020, 0, 2), valid: false, reason: 'expired' });

    const only = await runCli([...cfg, 'keys', 'list', '--email', 'revoked@EXAMPLE.org']);
    expect(lines(only.stdout)).toEqual([`${f.revoked}\tpgp\trevoked@example.org\tadmin\tinvalid: revoked (the key is revoked)\texpires never`]);

    const show = await runCli([...cfg, 'keys', 'show', (f.good ?? '').toUpperCase()]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`fingerprint: ${f.good}\nkind: pgp\nalgorithm: eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy\n`);
    expect(show.stdout).toContain('user ID: Alice Example <alice@example.org>\n');
    expect(show.stdout).toContain('revocation: not revoked\n');
    expect(show.stdout).toMatch(/^address alice@example\.org: valid; source admin, imported \d{4}-/m);

    const json = JSON.parse((await runCli([...cfg, 'keys', 'show', f.signOnly ?? '', '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      fingerprint: f.signOnly,
      kind: 'pgp',
      revoked: false,
      details: { emails: ['signonly@example.org'], userIds: ['Sign Only <signonly@example.org>'], encryptionKey: null, revocation: 'checked' },
      addresses: [{ address: 'signonly@example.org', source: 'admin', valid: false, reason: 'no-encryption-key' }],
    });
    expect(json.material).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);

    const rm = await runCli([...cfg, 'keys', 'remove', f.revoked ?? '']);
    expect(rm.code).toBe(0);
    expect(rm.stdout.trim()).toBe(`key ${f.revoked} removed (1 address)`);
    const again = await runCli([...cfg, 'keys', 'remove', f.revoked ?? '']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`sealgate: no key ${f.revoked} in the key directory`);
    const audit = await runCli([...cfg, 'audit', 'tail', '--json']);
    const types = lines(audit.stdout).map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.filter((t) => t === 'keys:stored')).toHaveLength(4);
    expect(types).toContain('keys:removed');
  });

  it('import --email takes only the keys naming the address, and a binary export reads like an armored one', async (ctx) => {
    requireTool(ctx, 'gpg');
    const f = pgp?.fpr ?? ({} as Record<string, string>);
    const r = await runCli([...cfg, 'keys', 'import', pgpFile, '--email', 'alice@Example.ORG']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      `${f.good}\tpgp\talice@example.org\tvalid`,
      `${f.expired}\tpgp\t-\tskipped: does not name the --email address`,
      `${f.revoked}\tpgp\t-\tskipped: does not name the --email address`,
      `${f.signOnly}\tpgp\t-\tskipped: does not name the --email address`,
    ]);
    const none = await runCli([...cfg, 'keys', 'import', binFile, '--email', 'bob@example.org']);
    expect(none.code).toBe(1);
    expect(lines(none.stdout)).toEqual([`${f.good}\tpgp\t-\tskipped: does not name the --email address`]);
    expect(none.stderr.trim()).toBe('sealgate: no key in the file names bob@example.org');
    const bin = await runCli([...cfg, 'keys', 'import', binFile]);
    expect(lines(bin.stdout)).toEqual([`${f.good}\tpgp\talice@example.org\tvalid`]);
  });

  it('imports S/MIME certificates (PEM, DER, PKCS#7) judged against keys.smimeTrustRoots', async (ctx) => {
    requireTool(ctx, 'openssl');
    const bundle = await runCli([...cfg, 'keys', 'import', certs?.bundleDer ?? '']);
    expect(bundle.code).toBe(0);
    const out = lines(bundle.stdout);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^[0-9a-f]{64}\tsmime\talice@example\.org\tvalid$/);
    expect(out[1]).toMatch(/^[0-9a-f]{64}\tsmime\tec@example\.org\tvalid$/);
    expect(out[2]).toMatch(/^[0-9a-f]{64}\tsmime\t-\tskipped: a CA certificate \(used only as an intermediate\)$/);
    for (const [name, address, verdict] of [
      ['expired', 'alice@example.org', 'invalid: expired (the key or certificate has expired)'],
      ['otherCa', 'alice@example.org', 'invalid: untrusted (the certificate does not chain to a trusted root)'],
      ['serverAuth', 'server@example.org', 'invalid: extended-key-usage (extended key usage lacks emailProtection)'],
    ] as const) {
      const r = await runCli([...cfg, 'keys', 'import', certs?.file[name] ?? '']);
      expect(r.code, name).toBe(0);
      expect(lines(r.stdout)[0]).toMatch(new RegExp(`^[0-9a-f]{64}\\tsmime\\t${address.replace('.', '\\.')}\\t${verdict.replace(/[()]/g, '\\$&')}$`));
    }
    const wrong = await runCli([...cfg, 'keys', 'import', certs?.file.wrongAddress ?? '', '--email', 'alice@example.org']);
    expect(wrong.code).toBe(1);
    const fp = (out[1] ?? '').split('\t')[0] ?? '';
    const show = await runCli([...cfg, 'keys', 'show', fp]);
    expect(show.stdout).toContain('algorithm: EC P-256\n');
    expect(show.stdout).toContain('subject: CN=Ec Example\nissuer: CN=Sealgate Test CA\n');
    expect(show.stdout).toContain('key usage: digitalSignature, keyAgreement\nextended key usage: emailProtection (1.3.6.1.5.5.7.3.4)\n');
    expect(show.stdout).toContain('revocation: not checked (the certificate names no http(s) OCSP responder or CRL)\n');
    const json = JSON.parse((await runCli([...cfg, 'keys', 'show', fp, '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ kind: 'smime', revoked: null, addresses: [{ address: 'ec@example.org', valid: true, reason: 'valid' }] });
    expect(json.material).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it.each<[string, string[], number, RegExp]>([
    ['a fingerprint that is not one → exit 2', ['keys', 'show', 'abc'], 2, /^sealgate: expected a fingerprint: 40 hex digits \(OpenPGP\) or 64 \(S\/MIME SHA-256\)$/],
    ['an unknown fingerprint → exit 1', ['keys', 'show', 'ab'.repeat(20)], 1, /^sealgate: no key (ab){20} in the key directory$/],
    ['a bad --email → exit 2', ['keys', 'list', '--email', 'nobody'], 2, /^sealgate: expected an e-mail address such as alice@example\.org$/],
    ['a missing file → exit 2 (an input file that cannot be read is a usage error)', ['keys', 'import', '/nonexistent/keys.asc'], 2, /^sealgate: cannot read \/nonexistent\/keys\.asc: ENOENT$/],
  ])('%s, one line on stderr', async (_name, args, code, pattern) => {
    const r = await runCli([...cfg, ...args]);
    expect(r.code).toBe(code);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(pattern);
  });

  it('a keys.smimeTrustRoots file that is missing: certificates exit 2 with one line, OpenPGP keys still import', async (ctx) => {
    requireTool(ctx, 'openssl');
    requireTool(ctx, 'gpg');
    const file = cfg[1] ?? '';
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, (await readFile(file, 'utf8')).replace(/smimeTrustRoots: \[.*\]/, `smimeTrustRoots: [${JSON.stringify(join(dir, 'missing-ca.pem'))}]`));
    const r = await runCli(['-c', broken, 'keys', 'import', certs?.file.rsa ?? '']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`sealgate: keys.smimeTrustRoots: cannot read ${join(dir, 'missing-ca.pem')}: ENOENT`]);
    const p = await runCli(['-c', broken, 'keys', 'import', binFile]);
    expect(p.code).toBe(0);
  });

  it('a file with no key in it: one line, exit 1', async () => {
    const junk = join(dir, 'junk.txt');
    await writeFile(junk, 'not a key\n');
    const r = await runCli([...cfg, 'keys', 'import', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('sealgate: no OpenPGP key, certificate or PKCS#7 bundle found in the file');
  });
});
