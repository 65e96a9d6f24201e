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
 * search  latency of `archive search` (src/archive/search.ts, the code the
 *         CLI runs) over 1,000,000 synthetic entries (BENCH_ARCHIVE_ENTRIES)
 *         with about 2,000,000 recipients and 3,000,000 search terms,
 *         generated in SQL: single filters, 20 pages in a row, and a mixed
 *         set of 240 queries from a fixed seed (p50 / p95 / max).
 *
 * Real SQLite and a real object store in a temp directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Archiver } from '../src/archive/archiver.js';
import { Database } from '../src/db/database.js';
import { migrate } from '../src/db/schema.js';
import { createLogger } from '../src/log/logger.js';
import { generateQueueId } from '../src/queue/ids.js';
import { insertQueuedMessage } from '../src/queue/store.js';
import { parseSearch, searchArchive, type RawSearch } from '../src/archive/search.js';
import { rng } from '../test/fixtures/dlp-corpus/values.js';
import { archiveEnvironment, type ArchiveEnvironment } from '../test/helpers/archive-environment.js';

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

type Env = ArchiveEnvironment;

const environment = (): Promise<Env> => archiveEnvironment('sealgate-bench-archive-');

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

const ENTRIES = Number(process.env.BENCH_ARCHIVE_ENTRIES ?? 1_000_000);

