/**
 * End-to-end encryption on the real daemon (issue 13's acceptance, on the
 * loopback topology with a WKD HTTPS server under the test CA). One PHI
 * message with an attachment goes to:
 *   - carol@example.org: OpenPGP key found only by WKD → PGP/MIME that real
 *     `gpg --decrypt` turns back into the original;
 *   - dave@example.org: an admin-imported OpenPGP key → PGP/MIME of its own,
 *     naming only dave's key (two PGP recipients: two messages);
 *   - alice@example.org: an S/MIME RSA certificate and an OpenPGP key;
 *     keys.prefer smime → S/MIME that `openssl smime -decrypt` opens;
 *   - ec@example.org: an S/MIME EC P-256 certificate → `openssl cms -decrypt`;
 *   - revoked@example.org: only a revoked key → verified TLS, plain;
 *   - bob@example.org: no key → verified TLS, plain.
 * Every copy travels over verified TLS (the PHI requirement) and is signed
 * with the organisation keys (keys.sign): gpg reports a good signature,
 * `openssl smime -verify` accepts the S/MIME signature against the CA. The
 * audit log, `queue show` and `policy test` name the method, the key and
 * its source. Mail that arrives already PGP-encrypted passes untouched.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wkdLocations } from '../../src/keys/wkd.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer, type ReceivedMessage } from '../helpers/mx-server.js';
import { haveTool } from '../helpers/peers.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { startWkdServer, type WkdServer } from '../keys/wkd-server.js';
import { gpgDecrypt, gpgListPackets } from './gpg.js';

const live = haveTool('gpg') && haveTool('openssl') ? describe : describe.skip;

const BODY = 'Patient DOB: 04/17/1968, SSN 536-22-1234, was diagnosed with type 2 diabetes; continue metformin.';
const ATTACHMENT = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256));
const RECIPIENTS = ['carol@example.org', 'dave@example.org', 'alice@example.org', 'ec@example.org', 'revoked@example.org', 'bob@example.org'];

function original(): string {
  return [
    'From: sender@example.com',
    `To: ${RECIPIENTS.join(', ')}`,
    'Subject: lab results',
    'Message-ID: <e2e-delivery-1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    BODY,
    '--b1',
    'Content-Type: application/octet-stream; name="scan.bin"',
    'Content-Disposition: attachment; filename="scan.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    ATTACHMENT.toString('base64').replace(/.{76}/g, '$&\r\n'),
    '--b1--',
    '',
  ].join('\r\n');
}

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer;
let wkd: WkdServer;
let pgp: PgpFixtures;
let certs: CertFixtures;
let queueId: string;
let orgFingerprint: string;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> => until(what, probe, { context: () => gw.stdout.slice(-3000) });
const to = (m: ReceivedMessage): string[] => m.to.map((t) => t.address);
const copyFor = (address: string): ReceivedMessage | undefined => mx.received.find((m) => to(m).includes(address));

/** The decrypted MIME entity's text part and attachment, as a mail client reads them. */
async function partsOf(entity: Buffer): Promise<{ text: string; attachment: Buffer | undefined; subject: string | undefined }> {
  const parsed = await simpleParser(entity);
  return { text: (parsed.text ?? '').trim(), attachment: parsed.attachments[0]?.content, subject: parsed.subject };
}

function opensslDecrypt(command: 'smime' | 'cms', message: Buffer, cert: string, key: string): Buffer {
  const file = join(setup.dir, `in-${command}.eml`);
  writeFileSync(file, message);
  return execFileSync('openssl', [command, '-decrypt', '-in', file, '-recip', cert, '-inkey', key], { maxBuffer: 64 * 1024 * 1024 });
}

