/**
 * Bounded memory on the real daemon (issue 13 item 8): a 25 MB message with
 * PHI for three end-to-end recipients is inspected and its three encrypted
 * copies built (OpenPGP, OpenPGP, S/MIME) while the daemon's RSS grows by
 * less than 200 MB. The copies are built one after the other from one
 * in-memory original, and each is streamed into the spool.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { haveTool } from '../helpers/peers.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { makeCertFixtures, makePgpFixtures, type CertFixtures, type PgpFixtures } from '../keys/fixtures.js';

const MiB = 1024 * 1024;
const live = haveTool('gpg') && haveTool('openssl') ? describe : describe.skip;
const RECIPIENTS = ['alice@example.org', 'rsa@example.org', 'ec@example.org'];

let setup: TestSetup;
let gw: RunningGateway;
let pgp: PgpFixtures;
let certs: CertFixtures;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** A PHI message of about `size` bytes: a short clinical text and a base64 attachment. */
function bigMessage(size: number, tag: string): Buffer {
  const head = `From: sender@example.com\r\nTo: ${RECIPIENTS.join(', ')}\r\nSubject: scan ${tag}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPatient DOB 04/17/1968, SSN 536-22-1234, diagnosed with type 2 diabetes.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="scan.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  const line = `${Buffer.alloc(57, tag).toString('base64')}\r\n`;
  const lines = Math.max(1, Math.floor((size - head.length) / line.length));
  return Buffer.concat([Buffer.from(head), Buffer.from(line.repeat(lines)), Buffer.from('--b--\r\n')]);
}

async function send(message: Buffer): Promise<string> {
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO memory.test');
  await client.command('MAIL FROM:<sender@example.com>');
  for (const r of RECIPIENTS) await client.command(`RCPT TO:<${r}>`);
  expect((await client.command('DATA')).code).toBe(354);
  // dot-stuffing is not needed: no line starts with "."
  for (let i = 0; i < message.length; i += 64 * 1024) await client.writeDrained(message.subarray(i, i + 64 * 1024));
  client.write('.\r\n');
  const reply = await client.read(120_000);
  await client.quit();
  const id = /queued as (\S+)/.exec(reply.text)?.[1];
  if (!id) throw new Error(`not accepted: ${reply.text}`);
  return id;
}

const inspected = (id: string): Promise<unknown> => until('the copies', () => gw.logLines().find((l) => l.event === 'MESSAGE_INSPECTED' && l.queueId === id), { timeoutMs: 240_000, context: () => gw.stdout.slice(-2000) });

live('end-to-end memory', () => {
  beforeAll(async () => {
    pgp = makePgpFixtures(['good', 'rsa']);
    certs = makeCertFixtures();
    setup = await setupGateway();
    await setup.writeConfig({
      connectors: [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
      smtp: { maxMessageBytes: 40 * MiB },
      extra: { inspection: { enabled: true, threads: 1, smallMessageThreads: 0, burstThreads: 0 }, keys: { masterKeyFile: setup.masterKeyFile, smimeTrustRoots: [certs.caFile], discovery: { wkd: false } } },
    });
    for (const name of ['good', 'rsa'] as const) {
      const file = join(setup.dir, `${name}.asc`);
      writeFileSync(file, pgp.armored(name));
      expect((await runCli(['-c', setup.configPath, 'keys', 'import', file])).code).toBe(0);
    }
    expect((await runCli(['-c', setup.configPath, 'keys', 'import', certs.file.ec])).code).toBe(0);
    gw = await startGateway(setup.configPath);
  });

  afterAll(async () => {
    await gw?.stop();
    pgp?.cleanup();
    certs?.cleanup();
    await setup?.cleanup();
  });

  it('a 25 MB message encrypted for three recipients grows the RSS by less than 200 MB', async () => {
    const pid = gw.proc.pid!;
    // warm up: the libraries load and the heap settles on a small message first
    await inspected(await send(bigMessage(64 * 1024, 'w')));
    const before = await rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => void rssBytes(pid).then((r) => (peak = Math.max(peak, r)), () => undefined), 20);
    try {
      await inspected(await send(bigMessage(25 * MiB, 'x')));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, await rssBytes(pid));
    const copies = gw.logLines().filter((l) => l.event === 'E2E_COPY_FAILED');
    expect(copies).toEqual([]);
    console.log(`25 MB × 3 recipients: RSS before ${(before / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${((peak - before) / MiB).toFixed(1)} MiB`);
    expect(peak - before).toBeLessThan(200 * MiB);
  });
});
