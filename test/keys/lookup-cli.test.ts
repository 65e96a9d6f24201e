/**
 * `sealgate keys lookup` run as a child process (the built CLI) against a
 * WKD server on 127.0.0.1 with a test-CA certificate, found through a dns2
 * zone (dns.servers, tls.trustedCaFiles, keys.discovery.httpsPort), on keys
 * made by GnuPG.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { wkdLocations } from '../../src/keys/wkd.js';
import { generateCa } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli } from '../helpers/gateway.js';
import { haveTool } from '../helpers/peers.js';
import { makePgpFixtures, type PgpFixtures } from './fixtures.js';
import { startWkdServer, type WkdServer } from './wkd-server.js';

const live = haveTool('gpg') ? it : it.skip;
let dir: string;
let cfg: string[];
let pgp: PgpFixtures | undefined;
let server: WkdServer | undefined;
let zone: DnsZone | undefined;

function serve(address: string, body: Buffer): void {
  const loc = wkdLocations(address)[1];
  server?.answers.set(`${loc.host}${loc.path}`, { body });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealgate-lookup-cli-'));
  const ca = await generateCa({ commonName: 'WKD CLI Test CA' });
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.certPem);
  server = await startWkdServer({ ip: '127.0.0.1', ca, hosts: ['example.org', 'openpgpkey.example.org'] });
  zone = await startDnsZone([{ name: 'example.org', type: 'A', address: '127.0.0.1' }]);
  const target = join(dir, 'etc');
  const init = await runCli(['init', target]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const file = join(target, 'sealgate.yaml');
  const doc = parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  doc.dns = { ...(doc.dns ?? {}), servers: [zone.server] };
  doc.tls = { ...(doc.tls ?? {}), trustedCaFiles: [caFile] };
  doc.keys = { ...(doc.keys ?? {}), discovery: { httpsPort: server.port, timeout: '10s' } };
  await writeFile(file, stringify(doc));
  cfg = ['-c', file];
  if (haveTool('gpg')) pgp = makePgpFixtures(['good', 'rsa', 'twoUids'], { rsa: 'Carol Admin <carol@example.org>', twoUids: 'Carol Wkd <carol@example.org>' });
});

afterAll(async () => {
  pgp?.cleanup();
  await server?.close();
  await zone?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (s: string): string[] => s.trim().split('\n').filter(Boolean);

live('lookup finds a key by WKD, stores it, and says it would be used; a second run answers from the cache', async () => {
  const fp = pgp?.fpr.good ?? '';
  serve('alice@example.org', pgp?.binary(['good']) ?? Buffer.alloc(0));
  const r = await runCli([...cfg, 'keys', 'lookup', 'alice@Example.ORG']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(lines(r.stdout)).toEqual(['address: alice@example.org', 'wkd: found (direct method)', 'openpgpkey: off (dns.dnssecValidating: false, so an answer could not be trusted)', 'smimea: off (dns.dnssecValidating: false, so an answer could not be trusted)', 'keyserver: off (keys.discovery.keyserver is not set)', `${fp}\tpgp\twkd [inserted]\tvalid\tused`, `used: ${fp}`]);
  const again = await runCli([...cfg, 'keys', 'lookup', 'alice@example.org', '--json']);
  expect(again.code).toBe(0);
  const parsed = JSON.parse(again.stdout) as { keys: Record<string, unknown>[] };
  expect(Object.keys(parsed)).toEqual(['address', 'wkd', 'openpgpkey', 'smimea', 'keyserver', 'keys', 'used']);
  expect(Object.keys(parsed.keys[0] ?? {})).toEqual(['fingerprint', 'kind', 'source', 'algorithm', 'valid', 'reason', 'reasonText', 'stored', 'used', 'why', 'whyText']);
  expect(parsed).toEqual({
    address: 'alice@example.org',
    wkd: { state: 'cached', outcome: 'found', method: 'direct', detail: null, checkedAt: expect.any(Number) },
    openpgpkey: { state: 'disabled', outcome: null, method: null, detail: 'dns.dnssecValidating: false, so an answer could not be trusted', checkedAt: null },
    smimea: { state: 'disabled', outcome: null, method: null, detail: 'dns.dnssecValidating: false, so an answer could not be trusted', checkedAt: null },
    keyserver: { state: 'disabled', outcome: null, method: null, detail: 'keys.discovery.keyserver is not set', checkedAt: null },
    keys: [{ fingerprint: fp, kind: 'pgp', source: 'wkd', algorithm: 'eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy', valid: true, reason: 'valid', reasonText: 'usable for this address', stored: 'directory', used: true, why: 'used', whyText: 'this key would be used' }],
    used: fp,
  });
  expect(server?.requests.get('example.org')).toBe(1);
  const list = await runCli([...cfg, 'keys', 'list', '--email', 'alice@example.org']);
  expect(lines(list.stdout)).toEqual([`${fp}\tpgp\talice@example.org\twkd\tvalid\texpires never`]);
});

live('an admin key is kept and used; the WKD key is reported as not stored', async () => {
  const admin = pgp?.fpr.rsa ?? '';
  const other = pgp?.fpr.twoUids ?? '';
  const keyFile = join(dir, 'carol.gpg');
  await writeFile(keyFile, pgp?.binary(['rsa']) ?? Buffer.alloc(0));
  expect((await runCli([...cfg, 'keys', 'import', keyFile])).code).toBe(0);
  serve('carol@example.org', pgp?.binary(['twoUids']) ?? Buffer.alloc(0));
  const r = await runCli([...cfg, 'keys', 'lookup', 'carol@example.org', '--fresh']);
  expect(r.code).toBe(0);
  expect(lines(r.stdout)).toEqual([
    'address: carol@example.org',
    'wkd: found (direct method)',
    'openpgpkey: off (dns.dnssecValidating: false, so an answer could not be trusted)',
    'smimea: off (dns.dnssecValidating: false, so an answer could not be trusted)',
    'keyserver: off (keys.discovery.keyserver is not set)',
    `${admin}\tpgp\tadmin\tvalid\tused`,
    `${other}\tpgp\twkd [not-stored]\tvalid\tnot used: not stored: an admin-imported key is never replaced by a discovered one`,
    `used: ${admin}`,
  ]);
});

it('no key published: exit 0, "used: none", the 404 named', async () => {
  const r = await runCli([...cfg, 'keys', 'lookup', 'nobody@example.org']);
  expect(r.code).toBe(0);
  expect(lines(r.stdout)).toEqual(['address: nobody@example.org', 'wkd: not-found: HTTP 404 from example.org', 'openpgpkey: off (dns.dnssecValidating: false, so an answer could not be trusted)', 'smimea: off (dns.dnssecValidating: false, so an answer could not be trusted)', 'keyserver: off (keys.discovery.keyserver is not set)', 'used: none (no valid key for this address)']);
});

it('something that is not an address: exit 2, one line', async () => {
  const r = await runCli([...cfg, 'keys', 'lookup', 'nobody']);
  expect(r.code).toBe(2);
  expect(lines(r.stderr)).toEqual(['sealgate: expected an e-mail address such as alice@example.org']);
});
