/**
 * Acceptance for the kind: m365 connector preset: a loopback Postfix plays
 * Exchange Online's outbound connector. The connector lists no allowIps: its
 * ranges come from a test ranges file (the packaged one holds Microsoft's
 * real ranges, which a loopback test cannot send from), and it requires a
 * client certificate named *.mail.protection.outlook.com (issued by the test
 * CA, which the gateway trusts through tls.trustedCaFiles).
 *
 * - Postfix inside the ranges with that certificate: every message is
 *   queued through the m365 connector.
 * - Postfix inside the ranges without a certificate: 451 4.7.1 at MAIL FROM
 *   (temporary: the mail stays in its queue, as EXO keeps it 24 hours).
 * - swaks with a verified certificate of another name: 451 4.7.1 naming
 *   clientCertNames.
 * - Postfix outside the ranges: 554 5.7.1 at connect naming the provider's
 *   published ranges.
 * Each refusal is audited with the rule as its reason. A refreshed ranges
 * file applies at SIGHUP, without a restart.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { auditEvents, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { haveTool, requireTool } from '../helpers/peers.js';
import { freePort, startPostfix, type PostfixInstance } from '../helpers/postfix.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

const run = promisify(execFile);

const TENANT_IP = '127.0.0.81';
const NO_CERT_IP = '127.0.0.82';
const OUTSIDE_IP = '127.0.0.83';
const EXO_NAME = 'tenant-a.mail.protection.outlook.com';
const OTHER_NAME = 'mail.other.test';
const DEADLINE_MS = 90_000;

let setup: TestSetup;
let rangesFile = '';
let gw: RunningGateway | undefined;
const instances: PostfixInstance[] = [];
const postfixReady = haveTool('postfix');

interface Row {
  id: string;
  connector: string;
  client_ip: string;
  address: string;
}

async function queuedRows(): Promise<Row[]> {
  return withDb(setup.dataDir, (db) => db.all<Row>(`SELECT m.id, m.connector, m.client_ip, r.address FROM messages m JOIN recipients r ON r.message_id = m.id ORDER BY r.address`));
}

const certs = (): string => join(setup.dir, 'certs');

beforeAll(async () => {
  setup = await setupGateway();
  rangesFile = join(setup.dir, 'm365-test-ranges.yaml');
  // the same format as config/ranges/m365.yaml, loopback ranges (the outside address is in none)
  await writeFile(
    rangesFile,
    ['provider: m365', 'source: test ranges (loopback)', 'retrieved: "2026-12-05"', 'ranges:', `  - ${TENANT_IP}/32`, `  - ${NO_CERT_IP}/32`, '  - 127.0.0.1/32', ''].join('\n'),
  );
  await setup.writeConfig({
    connectors: [{ name: 'm365', kind: 'm365', rangesFile, senderDomains: ['example.com'], clientCertNames: ['*.mail.protection.outlook.com'] }],
  });
  for (const name of [EXO_NAME, OTHER_NAME]) {
    const cert = await issueCertificate(setup.pki.ca, { commonName: name, dnsNames: [name], usage: 'client' });
    await writeFile(join(certs(), `${name}.crt`), cert.certPem + setup.pki.ca.certPem);
    await writeFile(join(certs(), `${name}.key`), cert.keyPem, { mode: 0o600 });
  }
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  for (const pf of instances) await pf.cleanup().catch(() => undefined);
  await gw?.stop();
  await setup?.cleanup();
});

/** A Postfix relaying everything to the gateway over verified STARTTLS, with or without a client certificate. */
async function exchangeOnline(ip: string, certName: string | undefined): Promise<PostfixInstance> {
  if (!gw) throw new Error('gateway not started');
  const pf = await startPostfix({
    smtpd: { host: ip, port: await freePort(ip) },
    hostname: certName ?? 'exo.test',
    bindAddress: ip,
    relayhost: { host: '127.0.0.1', port: gw.port },
    tls: {
      level: 'verify',
      caFile: setup.pki.caFile,
      match: 'gw.test',
      ...(certName ? { certFile: join(certs(), `${certName}.crt`), keyFile: join(certs(), `${certName}.key`) } : {}),
    },
    // a refusal keeps the mail queued, as Exchange Online keeps retrying for 24 hours
    softBounce: true,
  });
  instances.push(pf);
  return pf;
}

type Event = Awaited<ReturnType<typeof auditEvents>>[number];
async function auditedReason(type: string, reason: string): Promise<Event> {
  return until(`${type} ${reason} audited`, async () => (await auditEvents(setup.configPath, 500)).find((e) => e.type === type && e.data.reason === reason));
}

