/**
 * The daemon with objects.kind: s3 (on its default SQLite database): a PHI
 * message to a consumer mailbox domain is deposited in the portal, its copy
 * and its archive entry are stored in the S3-compatible store (s3rver on
 * loopback, test/helpers/s3-server.ts names its limits) and not in dataDir;
 * the recipient's link opens the copy from the store to the original bytes;
 * `sealgate archive show --content` reads the archive entry back from the
 * store; neither the bucket's files nor the data directory hold a byte of
 * the message in clear, and neither the logs nor any file name the secret
 * access key.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { objectsSchema } from '../../src/objects/config-schema.js';
import { openObjectStore } from '../../src/objects/open.js';
import { PortalStore } from '../../src/portal/portal-store.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { filePaths } from '../helpers/files.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { phiMail } from '../helpers/phi-mail.js';
import { startS3Server, type TestS3 } from '../helpers/s3-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

const BODY_MARKER = 'XYZZY-S3-PORTAL-BODY-5821';
const ATTACHMENT_MARKER = 'QUUX-S3-ATTACHMENT-7730';
const PREFIX = 'gw1/';

let s3: TestS3;
let setup: TestSetup;
let gw: RunningGateway;
let mx: MxServer;
let zone: DnsZone;
let objectsConfig: ReturnType<typeof objectsSchema.parse>;

beforeAll(async () => {
  s3 = await startS3Server();
  mx = await startMxServer({ ip: '127.0.0.123', port: 0 });
  zone = await startDnsZone([
    { name: 'gmail.com', type: 'MX', exchange: 'mx.consumer.test', priority: 10 },
    { name: 'example.com', type: 'MX', exchange: 'mx.consumer.test', priority: 10 },
    { name: 'mx.consumer.test', type: 'A', address: '127.0.0.123' },
  ]);
  setup = await setupGateway({});
  const secretFile = join(setup.dir, 's3-secret');
  await writeFile(secretFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  const objects = { kind: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, prefix: PREFIX, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile: secretFile } };
  objectsConfig = objectsSchema.parse(objects);
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      log: { level: 'debug', pretty: false },
      objects,
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1h'] } },
      tls: { mtaSts: { enabled: false } },
      inspection: { threads: 0 },
      portal: { enabled: true, publicUrl: 'https://portal.gw.test', listen: { host: '127.0.0.1', port: 0 } },
    },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
  await s3?.stop();
});

describe('objects.kind: s3 on the daemon', () => {
  it('deposits the portal copy and the archive entry in S3, encrypted; the recipient and the archive CLI read them back', async () => {
    expect(gw.logLines().find((l) => l.event === 'OBJECT_STORE_OPENED')).toMatchObject({ kind: 's3', location: `s3://${s3.bucket}/${PREFIX} at ${s3.endpoint}` });
    const original = phiMail({ from: 'alice@example.com', to: 'jane.roe@gmail.com', subject: 'Lab results', bodyMarker: BODY_MARKER, attachmentName: 'report.txt', attachmentType: 'text/plain', attachment: Buffer.from(`Report\r\n${ATTACHMENT_MARKER}\r\n`) });
    const id = await sendMessage(gw.port, 'alice@example.com', ['jane.roe@gmail.com'], original);
    const notice = await until('the portal notification', () => mx.received.find((m) => m.from === '' && m.to[0]?.address === 'jane.roe@gmail.com'), { timeoutMs: 60_000, context: () => gw.stdout.slice(-3000) });
    await until('the message finished', () => gw.logLines().find((l) => l.event === 'MESSAGE_FINISHED' && l.queueId === id), { context: () => gw.stdout.slice(-3000) });
    const token = /https:\/\/portal\.gw\.test\/m\/([A-Za-z0-9_-]{43})/.exec(notice.body.toString('utf8'))?.[1] ?? '';
    expect(token).not.toBe('');

    // the objects are in the bucket under the prefix, none in dataDir/store
    const store = await openObjectStore({ dataDir: setup.dataDir, objects: objectsConfig });
    const keys: string[] = [];
    for await (const k of store.list('')) keys.push(k);
    expect(keys.filter((k) => k.startsWith('portal/'))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith('archive/'))).toHaveLength(1);
    expect((await filePaths(join(setup.dataDir, 'store')).catch(() => [])).filter((f) => !f.includes('/tmp/'))).toEqual([]);

    // the recipient's link opens the copy, read from S3, to the original bytes
    const keyring = await loadKeyring({ masterKeyFile: setup.masterKeyFile, previousKeyFiles: [], create: false });
    await withDb(setup.dataDir, async (db) => {
      const portal = new PortalStore({ db, objects: store, keyring });
      const match = await portal.findByToken(token);
      expect(match?.queueId).toBe(id);
      const chunks: Buffer[] = [];
      for await (const c of await portal.open(match?.depositId ?? '')) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString('utf8')).toContain(BODY_MARKER);
    });
    store.close();

    // a CLI command reads the archive entry back from S3
    const shown = await runCli(['-c', setup.configPath, 'archive', 'show', id, '--content', '--reason', 'objects.kind s3 test']);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(BODY_MARKER);
    expect(shown.stdout).toContain(Buffer.from(`Report\r\n${ATTACHMENT_MARKER}\r\n`).toString('base64'));

    // ciphertext only: no marker in the bucket's files or the data directory; no secret in the logs
    await gw.stop();
    const bucketFiles = await filePaths(s3.dir);
    expect(bucketFiles.some((f) => f.includes(`${PREFIX}portal`) || f.includes('portal'))).toBe(true);
    for (const file of [...bucketFiles, ...(await filePaths(setup.dataDir))]) {
      const bytes = await readFile(file);
      for (const m of [BODY_MARKER, ATTACHMENT_MARKER, Buffer.from(`Report\r\n${ATTACHMENT_MARKER}\r\n`).toString('base64'), token]) expect(bytes.includes(Buffer.from(m)), `${m} in ${file}`).toBe(false);
    }
    expect(gw.stdout + gw.stderr).not.toContain(s3.secretAccessKey);
  });
});
