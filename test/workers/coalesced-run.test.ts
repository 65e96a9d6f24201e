/**
 * The stages' polling loop: one run at a time (or two, when asked); wakes
 * during a run make exactly one more; work that says "more" runs again; an error goes to
 * onError and the loop goes on; after stop() nothing runs.
 */
import { describe, expect, it } from 'vitest';
import { CoalescedRun } from '../../src/workers/coalesced-run.js';

/** A run that ends when the test says so. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CoalescedRun', () => {
  it('runs once at a time; any number of wakes during a run make exactly one more run', async () => {
    const gates = [gate(), gate(), gate()];
    let runs = 0;
    const loop = new CoalescedRun(async () => {
      await gates[runs++]?.wait;
    }, () => undefined);
    loop.wake();
    for (let i = 0; i < 5; i++) loop.wake();
    expect(runs).toBe(1);
    gates[0]?.open();
    await settle();
    expect(runs).toBe(2);
    gates[1]?.open();
    await settle();
    expect(runs).toBe(2);
    loop.stop();
  });

  it('runs again at once while the work says more is waiting; an error goes to onError and later wakes still run', async () => {
    const answers: (boolean | Error)[] = [true, true, false, new Error('db gone'), false];
    const errors: unknown[] = [];
    let runs = 0;
    const loop = new CoalescedRun(async () => {
      const a = answers[runs++];
      await Promise.resolve();
      if (a instanceof Error) throw a;
      return a;
    }, (err) => errors.push(err));
    loop.wake();
    await settle();
    expect(runs).toBe(3);
    loop.wake();
    await settle();
    expect(runs).toBe(4);
    expect(errors.map((e) => (e as Error).message)).toEqual(['db gone']);
    loop.wake();
    await settle();
    expect(runs).toBe(5);
    loop.stop();
  });

  it('with concurrency 2: a wake during a run starts a second at once; wakes beyond that make exactly one more run', async () => {
    const gates = [gate(), gate(), gate(), gate()];
    let started = 0;
    let atOnce = 0;
    let most = 0;
    const loop = new CoalescedRun(
      async () => {
        const g = gates[started++];
        atOnce++;
        most = Math.max(most, atOnce);
        await g?.wait;
        atOnce--;
      },
      () => undefined,
      2,
    );
    loop.wake();
    loop.wake();
    expect(started).toBe(2);
    for (let i = 0; i < 5; i++) loop.wake();
    expect(started).toBe(2);
    gates[0]?.open();
    await settle();
    expect(started).toBe(3);
    gates[1]?.open();
    gates[2]?.open();
    await settle();
    expect(started).toBe(3);
    expect(most).toBe(2);
    loop.stop();
  });

  it('after stop() no run starts, and a run in progress does not start another', async () => {
    const g = gate();
    let runs = 0;
    const loop = new CoalescedRun(async () => {
      runs++;
      await g.wait;
      return true;
    }, () => undefined);
    loop.wake();
    loop.wake();
    loop.stop();
    expect(loop.stopped).toBe(true);
    g.open();
    await settle();
    loop.wake();
    await settle();
    expect(runs).toBe(1);
  });
});
