/**
 * A real MTA in the place of Exchange Online's outbound connector: a private
 * Postfix instance relays everything to Sealgate over STARTTLS, verifying
 * Sealgate's certificate (chain and name) and presenting a client certificate
 * for mail.tenant.test, as EXO does towards a smart host with a
 * certificate-bound connector. Mail goes in with smtp-source (connection
 * reuse) and with Postfix's own sendmail (a message with a lone-dot line and
 * 8-bit text); Postfix must hand over every message and Sealgate must queue
 * exactly those, through the m365 connector, with the TLS version recorded,
 * and the bytes Postfix delivered. A second Postfix whose certificate names
 * another host is refused: its mail stays in its queue, nothing is queued.
 *
 * Sealgate answers that refusal with 451 4.7.1 at MAIL FROM, a temporary
 * reply: a stock Postfix (like Exchange Online) keeps the mail queued and
 * retries, so a rotated connector certificate never bounces staff mail.
 * The relays run with soft_bounce = yes as a safety net: were the reply ever
 * permanent again, the mail would still stay where the test can look at it.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { freePort, startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { readSpooled, withDb } from '../helpers/spool-reader.js';

const run = promisify(execFile);

const TENANT_IP = '127.0.0.61';
const OTHER_IP = '127.0.0.62';
const SOURCE_MESSAGES = 50;
const DEADLINE_MS = 90_000;

// LF line endings, as a local program hands a message to sendmail; Postfix sends CRLF
const SPECIAL = [
  'From: Alice <alice@example.com>',
  'To: carol@example.net',
  'Subject: lone dot and 8-bit text',
  'Date: Tue, 24 Nov 2026 10:00:00 +0000',
  'Message-ID: <special-1@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Grüße aus der Praxis, café 30 €.',
  'The next line is a single dot and must arrive as data:',
  '.',
  '..two dots',
  '.leading dot',
  'last line',
  '',
].join('\n');

interface Row {
  id: string;
  sender: string;
  connector: string;
  client_ip: string;
  helo: string;
  tls_version: string | null;
  body_type: string;
  address: string;
}

let setup: TestSetup;
let gw: RunningGateway | undefined;
const instances: PostfixInstance[] = [];
const postfixReady = haveTool('postfix') && haveTool('smtp-source');

async function queuedRows(): Promise<Row[]> {
  return withDb(setup.dataDir, (db) =>
    db.all<Row>(
      `SELECT m.id, m.sender, m.connector, m.client_ip, m.helo, m.tls_version, m.body_type, r.address
         FROM messages m JOIN recipients r ON r.message_id = m.id ORDER BY r.address`,
    ),
  );
}

/** Everything above the first line that is not part of a leading Received header. */
function withoutReceived(message: string): string {
  return message.replace(/^(?:Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)+/, '');
}

beforeAll(async () => {
  setup = await setupGateway();
  await setup.writeConfig({
    connectors: [
      {
        name: 'm365',
        kind: 'm365',
        allowIps: ['127.0.0.0/8'],
        senderDomains: ['example.com'],
        requireClientCert: { names: ['mail.tenant.test'], caFiles: [setup.pki.caFile] },
      },
    ],
  });
  if (!postfixReady) return;
  const certs = join(setup.dir, 'certs');
  for (const name of ['mail.tenant.test', 'mail.other.test']) {
    const cert = await issueCertificate(setup.pki.ca, { commonName: name, dnsNames: [name], usage: 'client' });
    await writeFile(join(certs, `${name}.crt`), cert.certPem + setup.pki.ca.certPem);
    await writeFile(join(certs, `${name}.key`), cert.keyPem, { mode: 0o600 });
  }
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  for (const pf of instances) await pf.cleanup().catch(() => undefined);
  await gw?.stop();
  await setup?.cleanup();
});

async function tenantRelay(ip: string, name: string): Promise<PostfixInstance> {
  if (!gw) throw new Error('gateway not started');
  const certs = join(setup.dir, 'certs');
  const pf = await startPostfix({
    smtpd: { host: ip, port: await freePort(ip) },
    hostname: name,
    bindAddress: ip,
    relayhost: { host: '127.0.0.1', port: gw.port },
    // verify: the chain against the test CA and the name gw.test (Postfix never matches IP SANs)
    tls: { level: 'verify', caFile: setup.pki.caFile, match: 'gw.test', certFile: join(certs, `${name}.crt`), keyFile: join(certs, `${name}.key`) },
    // a refusal keeps the mail queued, as Exchange Online keeps retrying for 24 hours
    softBounce: true,
  });
  instances.push(pf);
  return pf;
}

