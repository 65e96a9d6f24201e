/**
 * `npm start` runs the daemon so that a SIGTERM (or SIGINT) to the process
 * the user started (npm's) stops the daemon: npm forwards the signal to its child,
 * and the start script execs node, so that child is the daemon itself.
 * (`prestart` builds; it is skipped here with --ignore-scripts so this test
 * does not rewrite dist/ under tests running beside it.)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupGateway, type TestSetup } from '../helpers/gateway.js';
import { until } from '../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let setup: TestSetup;

beforeAll(async () => {
  setup = await setupGateway();
});

afterAll(async () => {
  await setup?.cleanup();
});

/** Processes whose command line has this argument (the test's unique config path): the daemon, however it was started. */
function pidsWithArg(arg: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(arg)) out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it.each<NodeJS.Signals>(['SIGTERM', 'SIGINT'])('%s to npm stops the daemon and frees its port', async (signal) => {
    // the user's shell: no npm_* variables inherited from an npm that started the tests
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const npm = spawn('npm', ['start', '--ignore-scripts', '--', '-c', setup.configPath], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const npmExited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    const daemons = (): number[] => pidsWithArg(setup.configPath).filter((pid) => pid !== npm.pid);
    try {
      const ready = await until('DAEMON_READY from npm start', () => out.split('\n').find((l) => l.includes('"DAEMON_READY"')), { timeoutMs: 60_000, context: () => out.slice(-2000) });
      const port = (JSON.parse(ready) as { listeners: { port: number }[] }).listeners[0]?.port ?? 0;
      const running = daemons();
      expect(running.length).toBeGreaterThan(0);
      expect(await accepts(port)).toBe(true);

      npm.kill(signal);
      await npmExited;
      await until('the daemon gone', () => running.every((pid) => !alive(pid)), { context: () => `still running: ${running.filter(alive).join(', ')}; ${out.slice(-2000)}` });
      await until('the port free', async () => !(await accepts(port)));
      expect(out).toContain('"DAEMON_STOPPED"');
    } finally {
      npm.kill('SIGKILL');
      for (const pid of daemons()) process.kill(pid, 'SIGKILL');
    }
  });
});
