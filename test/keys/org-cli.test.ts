/**
 * `sealgate keys org init|import|show|export-public` run as a child process
 * (the built CLI): the private keys are sealed in the database (its bytes
 * hold no armor header, no PEM key and no key bytes in clear), the exported
 * OpenPGP key imports into real GnuPG and a PGP/MIME message signed with the
 * loaded key verifies there (GOODSIG); a PKCS#12 file made by real OpenSSL
 * imports, and a message signed with the loaded S/MIME key passes
 * `openssl smime -verify`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { openDatabase, openKeyring } from '../../src/daemon.js';
import { buildPgpMime } from '../../src/e2e/pgp-mime.js';
import { loadOrgPgpSigningKey, loadOrgSmimeSigner } from '../../src/keys/org-store.js';
import { signSmimeMessage } from '../../src/smime/signed-message.js';
import { gpgDecrypt, gpgImport } from '../e2e/gpg.js';
import { auditEvents, runCli } from '../helpers/gateway.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from './fixtures.js';

let dir: string;
let file: string;
let cfg: string[];
let config: Config;
let pgp: PgpFixtures | undefined;
let certs: CertFixtures | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealgate-org-cli-'));
  if (haveTool('gpg')) pgp = makePgpFixtures(['good']);
  if (haveTool('openssl')) certs = makeCertFixtures();
  const init = await runCli(['init', join(dir, 'etc')]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  file = join(dir, 'etc', 'sealgate.yaml');
  cfg = ['-c', file];
  config = loadConfig(file).config;
});

afterAll(() => {
  pgp?.cleanup();
  certs?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every file of the database (main file, WAL, journal) concatenated. */
function databaseBytes(): Buffer {
  const data = join(config.dataDir);
  return Buffer.concat(
    readdirSync(data)
      .filter((f) => f.startsWith('sealgate.db'))
      .map((f) => readFileSync(join(data, f))),
  );
}

async function withLoaded<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>, keyring: Awaited<ReturnType<typeof openKeyring>>) => Promise<T>): Promise<T> {
  const keyring = await openKeyring(config, false);
  const db = await openDatabase(config);
  try {
    return await work(db, keyring);
  } finally {
    await db.close();
  }
}

function original(): Promise<Buffer> {
  return new MailComposer({ from: 'lab@example.org', to: 'alice@example.org', subject: 'Results', text: 'Signed by the organisation.\n' }).compile().build();
}

