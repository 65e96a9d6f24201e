/**
 * Archive search: the pure parts table-driven (time parsing, filter checks,
 * plan choice, the SQL's shape), and the runner on a real SQLite database
 * written through the archive's own entry code: every plan a query could
 * take must return exactly what a plain filter over all entries returns,
 * in the same order (newest first, ties by id), page after page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertArchiveEntry } from '../../src/archive/entries.js';
import type { ArchiveMessageColumns, ArchiveRecipientColumns } from '../../src/archive/records.js';
import {
  addressVariants,
  buildSearchSql,
  candidateDrivers,
  choosePlan,
  driveLimit,
  filterNames,
  parseSearch,
  parseTime,
  searchArchive,
  SearchInputError,
  type ArchiveQuery,
  type Driver,
  type RawSearch,
} from '../../src/archive/search.js';
import { categoryTerm, subjectTerm, subjectWords } from '../../src/archive/terms.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const KEY = Buffer.alloc(32, 7);
/** The subject terms under one fixed key (the real hashing; no keyring needed for the pure parts). */
const termsOf = (s: string): string[][] => subjectWords(s).map((w) => [subjectTerm(KEY, w)]);

describe('parseTime', () => {
  it.each<[string, number]>([
    ['2026-12-01', Date.UTC(2026, 11, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2026-12-01T08:30:00Z', Date.UTC(2026, 11, 1, 8, 30)],
    ['2026-12-01T08:30Z', Date.UTC(2026, 11, 1, 8, 30)],
    ['2026-12-01 08:30:15.250z', Date.UTC(2026, 11, 1, 8, 30, 15, 250)],
    ['2026-12-01T09:30+01:00', Date.UTC(2026, 11, 1, 8, 30)],
    ['2026-12-01T03:30:00-05:00', Date.UTC(2026, 11, 1, 8, 30)],
    ['30s', NOW - 30_000],
    ['30m', NOW - 30 * 60_000],
    ['12h', NOW - 12 * 3_600_000],
    ['7d', NOW - 7 * 86_400_000],
    ['2w', NOW - 14 * 86_400_000],
    ['1y', NOW - 365 * 86_400_000],
    [' 7d ', NOW - 7 * 86_400_000],
    ['9999999y', 0],
  ])('%s', (text, expected) => {
    expect(parseTime(text, NOW)).toBe(expected);
  });

  it.each(['', 'yesterday', '7', 'd7', '7 d', '7days', '-7d', '2026-13-01', '2026-02-30', '2023-02-29', '2026-12-01T08:30', '2026-12-01T25:00Z', '12/01/2026', '1e3d', '7D', 'x'.repeat(41)])(
    'refuses %j with one line naming the flag and the forms',
    (text) => {
      expect(() => parseTime(text, NOW, 'since')).toThrow(SearchInputError);
      expect(() => parseTime(text, NOW, 'since')).toThrow(/^--since: .*(2026-12-01|date).*7d/);
    },
  );
});

describe('parseSearch', () => {
  it.each<[string, RawSearch, Partial<ArchiveQuery>]>([
    ['nothing: newest 50', {}, { limit: 50 }],
    ['sender lowered (matched against lower(sender))', { from: 'Alice@Example.COM' }, { from: ['alice@example.com'] }],
    ['recipient lowered', { to: 'ALICE@EXAMPLE.COM' }, { to: ['alice@example.com'] }],
    ['sender in angle brackets', { from: '<a@b.test>' }, { from: ['a@b.test'] }],
    ['null sender', { from: '<>' }, { from: [''] }],
    ['recipient', { to: 'bob@x.test' }, { to: ['bob@x.test'] }],
    ['domain lower case, @ dropped', { domain: '@Example.ORG' }, { domain: 'example.org' }],
    ['category upper case, as a term', { category: 'ssn' }, { categoryTerm: categoryTerm('SSN') }],
    ['method', { method: 'PGP' }, { method: 'pgp' }],
    ['state deleted', { state: 'deleted' }, { state: 'deleted' }],
    ['queue id upper case', { queueId: '01jabcdefghjkmnpqrst' }, { queueId: '01JABCDEFGHJKMNPQRST' }],
    ['message id without <>', { messageId: '<m1@example.com>' }, { messageId: 'm1@example.com' }],
    ['time range', { since: '2026-12-01', until: '2026-12-02' }, { since: Date.UTC(2026, 11, 1), until: Date.UTC(2026, 11, 2) }],
    ['limit', { limit: '1000' }, { limit: 1000 }],
    ['subject words, each hashed', { subject: 'Lab RESULTS, lab' }, { subjectTerms: [[subjectTerm(KEY, 'lab')], [subjectTerm(KEY, 'results')]] }],
  ])('%s', (_name, raw, expected) => {
    expect(parseSearch(raw, NOW, termsOf)).toMatchObject(expected);
  });

  it.each<[string, RawSearch, RegExp]>([
    ['limit 0', { limit: '0' }, /^--limit must be a whole number from 1 to 1000$/],
    ['limit too big', { limit: '1001' }, /^--limit must be/],
    ['limit not a number', { limit: '5x' }, /^--limit must be/],
    ['offset too big', { offset: 100_001 }, /^--offset must be/],
    ['since after until', { since: '2026-12-02', until: '2026-12-01' }, /^--since must be before --until$/],
    ['no word', { subject: 'a & b' }, /^--subject has no word/],
    ['too many words', { subject: Array.from({ length: 17 }, (_, i) => `w${i}`).join(' ') }, /^--subject has more than 16 words$/],
    ['subject too long', { subject: 'x'.repeat(1001) }, /^--subject is longer than 1000 characters$/],
    ['not an address', { to: 'bob' }, /^--to must be one address/],
    ['two addresses', { to: 'a@b.test c@d.test' }, /^--to must be one address/],
    ['address too long', { from: `${'x'.repeat(320)}@b.test` }, /^--from is longer than 320 characters$/],
    ['control characters', { to: 'a@b.test\r\nRCPT' }, /^--to contains control characters$/],
    ['empty', { domain: '  ' }, /^--domain is empty$/],
    ['domain with @ inside', { domain: 'a@b.test' }, /^--domain must be one domain name/],
    ['bad category', { category: 'SSN; DROP' }, /^--category is a category name/],
    ['unknown method', { method: 'carrier-pigeon' }, /^--method must be one of tls-verified, smime, pgp, portal, tls-opportunistic, block, quarantine$/],
    ['unknown state', { state: 'lost' }, /^--state must be one of .*deleted$/],
    ['bad queue id', { queueId: 'ILOU0000000000000000' }, /^--queue-id must be a queue id/],
    ['bad cursor', { after: 'nope' }, /^--after must be a queue id/],
    ['cursor and offset', { after: '01JABCDEFGHJKMNPQRST', offset: 5 }, /^give --after or --offset, not both$/],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => parseSearch(raw, NOW, termsOf)).toThrow(SearchInputError);
    expect(() => parseSearch(raw, NOW, termsOf)).toThrow(message);
  });

  it('never echoes the value given in its error', () => {
    const secret = 'jane.roe.1961@patients.test';
    for (const raw of [{ to: `${secret} x` }, { from: `${secret}\u0000` }, { domain: `${secret}` }] as RawSearch[]) {
      let message = '';
      try {
        parseSearch(raw, NOW, termsOf);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('jane');
    }
  });

  it('names the filters given, never paging or values', () => {
    expect(filterNames({ to: 'x@y.test', subject: 'lab', limit: '5', after: '01JABCDEFGHJKMNPQRST', since: '7d' })).toEqual(['to', 'since', 'subject']);
    expect(filterNames({})).toEqual([]);
  });

  it.each<[string, string[]]>([
    ['bob@x.test', ['bob@x.test']],
    ['Bob@X.test', ['bob@x.test']],
    ['<BOB@X.TEST>', ['bob@x.test']],
    // SQLite's lower() folds A-Z only, PostgreSQL's every letter: both lowerings, each engine finds its own
    ['Ärzte@Klinik.DE', ['Ärzte@klinik.de', 'ärzte@klinik.de']],
    ['ärzte@klinik.de', ['ärzte@klinik.de']],
  ])('address %j is compared lowered: %j', (address, want) => {
    expect(addressVariants(address, 'to')).toEqual(want);
  });
});

describe('plan choice', () => {
  const d = (kind: Driver['kind']): Driver => (kind === 'subject' ? { kind, word: 0 } : ({ kind } as Driver));
  it.each<[string, [Driver['kind'], number][], number | undefined, Driver['kind']]>([
    ['no filter: newest', [], undefined, 'newest'],
    ['the rarest filter drives', [['domain', 900], ['recipient', 3], ['category', 50]], undefined, 'recipient'],
    ['every filter common: newest', [['domain', 5000], ['method', 5000]], undefined, 'newest'],
    ['a short time range beats a filter', [['domain', 900]], 200, 'newest'],
    ['a long time range does not', [['domain', 900]], 901, 'domain'],
    ['queue id always', [['domain', 0], ['queue-id', 1]], 0, 'queue-id'],
    ['first of equals', [['method', 10], ['state', 10]], undefined, 'method'],
  ])('%s', (_name, counts, range, expected) => {
    expect(choosePlan(counts.map(([k, n]) => ({ driver: d(k), n })), range, 5000).kind).toBe(expected);
  });

  it('the limit for driving grows with the page and is bounded', () => {
    expect([1, 50, 100, 1000].map(driveLimit)).toEqual([2000, 5000, 10_000, 20_000]);
  });

  it('drives from the index of the filter it names, and checks every filter on every row', () => {
    const q = parseSearch({ to: 'bob@x.test', method: 'pgp', category: 'SSN', since: '7d' }, NOW, termsOf);
    const sql = buildSearchSql(q, { kind: 'recipient' });
    expect(sql.sql).toMatch(/^SELECT .* FROM \(SELECT DISTINCT archive_id AS id FROM archive_recipients WHERE lower\(address\) IN \(\?\)\) d CROSS JOIN archive_messages m WHERE m\.id = d\.id AND /);
    // to and method on one recipient row; the category on the terms; the time on the entry
    expect(sql.sql).toContain('EXISTS (SELECT 1 FROM archive_recipients r WHERE r.archive_id = m.id AND lower(r.address) IN (?) AND r.method = ?)');
    expect(sql.sql).toContain('tc.term = ?');
    expect(sql.sql).toContain('m.received_at >= ?');
    expect(sql.sql).toMatch(/ORDER BY m\.received_at DESC, m\.id DESC LIMIT \? OFFSET \?$/);
    expect(sql.params).toEqual(['bob@x.test', NOW - 7 * 86_400_000, 'bob@x.test', 'pgp', categoryTerm('SSN'), 50, 0]);
    const newest = buildSearchSql(q, { kind: 'newest' });
    expect(newest.sql).toMatch(/^SELECT .* FROM archive_messages m WHERE /);
    expect(newest.sql.match(/\?/g)?.length).toBe(newest.params.length);
    // portable SQL: no SQLite-only functions or hints
    for (const s of [sql.sql, newest.sql]) expect(s).not.toMatch(/INDEXED BY|NOT INDEXED|printf|strftime|julianday|unixepoch|instr\(|GLOB|rowid/i);
  });

  it('offers every given filter with an index as a driver', () => {
    const q = parseSearch({ from: 'a@b.test', to: 'c@d.test', domain: 'd.test', subject: 'lab results', category: 'SSN', method: 'pgp', state: 'held', messageId: 'm@x', queueId: '01JABCDEFGHJKMNPQRST', since: '1d' }, NOW, termsOf);
    expect(candidateDrivers(q).map((x) => (x.kind === 'subject' ? `subject:${x.word}` : x.kind))).toEqual([
      'queue-id', 'message-id', 'sender', 'recipient', 'domain', 'method', 'state', 'category', 'subject:0', 'subject:1',
    ]);
  });
});

// ---- the runner on a real database -------------------------------------------------------------

interface Fixture {
  readonly id: string;
  readonly receivedAt: number;
  readonly sender: string;
  readonly subject: string;
  readonly categories: readonly string[];
  readonly recipients: readonly { address: string; method: string; state: string }[];
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function idOf(n: number): string {
  let s = '';
  for (let i = 0; i < 20; i++) s = ALPHABET[Math.floor(n / 32 ** i) % 32] + s;
  return s;
}

/** 240 entries: a few senders, domains, methods, states, categories and subject words, some sharing a time (ties by id). */
function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  const words = ['lab', 'results', 'referral', 'invoice', 'march', 'scan'];
  const methods = ['tls-verified', 'tls-verified', 'tls-verified', 'portal', 'pgp', 'smime', 'quarantine'];
  const states = ['delivered', 'delivered', 'delivered', 'delivered', 'bounced', 'held', 'deferred', 'deleted'];
  for (let i = 0; i < 240; i++) {
    const n = 1 + (i % 3);
    out.push({
      id: idOf(1_000_000 + ((i * 7919) % 240)),
      // every fourth entry shares its time with the previous one
      receivedAt: NOW - 86_400_000 * 30 + Math.floor(i / 4) * 4 * 3_600_000 + (i % 4 === 3 ? 2 : i % 4) * 3_600_000,
      sender: i % 11 === 0 ? '' : `${i % 4 === 1 ? 'User' : 'user'}${i % 5}@${i % 2 ? 'clinic.test' : 'Lab.Test'}`,
      subject: `${words[i % 6]} ${words[(i * 5) % 6]} ${i % 9 === 0 ? 'urgent' : ''}`,
      categories: i % 4 === 0 ? ['SSN'] : i % 10 === 1 ? ['MRN', 'SSN'] : i % 17 === 2 ? ['DEA'] : [],
      recipients: Array.from({ length: n }, (_, k) => ({
        // every fifth stored in capitals (as some clients send it): found whatever the case of the query
        address: `${(i + k) % 5 === 0 ? 'P' : 'p'}${(i * 3 + k) % 23}@${['gmail.test', 'partner.test', (i + k) % 5 === 0 ? 'Rare.TEST' : 'rare.test'][((i + k) % 7 === 0 ? 2 : (i + k) % 2)]}`,
        method: methods[(i + k * 3) % methods.length] ?? 'tls-verified',
        state: states[(i * 5 + k) % states.length] ?? 'delivered',
      })),
    });
  }
  return out;
}

/** What a search must return: every filter applied by hand, newest first, ties by id. */
function expected(all: readonly Fixture[], raw: RawSearch): string[] {
  const q = parseSearch(raw, NOW, termsOf);
  const words = raw.subject ? subjectWords(raw.subject) : [];
  return all
    .filter((f) => {
      if (q.queueId && f.id !== q.queueId) return false;
      if (q.from && !q.from.includes(f.sender.toLowerCase())) return false;
      if (q.since !== undefined && f.receivedAt < q.since) return false;
      if (q.until !== undefined && f.receivedAt >= q.until) return false;
      const senderDomain = f.sender.split('@')[1]?.toLowerCase() ?? '';
      if (q.domain && senderDomain !== q.domain && !f.recipients.some((r) => r.address.toLowerCase().endsWith(`@${q.domain}`))) return false;
      if ((q.to || q.method || q.state) && !f.recipients.some((r) => (!q.to || q.to.includes(r.address.toLowerCase())) && (!q.method || r.method === q.method) && (!q.state || r.state === q.state))) return false;
      if (raw.category && !f.categories.includes(raw.category.toUpperCase())) return false;
      const subjectWordsOf = subjectWords(f.subject);
      if (!words.every((w) => subjectWordsOf.includes(w))) return false;
      return true;
    })
    .sort((a, b) => b.receivedAt - a.receivedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((f) => f.id);
}

describe('searchArchive on a real database', () => {
  let dir: string;
  let db: Database;
  const all = fixtures();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-archive-search-'));
    db = await Database.open(join(dir, 'sealgate.db'));
    await migrate(db);
    await db.transaction(async (tx) => {
      for (const f of all) {
        const entry: ArchiveMessageColumns = {
          id: f.id, origin: 'smtp', message_id: `${f.id.toLowerCase()}@example.test`, received_at: f.receivedAt, archived_at: f.receivedAt + 5, sender: f.sender,
          sender_domain: f.sender.split('@')[1]?.toLowerCase() ?? '', connector: 'loopback', client_ip: '127.0.0.1', tls_version: 'TLSv1.3', auth_user: null, size: 100,
          content_sha256: '0'.repeat(64), object_key: `archive/2026/11/${f.id}`, object_offset: 0, object_length: 1, wrapped_key: Buffer.alloc(8), key_id: 'k', subject_sealed: null,
          verdict: JSON.stringify({ findings: f.categories.map((category) => ({ category, count: 1 })), inspected: true, phi: f.categories.length > 0 }), retain_until: f.receivedAt + 1e12, hold: 0, purged_at: null,
        };
        const recipients: ArchiveRecipientColumns[] = f.recipients.map((r, k) => ({
          archive_id: f.id, seq: k + 1, address: r.address, domain: (r.address.split('@')[1] ?? '').toLowerCase(), bcc: 0, method: r.method, requirement: 'verify', decision: '[]',
          key_fingerprint: null, key_source: null, state: r.state, attempts: 1, last_attempt_at: null, finished_at: null, evidence: null,
        }));
        const terms = [...termsOf(f.subject).map((t) => t[0] ?? ''), ...f.categories.map(categoryTerm)];
        await insertArchiveEntry(tx, entry, recipients, terms, f.receivedAt);
      }
    });
  });

  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const queries: RawSearch[] = [
    {},
    { from: 'user1@clinic.test' },
    { from: 'USER2@lab.test' },
    { from: '<>' },
    { to: 'p4@gmail.test' },
    { to: 'P4@GMAIL.TEST' },
    { to: 'p5@RARE.test' },
    { to: 'p5@rare.test', state: 'delivered' },
    { domain: 'rare.test' },
    { domain: 'lab.test' },
    { domain: 'gmail.test', method: 'pgp' },
    { category: 'ssn' },
    { category: 'DEA' },
    { category: 'MRN', since: '10d' },
    { method: 'quarantine' },
    { state: 'deleted' },
    { state: 'bounced', method: 'portal' },
    { subject: 'lab' },
    { subject: 'Lab Results' },
    { subject: 'urgent scan', domain: 'partner.test' },
    { since: '2026-11-20', until: '2026-11-25' },
    { since: '5d', category: 'SSN', state: 'held' },
    { queueId: idOf(1_000_000 + 17) },
    { queueId: idOf(1_000_000 + 17), category: 'DEA' },
    { to: 'nobody@nowhere.test' },
    { domain: 'gmail.test', state: 'bounced', category: 'SSN', subject: 'invoice' },
  ];

  it.each(queries)('every plan returns the same entries, newest first: %j', async (raw) => {
    const want = expected(all, raw);
    const q = parseSearch(raw, NOW, termsOf);
    const { afterId: _a, ...query } = q;
    for (const driver of [...candidateDrivers(query), { kind: 'newest' } as Driver]) {
      const s = buildSearchSql({ ...query, limit: 1000 }, driver);
      const rows = await db.all<{ id: string }>(s.sql, s.params);
      expect(rows.map((r) => r.id), driver.kind).toEqual(want);
    }
    // the runner, with the limit for driving both tiny and huge (so both plans and the window run)
    for (const limit of [1, 1_000_000]) {
      const r = await searchArchive(db, { ...q, limit: 1000 }, limit);
      expect(r.entries.map((e) => e.id)).toEqual(want);
    }
  });

  it.each(queries.slice(0, 12))('pages with --after end where the whole list ends: %j', async (raw) => {
    const want = expected(all, raw);
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await searchArchive(db, parseSearch({ ...raw, limit: '7', ...(after ? { after } : {}) }, NOW, termsOf));
      seen.push(...r.entries.map((e) => e.id));
      expect(r.entries.length).toBeLessThanOrEqual(7);
      if (!r.next) break;
      expect(r.next).toBe(r.entries.at(-1)?.id);
      after = r.next;
    }
    expect(seen).toEqual(want);
  });

  it('offset pages too', async () => {
    const want = expected(all, { domain: 'partner.test' });
    const r = await searchArchive(db, parseSearch({ domain: 'partner.test', limit: '10', offset: '20' }, NOW, termsOf));
    expect(r.entries.map((e) => e.id)).toEqual(want.slice(20, 30));
  });

  it('gives each entry its recipients, verdict facts and times', async () => {
    const f = all[10] as Fixture;
    const r = await searchArchive(db, parseSearch({ queueId: f.id }, NOW, termsOf));
    expect(r.plan).toBe('queue-id');
    expect(r.entries).toEqual([
      {
        id: f.id, origin: 'smtp', messageId: `${f.id.toLowerCase()}@example.test`, receivedAt: new Date(f.receivedAt).toISOString(), archivedAt: new Date(f.receivedAt + 5).toISOString(),
        sender: f.sender, connector: 'loopback', size: 100, phi: f.categories.length > 0, categories: f.categories, hold: false, purged: false,
        recipientCount: f.recipients.length, recipients: f.recipients,
      },
    ]);
    expect(r.next).toBeNull();
  });

  it('lists at most 100 recipients of an entry and counts them all (runs last: it adds an entry)', async () => {
    const id = idOf(5_000_000);
    await db.transaction(async (tx) => {
      const entry: ArchiveMessageColumns = {
        id, origin: 'smtp', message_id: null, received_at: NOW, archived_at: NOW, sender: 'list@clinic.test', sender_domain: 'clinic.test', connector: 'loopback', client_ip: '127.0.0.1',
        tls_version: null, auth_user: null, size: 1, content_sha256: '0'.repeat(64), object_key: `archive/2026/12/${id}`, object_offset: 0, object_length: 1, wrapped_key: null, key_id: null, subject_sealed: null,
        verdict: '{"inspected":false}', retain_until: NOW + 1, hold: 0, purged_at: NOW,
      };
      const recipients: ArchiveRecipientColumns[] = Array.from({ length: 150 }, (_, k) => ({
        archive_id: id, seq: k + 1, address: `m${k}@list.test`, domain: 'list.test', bcc: 0, method: 'tls-verified', requirement: 'verify', decision: null,
        key_fingerprint: null, key_source: null, state: 'queued', attempts: 0, last_attempt_at: null, finished_at: null, evidence: null,
      }));
      await insertArchiveEntry(tx, entry, recipients, [], NOW);
    });
    const r = await searchArchive(db, parseSearch({ to: 'm149@list.test' }, NOW, termsOf));
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]).toMatchObject({ id, recipientCount: 150, purged: true, phi: false, categories: [] });
    expect(r.entries[0]?.recipients.map((x) => x.address)).toEqual(Array.from({ length: 100 }, (_, k) => `m${k}@list.test`));
  });

  it('finds an address whatever its case, and through the lower() indexes (migration 21)', async () => {
    const stored = all.find((f) => f.recipients.some((r) => /[A-Z]/.test(r.address)) && /[A-Z]/.test(f.sender));
    const rcpt = stored?.recipients.find((r) => /[A-Z]/.test(r.address))?.address ?? '';
    expect(rcpt).toMatch(/^P/);
    for (const to of [rcpt, rcpt.toLowerCase(), rcpt.toUpperCase()]) {
      const r = await searchArchive(db, parseSearch({ to, limit: 1000 }, NOW, termsOf));
      expect(r.entries.map((e) => e.id)).toContain(stored?.id);
    }
    for (const from of [stored?.sender ?? '', (stored?.sender ?? '').toLowerCase(), (stored?.sender ?? '').toUpperCase()]) {
      const r = await searchArchive(db, parseSearch({ from, limit: 1000 }, NOW, termsOf));
      expect(r.entries.map((e) => e.id)).toContain(stored?.id);
    }
    const q = parseSearch({ to: rcpt, from: stored?.sender ?? '' }, NOW, termsOf);
    const { afterId: _a, ...query } = q;
    const plan = async (d: Driver): Promise<string> => {
      const s = buildSearchSql(query, d);
      const rows = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${s.sql}`, s.params);
      return rows.map((r) => r.detail).join('\n');
    };
    expect(await plan({ kind: 'recipient' })).toContain('archive_recipients_address_lower');
    expect(await plan({ kind: 'sender' })).toContain('archive_messages_sender_lower');
  });

  it('refuses a cursor that names no entry', async () => {
    await expect(searchArchive(db, parseSearch({ after: idOf(5) }, NOW, termsOf))).rejects.toThrow(/^--after names no archive entry/);
  });
});

describe('addresses whatever their case (the CLI and the console page both run parseSearch + searchArchive)', () => {
  it('a message to Alice@Example.COM from Bob@Example.ORG is found by any spelling of either', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-archive-case-'));
    const cdb = await Database.open(join(dir, 'sealgate.db'));
    try {
      await migrate(cdb);
      const id = idOf(7_777_777);
      await cdb.transaction((tx) =>
        insertArchiveEntry(
          tx,
          {
            id, origin: 'smtp', message_id: 'case@example.org', received_at: NOW - 1000, archived_at: NOW, sender: 'Bob@Example.ORG', sender_domain: 'example.org', connector: 'loopback',
            client_ip: '127.0.0.1', tls_version: null, auth_user: null, size: 1, content_sha256: '0'.repeat(64), object_key: `archive/2026/12/${id}`, object_offset: 0, object_length: 1,
            wrapped_key: Buffer.alloc(8), key_id: 'k', subject_sealed: null, verdict: '{}', retain_until: NOW + 1e12, hold: 0, purged_at: null,
          },
          [{ archive_id: id, seq: 1, address: 'Alice@Example.COM', domain: 'example.com', bcc: 0, method: 'tls-verified', requirement: 'verify', decision: '[]', key_fingerprint: null, key_source: null, state: 'delivered', attempts: 1, last_attempt_at: null, finished_at: null, evidence: null }],
          [],
          NOW,
        ),
      );
      const found = async (raw: RawSearch): Promise<string[]> => (await searchArchive(cdb, parseSearch(raw, NOW, termsOf))).entries.map((e) => e.id);
      for (const to of ['alice@example.com', 'ALICE@EXAMPLE.COM', 'Alice@Example.COM', '<alice@Example.com>']) expect(await found({ to }), to).toEqual([id]);
      for (const from of ['bob@example.org', 'BOB@EXAMPLE.ORG', 'Bob@Example.ORG']) expect(await found({ from }), from).toEqual([id]);
      expect(await found({ to: 'alice@example.com', from: 'BOB@example.org', state: 'delivered' })).toEqual([id]);
      expect(await found({ to: 'alicia@example.com' })).toEqual([]);
    } finally {
      await cdb.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
