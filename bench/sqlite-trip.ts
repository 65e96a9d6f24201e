/**
 * npm run bench:sqlite-trip — what one statement's round trip through
 * node-sqlite3 costs the process (docs/performance.md, round twelve). Not a
 * test: it prints figures.
 *
 * Sequential calls on an in-memory database (no disk), CPU time of the whole
 * process (the main thread and libuv's pool) and wall time per call: the raw
 * sqlite3 statement, the same with the reset a read is followed by, and the
 * daemon's own connection wrapper (src/db/database.ts), in turn, three rounds.
 *
 *   npm run bench:sqlite-trip
 *   SQLITE_TRIP_CALLS=50000 npm run bench:sqlite-trip
 */
import sqlite3 from 'sqlite3';
import { Database } from '../src/db/database.js';

const CALLS = Number(process.env.SQLITE_TRIP_CALLS ?? 20_000);
const ROUNDS = 3;
const UPDATE = 'UPDATE t SET b = b + 1, a = ? WHERE id = ?';
const SELECT = 'SELECT a, b FROM t WHERE id = ?';
const SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER); INSERT INTO t (id, a, b) VALUES (1, 'x', 0)";

/** Process CPU and wall µs per call of `call`, run `CALLS` times one after another. */
async function perCall(call: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await call();
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (cpu.user + cpu.system) / CALLS, wall: Number(process.hrtime.bigint() - wall0) / 1000 / CALLS };
}

function settle<T>(register: (done: (err: Error | null, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => register((err, value) => (err ? reject(err) : resolve(value))));
}

async function main(): Promise<void> {
  const raw = new sqlite3.Database(':memory:');
  await settle<void>((done) => raw.exec(SCHEMA, done));
  const update = raw.prepare(UPDATE);
  const select = raw.prepare(SELECT);
  const ours = await Database.open(':memory:');
  await ours.exec(SCHEMA);

  const cases: [string, () => Promise<unknown>][] = [
    ['sqlite3 Statement#run (UPDATE)', () => settle((done) => update.run(['y', 1], done))],
    ['Database#run (the daemon\'s wrapper)', () => ours.run(UPDATE, ['y', 1])],
    ['sqlite3 Statement#get (SELECT)', () => settle((done) => select.get([1], done))],
    ['sqlite3 Statement#get, then #reset', () => settle((done) => select.get([1], (err) => (err ? done(err) : select.reset(() => done(null)))))],
    ['Database#get (the daemon\'s wrapper: get, reset after)', () => ours.get(SELECT, [1])],
  ];
  const rows = new Map<string, { cpu: number[]; wall: number[] }>(cases.map(([name]) => [name, { cpu: [], wall: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of cases) {
      const r = await perCall(call);
      const row = rows.get(name) as { cpu: number[]; wall: number[] };
      row.cpu.push(r.cpu);
      row.wall.push(r.wall);
    }
  }
  const range = (xs: number[]): string => `${Math.min(...xs).toFixed(1)} – ${Math.max(...xs).toFixed(1)}`;
  console.log(`## One statement's round trip (${CALLS} sequential calls, in-memory database, ${ROUNDS} rounds)\n`);
  console.log('| call | process CPU, µs a call | wall, µs a call |');
  console.log('| --- | --- | --- |');
  for (const [name, r] of rows) console.log(`| ${name} | ${range(r.cpu)} | ${range(r.wall)} |`);
  await ours.close();
  await settle<void>((done) => update.finalize(() => done(null)));
  await settle<void>((done) => select.finalize(() => done(null)));
  await settle<void>((done) => raw.close(done));
}

await main();
