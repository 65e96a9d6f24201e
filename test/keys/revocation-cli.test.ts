/**
 * `sealgate keys import` then `keys show` (the built CLI as a child process)
 * on certificates whose OCSP responder and CRL are OpenSSL-made and served on
 * loopback, their host name found through a dns2 zone (dns.servers): the
 * revoked one is stored invalid with reason revoked, the good one checked by
 * OCSP, the one whose responder is down not checked and still valid.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readCertificates } from '../../src/keys/smime.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli } from '../helpers/gateway.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeRevocationPki, type RevLeaf, type RevocationPki } from './revocation-fixtures.js';

let dir: string;
let cfgFile: string;
let pki: RevocationPki | undefined;
let zone: DnsZone | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealgate-revoke-cli-'));
  if (!haveTool('openssl')) return;
  zone = await startDnsZone([{ name: 'ca.revoke.test', type: 'A', address: '127.0.0.8' }]);
  pki = await makeRevocationPki('127.0.0.8', 'ca.revoke.test');
  const target = join(dir, 'etc');
  const init = await runCli(['init', target]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  cfgFile = join(target, 'sealgate.yaml');
  const doc = parse(await readFile(cfgFile, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  doc.dns = { ...(doc.dns ?? {}), servers: [zone.server] };
  doc.keys = { ...(doc.keys ?? {}), smimeTrustRoots: [pki.caFile], revocation: { timeout: '10s' } };
  await writeFile(cfgFile, stringify(doc));
}, 120_000);

afterAll(async () => {
  await pki?.close();
  await zone?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function fingerprintOf(name: RevLeaf): string {
  const [c] = readCertificates({ text: readFileSync(pki?.file[name] ?? '', 'utf8') });
  return createHash('sha256').update(c?.der ?? Buffer.alloc(0)).digest('hex');
}

it('keys import asks OCSP: the revoked certificate is stored invalid (revoked), and keys show says how and when', async (ctx) => {
  requireTool(ctx, 'openssl');
  const r = await runCli(['-c', cfgFile, 'keys', 'import', pki?.file.ocspRevoked ?? '']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const fp = fingerprintOf('ocspRevoked');
  expect(r.stdout).toBe(`${fp}\tsmime\tocsprevoked@example.org\tinvalid: revoked (the key is revoked)\n`);
  const show = await runCli(['-c', cfgFile, 'keys', 'show', fp, '--json']);
  expect(show.code).toBe(0);
  const json = JSON.parse(show.stdout) as Record<string, unknown>;
  expect(json).toMatchObject({
    kind: 'smime',
    revoked: true,
    details: { revocation: 'checked', revocationMethod: 'ocsp', revocationCheckedAt: expect.any(Number) },
    addresses: [{ address: 'ocsprevoked@example.org', valid: false, reason: 'revoked' }],
  });
  const text = await runCli(['-c', cfgFile, 'keys', 'show', fp]);
  expect(text.stdout).toMatch(/\nrevocation: revoked \(OCSP, \d{4}-\d\d-\d\dT[\d:.]+Z\)\n/);
});

it('keys import falls back to the CRL when the certificate names no OCSP responder: revoked', async (ctx) => {
  requireTool(ctx, 'openssl');
  const r = await runCli(['-c', cfgFile, 'keys', 'import', pki?.file.crlRevoked ?? '']);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${fingerprintOf('crlRevoked')}\tsmime\tcrlrevoked@example.org\tinvalid: revoked (the key is revoked)\n`);
  const json = JSON.parse((await runCli(['-c', cfgFile, 'keys', 'show', fingerprintOf('crlRevoked'), '--json'])).stdout) as Record<string, unknown>;
  expect(json).toMatchObject({ revoked: true, details: { revocation: 'checked', revocationMethod: 'crl' } });
});

it('keys import: good by OCSP is valid and not revoked; responder down is valid and not checked, with the reason', async (ctx) => {
  requireTool(ctx, 'openssl');
  const good = await runCli(['-c', cfgFile, 'keys', 'import', pki?.file.ocspGood ?? '']);
  expect(good.stdout).toBe(`${fingerprintOf('ocspGood')}\tsmime\tocspgood@example.org\tvalid\n`);
  expect(JSON.parse((await runCli(['-c', cfgFile, 'keys', 'show', fingerprintOf('ocspGood'), '--json'])).stdout)).toMatchObject({ revoked: false, details: { revocation: 'checked', revocationMethod: 'ocsp' } });
  const down = await runCli(['-c', cfgFile, 'keys', 'import', pki?.file.ocspDown ?? '']);
  expect(down.code).toBe(0);
  expect(down.stdout).toBe(`${fingerprintOf('ocspDown')}\tsmime\tocspdown@example.org\tvalid\n`);
  const text = await runCli(['-c', cfgFile, 'keys', 'show', fingerprintOf('ocspDown')]);
  expect(text.stdout).toMatch(/\nrevocation: not checked \(OCSP 127\.0\.0\.1:\d+: [^\n]+\)\n/);
});

it('with keys.revocation.enabled false nothing is asked: the revoked certificate is stored valid, not checked', async (ctx) => {
  requireTool(ctx, 'openssl');
  const off = join(dir, 'off.yaml');
  const doc = parse(await readFile(cfgFile, 'utf8')) as { keys: Record<string, unknown>; database?: unknown };
  doc.keys.revocation = { enabled: false };
  await writeFile(off, stringify(doc));
  const before = pki?.hits.get('/ocsp') ?? 0;
  const r = await runCli(['-c', off, 'keys', 'import', pki?.file.ocspRevokedCrlGood ?? '']);
  expect(r.stdout).toBe(`${fingerprintOf('ocspRevokedCrlGood')}\tsmime\tocsprevokedcrlgood@example.org\tvalid\n`);
  expect(pki?.hits.get('/ocsp') ?? 0).toBe(before);
  const text = await runCli(['-c', off, 'keys', 'show', fingerprintOf('ocspRevokedCrlGood')]);
  expect(text.stdout).toContain('\nrevocation: not checked (revocation checking is off: keys.revocation.enabled is false)\n');
});
