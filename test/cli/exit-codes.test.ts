/**
 * One exit-code table for every command (docs/errors.md, "Exit codes"):
 * each command's not-found case exits 1 and its bad-usage case exits 2, with
 * one line on stderr.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealgateError } from '../../src/errors.js';
import { CliExit, EXIT_CODES, exitCodeFor, exitKindOf, type ExitKind } from '../../src/cli/exit-codes.js';
import { runCli } from '../helpers/gateway.js';

const ID = '01KAZ3M9QX7F2C8V4N6P';
const FINGERPRINT = 'ab'.repeat(20);

describe('exit-code table', () => {
  it.each<[string, unknown, ExitKind, number]>([
    ['an invalid config', new SealgateError('SG_CONFIG_INVALID', { message: 'x' }), 'config', 2],
    ['a missing config', new SealgateError('SG_CONFIG_NOT_FOUND', { message: 'x' }), 'config', 2],
    ['bad usage', new SealgateError('SG_USAGE', { message: 'x' }), 'usage', 2],
    ['an unknown queue id', new SealgateError('SG_QUEUE_NOT_FOUND', { message: 'x' }), 'not-found', 1],
    ['an unknown user', new SealgateError('SG_USER_NOT_FOUND', { message: 'x' }), 'not-found', 1],
    ['an unknown key', new SealgateError('SG_RECIPIENT_KEY_NOT_FOUND', { message: 'x' }), 'not-found', 1],
    ['a storage failure', new SealgateError('SG_STORAGE_FAILED', { message: 'x' }), 'failure', 1],
    ['any other error', new Error('boom'), 'failure', 1],
  ])('%s', (_name, err, kind, code) => {
    expect(exitKindOf(err)).toBe(kind);
    expect(exitCodeFor(err)).toBe(code);
    expect(EXIT_CODES[kind]).toBe(code);
  });

  it('docs/errors.md lists exactly the codes the table uses', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Exit codes'), doc.indexOf('## Error codes'));
    const documented = [...section.matchAll(/^\| `(\d+)` \|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual([...new Set(Object.values(EXIT_CODES))].sort());
  });

  it('a command-specific exit keeps its code', () => {
    expect(exitCodeFor(new CliExit(EXIT_CODES['check-failed'], 'audit chain BROKEN'))).toBe(1);
  });
});

describe('every command: not found exits 1, bad usage exits 2', () => {
  let dir: string;
  let cfg: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-exit-'));
    // a real installation (config, master key, data dir) with nothing in it
    const init = await runCli(['init', join(dir, 'gw')]);
    expect(init.code).toBe(0);
    cfg = ['-c', join(dir, 'gw', 'sealgate.yaml')];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each<[string[], number, string?]>([
    // not found: 1
    [['queue', 'show', ID], 1],
    [['queue', 'hold', ID], 1],
    [['queue', 'release', ID], 1],
    [['queue', 'retry', ID], 1],
    [['queue', 'bounce', ID], 1],
    [['queue', 'delete', ID], 1],
    [['quarantine', 'show', ID], 1],
    [['quarantine', 'release', ID], 1],
    [['quarantine', 'bounce', ID], 1],
    [['quarantine', 'delete', ID], 1],
    [['portal', 'status', ID], 1],
    [['portal', 'revoke', ID], 1],
    [['keys', 'show', FINGERPRINT], 1],
    [['keys', 'remove', FINGERPRINT], 1],
    [['users', 'remove', 'nobody'], 1],
    [['users', 'passwd', 'nobody', '--password-stdin'], 1, 'a-long-enough-password\n'],
    [['console-users', 'disable', 'nobody'], 1],
    [['console-users', 'reset-mfa', 'nobody'], 1],
    [['archive', 'show', ID], 1],
    [['archive', 'hold', ID, '--reason', 'test'], 1],
    [['archive', 'release', ID, '--reason', 'test'], 1],
    // bad usage: 2
    [['queue', 'show', 'not-an-id'], 2],
    [['quarantine', 'show', 'not-an-id'], 2],
    [['quarantine', 'release', 'not-an-id'], 2],
    [['portal', 'status', 'not-an-id'], 2],
    [['archive', 'show', 'not-an-id'], 2],
    [['keys', 'show', 'abc'], 2],
    [['keys', 'import', '/nonexistent/keys.asc'], 2],
    [['queue', 'list', '--state', 'bogus'], 2],
    [['queue', 'list', '--bogus'], 2],
    [['queue', 'show'], 2],
    [['queue', 'frobnicate'], 2],
    [['audit', 'tail', '-n', '0'], 2],
    [['policy', 'test', '/nonexistent/m.eml', '--from', 'a@example.com', '--to', 'b@example.org'], 2],
    [['probe', 'bad domain!'], 2],
    [['users', 'add', 'someone', '--password-stdin'], 2, 'short\n'],
    [['console-users', 'add', 'someone', '--role', 'emperor'], 2],
  ])('sealgate %j exits %i', async (args, code, input) => {
    const r = await runCli([...cfg, ...args], input === undefined ? {} : { input });
    expect(r.code).toBe(code);
    // one line (commander adds its "(run with --help for usage)" hint to its own usage errors)
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with --help')).length).toBe(1);
  });

  it('a missing -c config file exits 2', async () => {
    const r = await runCli(['-c', join(dir, 'missing.yaml'), 'queue', 'list']);
    expect(r.code).toBe(2);
  });
});
