/**
 * An end-to-end copy whose encryption fails part-way, on the real daemon
 * (issue 13 follow-up). The organisation's OpenPGP signing key is damaged
 * (keys.sign on): openpgp accepts it up front and fails only when it signs,
 * at the end of the stream, while the copy is being written to the spool.
 * That failure used to come out of the spool as SG_STORAGE_FAILED, and the
 * inspection was retried for ever with the message stuck. Now the OpenPGP
 * recipient's copy fails (SG_E2E_FAILED, audited as
 * inspect:encrypted_copy_failed), the recipient is decided again without its
 * key and delivered over verified TLS, and the S/MIME recipient's copy of the
 * same message is built and delivered encrypted as before.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { SqlOrgKeyStore } from '../../src/keys/org-store.js';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer, type ReceivedMessage } from '../helpers/mx-server.js';
import { haveTool } from '../helpers/peers.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { damagedOrgPgpKey } from './damaged-key.js';

const live = haveTool('gpg') && haveTool('openssl') ? describe : describe.skip;

const BODY = 'Patient DOB: 04/17/1968, SSN 536-22-1234, was diagnosed with type 2 diabetes; continue metformin.';
const RECIPIENTS = ['alice@example.org', 'ec@example.org'];
// many lines, so the OpenPGP copy is streamed into the spool in many chunks before openpgp signs
const MESSAGE = ['From: sender@example.com', `To: ${RECIPIENTS.join(', ')}`, 'Subject: lab results', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', BODY, ...Array.from({ length: 5000 }, (_, i) => `result line ${i}: within range`), ''].join('\r\n');

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer;
let pgp: PgpFixtures;
let certs: CertFixtures;
let queueId: string;

const to = (m: ReceivedMessage): string[] => m.to.map((t) => t.address);
const copyFor = (address: string): ReceivedMessage | undefined => mx.received.find((m) => to(m).includes(address));

live('an end-to-end copy that fails part-way', () => {
  beforeAll(async () => {
    setup = await setupGateway();
    pgp = makePgpFixtures(['good']);
    certs = makeCertFixtures();
    const mxCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.example.org', dnsNames: ['mx.example.org'], usage: 'server' });
    mx = await startMxServer({ ip: '127.0.0.124', port: 0, tls: { key: mxCert.keyPem, cert: mxCert.certPem } });
    zone = await startDnsZone([
      { name: 'example.org', type: 'MX', exchange: 'mx.example.org', priority: 10 },
      { name: 'mx.example.org', type: 'A', address: '127.0.0.124' },
    ]);
    await setup.writeConfig({
      connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
      extra: {
        dns: { servers: [zone.server] },
        delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
        inspection: { enabled: true },
        keys: { masterKeyFile: setup.masterKeyFile, smimeTrustRoots: [certs.caFile], sign: true, discovery: { wkd: false } },
      },
    });
    const cfg = ['-c', setup.configPath];
    const aliceKey = join(setup.dir, 'alice.asc');
    writeFileSync(aliceKey, pgp.armored('good'));
    expect((await runCli([...cfg, 'keys', 'import', aliceKey])).stderr).toBe('');
    expect((await runCli([...cfg, 'keys', 'import', certs.file.ec])).stderr).toBe('');
    // `keys org init` makes the master key and the database; the key it stored is then replaced by a damaged one
    expect((await runCli([...cfg, 'keys', 'org', 'init', '--email', 'security@example.com'])).code).toBe(0);
    const keyring = await loadKeyring({ masterKeyFile: setup.masterKeyFile, create: false });
    const damaged = await damagedOrgPgpKey();
    await withDb(setup.dataDir, (db) => new SqlOrgKeyStore(db, keyring).put(damaged, { operator: 'test', now: Date.now(), event: 'keys:org_imported' }));
    gw = await startGateway(setup.configPath);
    queueId = await sendMessage(gw.port, 'sender@example.com', RECIPIENTS, MESSAGE);
  });

  afterAll(async () => {
    await gw?.stop();
    await mx?.close();
    await zone?.close();
    pgp?.cleanup();
    certs?.cleanup();
    await setup?.cleanup();
  });

  it('is inspected once: the OpenPGP recipient is decided again without its key, and the message is delivered', async () => {
    await until('the message delivered', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === queueId), { context: () => gw.stdout.slice(-3000) });
    expect(gw.logLines().filter((l) => l.event === 'INSPECTION_FAILED')).toEqual([]);
    const failedLog = gw.logLines().filter((l) => l.event === 'E2E_COPY_FAILED');
    expect(failedLog.map((l) => [l.queueId, l.recipients, l.why])).toEqual([[queueId, 1, ['SG_E2E_FAILED']]]);
    const failed = (await auditEvents(setup.configPath)).filter((e) => e.type === 'inspect:encrypted_copy_failed');
    expect(failed.map((e) => e.data)).toEqual([{ queueId, recipient: 'alice@example.org', method: 'pgp', keyFingerprint: pgp.fpr.good, why: 'SG_E2E_FAILED' }]);
  });

  it('the OpenPGP recipient gets the message over verified TLS instead (PHI), with no encryption layer', () => {
    const m = copyFor('alice@example.org');
    expect(m?.secure).toBe(true);
    expect(m?.body.toString('latin1')).toContain('continue metformin');
    expect(m?.body.toString('latin1')).not.toContain('multipart/encrypted');
  });

  it("the S/MIME recipient's copy of the same message is intact: openssl decrypts it to the original", async () => {
    const m = copyFor('ec@example.org');
    expect(m && to(m)).toEqual(['ec@example.org']);
    const outer = await simpleParser(m?.body ?? Buffer.alloc(0));
    expect(outer.headers.get('content-type')).toMatchObject({ value: 'application/pkcs7-mime' });
    expect(m?.body.toString('latin1')).not.toContain('metformin');
    const file = join(setup.dir, 'ec-copy.eml');
    writeFileSync(file, m?.body ?? Buffer.alloc(0));
    const inner = execFileSync('openssl', ['cms', '-decrypt', '-in', file, '-recip', certs.file.ec, '-inkey', certs.file.ec.replace(/\.pem$/, '.key')], { maxBuffer: 16 * 1024 * 1024 }).toString('latin1');
    expect(inner).toContain(BODY);
    expect(inner).toContain('result line 4999: within range');
  });
});
