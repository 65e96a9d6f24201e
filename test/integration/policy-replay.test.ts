/**
 * `sealgate policy replay` on the real daemon (issue 14, item 9): a dns2
 * zone as the only resolver, a loopback MX with a certificate from the test
 * CA, a quarantine rule for one domain. Three messages:
 *   - invoice:  alice → carol@verified.test (clean: opportunistic TLS);
 *   - referral: bob → dan@verified.test, and erin@held.test (held by the rule);
 *   - lab:      bob → frank@verified.test, PHI (verified TLS).
 * Replaying the current config changes nothing; a proposed config that
 * blocks bob's mail shows the referral and the lab moving to `block` (and
 * the new rule matching two messages), the invoice unchanged. The report
 * carries queue ids, never a subject, body or address; each run is one
 * `policy:replayed` audit event.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, buildConfig, runCli, setupGateway, startGateway, type RunningGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { phiMail } from '../helpers/phi-mail.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { filePaths } from '../helpers/files.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

interface Report {
  window: { since: string; until: string | null; limit: number; cut: boolean };
  policy: { source: string; file?: string; sha256?: string };
  replayed: number;
  skipped: Record<string, number>;
  changed: number;
  methods: Record<string, Record<string, number>>;
  rules: Record<string, { then: number; now: number }>;
  protection: Record<string, Record<string, number>>;
  protectionRises: number;
  protectionFalls: number;
  phi: { then: number; now: number };
  changes: { id: string; direction: string; rulesAdded: string[]; rulesRemoved: string[]; recipients: { seq: number; then: string | null; now: string }[] }[];
  changesCut: boolean;
}

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
let mx: MxServer;
let options: TestConfigOptions;
const sent: Record<string, string> = {};
const HOLD_RULE = { id: 'hold-held-test', when: { recipients: ['held.test'] }, then: { action: 'quarantine' } };

function mail(from: string, to: string, subject: string, body: string): string {
  return [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n');
}

/** A proposed config: the running one with other policy rules. */
async function proposed(name: string, rules: unknown[]): Promise<string> {
  const path = join(setup.dir, name);
  const extra = { ...(options.extra ?? {}), policy: { rules } };
  await writeFile(path, stringify(buildConfig(setup.dir, { ...options, extra })));
  return path;
}

async function replay(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['-c', setup.configPath, 'policy', 'replay', ...args]);
}

