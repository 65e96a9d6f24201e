/**
 * `sealgate archive search|show` after a mixed run on the real daemon (issue
 * 14's acceptance, CLI part): a dns2 zone as the only resolver, loopback MX
 * sinks with certificates from the test CA. Four messages from two senders:
 *   - invoice:  alice → carol@verified.test, delivered over verified TLS;
 *   - referral: bob → dan@verified.test (delivered) and nobody@strict.test
 *               (550 5.1.1: bounced);
 *   - export:   alice → erin@held.test, held by a quarantine rule;
 *   - lab:      bob → frank@verified.test, PHI (an MRN, a date of birth):
 *               category search, delivered by method tls-verified.
 * Each is found by sender, recipient, queue id, category and subject word;
 * `archive show --json` carries each recipient's evidence; `archive show
 * --content --reason` gives back the bytes sent; every search, read and
 * content open is in the audit chain with the operating-system user.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { filePaths } from '../helpers/files.js';
import { phiMail } from '../helpers/phi-mail.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { stripTraceHeaders, withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

interface Entry {
  id: string;
  sender: string;
  messageId: string | null;
  phi: boolean;
  categories: string[];
  recipients: { address: string; method: string | null; state: string }[];
}

interface Shown {
  id: string;
  sender: string;
  subject: string | null;
  contentSha256: string;
  verdict: { phi?: boolean; findings?: { category: string; count: number }[]; rules?: string[] };
  recipients: {
    address: string;
    method: string | null;
    state: string;
    reasons: string[];
    attempts: number;
    tls: { version: string; cipher: string; verified: boolean; certSha256?: string } | null;
    evidence: { mx?: string; ip?: string; requirement: string; reply: { code?: number; enhanced?: string; text: string } } | null;
  }[];
}

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
const mx: MxServer[] = [];
const sent: Record<string, { id: string; raw: string }> = {};

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'archive', ...args]);

async function search(...args: string[]): Promise<Entry[]> {
  const r = await cli('search', ...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Entry[];
}

async function show(id: string): Promise<Shown> {
  const r = await cli('show', id, '--json');
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Shown;
}

function mail(from: string, to: string, subject: string, messageId: string, body: string): string {
  return [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${messageId}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n');
}

beforeAll(async () => {
  setup = await setupGateway();
  const cert = await issueCertificate(setup.pki.ca, { commonName: 'mx.test', dnsNames: ['mx.verified.test', 'mx.strict.test', 'mx.held.test', 'mx.example.com'], usage: 'server' });
  const tls = { key: cert.keyPem, cert: cert.certPem };
  const first = await startMxServer({ ip: '127.0.0.41', port: 0, tls });
  mx.push(first);
  mx.push(await startMxServer({ ip: '127.0.0.42', port: first.port, tls, rcpt: (a) => (a.startsWith('nobody@') ? [550, '5.1.1 No such user here'] : undefined) }));
  mx.push(await startMxServer({ ip: '127.0.0.43', port: first.port, tls }));
  zone = await startDnsZone([
    { name: 'verified.test', type: 'MX', exchange: 'mx.verified.test', priority: 10 },
    { name: 'mx.verified.test', type: 'A', address: '127.0.0.41' },
    { name: 'strict.test', type: 'MX', exchange: 'mx.strict.test', priority: 10 },
    { name: 'mx.strict.test', type: 'A', address: '127.0.0.42' },
    { name: 'held.test', type: 'MX', exchange: 'mx.held.test', priority: 10 },
    { name: 'mx.held.test', type: 'A', address: '127.0.0.41' },
    // the senders' domain, where the bounce's DSN goes
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.43' },
  ]);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: first.port, defaultRequirement: 'verify', retry: { backoff: ['1h'] } },
      inspection: { enabled: true },
      policy: { rules: [{ id: 'hold-held-test', when: { recipients: ['held.test'] }, then: { action: 'quarantine' } }] },
    },
  });
  gw = await startGateway(setup.configPath);
  const messages: [string, string, string[], string][] = [
    ['invoice', 'alice@example.com', ['carol@verified.test'], mail('alice@example.com', 'carol@verified.test', 'Quarterly invoice March', 'invoice-1@example.com', 'The invoice is attached in the portal.')],
    ['referral', 'bob@example.com', ['dan@verified.test', 'nobody@strict.test'], mail('bob@example.com', 'dan@verified.test, nobody@strict.test', 'Referral letter', 'referral-1@example.com', 'Please see the referral.')],
    ['export', 'alice@example.com', ['erin@held.test'], mail('alice@example.com', 'erin@held.test', 'Spreadsheet export', 'export-1@example.com', 'Numbers for the board.')],
    [
      'lab',
      'bob@example.com',
      ['frank@verified.test'],
      phiMail({ from: 'bob@example.com', to: 'frank@verified.test', subject: 'Lab results for review', bodyMarker: 'ARCHIVE-CLI-MARKER', attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(600, 0x5a), messageId: '<lab-1@example.com>' }),
    ],
  ];
  for (const [name, from, to, raw] of messages) sent[name] = { id: await sendMessage(gw.port, from, to, raw), raw };
  // every recipient at its final word: delivered, bounced, or held by the rule (held stays held)
  const settled = async (): Promise<boolean> => {
    const rows = await withDb(setup.dataDir, (db) => db.all<{ archive_id: string; state: string }>('SELECT archive_id, state FROM archive_recipients'));
    const states = new Map<string, string[]>();
    for (const r of rows) states.set(r.archive_id, [...(states.get(r.archive_id) ?? []), r.state]);
    return Object.values(sent).every((s) => (states.get(s.id) ?? []).length > 0 && (states.get(s.id) ?? []).every((st) => ['delivered', 'bounced', 'held'].includes(st)));
  };
  await until('every message archived and settled', settled, { context: () => gw.stdout.slice(-3000) });
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(mx.map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

const ids = (entries: Entry[]): string[] => entries.map((e) => e.id);

describe('archive search', () => {
  it('lists every entry newest first, with recipients, methods and states', async () => {
    const all = await search();
    expect(ids(all)).toEqual([sent.lab?.id, sent.export?.id, sent.referral?.id, sent.invoice?.id]);
    const referral = all.find((e) => e.id === sent.referral?.id);
    expect(referral?.recipients).toEqual([
      { address: 'dan@verified.test', method: 'tls-opportunistic', state: 'delivered' },
      { address: 'nobody@strict.test', method: 'tls-opportunistic', state: 'bounced' },
    ]);
    expect(all.find((e) => e.id === sent.export?.id)?.recipients).toEqual([{ address: 'erin@held.test', method: 'quarantine', state: 'held' }]);
  });

  it.each<[string, string[], string[]]>([
    ['sender', ['--from', 'alice@example.com'], ['export', 'invoice']],
    ['sender, any case of the domain', ['--from', 'bob@EXAMPLE.com'], ['lab', 'referral']],
    ['recipient', ['--to', 'nobody@strict.test'], ['referral']],
    ['recipient domain', ['--domain', 'verified.test'], ['lab', 'referral', 'invoice']],
    ['sender domain', ['--domain', 'example.com'], ['lab', 'export', 'referral', 'invoice']],
    ['DLP category', ['--category', 'MRN'], ['lab']],
    ['DLP category, any case', ['--category', 'dob'], ['lab']],
    ['subject word', ['--subject', 'INVOICE'], ['invoice']],
    ['subject words, all of them', ['--subject', 'lab review'], ['lab']],
    ['subject words, one missing', ['--subject', 'lab invoice'], []],
    ['method', ['--method', 'quarantine'], ['export']],
    ['state', ['--state', 'bounced'], ['referral']],
    ['recipient and state on the same recipient', ['--to', 'dan@verified.test', '--state', 'bounced'], []],
    ['Message-ID', ['--message-id', '<referral-1@example.com>'], ['referral']],
    ['time range', ['--since', '1h', '--until', '2099-01-01'], ['lab', 'export', 'referral', 'invoice']],
    ['time range before the run', ['--until', '2020-01-01'], []],
  ])('finds by %s', async (_what, args, names) => {
    expect(ids(await search(...args))).toEqual(names.map((n) => sent[n]?.id));
  });

  it('finds each message by its queue id', async () => {
    for (const { id } of Object.values(sent)) expect(ids(await search('--queue-id', id.toLowerCase()))).toEqual([id]);
  });

  it('pages with --limit and --after; the text form is one line per entry and names the next page', async () => {
    const r = await cli('search', '--limit', '3');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^${sent.lab?.id}  \\d{4}-\\d\\d-\\d\\dT[^ ]+Z  bob@example.com -> frank@verified.test tls-verified/delivered  PHI \\[[^\\]]*MRN[^\\]]*\\]  \\d+ bytes$`));
    expect(lines[3]).toBe(`-- 3 entries, newest first; next page: --after ${sent.referral?.id}`);
    expect(ids(await search('--limit', '3', '--after', sent.referral?.id ?? ''))).toEqual([sent.invoice?.id]);
    // the subject is not in search results (only `archive show`, which is audited as a read)
    expect(r.stdout).not.toContain('Lab results');
  });

  it.each<[string[], string, number]>([
    [['--limit', '0'], 'sealgate: --limit must be a whole number from 1 to 1000', 2],
    [['--since', 'last tuesday'], 'sealgate: --since: give a date (2026-12-01, UTC), a date and time with its zone (2026-12-01T08:30:00Z, 2026-12-01T09:30+01:00) or a time ago (30m, 12h, 7d, 2w, 1y)', 2],
    [['--state', 'lost'], 'sealgate: --state must be one of queued, in-flight, deferred, delivered, bounced, held, expired, deleted', 2],
    [['--to', 'not-an-address'], 'sealgate: --to must be one address (local@domain)', 2],
    [['--after', '01JABCDEFGHJKMNPQRST'], 'sealgate: --after names no archive entry (give the queue id of the last entry of the previous page)', 2],
  ])('refuses %j in one line', async (args, message, code) => {
    const r = await cli('search', ...args);
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
  });
});

describe('archive show', () => {
  it('carries the evidence of verified TLS: version, cipher, verified, MX and reply', async () => {
    const e = await show(sent.invoice?.id ?? '');
    expect(e).toMatchObject({ id: sent.invoice?.id, sender: 'alice@example.com', subject: 'Quarterly invoice March' });
    expect(e.recipients).toHaveLength(1);
    const r = e.recipients[0];
    // nothing sensitive: opportunistic by decision, held to verified TLS by delivery.defaultRequirement
    expect(r).toMatchObject({ address: 'carol@verified.test', method: 'tls-opportunistic', state: 'delivered', attempts: 1 });
    expect(r?.tls).toMatchObject({ version: 'TLSv1.3', verified: true });
    expect(r?.tls?.cipher).toMatch(/^TLS_/);
    expect(r?.tls?.certSha256).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    expect(r?.evidence).toMatchObject({ mx: 'mx.verified.test', ip: '127.0.0.41', requirement: 'verify', reply: { code: 250 } });
    expect(r?.reasons.length).toBeGreaterThan(0);
  });

  it('carries the remote reply of a bounce and keeps the delivered recipient apart', async () => {
    const e = await show(sent.referral?.id ?? '');
    const bounced = e.recipients.find((r) => r.address === 'nobody@strict.test');
    expect(bounced).toMatchObject({ method: 'tls-opportunistic', state: 'bounced' });
    expect(bounced?.evidence).toMatchObject({ mx: 'mx.strict.test', ip: '127.0.0.42', reply: { code: 550, enhanced: '5.1.1' } });
    expect(bounced?.evidence?.reply.text).toContain('No such user here');
    expect(bounced?.tls).toMatchObject({ verified: true });
    expect(e.recipients.find((r) => r.address === 'dan@verified.test')).toMatchObject({ state: 'delivered', tls: { verified: true } });
  });

  it('a held recipient has its reasons and no attempt: tls is null', async () => {
    const e = await show(sent.export?.id ?? '');
    expect(e.verdict.rules).toContain('hold-held-test');
    expect(e.recipients).toEqual([expect.objectContaining({ address: 'erin@held.test', method: 'quarantine', state: 'held', attempts: 0, tls: null, evidence: null })]);
    expect(e.recipients[0]?.reasons.join(' ')).toContain('hold-held-test');
  });

  it('carries the value-free DLP verdict of the PHI message', async () => {
    const e = await show(sent.lab?.id ?? '');
    expect(e.verdict.phi).toBe(true);
    expect(e.verdict.findings?.map((f) => f.category)).toEqual(expect.arrayContaining(['MRN', 'DOB']));
    expect(JSON.stringify(e)).not.toContain('123-45-6789');
    expect(JSON.stringify(e)).not.toContain('ARCHIVE-CLI-MARKER');
    // PHI needs verified TLS: the method says so
    expect(e.recipients[0]).toMatchObject({ address: 'frank@verified.test', method: 'tls-verified', state: 'delivered', tls: { version: 'TLSv1.3', verified: true } });
  });

  it('prints a text form with the evidence', async () => {
    const r = await cli('show', sent.referral?.id ?? '');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`entry:        ${sent.referral?.id} (smtp)`);
    expect(r.stdout).toContain('subject:      Referral letter');
    expect(r.stdout).toMatch(/2\. nobody@strict\.test {2}tls-opportunistic \(transport verify\) {2}bounced {2}attempts 1 {2}final /);
    expect(r.stdout).toMatch(/last attempt [^ ]+ via mx\.strict\.test \[127\.0\.0\.42\]: TLSv1\.3 TLS_\S+, certificate verified \(sha256 [0-9A-F:]{95}\); policy no-policy-found, required verify/);
    expect(r.stdout).toContain('reply: 550 5.1.1 No such user here');
  });

  it('--content --reason gives back the original bytes, as sent', async () => {
    for (const { id, raw } of Object.values(sent)) {
      const r = await runContent(id, 'HIPAA audit request 2026-17');
      expect(r.code).toBe(0);
      expect(stripTraceHeaders(r.stdout).equals(Buffer.from(raw, 'latin1'))).toBe(true);
      // the gateway's Received header on top
      expect(r.stdout.toString('latin1')).toMatch(/^Received: /);
    }
  });

  it.each<[string[], string, number]>([
    [['--content'], 'sealgate: --content needs --reason TEXT (why the message is opened; it is recorded in the audit log)', 2],
    [['--content', '--reason', '   '], 'sealgate: --content needs --reason TEXT (why the message is opened; it is recorded in the audit log)', 2],
    [['--content', '--reason', 'x'.repeat(501)], 'sealgate: --reason is longer than 500 characters', 2],
    [['--content', '--reason', 'two\nlines'], 'sealgate: --reason must be one line of text', 2],
    [['--reason', 'why'], 'sealgate: --reason goes with --content', 2],
    [['--content', '--reason', 'why', '--json'], 'sealgate: --content writes the message itself; leave out --json', 2],
  ])('refuses %j in one line', async (args, message, code) => {
    const r = await cli('show', sent.invoice?.id ?? '', ...args);
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
  });

  it('an unknown or malformed id is one line, exit 1 or 2', async () => {
    const unknown = await cli('show', '01JABCDEFGHJKMNPQRST');
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'sealgate: no archive entry 01JABCDEFGHJKMNPQRST\n' });
    const bad = await cli('show', '../../etc/passwd');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe('sealgate: the entry id is a queue id (20 characters, 0-9 and A-Z), as archive search shows it\n');
  });
});

/** `archive show ID --content --reason R`, stdout as bytes. */
async function runContent(id: string, reason: string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../helpers/gateway.js');
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, '-c', setup.configPath, 'archive', 'show', id, '--content', '--reason', reason], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