describe('sealgate keys org (OpenPGP)', () => {
  let fpr = '';

  it('show on an empty store says how to create one; export-public fails with SG_ORG_KEY_NOT_FOUND', async () => {
    const show = await runCli([...cfg, 'keys', 'org', 'show']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^no organisation keys/);
    expect((await runCli([...cfg, 'keys', 'org', 'show', '--json'])).stdout.trim()).toBe('[]');
    const exp = await runCli([...cfg, 'keys', 'org', 'export-public']);
    expect(exp.code).toBe(1);
    expect(exp.stderr).toMatch(/^sealgate: no organisation OpenPGP key; create one with `sealgate keys org init`\n$/);
  });

  it('init generates a v4 ed25519/cv25519 key, prints its fingerprint, and refuses to overwrite without --force', async () => {
    const r = await runCli([...cfg, 'keys', 'org', 'init', '--name', 'Example Org', '--email', 'security@example.org']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /^organisation OpenPGP key created: ([0-9a-f]{40})\n/.exec(r.stdout);
    expect(m).not.toBeNull();
    fpr = m?.[1] ?? '';
    expect(r.stdout).toContain('algorithm: eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy\nuser ID: Example Org <security@example.org>\n');
    expect(r.stdout).toContain('sealgate keys org export-public');

    const again = await runCli([...cfg, 'keys', 'org', 'init']);
    expect(again.code).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(`sealgate: an organisation OpenPGP key exists already (${fpr}); give --force to replace it\n`);

    const show = JSON.parse((await runCli([...cfg, 'keys', 'org', 'show', '--json'])).stdout) as Record<string, unknown>[];
    expect(show).toEqual([
      {
        kind: 'pgp',
        fingerprint: fpr,
        algorithm: 'eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy',
        createdAt: expect.any(Number),
        expiresAt: null,
        details: { userIds: ['Example Org <security@example.org>'] },
        keyId: expect.stringMatching(/^[0-9a-f]{16}$/),
        storedAt: expect.any(Number),
      },
    ]);
    const text = (await runCli([...cfg, 'keys', 'org', 'show'])).stdout;
    expect(text).toContain(`fingerprint: ${fpr}\n`);
    expect(text).not.toMatch(/PRIVATE|BEGIN PGP/);
    const events = await auditEvents(file);
    expect(events.filter((e) => e.type === 'keys:org_created')).toEqual([{ ...events.find((e) => e.type === 'keys:org_created'), data: { fingerprint: fpr, kind: 'pgp', operator: expect.any(String) } }]);
  });

  it('the secret is not in the database in clear: no armor header, no armored body line, no secret key bytes', async () => {
    const { signingKey } = await withLoaded((db, keyring) => loadOrgPgpSigningKey(db, keyring));
    expect(signingKey).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    const key = await openpgp.readPrivateKey({ armoredKey: signingKey });
    expect(key.isDecrypted()).toBe(true);
    const bytes = databaseBytes();
    const latin = bytes.toString('latin1');
    expect(latin).toContain('BEGIN PGP PUBLIC KEY BLOCK'); // the public part is stored as is
    expect(latin).not.toContain('PRIVATE KEY');
    const bodyLines = signingKey.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
    expect(bodyLines.length).toBeGreaterThan(2);
    const publicText = (await runCli([...cfg, 'keys', 'org', 'export-public'])).stdout;
    for (const l of bodyLines.filter((x) => !publicText.includes(x))) expect(latin).not.toContain(l);
    // the binary secret key packet (holds the private scalar): absent as bytes
    const secretPacket = Buffer.from(key.keyPacket.write());
    expect(bytes.includes(secretPacket.subarray(secretPacket.length - 32))).toBe(false);
    expect(bytes.includes(Buffer.from(key.write()))).toBe(false);
  });

  it('the exported public key imports into GnuPG, and a message signed with the loaded key verifies there (GOODSIG)', async (ctx) => {
    requireTool(ctx, 'gpg');
    const home = pgp?.home ?? '';
    const exp = await runCli([...cfg, 'keys', 'org', 'export-public']);
    expect(exp.code).toBe(0);
    expect(exp.stdout).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]+-----END PGP PUBLIC KEY BLOCK-----\n$/);
    const imp = gpgImport(home, exp.stdout);
    expect(imp.code).toBe(0);
    expect(imp.status.some((s) => s.startsWith('IMPORT_OK') && s.toLowerCase().includes(fpr))).toBe(true);

    const { signingKey, fingerprint } = await withLoaded((db, keyring) => loadOrgPgpSigningKey(db, keyring));
    expect(fingerprint).toBe(fpr);
    const out = await buildPgpMime(await original(), { recipientKey: pgp?.armored('good') ?? '', signingKey });
    expect(out.signerFingerprint).toBe(fpr);
    const encrypted = /-----BEGIN PGP MESSAGE-----[\s\S]+?-----END PGP MESSAGE-----/.exec(out.message.toString('latin1'))?.[0] ?? '';
    const dec = gpgDecrypt(home, encrypted);
    expect(dec.code).toBe(0);
    expect(dec.status.some((s) => s.startsWith('GOODSIG '))).toBe(true);
    expect(dec.status.some((s) => s.startsWith('VALIDSIG ') && s.toLowerCase().includes(fpr))).toBe(true);
    expect(dec.stdout.toString('latin1')).toContain('Signed by the organisation.');
  });

  it('init --force replaces the key and records the one it replaced', async () => {
    const r = await runCli([...cfg, 'keys', 'org', 'init', '--force', '--email', 'pgp@example.org']);
    expect(r.code).toBe(0);
    const next = /created: ([0-9a-f]{40})/.exec(r.stdout)?.[1];
    expect(next).toBeDefined();
    expect(next).not.toBe(fpr);
    expect(r.stdout).toContain(`replaced: ${fpr}\n`);
    const ev = (await auditEvents(file)).filter((e) => e.type === 'keys:org_created').at(-1);
    expect(ev?.data).toEqual({ fingerprint: next, kind: 'pgp', operator: expect.any(String), replaced: fpr });
  });
});