async function replayJson(...args: string[]): Promise<Report> {
  const r = await replay(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.test', dnsNames: ['mx.verified.test', 'mx.held.test'], usage: 'server' });
  mx = await startMxServer({ ip: '127.0.0.51', port: 0, tls: { key: cert.keyPem, cert: cert.certPem } });
  zone = await startDnsZone([
    { name: 'verified.test', type: 'MX', exchange: 'mx.verified.test', priority: 10 },
    { name: 'mx.verified.test', type: 'A', address: '127.0.0.51' },
    { name: 'held.test', type: 'MX', exchange: 'mx.held.test', priority: 10 },
    { name: 'mx.held.test', type: 'A', address: '127.0.0.51' },
  ]);
  options = {
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'verify', retry: { backoff: ['1h'] } },
      inspection: { enabled: true },
      policy: { rules: [HOLD_RULE] },
    },
  };
  await setup.writeConfig(options);
  gw = await startGateway(setup.configPath);
  sent.invoice = await sendMessage(gw.port, 'alice@example.com', ['carol@verified.test'], mail('alice@example.com', 'carol@verified.test', 'Quarterly invoice REPLAYSUBJECT', 'The invoice is in the portal.'));
  sent.referral = await sendMessage(gw.port, 'bob@example.com', ['dan@verified.test', 'erin@held.test'], mail('bob@example.com', 'dan@verified.test, erin@held.test', 'Referral REPLAYSUBJECT', 'Please see the referral.'));
  sent.lab = await sendMessage(
    gw.port,
    'bob@example.com',
    ['frank@verified.test'],
    phiMail({ from: 'bob@example.com', to: 'frank@verified.test', subject: 'Lab results REPLAYSUBJECT', bodyMarker: 'REPLAY-MARKER', attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(300, 0x5a), messageId: '<lab-replay@example.com>' }),
  );
  const settled = async (): Promise<boolean> => {
    const rows = await withDb(setup.dataDir, (db) => db.all<{ archive_id: string; state: string }>('SELECT archive_id, state FROM archive_recipients'));
    return Object.values(sent).every((id) => {
      const states = rows.filter((r) => r.archive_id === id).map((r) => r.state);
      return states.length > 0 && states.every((s) => ['delivered', 'held'].includes(s));
    });
  };
  await until('every message archived and settled', settled, { context: () => gw.stdout.slice(-3000) });
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('policy replay', () => {
  it('with the current config: every recipient decided as then, nothing changes', async () => {
    const r = await replayJson('--since', '1h');
    expect(r.policy).toEqual({ source: 'current' });
    expect(r.replayed).toBe(3);
    expect(r.changed).toBe(0);
    expect(r.changes).toEqual([]);
    expect(r.methods).toEqual({ 'tls-opportunistic': { 'tls-opportunistic': 2 }, 'tls-verified': { 'tls-verified': 1 }, quarantine: { quarantine: 1 } });
    // a rule naming recipients matches only the messages that have one of them: one message went to held.test
    expect(r.rules).toEqual({ 'hold-held-test': { then: 1, now: 1 } });
    expect(r.phi).toEqual({ then: 1, now: 1 });
    expect(r.protectionRises + r.protectionFalls).toBe(0);
    expect(r.window.cut).toBe(false);
  });

  it('with a proposed config that blocks a sender: the matrix, the rule counts and the changed entries show it', async () => {
    const file = await proposed('block-bob.yaml', [HOLD_RULE, { id: 'block-bob', when: { senders: ['bob@example.com'] }, then: { action: 'block' } }]);
    const r = await replayJson('--since', '1h', '--config', file);
    expect(r.policy.source).toBe('file');
    expect(r.replayed).toBe(3);
    expect(r.changed).toBe(2);
    expect(r.methods).toEqual({ 'tls-opportunistic': { 'tls-opportunistic': 1, block: 1 }, 'tls-verified': { block: 1 }, quarantine: { block: 1 } });
    expect(r.rules).toEqual({ 'hold-held-test': { then: 1, now: 1 }, 'block-bob': { then: 0, now: 2 } });
    expect(r.protectionRises).toBe(2);
    expect(r.protectionFalls).toBe(0);
    // newest first
    expect(r.changes.map((c) => c.id)).toEqual([sent.lab, sent.referral]);
    expect(r.changes[1]?.recipients).toEqual([
      { seq: 1, then: 'tls-opportunistic', now: 'block' },
      { seq: 2, then: 'quarantine', now: 'block' },
    ]);
    expect(r.changes[1]?.rulesAdded).toEqual(['block-bob']);
  });

  it('prints the report as text with queue ids only: no subject, body or address', async () => {
    const file = await proposed('block-bob-text.yaml', [HOLD_RULE, { id: 'block-bob', when: { senders: ['bob@example.com'] }, then: { action: 'block' } }]);
    const r = await replay('--since', '1h', '--config', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('changed: 2 entries; protection rises for 2, falls for 0');
    expect(r.stdout).toContain('tls-verified -> block: 1   CHANGED');
    expect(r.stdout).toContain('block-bob: 0 -> 2   CHANGED');
    expect(r.stdout).toContain(`${sent.referral}`);
    expect(r.stdout).not.toContain(sent.invoice);
    for (const secret of ['REPLAYSUBJECT', 'REPLAY-MARKER', '@verified.test', '@held.test', 'bob@example.com']) expect(r.stdout).not.toContain(secret);
  });

  it('is bounded by --limit, newest first, and says the window was cut', async () => {
    const r = await replayJson('--since', '1h', '--limit', '1');
    expect(r.replayed).toBe(1);
    expect(r.window.cut).toBe(true);
    expect(r.methods).toEqual({ 'tls-verified': { 'tls-verified': 1 } });
    const text = await replay('--since', '1h', '--limit', '1');
    expect(text.stdout).toContain('cut at --limit 1');
  });

  it('records each run as one policy:replayed event: operator, window and counts, never content', async () => {
    const file = await proposed('block-bob-audit.yaml', [HOLD_RULE, { id: 'block-bob', when: { senders: ['bob@example.com'] }, then: { action: 'block' } }]);
    await replayJson('--since', '2026-01-01', '--config', file);
    const events = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'policy:replayed');
    expect(events.at(-1)?.data).toEqual({
      operator: userInfo().username,
      via: 'cli',
      since: '2026-01-01T00:00:00.000Z',
      policy: 'file',
      configSha256: createHash('sha256').update(await readFile(file)).digest('hex'),
      entries: 3,
      skipped: 0,
      changed: 2,
      complete: 'true',
    });
    expect(events.some((e) => e.data.policy === 'current' && e.data.changed === 0 && e.data.entries === 3)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('REPLAY');
  });

  it('refuses a bad --limit or window with one line and exit 2, recording nothing', async () => {
    const replayed = async (): Promise<number> => (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'policy:replayed').length;
    const before = await replayed();
    for (const args of [['--limit', '0'], ['--since', 'yesterday'], ['--since', '1h', '--until', '2h']]) {
      const r = await replay(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await replayed()).toBe(before);
  });

  // last: it damages the archive
  it('skips and counts a purged entry and one whose content was changed in the store', async () => {
    // what a purge leaves (the purge command is another slice): no wrapped key, a purge time
    await withDb(setup.dataDir, (db) => db.run('UPDATE archive_messages SET wrapped_key = NULL, purged_at = ? WHERE id = ?', [Date.now(), sent.invoice ?? '']));
    const row = await withDb(setup.dataDir, (db) => db.get<{ object_key: string; object_offset: number }>('SELECT object_key, object_offset FROM archive_messages WHERE id = ?', [sent.lab ?? '']));
    const file = (await filePaths(join(setup.dataDir, 'store', 'objects'))).find((p) => p.endsWith(`${row?.object_key.split('/').pop() ?? '?'}@`)) ?? '';
    const bytes = await readFile(file);
    const at = (row?.object_offset ?? 0) + 40;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    const r = await replayJson('--since', '1h');
    expect(r.replayed).toBe(1);
    expect(r.skipped).toEqual({ purged: 1, 'not-inspected': 0, 'key-not-loaded': 0, unreadable: 1 });
    expect(r.methods).toEqual({ 'tls-opportunistic': { 'tls-opportunistic': 1 }, quarantine: { quarantine: 1 } });
    const events = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'policy:replayed');
    // the unreadable entry's content was opened too: it counts in entries
    expect(events.at(-1)?.data).toMatchObject({ policy: 'current', entries: 2, skipped: 1, changed: 0, complete: 'true' });
  });
});