describe('audit and purged entries', () => {
  it('every search, read and content open is in the audit chain: filter names only, the reason, the user', async () => {
    await cli('search', '--to', 'frank@verified.test', '--subject', 'lab', '--limit', '5');
    await cli('show', sent.lab?.id ?? '');
    await runContent(sent.lab?.id ?? '', 'subpoena 42');
    const events = await auditEvents(setup.configPath, 2000);
    const operator = userInfo().username;
    const searched = events.filter((e) => e.type === 'archive:searched');
    expect(searched.at(-1)?.data).toEqual({ operator, via: 'cli', filters: ['to', 'subject'], results: 1 });
    expect(events.filter((e) => e.type === 'archive:read').at(-1)?.data).toEqual({ queueId: sent.lab?.id, operator, via: 'cli' });
    expect(events.filter((e) => e.type === 'archive:content_opened').at(-1)?.data).toEqual({ queueId: sent.lab?.id, operator, via: 'cli', reason: 'subpoena 42' });
    // names, never values: no searched address or word in any search event
    const text = JSON.stringify(searched);
    for (const value of ['frank@verified.test', 'lab', 'nobody@strict.test', 'INVOICE']) expect(text).not.toContain(value);
    const verify = await runCli(['-c', setup.configPath, 'audit', 'verify']);
    expect(verify.code).toBe(0);
  });

  it('content changed in the object store is refused: exit 1, one line', async () => {
    const id = sent.export?.id ?? '';
    // the entry's ciphertext: its range of its object (a pack it may share with entries archived together)
    const row = await withDb(setup.dataDir, (db) => db.get<{ object_key: string; object_offset: number; object_length: number }>('SELECT object_key, object_offset, object_length FROM archive_messages WHERE id = ?', [id]));
    const file = (await filePaths(join(setup.dataDir, 'store', 'objects'))).find((p) => p.endsWith(`${row?.object_key.split('/').pop() ?? '?'}@`)) ?? '';
    const bytes = await readFile(file);
    const at = (row?.object_offset ?? 0) + (row?.object_length ?? 0) - 20;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    const r = await runContent(id, 'integrity check');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^sealgate: archive entry ${id}: the content could not be read \\([^\\n]+\\)\\n$`));
  });

  it('an entry whose key was destroyed says so and gives no content; its evidence remains', async () => {
    const id = sent.invoice?.id ?? '';
    // what a purge leaves (the purge command is another slice): no wrapped key, a purge time
    await withDb(setup.dataDir, (db) => db.run('UPDATE archive_messages SET wrapped_key = NULL, purged_at = ? WHERE id = ?', [Date.now(), id]));
    const r = await runContent(id, 'after the purge');
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toBe(`sealgate: archive entry ${id} was purged: its key was destroyed and its content cannot be read (its metadata and evidence remain: archive show ${id})\n`);
    const e = await show(id);
    expect(e.subject).toBeNull();
    expect(e.recipients[0]?.tls?.verified).toBe(true);
    expect((await search('--queue-id', id))[0]).toMatchObject({ id });
  });
});
