/**
 * Store outages told once (src/health/outage.ts) and failure runs
 * (src/log/failure-run.ts): the pure decisions, table-driven, and the watch
 * over real checks whose results a test switches.
 */
import { describe, expect, it } from 'vitest';
import { noteProbe, StoreWatch, type OutageNews, type OutageState } from '../../src/health/outage.js';
import type { CheckResult } from '../../src/health/readiness.js';
import { FailureRun } from '../../src/log/failure-run.js';

const up: OutageState = { downSince: undefined };
const ok: CheckResult = { ok: true };
const bad: CheckResult = { ok: false, detail: 'ECONNREFUSED' };

describe('noteProbe', () => {
  it.each<[string, OutageState, CheckResult, number, OutageState, OutageNews | undefined]>([
    ['answering, still answering: nothing to tell', up, ok, 1000, up, undefined],
    ['answering, then not: down, with the reason', up, bad, 1000, { downSince: 1000 }, { kind: 'down', reason: 'ECONNREFUSED' }],
    ['down, still down: nothing more (the start of the outage kept)', { downSince: 1000 }, bad, 5000, { downSince: 1000 }, undefined],
    ['down, answering again: up, with how long it was down', { downSince: 1000 }, ok, 31_000, up, { kind: 'up', downForMs: 30_000 }],
    ['a failure without a detail is still named', up, { ok: false }, 7, { downSince: 7 }, { kind: 'down', reason: 'check failed' }],
    ['a clock that went back gives 0, never a negative time', { downSince: 5000 }, ok, 4000, up, { kind: 'up', downForMs: 0 }],
  ])('%s', (_name, state, result, now, wantState, wantNews) => {
    const next = noteProbe(state, result, now);
    expect(next.state).toEqual(wantState);
    expect(next.news).toEqual(wantNews);
  });
});

describe('FailureRun', () => {
  it.each<[string, readonly ('fail' | 'succeed')[], readonly (boolean | number)[]]>([
    ['only successes: nothing to tell', ['succeed', 'succeed'], [0, 0]],
    ['the first failure of a run is told, the rest counted', ['fail', 'fail', 'fail'], [true, false, false]],
    ['a success ends the run with its count; the next failure starts a new one', ['fail', 'fail', 'succeed', 'succeed', 'fail'], [true, false, 2, 0, true]],
  ])('%s', (_name, steps, want) => {
    const run = new FailureRun();
    expect(steps.map((s) => (s === 'fail' ? run.fail() : run.succeed()))).toEqual(want);
  });
});

describe('StoreWatch', () => {
  it('tells each store going away and coming back once, however many passes fail, and a store that throws counts as down', async () => {
    const results: Record<string, CheckResult | Error> = { database: ok, objects: ok };
    const told: string[] = [];
    let now = 0;
    const watch = new StoreWatch({
      intervalMs: () => 60_000,
      now: () => now,
      checks: ['database', 'objects'].map((name) => ({
        name,
        run: async () => {
          const r = results[name];
          if (r instanceof Error) throw r;
          return r ?? ok;
        },
        tell: (news: OutageNews) => told.push(`${name} ${news.kind === 'down' ? `down ${news.reason}` : `up ${news.downForMs}`}`),
      })),
    });
    expect(watch.up('database')).toBeUndefined();
    await watch.probeAll();
    expect([watch.up('database'), watch.up('objects')]).toEqual([true, true]);
    results.database = bad;
    for (let i = 0; i < 5; i++) {
      now += 1000;
      await watch.probeAll();
    }
    results.objects = new Error('boom');
    await watch.probeAll();
    expect([watch.up('database'), watch.up('objects')]).toEqual([false, false]);
    results.database = ok;
    now += 1000;
    await watch.probeAll();
    results.objects = ok;
    await watch.probeAll();
    await watch.stop();
    expect(told).toEqual(['database down ECONNREFUSED', 'objects down check failed', 'database up 5000', 'objects up 1000']);
  });
});
