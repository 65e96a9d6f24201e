/**
 * npm run bench:stages — where one message's CPU goes in the daemon (issue 16,
 * "profile first"). Not a test: it prints figures.
 *
 * A real daemon (test/helpers/gateway.ts) takes Postfix's smtp-source load
 * (10 sessions, connection reuse) after a warm-up; in the relay mode it
 * inspects, archives and delivers to smtp-sink, in the ingress mode it only
 * accepts (inspection, delivery and the archive stage off). Per message it reports:
 *   - CPU by thread, from /proc/<pid>/task/<tid>/stat before and after the
 *     load: the main thread, libuv's pool (SQLite statements, file system),
 *     V8's own threads (garbage collection, compilers) and the inspection
 *     threads. CPU time, not wall time, so the figures hold on a loaded
 *     machine better than a rate does.
 *   - with --profile: the main thread's samples (--cpu-prof) attributed to
 *     the innermost project module on each stack (src/<stage>/…), µs per
 *     message, whole run (start-up and warm-up included).
 *
 *   npm run bench:stages                       # relay, 2000 × 2 KB
 *   npm run bench:stages -- ingress 3000 2048
 *   npm run bench:stages -- relay 400 102400 --profile
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startDnsZone } from '../test/helpers/dns-zone.js';
import { startGateway } from '../test/helpers/gateway.js';
import { peakRss } from './load.js';
import { relayGatewaySetup } from './relay-setup.js';
import { freePort } from '../test/helpers/postfix.js';

const run = promisify(execFile);
const SINK_IP = '127.0.0.100';
const WARM_UP = 200;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** CPU ms of each thread of `pid`, by thread id. */
async function threadCpu(pid: number): Promise<Map<string, { name: string; ms: number }>> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const fields = stat.slice(close + 2).split(' ');
    // utime and stime, in clock ticks (100 a second on Linux)
    out.set(tid, { name: stat.slice(stat.indexOf('(') + 1, close), ms: (Number(fields[11]) + Number(fields[12])) * 10 });
  }
  return out;
}

/**
 * Pure: a thread's group. Node names its other threads alike ("node"), so beside the main thread they are one
 * group: libuv's pool (SQLite statements, file system), V8's platform threads (GC, compilers) and the
 * inspection threads (MIME parse, DLP); the profiler's own thread is left out.
 */
export function threadGroup(name: string, isMain: boolean): string | undefined {
  if (isMain) return 'main thread (SMTP, spool, SQLite calls, inspection hand-over, archive, delivery)';
  if (name.startsWith('v8:') || name.startsWith('V8')) return undefined;
  return 'other threads (libuv pool: SQLite and fs; V8: GC and compilers; inspection threads)';
}

