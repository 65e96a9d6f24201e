/**
 * Backup under load → wipe → restore, on a real daemon: mail keeps arriving
 * while `sealgate backup` runs; the backup verifies offline; after the data
 * directory is wiped, `sealgate restore` brings back the queue, the audit
 * chain and every stored message (each spool file decrypts), and a daemon
 * on the restored directory delivers the queued mail. A changed byte fails
 * `backup verify`; restore refuses a non-empty directory and a backup that
 * does not verify.
 */
import { mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/tls/x509.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { readSpooled, withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway | undefined;
let relay: MxServer;
let zone: DnsZone;
let backups: string;
let cert: { keyPem: string; certPem: string };
let options: TestConfigOptions;

beforeAll(async () => {
  setup = await setupGateway();
  backups = await mkdtemp(join(tmpdir(), 'sealgate-backups-'));
  cert = await issueCertificate(setup.pki.ca, { commonName: 'relay.test', dnsNames: ['relay.test'], usage: 'server' });
  // the relay defers everything for now: mail stays queued
  relay = await startMxServer({ ip: '127.0.0.14', port: 0, tls: { key: cert.keyPem, cert: cert.certPem }, mailFrom: [451, '4.3.2 not now'] });
  zone = await startDnsZone([{ name: 'relay.test', type: 'A', address: '127.0.0.14' }]);
  options = {
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { dns: { servers: [zone.server] }, delivery: { enabled: true, defaultRequirement: 'may', retry: { backoff: ['2s'] }, smarthost: { host: 'relay.test', port: relay.port } } },
  };
  await setup.writeConfig(options);
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await relay?.close();
  await zone?.close();
  await setup?.cleanup();
  await rm(backups, { recursive: true, force: true });
});

const message = (i: number): string => `From: alice@example.com\r\nSubject: backup ${i}\r\n\r\nbody-of-message-${i}\r\n`;

describe('backup and restore', () => {
  it('backs up under load, verifies, restores after a wipe, and the restored gateway delivers the queue', async () => {
    if (!gw) throw new Error('no gateway');
    const port = gw.port;
    for (let i = 0; i < 10; i++) await sendMessage(port, 'alice@example.com', [`r${i}@dest.test`], message(i));
    // load while the backup runs
    let sending = true;
    let sent = 10;
    const load = (async () => {
      while (sending && sent < 200) await sendMessage(port, 'alice@example.com', [`r${sent}@dest.test`], message(sent++));
    })();
    const out = join(backups, 'b1');
    const made = await runCli(['-c', setup.configPath, 'backup', '--out', out, '--json']);
    sending = false;
    await load;
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const summary = JSON.parse(made.stdout) as { files: number; messages: number; includesKey: boolean; finishedDuringBackup: number };
    expect(summary.includesKey).toBe(false);
    expect(summary.messages).toBeGreaterThanOrEqual(10);
    expect(summary.finishedDuringBackup).toBe(0);

    const verified = await runCli(['backup', 'verify', out]);
    expect(verified.stdout).toMatch(/^backup OK: \d+ files match the manifest; database intact; audit chain OK \(\d+ events\)/);
    expect(verified.code).toBe(0);

    // the backup was audited on the live gateway; then the gateway stops and its data directory is lost
    await gw.stop();
    gw = undefined;
    const live = await withDb(setup.dataDir, (db) => db.get<{ n: number }>("SELECT count(*) AS n FROM audit_log WHERE type = 'backup:created'"));
    expect(live?.n).toBe(1);
    await rm(setup.dataDir, { recursive: true, force: true });

    const restored = await runCli(['-c', setup.configPath, 'restore', out]);
    expect(restored.stderr).toBe('');
    expect(restored.stdout).toMatch(new RegExp(`^restored \\d+ files into .*: ${summary.messages} queued messages, audit chain of \\d+ events\\n$`));
    expect(restored.code).toBe(0);
    expect((await runCli(['-c', setup.configPath, 'audit', 'verify'])).code).toBe(0);

    // every queued message's content is there and reads back
    const ids = await withDb(setup.dataDir, (db) => db.all<{ id: string }>('SELECT id FROM messages ORDER BY created_at'));
    expect(ids).toHaveLength(summary.messages);
    for (const { id } of ids) expect((await readSpooled(setup.dataDir, setup.masterKeyFile, id)).toString('utf8')).toMatch(/body-of-message-\d+/);

    // the relay takes mail again: the restored gateway delivers every queued message
    await relay.close();
    relay = await startMxServer({ ip: '127.0.0.14', port: relay.port, tls: { key: cert.keyPem, cert: cert.certPem } });
    gw = await startGateway(setup.configPath);
    await until('the restored queue delivered', () => (relay.received.length >= summary.messages ? true : undefined), { timeoutMs: 120_000 });
    const bodies = new Set(relay.received.map((m) => /body-of-message-(\d+)/.exec(m.body.toString('utf8'))?.[1]));
    expect(bodies.size).toBe(summary.messages);
  });

  it('a changed byte fails backup verify; restore refuses it, and refuses a data directory that is not empty', async () => {
    const out = join(backups, 'b2');
    expect((await runCli(['-c', setup.configPath, 'backup', '--out', out])).code).toBe(0);
    expect((await runCli(['-c', setup.configPath, 'restore', out])).stderr).toMatch(/^sealgate: data directory .* is not empty: restore only into an empty one/);

    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
    // an archive pack (the queue is empty by now: everything was delivered)
    const spoolFile = manifest.files.find((f) => f.path.startsWith('data/store/objects/'))?.path ?? '';
    expect(spoolFile).not.toBe('');
    const bytes = await readFile(join(out, spoolFile));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await writeFile(join(out, spoolFile), bytes);
    const bad = await runCli(['backup', 'verify', out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`sealgate: backup ${out} does not verify: ${spoolFile}: changed (size or SHA-256 differs from the manifest)\n`);

    const empty = await mkdtemp(join(tmpdir(), 'sealgate-restore-'));
    await writeFile(join(empty, 'gw.yaml'), (await readFile(setup.configPath, 'utf8')).replace(/dataDir: .*/, `dataDir: ${join(empty, 'data')}`));
    const refused = await runCli(['-c', join(empty, 'gw.yaml'), 'restore', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^sealgate: backup does not verify, nothing restored: data\/store\/objects\//);
    await expect(stat(join(empty, 'data'))).rejects.toMatchObject({ code: 'ENOENT' });
    await rm(empty, { recursive: true, force: true });
  });

  it('--include-key warns and carries the master key; restore puts it back when it is missing; --out inside the data directory is refused', async () => {
    const out = join(backups, 'b3');
    const made = await runCli(['-c', setup.configPath, 'backup', '--out', out, '--include-key']);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/warning: the backup holds the master key/);
    expect(made.stdout).toContain('master key INCLUDED');
    expect(await readFile(join(out, 'keys', 'master.key'), 'utf8')).toBe(await readFile(setup.masterKeyFile, 'utf8'));
    expect(((await stat(join(out, 'keys', 'master.key'))).mode & 0o077)).toBe(0);

    const inside = await runCli(['-c', setup.configPath, 'backup', '--out', join(setup.dataDir, 'b')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/is inside the data directory/);

    const empty = await mkdtemp(join(tmpdir(), 'sealgate-restore-'));
    const keyFile = join(empty, 'keys', 'master.key');
    await writeFile(join(empty, 'gw.yaml'), (await readFile(setup.configPath, 'utf8')).replace(/dataDir: .*/, `dataDir: ${join(empty, 'data')}`).replace(/masterKeyFile: .*/, `masterKeyFile: ${keyFile}`));
    const restored = await runCli(['-c', join(empty, 'gw.yaml'), 'restore', out]);
    expect(restored.stderr).toBe('');
    expect(restored.stdout).toContain('; master key restored');
    expect(await readFile(keyFile, 'utf8')).toBe(await readFile(setup.masterKeyFile, 'utf8'));
    await rm(empty, { recursive: true, force: true });
  });
});
