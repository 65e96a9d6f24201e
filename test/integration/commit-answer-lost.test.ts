/**
 * The accepting COMMIT's answer lost (docs/scale-out.md "When a store is
 * down"): the built daemon on PostgreSQL through a proxy that passes the
 * accepting transaction's COMMIT on and cuts the connection before its
 * answer (test/helpers/commit-cutter.ts), s3rver for large content, a
 * loopback MX sink. The node cannot tell whether the message was queued, so
 * it answers 451 4.3.0 (the client keeps the message and may send it again);
 * the COMMIT did happen, so the message is queued, and its content — inline
 * in the database for a small message, an object for a large one — must not
 * have been removed as if the transaction had failed: it is delivered, byte
 * for byte.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommitCutter, type CommitCutter } from '../helpers/commit-cutter.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { startSharedStores, type SharedStores } from '../helpers/shared-stores.js';
import { dataPayload, RawSmtp, type Reply } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

const INLINE_MAX = 8192;
let shared: SharedStores;
let cutter: CommitCutter;
let setup: TestSetup;
let mx: MxServer;
let zone: DnsZone;
let gw: RunningGateway;

function message(marker: string, kib: number): string {
  const line = `${marker} ${'y'.repeat(60)}`;
  const lines = Array.from({ length: Math.max(1, Math.ceil((kib * 1024) / (line.length + 2))) }, (_, i) => `${i} ${line}`);
  return ['From: alice@example.com', 'To: bob@example.net', `Subject: commit ${marker}`, `Message-ID: <${marker}@example.com>`, '', ...lines, ''].join('\r\n');
}

async function send(text: string): Promise<Reply> {
  const { client } = await RawSmtp.connect(gw.port);
  try {
    for (const line of ['EHLO client.test', 'MAIL FROM:<alice@example.com>', 'RCPT TO:<bob@example.net>']) {
      const r = await client.command(line);
      if (r.code >= 400) return r;
    }
    return await client.data(dataPayload(text));
  } finally {
    await client.quit().catch(() => undefined);
    client.destroy();
  }
}

const context = (): string => `stdout: ${gw.stdout.slice(-3000)} stderr: ${gw.stderr.slice(-1000)}`;
const receivedWith = (marker: string) => mx.received.filter((m) => m.body.includes(Buffer.from(`Message-ID: <${marker}@example.com>`)));

beforeAll(async () => {
  shared = await startSharedStores();
  cutter = await startCommitCutter({ host: '127.0.0.1', port: shared.pg.port });
  mx = await startMxServer({ ip: '127.0.0.141', port: 0 });
  zone = await startDnsZone([
    { name: 'example.net', type: 'MX', exchange: 'mx.sink.test', priority: 10 },
    { name: 'mx.sink.test', type: 'A', address: '127.0.0.141' },
  ]);
  const url = new URL(shared.pg.url);
  url.port = String(cutter.port);
  setup = await setupGateway({});
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      store: shared.store({ url: url.toString() }),
      objects: shared.objects('commit-lost/', { maxAttempts: 1, timeout: '5s' }),
      queue: { inlineMaxBytes: INLINE_MAX },
      dns: { servers: [zone.server] },
      delivery: { enabled: true, port: mx.port, defaultRequirement: 'may', retry: { backoff: ['1s'] } },
      tls: { mtaSts: { enabled: false } },
      keys: { masterKeyFile: setup.masterKeyFile, discovery: { wkd: false, dns: false } },
    },
  });
  const migrated = await runCli(['-c', setup.configPath, 'db', 'migrate', '--json']);
  if (migrated.code !== 0) throw new Error(`db migrate failed: ${migrated.stderr}`);
  gw = await startGateway(setup.configPath);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await cutter?.close();
  await setup?.cleanup();
  await shared?.stop();
});

describe("the accepting COMMIT's answer lost", () => {
  for (const [kind, kib] of [['small (content in the database)', 1], ['large (content in the object store)', 64]] as const) {
    it(`${kind}: 451 4.3.0, and the message that did commit is delivered intact`, async () => {
      const marker = `lost-${kib}-${randomUUID().slice(0, 8)}`;
      const text = message(marker, kib);
      // the accepting transaction's COMMIT carries its audit event, whose type names it
      const cut = cutter.cutNextCommit('ingress:message_accepted');
      const reply = await send(text);
      await cut;
      expect(reply.code).toBe(451);
      expect(reply.text).toMatch(/^451 4\.3\.0 /);
      await until('the committed message delivered', () => receivedWith(marker).length === 1, { timeoutMs: 60_000, context });
      const body = receivedWith(marker)[0]?.body.toString('latin1') ?? '';
      // the delivered copy is the accepted bytes after Sealgate's trace headers
      expect(body.endsWith(text.slice(text.indexOf('From: ')))).toBe(true);
      expect(gw.proc.exitCode).toBeNull();
    });
  }
});
