/**
 * Connector authentication end to end, on the real daemon over loopback:
 * AUTH on a submission listener (users made with the real CLI), client
 * certificates for an M365-style connector, and the PROXY protocol deciding
 * which client address the connectors judge. Replies are checked word for
 * word; what was queued is read back from the database and the spool.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCa, issueCertificate, type Pem } from '../../src/tls/x509.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { readSpooled, withDb } from '../helpers/spool-reader.js';

const ALICE_PASSWORD = 'alice-Secret-pw-4711';
const BOB_PASSWORD = 'bob-Other-pw-0815-x';
const WRONG_PASSWORD = 'not-the-Password-9';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const plain = (user: string, password: string): string => `AUTH PLAIN ${b64(`\0${user}\0${password}`)}`;

async function messageRow(setup: TestSetup, id: string): Promise<Record<string, unknown> | undefined> {
  return withDb(setup.dataDir, (db) => db.get<Record<string, unknown>>('SELECT connector, listener, client_ip, auth_user, tls_version FROM messages WHERE id = ?', [id]));
}

async function sendOne(c: RawSmtp, from: string): Promise<string> {
  expect((await c.command(`MAIL FROM:<${from}>`)).text).toBe('250 2.1.0 Accepted');
  expect((await c.command('RCPT TO:<bob@example.net>')).code).toBe(250);
  const reply = await c.data(dataPayload('Subject: connector test\r\n\r\nbody\r\n'));
  expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
  return queueIdOf(reply)!;
}

interface AuditEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

async function auditEvents(setup: TestSetup): Promise<{ raw: string; events: AuditEvent[] }> {
  const tail = await runCli(['-c', setup.configPath, 'audit', 'tail', '-n', '500', '--json']);
  expect(tail.code).toBe(0);
  const events = tail.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
  return { raw: tail.stdout, events };
}

describe('submission listener with AUTH', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let tlsOptions: { ca: string; servername: string };

  beforeAll(async () => {
    setup = await setupGateway({
      listener: { name: 'submission', auth: true, connectors: ['staff'] },
      connectors: [{ name: 'staff', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], users: ['alice'] }],
      smtp: { maxAuthFailures: 3 },
    });
    for (const [name, password] of [['alice', ALICE_PASSWORD], ['bob', BOB_PASSWORD]] as const) {
      const added = await runCli(['-c', setup.configPath, 'users', 'add', name, '--password-stdin'], { input: `${password}\n` });
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toBe(`user ${name} added\n`);
    }
    gw = await startGateway(setup.configPath);
    tlsOptions = { ca: setup.pki.ca.certPem, servername: 'localhost' };
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  async function tlsSession(): Promise<RawSmtp> {
    const { client, greeting } = await RawSmtp.connect(gw.port);
    expect(greeting.code).toBe(220);
    await client.command('EHLO client.test');
    expect((await client.starttls(tlsOptions)).code).toBe(220);
    expect((await client.command('EHLO client.test')).code).toBe(250);
    return client;
  }

  it('offers AUTH only after STARTTLS and refuses AUTH and MAIL FROM before it', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    const before = (await client.command('EHLO client.test')).lines.join('\n');
    expect(before).toContain('STARTTLS');
    expect(before).not.toContain('AUTH');
    // AUTH does not exist before TLS (like Postfix's smtpd_tls_auth_only): the credentials are refused unread
    expect((await client.command(plain('alice', ALICE_PASSWORD))).text).toBe('500 5.5.2 Error: command not recognized');
    expect((await client.command('MAIL FROM:<alice@example.com>')).text).toBe('530 5.7.0 Must issue a STARTTLS command first');
    await client.starttls(tlsOptions);
    const after = (await client.command('EHLO client.test')).lines.join('\n');
    expect(after).toMatch(/^250[- ]AUTH PLAIN LOGIN$/m);
    await client.quit();
  });

  it('refuses an unauthenticated sender on a connector with users, even over TLS', async () => {
    const c = await tlsSession();
    expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('530 5.7.0 Authentication required');
    await c.quit();
  });

  it('accepts AUTH PLAIN for a user made with the CLI and queues as that user', async () => {
    const c = await tlsSession();
    expect((await c.command(plain('alice', ALICE_PASSWORD))).text).toBe('235 2.7.0 Authentication successful');
    const id = await sendOne(c, 'alice@example.com');
    await c.quit();
    expect(await messageRow(setup, id)).toMatchObject({ connector: 'staff', listener: 'submission', auth_user: 'alice', tls_version: 'TLSv1.3' });
    const spooled = (await readSpooled(setup.dataDir, setup.masterKeyFile, id)).toString('latin1');
    expect(spooled).toMatch(/^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.3 with cipher [A-Z0-9_]+\)\r\n\tby gw\.test \(Sealgate\) with ESMTPSA id /);
  });

  it('accepts AUTH LOGIN', async () => {
    const c = await tlsSession();
    expect((await c.command('AUTH LOGIN')).text).toBe(`334 ${b64('Username:')}`);
    expect((await c.command(b64('alice'))).text).toBe(`334 ${b64('Password:')}`);
    expect((await c.command(b64(ALICE_PASSWORD))).text).toBe('235 2.7.0 Authentication successful');
    await sendOne(c, 'alice@example.com');
    await c.quit();
  });

  it('answers a wrong password with 535 5.7.8 and lets the client try again', async () => {
    const c = await tlsSession();
    expect((await c.command(plain('alice', WRONG_PASSWORD))).text).toBe('535 5.7.8 Authentication credentials invalid');
    expect((await c.command(plain('nobody', WRONG_PASSWORD))).text).toBe('535 5.7.8 Authentication credentials invalid');
    expect((await c.command(plain('alice', ALICE_PASSWORD))).text).toBe('235 2.7.0 Authentication successful');
    await c.quit();
  });

  it('closes the session with 421 4.7.0 after maxAuthFailures failed attempts', async () => {
    const c = await tlsSession();
    expect((await c.command(plain('alice', WRONG_PASSWORD))).code).toBe(535);
    expect((await c.command('AUTH LOGIN')).code).toBe(334);
    expect((await c.command(b64('alice'))).code).toBe(334);
    expect((await c.command(b64(WRONG_PASSWORD))).text).toBe('535 5.7.8 Authentication credentials invalid');
    expect((await c.command(plain('alice', WRONG_PASSWORD))).text).toBe('421 4.7.0 Too many authentication failures');
    await c.closedByPeer();
    expect(c.isClosed).toBe(true);
    c.destroy();
  });

  it('refuses a user who authenticated but is not listed in the connector', async () => {
    const c = await tlsSession();
    expect((await c.command(plain('bob', BOB_PASSWORD))).text).toBe('235 2.7.0 Authentication successful');
    expect((await c.command('MAIL FROM:<bob@example.com>')).text).toBe('550 5.7.1 Authenticated user may not relay through this connection');
    await c.quit();
  });

  it('audits every AUTH attempt by user name and never logs or audits a password', async () => {
    // the audit write of the last attempt may still be in flight
    let audit = await auditEvents(setup);
    for (let i = 0; i < 50 && audit.events.filter((e) => e.type === 'ingress:auth_failed').length < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      audit = await auditEvents(setup);
    }
    const succeeded = audit.events.filter((e) => e.type === 'ingress:auth_succeeded');
    const failed = audit.events.filter((e) => e.type === 'ingress:auth_failed');
    expect(succeeded.map((e) => e.data.user).sort()).toEqual(['alice', 'alice', 'alice', 'bob']);
    expect(succeeded.map((e) => e.data.method).sort()).toEqual(['LOGIN', 'PLAIN', 'PLAIN', 'PLAIN']);
    expect(failed.map((e) => e.data.user).sort()).toEqual(['alice', 'alice', 'alice', 'alice', 'nobody']);
    for (const e of [...succeeded, ...failed]) expect(e.data).toMatchObject({ listener: 'submission', remoteIp: '127.0.0.1' });
    expect(audit.events.map((e) => e.type)).toContain('users:added');

    const logs = gw.logLines();
    expect(logs.filter((l) => l.event === 'AUTH_SUCCEEDED')).toHaveLength(4);
    expect(logs.filter((l) => l.event === 'AUTH_FAILED')).toHaveLength(5);
    for (const secret of [ALICE_PASSWORD, BOB_PASSWORD, WRONG_PASSWORD]) {
      for (const text of [gw.stdout, gw.stderr, audit.raw]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(b64(secret));
        expect(text).not.toContain(b64(`\0alice\0${secret}`));
      }
    }
  });
});

describe('client certificate connector (M365 style)', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  let partnerCa: Pem;
  let good: Pem;
  let otherName: Pem;
  let foreign: Pem;
  let ownCa: Pem;

  beforeAll(async () => {
    setup = await setupGateway();
    partnerCa = await generateCa({ commonName: 'Partner Test CA' });
    const partnerCaFile = join(setup.dir, 'certs', 'partner-ca.crt');
    await writeFile(partnerCaFile, partnerCa.certPem);
    good = await issueCertificate(partnerCa, { commonName: 'mail.partner.test', dnsNames: ['mail.partner.test'], usage: 'client' });
    otherName = await issueCertificate(partnerCa, { commonName: 'mail.other.test', dnsNames: ['mail.other.test'], usage: 'client' });
    const foreignCa = await generateCa({ commonName: 'Foreign Test CA' });
    foreign = await issueCertificate(foreignCa, { commonName: 'mail.partner.test', dnsNames: ['mail.partner.test'], usage: 'client' });
    // issued by the CA in tls.trustedCaFiles: trusted for outbound TLS, but not this connector's CA
    ownCa = await issueCertificate(setup.pki.ca, { commonName: 'mail.partner.test', dnsNames: ['mail.partner.test'], usage: 'client' });
    await setup.writeConfig({
      connectors: [{ name: 'm365', kind: 'm365', allowIps: ['127.0.0.0/8'], senderDomains: ['partner.test'], requireClientCert: { names: ['mail.partner.test'], caFiles: [partnerCaFile] } }],
    });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  async function session(clientCert?: Pem): Promise<RawSmtp> {
    const { client, greeting } = await RawSmtp.connect(gw.port);
    expect(greeting.code).toBe(220);
    await client.command('EHLO client.test');
    const tls = { ca: setup.pki.ca.certPem, servername: 'localhost', ...(clientCert ? { key: clientCert.keyPem, cert: clientCert.certPem } : {}) };
    expect((await client.starttls(tls)).code).toBe(220);
    expect((await client.command('EHLO client.test')).code).toBe(250);
    return client;
  }

  it('accepts a client certificate for the configured name issued by the connector CA', async () => {
    const c = await session(good);
    const id = await sendOne(c, 'alice@partner.test');
    await c.quit();
    expect(await messageRow(setup, id)).toMatchObject({ connector: 'm365', listener: 'relay' });
  });

  it('refuses a session without a client certificate', async () => {
    const c = await session();
    expect((await c.command('MAIL FROM:<alice@partner.test>')).text).toBe('451 4.7.1 A valid client certificate is required for this connector');
    await c.quit();
  });

  it('refuses MAIL FROM before STARTTLS', async () => {
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<alice@partner.test>')).text).toBe('530 5.7.0 Must issue a STARTTLS command first');
    await client.quit();
  });

  it('refuses a certificate from the connector CA for another name', async () => {
    const c = await session(otherName);
    expect((await c.command('MAIL FROM:<alice@partner.test>')).text).toBe('451 4.7.1 A valid client certificate is required for this connector');
    await c.quit();
  });

  it('refuses a certificate for the right name from another CA, even one the gateway trusts otherwise', async () => {
    for (const cert of [foreign, ownCa]) {
      const c = await session(cert);
      expect((await c.command('MAIL FROM:<alice@partner.test>')).text).toBe('451 4.7.1 A valid client certificate is required for this connector');
      await c.quit();
    }
  });

  it('still checks the sender domain for a valid certificate', async () => {
    const c = await session(good);
    expect((await c.command('MAIL FROM:<alice@example.com>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    await c.quit();
  });
});

describe('PROXY protocol v1', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  const tlsOptions = (): { ca: string; servername: string } => ({ ca: setup.pki.ca.certPem, servername: 'localhost' });
  const header = (source: string): string => `PROXY TCP4 ${source} 127.0.0.1 40000 25\r\n`;

  beforeAll(async () => {
    setup = await setupGateway();
    const tls = { host: '127.0.0.1', port: 0, tls: 'starttls', certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') };
    await setup.writeConfig({
      listeners: [
        { name: 'behind-any', ...tls, proxyProtocol: true },
        { name: 'behind-lb', ...tls, proxyProtocol: ['127.0.0.1'] },
        { name: 'behind-lb-range', ...tls, proxyProtocol: ['127.0.0.0/30'] },
      ],
      connectors: [
        { name: 'direct', allowIps: ['127.0.0.1/32', '127.0.0.20/32'], senderDomains: ['direct.test'], requireTls: false },
        { name: 'proxied', allowIps: ['127.0.0.9/32'], senderDomains: ['example.com'], requireTls: false },
      ],
    });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  const port = (name: string): number => {
    const p = gw.ports.get(name);
    if (p === undefined) throw new Error(`no listener ${name}`);
    return p;
  };

  it('judges the session by the address in the PROXY header and names it in the Received header', async () => {
    const { client, greeting } = await RawSmtp.connect(port('behind-any'), { proxyHeader: header('127.0.0.9') });
    expect(greeting.text).toMatch(/^220 gw\.test ESMTP/);
    await client.command('EHLO client.test');
    // the real peer 127.0.0.1 would use "direct": the proxied client 127.0.0.9 may not
    expect((await client.command('MAIL FROM:<x@direct.test>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await client.starttls(tlsOptions())).code).toBe(220);
    await client.command('EHLO client.test');
    const id = await sendOne(client, 'alice@example.com');
    await client.quit();
    expect(await messageRow(setup, id)).toMatchObject({ connector: 'proxied', listener: 'behind-any', client_ip: '127.0.0.9' });
    const spooled = (await readSpooled(setup.dataDir, setup.masterKeyFile, id)).toString('latin1');
    expect(spooled).toMatch(/^Received: from client\.test \(\[127\.0\.0\.9\]\)\r\n/);
    expect(spooled.split('\r\n\r\n')[0]).not.toContain('127.0.0.1');
  });

  it('refuses at connect a proxied client outside every connector range, though the real peer is allowed', async () => {
    const { client, greeting } = await RawSmtp.connect(port('behind-any'), { proxyHeader: header('127.0.0.50') });
    expect(greeting.text).toBe('554 5.7.1 Client host not authorized to use this server');
    client.destroy();
    const direct = await RawSmtp.connect(port('behind-any'), { proxyHeader: header('127.0.0.1') });
    expect(direct.greeting.code).toBe(220);
    await direct.client.quit();
  });

  it('takes the PROXY header only from the listed load balancer address', async () => {
    const lb = await RawSmtp.connect(port('behind-lb'), { proxyHeader: header('127.0.0.9') });
    expect(lb.greeting.code).toBe(220);
    await lb.client.command('EHLO client.test');
    expect((await lb.client.command('MAIL FROM:<alice@example.com>')).text).toBe('250 2.1.0 Accepted');
    await lb.client.quit();

    // another peer cannot claim an address: its header is an unknown command and it is judged by its own address
    const { client, greeting } = await RawSmtp.connect(port('behind-lb'), { localAddress: '127.0.0.20' });
    expect(greeting.code).toBe(220);
    expect((await client.command(header('127.0.0.9').trimEnd())).code).toBe(500);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<alice@example.com>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await client.command('MAIL FROM:<x@direct.test>')).text).toBe('250 2.1.0 Accepted');
    await client.quit();
  });

  it('accepts a load balancer list given as a CIDR range', async () => {
    const lb = await RawSmtp.connect(port('behind-lb-range'), { proxyHeader: header('127.0.0.9') });
    expect(lb.greeting.code).toBe(220);
    await lb.client.command('EHLO client.test');
    expect((await lb.client.command('MAIL FROM:<alice@example.com>')).text).toBe('250 2.1.0 Accepted');
    await lb.client.quit();

    const other = await RawSmtp.connect(port('behind-lb-range'), { localAddress: '127.0.0.20' });
    expect(other.greeting.code).toBe(220);
    await other.client.command('EHLO client.test');
    expect((await other.client.command('MAIL FROM:<x@direct.test>')).text).toBe('250 2.1.0 Accepted');
    await other.client.quit();
  });

  it('reloads an unchanged config without asking for a restart of PROXY listeners', async () => {
    const from = gw.logLines().length;
    gw.signal('SIGHUP');
    const reloaded = await gw.waitForEvent('CONFIG_RELOADED', 30_000, from);
    expect(reloaded.restartNeeded).toEqual([]);
    const lb = await RawSmtp.connect(port('behind-lb-range'), { proxyHeader: header('127.0.0.9') });
    expect(lb.greeting.code).toBe(220);
    await lb.client.quit();
  });
});

describe('listener connectors changed on SIGHUP', () => {
  let setup: TestSetup;
  let gw: RunningGateway;
  const connectors = [
    { name: 'clinic-a', allowIps: ['127.0.0.1/32'], senderDomains: ['a.test'], requireTls: false },
    { name: 'clinic-b', allowIps: ['127.0.0.1/32'], senderDomains: ['b.test'], requireTls: false },
  ];

  beforeAll(async () => {
    setup = await setupGateway({ listener: { connectors: ['clinic-a'] }, connectors });
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    await setup?.cleanup();
  });

  it('apply to new sessions and to the next transaction of an open one', async () => {
    const open = await RawSmtp.connect(gw.port);
    await open.client.command('EHLO client.test');
    expect((await open.client.command('MAIL FROM:<x@b.test>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await open.client.command('MAIL FROM:<x@a.test>')).text).toBe('250 2.1.0 Accepted');
    expect((await open.client.command('RSET')).code).toBe(250);

    await setup.writeConfig({ listener: { connectors: ['clinic-b'] }, connectors });
    const from = gw.logLines().length;
    gw.signal('SIGHUP');
    expect((await gw.waitForEvent('CONFIG_RELOADED', 30_000, from)).restartNeeded).toEqual([]);

    const fresh = await RawSmtp.connect(gw.port);
    await fresh.client.command('EHLO client.test');
    expect((await fresh.client.command('MAIL FROM:<x@a.test>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await fresh.client.command('MAIL FROM:<x@b.test>')).text).toBe('250 2.1.0 Accepted');
    await fresh.client.quit();

    expect((await open.client.command('MAIL FROM:<x@a.test>')).text).toBe('550 5.7.1 Sender address rejected: domain not allowed for this connector');
    expect((await open.client.command('MAIL FROM:<x@b.test>')).text).toBe('250 2.1.0 Accepted');
    await open.client.quit();
  });
});
