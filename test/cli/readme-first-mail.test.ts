/**
 * The README's first swaks command, taken from README.md as written, is
 * accepted by a daemon started with the embedded default and by one started
 * with config/sealgate.example.yaml. Only the ports differ from what a user
 * runs (0: free ports, so tests can run side by side); delivery and key
 * discovery are off so nothing leaves loopback.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { embeddedDefaultConfig } from '../../src/config/load.js';
import { startGateway } from '../helpers/gateway.js';
import { requireTool } from '../helpers/peers.js';

const run = promisify(execFile);

/** The first `swaks …` line of a sh code block in README.md, as argv. */
function readmeSwaksLine(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('swaks '));
  if (!line) throw new Error('README.md has no line starting with "swaks "');
  return line.trim().split(/\s+/);
}

type Raw = Record<string, Record<string, unknown> & { listeners?: Record<string, unknown>[] }>;

/** The config as a user gets it, on free ports, with nothing reaching past loopback. */
function onFreePorts(raw: Raw): Raw {
  const out = structuredClone(raw);
  for (const l of out.smtp?.listeners ?? []) l.port = 0;
  out.portal = { ...out.portal, listen: { host: '127.0.0.1', port: 0 } };
  out.delivery = { ...out.delivery, enabled: false };
  out.keys = { ...out.keys, discovery: { wkd: false } };
  return out;
}

describe("the README's first test mail", () => {
  it('names the server, a sender and a recipient', () => {
    const argv = readmeSwaksLine();
    expect(argv).toEqual(expect.arrayContaining(['--server', '--from', '--to']));
    expect(argv[argv.indexOf('--server') + 1]).toBe('127.0.0.1:2525');
  });

  it.for<[string, () => Raw]>([
    ['the embedded default', () => embeddedDefaultConfig() as unknown as Raw],
    ['config/sealgate.example.yaml', () => parseYaml(readFileSync('config/sealgate.example.yaml', 'utf8')) as Raw],
  ])('is queued by a daemon started with %s', async ([, config], ctx) => {
    requireTool(ctx, 'swaks');
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-readme-'));
    try {
      const configPath = join(dir, 'sealgate.yaml');
      await writeFile(configPath, stringify(onFreePorts(config())));
      // cwd = dir: the relative ./data paths (spool, development certificates, master key) land there
      const gw = await startGateway(configPath, dir);
      try {
        const argv = readmeSwaksLine();
        argv[argv.indexOf('--server') + 1] = `127.0.0.1:${gw.ports.get('relay')}`;
        const { stdout } = await run(argv[0] ?? 'swaks', argv.slice(1), { timeout: 60_000 });
        expect(stdout).toMatch(/<~ {2}250 2\.0\.0 Ok: queued as [0-9A-Z]+/);
      } finally {
        await gw.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