describe('Postfix as the Microsoft 365 outbound connector', () => {
  it(`relays ${SOURCE_MESSAGES + 1} messages over verified STARTTLS with a client certificate; Sealgate queues exactly those`, async (ctx) => {
    requireTool(ctx, 'postfix');
    requireTool(ctx, 'smtp-source');
    const pf = await tenantRelay(TENANT_IP, 'mail.tenant.test');

    // -N numbers the recipients 1bob … 50bob, so each message can be told apart
    await run('smtp-source', ['-d', '-s', '5', '-m', String(SOURCE_MESSAGES), '-l', '2048', '-N', '-f', 'alice@example.com', '-t', 'bob@example.net', `${pf.smtpd.host}:${pf.smtpd.port}`]);
    await pf.sendmail('alice@example.com', ['carol@example.net'], Buffer.from(SPECIAL, 'utf8'));
    await pf.waitForEmptyQueue(DEADLINE_MS);

    const log = await pf.maillog();
    const sent = [...log.matchAll(/ to=<([^>]+)>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent \(250 2\.0\.0 Ok: queued as ([0-9A-Z]+)\)/g)];
    expect(sent).toHaveLength(SOURCE_MESSAGES + 1);
    // Postfix checked Sealgate's certificate, it did not just encrypt
    expect(log).toMatch(new RegExp(`Verified TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${gw?.port}: TLSv1\\.[23] `));
    expect(log).not.toMatch(/status=(deferred|bounced)/);
    expect(log).not.toMatch(/ (warning|error|fatal|panic): /);

    const rows = await queuedRows();
    const expectedRecipients = [...Array.from({ length: SOURCE_MESSAGES }, (_, i) => `${i + 1}bob@example.net`), 'carol@example.net'].sort();
    expect(rows.map((r) => r.address)).toEqual(expectedRecipients);
    // the ids Postfix was given in its 250 replies are exactly the queued messages
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(sent.map((m) => m[2])));
    for (const m of sent) expect(rows.find((r) => r.id === m[2])?.address).toBe(m[1]);
    for (const r of rows) {
      expect(r).toMatchObject({ sender: 'alice@example.com', connector: 'm365', client_ip: TENANT_IP, helo: 'mail.tenant.test' });
      expect(r.tls_version).toMatch(/^TLSv1\.[23]$/);
    }

    const special = rows.find((r) => r.address === 'carol@example.net');
    expect(special?.body_type).toBe('8BITMIME');
    const stored = (await readSpooled(setup.dataDir, setup.masterKeyFile, special?.id ?? '')).toString('utf8');
    // Sealgate's Received on top, then Postfix's own; the rest is exactly what went in
    expect(stored).toMatch(/^Received: from mail\.tenant\.test \(\[127\.0\.0\.61\]\)\r\n\t\(using TLSv1\.[23] with cipher [A-Z0-9_]+\)\r\n\tby gw\.test \(Sealgate\)/);
    expect(stored).toMatch(/\r\nReceived: by mail\.tenant\.test \(Postfix, from userid 0\)/);
    expect(withoutReceived(stored)).toBe(SPECIAL.replace(/\n/g, '\r\n'));
  });

  it('refuses a relay whose client certificate names another host: its mail stays in its queue, nothing is queued', async (ctx) => {
    requireTool(ctx, 'postfix');
    requireTool(ctx, 'smtp-source');
    const before = (await queuedRows()).length;
    const logFrom = gw?.logLines().length ?? 0;
    const pf = await tenantRelay(OTHER_IP, 'mail.other.test');

    await run('smtp-source', ['-d', '-s', '1', '-m', '3', '-l', '512', '-N', '-f', 'alice@example.com', '-t', 'mallory@example.net', `${pf.smtpd.host}:${pf.smtpd.port}`]);
    const refusal = /status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1 A valid client certificate is required for this connector \(in reply to MAIL FROM command\)\)/g;
    await pf.waitFor(async () => ((await pf.maillog()).match(refusal)?.length ?? 0) >= 3 || undefined, DEADLINE_MS, 'three refused deliveries');

    const log = await pf.maillog();
    // the TLS session itself was fine (Sealgate's certificate verified, the client certificate sent): the name is what failed
    expect(log).toMatch(/Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]/);
    expect(log).not.toMatch(/status=sent/);
    const queue = await pf.queue();
    expect(queue.map((e) => e.recipients[0]?.address).sort()).toEqual(['1mallory@example.net', '2mallory@example.net', '3mallory@example.net']);
    for (const e of queue) expect(e.recipients[0]?.delay_reason).toContain('451 4.7.1');

    const refused = await gw?.waitForEvent('SENDER_REFUSED', 30_000, logFrom);
    expect(refused?.reason).toBe('SG_CLIENT_CERT_REQUIRED');
    const rows = await queuedRows();
    expect(rows).toHaveLength(before);
    expect(rows.filter((r) => r.client_ip === OTHER_IP || r.helo === 'mail.other.test' || r.address.includes('mallory'))).toEqual([]);
  });
});
