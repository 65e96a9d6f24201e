/**
 * The CLI contract: help and version, config check output and exit codes,
 * init, users, and the one-line error format.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/gateway.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sealgate CLI', () => {
  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['start', 'config', 'init', 'users', 'audit']) expect(help.stdout).toContain(cmd);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('config check prints the embedded default when no config file exists', async () => {
    const r = await runCli(['config', 'check'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# config OK: embedded default');
    expect(r.stdout).toContain('port: 2525');
    expect(r.stdout).toContain('127.0.0.0/8');
  });

  it.each([
    ['a bad value', 'smtp:\n  listeners:\n    - { name: relay, tls: none, port: "abc" }\nconnectors:\n  - { name: c, allowIps: ["127.0.0.1"], senderDomains: [example.com] }\n', /^sealgate: .*smtp\.listeners\[0\]\.port: got "abc": expected number$/],
    ['an unknown key', 'smtp:\n  listeners:\n    - { name: relay, tls: none }\nconnectors:\n  - { name: c, allowIps: ["127.0.0.1"], senderDomains: [example.com] }\ndelivery:\n  prot: 25\n', /^sealgate: .*delivery: unknown key "prot"/],
    ['broken YAML', 'smtp: [\n', /^sealgate: .*YAML syntax error/],
  ])('config check exits 2 with one line for %s', async (_name, text, pattern) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, text);
    const r = await runCli(['-c', file, 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(pattern);
  });

  it('a missing -c file exits 2 and says how to fix it', async () => {
    const r = await runCli(['-c', join(dir, 'nope.yaml'), 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^sealgate: config file .*nope\.yaml not found: check the -c path, or run "sealgate init DIR"/);
  });

  it('an unknown command exits 2', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
  });

  it('init creates a valid config, dev certificates and a 0600 master key, and refuses to overwrite', async () => {
    const target = join(dir, 'etc');
    const r = await runCli(['init', target, '--hostname', 'gw.example.org']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('created');
    for (const f of ['sealgate.yaml', 'keys/master.key', 'certs/server.crt', 'certs/server.key']) {
      const s = await stat(join(target, f));
      expect(s.mode & 0o777, f).toBe(0o600);
    }
    const check = await runCli(['-c', join(target, 'sealgate.yaml'), 'config', 'check']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('gw.example.org');
    const again = await runCli(['init', target]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('users add / list / passwd / remove, with clear errors', async () => {
    const target = join(dir, 'users');
    expect((await runCli(['init', target])).code).toBe(0);
    const cfg = ['-c', join(target, 'sealgate.yaml')];
    expect((await runCli([...cfg, 'users', 'add', 'alice', '--password-stdin'], { input: 'a-long-enough-password\n' })).code).toBe(0);
    const dup = await runCli([...cfg, 'users', 'add', 'alice', '--password-stdin'], { input: 'a-long-enough-password\n' });
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim()).toBe('sealgate: user alice already exists; use "sealgate users passwd alice" to change the password');
    const short = await runCli([...cfg, 'users', 'add', 'bob', '--password-stdin'], { input: 'short\n' });
    expect(short.code).toBe(2);
    expect(short.stderr.trim()).toBe('sealgate: password must be 12 to 1024 characters long');
    const list = await runCli([...cfg, 'users', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'alice', disabled: false }]);
    expect((await runCli([...cfg, 'users', 'passwd', 'alice', '--password-stdin'], { input: 'another-long-password\n' })).code).toBe(0);
    expect((await runCli([...cfg, 'users', 'remove', 'alice'])).code).toBe(0);
    const gone = await runCli([...cfg, 'users', 'remove', 'alice']);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe('sealgate: user alice not found');
  });
});
