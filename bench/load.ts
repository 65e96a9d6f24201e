/**
 * Load and sink tools shared by the parts of `npm run bench` that compare
 * with Postfix: its smtp-source as the load, its smtp-sink as the next hop,
 * and the loopback addresses they use.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Size {
  readonly label: string;
  readonly bytes: number;
  readonly count: number;
}

export const SIZES: readonly Size[] = [
  { label: '2 KB', bytes: 2 * 1024, count: Number(process.env.BENCH_2K ?? 2000) },
  { label: '100 KB', bytes: 100 * 1024, count: Number(process.env.BENCH_100K ?? 500) },
];
export const SESSIONS = 10;
export const FROM = 'alice@example.com';
export const POSTFIX_IP = '127.0.0.30';
export const SINK_IP = '127.0.0.100';

export const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** smtp-source -d -s 10 -m N -l SIZE; returns seconds from start until it exited (every 250 received). */
export async function smtpSource(host: string, port: number, size: Size, to: string): Promise<number> {
  const start = process.hrtime.bigint();
  await run('smtp-source', ['-d', '-s', String(SESSIONS), '-m', String(size.count), '-l', String(size.bytes), '-f', FROM, '-t', to, `${host}:${port}`], { maxBuffer: 1 << 24 });
  return seconds(start);
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** smtp-sink on the sink address, with its running counter parsed from stdout. */
export async function startSink(port: number): Promise<{ readonly count: number; stop(): void }> {
  const proc = spawn('smtp-sink', ['-u', 'nobody', '-c', `${SINK_IP}:${port}`, '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let count = 0;
  proc.stdout.on('data', (d: Buffer) => {
    const m = /(\d+)\s*$/.exec(d.toString('latin1'));
    if (m) count = Number(m[1]);
  });
  await new Promise((r) => setTimeout(r, 300));
  return {
    get count() {
      return count;
    },
    stop: () => proc.kill('SIGTERM'),
  };
}

/**
 * Peak resident set (VmHWM) of a process and its descendants, in bytes: the
 * daemon's worker threads are in its own figure; a child process, should the
 * daemon ever start one, adds its own peak (a sum of peaks: an upper bound).
 */
export async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  if (!Number.isFinite(kb)) throw new Error(`no VmHWM in /proc/${pid}/status`);
  let total = kb * 1024;
  for (const child of await childPids(pid)) total += await peakRss(child).catch(() => 0);
  return total;
}

async function childPids(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const out: number[] = [];
  for (const t of tasks) {
    const list = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '');
    for (const c of list.split(/\s+/).filter(Boolean)) out.push(Number(c));
  }
  return out;
}
