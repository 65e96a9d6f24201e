/**
 * The spool on the object store: the daemon with objects.kind s3 (on its
 * default SQLite database) against s3rver on loopback (test/helpers/s3-server.ts
 * names its limits) and a loopback MX sink.
 *   - a message larger than queue.inlineMaxBytes is accepted with its
 *     content in the bucket under spool/<id>/message, encrypted (its marker
 *     is in none of s3rver's files), nothing of it in dataDir/spool; it is
 *     delivered intact and its object is gone afterwards; `sealgate backup`
 *     taken while it is queued keeps it queued (its content is in the store);
 *   - an end-to-end recipient (an imported OpenPGP key, PHI to a consumer
 *     mailbox domain): its PGP/MIME copy is kept under spool/<id>/copies/,
 *     encrypted at rest, delivered, then removed;
 *   - `sealgate queue delete` removes a queued message's object;
 *   - the store stopped: a large message is answered 451 4.3.0 and nothing
 *     of it is queued or stored; the store back: the next one is accepted and
 *     delivered.
 * The sink defers (451) while `holding`, so a test can look at the bucket
 * while the message is queued.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectsSchema } from '../../src/objects/config-schema.js';
import { openObjectStore, type OpenedObjectStore } from '../../src/objects/open.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { filePaths } from '../helpers/files.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer, type ReceivedMessage } from '../helpers/mx-server.js';
import { haveTool } from '../helpers/peers.js';
import { phiMail } from '../helpers/phi-mail.js';
import { startS3Server, type TestS3 } from '../helpers/s3-server.js';
import { dataPayload, queueIdOf, RawSmtp, sendMessage, type Reply } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { makePgpFixtures, type PgpFixtures } from '../keys/fixtures.js';
import { gpgDecrypt } from '../e2e/gpg.js';

const PREFIX = 'gw1/';
const INLINE_MAX = 8192;

let s3: TestS3;
let setup: TestSetup;
let gw: RunningGateway;
let mx: MxServer;
let zone: DnsZone;
let store: OpenedObjectStore;
let pgp: PgpFixtures | undefined;
let holding = true;

/** A plain message of about `kib` KiB whose every body line carries `marker`. */
function bigMessage(marker: string, kib: number): string {
  const line = `${marker} ${'x'.repeat(60)}`;
  const lines = Array.from({ length: Math.ceil((kib * 1024) / (line.length + 2)) }, () => line);
  // the marker in the body only: the Subject and Message-ID are kept in the database's rows (queue show)
  return ['From: alice@example.com', 'To: bob@example.net', 'Subject: a large message', `Message-ID: <${randomUUID()}@example.com>`, '', ...lines, ''].join('\r\n');
}

async function spoolKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.list('spool/')) keys.push(k);
  return keys;
}

/** Whether any file of s3rver's (the bucket) or of the data directory holds `marker`. */
async function markerStored(marker: string): Promise<string | undefined> {
  for (const file of [...(await filePaths(s3.dir)), ...(await filePaths(setup.dataDir))]) {
    if ((await readFile(file)).includes(Buffer.from(marker))) return file;
  }
  return undefined;
}

/** One message through a fresh session; the DATA reply. */
async function sendRaw(from: string, to: string, message: string): Promise<Reply> {
  const { client } = await RawSmtp.connect(gw.port);
  await client.command('EHLO client.test');
  await client.command(`MAIL FROM:<${from}>`);
  await client.command(`RCPT TO:<${to}>`);
  const reply = await client.data(dataPayload(message));
  await client.quit();
  return reply;
}

const finished = (id: string): Promise<unknown> => until(`${id} finished`, () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === id), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
const deliveredTo = (address: string, marker: string): Promise<ReceivedMessage> =>
  until(`delivery to ${address}`, () => mx.received.find((m) => m.to.some((t) => t.address === address) && m.body.includes(Buffer.from(marker))), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });

beforeAll(async () => {
  s3 = await startS3Server();
  mx = await startMxServer({ ip: '127.0.0.126', port: 0, rcpt: () => (holding ? [451, '4.3.2 held by the test'] : undefined) });
  zone = await startDnsZone([
    { name: 'example.net', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'gmail.com', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.126' },
  ]);
  setup = await setupGateway({});
  const secretFile = join(setup.dir, 's3-secret');
  await writeFile(secretFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  const objects = { kind: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, prefix: PREFIX, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: secretFile, maxAttempts: 1, timeout: '10s' } };
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      objects,
      queue: { inlineMaxBytes: INLINE_MAX },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1s'] } },
      tls: { mtaSts: { enabled: false } },
      inspection: { threads: 0 },
      keys: { masterKeyFile: setup.masterKeyFile, discovery: { wkd: false, dns: false } },
    },
  });
  if (haveTool('gpg')) {
    pgp = makePgpFixtures(['good'], { good: 'Jane Roe <jane.roe@gmail.com>' });
    const file = join(setup.dir, 'jane.asc');
    await writeFile(file, pgp.armored('good'));
    const imported = await runCli(['-c', setup.configPath, 'keys', 'import', file]);
    expect(imported.stderr).toBe('');
  }
  store = await openObjectStore({ dataDir: setup.dataDir, objects: objectsSchema.parse(objects) });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  store?.close();
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  pgp?.cleanup();
  await setup?.cleanup();
  await s3?.stop();
});

