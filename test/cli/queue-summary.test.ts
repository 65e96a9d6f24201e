/**
 * `sealgate queue summary` on a real data directory: a queue of a known
 * shape (test/helpers/queue-shape.ts: rows written by the queue store, then
 * deferred and held as the engine and `queue hold` write them); the CLI, as
 * a second process, prints the counts per state, age, domain and deferral
 * reply — domains only, never a local part, the sender or a subject.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import type { QueueSummary } from '../../src/queue/summary.js';
import { runCli, setupGateway, type TestSetup } from '../helpers/gateway.js';
import { PRIVATE_TEXTS, SHAPE_SUMMARY, writeQueueShape } from '../helpers/queue-shape.js';

let setup: TestSetup;

beforeAll(async () => {
  setup = await setupGateway();
  await mkdir(setup.dataDir, { recursive: true, mode: 0o700 });
  const db = await Database.open(join(setup.dataDir, 'sealgate.db'));
  try {
    await migrate(db);
    await writeQueueShape(db, Date.now());
  } finally {
    await db.close();
  }
});

afterAll(async () => {
  await setup?.cleanup();
});

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'queue', 'summary', ...args]);

describe('sealgate queue summary', () => {
  it('counts recipients per state, messages per age, waiting recipients per domain and deferrals per reply, as JSON', async () => {
    const r = await cli('--json');
    expect(r.code).toBe(0);
    const { at, oldestCreatedAt, ...rest } = JSON.parse(r.stdout) as QueueSummary;
    expect(rest).toEqual(SHAPE_SUMMARY);
    expect(at - (oldestCreatedAt ?? at)).toBeGreaterThanOrEqual(3 * 86_400_000);
    for (const text of PRIVATE_TEXTS) expect(r.stdout).not.toContain(text);
  });

  it('lists the --top busiest domains and reply groups and counts the rest', async () => {
    const s = JSON.parse((await cli('--top', '1', '--json')).stdout) as QueueSummary;
    expect(s.domains.lines.map((l) => l.domain)).toEqual(['big.test']);
    expect(s.domains).toMatchObject({ top: 1, total: 4, otherRecipients: 5 });
    expect(s.deferrals.reasons).toEqual([expect.objectContaining({ code: 452, recipients: 3 })]);
    expect(s.deferrals.otherRecipients).toBe(2);
  });

  it('prints the same figures as a table, local parts left out', async () => {
    const r = await cli('--top', '2');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('6 messages, 6000 bytes, oldest 3d00h');
    expect(lines[1]).toBe('recipients: queued 4, in-flight 0, deferred 5, delivered 0, bounced 0, held 1, expired 0');
    expect(lines).toContain('AGE       <5m  <1h  <4h  <1d  older');
    expect(lines).toContain('messages    2    1    1    1      1');
    expect(lines).toContain('waiting recipients by domain (2 of 4; --top for more):');
    expect(lines).toContain('DOMAIN             WAITING  QUEUED  IN-FLIGHT  DEFERRED  HELD');
    expect(lines).toContain('big.test                 5       1          0         4     0');
    expect(lines).toContain('(2 other domains)        2');
    expect(lines).toContain('deferred recipients by last reply (5; one example text each, addresses shown by domain only):');
    expect(lines).toContain('         3  452   4.2.2     Mailbox full: <…@big.test>');
    expect(lines).toContain('         1  -     -         connect ECONNREFUSED 127.0.0.9:25');
    expect(lines).toContain('         1                  (other replies)');
    for (const text of PRIVATE_TEXTS) expect(r.stdout).not.toContain(text);
  });

  it.each([['0'], ['1001'], ['2.5'], ['many']])('refuses --top %s with one line and exit 2', async (top) => {
    const r = await cli('--top', top);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining('--top must be a whole number from 1 to 1000')]);
  });
});
