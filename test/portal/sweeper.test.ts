/**
 * PortalSweeper over a real PortalLifecycle (real SQLite, object store and
 * keys), driven through an injected timer so that nothing waits on a clock:
 * a run at start (with the leftover cleanup), a run per tick, no overlapping
 * runs, errors reported and not thrown, an unref'd timer, stop.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { PortalLifecycle, type PurgeResult } from '../../src/portal/lifecycle.js';
import { PortalStore } from '../../src/portal/portal-store.js';
import { PortalSweeper, type SweeperTimers } from '../../src/portal/sweeper.js';

const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
const HOUR = 3600 * 1000;

let dir: string;
let db: Database;
let portal: PortalStore;
let life: PortalLifecycle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-sweep-'));
  db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  const objects = new LocalObjectStore(join(dir, 'store'));
  await objects.init();
  portal = new PortalStore({ db, objects, keyring: new Keyring(masterKeyFromBytes(randomBytes(32))) });
  life = new PortalLifecycle({ db, portal, objects });
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A timer the test fires by hand; records the interval and whether it was unref'd and cleared. */
function manualTimers(): SweeperTimers & { tick(): void; ms?: number; unrefd: boolean; cleared: boolean } {
  let fn: (() => void) | undefined;
  const t = {
    ms: undefined as number | undefined,
    unrefd: false,
    cleared: false,
    setInterval(f: () => void, ms: number) {
      fn = f;
      t.ms = ms;
      return { unref: () => (t.unrefd = true) };
    },
    clearInterval() {
      t.cleared = true;
      fn = undefined;
    },
    tick() {
      fn?.();
    },
  };
  return t;
}

describe('PortalSweeper', () => {
  it('purges at start and on every tick, with an unref’d timer, until stopped', async () => {
    const soon = await portal.deposit({ queueId: 'Q1', source: Readable.from([Buffer.from('x')]), recipients: [{ address: 'a@x.example', bcc: false }], expiresAt: NOW + HOUR, now: NOW });
    const later = await portal.deposit({ queueId: 'Q2', source: Readable.from([Buffer.from('y')]), recipients: [{ address: 'b@x.example', bcc: false }], expiresAt: NOW + 2 * HOUR, now: NOW });
    let clock = NOW + HOUR;
    const results: string[][] = [];
    const timers = manualTimers();
    const sweeper = new PortalSweeper({ lifecycle: life, now: () => clock, intervalMs: 60_000, timers, onResult: (r: PurgeResult) => results.push(r.shredded.map((s) => s.depositId)) });
    sweeper.start();
    sweeper.start(); // no second timer
    await sweeper.runOnce(); // joins the start run
    expect(timers.ms).toBe(60_000);
    expect(timers.unrefd).toBe(true);
    expect(results).toEqual([[soon.depositId]]);

    timers.tick();
    await sweeper.runOnce();
    expect(results).toHaveLength(1); // nothing due: no report

    clock = NOW + 2 * HOUR;
    timers.tick();
    await sweeper.runOnce();
    expect(results).toEqual([[soon.depositId], [later.depositId]]);

    await sweeper.stop();
    expect(timers.cleared).toBe(true);
  });

  it('reports a failing run through onError and keeps going', async () => {
    const errors: unknown[] = [];
    const timers = manualTimers();
    const sweeper = new PortalSweeper({ lifecycle: life, now: () => NOW, timers, onError: (e) => errors.push(e) });
    await db.exec('ALTER TABLE portal_messages RENAME TO portal_messages_away');
    sweeper.start();
    await sweeper.runOnce();
    expect(errors).toHaveLength(1);
    await db.exec('ALTER TABLE portal_messages_away RENAME TO portal_messages');
    timers.tick();
    await sweeper.runOnce();
    expect(errors).toHaveLength(1);
    await sweeper.stop();
  });

  it('refuses a nonsense interval', () => {
    expect(() => new PortalSweeper({ lifecycle: life, intervalMs: 0 })).toThrow(RangeError);
  });
});