/** Fills a fresh archive database with `n` synthetic entries (1 to 3 recipients each, categories, subject-word terms) in SQL. */
async function syntheticArchive(db: Database, n: number): Promise<void> {
  const start = Date.UTC(2021, 0, 1);
  const step = Math.floor((6 * 365 * 86_400_000) / n);
  await db.exec(`
    BEGIN;
    CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${n}) INSERT INTO n SELECT i FROM c;
    INSERT INTO archive_messages (id, origin, message_id, received_at, archived_at, sender, sender_domain, connector, client_ip, tls_version, auth_user, size,
        content_sha256, object_key, object_offset, object_length, wrapped_key, key_id, subject_sealed, verdict, retain_until, hold, purged_at, record_seq)
      SELECT printf('%020d', i), 'smtp', 'mid-' || i || '@x', ${start} + i * ${step}, ${start} + i * ${step} + 5, 'user' || (i % 1000) || '@clinic' || (i % 3) || '.example',
        'clinic' || (i % 3) || '.example', 'm365', '127.0.0.1', 'TLSv1.3', NULL, 1000, 'x', 'k', 0, 1000, NULL, 'k1', NULL,
        CASE WHEN i % 10 = 0 THEN '{"findings":[{"category":"SSN","count":1}],"inspected":true,"phi":true}' ELSE '{"findings":[],"inspected":true,"phi":false}' END, 0, 0, NULL, i
      FROM n;
    INSERT INTO archive_recipients (archive_id, seq, address, domain, bcc, method, requirement, decision, key_fingerprint, key_source, state, attempts, last_attempt_at, finished_at, evidence, record_seq)
      SELECT printf('%020d', i), s.seq,
        CASE WHEN (i * 7 + s.seq) % 5 = 0 THEN 'p' || ((i * 31 + s.seq) % 40000) || '@gmail.test' ELSE 'r' || ((i * 13 + s.seq * 7) % 200000) || '@d' || ((i * 13 + s.seq * 7) % 5000) || '.test' END,
        CASE WHEN (i * 7 + s.seq) % 5 = 0 THEN 'gmail.test' ELSE 'd' || ((i * 13 + s.seq * 7) % 5000) || '.test' END,
        0,
        CASE WHEN i % 100 < 80 THEN 'tls-verified' WHEN i % 100 < 90 THEN 'portal' WHEN i % 100 < 95 THEN 'pgp' WHEN i % 100 < 98 THEN 'smime' WHEN i % 100 < 99 THEN 'quarantine' ELSE 'tls-opportunistic' END,
        'verify', '[]', NULL, NULL,
        CASE WHEN (i + s.seq) % 1000 < 970 THEN 'delivered' WHEN (i + s.seq) % 1000 < 990 THEN 'bounced' WHEN (i + s.seq) % 1000 < 995 THEN 'deferred' ELSE 'held' END,
        1, NULL, NULL, '{}', i
      FROM n JOIN (SELECT 1 AS seq UNION ALL SELECT 2 UNION ALL SELECT 3) s ON s.seq <= 1 + (n.i % 3);
    INSERT INTO archive_terms (archive_id, term) SELECT printf('%020d', i), 'category:SSN' FROM n WHERE i % 10 = 0;
    INSERT INTO archive_terms (archive_id, term) SELECT printf('%020d', i), 'category:MRN' FROM n WHERE i % 20 = 3;
    INSERT INTO archive_terms (archive_id, term) SELECT printf('%020d', i), 'category:DEA' FROM n WHERE i % 10000 = 7;
    INSERT INTO archive_terms (archive_id, term) SELECT printf('%020d', i), 's:common' FROM n WHERE i % 3 = 0;
    INSERT OR IGNORE INTO archive_terms (archive_id, term) SELECT printf('%020d', i), 's:w' || ((i * 2654435761) % 5000) FROM n;
    INSERT OR IGNORE INTO archive_terms (archive_id, term) SELECT printf('%020d', i), 's:w' || ((i * 40503 + 17) % 5000) FROM n;
    COMMIT;
  `);
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function searchLatency(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-bench-archive-search-'));
  const db = await Database.open(join(dir, 'sealgate.db'));
  try {
    await migrate(db);
    await db.exec('PRAGMA synchronous=OFF');
    const genStart = process.hrtime.bigint();
    await syntheticArchive(db, ENTRIES);
    const genSeconds = seconds(genStart);
    const now = Date.UTC(2027, 0, 1);
    // the synthetic subject terms are stored as s:<word>: the query side maps words the same way
    const terms = (subject: string): string[][] => subject.split(/\s+/).filter(Boolean).map((w) => [`s:${w}`]);
    const time = async (raw: RawSearch): Promise<{ ms: number; next?: string | undefined }> => {
      const q = parseSearch(raw, now, terms);
      const start = process.hrtime.bigint();
      const r = await searchArchive(db, q);
      return { ms: seconds(start) * 1000, next: r.next ?? undefined };
    };
    const out: string[] = [`archive search over ${ENTRIES.toLocaleString('en')} entries (generated in ${genSeconds.toFixed(0)} s), page of 50 unless said:`, '', '| query | median ms | max ms |', '| --- | --- | --- |'];
    const singles: RawSearch[] = [
      {},
      { to: 'p123@gmail.test' },
      { to: 'P123@Gmail.TEST' },
      { from: 'user42@clinic0.example' },
      { domain: 'gmail.test' },
      { domain: 'd17.test' },
      { category: 'SSN' },
      { category: 'DEA' },
      { method: 'quarantine' },
      { state: 'bounced' },
      { subject: 'w17 w2000' },
      { since: '30d', category: 'SSN' },
      { since: '2022-01-01', until: '2022-01-08', method: 'quarantine', state: 'bounced' },
      { queueId: '00000000000000500000' },
      { messageId: 'mid-77@x' },
      { domain: 'gmail.test', state: 'bounced', category: 'SSN' },
      { category: 'SSN', limit: '1000' },
    ];
    for (const raw of singles) {
      const times: number[] = [];
      for (let k = 0; k < 5; k++) times.push((await time(raw)).ms);
      times.sort((a, b) => a - b);
      out.push(`| ${JSON.stringify(raw)} | ${percentile(times, 50).toFixed(1)} | ${(times.at(-1) ?? 0).toFixed(1)} |`);
    }
    for (const raw of [{ domain: 'gmail.test' }, { state: 'bounced' }] as RawSearch[]) {
      const times: number[] = [];
      let after: string | undefined;
      for (let page = 0; page < 20; page++) {
        const r = await time({ ...raw, ...(after ? { after } : {}) });
        times.push(r.ms);
        after = r.next;
        if (!after) break;
      }
      times.sort((a, b) => a - b);
      out.push(`| 20 pages in a row of ${JSON.stringify(raw)} | ${percentile(times, 50).toFixed(1)} | ${(times.at(-1) ?? 0).toFixed(1)} |`);
    }
    const random = rng(20261205);
    const pick = (n: number): number => Math.floor(random() * n);
    const kinds: (() => RawSearch)[] = [
      () => ({ to: `p${pick(40000)}@gmail.test` }),
      () => ({ to: `r${pick(200000)}@d${pick(5000)}.test` }),
      () => ({ from: `user${pick(1000)}@clinic${pick(3)}.example` }),
      () => ({ domain: `d${pick(5000)}.test` }),
      () => ({ category: ['SSN', 'MRN', 'DEA'][pick(3)] ?? 'SSN' }),
      () => ({ subject: `w${pick(5000)}` }),
      () => ({ subject: `w${pick(5000)} common` }),
      () => ({ method: ['tls-verified', 'portal', 'pgp', 'smime', 'quarantine'][pick(5)] ?? 'pgp' }),
      () => ({ state: ['delivered', 'bounced', 'deferred', 'held'][pick(4)] ?? 'held' }),
      () => ({ since: `${1 + pick(300)}d`, domain: 'gmail.test' }),
      () => ({ messageId: `mid-${pick(ENTRIES)}@x` }),
      () => ({ since: '2023-01-01', until: '2023-03-01', category: 'SSN', method: 'portal' }),
    ];
    const mixed: number[] = [];
    for (let i = 0; i < 240; i++) mixed.push((await time((kinds[i % kinds.length] ?? (() => ({})))())).ms);
    mixed.sort((a, b) => a - b);
    out.push('', `mixed set of 240 queries (fixed seed): p50 ${percentile(mixed, 50).toFixed(1)} ms, p95 ${percentile(mixed, 95).toFixed(1)} ms, max ${(mixed.at(-1) ?? 0).toFixed(1)} ms (target: under 200 ms)`);
    return out;
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function archiveBench(): Promise<string[]> {
  const out = [`## archive (${MESSAGES} messages per size, 2 recipients each)`];
  out.push(await writeCost('2 KB', 2 * 1024));
  out.push(await writeCost('100 KB', 100 * 1024));
  out.push('');
  out.push(...(await searchLatency()));
  return out;
}
