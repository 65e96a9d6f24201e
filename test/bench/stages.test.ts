/**
 * The pure parts of `npm run bench:stages`: which thread group a thread
 * counts in, and how a CPU profile's samples are attributed to the project
 * module (stage) innermost on their stack — a library's frames count for the
 * project module that called them. Speed itself is never asserted.
 */
import { describe, expect, it } from 'vitest';
import { stageCosts, threadGroup } from '../../bench/stages.js';

describe('bench:stages', () => {
  it.each([
    { name: 'node', main: true, group: /^main thread/ },
    { name: 'node', main: false, group: /^other threads/ },
    { name: 'libuv-worker', main: false, group: /^other threads/ },
    { name: 'v8:ProfEvntProc', main: false, group: undefined },
  ])('thread $name (main: $main)', ({ name, main, group }) => {
    const g = threadGroup(name, main);
    if (group === undefined) expect(g).toBeUndefined();
    else expect(g).toMatch(group);
  });

  it('attributes each sample to the innermost project module, through library frames; idle, program and GC stay apart', () => {
    const frame = (id: number, url: string, functionName = 'f', children: number[] = []) => ({ id, callFrame: { functionName, url }, children });
    const profile = {
      nodes: [
        frame(1, '', '(root)', [2, 6, 7]),
        frame(2, 'file:///app/dist/smtp/ingress.js', 'onData', [3]),
        frame(3, 'file:///app/node_modules/smtp-server/lib/x.js', 'parse', [4]),
        frame(4, 'file:///app/dist/db/database.js', 'run', [5]),
        frame(5, 'node:internal/x', 'native'),
        frame(6, '', '(idle)'),
        frame(7, 'file:///app/node_modules/nodemailer/dist/esm/y.js', 'send'),
      ],
      // 10 µs a sample over 8 samples
      samples: [5, 5, 4, 3, 3, 6, 7, 2],
      startTime: 0,
      endTime: 80,
    };
    expect(Object.fromEntries(stageCosts(profile, 2))).toEqual({ db: 15, smtp: 15, '(idle)': 5, '(node internals and libraries, called from no project frame)': 5 });
  });
});
