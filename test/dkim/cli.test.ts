/**
 * `sealgate dkim keygen` run as a child process (the built CLI): the key
 * file (mode 0600, never overwritten), the printed record, and that a
 * signature made with the written key verifies against the printed record.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { algo } from './verify.js';
import { loadDkimKeys } from '../../src/dkim/keys.js';
import { signMessage } from '../../src/dkim/signer.js';
import { runCli } from '../helpers/gateway.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealgate-dkim-cli-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The `name:`, `value:` and `zone file:` lines of the keygen output. */
function printed(stdout: string): { name: string; value: string; zone: string } {
  const line = (label: string): string => new RegExp(`^${label}: (.*)$`, 'm').exec(stdout)?.[1] ?? '';
  return { name: line('name'), value: line('value'), zone: line('zone file') };
}

async function verifiesWith(keyFile: string, record: { name: string; value: string }): Promise<string[]> {
  const keys = loadDkimKeys([{ domain: 'example.org', selector: 'sg1', keyFile }]);
  const message = Buffer.from('From: alice@example.org\r\nTo: bob@partner.test\r\nSubject: hello\r\n\r\nhi\r\n');
  const signed = await signMessage(() => Readable.from([message]), { keys, now: Date.now });
  if (!signed.signed) throw new Error('not signed');
  const resolver = async (name: string): Promise<string[][]> => (name === record.name ? [[record.value]] : []);
  const result = await dkimVerify(Buffer.concat([signed.header, message]), { resolver });
  return result.results.map((r) => `${algo(r)} ${r.status.result}`);
}

describe('sealgate dkim keygen', () => {
  it('writes a 2048-bit RSA key with mode 0600 and prints the record that verifies its signatures', async () => {
    const out = join(dir, 'rsa.key');
    const r = await runCli(['dkim', 'keygen', 'Example.ORG', '--selector', 'sg1', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const rec = printed(r.stdout);
    expect(r.stdout).toMatch(/^wrote .*rsa\.key \(RSA 2048-bit private key, mode 0600\)\n/);
    expect(rec.name).toBe('sg1._domainkey.example.org');
    expect(rec.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    // the zone-file form: the same value in quoted strings of at most 255 bytes
    const strings = [...rec.zone.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(rec.zone.startsWith('sg1._domainkey.example.org. IN TXT ( "')).toBe(true);
    expect(strings.join('')).toBe(rec.value);
    expect(Math.max(...strings.map((s) => s.length))).toBeLessThanOrEqual(255);
    expect(await verifiesWith(out, rec)).toEqual(['rsa-sha256 pass']);
  });

  it('writes an Ed25519 key and prints its bare public key (RFC 8463), as JSON with --json', async () => {
    const out = join(dir, 'ed.key');
    const r = await runCli(['dkim', 'keygen', 'example.org', '--selector', 'sg1', '--out', out, '--algorithm', 'ed25519', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { keyFile: string; algorithm: string; record: { name: string; value: string } };
    expect(json).toMatchObject({ keyFile: out, algorithm: 'ed25519', domain: 'example.org', selector: 'sg1', record: { name: 'sg1._domainkey.example.org' } });
    expect(json.record.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(await verifiesWith(out, json.record)).toEqual(['ed25519-sha256 pass']);
  });

  it('refuses to overwrite an existing file (exit 2, one line, file unchanged)', async () => {
    const out = join(dir, 'existing.key');
    writeFileSync(out, 'keep me\n');
    const r = await runCli(['dkim', 'keygen', 'example.org', '--selector', 'sg1', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`sealgate: ${out} exists already; keys are never overwritten: choose another --out (and a new --selector to rotate keys)\n`);
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
  });

  it.each<[string, string[], RegExp]>([
    ['a domain that is not one', ['dkim', 'keygen', 'not a domain', '--selector', 's', '--out', 'x.key'], /^sealgate: domain "not a domain": expected a domain name/],
    ['an RSA size not offered', ['dkim', 'keygen', 'example.org', '--selector', 's', '--out', 'x.key', '--bits', '512'], /^sealgate: --bits "512": expected one of 1024, 2048, 3072, 4096/],
    ['--bits with ed25519', ['dkim', 'keygen', 'example.org', '--selector', 's', '--out', 'x.key', '--algorithm', 'ed25519', '--bits', '2048'], /^sealgate: --bits applies to RSA keys only/],
    ['no --out', ['dkim', 'keygen', 'example.org', '--selector', 's'], /required option '--out <file>'/],
  ])('usage error: %s (exit 2, nothing written)', async (_name, args, message) => {
    const r = await runCli(args, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(() => statSync(join(dir, 'x.key'))).toThrow();
  });
});