live('end-to-end delivery', () => {
  beforeAll(async () => {
    setup = await setupGateway();
    pgp = makePgpFixtures(['good', 'rsa', 'twoUids', 'revoked', 'expiredSubkey'], { rsa: 'Carol Wkd <carol@example.org>', twoUids: 'Dave Admin <dave@example.org>', expiredSubkey: 'Later Recipient <later@example.org>' });
    certs = makeCertFixtures();
    const mxCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.example.org', dnsNames: ['mx.example.org'], usage: 'server' });
    // later@ is always deferred; dave from his second message on (the queue show test)
    mx = await startMxServer({
      ip: '127.0.0.120',
      port: 0,
      tls: { key: mxCert.keyPem, cert: mxCert.certPem },
      rcpt: (address, attempt) => (address === 'later@example.org' || (address === 'dave@example.org' && attempt > 1) ? [451, '4.2.1 try later'] : undefined),
    });
    wkd = await startWkdServer({ ip: '127.0.0.121', ca: setup.pki.ca, hosts: ['example.org', 'openpgpkey.example.org'] });
    zone = await startDnsZone([
      { name: 'example.org', type: 'MX', exchange: 'mx.example.org', priority: 10 },
      { name: 'mx.example.org', type: 'A', address: '127.0.0.120' },
      { name: 'example.org', type: 'A', address: '127.0.0.121' },
    ]);
    // carol's key is published by WKD only (direct method; the advanced host has no address)
    const direct = wkdLocations('carol@example.org')[1];
    wkd.answers.set(`${direct.host}${direct.path}`, { body: pgp.binary(['rsa']) });
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        dns: { servers: [zone.server] },
        delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
        inspection: { enabled: true },
        keys: { masterKeyFile: setup.masterKeyFile, smimeTrustRoots: [certs.caFile], sign: true, discovery: { httpsPort: wkd.port, timeout: '10s' } },
      },
    });
    // admin imports: dave's and alice's OpenPGP keys, alice's RSA and ec's EC certificate, a revoked key
    const cfg = ['-c', setup.configPath];
    for (const name of ['twoUids', 'good', 'revoked', 'expiredSubkey'] as const) {
      const file = join(setup.dir, `${name}.asc`);
      writeFileSync(file, pgp.armored(name));
      const r = await runCli([...cfg, 'keys', 'import', file]);
      expect(r.stderr).toBe('');
    }
    for (const name of ['rsa', 'ec'] as const) {
      const r = await runCli([...cfg, 'keys', 'import', certs.file[name]]);
      expect(r.stderr).toBe('');
    }
    // the organisation's keys: an OpenPGP key made here, an S/MIME certificate (the test CA's RSA leaf) imported
    expect((await runCli([...cfg, 'keys', 'org', 'init', '--name', 'Example Clinic', '--email', 'security@example.com'])).code).toBe(0);
    expect((await runCli([...cfg, 'keys', 'org', 'import', '--cert', certs.file.rsa, '--key', certs.file.rsa.replace(/\.pem$/, '.key')])).code).toBe(0);
    const orgPublic = await runCli([...cfg, 'keys', 'org', 'export-public', '--kind', 'pgp']);
    execFileSync('gpg', ['--batch', '--import'], { env: { ...process.env, GNUPGHOME: pgp.home }, input: orgPublic.stdout, stdio: ['pipe', 'ignore', 'ignore'] });
    orgFingerprint = (JSON.parse((await runCli([...cfg, 'keys', 'org', 'show', '--json'])).stdout) as { kind: string; fingerprint: string }[]).find((k) => k.kind === 'pgp')?.fingerprint ?? '';
    gw = await startGateway(setup.configPath);
    queueId = await sendMessage(gw.port, 'sender@example.com', RECIPIENTS, original());
  });

  afterAll(async () => {
    await gw?.stop();
    await mx?.close();
    await wkd?.close();
    await zone?.close();
    pgp?.cleanup();
    certs?.cleanup();
    await setup?.cleanup();
  });

  it('delivers one copy per end-to-end recipient and the plain message to the others, all over verified TLS', async () => {
    await waitFor('every recipient delivered', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === queueId));
    const byRecipient = new Map(RECIPIENTS.map((r) => [r, mx.received.filter((m) => to(m).includes(r))]));
    for (const [r, copies] of byRecipient) expect(copies.length, r).toBe(1);
    // end-to-end copies are transactions of their own; the two plain recipients share one
    for (const r of ['carol@example.org', 'dave@example.org', 'alice@example.org', 'ec@example.org']) expect(to(copyFor(r) as ReceivedMessage)).toEqual([r]);
    expect(to(copyFor('bob@example.org') as ReceivedMessage).sort()).toEqual(['bob@example.org', 'revoked@example.org']);
    for (const m of mx.received) expect(m.secure).toBe(true);
    // the PHI is readable only in the plain copies
    for (const r of ['carol@example.org', 'dave@example.org', 'alice@example.org', 'ec@example.org']) expect(copyFor(r)?.body.toString('latin1')).not.toContain('metformin');
    expect(copyFor('bob@example.org')?.body.toString('latin1')).toContain('metformin');
  });

  it('the WKD-only recipient gets PGP/MIME that gpg decrypts to the original, encrypted to its key alone', async () => {
    const m = copyFor('carol@example.org') as ReceivedMessage;
    const outer = await simpleParser(m.body);
    expect(outer.headers.get('content-type')).toMatchObject({ value: 'multipart/encrypted', params: { protocol: 'application/pgp-encrypted' } });
    const armored = outer.attachments.find((a) => a.contentType === 'application/octet-stream')?.content ?? Buffer.alloc(0);
    const packets = gpgListPackets(pgp.home, armored);
    expect(packets.match(/:pubkey enc packet:/g)?.length).toBe(1);
    const decrypted = gpgDecrypt(pgp.home, armored);
    expect(decrypted.code).toBe(0);
    // signed with the organisation key (keys.sign)
    expect(decrypted.status.some((l) => l.startsWith('GOODSIG '))).toBe(true);
    expect(decrypted.status.some((l) => l.startsWith(`VALIDSIG ${orgFingerprint.toUpperCase()} `))).toBe(true);
    const parts = await partsOf(decrypted.stdout);
    expect(parts.text).toBe(BODY);
    expect(parts.attachment?.equals(ATTACHMENT)).toBe(true);
    expect(parts.subject).toBe('lab results');
  });

  it('two PGP recipients get two messages, each naming only its own recipient key', async () => {
    const keyIds = (address: string): string[] => {
      const m = copyFor(address) as ReceivedMessage;
      const body = m.body.toString('latin1');
      const armored = body.slice(body.indexOf('-----BEGIN PGP MESSAGE-----'), body.indexOf('-----END PGP MESSAGE-----') + 25);
      return [...gpgListPackets(pgp.home, armored).matchAll(/keyid ([0-9A-F]{16})/g)].map((x) => x[1] ?? '');
    };
    const carol = keyIds('carol@example.org');
    const dave = keyIds('dave@example.org');
    expect(carol).toHaveLength(1);
    expect(dave).toHaveLength(1);
    expect(carol[0]).not.toBe(dave[0]);
    const subkeys = (fpr: string): string => execFileSync('gpg', ['--batch', '--with-colons', '--list-keys', fpr.toUpperCase()], { env: { ...process.env, GNUPGHOME: pgp.home } }).toString('utf8');
    expect(subkeys(pgp.fpr.rsa)).toContain(carol[0]);
    expect(subkeys(pgp.fpr.twoUids)).toContain(dave[0]);
    expect(subkeys(pgp.fpr.twoUids)).not.toContain(carol[0]);
  });

  it('S/MIME recipients (RSA and EC P-256) get enveloped data openssl decrypts to the original; keys.prefer smime wins over alice\'s OpenPGP key', async () => {
    const rsa = copyFor('alice@example.org') as ReceivedMessage;
    expect((await simpleParser(rsa.body)).headers.get('content-type')).toMatchObject({ value: 'application/pkcs7-mime', params: { 'smime-type': 'enveloped-data' } });
    const signedEntity = opensslDecrypt('smime', rsa.body, certs.file.rsa, certs.file.rsa.replace(/\.pem$/, '.key'));
    // signed, then encrypted: the signature verifies against the test CA and covers the original entity
    expect(signedEntity.toString('latin1')).toMatch(/^Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"/);
    const signedFile = join(setup.dir, 'signed.eml');
    writeFileSync(signedFile, signedEntity);
    const verified = execFileSync('openssl', ['smime', '-verify', '-binary', '-in', signedFile, '-CAfile', certs.caFile], { stdio: ['ignore', 'pipe', 'ignore'] });
    const fromRsa = await partsOf(verified);
    expect(fromRsa.text).toBe(BODY);
    // openssl cms opens the RSA copy too, to the same signed entity
    expect(opensslDecrypt('cms', rsa.body, certs.file.rsa, certs.file.rsa.replace(/\.pem$/, '.key')).equals(signedEntity)).toBe(true);
    expect(fromRsa.attachment?.equals(ATTACHMENT)).toBe(true);
    const ec = copyFor('ec@example.org') as ReceivedMessage;
    const ecSigned = join(setup.dir, 'ec-signed.eml');
    writeFileSync(ecSigned, opensslDecrypt('cms', ec.body, certs.file.ec, certs.file.ec.replace(/\.pem$/, '.key')));
    const fromEc = await partsOf(execFileSync('openssl', ['smime', '-verify', '-binary', '-in', ecSigned, '-CAfile', certs.caFile], { stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(fromEc.text).toBe(BODY);
    expect(fromEc.attachment?.equals(ATTACHMENT)).toBe(true);
  });

  it('the audit log names each copy\'s method, key and source; deliveries name them too', async () => {
    const events = await auditEvents(setup.configPath, 500);
    const copies = events.filter((e) => e.type === 'inspect:encrypted_copy').map((e) => e.data as Record<string, string>);
    const of = (r: string): Record<string, string> | undefined => copies.find((c) => c.recipient === r);
    expect(of('carol@example.org')).toMatchObject({ queueId, method: 'pgp', keyFingerprint: pgp.fpr.rsa, keySource: 'wkd', signed: 'true' });
    expect(of('dave@example.org')).toMatchObject({ method: 'pgp', keyFingerprint: pgp.fpr.twoUids, keySource: 'admin' });
    expect(of('alice@example.org')).toMatchObject({ method: 'smime', keySource: 'admin', detail: 'key transport rsa-pkcs1v15' });
    expect(of('ec@example.org')).toMatchObject({ method: 'smime', keySource: 'admin', detail: 'key transport ecdh-p256-sha256kdf' });
    expect(copies.filter((c) => c.queueId === queueId)).toHaveLength(4);
    const attempts = events.filter((e) => e.type === 'delivery:attempt').map((e) => e.data as Record<string, string>);
    expect(attempts.find((a) => a.recipient === 'carol@example.org')).toMatchObject({ method: 'pgp', keyFingerprint: pgp.fpr.rsa, keySource: 'wkd', certVerified: 'true', outcome: 'delivered' });
    expect(attempts.find((a) => a.recipient === 'bob@example.org')?.method).toBeUndefined();
    // no message content in any event
    expect(JSON.stringify(events)).not.toContain('metformin');
    expect(JSON.stringify(events)).not.toContain('536-22-1234');
  });

  it('the archive entry records each end-to-end recipient\'s method and key, and the TLS its copy went over (archive show --json)', async () => {
    const show = await runCli(['-c', setup.configPath, 'archive', 'show', queueId, '--json']);
    expect(show.stderr).toBe('');
    const entry = JSON.parse(show.stdout) as { recipients: { address: string; method: string; state: string; keyFingerprint?: string | null; tls: { version: string; cipher: string; verified: boolean } | null }[] };
    const of = (a: string) => entry.recipients.find((r) => r.address === a);
    expect(of('carol@example.org')).toMatchObject({ method: 'pgp', state: 'delivered', keyFingerprint: pgp.fpr.rsa, tls: { verified: true } });
    expect(of('dave@example.org')).toMatchObject({ method: 'pgp', state: 'delivered', keyFingerprint: pgp.fpr.twoUids });
    expect(of('alice@example.org')).toMatchObject({ method: 'smime', state: 'delivered', tls: { verified: true } });
    expect(of('bob@example.org')).toMatchObject({ method: 'tls-verified', state: 'delivered', tls: { verified: true } });
    expect(of('bob@example.org')?.tls?.version).toMatch(/^TLSv1\.[23]$/);
  });

  it('policy test shows which key each recipient\'s copy would be encrypted to', async () => {
    const file = join(setup.dir, 'phi.eml');
    writeFileSync(file, original());
    const r = await runCli(['-c', setup.configPath, 'policy', 'test', file, '--from', 'sender@example.com', '--to', 'carol@example.org,alice@example.org,revoked@example.org', '--json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { recipients: { recipient: string; method: string; requirement: string; key?: { fingerprint: string; source: string } }[] };
    expect(out.recipients).toEqual([
      expect.objectContaining({ recipient: 'carol@example.org', method: 'pgp', requirement: 'verify', key: { fingerprint: pgp.fpr.rsa, source: 'wkd' } }),
      expect.objectContaining({ recipient: 'alice@example.org', method: 'smime', requirement: 'verify', key: expect.objectContaining({ source: 'admin' }) }),
      expect.objectContaining({ recipient: 'revoked@example.org', method: 'tls-verified' }),
    ]);
    expect(out.recipients[2]?.key).toBeUndefined();
    const text = await runCli(['-c', setup.configPath, 'policy', 'test', file, '--from', 'sender@example.com', '--to', 'carol@example.org']);
    expect(text.stdout).toContain(`carol@example.org: pgp with key ${pgp.fpr.rsa} (wkd), transport verify`);
  });

  it('queue show names the method and the key of a deferred end-to-end recipient; a key whose only encryption subkey expired is not used', async () => {
    // later@example.org has an admin-imported key whose encryption subkey expired: verified TLS instead, and its MX defers
    const id = await sendMessage(gw.port, 'sender@example.com', ['dave@example.org', 'later@example.org'], original().replace('Message-ID: <e2e-delivery-1@example.com>', 'Message-ID: <e2e-delivery-2@example.com>'));
    await waitFor('the deferral', () => gw.logLines().find((l) => l.event === 'DELIVERY_ATTEMPT' && l.queueId === id && l.outcome === 'deferred'));
    const show = await runCli(['-c', setup.configPath, 'queue', 'show', id, '--json']);
    const detail = JSON.parse(show.stdout) as { recipients: { address: string; method: string; requirement: string; keyFingerprint: string | null; keySource: string | null; passthrough: boolean }[] };
    expect(detail.recipients.find((r) => r.address === 'later@example.org')).toMatchObject({ method: 'tls-verified', requirement: 'verify', keyFingerprint: null, keySource: null });
    expect(detail.recipients.find((r) => r.address === 'dave@example.org')).toMatchObject({ method: 'pgp', requirement: 'verify', keyFingerprint: pgp.fpr.twoUids, keySource: 'admin', passthrough: false });
    const text = await runCli(['-c', setup.configPath, 'queue', 'show', id]);
    expect(text.stdout).toContain('method tls-verified (transport verify)');
    expect(text.stdout).toContain(`method pgp (transport verify), key ${pgp.fpr.twoUids} (admin)`);
    // the deferred attempt's audit event names the method and the key too
    await waitFor('the audited attempt for dave', async () =>
      (await auditEvents(setup.configPath, 500)).find((e) => e.type === 'delivery:attempt' && e.data.queueId === id && e.data.recipient === 'dave@example.org' && e.data.method === 'pgp' && e.data.keyFingerprint === pgp.fpr.twoUids && e.data.outcome === 'deferred'),
    );
  });

  it('mail that arrives already PGP-encrypted passes through untouched and is recorded so', async () => {
    // encrypted data carries no text to inspect; the subject tag asks for E2E, which the sender already did
    const armored = execFileSync('gpg', ['--batch', '--armor', '--trust-model', 'always', '--encrypt', '-r', pgp.fpr.rsa.toUpperCase()], { env: { ...process.env, GNUPGHOME: pgp.home }, input: 'already secret: SSN 536-22-1234, diagnosed with diabetes\n' }).toString('latin1');
    const message = `From: sender@example.com\r\nTo: carol@example.org\r\nSubject: [secure] pre-encrypted\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="pe"\r\n\r\n--pe\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--pe\r\nContent-Type: application/octet-stream\r\n\r\n${armored.replace(/\r?\n/g, '\r\n')}\r\n--pe--\r\n`;
    const id = await sendMessage(gw.port, 'sender@example.com', ['carol@example.org'], message);
    const got = await waitFor('the pass-through delivery', () => mx.received.find((m) => m.body.includes('pre-encrypted')));
    // the tag is removed from the header (stripSubjectTag); the body is not touched
    expect(got.body.toString('latin1')).toContain('Subject: pre-encrypted\r\n');
    // one layer only: the same PGP message the sender wrote
    expect(got.body.toString('latin1')).toContain(armored.replace(/\r?\n/g, '\r\n').trim());
    expect(got.body.toString('latin1').match(/-----BEGIN PGP MESSAGE-----/g)).toHaveLength(1);
    const events = await auditEvents(setup.configPath, 500);
    expect(events.find((e) => e.type === 'inspect:encrypted_copy' && e.data.queueId === id)?.data).toMatchObject({ recipient: 'carol@example.org', method: 'pgp', passthrough: 'pgp-mime' });
  });

  it('removes the copies with the message', async () => {
    const rows = await withDb(setup.dataDir, (db) => db.all('SELECT 1 FROM messages WHERE id = ?', [queueId]));
    expect(rows).toEqual([]);
    const left = execFileSync('find', [join(setup.dataDir, 'spool', 'msg'), '-name', `${queueId}*`]).toString('utf8').trim();
    expect(left).toBe('');
  });
});
