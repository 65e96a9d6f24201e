/**
 * Invariant 1: a 250 means the message is on disk. The daemon is killed with
 * SIGKILL in the middle of a 2,000-message load from several concurrent
 * clients that record every 250; after a restart every acknowledged message
 * is queued and decrypts to exactly the bytes sent plus the trace header.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSession, type LoadItem } from '../helpers/load-session.js';
import { setupGateway, startGateway, type TestSetup } from '../helpers/gateway.js';
import { readSpooled, stripTraceHeaders, withDb } from '../helpers/spool-reader.js';

const TOTAL = 2000;
const CLIENTS = 8;
const KILL_AFTER_ACKS = 900;

let setup: TestSetup;

beforeAll(async () => {
  setup = await setupGateway({ connectors: [{ name: 'loopback', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }] });
});

afterAll(async () => {
  await setup?.cleanup();
});

function makeMessage(n: number): string {
  const filler = randomBytes(200 + (n % 37) * 100).toString('base64').replace(/(.{76})/g, '$1\r\n');
  return `From: alice@example.com\r\nTo: bob@example.net\r\nSubject: load ${n}\r\nMessage-ID: <load-${n}@example.com>\r\n\r\n${filler}\r\n`;
}

interface Ack {
  readonly id: string;
  readonly message: string;
}

describe('durability under kill -9', () => {
  it(`every acknowledged message survives a SIGKILL during a ${TOTAL}-message load`, async () => {
    const gw = await startGateway(setup.configPath);
    const acks: Ack[] = [];
    let issued = 0;
    let killed: Promise<void> | undefined;
    const next = (): number | undefined => (issued < TOTAL ? issued++ : undefined);
    const onAck = (): void => {
      if (acks.length >= KILL_AFTER_ACKS && !killed) killed = gw.kill9();
    };
    const item = (): (LoadItem & { n: number }) | undefined => {
      const n = next();
      return n === undefined ? undefined : { n, rcpt: 'bob@example.net', message: makeMessage(n) };
    };
    await Promise.all(Array.from({ length: CLIENTS }, () => loadSession(gw.port, item, (m, id) => {
      acks.push({ id, message: m.message });
      onAck();
    })));
    await killed;
    expect(acks.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(acks.length).toBeLessThan(TOTAL);

    const again = await startGateway(setup.configPath);
    try {
      const rows = await withDb(setup.dataDir, async (db) => new Set((await db.all<{ id: string }>('SELECT id FROM messages')).map((r) => r.id)));
      const missing = acks.filter((a) => !rows.has(a.id));
      expect(missing).toEqual([]);
      for (const a of acks) {
        const stored = await readSpooled(setup.dataDir, setup.masterKeyFile, a.id);
        expect(stripTraceHeaders(stored).toString('latin1')).toBe(a.message);
      }
      // no spooled content without a queue row survives the restart: files, and small messages' database rows
      const spoolDir = join(setup.dataDir, 'spool', 'msg');
      const stored: string[] = [];
      for (const shard of await readdir(spoolDir)) stored.push(...(await readdir(join(spoolDir, shard))));
      stored.push(...(await withDb(setup.dataDir, (db) => db.all<{ id: string }>('SELECT id FROM spool_inline'))).map((r) => r.id));
      expect(stored.sort()).toEqual([...rows].sort());
      expect(await readdir(join(setup.dataDir, 'spool', 'tmp'))).toEqual([]);
      console.log(`durability: ${acks.length} acknowledged before SIGKILL, ${rows.size} queued after restart, 0 lost`);
    } finally {
      await again.stop();
    }
  });
});
