/**
 * DKIM on the real daemon: keys made by the real `sealgate dkim keygen`,
 * their records served by a dns2 zone exactly as the CLI printed them (the
 * zone-file strings), the gateway relaying to loopback SMTP sinks. Every
 * message that arrives is checked with mailauth's `dkimVerify` resolving
 * through that zone:
 *   - a plain message: an RSA and an Ed25519 signature, aligned with From;
 *   - a tag-stripped message: the signature covers the stripped Subject
 *     (putting the tag back breaks it);
 *   - a DSN (the sink refused a recipient) from MAILER-DAEMON@gw.test;
 *   - a policy notice (a rule blocked a recipient) from postmaster@gw.test;
 *   - a PHI message to a recipient with an OpenPGP key and one with an
 *     S/MIME certificate: each encrypted copy (PGP/MIME, S/MIME) carries
 *     its own signature over the encrypted bytes (gpg and openssl make the
 *     keys; skipped where they are not installed).
 */
import { Resolver } from 'node:dns/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { stringify } from 'yaml';
import { buildConfig, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer, type ReceivedMessage } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { algo } from './verify.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let partner: MxServer;
let home: MxServer;
let resolver: Resolver;
let keyDir: string;
let pgp: PgpFixtures | undefined;
let certs: CertFixtures | undefined;
const e2eTools = haveTool('gpg') && haveTool('openssl');

type KeyEntry = { domain: string; selector: string; keyFile: string };
const entry = (domain: string, selector: string): KeyEntry => ({ domain, selector, keyFile: join(keyDir, `${domain}.${selector}.key`) });

