/**
 * archive.journalTo: every archived message also goes, as a journal report,
 * to an external archive address over verified TLS — the envelope (with the
 * blind copy) in the first part, the original byte for byte as
 * message/rfc822 in the second, the original Subject only inside it.
 */
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { readArchived, withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let sink: MxServer;
let journal: MxServer;

beforeAll(async () => {
  setup = await setupGateway();
  const sinkCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.sink.test', dnsNames: ['mx.sink.test'], usage: 'server' });
  const journalCert = await issueCertificate(setup.pki.ca, { commonName: 'mx.journal.test', dnsNames: ['mx.journal.test'], usage: 'server' });
  sink = await startMxServer({ ip: '127.0.0.20', port: 0, tls: { key: sinkCert.keyPem, cert: sinkCert.certPem } });
  journal = await startMxServer({ ip: '127.0.0.21', port: sink.port, tls: { key: journalCert.keyPem, cert: journalCert.certPem } });
  zone = await startDnsZone([
    { name: 'sink.test', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.20' },
    { name: 'journal.test', type: 'MX', exchange: 'mx.journal.test', priority: 10 },
    { name: 'mx.journal.test', type: 'A', address: '127.0.0.21' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: sink.port, defaultRequirement: 'may' },
      archive: { journalTo: 'vault@journal.test' },
      // this sender's mail is kept ten years instead of archive.retention's six
      policy: { profiles: { senderDomains: { 'example.com': { archiveRetention: '10y' } } } },
    },
  });
  gw = await startGateway(setup.configPath);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await sink?.close();
  await journal?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('journaling', () => {
  it('sends a journal report of each archived message to archive.journalTo: envelope with the blind copy, the original as message/rfc822', async () => {
    const message = 'From: alice@example.com\r\nTo: bob@sink.test\r\nSubject: Biopsy result for J. Doe\r\nMessage-ID: <journal-1@example.com>\r\n\r\nThe result is ready.\r\n.dot line\r\n';
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO journal.test');
    await client.command('MAIL FROM:<alice@example.com>');
    await client.command('RCPT TO:<bob@sink.test>');
    await client.command('RCPT TO:<hidden@sink.test>');
    const id = queueIdOf(await client.data(dataPayload(message)));
    await client.quit();
    if (!id) throw new Error('not accepted');

    await until('journal report received', () => journal.received.length >= 1 || undefined, { context: () => gw.stderr.slice(-1000) });
    const report = journal.received[0];
    if (!report) throw new Error('no report');
    expect(report.to.map((r) => r.address)).toEqual(['vault@journal.test']);
    expect(report.from).toBe('');
    // the journal report left over TLS (its requirement is verify: the test CA is trusted, the name matches)
    expect(report.secure).toBe(true);
    const parsed = await simpleParser(report.body);
    expect(parsed.subject).toBe(`Sealgate journal report ${id}`);
    // the original Subject is only inside the attached message, never in the report's own header
    const reportHeader = report.body.toString('latin1').split('\r\n\r\n')[0] ?? '';
    expect(reportHeader).toContain('Subject: Sealgate journal report');
    expect(reportHeader).not.toContain('Biopsy');
    expect(parsed.text).toContain('Sender: alice@example.com');
    expect(parsed.text).toContain('Recipient: bob@sink.test');
    expect(parsed.text).toContain('Recipient: hidden@sink.test');
    expect(parsed.text).toContain(`Queue-ID: ${id}`);
    expect(parsed.text).toContain('Message-ID: <journal-1@example.com>');
    const attached = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
    const archived = await readArchived(setup.dataDir, setup.masterKeyFile, id);
    expect(attached?.content.equals(archived ?? Buffer.alloc(0))).toBe(true);

    const journaled = await withDb(setup.dataDir, (db) => db.all<{ data: string }>("SELECT data FROM audit_log WHERE type = 'archive:journaled'"));
    expect(journaled.map((r) => JSON.parse(r.data) as { queueId: string }).map((d) => d.queueId)).toEqual([id]);
    // the report itself is not archived (nor journaled again)
    await until('the original delivered', () => sink.received.length >= 2 || undefined);
    const entries = await withDb(setup.dataDir, (db) => db.all<{ id: string; received_at: number; retain_until: number }>('SELECT id, received_at, retain_until FROM archive_messages'));
    expect(entries.map((e) => e.id)).toEqual([id]);
    // the sender's policy profile lengthened the retention (archiveRetention: 10y)
    expect(entries.map((e) => e.retain_until - e.received_at)).toEqual([10 * 365 * 86_400_000]);
  });
});