describe('the spool on the object store (objects.kind: s3)', () => {
  it('a message larger than the inline limit: in the bucket, encrypted, while queued; delivered intact; its object removed', async () => {
    holding = true;
    const marker = 'MARKER-SPOOL-S3-BODY-4471';
    const message = bigMessage(marker, 64);
    const id = await sendMessage(gw.port, 'alice@example.com', ['bob@example.net'], message);
    expect(id).not.toBe('');
    // queued and tried once (deferred by the sink): its content is an object of the bucket, nowhere on the node
    await until('a delivery attempt', () => (mx.rcptAttempts.get('bob@example.net') ?? 0) >= 1, { context: () => gw.stdout.slice(-3000) });
    expect(await spoolKeys()).toEqual([`spool/${id}/message`]);
    expect((await filePaths(join(setup.dataDir, 'spool')).catch(() => [])).filter((f) => !f.includes('/tmp/'))).toEqual([]);
    expect(await withDb(setup.dataDir, (db) => db.get('SELECT 1 AS x FROM spool_inline WHERE id = ?', [id]))).toBeUndefined();
    expect(await markerStored(marker)).toBeUndefined();
    // a backup taken now keeps the message queued: its content is in the object store, not missing
    const backup = await runCli(['-c', setup.configPath, 'backup', '--out', join(setup.dir, 'backup'), '--json']);
    expect(backup.stderr).toBe('');
    expect(JSON.parse(backup.stdout)).toMatchObject({ messages: 1, finishedDuringBackup: 0 });

    holding = false;
    const received = await deliveredTo('bob@example.net', marker);
    const body = (m: string): string => m.slice(m.indexOf('\r\n\r\n'));
    expect(body(received.body.toString('latin1'))).toBe(body(message));
    await finished(id);
    expect(await spoolKeys()).toEqual([]);
  });

  it.skipIf(!haveTool('gpg'))('an end-to-end recipient: the PGP/MIME copy is kept in the bucket, encrypted at rest, delivered, then removed', async () => {
    holding = true;
    const marker = 'MARKER-SPOOL-S3-E2E-9052';
    const message = phiMail({ from: 'alice@example.com', to: 'jane.roe@gmail.com', subject: 'Lab results', bodyMarker: marker, attachmentName: 'scan.bin', attachmentType: 'application/octet-stream', attachment: Buffer.alloc(20_000, 0x41) });
    const id = await sendMessage(gw.port, 'alice@example.com', ['jane.roe@gmail.com'], message);
    await until('a delivery attempt', () => (mx.rcptAttempts.get('jane.roe@gmail.com') ?? 0) >= 1, { context: () => gw.stdout.slice(-3000) });
    const keys = await spoolKeys();
    expect(keys).toContain(`spool/${id}/message`);
    expect(keys.filter((k) => k.startsWith(`spool/${id}/copies/`))).toHaveLength(1);
    expect(await markerStored(marker)).toBeUndefined();

    holding = false;
    const received = await until('the encrypted copy', () => mx.received.find((m) => m.to.some((t) => t.address === 'jane.roe@gmail.com')), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
    const text = received.body.toString('latin1');
    expect(text).toContain('-----BEGIN PGP MESSAGE-----');
    expect(text).not.toContain(marker);
    const armored = text.slice(text.indexOf('-----BEGIN PGP MESSAGE-----'), text.indexOf('-----END PGP MESSAGE-----') + 25);
    const decrypted = gpgDecrypt(pgp?.home ?? '', armored);
    expect(decrypted.code).toBe(0);
    expect(decrypted.stdout.toString('latin1')).toContain(marker);
    await finished(id);
    expect(await spoolKeys()).toEqual([]);
  });

  it('sealgate queue delete removes a large message\'s object from the store', async () => {
    holding = true;
    const before = mx.rcptAttempts.get('bob@example.net') ?? 0;
    const id = await sendMessage(gw.port, 'alice@example.com', ['bob@example.net'], bigMessage('MARKER-SPOOL-S3-DELETE-3318', 32));
    await until('a delivery attempt', () => (mx.rcptAttempts.get('bob@example.net') ?? 0) > before, { context: () => gw.stdout.slice(-3000) });
    expect(await spoolKeys()).toEqual([`spool/${id}/message`]);
    // the attempt seen at the MX may still be in progress: the CLI then refuses ("being delivered right now; … try again"), as it should
    const deleted = await until('the delete taken once the attempt has ended', async () => {
      const run = await runCli(['-c', setup.configPath, 'queue', 'delete', id]);
      return /being delivered right now/.test(run.stderr) ? undefined : run;
    });
    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    expect(await spoolKeys()).toEqual([]);
  });

  it('the store stopped: a large message is answered 451 4.3.0, nothing queued or stored; the store back: accepted and delivered', async () => {
    holding = false;
    const count = (): Promise<number> => withDb(setup.dataDir, async (db) => (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM messages'))?.n ?? -1);
    await until('the queue empty', async () => (await count()) === 0);
    await s3.kill();
    const refused = await sendRaw('alice@example.com', 'bob@example.net', bigMessage('MARKER-SPOOL-S3-DOWN-1187', 32));
    expect(refused.code).toBe(451);
    expect(refused.text).toMatch(/^451 4\.3\.0 /);
    expect(await count()).toBe(0);
    expect(gw.logLines().find((l) => l.event === 'MESSAGE_REJECTED' && l.reason === 'SG_STORAGE_FAILED')).toBeDefined();

    await s3.start();
    expect(await spoolKeys()).toEqual([]);
    const marker = 'MARKER-SPOOL-S3-BACK-6420';
    const accepted = await sendRaw('alice@example.com', 'bob@example.net', bigMessage(marker, 32));
    expect(accepted.code).toBe(250);
    const id = queueIdOf(accepted) ?? '';
    await deliveredTo('bob@example.net', marker);
    await finished(id);
    expect(await spoolKeys()).toEqual([]);
  });
});