describe.skipIf(!postfixReady)('Postfix as Exchange Online through a kind: m365 connector without allowIps', () => {
  it('delivers from inside the preset ranges with a *.mail.protection.outlook.com client certificate', async (ctx) => {
    requireTool(ctx, 'postfix');
    const pf = await exchangeOnline(TENANT_IP, EXO_NAME);
    for (const to of ['bob@example.net', 'carol@example.net']) {
      await pf.sendmail('alice@example.com', [to], Buffer.from(`From: alice@example.com\nTo: ${to}\nSubject: preset test\n\nhello\n`, 'utf8'));
    }
    await pf.waitForEmptyQueue(DEADLINE_MS);
    const log = await pf.maillog();
    expect(log.match(/status=sent \(250 2\.0\.0 Ok: queued as [0-9A-Z]+\)/g)).toHaveLength(2);
    expect(log).toMatch(/Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]/);
    // the debug log shows the names an admin would put in clientCertNames
    expect(gw?.logLines().find((l) => l.event === 'TLS_ESTABLISHED' && l.clientCert === true)).toMatchObject({ clientCertNames: [EXO_NAME] });
    const rows = (await queuedRows()).filter((r) => r.client_ip === TENANT_IP);
    expect(rows.map((r) => [r.address, r.connector])).toEqual([
      ['bob@example.net', 'm365'],
      ['carol@example.net', 'm365'],
    ]);
  });

  it('refuses Postfix inside the ranges without a client certificate: 451 4.7.1, the mail stays queued', async (ctx) => {
    requireTool(ctx, 'postfix');
    const pf = await exchangeOnline(NO_CERT_IP, undefined);
    await pf.sendmail('alice@example.com', ['dave@example.net'], Buffer.from('From: alice@example.com\nTo: dave@example.net\nSubject: no cert\n\nhello\n', 'utf8'));
    const refusal = /status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1 A valid client certificate is required for this connector \(in reply to MAIL FROM command\)\)/;
    await pf.waitFor(async () => refusal.test(await pf.maillog()) || undefined, DEADLINE_MS, 'the refused delivery');
    expect((await pf.queue()).map((e) => e.recipients[0]?.address)).toEqual(['dave@example.net']);
    expect((await auditedReason('ingress:sender_refused', 'SG_CLIENT_CERT_REQUIRED')).data).toMatchObject({ remoteIp: NO_CERT_IP, connector: 'm365', reply: '451 4.7.1' });
    expect((await queuedRows()).filter((r) => r.client_ip === NO_CERT_IP)).toEqual([]);
  });

  it('refuses a verified certificate of another name with a reply naming clientCertNames', async (ctx) => {
    requireTool(ctx, 'swaks');
    const args = ['--server', `127.0.0.1:${gw?.port}`, '--tls', '--tls-cert', join(certs(), `${OTHER_NAME}.crt`), '--tls-key', join(certs(), `${OTHER_NAME}.key`), '--from', 'alice@example.com', '--to', 'erin@example.net', '--quit-after', 'MAIL'];
    const out = await run('swaks', args, { timeout: 60_000 }).then(
      (r) => r.stdout,
      (e: { stdout?: string }) => e.stdout ?? '',
    );
    expect(out).toContain("<~* 451 4.7.1 Client certificate name does not match this connector's clientCertNames");
    expect((await auditedReason('ingress:sender_refused', 'SG_CLIENT_CERT_NAME_MISMATCH')).data).toMatchObject({ remoteIp: '127.0.0.1', connector: 'm365', reply: '451 4.7.1' });
  });

  it('refuses Postfix outside the ranges at connect with a reply naming the published ranges', async (ctx) => {
    requireTool(ctx, 'postfix');
    const pf = await exchangeOnline(OUTSIDE_IP, EXO_NAME);
    await pf.sendmail('alice@example.com', ['frank@example.net'], Buffer.from('From: alice@example.com\nTo: frank@example.net\nSubject: outside\n\nhello\n', 'utf8'));
    const refusal = /host 127\.0\.0\.1\[127\.0\.0\.1\] refused to talk to me: 554 5\.7\.1 Client host not authorized: address not in the provider's published sending ranges/;
    await pf.waitFor(async () => refusal.test(await pf.maillog()) || undefined, DEADLINE_MS, 'the refused connection');
    expect((await pf.queue()).map((e) => e.recipients[0]?.address)).toEqual(['frank@example.net']);
    expect((await auditedReason('ingress:connection_refused', 'SG_CLIENT_NOT_IN_PRESET_RANGES')).data).toMatchObject({ remoteIp: OUTSIDE_IP });
    expect((await queuedRows()).filter((r) => r.client_ip === OUTSIDE_IP)).toEqual([]);
  });

  it('reads a refreshed ranges file at SIGHUP: the outside address is admitted, no restart', async () => {
    if (!gw) throw new Error('gateway not started');
    const before = await RawSmtp.connect(gw.port, { localAddress: OUTSIDE_IP });
    expect(before.greeting.code).toBe(554);
    before.client.destroy();
    const logFrom = gw.logLines().length;
    await writeFile(rangesFile, ['provider: m365', 'source: test ranges (loopback)', 'retrieved: "2026-12-06"', 'ranges:', '  - 127.0.0.0/8', ''].join('\n'));
    gw.signal('SIGHUP');
    await gw.waitForEvent('CONFIG_RELOADED', 30_000, logFrom);
    const after = await RawSmtp.connect(gw.port, { localAddress: OUTSIDE_IP });
    expect(after.greeting.code).toBe(220);
    await after.client.quit();
  });
});
