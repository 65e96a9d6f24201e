/**
 * `sealgate policy replay` has two configs: the gateway's own (`-c` before
 * the command, or after `replay`) and the proposed one (`--config` after
 * `replay`). Every placement through the real command line (dist), over
 * two real gateway setups made by `sealgate init`: which file was replayed
 * is in the JSON report, which gateway was read is where the run's
 * `policy:replayed` audit event landed. And the other commands' `-c`,
 * before and after the command's name.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/gateway.js';

let dir: string;
let gw: string;
let other: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-replay-config-'));
  for (const [name, host] of [
    ['gw', 'gw.example.org'],
    ['other', 'other.example.org'],
  ] as const) {
    const r = await runCli(['init', join(dir, name), '--hostname', host]);
    expect(r.code, r.stderr).toBe(0);
  }
  gw = join(dir, 'gw', 'sealgate.yaml');
  other = join(dir, 'other', 'sealgate.yaml');
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** How many replays each gateway's audit log records. */
async function replays(config: string): Promise<number> {
  const r = await runCli(['-c', config, 'audit', 'tail', '--json', '-n', '1000'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .filter((l) => (JSON.parse(l) as { type: string }).type === 'policy:replayed').length;
}

describe('policy replay: which config is which', () => {
  it.each<[string, string[], 'file' | 'current']>([
    ['-c before the command, --config after replay', ['-c', '{gw}', 'policy', 'replay', '--config', '{other}'], 'file'],
    ['--config after replay, -c after it too', ['policy', 'replay', '--config', '{other}', '-c', '{gw}'], 'file'],
    ['the = and joined forms', ['policy', 'replay', '--config={other}', '-c{gw}'], 'file'],
    ['--config before the command is the gateway config', ['--config', '{gw}', 'policy', 'replay'], 'current'],
    ['-c between policy and replay', ['policy', '-c', '{gw}', 'replay'], 'current'],
    ['the same gateway config before and after', ['-c', '{gw}', 'policy', 'replay', '-c', '{gw}', '--config', '{other}'], 'file'],
  ])('%s', async (_name, args, source) => {
    const before = await replays(gw);
    const r = await runCli([...args.map((a) => a.replace('{gw}', gw).replace('{other}', other)), '--since', '1d', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { policy: { source: string; file?: string } };
    expect(report.policy.source).toBe(source);
    if (source === 'file') expect(report.policy.file).toBe(other);
    // the gateway read (and audited) is gw
    expect(await replays(gw)).toBe(before + 1);
  }, 30_000);

  it('never read the proposed config as the gateway (its audit log has no replay)', async () => {
    expect(await replays(other)).toBe(0);
  });

  it('refuses two different gateway configs with one line, exit 2', async () => {
    const r = await runCli(['-c', gw, 'policy', 'replay', '-c', other, '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^sealgate: the gateway's config is given twice .*--config after "replay" is the proposed config$/);
    expect(r.stdout).toBe('');
  });

  it('its help names both', async () => {
    const r = await runCli(['policy', 'replay', '--help'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--config <file>');
    expect(r.stdout).toContain('-c <file>');
    expect(r.stdout).toContain('the PROPOSED config');
    expect(r.stdout).toContain('sealgate -c /etc/sealgate/sealgate.yaml policy replay --since 7d --config proposed.yaml');
  });
});

describe("other commands' -c", () => {
  it.each<[string, string[]]>([
    ['before the command', ['-c', '{gw}', 'config', 'check']],
    ['after the command', ['config', 'check', '-c', '{gw}']],
    ['--config after the command', ['config', 'check', '--config', '{gw}']],
    ['between a command and its subcommand', ['config', '-c', '{gw}', 'check']],
  ])('%s', async (_name, args) => {
    const r = await runCli(
      args.map((a) => a.replace('{gw}', gw)),
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('gw.example.org');
  });

  it('a command with options and arguments takes -c among them', async () => {
    const r = await runCli(['audit', 'tail', '-n', '5', '-c', gw, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(0);
  });
});
