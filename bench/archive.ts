/**
 * The archive part of `npm run bench`:
 *
 * write   what archiving costs per message: the archive stage (read and
 *         decrypt the spool file, encrypt under the entry's own key, object
 *         put with fsync, entry + recipients + terms + chain records
 *         committed) over messages already spooled and queued, 2 KB and
 *         100 KB, in batches as the daemon takes them (BENCH_ARCHIVE_WAITING
 *         messages waiting each time, 64 by default; 1: a quiet gateway,
 *         every message alone); next to the cost of
 *         spooling the same message once (encrypt, write, fsync), the
 *         nearest thing Postfix does.
 * search  (when src/archive/search.ts is present) latency of archive searches
 *         over 1,000,000 synthetic entries.
 *
 * Real SQLite and a real object store in a temp directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Archiver } from '../src/archive/archiver.js';
import { Keyring, masterKeyFromBytes } from '../src/crypto/keyring.js';
import { Database } from '../src/db/database.js';
import { migrate } from '../src/db/schema.js';
import { createLogger } from '../src/log/logger.js';
import { LocalObjectStore } from '../src/objects/local-store.js';
import { generateQueueId } from '../src/queue/ids.js';
import { insertQueuedMessage } from '../src/queue/store.js';
import { Spool } from '../src/spool/spool.js';

const MESSAGES = Number(process.env.BENCH_ARCHIVE_MESSAGES ?? 400);
/** Messages waiting when the archive stage takes its next batch (it takes up to 64). */
const WAITING = Number(process.env.BENCH_ARCHIVE_WAITING ?? 64);
const YEAR = 365 * 86_400_000;

function message(i: number, size: number): Buffer {
  const head = `From: dr@clinic.example\r\nTo: pat${i}@example.net\r\nSubject: Lab results ${i} for review\r\nMessage-ID: <bench-${i}@clinic.example>\r\n\r\n`;
  const line = 'Potassium 4.1 mmol/L, sodium 140 mmol/L, creatinine 0.9 mg/dL; no action needed.\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length))));
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

interface Env {
  readonly dir: string;
  readonly db: Database;
  readonly spool: Spool;
  readonly objects: LocalObjectStore;
  readonly keyring: Keyring;
}

async function environment(): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-bench-archive-'));
  const db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  const spool = new Spool(join(dir, 'spool'), keyring);
  await spool.init();
  const objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  return { dir, db, spool, objects, keyring };
}

/** Spools and queues `n` messages of `size` bytes as inspected and waiting for the archive; the spooling time per message. */
async function spoolMessages(env: Env, n: number, size: number): Promise<{ ids: string[]; spoolSeconds: number }> {
  const ids: string[] = [];
  let spoolSeconds = 0;
  for (let i = 0; i < n; i++) {
    const now = Date.now();
    const id = generateQueueId(now, randomBytes);
    const bytes = message(i, size);
    const start = process.hrtime.bigint();
    const file = await env.spool.write(id, Readable.from([bytes]));
    await file.commit();
    spoolSeconds += seconds(start);
    await env.db.transaction((tx) =>
      insertQueuedMessage(tx, {
        id,
        createdAt: now,
        sender: 'dr@clinic.example',
        size: bytes.length,
        spoolKeyId: env.keyring.current.id,
        listener: 'bench',
        connector: 'bench',
        clientIp: '127.0.0.1',
        helo: 'bench',
        tlsVersion: 'TLSv1.3',
        authUser: undefined,
        bodyType: '8BITMIME',
        smtputf8: false,
        requireTls: false,
        dsnRet: undefined,
        dsnEnvid: undefined,
        bareLineEndings: 0,
        requirement: 'verify',
        inspected: true,
        archived: false,
        method: 'tls-verified',
        recipients: [{ address: `pat${i}@example.net` }, { address: `cc${i}@example.org` }],
      }),
    );
    ids.push(id);
  }
  return { ids, spoolSeconds };
}

async function writeCost(label: string, size: number): Promise<string> {
  const env = await environment();
  try {
    const { ids, spoolSeconds } = await spoolMessages(env, MESSAGES, size);
    const archiver = new Archiver({ db: env.db, spool: env.spool, objects: env.objects, keyring: env.keyring, log: createLogger({ level: 'silent', pretty: false }), now: Date.now, retentionMs: () => 6 * YEAR });
    const start = process.hrtime.bigint();
    for (let at = 0; at < ids.length; at += WAITING) await archiver.archiveBatch(ids.slice(at, at + WAITING));
    const took = seconds(start);
    const archived = (await env.db.get<{ n: number }>('SELECT count(*) AS n FROM archive_messages'))?.n ?? 0;
    if (archived !== ids.length) throw new Error(`archived ${archived} of ${ids.length}`);
    return `archive write ${label}: ${(ids.length / took).toFixed(0)} msg/s (batches of ${WAITING}), ${((took / ids.length) * 1e6).toFixed(0)} µs per message of wall time; spooling the same message once: ${((spoolSeconds / ids.length) * 1e6).toFixed(0)} µs`;
  } finally {
    await env.db.close();
    await rm(env.dir, { recursive: true, force: true });
  }
}

export async function archiveBench(): Promise<string[]> {
  const out = [`## archive (${MESSAGES} messages per size, 2 recipients each)`];
  out.push(await writeCost('2 KB', 2 * 1024));
  out.push(await writeCost('100 KB', 100 * 1024));
  return out;
}