/** The test config with these DKIM keys. */
const configWith = (keys: KeyEntry[]): Parameters<TestSetup['writeConfig']>[0] => ({
  connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
  extra: {
    dns: { servers: [zone.server] },
    delivery: { enabled: true, port: partner.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
    inspection: { enabled: true },
    policy: {
      // a tagged message goes over verified TLS with its tag removed (stripSubjectTag is on by default)
      profiles: { connectors: { loopback: { subjectTagProtection: 'verified-tls' } } },
      rules: [{ id: 'no-blocked', when: { recipients: ['blocked.test'] }, then: { action: 'block' } }],
    },
    // S/MIME certificates chain to the fixtures' CA; no key discovery (nothing served on loopback)
    keys: { masterKeyFile: setup.masterKeyFile, smimeTrustRoots: certs ? [certs.caFile] : [], discovery: { wkd: false } },
    dkim: { keys },
  },
});

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> => until(what, probe, { context: () => gw.stdout.slice(-3000) });

/** Runs `sealgate dkim keygen` and returns the TXT record it printed, as zone strings. */
async function keygen(domain: string, selector: string, file: string, algorithm: 'rsa' | 'ed25519'): Promise<ZoneRecord> {
  const r = await runCli(['dkim', 'keygen', domain, '--selector', selector, '--out', file, '--algorithm', algorithm]);
  if (r.code !== 0) throw new Error(`keygen failed: ${r.stderr}`);
  const zoneLine = /^zone file: (\S+)\. IN TXT \( (.*) \)$/m.exec(r.stdout);
  if (!zoneLine?.[1] || !zoneLine[2]) throw new Error(`no zone line in: ${r.stdout}`);
  const strings = [...zoneLine[2].matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
  // dns2 writes an array as that many character strings, as a zone file would publish them
  return { name: zoneLine[1], type: 'TXT', data: strings as unknown as string };
}

async function verify(m: ReceivedMessage): Promise<string[]> {
  const result = await dkimVerify(m.body, { resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT') });
  return result.results.map((r) => `${r.signingDomain} ${r.selector ?? ''} ${algo(r) ?? ''} ${r.status.result} aligned=${String(r.status.aligned)}`);
}

beforeAll(async () => {
  setup = await setupGateway();
  keyDir = join(setup.dir, 'dkim');
  await mkdir(keyDir, { mode: 0o700 });
  const records = [
    await keygen('example.com', 'sgr', join(keyDir, 'example.com.sgr.key'), 'rsa'),
    await keygen('example.com', 'sge', join(keyDir, 'example.com.sge.key'), 'ed25519'),
    await keygen('gw.test', 'sgr', join(keyDir, 'gw.test.sgr.key'), 'rsa'),
  ];
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.partner.test', dnsNames: ['mx.partner.test'], usage: 'server' });
  partner = await startMxServer({ ip: '127.0.0.160', port: 0, tls: { key: cert.keyPem, cert: cert.certPem }, rcpt: (address) => (address === 'nobody@partner.test' ? [550, '5.1.1 No such user here'] : undefined) });
  home = await startMxServer({ ip: '127.0.0.161', port: partner.port });
  zone = await startDnsZone([
    { name: 'partner.test', type: 'MX', exchange: 'mx.partner.test', priority: 10 },
    { name: 'blocked.test', type: 'MX', exchange: 'mx.partner.test', priority: 10 },
    { name: 'mx.partner.test', type: 'A', address: '127.0.0.160' },
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.161' },
    // end-to-end recipients: the partner's MX (its certificate names mx.partner.test)
    { name: 'example.org', type: 'MX', exchange: 'mx.partner.test', priority: 10 },
    ...records,
  ]);
  resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([zone.server]);
  if (e2eTools) {
    pgp = makePgpFixtures(['good']); // alice@example.org
    certs = makeCertFixtures(); // ec@example.org: an EC P-256 certificate
  }
  await setup.writeConfig(configWith([entry('example.com', 'sgr'), entry('example.com', 'sge'), entry('gw.test', 'sgr')]));
  if (pgp && certs) {
    const pgpFile = join(setup.dir, 'alice.asc');
    await writeFile(pgpFile, pgp.armored('good'));
    for (const file of [pgpFile, certs.file.ec]) {
      const r = await runCli(['-c', setup.configPath, 'keys', 'import', file]);
      if (r.code !== 0) throw new Error(`keys import failed: ${r.stderr}`);
    }
  }
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await partner?.close();
  await home?.close();
  await zone?.close();
  pgp?.cleanup();
  certs?.cleanup();
  await setup?.cleanup();
});

describe('DKIM signatures on delivered mail', () => {
  it('signs plain, tag-stripped, DSN and notice messages so that they verify and align with From', async () => {
    await sendMessage(gw.port, 'alice@example.com', ['ann@partner.test'], 'From: Alice <alice@example.com>\r\nTo: ann@partner.test\r\nSubject: lunch\r\nMessage-ID: <plain@example.com>\r\n\r\nSee you at noon.\r\n');
    await sendMessage(gw.port, 'alice@example.com', ['ann@partner.test'], 'From: Alice <alice@example.com>\r\nTo: ann@partner.test\r\nSubject: [secure] plans for Friday\r\n\r\nSee you then.\r\n');
    await sendMessage(gw.port, 'alice@example.com', ['nobody@partner.test'], 'From: alice@example.com\r\nTo: nobody@partner.test\r\nSubject: hello\r\n\r\nAnyone there?\r\n');
    await sendMessage(gw.port, 'alice@example.com', ['bob@blocked.test'], 'From: alice@example.com\r\nTo: bob@blocked.test\r\nSubject: not for you\r\n\r\nBlocked by a rule.\r\n');

    // a plain message: RSA and Ed25519 signatures by example.com, on top of everything else
    const plain = await waitFor('the plain delivery', () => partner.received.find((m) => m.body.includes('See you at noon.')));
    expect(plain.body.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.com;[^]*\r\nDKIM-Signature: v=1; a=ed25519-sha256; /);
    expect(await verify(plain)).toEqual(['example.com sgr rsa-sha256 pass aligned=example.com', 'example.com sge ed25519-sha256 pass aligned=example.com']);

    // the tag-stripped message: the signature is over the stripped Subject
    const tagged = await waitFor('the tagged delivery', () => partner.received.find((m) => m.body.includes('See you then.')));
    expect((await simpleParser(tagged.body)).subject).toBe('plans for Friday');
    expect(await verify(tagged)).toEqual(['example.com sgr rsa-sha256 pass aligned=example.com', 'example.com sge ed25519-sha256 pass aligned=example.com']);
    const retagged = { ...tagged, body: Buffer.from(tagged.body.toString('latin1').replace('Subject: plans for Friday', 'Subject: [secure] plans for Friday'), 'latin1') };
    expect(retagged.body.equals(tagged.body)).toBe(false);
    expect((await verify(retagged)).map((r) => r.split(' ')[3])).toEqual(['fail', 'fail']);

    // the DSN for the refused recipient, from the gateway's own domain
    const dsn = await waitFor('the DSN', () => home.received.find((m) => m.from === '' && m.body.toString('latin1').includes('multipart/report')));
    expect((await simpleParser(dsn.body)).from?.value[0]?.address).toBe('MAILER-DAEMON@gw.test');
    expect(await verify(dsn)).toEqual(['gw.test sgr rsa-sha256 pass aligned=gw.test']);

    // the policy notice for the blocked recipient
    const notice = await waitFor('the policy notice', () => home.received.find((m) => /Subject: Your message was not sent/.test(m.body.toString('latin1'))));
    expect((await simpleParser(notice.body)).from?.value[0]?.address).toBe('postmaster@gw.test');
    expect(await verify(notice)).toEqual(['gw.test sgr rsa-sha256 pass aligned=gw.test']);
    expect(partner.received.flatMap((m) => m.to.map((t) => t.address))).not.toContain('bob@blocked.test');

    // the keys were loaded and nothing failed
    expect(gw.logLines().find((l) => l.event === 'DKIM_KEYS_LOADED')?.keys).toEqual(['sgr._domainkey.example.com rsa-sha256', 'sge._domainkey.example.com ed25519-sha256', 'sgr._domainkey.gw.test rsa-sha256']);
    expect(gw.logLines().filter((l) => l.event === 'DKIM_SIGN_FAILED')).toEqual([]);
  });

  it('signs each encrypted copy (PGP/MIME and S/MIME) over its encrypted bytes', async (ctx) => {
    requireTool(ctx, 'gpg');
    requireTool(ctx, 'openssl');
    const phi = 'Patient DOB: 04/17/1968, SSN 536-22-1234, was diagnosed with type 2 diabetes; continue metformin.';
    await sendMessage(gw.port, 'alice@example.com', ['alice@example.org', 'ec@example.org'], `From: Alice <alice@example.com>\r\nTo: alice@example.org, ec@example.org\r\nSubject: results\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n${phi}\r\n`);
    const copy = (address: string): Promise<ReceivedMessage> => waitFor(`the copy for ${address}`, () => partner.received.find((m) => m.to.some((t) => t.address === address)));
    const pgpCopy = await copy('alice@example.org');
    const smimeCopy = await copy('ec@example.org');
    expect(pgpCopy.body.toString('latin1')).toMatch(/\r\nContent-Type: multipart\/encrypted;[^]*application\/pgp-encrypted/i);
    expect(smimeCopy.body.toString('latin1')).toMatch(/\r\nContent-Type: application\/(x-)?pkcs7-mime/i);
    for (const m of [pgpCopy, smimeCopy]) {
      expect(m.body.includes('metformin')).toBe(false);
      expect(await verify(m)).toEqual(['example.com sgr rsa-sha256 pass aligned=example.com', 'example.com sge ed25519-sha256 pass aligned=example.com']);
    }
  });

  it('checks key files on reload (a missing one is refused, the running keys stay) and signs with the reloaded keys', async () => {
    const missing = { domain: 'example.com', selector: 'gone', keyFile: join(keyDir, 'gone.key') };
    await setup.writeConfig(configWith([entry('example.com', 'sgr'), missing]));
    let from = gw.logLines().length;
    gw.signal('SIGHUP');
    const refused = await gw.waitForEvent('CONFIG_RELOAD_REFUSED', 30_000, from);
    expect(refused.problems).toEqual([`dkim.keys[1].keyFile: ${missing.keyFile}: the file does not exist: create it with "sealgate dkim keygen DOMAIN --selector S --out FILE" or correct the path`]);
    await sendMessage(gw.port, 'alice@example.com', ['ann@partner.test'], 'From: alice@example.com\r\nTo: ann@partner.test\r\nSubject: after refusal\r\n\r\nStill both.\r\n');
    const still = await waitFor('the delivery after the refused reload', () => partner.received.find((m) => m.body.includes('Still both.')));
    expect((await verify(still)).map((r) => r.split(' ').slice(1, 4).join(' '))).toEqual(['sgr rsa-sha256 pass', 'sge ed25519-sha256 pass']);

    // a good reload drops the Ed25519 key: one signature from then on
    await setup.writeConfig(configWith([entry('example.com', 'sgr'), entry('gw.test', 'sgr')]));
    from = gw.logLines().length;
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, from);
    await sendMessage(gw.port, 'alice@example.com', ['ann@partner.test'], 'From: alice@example.com\r\nTo: ann@partner.test\r\nSubject: after reload\r\n\r\nOnly RSA.\r\n');
    const after = await waitFor('the delivery after the reload', () => partner.received.find((m) => m.body.includes('Only RSA.')));
    expect(await verify(after)).toEqual(['example.com sgr rsa-sha256 pass aligned=example.com']);
  });

  it('refuses to start with a key file that is not a private key (exit 2, the path and the fix)', async () => {
    const bad = join(keyDir, 'not-a-key.pem');
    await writeFile(bad, 'hello\n', { mode: 0o600 });
    const configPath = join(setup.dir, 'bad-dkim.yaml');
    await writeFile(configPath, stringify(buildConfig(setup.dir, { extra: { dataDir: join(setup.dir, 'data-bad'), dkim: { keys: [{ domain: 'example.com', selector: 's', keyFile: bad }] } } })));
    const r = await runCli(['-c', configPath, 'start']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`sealgate: dkim.keys[0].keyFile: ${bad}: not a PEM private key (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----"): point it at the key file "sealgate dkim keygen" wrote\n`);
  });
});