/** Pure: samples attributed to the innermost src/<stage> module on their stack, µs per message. */
export function stageCosts(profile: CpuProfile, messages: number): [string, number][] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const perSample = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const stageOf = new Map<number, string>();
  const totals = new Map<string, number>();
  for (const sample of profile.samples) {
    let stage = stageOf.get(sample);
    if (stage === undefined) {
      const own = nodes.get(sample)?.callFrame.functionName ?? '';
      if (own === '(idle)' || own === '(program)' || own === '(garbage collector)') stage = own;
      for (let cur: number | undefined = sample; stage === undefined && cur !== undefined; cur = parent.get(cur)) {
        // a library's frames count for the project module that called them
        const url = nodes.get(cur)?.callFrame.url ?? '';
        const m = url.includes('/node_modules/') ? null : /\/dist\/([^/]+)\/[^/]+\.js$/.exec(url);
        if (m?.[1]) stage = m[1];
      }
      stage ??= '(node internals and libraries, called from no project frame)';
      stageOf.set(sample, stage);
    }
    totals.set(stage, (totals.get(stage) ?? 0) + perSample);
  }
  return [...totals].map(([k, us]): [string, number] => [k, us / messages]).sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--profile');
  const profile = process.argv.includes('--profile');
  const mode = args[0] ?? 'relay';
  if (mode !== 'relay' && mode !== 'ingress') throw new Error(`unknown mode "${mode}" (relay, ingress)`);
  const count = Number(args[1] ?? 2000);
  const size = Number(args[2] ?? 2048);
  const profDir = profile ? await mkdtemp(join(tmpdir(), 'sealgate-stages-')) : undefined;
  if (profDir) process.env.GATEWAY_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profDir}`;

  const zone = await startDnsZone([
    { name: 'bench.test', type: 'MX', exchange: 'sink.bench.test', priority: 10 },
    { name: 'sink.bench.test', type: 'A', address: SINK_IP },
  ]);
  const sinkPort = await freePort(SINK_IP);
  const sink = spawn('smtp-sink', ['-u', 'nobody', '-c', `${SINK_IP}:${sinkPort}`, '1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let delivered = 0;
  sink.stdout.on('data', (d: Buffer) => {
    const m = /(\d+)\s*$/.exec(d.toString('latin1'));
    if (m) delivered = Number(m[1]);
  });
  const setup = await relayGatewaySetup(
    zone.server,
    sinkPort,
    { enabled: mode === 'relay' },
    // accepting only, as the bench's ingress part: no inspection, no delivery, no archive stage beside it
    mode === 'relay' ? { inspection: { enabled: true } } : { inspection: { enabled: false }, archive: { enabled: false } },
  );
  const gw = await startGateway(setup.configPath);
  const pid = gw.proc.pid ?? 0;
  const source = (n: number): Promise<unknown> =>
    run('smtp-source', ['-d', '-s', '10', '-m', String(n), '-l', String(size), '-f', 'alice@example.com', '-t', 'bob@bench.test', `127.0.0.1:${gw.port}`], { maxBuffer: 1 << 24 });
  const until = async (check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 600_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the sink');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await source(WARM_UP);
    if (mode === 'relay') await until(() => delivered >= WARM_UP);
    const before = await threadCpu(pid);
    const started = performance.now();
    const base = delivered;
    await source(count);
    if (mode === 'relay') await until(() => delivered - base >= count);
    const wall = performance.now() - started;
    const after = await threadCpu(pid);
    const rssMb = (await peakRss(pid)) / 1024 / 1024;
    const groups = new Map<string, number>();
    for (const [tid, t] of after) {
      const group = threadGroup(t.name, tid === String(pid));
      if (group !== undefined) groups.set(group, (groups.get(group) ?? 0) + t.ms - (before.get(tid)?.ms ?? 0));
    }
    const total = [...groups.values()].reduce((a, b) => a + b, 0);
    const lines = [
      `${mode}: ${count} × ${size} bytes, ${(count / (wall / 1000)).toFixed(0)} msg/s wall, daemon CPU ${((total * 1000) / count).toFixed(0)} µs per message, peak RSS ${rssMb.toFixed(0)} MB`,
      '',
      '| threads | CPU µs per message |',
      '| --- | --- |',
      ...[...groups].sort((a, b) => b[1] - a[1]).map(([g, ms]) => `| ${g} | ${((ms * 1000) / count).toFixed(0)} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await gw.stop();
    sink.kill();
    await zone.close();
    await setup.cleanup();
  }
  if (profDir) {
    const main = (await readdir(profDir)).find((f) => /\.0\.001\.cpuprofile$/.test(f));
    if (main) {
      const costs = stageCosts(JSON.parse(await readFile(join(profDir, main), 'utf8')) as CpuProfile, count + WARM_UP);
      const lines = ['', '| main thread, by stage (whole run incl. start-up) | µs per message |', '| --- | --- |', ...costs.slice(0, 20).map(([s, us]) => `| ${s} | ${us.toFixed(0)} |`)];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    await rm(profDir, { recursive: true, force: true });
  }
}

// run as a script (not when a test imports the pure parts)
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