describe('sealgate keys org import (S/MIME)', () => {
  function verify(bytes: Buffer): { ok: boolean; err: string; out: Buffer } {
    const f = join(dir, `signed-${Math.random().toString(16).slice(2)}.eml`);
    writeFileSync(f, bytes);
    const r = spawnSync('openssl', ['smime', '-verify', '-binary', '-in', f, '-CAfile', certs?.caFile ?? '']);
    return { ok: r.status === 0, err: r.stderr.toString('utf8'), out: r.stdout };
  }

  it('imports a PKCS#12 made by `openssl pkcs12 -export` (AES, with its intermediate); a message signed with the loaded key passes openssl smime -verify', async (ctx) => {
    requireTool(ctx, 'openssl');
    const d = certs?.dir ?? '';
    writeFileSync(join(d, 'pw'), 'p12 secret\n');
    execFileSync('openssl', ['pkcs12', '-export', '-in', 'viaIntermediate.pem', '-inkey', 'viaIntermediate.key', '-certfile', 'inter.pem', '-passout', 'pass:p12 secret', '-out', 'org.p12'], { cwd: d, stdio: 'pipe' });
    const fingerprint = execFileSync('openssl', ['x509', '-in', join(d, 'viaIntermediate.pem'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' })
      .replace(/^.*=/, '')
      .replace(/[:\s]/g, '')
      .toLowerCase();

    const wrong = await runCli([...cfg, 'keys', 'org', 'import', join(d, 'org.p12')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^sealgate: the PKCS#12 file does not open: wrong password/);

    const r = await runCli([...cfg, 'keys', 'org', 'import', join(d, 'org.p12'), '--password-file', join(d, 'pw')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`organisation S/MIME certificate imported: ${fingerprint}\nalgorithm: RSA 2048\nsubject: CN=Dave\n`);
    expect(r.stdout).toContain('chain certificates: 1\n');

    const show = (JSON.parse((await runCli([...cfg, 'keys', 'org', 'show', '--json'])).stdout) as Record<string, unknown>[]).find((k) => k.kind === 'smime');
    expect(show).toMatchObject({ kind: 'smime', fingerprint, algorithm: 'RSA 2048', details: { subject: 'CN=Dave', emails: ['dave@example.org'], chain: 1 } });
    const exported = (await runCli([...cfg, 'keys', 'org', 'export-public', '--kind', 'smime'])).stdout;
    expect(exported.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(exported).not.toContain('PRIVATE');

    const latin = databaseBytes().toString('latin1');
    expect(latin).not.toContain('PRIVATE KEY');
    const keyPem = readFileSync(join(d, 'viaIntermediate.key'), 'utf8');
    const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
    expect(databaseBytes().includes(pkcs8.subarray(pkcs8.length - 64))).toBe(false);

    const signer = await withLoaded((db, keyring) => loadOrgSmimeSigner(db, keyring));
    expect(signer.fingerprint).toBe(fingerprint);
    expect(signer.chainPem).toContain('BEGIN CERTIFICATE');
    const v = verify(await signSmimeMessage(await original(), signer));
    expect(v.err).toMatch(/Verification successful/);
    expect(v.ok).toBe(true);
    expect(v.out.toString('latin1')).toContain('Signed by the organisation.');
  });

  it('refuses a second import without --force (exit 2); a legacy (-legacy, RC2/3DES) PKCS#12 is refused with how to convert it; --cert/--key PEM imports an EC key', async (ctx) => {
    requireTool(ctx, 'openssl');
    const d = certs?.dir ?? '';
    const before = (JSON.parse((await runCli([...cfg, 'keys', 'org', 'show', '--json'])).stdout) as { kind: string; fingerprint: string }[]).find((k) => k.kind === 'smime')?.fingerprint;
    const again = await runCli([...cfg, 'keys', 'org', 'import', '--cert', join(d, 'ec.pem'), '--key', join(d, 'ec.key')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`sealgate: an organisation S/MIME certificate exists already (${before}); give --force to replace it\n`);

    execFileSync('openssl', ['pkcs12', '-export', '-legacy', '-in', 'rsa.pem', '-inkey', 'rsa.key', '-passout', 'pass:x', '-out', 'legacy.p12'], { cwd: d, stdio: 'pipe' });
    writeFileSync(join(d, 'pwx'), 'x');
    const legacy = await runCli([...cfg, 'keys', 'org', 'import', join(d, 'legacy.p12'), '--password-file', join(d, 'pwx'), '--force']);
    expect(legacy.code).toBe(1);
    expect(legacy.stderr).toMatch(/legacy cipher .* export it again without -legacy \(AES\), or import the PEM files with --cert and --key\n$/);

    const mismatch = await runCli([...cfg, 'keys', 'org', 'import', '--cert', join(d, 'rsa.pem'), '--key', join(d, 'ec.key'), '--force']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toBe('sealgate: no certificate matches the private key\n');

    const usage = await runCli([...cfg, 'keys', 'org', 'import', '--cert', join(d, 'ec.pem')]);
    expect(usage.code).toBe(2);

    const pem = await runCli([...cfg, 'keys', 'org', 'import', '--cert', join(d, 'ec.pem'), '--key', join(d, 'ec.key'), '--force']);
    expect(pem.stderr).toBe('');
    expect(pem.code).toBe(0);
    expect(pem.stdout).toContain('algorithm: EC P-256\n');
    expect(pem.stdout).toContain(`replaced: ${before}\n`);
    const signer = await withLoaded((db, keyring) => loadOrgSmimeSigner(db, keyring));
    const v = verify(await signSmimeMessage(await original(), signer));
    expect(v.ok).toBe(true);
    const ev = (await auditEvents(file)).filter((e) => e.type === 'keys:org_imported');
    expect(ev).toHaveLength(2);
    for (const e of ev) expect(Object.keys(e.data).sort()).toEqual(expect.arrayContaining(['fingerprint', 'kind', 'operator']));
    expect(JSON.stringify(ev)).not.toMatch(/PRIVATE|CERTIFICATE/);
  });
});
