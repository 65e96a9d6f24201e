/**
 * Policy rules and profiles on the real daemon. A message with PHI goes to a
 * partner (delivered over verified TLS, labelled by an added header) and to
 * a domain a rule blocks (never delivered; the sender gets a notice with the
 * rule and masked evidence, the privacy officer a notice with categories
 * only). A tagged message is delivered without its tag (a profile lowered
 * the tag's protection to verified TLS). A CSV attachment is held by a rule
 * and the sender told. No matched value appears in any log line, audit
 * event or notice.
 */
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { withDb } from '../helpers/spool-reader.js';

const SSN = '536-22-1234';
const DOB = '04/17/1968';
const PHI_BODY = `Patient DOB: ${DOB}, SSN ${SSN}, was diagnosed with type 2 diabetes; continue metformin.`;

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let partner: MxServer;
let home: MxServer;


const send = (to: string[], message: string): Promise<string> => sendMessage(gw.port, 'alice@example.com', to, message);
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> => until(what, probe, { context: () => gw.stdout.slice(-3000) });

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.partner.test', dnsNames: ['mx.partner.test'], usage: 'server' });
  partner = await startMxServer({ ip: '127.0.0.110', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  home = await startMxServer({ ip: '127.0.0.111', port: partner.port });
  zone = await startDnsZone([
    { name: 'partner.test', type: 'MX', exchange: 'mx.partner.test', priority: 10 },
    { name: 'blocked.test', type: 'MX', exchange: 'mx.partner.test', priority: 10 },
    { name: 'mx.partner.test', type: 'A', address: '127.0.0.110' },
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.111' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: partner.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      inspection: { enabled: true },
      policy: {
        profiles: { connectors: { loopback: { subjectTagProtection: 'verified-tls' } }, senderDomains: { 'example.com': { portalExpiry: '7d' } } },
        rules: [
          { id: 'no-ssn-to-blocked', description: 'SSNs never go to blocked.test', when: { categories: [{ category: 'SSN' }], recipients: ['blocked.test'] }, then: { action: 'block', notify: ['privacy@example.com'] } },
          { id: 'hold-csv', when: { attachmentTypes: ['.csv'] }, then: { action: 'quarantine' } },
          { id: 'label-phi', when: { phi: true }, then: { addHeaders: { 'X-Sealgate-Class': 'phi' } } },
        ],
      },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await partner?.close();
  await home?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('policy rules in the pipeline', () => {
  it('labels, blocks, strips the tag, holds, and notifies without values', async () => {
    const phi = await send(['ann@partner.test', 'bob@blocked.test'], `From: alice@example.com\r\nSubject: results\r\n\r\n${PHI_BODY}\r\n`);
    const tagged = await send(['ann@partner.test'], 'From: alice@example.com\r\nSubject: [secure] plans for Friday\r\n\r\nSee you then.\r\n');
    const csv = await send(
      ['ann@partner.test'],
      'From: alice@example.com\r\nSubject: list\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nattached\r\n--b1\r\nContent-Type: text/csv; name=inventory.csv\r\nContent-Disposition: attachment; filename=inventory.csv\r\n\r\nitem,count\r\ngloves,40\r\n--b1--\r\n',
    );

    // the partner gets the PHI message, labelled, and the tagged one without its tag
    const phiCopy = await waitFor('the PHI delivery', () => partner.received.find((m) => m.body.includes('metformin')));
    expect(phiCopy.to.map((t) => t.address)).toEqual(['ann@partner.test']);
    expect(phiCopy.secure).toBe(true);
    expect(phiCopy.body.toString('latin1')).toMatch(/^X-Sealgate-Class: phi\r\n/);
    const taggedCopy = await waitFor('the tagged delivery', () => partner.received.find((m) => m.body.includes('See you then.')));
    expect((await simpleParser(taggedCopy.body)).subject).toBe('plans for Friday');
    expect(partner.received.some((m) => m.body.includes('gloves'))).toBe(false);
    expect(partner.received.flatMap((m) => m.to.map((t) => t.address))).not.toContain('bob@blocked.test');

    // notices arrive at the sender's own MX
    const notices = await waitFor('three notices', async () => {
      const got = await Promise.all(home.received.map(async (m) => ({ to: m.to.map((t) => t.address), from: m.from, mail: await simpleParser(m.body), raw: m.body.toString('utf8') })));
      return got.length >= 3 ? got : undefined;
    });
    const blocked = notices.find((n) => n.mail.subject === 'Your message was not sent: blocked by email policy');
    expect(blocked?.to).toEqual(['alice@example.com']);
    expect(blocked?.from).toBe('');
    expect(blocked?.mail.text).toContain(`queue id ${phi}`);
    expect(blocked?.mail.text).toContain('no-ssn-to-blocked: SSNs never go to blocked.test');
    expect(blocked?.mail.text).toContain('SSN: 1 (high confidence): SSN ***-**-1234');
    const officer = notices.find((n) => n.to.includes('privacy@example.com'));
    expect(officer?.mail.subject).toBe('Email policy rule matched');
    expect(officer?.mail.text).toContain('from alice@example.com to 2 recipient(s)');
    expect(officer?.mail.text).toContain('SSN: 1 (high confidence)');
    expect(officer?.mail.text).not.toContain('***');
    const held = notices.find((n) => n.mail.subject === 'Your message is held for review');
    expect(held?.mail.text).toContain(`queue id ${csv}`);
    expect(held?.mail.text).toContain('hold-csv');

    // the blocked recipient is final; the held one waits for an administrator. The partner has the PHI
    // message once its DATA is answered; the gateway records that a moment later
    await waitFor('the PHI message finished', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === phi));
    const rows = await withDb(setup.dataDir, (db) => db.all<{ message_id: string; address: string; state: string; method: string }>('SELECT message_id, address, state, method FROM recipients WHERE message_id IN (?, ?, ?) ORDER BY message_id, seq', [phi, tagged, csv]));
    // the PHI message is finished: one recipient delivered, the other blocked (final, no DSN: the notice replaces it)
    expect(rows.filter((r) => r.message_id === phi)).toEqual([]);
    expect(rows.find((r) => r.message_id === csv)).toMatchObject({ state: 'held', method: 'quarantine' });

    // no value anywhere: not in the logs, the audit log or any notice (masked evidence keeps only the last four)
    const audit = JSON.stringify(await auditEvents(setup.configPath));
    expect(audit).toContain('"type":"policy:notice_queued"');
    expect(audit).toContain('"rules":["no-ssn-to-blocked","label-phi"]');
    for (const text of [gw.stdout, audit, ...notices.map((n) => n.raw)]) {
      expect(text).not.toContain(SSN);
      expect(text).not.toContain('536221234');
      expect(text).not.toContain(DOB);
      expect(text).not.toContain('metformin');
      expect(text).not.toContain('results');
    }
  });

  it('sealgate policy explain shows each setting with its source and the rules per recipient', async () => {
    const r = await runCli(['-c', setup.configPath, 'policy', 'explain', '--from', 'alice@example.com', '--to', 'ann@partner.test,bob@blocked.test']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sender alice@example.com via connector loopback');
    expect(r.stdout).toContain('  subjectTagProtection = verified-tls   [profiles.connectors.loopback]');
    expect(r.stdout).toContain('  phiProtection = verified-tls   [built-in default]');
    expect(r.stdout).toContain('  portalExpiry = 7d (at most portal.expiry)   [profiles.senderDomains.example.com]');
    expect(r.stdout).toContain('  no-ssn-to-blocked — SSNs never go to blocked.test: when any of SSN≥1 (medium) and recipient in blocked.test then block, notify privacy@example.com');
    expect(r.stdout).toContain('  ann@partner.test: hold-csv, label-phi');
    expect(r.stdout).toContain('  bob@blocked.test: no-ssn-to-blocked, hold-csv, label-phi');
    const json = JSON.parse((await runCli(['-c', setup.configPath, 'policy', 'explain', '--from', 'alice@example.com', '--to', 'ann@partner.test', '--json'])).stdout) as { settings: { name: string; value: unknown; source: string }[] };
    expect(json.settings.find((s) => s.name === 'stripSubjectTag')).toEqual({ name: 'stripSubjectTag', value: true, source: 'built-in default' });
    expect(json.settings.find((s) => s.name === 'portalExpiry')).toEqual({ name: 'portalExpiry', value: 7 * 86_400_000, source: 'profiles.senderDomains.example.com' });
    const other = await runCli(['-c', setup.configPath, 'policy', 'explain', '--from', 'alice@example.org', '--to', 'ann@partner.test', '--connector', 'loopback']);
    expect(other.stdout).toContain('  portalExpiry = portal.expiry   [built-in default]');
    const bad = await runCli(['-c', setup.configPath, 'policy', 'explain', '--from', 'alice@example.com', '--to', 'ann@partner.test', '--connector', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('sealgate: unknown connector "nope"; name one of: loopback');
  });

  it('sealgate quarantine show and release: the held message goes out after all', async () => {
    const list = JSON.parse((await runCli(['-c', setup.configPath, 'quarantine', 'list', '--json'])).stdout) as { id: string }[];
    const id = list[0]?.id ?? '';
    expect(list).toHaveLength(1);
    const shown = await runCli(['-c', setup.configPath, 'quarantine', 'show', id]);
    expect(shown.stdout).toContain('rules: hold-csv');
    expect(shown.stdout).toContain('ann@partner.test: needs quarantine — rule hold-csv: quarantine');
    const notHeld = await runCli(['-c', setup.configPath, 'quarantine', 'delete', '01ABCDEFGHJKMNPQRSTV']);
    expect(notHeld.code).toBe(1); // not found (docs/errors.md, exit codes)
    expect(notHeld.stderr.trim()).toBe('sealgate: 01ABCDEFGHJKMNPQRSTV is not a quarantined message (see sealgate quarantine list)');
    const released = await runCli(['-c', setup.configPath, 'quarantine', 'release', id]);
    expect(released.stdout).toBe(`released ${id}: 1 recipient\n`);
    await waitFor('the released message', () => partner.received.find((m) => m.body.includes('gloves')));
    expect(JSON.stringify(await auditEvents(setup.configPath))).toContain('"type":"queue:released"');
  });
});

